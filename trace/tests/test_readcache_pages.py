"""The campaign page and the dashboard from the read cache (trace/cache.py): a second
read is the cache's, and every write that changes what they show is on the next read (a
flush's clicks, a conversion, a campaign edit, a project renamed or archived, metrics
computed); who may see a page is decided for each request, whatever was cached; without
Redis the pages are read from the database."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.tests.factories import MembershipFactory
from fabrknt.readcache import GENERATION_PREFIX
from trace.cache import campaigns_figures_changed, organization_figures_scope
from trace.models import ActivityMetric
from trace.services.campaigns import campaign_update
from trace.services.clicks import database, records
from trace.services.clicks.validation import ClickInput
from trace.services.metrics import metrics_save
from trace.services.projects import project_archive, project_update
from trace.tests.factories import CampaignFactory, ConversionFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role=Role.OWNER)


@pytest.fixture
def campaign(owner):
    project = ProjectFactory(organization=owner.organization, name="Basedrop")
    return CampaignFactory(project=project, organization=owner.organization, name="Launch")


def _client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _get(client: Client, path: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode(), len(queries)


def _kpi(page: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', page)
    assert match, name
    return match.group(1)


def _flush(campaign, count: int, first: int = 0) -> None:
    """Clicks inserted as the flush inserts them (trace.services.clicks.database)."""
    now = time.time()
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    batch = [
        records.click_record(
            ClickInput(
                campaign_id=str(campaign.pk), click_id=f"flushed-{n}", ip_address=f"203.0.113.{n}"
            ),
            now,
            today,
        )
        for n in range(first, first + count)
    ]
    assert database.clicks_insert(batch) == count


def test_the_campaign_page_is_read_once_and_each_change_shows_next(owner, campaign):
    client = _client(owner)
    path = f"/trace/campaigns/{campaign.pk}/"
    page, cold = _get(client, path)
    _, warm = _get(client, path)
    assert _kpi(page, "kpi-clicks") == "0"
    assert warm < cold  # the figures came from the cache

    _flush(campaign, 3)
    page, _ = _get(client, path)
    assert _kpi(page, "kpi-clicks") == "3"

    ConversionFactory(click__campaign=campaign, occurred_at=timezone.now())
    page, _ = _get(client, path)
    assert _kpi(page, "kpi-conversions") == "1"

    campaign_update(campaign=campaign, actor=owner.user, name="Launch two")
    page, _ = _get(client, path)
    assert "<h1>Launch two" in page

    project_update(project=campaign.project, actor=owner.user, name="Basedrop Two")
    page, _ = _get(client, path)
    assert ">Basedrop Two</a>" in page

    assert "has no daily metrics yet" in page
    computed = timezone.now() - dt.timedelta(hours=2)
    metrics_save(
        metrics=[
            ActivityMetric(
                project=campaign.project,
                date=timezone.localdate() - dt.timedelta(days=1),
                computed_at=computed,
            )
        ]
    )
    page, _ = _get(client, path)
    assert "Basedrop Two's daily metrics were computed" in page


def test_who_may_see_a_cached_campaign_page_is_decided_per_request(owner, campaign):
    path = f"/trace/campaigns/{campaign.pk}/"
    owner_page, _ = _get(_client(owner), path)  # cached now
    viewer = MembershipFactory(organization=owner.organization, role=Role.VIEWER)
    outsider = MembershipFactory(role=Role.OWNER)

    viewer_page, _ = _get(_client(viewer), path)
    assert 'data-testid="campaign-actions"' in owner_page
    assert 'data-testid="campaign-actions"' not in viewer_page
    assert _client(outsider).get(path).status_code == 404
    assert _client(outsider).get(f"/trace/campaigns/{campaign.pk}/?range=7d").status_code == 404

    viewer_client = _client(viewer)
    viewer.delete()  # removed from the organization: the entry is still there
    assert viewer_client.get(path).status_code == 404


def test_an_unknown_campaign_is_404_cached_or_not(owner):
    client = _client(owner)
    path = "/trace/campaigns/00000000-0000-4000-8000-000000000000/"
    assert client.get(path).status_code == 404
    assert client.get(path).status_code == 404


def test_the_dashboard_is_read_once_and_each_change_shows_next(owner, campaign):
    client = _client(owner)
    page, cold = _get(client, "/trace/")
    _, warm = _get(client, "/trace/")
    assert warm < cold
    assert ">Launch</a>" in page

    _flush(campaign, 2)
    page, _ = _get(client, "/trace/")
    assert re.search(r'kpi__label">Clicks</span><span class="kpi__value">2<', page)

    CampaignFactory(project=campaign.project, organization=owner.organization, name="Second")
    page, _ = _get(client, "/trace/")
    assert ">Second</a>" in page

    project_update(project=campaign.project, actor=owner.user, name="Basedrop Two")
    page, _ = _get(client, "/trace/")
    assert ">Basedrop Two</a>" in page

    project_archive(project=campaign.project, actor=owner.user)
    page, _ = _get(client, "/trace/")
    assert 'class="card__title"' not in page  # its card is gone


def test_each_member_reads_their_own_organizations(owner, campaign):
    _get(_client(owner), "/trace/")
    other = MembershipFactory(role=Role.OWNER)
    theirs = ProjectFactory(organization=other.organization)
    CampaignFactory(organization=other.organization, project=theirs, name="Theirs")

    page, _ = _get(_client(other), "/trace/")
    assert ">Theirs</a>" in page
    assert ">Launch</a>" not in page


def test_without_redis_the_pages_are_read_from_the_database(owner, campaign, redis_server, caplog):
    client = _client(owner)
    _get(client, f"/trace/campaigns/{campaign.pk}/")
    redis_server.stop()

    _flush(campaign, 1)  # the retiring bump fails (logged): nothing is read from the cache
    caplog.clear()
    with CaptureQueriesContext(connection) as queries:
        _flush(campaign, 1, first=1)  # backed off: the scopes' organizations are not read
    assert not [q for q in queries if 'DISTINCT "trace_campaign"."organization_id"' in q["sql"]]
    assert [r.getMessage() for r in caplog.records if "stay until their TTL" in r.getMessage()] == [
        f"Redis is backed off: cached reads of campaigns {campaign.pk} stay until their TTL"
    ]

    page, _ = _get(client, f"/trace/campaigns/{campaign.pk}/")
    assert _kpi(page, "kpi-clicks") == "2"
    page, _ = _get(client, "/trace/")
    assert ">Launch</a>" in page


def test_a_write_to_several_campaigns_retires_their_organization_once(campaign):
    other = CampaignFactory(project=campaign.project, organization=campaign.organization)
    key = GENERATION_PREFIX + organization_figures_scope(campaign.organization_id)
    cache.set(key, 10, timeout=None)

    campaigns_figures_changed([campaign.pk, other.pk])

    assert cache.get(key) == 11
