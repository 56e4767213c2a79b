from __future__ import annotations

import html
import re
import uuid

import pytest
from csp.utils import build_policy
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from accounts.tests.factories import OrganizationFactory
from trace.models import Click
from trace.services import domains
from trace.tests.factories import CampaignFactory, LandingDomainFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_redis")]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
# A <script> without src=, or a style="" attribute or <style> block: blocked by our CSP.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle=|<style", re.IGNORECASE)


def _visit(campaign, query="", method="get", **headers):
    client = Client(REMOTE_ADDR="198.51.100.77")
    return getattr(client, method)(f"/t/{campaign.pk}{query}", **headers)


def _link_of(response) -> str:
    """The href of the interstitial's continue link."""
    match = re.search(r'<a class="button" href="([^"]*)"', response.content.decode())
    assert match is not None
    return html.unescape(match.group(1))


@pytest.fixture
def verified(campaign):
    """The campaign's organization has verified example.com (its landing is on app.)."""
    return LandingDomainFactory(organization=campaign.organization, domain="example.com")


# --- a verified landing domain: 302 --------------------------------------------------------


def test_visit_is_recorded_and_redirected_to_landing_url(campaign, verified):
    response = _visit(
        campaign,
        "?utm_source=newsletter&utm_medium=email&next=https://evil.example/",
        HTTP_USER_AGENT=BROWSER,
        HTTP_REFERER="https://mail.example/inbox",
    )
    assert response.status_code == 302
    click = Click.objects.get()
    assert response["Location"] == (
        "https://app.example.com/start?ref=x&utm_source=newsletter&utm_medium=email"
        f"&fab_click={click.click_id}"
    )
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"] == "noindex"
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
def test_no_open_redirect(campaign, verified, query):
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
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "user_agent:slackbot"),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "user_agent:facebookexternalhit",
        ),
        (
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "user_agent:discordbot",
        ),
        ("curl/8.5.0", "user_agent:curl"),
        ("", "empty_user_agent"),
    ],
)
def test_preview_bots_are_recorded_as_bots(campaign, verified, user_agent, reason):
    response = _visit(campaign, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 302
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason) == (True, reason)
    assert response["Location"].startswith("https://app.example.com/start?ref=x")


def test_head_is_bot_traffic(campaign, verified):
    response = _visit(campaign, method="head", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason) == (True, "head_request")


def test_unknown_campaign_and_other_methods(campaign):
    assert Client().get(f"/t/{uuid.uuid4()}").status_code == 404
    assert Client().get("/t/not-a-uuid").status_code == 404
    assert _visit(campaign, method="post").status_code == 405
    assert Click.objects.count() == 0


def test_over_the_per_ip_allowance_visitors_still_land_unrecorded(campaign, verified):
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "tracking_link": 1}):
        first = _visit(campaign, HTTP_USER_AGENT=BROWSER)
        second = _visit(campaign, "?utm_source=x", HTTP_USER_AGENT=BROWSER)
    assert "fab_click=" in first["Location"]
    assert second["Location"] == "https://app.example.com/start?ref=x&utm_source=x"
    assert Click.objects.count() == 1


# --- an unverified landing domain: the interstitial ----------------------------------------


def test_unverified_landing_domain_gets_an_interstitial_not_a_redirect(campaign):
    """The open-redirect regression: anyone can sign up and point a campaign anywhere."""
    response = _visit(campaign, "?utm_source=newsletter", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 200
    assert "Location" not in response
    click = Click.objects.get()  # recorded exactly as for a redirect
    assert (click.campaign_id, click.is_bot, click.utm_params) == (
        campaign.pk,
        False,
        {"utm_source": "newsletter"},
    )
    destination = (
        f"https://app.example.com/start?ref=x&utm_source=newsletter&fab_click={click.click_id}"
    )
    assert _link_of(response) == destination
    page = response.content.decode()
    assert '<span class="interstitial__host" data-testid="destination-host">app.example.com' in page
    assert html.escape(destination) in page  # the full URL, shown
    assert 'rel="noopener noreferrer nofollow"' in page
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Content-Security-Policy"] == build_policy()
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(page)
    assert not INLINE_STYLE.search(page)


def test_interstitial_over_the_allowance_links_without_a_click(campaign):
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "tracking_link": 1}):
        _visit(campaign, HTTP_USER_AGENT=BROWSER)
        second = _visit(campaign, "?utm_campaign=spring", HTTP_USER_AGENT=BROWSER)
    assert second.status_code == 200
    assert _link_of(second) == "https://app.example.com/start?ref=x&utm_campaign=spring"
    assert Click.objects.count() == 1


