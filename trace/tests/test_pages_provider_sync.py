"""The project page says whether the provider's webhook watches the project's addresses."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import AddressSyncStatus, ProviderAddressSync
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    return membership


def _sync_text(response) -> str:
    match = re.search(
        r'<ul[^>]*data-testid="address-sync"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )
    assert match, "no address sync list"
    text = re.sub(r"<[^>]+>", "", match.group(1))
    return " ".join(text.replace("\xa0", " ").split())


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        (
            {"status": AddressSyncStatus.SYNCED, "synced_at_minutes_ago": 2},
            "Alchemy: synced 2 minutes ago",
        ),
        (
            {
                "status": AddressSyncStatus.FAILED,
                "last_error": "Alchemy answered HTTP 503: Webhooks service unavailable",
                "retrying": True,
            },
            "Alchemy: failed: Alchemy answered HTTP 503: Webhooks service unavailable, retrying",
        ),
        (
            {
                "status": AddressSyncStatus.FAILED,
                "last_error": "Alchemy answered HTTP 401: Unauthenticated",
                "retrying": False,
            },
            "Alchemy: failed: Alchemy answered HTTP 401: Unauthenticated",
        ),
        (
            {
                "status": AddressSyncStatus.NOT_CONFIGURED,
                "last_error": "ALCHEMY_NOTIFY_TOKEN or ALCHEMY_WEBHOOK_IDS[eip155:1] is not set",
            },
            "Alchemy: not configured",  # the operators' detail stays in the admin
        ),
        (
            {"status": AddressSyncStatus.PENDING, "requested_at_minutes_ago": 5},
            "Alchemy: pending since 5 minutes",
        ),
    ],
)
def test_the_project_page_shows_each_sync_state(client, member, fields, shown):
    project = ProjectFactory(organization=member.organization, chain="eip155:1")
    now = timezone.now()
    if minutes := fields.pop("synced_at_minutes_ago", None):
        fields["synced_at"] = now - dt.timedelta(minutes=minutes, seconds=5)
    if minutes := fields.pop("requested_at_minutes_ago", None):
        fields["requested_at"] = now - dt.timedelta(minutes=minutes, seconds=5)
    ProviderAddressSync.objects.create(project=project, provider="alchemy", **fields)

    response = client.get(f"/trace/projects/{project.pk}/")

    assert response.status_code == 200
    assert _sync_text(response) == shown


def test_a_project_never_synced_says_so(client, member):
    project = ProjectFactory(
        organization=member.organization,
        chain="solana:mainnet",
        contract_addresses=["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"],
    )

    response = client.get(f"/trace/projects/{project.pk}/")

    assert _sync_text(response) == (
        "Helius: not synced yet an operator can re-sync it from the admin"
    )
