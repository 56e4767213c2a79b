"""The signed-in viewer (the session's user with the header's wallet and their memberships)
from the read cache (accounts/cache.py): no query for who is asking once warm, and every
change to who they are or where they belong shows on their next request, whichever way it
was written (a model save, a service's queryset update, a cascade)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.cache import session_viewer
from accounts.models import Role, User
from accounts.services.organizations import (
    membership_remove,
    membership_role_change,
    organization_create,
    organization_delete,
    organization_exported,
)
from accounts.services.users import user_sign_out_everywhere
from accounts.tests.factories import MembershipFactory, WalletFactory
from fabrknt.readcache import ENTRY_PREFIX
from fabrknt.redis_backoff import redis_failed

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

WHO_IS_ASKING = ('"accounts_user"', '"accounts_membership"', '"django_session"')


@pytest.fixture
def team():
    owner = WalletFactory().user
    organization = organization_create(name="Acme Growth", owner=owner)
    member = WalletFactory().user
    membership = MembershipFactory(organization=organization, user=member, role=Role.ADMIN)
    return organization, owner, member, membership


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _who_is_asking(queries: CaptureQueriesContext) -> list[str]:
    """The queries for the session, its user and their memberships."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(('SELECT "django_session"', 'SELECT "accounts_user"'))
        or (q["sql"].startswith('SELECT "accounts_membership"') and '"user_id" =' in q["sql"])
    ]


def _organization_page(client: Client, organization) -> int:
    return client.get(f"/organizations/{organization.pk}/").status_code


def test_a_warm_page_asks_the_database_nothing_about_who_is_asking(team):
    organization, owner, _, _ = team
    client = _as(owner)
    assert _organization_page(client, organization) == 200  # warms the viewer

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/organizations/{organization.pk}/")

    assert response.status_code == 200
    assert "Acme Growth" in response.text  # the header's selector, from the memberships
    assert _who_is_asking(queries) == []


def test_a_member_removed_loses_the_organization_on_the_next_request(team):
    organization, owner, member, membership = team
    client = _as(member)
    assert _organization_page(client, organization) == 200

    membership_remove(membership=membership, removed_by_role=Role.OWNER, actor=owner)

    assert _organization_page(client, organization) == 404
    assert "Acme Growth" not in client.get("/").text


def test_a_role_lowered_is_the_role_of_the_next_request(team):
    organization, owner, member, membership = team
    client = _as(member)
    rename = f"/organizations/{organization.pk}/settings"
    assert client.post(rename, {"name": "By the admin"}).status_code == 303

    membership_role_change(
        membership=membership, role=Role.VIEWER, changed_by_role=Role.OWNER, actor=owner
    )

    assert client.post(rename, {"name": "By a viewer"}).status_code == 403
    organization.refresh_from_db()
    assert organization.name == "By the admin"


def test_a_deactivated_user_is_signed_out_on_the_next_request(team):
    organization, _, member, _ = team
    client = _as(member)
    assert _organization_page(client, organization) == 200

    member.is_active = False
    member.save(update_fields=["is_active"])  # as the admin does

    assert client.get(f"/organizations/{organization.pk}/").status_code == 302  # to sign in


def test_signing_out_everywhere_ends_a_warm_session(team):
    # A queryset update of the user's session generation: no save, no receiver.
    organization, _, member, _ = team
    client = _as(member)
    assert _organization_page(client, organization) == 200

    user_sign_out_everywhere(user=member)

    assert client.get(f"/organizations/{organization.pk}/").status_code == 302


def test_a_deleted_organization_leaves_its_members_pages_at_once(team):
    # A soft delete: a queryset update of the organization's row.
    organization, owner, member, _ = team
    client = _as(member)
    assert _organization_page(client, organization) == 200

    organization_exported(organization=organization, actor=owner)
    assert _organization_page(client, organization) == 200  # read again since the export
    organization_delete(organization=organization, actor=owner)

    assert _organization_page(client, organization) == 404
    assert "Acme Growth" not in client.get("/").text


def test_a_renamed_organization_is_named_anew_in_every_members_header(team):
    organization, _, member, _ = team
    client = _as(member)
    assert "Acme Growth" in client.get("/").text

    organization.name = "Orbit Labs"
    organization.save(update_fields=["name"])  # as the admin does

    html = client.get("/").text
    assert "Orbit Labs" in html and "Acme Growth" not in html


def test_a_new_wallet_sign_in_shows_in_the_header(team):
    _, _, member, _ = team
    client = _as(member)
    first = member.wallets.get()
    assert first.address in client.get("/").text

    newer = WalletFactory(user=member)  # a wallet linked, then signed in with
    newer.last_signed_in_at = first.created_at.replace(year=first.created_at.year + 1)
    newer.save(update_fields=["last_signed_in_at"])

    assert f'title="{newer.address}"' in client.get("/").text


def test_an_operator_with_a_password_is_read_from_the_database_every_time():
    staff = User.objects.create_user(username="ops", password="x" * 20, is_staff=True)
    client = _as(staff)
    client.get("/")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200

    assert any('"accounts_user"' in sql for sql in _who_is_asking(queries))
    entries = [
        value
        for key in cache.keys(f"{ENTRY_PREFIX}accounts:viewer:*")
        if (value := cache.get(key)) is not None
    ]
    assert entries and all(staff.password not in repr(value) for value in entries)
    assert session_viewer(staff.pk).user.password == staff.password  # for the session's hash


def test_while_redis_is_backed_off_who_is_asking_comes_from_the_database(team):
    organization, owner, member, membership = team
    client = _as(member)
    assert _organization_page(client, organization) == 200
    redis_failed(ConnectionError("gone"), during="a test")

    with CaptureQueriesContext(connection) as queries:
        assert _organization_page(client, organization) == 200
    membership_remove(membership=membership, removed_by_role=Role.OWNER, actor=owner)

    assert len(_who_is_asking(queries)) == 3  # the session, the user, the memberships
    assert _organization_page(client, organization) == 404
