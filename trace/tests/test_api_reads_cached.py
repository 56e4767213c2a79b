"""The campaign list, a campaign's figures and ROI and a project's metrics from the read
cache (trace/cache.py): the second read costs no query, every write they show is on the
next read, who may see them is decided for each request, and the cached answer equals
the database's."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from trace.models import ActivityMetric
from trace.services.clicks.flush import clicks_flush
from trace.services.metrics import metrics_save
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import ActivityMetricFactory, CampaignFactory, ProjectFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/campaigns"
YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def _read(caller: Caller, path: str, **extra) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(path, **extra)
    assert response.status_code == 200, (path, response.content[:300])
    return response.json(), len(queries)


def _campaign(organization, name: str):
    return CampaignFactory(organization=organization, project=None, target_contract="", name=name)


def test_the_list_is_read_once_and_every_campaign_write_shows(member):
    first = _campaign(member.organization, "First")
    read_key = key_caller(member.organization, "read")
    body, cold = _read(read_key, LIST)
    _, warm = _read(read_key, LIST)
    assert [row["id"] for row in body["results"]] == [str(first.pk)]
    assert warm == 0 < cold  # the key, the count and the page; then nothing

    created = member.post(
        LIST,
        {
            "organization": str(member.organization.pk),
            "name": "Second",
            "landing_url": "https://app.example.com/",
            "budget_usd": "10.00",
        },
    ).json()
    body, _ = _read(read_key, LIST)
    assert [row["name"] for row in body["results"]] == ["Second", "First"]

    member.patch(f"{LIST}/{created['id']}", {"name": "Renamed"})
    assert [row["name"] for row in _read(read_key, LIST)[0]["results"]] == ["Renamed", "First"]

    assert member.delete(f"{LIST}/{first.pk}").status_code in (200, 204)
    assert [row["name"] for row in _read(read_key, LIST)[0]["results"]] == ["Renamed"]
    archived = _read(read_key, f"{LIST}?status=archived")[0]["results"]
    assert [row["id"] for row in archived] == [str(first.pk)]


def test_each_caller_reads_its_own_organizations_from_the_cache(member):
    mine = _campaign(member.organization, "Mine")
    other = OrganizationFactory()
    theirs = _campaign(other, "Theirs")
    both = member_caller(member.organization, Role.VIEWER)
    MembershipFactory(user=both.user, organization=other, role=Role.VIEWER)

    for _ in range(2):  # cold, then warm: the same answers
        assert [r["id"] for r in _read(member, LIST)[0]["results"]] == [str(mine.pk)]
        in_both = {r["id"] for r in _read(both, LIST)[0]["results"]}
        assert in_both == {str(mine.pk), str(theirs.pk)}
        assert [r["id"] for r in _read(key_caller(other, "read"), LIST)[0]["results"]] == [
            str(theirs.pk)
        ]
    # A key without `read` is refused, cached answers or not; a bad filter is a 400.
    assert key_caller(member.organization, "ingest").get(LIST).status_code == 403
    assert member.get(f"{LIST}?status=nope").status_code == 400


def test_the_cached_pages_equal_the_databases(member, settings):
    for n in range(5):
        _campaign(member.organization, f"Campaign {n}")
    queries = [
        "",
        "?page_size=2",
        "?page_size=2&page=2",
        "?page_size=2&page=last",
        "?page_size=2&page=3&status=active",
    ]
    cached = {query: _read(member, LIST + query)[0] for query in queries}
    assert {query: _read(member, LIST + query)[1] for query in queries} == dict.fromkeys(
        queries, 2
    )  # the token's user and the memberships only: who may see them
    # Links and tracking URLs carry the host: another host has its own entries.
    other_host = _read(member, LIST + "?page_size=2", HTTP_HOST="localhost")[0]
    assert other_host["next"].startswith("http://localhost/")
    assert other_host["results"][0]["tracking_url"].startswith("http://localhost/t/")

    settings.READ_CACHE_ENABLED = False
    assert {query: _read(member, LIST + query)[0] for query in queries} == cached
    settings.READ_CACHE_ENABLED = True
    for query in ("?page=9", "?page=abc", "?page=0"):
        answers = {member.get(LIST + query).json()["detail"] for _ in range(2)}
        assert len(answers) == 1 and next(iter(answers)).startswith("Invalid page"), query


def _metrics(project) -> str:
    return f"/api/v1/metrics/{project.pk}"


def test_metrics_are_read_once_and_every_save_shows(member):
    project = ProjectFactory(organization=member.organization)
    ActivityMetricFactory(project=project, date=YESTERDAY, dau=10)
    read_key = key_caller(member.organization, "read")
    body, cold = _read(read_key, _metrics(project))
    _, warm = _read(read_key, _metrics(project))
    assert [day["dau"] for day in body["results"]] == [10]
    assert warm == 0 < cold  # the key, the project's organization and its days; nothing

    # The recomputation's bulk upsert, a day more and one changed...
    before = ActivityMetric.objects.get()
    before.dau = 12
    day_before = YESTERDAY - dt.timedelta(days=1)
    metrics_save(metrics=[before, ActivityMetricFactory.build(project=project, date=day_before)])
    body = _read(read_key, _metrics(project))[0]
    assert [day["date"] for day in body["results"]] == [
        day_before.isoformat(),
        YESTERDAY.isoformat(),
    ]
    assert body["results"][1]["dau"] == 12
    # ...and a metric saved one by one, as the admin does.
    before.refresh_from_db()
    before.dau = 14
    before.save()
    assert _read(read_key, _metrics(project))[0]["results"][1]["dau"] == 14
    # Another period is another entry.
    one_day = f"{_metrics(project)}?from={YESTERDAY}&to={YESTERDAY}"
    assert [day["dau"] for day in _read(read_key, one_day)[0]["results"]] == [14]


def test_who_reads_metrics_is_decided_for_each_request(member):
    project = ProjectFactory(organization=member.organization)
    ActivityMetricFactory(project=project, date=YESTERDAY)
    empty = ProjectFactory(organization=member.organization)
    assert _read(member, _metrics(project))[0]["results"]  # cached now
    stranger = key_caller(OrganizationFactory(), "read")
    for _ in range(2):
        assert stranger.get(_metrics(project)).status_code == 404  # never revealed
        assert key_caller(member.organization, "ingest").get(_metrics(project)).status_code == 403
        assert member.get(f"/api/v1/metrics/{uuid.uuid4()}").status_code == 404
        assert _read(member, _metrics(empty))[0]["results"] == []  # a project without days
        assert stranger.get(_metrics(empty)).status_code == 404

    project.delete()
    assert member.get(_metrics(project)).status_code == 404


@pytest.mark.redis
def test_a_campaigns_figures_and_roi_are_read_once_per_flush(member, ingest):
    campaign = _campaign(member.organization, "Launch")
    campaign.budget_usd = Decimal("100.00")
    campaign.save()
    read_key = key_caller(member.organization, "read")
    detail, roi = f"{LIST}/{campaign.pk}", f"/api/v1/roi/{campaign.pk}"
    assert _read(read_key, detail)[0]["stats"]["clicks"] == 0
    assert _read(read_key, roi)[0]["clicks"] == 0
    assert (_read(read_key, detail)[1], _read(read_key, roi)[1]) == (0, 0)  # one entry

    for number in range(2):  # through the ingest API, then the flush: its insert retires
        body = {"campaign_id": str(campaign.pk), "click_id": f"c{number}"}
        assert ingest.post("/api/v1/clicks", body).status_code == 202
    assert _read(read_key, detail)[0]["stats"]["clicks"] == 0  # not flushed yet
    assert clicks_flush().inserted == 2
    assert _read(read_key, detail)[0]["stats"]["clicks"] == 2
    assert _read(read_key, roi)[0]["clicks"] == 2

    conversion = member.post(
        "/api/v1/conversions",
        {
            "click_id": "c0",
            "campaign_id": str(campaign.pk),
            "wallet_address": "0x" + "ab" * 20,
            "transaction_hash": "0x" + "f" * 64,
            "value_usd": "150.00",
        },
    )
    assert conversion.status_code == 201, conversion.content
    assert _read(read_key, roi)[0]["conversion_value_usd"] == "150.00"
    assert _read(read_key, detail)[0]["stats"]["conversions"] == 1

    member.patch(detail, {"name": "Renamed"})
    assert _read(read_key, detail)[0]["name"] == "Renamed"
    # Who may see it is decided for each request, however warm the entry.
    assert key_caller(OrganizationFactory(), "read").get(detail).status_code == 404
    assert key_caller(OrganizationFactory(), "read").get(roi).status_code == 404
    assert ingest.get(roi).status_code == 403  # lacks `read`
    assert read_key.get(f"{LIST}/{uuid.uuid4()}").status_code == 404
