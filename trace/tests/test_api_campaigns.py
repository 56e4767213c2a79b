from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from trace.models import Campaign
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import CampaignFactory, ClickFactory, ConversionFactory, ProjectFactory

URL = "/api/v1/campaigns"


def _body(org, **fields):
    return {
        "organization": str(org.pk),
        "name": "Launch week",
        "landing_url": "https://app.example.com/swap?ref=launch",
        "budget_usd": "1250.00",
        **fields,
    }


def test_member_creates_campaign(member, project):
    target = project.contract_addresses[0]
    response = member.post(
        URL,
        _body(
            member.organization,
            project=str(project.pk),
            target_contract=target.lower(),
            goal="1k swaps",
        ),
    )
    assert response.status_code == 201, response.content
    campaign = Campaign.objects.get()
    body = response.json()
    assert body == {
        "id": str(campaign.pk),
        "organization": str(member.organization.pk),
        "project": str(project.pk),
        "name": "Launch week",
        "landing_url": "https://app.example.com/swap?ref=launch",
        "target_contract": target,
        "budget_usd": "1250.00",
        "goal": "1k swaps",
        "attribution_model": "last_click",
        "attribution_window_days": 30,
        "status": "active",
        "tracking_url": f"http://testserver/t/{campaign.pk}",
        "created_at": body["created_at"],
    }
    assert campaign.created_by == member.user


def test_campaign_options(member):
    response = member.post(
        URL,
        _body(
            member.organization,
            budget_usd="0",
            attribution_model="linear",
            attribution_window_days=7,
        ),
    )
    assert response.status_code == 201, response.content
    assert (response.json()["budget_usd"], response.json()["attribution_model"]) == (
        "0.00",
        "linear",
    )
    assert response.json()["project"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"landing_url": "javascript:alert(1)"}, "landing_url"),
        ({"landing_url": "ftp://files.example.com/"}, "landing_url"),
        ({"landing_url": "//evil.example.com"}, "landing_url"),
        ({"landing_url": "https://evil.example\\@app.example.com/"}, "landing_url"),
        ({"landing_url": "https://user:pw@app.example.com/"}, "landing_url"),
        ({"budget_usd": "-1.00"}, "budget_usd"),
        ({"budget_usd": "1.005"}, "budget_usd"),
        ({"budget_usd": "NaN"}, "budget_usd"),
        ({"budget_usd": "abc"}, "budget_usd"),
        ({"attribution_model": "time_decay"}, "attribution_model"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"target_contract": "0x123"}, "target_contract"),
        ({"project": "not-a-uuid"}, "project"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(member, fields, field):
    response = member.post(URL, _body(member.organization, **fields))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Campaign.objects.count() == 0


def test_target_contract_must_fit_the_project_chain(member):
    solana = ProjectFactory(
        organization=member.organization,
        chain="solana:mainnet",
        contract_addresses=["4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"],
    )
    body = _body(
        member.organization,
        project=str(solana.pk),
        target_contract="0x52908400098527886E0F7030069857D2E4169EE7",
    )
    response = member.post(URL, body)
    assert response.status_code == 400
    assert "target_contract" in response.json()
    assert Campaign.objects.count() == 0


def test_project_of_another_organization_is_refused(member):
    response = member.post(URL, _body(member.organization, project=str(ProjectFactory().pk)))
    assert response.status_code == 400
    assert response.json() == {"project": ["No such project."], "code": "invalid"}
    assert Campaign.objects.count() == 0


def test_other_organization_404_viewer_403(member):
    assert member.post(URL, _body(OrganizationFactory())).status_code == 404
    viewer = member_caller(member.organization, role=Role.VIEWER)
    assert viewer.post(URL, _body(member.organization)).status_code == 403
    assert Campaign.objects.count() == 0


def test_list_scoped_with_constant_queries(member, settings):
    settings.READ_CACHE_ENABLED = False  # the database's read (test_api_list_cache: the cache)
    mine = CampaignFactory.create_batch(
        2, organization=member.organization, project=None, target_contract=""
    )
    CampaignFactory()
    member.get(URL)  # warms the per-process caches
    with CaptureQueriesContext(connection) as few:
        body = member.get(URL).json()
    assert {row["id"] for row in body["results"]} == {str(c.pk) for c in mine}
    CampaignFactory.create_batch(
        4, organization=member.organization, project=None, target_contract=""
    )
    with CaptureQueriesContext(connection) as many:
        body = member.get(URL).json()
    assert body["count"] == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_detail_has_stats_and_other_org_is_404(member):
    campaign = CampaignFactory(organization=member.organization, project=None, target_contract="")
    clicks = [ClickFactory(campaign=campaign, visitor_hash=f"h{n % 2}") for n in range(3)]
    ClickFactory(campaign=campaign, is_bot=True)
    ConversionFactory(click=clicks[0], value_usd=Decimal("12.50"))
    body = member.get(f"{URL}/{campaign.pk}").json()
    assert body["stats"] == {
        "clicks": 3,
        "unique_clicks": 2,
        "conversions": 1,
        "converted_wallets": 1,
        "conversion_value_usd": "12.50",
        "proven_conversion_share": 0.0,
    }
    assert body["tracking_url"] == f"http://testserver/t/{campaign.pk}"
    assert member.get(f"{URL}/{CampaignFactory().pk}").status_code == 404
    read_key = key_caller(member.organization, "read")
    assert read_key.get(f"{URL}/{campaign.pk}").status_code == 200
    ingest_only = key_caller(member.organization, "ingest")
    assert ingest_only.get(f"{URL}/{campaign.pk}").status_code == 403  # lacks `read`
