from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from accounts.models import Role
from trace.models import Click
from trace.services.clicks.flush import clicks_flush
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import CampaignFactory

URL = "/api/v1/clicks"
BATCH_URL = "/api/v1/clicks/batch"


def _stored(redis_client=None) -> int:
    """Clicks accepted so far: rows, plus stream entries when Redis is on."""
    in_stream = redis_client.xlen(settings.CLICK_STREAM_KEY) if redis_client else 0
    return Click.objects.count() + in_stream


@pytest.mark.usefixtures("without_redis")
def test_ingest_key_click_is_accepted_once(ingest, campaign):
    body = {
        "campaign_id": str(campaign.pk),
        "click_id": "tw-0001",
        "referrer": "https://twitter.com/",
        "utm_params": {"utm_source": "twitter"},
        "user_agent": "Mozilla/5.0 Firefox/140.0",
        "ip_address": "203.0.113.50",
    }
    first = ingest.post(URL, body)
    again = ingest.post(URL, body)
    assert (first.status_code, first.json()) == (202, {"click_id": "tw-0001"})
    assert (again.status_code, again.json()) == (202, {"click_id": "tw-0001"})
    click = Click.objects.get()
    assert (click.campaign_id, click.referrer, click.utm_params, click.ip_address) == (
        campaign.pk,
        "https://twitter.com/",
        {"utm_source": "twitter"},
        "203.0.113.0",
    )


@pytest.mark.usefixtures("without_redis")
def test_member_click_gets_generated_id(member, campaign):
    response = member.post(URL, {"campaign_id": str(campaign.pk)})
    assert response.status_code == 202
    click_id = response.json()["click_id"]
    assert len(click_id) == 32
    assert Click.objects.get().click_id == click_id


@pytest.mark.redis
def test_click_goes_through_the_stream(ingest, campaign, redis_client):
    response = ingest.post(URL, {"campaign_id": str(campaign.pk), "click_id": "via-stream"})
    assert response.status_code == 202
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 1
    assert Click.objects.count() == 0
    assert clicks_flush().inserted == 1
    assert Click.objects.get().click_id == "via-stream"


def test_invalid_click_is_400_and_stores_nothing(ingest, campaign, request):
    redis_client = request.getfixturevalue("redis_client") if settings.REDIS_URL else None
    campaign_id = str(campaign.pk)
    cases = [
        ({}, {"campaign_id": ["This field is required."]}),
        ({"campaign_id": "x"}, {"campaign_id": ["Must be a valid UUID."]}),
        (
            {"campaign_id": campaign_id, "click_id": "a b"},
            {"click_id": ["At most 64 characters of A-Z, a-z, 0-9, _ and -."]},
        ),
        (
            {"campaign_id": campaign_id, "ip_address": "1.2.3"},
            {"ip_address": ["Enter a valid IPv4 or IPv6 address."]},
        ),
        (
            {"campaign_id": campaign_id, "referrer": "r" * 2049},
            {"referrer": ["A string of at most 2048 characters."]},
        ),
    ]
    for body, errors in cases:
        response = ingest.post(URL, body)
        assert (response.status_code, response.json()) == (400, {**errors, "code": "invalid"})
    assert _stored(redis_client) == 0


def test_other_organizations_campaign_is_404(ingest, request):
    redis_client = request.getfixturevalue("redis_client") if settings.REDIS_URL else None
    response = ingest.post(URL, {"campaign_id": str(CampaignFactory().pk)})
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "No such campaign.", "code": "not_found"},
    )
    assert _stored(redis_client) == 0


def test_a_viewer_is_refused_with_403_and_another_organizations_member_404(campaign, request):
    redis_client = request.getfixturevalue("redis_client") if settings.REDIS_URL else None
    body = {"campaign_id": str(campaign.pk)}
    viewer = member_caller(campaign.organization, Role.VIEWER).post(URL, body)
    assert (viewer.status_code, viewer.json()) == (
        403,
        {"detail": "Viewers cannot send clicks.", "code": "permission_denied"},
    )
    stranger = member_caller(CampaignFactory().organization).post(URL, body)
    assert (stranger.status_code, stranger.json()["code"]) == (404, "not_found")
    assert _stored(redis_client) == 0


def test_credentials(campaign):
    body = {"campaign_id": str(campaign.pk)}
    anonymous = Client().post(URL, body, content_type="application/json")
    assert anonymous.status_code == 401
    bad_key = Client().post(URL, body, content_type="application/json", HTTP_X_API_KEY="fab_x_y")
    assert bad_key.status_code == 401
    bad_jwt = Client().post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert bad_jwt.status_code == 401
    read_key = key_caller(campaign.organization, "read", "write")
    assert read_key.post(URL, body).status_code == 403
    assert Click.objects.count() == 0


def test_malformed_json_method_and_content_type(ingest, campaign):
    bad_json = ingest.client.post(
        URL, data="{nope", content_type="application/json", **ingest.headers
    )
    assert bad_json.status_code == 400
    assert "JSON parse error" in bad_json.json()["detail"]
    deep = ingest.client.post(
        URL, data="[" * 5000, content_type="application/json", **ingest.headers
    )
    assert deep.status_code in (400, 413)
    assert ingest.get(URL).status_code == 405
    form = ingest.client.post(URL, {"campaign_id": str(campaign.pk)}, **ingest.headers)
    assert form.status_code == 415
    assert Click.objects.count() == 0


