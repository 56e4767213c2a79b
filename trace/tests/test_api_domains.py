"""/api/v1/organizations/{id}/domains: owners and admins add, verify and remove their
landing domains; everyone else is refused (403 if they can see the organization, else
404), and a refusal stores nothing and fetches nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from fabrknt.security.tests.local_site import Route
from trace.models import Click, LandingDomain
from trace.services.domains import VERIFICATION_PATH
from trace.tests.factories import CampaignFactory, LandingDomainFactory

pytestmark = pytest.mark.django_db


def _url(organization, suffix: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}/domains{suffix}"


def _client(organization, role: str = Role.ADMIN) -> JsonClient:
    return as_user(MembershipFactory(organization=organization, role=role).user)


@pytest.fixture
def admin(organization) -> JsonClient:
    return _client(organization)


def _rows() -> list[tuple]:
    return list(
        LandingDomain.objects.order_by("domain").values_list(
            "organization_id", "domain", "token", "verified_at", "last_checked_at", "last_error"
        )
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_add_a_domain_and_get_its_token(organization, role):
    client = _client(organization, role)

    response = client.post(_url(organization), {"domain": "Shop.Example.COM"})

    assert response.status_code == 201
    stored = LandingDomain.objects.get()
    body = response.json()
    assert body == {
        "domain": "shop.example.com",
        "token": stored.token,
        "verification_url": "https://shop.example.com/.well-known/fabrknt-verification.txt",
        "file_path": "/.well-known/fabrknt-verification.txt",
        "verified": False,
        "verified_at": None,
        "last_checked_at": None,
        "last_error": "",
        "created_at": body["created_at"],
    }
    assert (stored.organization_id, stored.domain) == (organization.pk, "shop.example.com")


def test_adding_again_returns_the_same_domain_and_token(organization, admin):
    first = admin.post(_url(organization), {"domain": "shop.example.com"})
    again = admin.post(_url(organization), {"domain": "SHOP.example.com."})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert LandingDomain.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"domain": ""},
        {"domain": "https://shop.example.com/"},
        {"domain": "10.0.0.1"},
        {"domain": "localhost"},
        {"domain": ["shop.example.com"]},
        {"domain": "a" * 254},
    ],
)
def test_a_bad_domain_is_400_and_stores_nothing(organization, admin, body):
    response = admin.post(_url(organization), body)

    assert response.status_code == 400
    assert list(response.json()) == ["domain", "code"]
    assert response.json()["code"] == "invalid"
    assert LandingDomain.objects.count() == 0


def test_the_list_is_the_organizations_own_paginated_in_constant_queries(organization, admin):
    LandingDomainFactory(organization=organization, domain="b.example.com")
    LandingDomainFactory(organization=OrganizationFactory(), domain="other.example.com")
    admin.get(_url(organization))  # warm per-process caches

    with CaptureQueriesContext(connection) as few:
        response = admin.get(_url(organization))
    for name in ("a", "c", "d"):
        LandingDomainFactory(organization=organization, domain=f"{name}.example.com")
    with CaptureQueriesContext(connection) as more:
        admin.get(_url(organization))

    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert [row["domain"] for row in body["results"]] == ["b.example.com"]
    assert body["results"][0]["verified"] is True
    assert len(few) == len(more)


def test_one_domain_by_any_spelling(organization, admin):
    LandingDomainFactory(organization=organization, domain="xn--bcher-kva.example")

    response = admin.get(_url(organization, "/BÜCHER.example"))

    assert response.status_code == 200
    assert response.json()["domain"] == "xn--bcher-kva.example"
    assert admin.get(_url(organization, "/nope.example")).status_code == 404
    assert admin.get(_url(organization, "/not a domain")).status_code == 404


# --- verify ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_redis")
def test_verify_fetches_the_file_and_answers_200(
    organization, admin, local_verification, django_capture_on_commit_callbacks
):
    token = admin.post(_url(organization), {"domain": "shop.example.com"}).json()["token"]
    local_verification.routes[VERIFICATION_PATH] = Route(body=f"{token}\n".encode())
    campaign = CampaignFactory(
        project__organization=organization, landing_url="https://shop.example.com/go"
    )
    visitor = Client(REMOTE_ADDR="198.51.100.7")
    assert visitor.get(f"/t/{campaign.pk}").status_code == 200  # the interstitial

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_url(organization, "/shop.example.com/verify"))

    assert response.status_code == 200
    body = response.json()
    assert (body["verified"], body["last_error"]) == (True, "")
    assert body["verified_at"] == body["last_checked_at"] is not None
    assert body["verification_url"] == (
        f"http://shop.example.com:{local_verification.port}{VERIFICATION_PATH}"
    )
    # This process forgets its cached answer at once (the others within 30 s).
    assert visitor.get(f"/t/{campaign.pk}").status_code == 302


def test_a_failed_verification_is_400_with_the_reason(organization, admin, local_verification):
    admin.post(_url(organization), {"domain": "shop.example.com"})
    local_verification.routes[VERIFICATION_PATH] = Route(body=b"not-our-token\n")

    response = admin.post(_url(organization, "/shop.example.com/verify"))

    url = f"http://shop.example.com:{local_verification.port}{VERIFICATION_PATH}"
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{url} does not contain this domain's token",
        "code": "domain_not_verified",
    }
    stored = LandingDomain.objects.get()
    assert (stored.verified_at, stored.last_error) == (
        None,
        f"{url} does not contain this domain's token",
    )


def test_verification_is_rate_limited_per_caller(organization, admin, local_verification):
    admin.post(_url(organization), {"domain": "shop.example.com"})
    limits = {**settings.RATE_LIMITS, "domain_verification": 2}
    verify = _url(organization, "/shop.example.com/verify")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "RATE_LIMITS", limits)
        answers = [admin.post(verify).status_code for _ in range(3)]

    assert answers == [400, 400, 429]
    assert len(local_verification.requests) == 2  # the third fetched nothing


# --- delete --------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_redis")
def test_delete_removes_the_domain_and_its_links_show_the_interstitial(
    organization, admin, django_capture_on_commit_callbacks
):
    LandingDomainFactory(organization=organization, domain="example.com")
    campaign = CampaignFactory(project__organization=organization)
    visitor = Client(REMOTE_ADDR="198.51.100.7")
    assert visitor.get(f"/t/{campaign.pk}").status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.delete(_url(organization, "/example.com"))

    assert response.status_code == 204
    assert LandingDomain.objects.count() == 0
    assert visitor.get(f"/t/{campaign.pk}").status_code == 200
    assert admin.delete(_url(organization, "/example.com")).status_code == 404


# --- who may -------------------------------------------------------------------------------


def _every_call(client: JsonClient, organization) -> list[int]:
    """The status of each endpoint, in order: list, add, get, verify, delete."""
    return [
        client.get(_url(organization)).status_code,
        client.post(_url(organization), {"domain": "new.example.com"}).status_code,
        client.get(_url(organization, "/shop.example.com")).status_code,
        client.post(_url(organization, "/shop.example.com/verify")).status_code,
        client.delete(_url(organization, "/shop.example.com")).status_code,
    ]


@pytest.fixture
def existing(organization, local_verification) -> LandingDomain:
    # Served, so a refusal that wrongly went through would verify it (and show it).
    landing_domain = LandingDomainFactory(
        organization=organization, domain="shop.example.com", verified_at=None
    )
    local_verification.routes[VERIFICATION_PATH] = Route(body=landing_domain.token.encode())
    return landing_domain


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_are_403_and_change_nothing(
    organization, existing, local_verification, role
):
    before = _rows()
    assert _every_call(_client(organization, role), organization) == [403] * 5
    assert _rows() == before
    assert local_verification.requests == []


@pytest.mark.parametrize("scopes", [["read"], ["read", "write", "ingest"]])
def test_keys_that_can_read_the_organization_are_403(
    organization, existing, local_verification, scopes
):
    issued = api_key_issue(organization=organization, name="k", scopes=scopes)
    before = _rows()
    assert _every_call(as_key(issued.key), organization) == [403] * 5
    assert _rows() == before
    assert local_verification.requests == []


@pytest.mark.parametrize("scopes", [["ingest"], ["write"]])
def test_the_organizations_keys_are_403(organization, existing, local_verification, scopes):
    # Keys never manage domains, whatever their scope (another organization's key: 404).
    issued = api_key_issue(organization=organization, name="k", scopes=scopes)
    before = _rows()
    assert _every_call(as_key(issued.key), organization) == [403] * 5
    assert _rows() == before
    assert local_verification.requests == []


def test_another_organizations_admin_is_404_and_changes_nothing(
    organization, existing, local_verification
):
    stranger = _client(OrganizationFactory(), Role.OWNER)
    before = _rows()
    assert _every_call(stranger, organization) == [404] * 5
    assert _rows() == before
    assert local_verification.requests == []


def test_another_organizations_domain_is_404_to_an_admin(organization, admin, existing):
    other = OrganizationFactory()
    LandingDomainFactory(organization=other, domain="theirs.example.com")
    before = _rows()
    assert admin.get(_url(organization, "/theirs.example.com")).status_code == 404
    assert admin.delete(_url(organization, "/theirs.example.com")).status_code == 404
    assert admin.post(_url(organization, "/theirs.example.com/verify")).status_code == 404
    assert admin.get(_url(other)).status_code == 404
    assert _rows() == before


def test_anonymous_callers_are_401(organization, existing, local_verification):
    assert _every_call(JsonClient(), organization) == [401] * 5
    assert LandingDomain.objects.count() == 1
    assert local_verification.requests == []
    assert Click.objects.count() == 0
