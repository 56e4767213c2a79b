from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from trace.models import Click

pytestmark = pytest.mark.usefixtures("without_redis")

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def _visit(campaign, query="", method="get", **headers):
    client = Client(REMOTE_ADDR="198.51.100.77")
    return getattr(client, method)(f"/t/{campaign.pk}{query}", **headers)


def test_visit_is_recorded_and_redirected_to_landing_url(campaign):
    response = _visit(
        campaign,
        "?utm_source=newsletter&utm_medium=email&next=https://evil.example/",
        HTTP_USER_AGENT=BROWSER,
        HTTP_REFERER="https://mail.example/inbox",
    )
    assert response.status_code == 302
    click = Click.objects.get()
    assert response["Location"] == (
        f"https://app.example.com/start?ref=x&fab_click={click.click_id}"
    )
    assert response["Cache-Control"] == "no-store"
    assert (click.campaign_id, click.is_bot, click.bot_reason) == (campaign.pk, False, "")
    assert click.utm_params == {"utm_source": "newsletter", "utm_medium": "email"}
    assert (click.referrer, click.user_agent) == ("https://mail.example/inbox", BROWSER)
    assert click.ip_address == "198.51.100.0"
    assert len(click.visitor_hash) == 64


def test_full_ip_kept_when_configured(campaign):
    with override_settings(STORE_FULL_IP=True):
        _visit(campaign, HTTP_USER_AGENT=BROWSER)
    assert Click.objects.get().ip_address == "198.51.100.77"


@pytest.mark.parametrize(
    "query",
    [
        "?url=https://evil.example/",
        "?fab_click=injected&redirect=//evil.example",
        "/../../evil.example",
    ],
)
def test_no_open_redirect(campaign, query):
    response = _visit(campaign, query, HTTP_USER_AGENT=BROWSER)
    if response.status_code == 302:
        assert response["Location"].startswith("https://app.example.com/start?ref=x&fab_click=")
        assert "evil" not in response["Location"]
        assert "injected" not in response["Location"]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("user_agent", "reason"),
    [
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "slackbot"),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "facebookexternalhit",
        ),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "discordbot"),
        ("curl/8.5.0", "script:curl"),
        ("", "empty_user_agent"),
    ],
)
def test_preview_bots_are_recorded_as_bots(campaign, user_agent, reason):
    response = _visit(campaign, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 302
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason) == (True, reason)
    assert response["Location"].startswith("https://app.example.com/start?ref=x")


def test_head_is_bot_traffic(campaign):
    response = _visit(campaign, method="head", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason) == (True, "head_request")


def test_unknown_campaign_and_other_methods(campaign):
    assert Client().get(f"/t/{uuid.uuid4()}").status_code == 404
    assert Client().get("/t/not-a-uuid").status_code == 404
    assert _visit(campaign, method="post").status_code == 405
    assert Click.objects.count() == 0


def test_over_the_per_ip_allowance_visitors_still_land_unrecorded(campaign):
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "tracking_link": 1}):
        first = _visit(campaign, HTTP_USER_AGENT=BROWSER)
        second = _visit(campaign, HTTP_USER_AGENT=BROWSER)
    assert "fab_click=" in first["Location"]
    assert second["Location"] == "https://app.example.com/start?ref=x"
    assert Click.objects.count() == 1


def _visit_from(campaign, address: str, **headers):
    return Client(REMOTE_ADDR=address).get(f"/t/{campaign.pk}", HTTP_USER_AGENT=BROWSER, **headers)


def test_an_ipv6_visitor_is_one_visitor_whichever_address_of_its_64_it_uses(campaign):
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "tracking_link": 2}):
        visits = [
            _visit_from(campaign, address)
            for address in (
                "2001:db8:1:2::1",
                "2001:db8:1:2:aaaa::2",
                "2001:db8:1:2:ffff:ffff:ffff:ffff",  # the same /64: over its allowance
                "2001:db8:1:3::1",  # the next /64: another visitor
            )
        ]

    assert [visit.status_code for visit in visits] == [302, 302, 302, 302]
    assert ["fab_click=" in visit["Location"] for visit in visits] == [True, True, False, True]
    assert Click.objects.count() == 3


@override_settings(TRUSTED_PROXIES=["10.0.0.0/16"], STORE_FULL_IP=True)
def test_behind_the_load_balancer_each_visitor_is_counted_as_themselves(campaign):
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "tracking_link": 1}):
        visits = [
            _visit_from(campaign, "10.0.1.5", HTTP_X_FORWARDED_FOR=forwarded)
            for forwarded in ("198.51.100.7", "192.0.2.1, 203.0.113.8", "198.51.100.7")
        ]

    assert ["fab_click=" in visit["Location"] for visit in visits] == [True, True, False]
    assert sorted(Click.objects.values_list("ip_address", flat=True)) == [
        "198.51.100.7",
        "203.0.113.8",
    ]
