"""PATCH and DELETE /api/v1/campaigns/{id} (API.md): members with write access edit a
campaign or set its status; DELETE archives it, nothing is erased. A paused campaign's
clicks, through the real click paths, are kept and marked `during_pause`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import AuditAction, AuditEvent, Role
from trace.models import CampaignStatus, Click
from trace.services.clicks.flush import clicks_flush
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import CampaignFactory, ClickFactory, ProjectFactory

URL = "/api/v1/campaigns"


def _url(campaign) -> str:
    return f"{URL}/{campaign.pk}"


def _as_stored(campaign) -> tuple:
    campaign.refresh_from_db()
    return (
        campaign.name,
        campaign.landing_url,
        campaign.budget_usd,
        campaign.status,
        campaign.attribution_model,
        campaign.attribution_window_days,
        campaign.project_id,
    )


def test_member_edits_a_campaign(member, campaign):
    response = member.patch(
        _url(campaign),
        {
            "name": "Spring launch",
            "budget_usd": "2500.00",
            "attribution_model": "linear",
            "attribution_window_days": 14,
            "status": "paused",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["budget_usd"], body["status"]) == (
        "Spring launch",
        "2500.00",
        "paused",
    )
    assert _as_stored(campaign) == (
        "Spring launch",
        "https://app.example.com/start?ref=x",
        Decimal("2500.00"),
        "paused",
        "linear",
        14,
        campaign.project_id,
    )
    event = AuditEvent.objects.get(action=AuditAction.CAMPAIGN_UPDATED)
    assert (event.actor, event.target_id, event.details) == (
        member.user,
        str(campaign.pk),
        {
            "changed": [
                "attribution_model",
                "attribution_window_days",
                "budget_usd",
                "name",
                "status",
            ],
            "status": "paused",
        },
    )


def test_a_patch_that_changes_nothing_records_nothing(member, campaign):
    response = member.patch(_url(campaign), {"name": campaign.name})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).exists()


def test_project_can_be_moved_within_the_organization_only(member, campaign):
    other_project = ProjectFactory(organization=member.organization)
    response = member.patch(
        _url(campaign), {"project": str(other_project.pk), "target_contract": ""}
    )
    assert response.status_code == 200, response.content
    assert response.json()["project"] == str(other_project.pk)
    foreign = member.patch(_url(campaign), {"project": str(ProjectFactory().pk)})
    assert (foreign.status_code, foreign.json()) == (
        400,
        {"project": ["No such project."], "code": "invalid"},
    )
    campaign.refresh_from_db()
    assert campaign.project_id == other_project.pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"landing_url": "javascript:alert(1)"}, "landing_url"),
        ({"landing_url": "https://user:pw@app.example.com/"}, "landing_url"),
        ({"budget_usd": "-1.00"}, "budget_usd"),
        ({"attribution_model": "time_decay"}, "attribution_model"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 366}, "attribution_window_days"),
        ({"name": ""}, "name"),
        ({"target_contract": "0x123"}, "target_contract"),
        ({"project": "not-a-uuid"}, "project"),
    ],
)
def test_bad_input_is_400_with_code_and_stores_nothing(member, campaign, fields, field):
    before = _as_stored(campaign)
    # A valid change alongside: refused together, nothing is stored.
    response = member.patch(_url(campaign), {"name": "Renamed", **fields})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert response.json()["code"] == "invalid"
    assert _as_stored(campaign) == before
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).exists()


def test_viewer_and_read_key_are_403_other_organization_404(member, campaign):
    before = _as_stored(campaign)
    viewer = member_caller(member.organization, role=Role.VIEWER)
    read_key = key_caller(member.organization, "read")
    for caller in (viewer, read_key):
        assert caller.patch(_url(campaign), {"status": "paused"}).status_code == 403
        assert caller.delete(_url(campaign)).status_code == 403
    foreign = CampaignFactory()
    foreign_before = _as_stored(foreign)
    response = member.patch(_url(foreign), {"status": "paused"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert member.delete(_url(foreign)).status_code == 404
    assert _as_stored(campaign) == before
    assert _as_stored(foreign) == foreign_before
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).exists()


def test_delete_archives_and_erases_nothing(member, campaign):
    ClickFactory(campaign=campaign)
    response = member.delete(_url(campaign))
    assert (response.status_code, response.json()["status"]) == (200, "archived")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED
    assert Click.objects.filter(campaign=campaign).count() == 1
    # Hidden from the default list, listed on asking, still readable by its id.
    assert member.get(URL).json()["count"] == 0
    archived = member.get(f"{URL}?status=archived").json()
    assert [row["id"] for row in archived["results"]] == [str(campaign.pk)]
    assert member.get(_url(campaign)).status_code == 200
    bad_filter = member.get(f"{URL}?status=gone")
    assert (bad_filter.status_code, bad_filter.json()["code"]) == (400, "invalid")
    # Back again.
    assert member.patch(_url(campaign), {"status": "active"}).json()["status"] == "active"
    assert member.get(URL).json()["count"] == 1


# --- a paused campaign's clicks, through the real click paths ---------------------------

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def _pause(member, campaign) -> None:
    assert member.patch(_url(campaign), {"status": "paused"}).status_code == 200


@pytest.mark.usefixtures("without_redis")
def test_paused_campaign_clicks_are_kept_and_marked_api(member, ingest, campaign):
    assert ingest.post("/api/v1/clicks", {"campaign_id": str(campaign.pk)}).status_code == 202
    _pause(member, campaign)
    assert ingest.post("/api/v1/clicks", {"campaign_id": str(campaign.pk)}).status_code == 202
    _resume(member, campaign)
    assert ingest.post("/api/v1/clicks", {"campaign_id": str(campaign.pk)}).status_code == 202
    marks = list(Click.objects.order_by("id").values_list("during_pause", flat=True))
    assert marks == [False, True, False]


def _resume(member, campaign) -> None:
    assert member.patch(_url(campaign), {"status": "active"}).status_code == 200


@pytest.mark.usefixtures("without_redis")
def test_paused_campaign_link_still_redirects_and_marks_the_click(member, campaign):
    _pause(member, campaign)
    response = Client(REMOTE_ADDR="198.51.100.77").get(
        f"/t/{campaign.pk}?utm_source=x", HTTP_USER_AGENT=BROWSER
    )
    assert response.status_code == 200  # the interstitial: example.com is not verified
    click = Click.objects.get()
    assert (click.during_pause, click.is_bot, click.utm_params) == (
        True,
        False,
        {"utm_source": "x"},
    )


@pytest.mark.redis
def test_the_mark_survives_the_stream(member, ingest, campaign, redis_client):
    _pause(member, campaign)
    body = {"campaign_id": str(campaign.pk), "click_id": "paused-1"}
    assert ingest.post("/api/v1/clicks", body).status_code == 202
    Client(REMOTE_ADDR="198.51.100.8").get(f"/t/{campaign.pk}", HTTP_USER_AGENT=BROWSER)
    batch = [{"campaign_id": str(campaign.pk), "click_id": f"b-{n}"} for n in range(2)]
    assert ingest.post("/api/v1/clicks/batch", {"clicks": batch}).status_code == 202
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) >= 1
    assert clicks_flush().inserted == 4
    assert set(Click.objects.values_list("during_pause", flat=True)) == {True}