def test_head_on_an_unverified_domain_is_recorded_as_bot_traffic(campaign):
    response = _visit(campaign, method="head", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason) == (True, "head_request")


@pytest.mark.parametrize(
    ("verified_domain", "landing_url", "redirected"),
    [
        ("example.com", "https://example.com/", True),
        ("example.com", "https://deep.app.example.com/x", True),  # subdomains are covered
        ("EXAMPLE.com", "https://App.Example.COM./x", True),  # case and the root dot
        ("example.com", "http://app.example.com:8443/x", True),  # any scheme and port
        ("app.example.com", "https://example.com/", False),  # a parent is not covered
        ("app.example.com", "https://other.example.com/", False),
        ("example.com", "https://notexample.com/", False),
        ("example.com", "https://example.com.evil.test/", False),
        ("xn--bcher-kva.example", "https://bücher.example/", True),  # IDNA on both sides
        # Browsers read a backslash as the end of the host: this is evil.test to them.
        ("example.com", "https://evil.test\\@example.com/", False),
        ("example.com", "https://user@example.com/", False),
        ("example.com", "https://93.184.215.14/", False),
    ],
)
def test_which_landing_urls_a_verified_domain_covers(verified_domain, landing_url, redirected):
    campaign = CampaignFactory(landing_url=landing_url)
    LandingDomainFactory(organization=campaign.organization, domain=verified_domain.lower())
    response = _visit(campaign, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == (302 if redirected else 200)


def test_a_domain_pending_verification_or_another_organizations_does_not_count(campaign):
    LandingDomainFactory(organization=campaign.organization, verified_at=None)
    LandingDomainFactory(organization=OrganizationFactory(), domain="example.com")
    assert _visit(campaign, HTTP_USER_AGENT=BROWSER).status_code == 200


def test_the_host_of_an_unclear_url_is_shown_whole():
    campaign = CampaignFactory(landing_url="https://evil.test\\@example.com/")
    LandingDomainFactory(organization=campaign.organization, domain="example.com")
    response = _visit(campaign, HTTP_USER_AGENT=BROWSER)
    assert 'data-testid="destination-host">evil.test\\@example.com' in response.content.decode()


def test_a_new_verification_reaches_every_process_within_the_cache_window(campaign, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(domains.time, "monotonic", lambda: clock[0])
    assert _visit(campaign, HTTP_USER_AGENT=BROWSER).status_code == 200
    # Verified by another process: this one does not hear of it until its answer expires.
    LandingDomainFactory(organization=campaign.organization, domain="example.com")
    clock[0] += 5
    assert _visit(campaign, HTTP_USER_AGENT=BROWSER).status_code == 200
    clock[0] += domains.VERIFIED_CACHE_SECONDS
    assert _visit(campaign, HTTP_USER_AGENT=BROWSER).status_code == 302


# --- the utm merge -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("landing_url", "query", "expected"),
    [
        # The landing URL's own value wins; the others are added in the visit's order.
        (
            "https://app.example.com/?utm_source=site&ref=1",
            "?utm_medium=email&utm_source=visit&other=1",
            "https://app.example.com/?utm_source=site&ref=1&utm_medium=email&fab_click=ID",
        ),
        # Set even when blank on the landing URL: kept blank.
        (
            "https://app.example.com/p?utm_term=",
            "?utm_term=x",
            "https://app.example.com/p?utm_term=&fab_click=ID",
        ),
        # Values are encoded; the fragment stays last.
        (
            "https://app.example.com/p#top",
            "?utm_content=a%20b%26c%3Dd",
            "https://app.example.com/p?utm_content=a%20b%26c%3Dd&fab_click=ID#top",
        ),
        # Only utm_*: never a parameter that steers the landing page, nor fab_click.
        (
            "https://app.example.com/p",
            "?next=//evil.test&fab_click=forged&UTM_source=x",
            "https://app.example.com/p?fab_click=ID",
        ),
    ],
)
def test_utm_parameters_join_the_landing_url(monkeypatch, landing_url, query, expected):
    campaign = CampaignFactory(landing_url=landing_url)
    LandingDomainFactory(organization=campaign.organization, domain="example.com")
    response = _visit(campaign, query, HTTP_USER_AGENT=BROWSER)
    click = Click.objects.get()
    assert response["Location"] == expected.replace("ID", click.click_id)


def _visit_from(campaign, address: str, **headers):
    return Client(REMOTE_ADDR=address).get(f"/t/{campaign.pk}", HTTP_USER_AGENT=BROWSER, **headers)


def test_an_ipv6_visitor_is_one_visitor_whichever_address_of_its_64_it_uses(campaign, verified):
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
def test_behind_the_load_balancer_each_visitor_is_counted_as_themselves(campaign, verified):
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