def test_cors_preflight(db):
    response = Client().options(URL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-API-Key" in response["Access-Control-Allow-Headers"]


def test_rate_limited_with_retry_after(ingest, campaign):
    body = {"campaign_id": str(campaign.pk)}
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "ingest": 2}):
        statuses = [ingest.post(URL, body).status_code for _ in range(3)]
        refused = ingest.post(URL, body)
    assert statuses == [202, 202, 429]
    assert int(refused["Retry-After"]) >= 1


# --- batch --------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_redis")
def test_batch_accepts_and_rejects_each_item(ingest, campaign):
    other = CampaignFactory()
    clicks = [
        {"campaign_id": str(campaign.pk), "click_id": "b-1"},
        {"campaign_id": str(campaign.pk), "ip_address": "nope"},
        {"campaign_id": str(other.pk)},
        "not an object",
        {"campaign_id": str(campaign.pk), "click_id": "b-2", "utm_params": {"utm_medium": "x"}},
    ]
    response = ingest.post(BATCH_URL, {"clicks": clicks})
    assert response.status_code == 202
    assert response.json() == {
        "accepted": ["b-1", "b-2"],
        "rejected": [
            {"index": 1, "errors": {"ip_address": ["Enter a valid IPv4 or IPv6 address."]}},
            {"index": 2, "errors": {"campaign_id": ["No such campaign."]}},
            {"index": 3, "errors": {"non_field_errors": ["Expected a JSON object."]}},
        ],
    }
    assert sorted(Click.objects.values_list("click_id", flat=True)) == ["b-1", "b-2"]
    assert ingest.post(BATCH_URL, {"clicks": clicks}).status_code == 202
    assert Click.objects.count() == 2


@pytest.mark.redis
def test_batch_of_500_through_the_stream(ingest, campaign, redis_client):
    clicks = [{"campaign_id": str(campaign.pk), "click_id": f"n-{n}"} for n in range(500)]
    response = ingest.post(BATCH_URL, {"clicks": clicks})
    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 500
    assert clicks_flush().inserted == 500
    assert Click.objects.count() == 500


@pytest.mark.parametrize("clicks", [[], "x", [{}] * 501])
def test_batch_size_and_shape(ingest, campaign, clicks):
    response = ingest.post(BATCH_URL, {"clicks": clicks})
    assert response.status_code == 400
    assert list(response.json()) == ["clicks", "code"]
    assert Click.objects.count() == 0


def test_batch_takes_ingest_keys_only(member, campaign):
    body = {"clicks": [{"campaign_id": str(campaign.pk)}]}
    assert member.post(BATCH_URL, body).status_code == 403
    assert Client().post(BATCH_URL, body, content_type="application/json").status_code == 401
    assert Click.objects.count() == 0


def test_click_endpoints_are_in_the_openapi_schema(db):
    schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    single = schema["paths"]["/api/v1/clicks"]["post"]
    assert "202" in single["responses"]
    assert single["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ClickRequest"
    )
    assert "202" in schema["paths"]["/api/v1/clicks/batch"]["post"]["responses"]


# --- click ids are unique per organization ----------------------------------------------


def _click_in_two_organizations(campaign, click_id: str) -> list:
    """The same click id posted by two organizations' ingest keys: 202 to both."""
    theirs = CampaignFactory()  # another organization's
    answers = [
        key_caller(target.organization, "ingest").post(
            URL, {"campaign_id": str(target.pk), "click_id": click_id}
        )
        for target in (campaign, theirs)
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(202, {"click_id": click_id})] * 2
    return [campaign, theirs]


def _assert_stored_once_each(campaigns, click_id: str) -> None:
    stored = Click.objects.filter(click_id=click_id).order_by("id")
    assert list(stored.values_list("campaign_id", flat=True)) == [c.pk for c in campaigns]
    assert [click.organization_id for click in stored] == [c.organization_id for c in campaigns]


@pytest.mark.usefixtures("without_redis")
def test_another_organization_may_use_the_same_click_id(campaign):
    campaigns = _click_in_two_organizations(campaign, "shared-id")
    _assert_stored_once_each(campaigns, "shared-id")


@pytest.mark.redis
def test_another_organization_may_use_the_same_click_id_through_the_stream(campaign, redis_client):
    campaigns = _click_in_two_organizations(campaign, "shared-id")
    result = clicks_flush()
    assert (result.read, result.inserted, result.duplicates) == (2, 2, 0)
    _assert_stored_once_each(campaigns, "shared-id")


@pytest.mark.usefixtures("without_redis")
def test_a_click_id_repeated_within_an_organization_is_stored_once(ingest, campaign):
    sibling = CampaignFactory(project=campaign.project)  # same organization
    for target in (campaign, sibling, campaign):
        response = ingest.post(URL, {"campaign_id": str(target.pk), "click_id": "mine"})
        assert response.status_code == 202
    assert list(Click.objects.values_list("click_id", "campaign_id")) == [("mine", campaign.pk)]
