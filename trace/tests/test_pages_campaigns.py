"""Campaign pages (trace.pages.campaigns): every form valid, invalid (message, nothing
stored), from a viewer (403, nothing stored) and on another organization's campaign (404);
the campaign page's link, QR code, figures and snippet."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditAction, AuditEvent, Role
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.tests.factories import MembershipFactory, UserFactory
from trace.models import Campaign, CampaignStatus
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

NEW = "/trace/campaigns/new"


def _signed_in(client, role=Role.MEMBER, organization=None):
    extra = {"organization": organization} if organization is not None else {}
    membership = MembershipFactory(role=role, **extra)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def member(client):
    return _signed_in(client)


@pytest.fixture
def campaign(member):
    project = ProjectFactory(organization=member.organization, name="Basedrop")
    return CampaignFactory(
        project=project, name="Frame launch", landing_url="https://app.example.com/"
    )


def _fields(**changes):
    return {
        "name": "Spring launch",
        "landing_url": "https://app.example.com/swap?ref=spring",
        "project": "",
        "target_contract": "",
        "budget_usd": "1500.00",
        "goal": "1k swaps",
        "attribution_model": "linear",
        "attribution_window_days": "14",
        **changes,
    }


def _stored(campaign):
    campaign.refresh_from_db()
    return (campaign.name, campaign.landing_url, campaign.budget_usd, campaign.status)


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- create -----------------------------------------------------------------------------


def test_create_form_offers_the_organizations_projects_only(client, member):
    mine = ProjectFactory(organization=member.organization, name="Mine")
    ProjectFactory(name="Theirs")
    response = client.get(NEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{mine.pk}"' in page
    assert "Theirs" not in page
    assert 'name="attribution_model"' in page and 'name="attribution_window_days"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_member_creates_a_campaign(client, member):
    project = ProjectFactory(organization=member.organization)
    response = client.post(
        NEW, _fields(project=str(project.pk), target_contract=project.contract_addresses[0])
    )
    campaign = Campaign.objects.get()
    assert (response.status_code, response["Location"]) == (
        303,
        f"/trace/campaigns/{campaign.pk}/",
    )
    assert (campaign.organization, campaign.project, campaign.created_by) == (
        member.organization,
        project,
        member.user,
    )
    assert (campaign.attribution_model, campaign.attribution_window_days, campaign.status) == (
        "linear",
        14,
        "active",
    )
    assert AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_CREATED).count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"landing_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"landing_url": "https://user:pw@app.example.com/"}, "may not hold user info"),
        ({"budget_usd": "-1"}, "greater than or equal to 0"),
        ({"attribution_window_days": "0"}, "greater than or equal to 1"),
        ({"attribution_model": "time_decay"}, "Select a valid choice"),
        ({"name": ""}, "This field is required."),
        ({"target_contract": "0x123"}, "target_contract"),
    ],
)
def test_invalid_create_is_400_with_the_message_and_stores_nothing(
    client, member, changes, message
):
    response = client.post(NEW, _fields(**changes))
    assert response.status_code == 400
    page = response.content.decode()
    if message == "target_contract":
        assert 'id="id_target_contract_errors"' in page
        assert re.search(r'id="id_target_contract_errors"[^<]*<ul class="field__errors">', page)
    else:
        assert message in page
    assert Campaign.objects.count() == 0


def test_inline_validation_stores_nothing(client, member):
    response = client.post(
        NEW, {**_fields(budget_usd="-5"), "validate": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    valid = client.post(NEW, {**_fields(), "validate": "1"}, HTTP_HX_REQUEST="true")
    assert valid.status_code == 200
    assert Campaign.objects.count() == 0


def test_a_project_of_another_organization_is_refused(client, member):
    response = client.post(NEW, _fields(project=str(ProjectFactory().pk)))
    assert response.status_code == 400
    assert Campaign.objects.count() == 0


def test_viewer_create_is_403_and_stores_nothing(client):
    _signed_in(client, Role.VIEWER)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _fields()).status_code == 403
    assert Campaign.objects.count() == 0


def test_a_user_without_organization_is_sent_to_create_one(client):
    client.force_login(UserFactory())
    response = client.get(NEW)
    assert (response.status_code, response["Location"]) == (302, "/organizations/new")


# --- edit -------------------------------------------------------------------------------


def _edit(campaign):
    return f"/trace/campaigns/{campaign.pk}/edit"


def test_member_edits_a_campaign(client, campaign):
    form = client.get(_edit(campaign)).content.decode()
    assert 'value="Frame launch"' in form
    response = client.post(_edit(campaign), _fields(project=str(campaign.project_id)))
    assert (response.status_code, response["Location"]) == (
        303,
        f"/trace/campaigns/{campaign.pk}/",
    )
    assert _stored(campaign) == (
        "Spring launch",
        "https://app.example.com/swap?ref=spring",
        Decimal("1500.00"),
        "active",
    )
    assert AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).count() == 1


def test_invalid_edit_is_400_and_stores_nothing(client, campaign):
    before = _stored(campaign)
    response = client.post(_edit(campaign), _fields(landing_url="ftp://files.example.com/"))
    assert response.status_code == 400
    assert "Enter a valid URL." in response.content.decode()
    assert _stored(campaign) == before


def test_viewer_edit_is_403_other_organization_404(client, campaign):
    before = _stored(campaign)
    _signed_in(client, Role.VIEWER, organization=campaign.organization)
    assert client.get(_edit(campaign)).status_code == 403
    assert client.post(_edit(campaign), _fields()).status_code == 403
    assert _stored(campaign) == before
    _signed_in(client)  # a member of another organization
    assert client.post(_edit(campaign), _fields()).status_code == 404
    assert _stored(campaign) == before
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).exists()


# --- pause, resume, archive -------------------------------------------------------------


def _status(campaign):
    return f"/trace/campaigns/{campaign.pk}/status"


def test_pause_and_resume(client, campaign):
    response = client.post(_status(campaign), {"campaign_status": "paused"})
    assert response.status_code == 303
    assert _stored(campaign)[3] == "paused"
    assert "its clicks are kept" in _messages(response)[0]
    page = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-status">Paused<' in page
    assert 'value="active"' in page  # the resume button
    client.post(_status(campaign), {"campaign_status": "active"})
    assert _stored(campaign)[3] == "active"


def test_invalid_status_is_refused_with_a_message(client, campaign):
    for value in ("archived", "deleted", ""):
        response = client.post(_status(campaign), {"campaign_status": value})
        assert response.status_code == 303
        assert _messages(response)[-1] == "Choose pause or resume."
    assert _stored(campaign)[3] == "active"
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_UPDATED).exists()


def test_status_viewer_403_other_organization_404_get_405(client, campaign):
    assert client.get(_status(campaign)).status_code == 405
    _signed_in(client, Role.VIEWER, organization=campaign.organization)
    assert client.post(_status(campaign), {"campaign_status": "paused"}).status_code == 403
    _signed_in(client)
    assert client.post(_status(campaign), {"campaign_status": "paused"}).status_code == 404
    assert _stored(campaign)[3] == "active"


def _archive(campaign):
    return f"/trace/campaigns/{campaign.pk}/archive"


def test_archive_after_the_confirm_step(client, campaign):
    confirm = client.get(_archive(campaign))
    assert confirm.status_code == 200
    assert "Archive this campaign?" in confirm.content.decode()
    assert _stored(campaign)[3] == "active"  # looking is not archiving
    response = client.post(_archive(campaign))
    assert (response.status_code, response["Location"]) == (303, "/trace/campaigns/")
    assert _stored(campaign)[3] == "archived"
    assert Campaign.objects.count() == 1
    listed = client.get("/trace/campaigns/")
    assert _messages(listed)[0].startswith("Frame launch is archived: hidden from lists")
    assert ">Frame launch</a>" not in listed.content.decode()
    archived = client.get("/trace/campaigns/?status=archived").content.decode()
    assert ">Frame launch</a>" in archived
    assert ">Frame launch</a>" not in client.get("/trace/").content.decode()


def test_archive_viewer_403_other_organization_404(client, campaign):
    _signed_in(client, Role.VIEWER, organization=campaign.organization)
    assert client.get(_archive(campaign)).status_code == 403
    assert client.post(_archive(campaign)).status_code == 403
    _signed_in(client)
    assert client.post(_archive(campaign)).status_code == 404
    assert _stored(campaign)[3] == "active"


# --- the campaign page ------------------------------------------------------------------


def test_campaign_page_link_qr_labels_and_figures(client, campaign):
    clicks = [
        ClickFactory(
            campaign=campaign,
            visitor_hash=f"v{n % 2}",
            referrer="https://twitter.com/x",
            utm_params={"utm_source": "twitter"},
        )
        for n in range(4)
    ]
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="method:HEAD")
    ConversionFactory(click=clicks[0])
    page = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert f'value="http://testserver/t/{campaign.pk}"' in page
    assert f'src="/trace/campaigns/{campaign.pk}/qr.svg"' in page
    assert "Conversions per click" in page
    assert "Converted wallets per daily unique human visitor" in page
    # 1 conversion / 4 clicks; 1 wallet / 2 daily unique visitors.
    assert re.search(r'data-testid="kpi-conversions-per-click">0\.250<', page)
    assert re.search(r'data-testid="kpi-wallets-per-visitor">0\.500<', page)
    assert "sum of daily unique visitors: 2" in page
    assert "twitter.com" in page and 'data-testid="utm-utm_source"' in page
    assert "method:HEAD" in page
    assert 'data-testid="wallets-table"' in page
    # A viewer sees no write controls.
    assert 'data-testid="campaign-actions"' in page
    _signed_in(client, Role.VIEWER, organization=campaign.organization)
    viewer_page = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-actions"' not in viewer_page


def test_converted_wallets_are_paginated(client, campaign):
    for _ in range(27):
        ConversionFactory(click=ClickFactory(campaign=campaign))
    first = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert "27 wallets" in first
    # Each wallet linked to the project's chain's explorer (Base: basescan).
    assert first.count('href="https://basescan.org/address/0x') == 25
    older = re.search(r'href="\?([^"]*wallets_after=[^"#]*)', first)
    assert older is not None and "Latest</a>" not in first
    second = client.get(
        f"/trace/campaigns/{campaign.pk}/?{html.unescape(older.group(1))}"
    ).content.decode()
    assert second.count('href="https://basescan.org/address/0x') == 2
    assert "Latest</a>" in second and "wallets_after" not in second.split("Latest</a>")[1]
    shown = set(re.findall(r"basescan.org/address/(0x[0-9a-fA-F]+)", first + second))
    assert len(shown) == 27
    # A cursor that is not one reads as none: the first page.
    again = client.get(f"/trace/campaigns/{campaign.pk}/?wallets_after=nonsense").content.decode()
    assert again.count('href="https://basescan.org/address/0x') == 25


def test_snippet_uses_a_publishable_ingest_key(client, campaign):
    page = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert "data-key=&quot;YOUR_INGEST_KEY&quot;" in page
    assert 'data-testid="snippet-no-key"' in page
    older = api_key_issue(organization=campaign.organization, name="site", scopes=["ingest"])
    newer = api_key_issue(organization=campaign.organization, name="docs", scopes=["ingest"])
    api_key_issue(organization=campaign.organization, name="server", scopes=["write"])
    page = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert f"data-key=&quot;{newer.key}&quot;" in page
    assert "YOUR_INGEST_KEY" not in page
    picker = re.search(r'<select name="key".*?</select>', page, re.S)
    assert picker is not None
    assert picker.group(0).count("<option") == 2  # the secret key is never offered
    with CaptureQueriesContext(connection) as newest:
        client.get(f"/trace/campaigns/{campaign.pk}/")
    with CaptureQueriesContext(connection) as chosen:
        picked = client.get(f"/trace/campaigns/{campaign.pk}/?key={older.key}").content.decode()
    assert f"data-key=&quot;{older.key}&quot;" in picked
    assert f'<option value="{older.key}" selected>site ({older.key[:16]}…)</option>' in picked
    assert len(chosen) == len(newest)  # the keys are read once, to offer and to check
    # Another organization's key, or anything else, is not taken from the URL.
    foreign = api_key_issue(organization=ProjectFactory().organization, name="x", scopes=["ingest"])
    refused = client.get(f"/trace/campaigns/{campaign.pk}/?key={foreign.key}").content.decode()
    assert foreign.key not in refused
    assert f"data-key=&quot;{newer.key}&quot;" in refused
    # The keys are cached with the page: a key revoked (a queryset update) leaves it at once.
    api_key_revoke(api_key=newer.api_key)
    revoked = client.get(f"/trace/campaigns/{campaign.pk}/").content.decode()
    assert newer.key not in revoked
    assert f"data-key=&quot;{older.key}&quot;" in revoked


def test_qr_code_is_an_svg_of_the_tracking_link(client, campaign):
    response = client.get(f"/trace/campaigns/{campaign.pk}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert body.startswith("<svg") and "<path" in body and "Frame launch" in body
    download = client.get(f"/trace/campaigns/{campaign.pk}/qr.svg?download=1")
    assert "attachment" in download["Content-Disposition"]
    _signed_in(client)
    assert client.get(f"/trace/campaigns/{campaign.pk}/qr.svg").status_code == 404


def test_campaign_list_empty_state_and_new_button(client, member):
    page = client.get("/trace/campaigns/").content.decode()
    assert "No campaigns yet" in page and 'href="/trace/campaigns/new"' in page
    CampaignFactory(project=ProjectFactory(organization=member.organization), name="Live one")
    CampaignFactory(
        project=ProjectFactory(organization=member.organization),
        name="Resting",
        status=CampaignStatus.PAUSED,
    )
    page = client.get("/trace/campaigns/").content.decode()
    assert "Live one" in page and "Resting" in page
    paused = client.get("/trace/campaigns/?status=paused").content.decode()
    assert "Resting" in paused and "Live one" not in paused
