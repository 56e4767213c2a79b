from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from trace.models import Click, ContractInteraction, Conversion, InteractionSource
from trace.services.attribution import attribution_apply_interactions
from trace.services.clicks.flush import clicks_flush
from trace.tests.callers import key_caller
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    LandingDomainFactory,
    ProjectFactory,
)

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
OTHER_WALLET = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def test_roi_exact_body(member):
    campaign = CampaignFactory(
        project=ProjectFactory(organization=member.organization), budget_usd=Decimal("400.00")
    )
    clicks = ClickFactory.create_batch(8, campaign=campaign)
    ConversionFactory(click=clicks[0], value_usd=Decimal("500.00"))
    ConversionFactory(click=clicks[1], value_usd=Decimal("100.00"))
    response = member.get(f"/api/v1/roi/{campaign.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "campaign_id": str(campaign.pk),
        "budget_usd": "400.00",
        "clicks": 8,
        "conversions": 2,
        "converted_wallets": 2,
        "conversion_value_usd": "600.00",
        "roi": 0.5,
        "cac_usd": "200.00",
        "conversion_rate": 0.25,
        "proven_conversion_share": 0.0,
    }


def test_roi_nulls_and_scoping(member):
    campaign = CampaignFactory(
        project=ProjectFactory(organization=member.organization), budget_usd=Decimal("0.00")
    )
    body = member.get(f"/api/v1/roi/{campaign.pk}").json()
    assert (body["roi"], body["cac_usd"], body["conversion_rate"]) == (None, None, None)
    assert body["proven_conversion_share"] is None
    assert body["budget_usd"] == "0.00"
    assert member.get(f"/api/v1/roi/{CampaignFactory().pk}").status_code == 404
    assert Client().get(f"/api/v1/roi/{campaign.pk}").status_code == 401
    read_key = key_caller(member.organization, "read")
    assert read_key.get(f"/api/v1/roi/{campaign.pk}").status_code == 200


@pytest.mark.django_db
def test_full_flow_click_identify_chain_conversion_roi(member):
    """Tracking link -> fab.js identify -> on-chain use of the target contract -> ROI."""
    project = ProjectFactory(organization=member.organization, chain="eip155:8453")
    contract = project.contract_addresses[0]
    created = member.post(
        "/api/v1/campaigns",
        {
            "organization": str(member.organization.pk),
            "project": str(project.pk),
            "name": "Base launch",
            "landing_url": "https://dapp.example/",
            "target_contract": contract.lower(),
            "budget_usd": "200.00",
        },
    )
    assert created.status_code == 201
    campaign_id = created.json()["id"]
    ingest = key_caller(member.organization, "ingest")

    # The organization has verified its landing domain (test_api_domains shows how), so
    # the link redirects.
    LandingDomainFactory(organization=member.organization, domain="dapp.example")
    # Two people follow the link; a preview bot fetches it too.
    browser = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
    visits = [browser.get(f"/t/{campaign_id}") for _ in range(2)]
    Client(HTTP_USER_AGENT="Twitterbot/1.0").get(f"/t/{campaign_id}")
    clicks_flush()  # no-op without Redis; drains the stream with it
    click_ids = [visit["Location"].rsplit("fab_click=", 1)[1] for visit in visits]
    assert Click.objects.filter(is_bot=False).count() == 2

    # fab.js: the first visitor connects a wallet.
    identified = ingest.post(
        "/api/v1/identify", {"click_id": click_ids[0], "wallet_address": WALLET.lower()}
    )
    assert identified.status_code == 200

    # The chain ingest stores the wallet's transaction on the target contract (and one of
    # an unidentified wallet) and asks for attribution.
    later = timezone.now() + dt.timedelta(minutes=5)
    interactions = [
        ContractInteraction.objects.create(
            project=project,
            chain=project.chain,
            transaction_hash="0x" + f"{n:x}" * 64,
            log_index=0,
            transfer_position="log:0",
            block_number=100 + n,
            wallet_address=wallet,
            contract_address=contract.lower(),
            event_type="swap",
            value_usd=Decimal("250.00"),
            occurred_at=later,
            source=InteractionSource.ALCHEMY,
        )
        for n, wallet in ((1, WALLET), (2, OTHER_WALLET))
    ]
    assert attribution_apply_interactions(interaction_ids=[i.pk for i in interactions]) == 1
    assert attribution_apply_interactions(interaction_ids=[i.pk for i in interactions]) == 0
    conversion = Conversion.objects.get()
    assert (str(conversion.campaign_id), conversion.click.click_id, conversion.source) == (
        campaign_id,
        click_ids[0],
        "chain",
    )

    roi = member.get(f"/api/v1/roi/{campaign_id}").json()
    assert roi == {
        "campaign_id": campaign_id,
        "budget_usd": "200.00",
        "clicks": 2,
        "conversions": 1,
        "converted_wallets": 1,
        "conversion_value_usd": "250.00",
        "roi": 0.25,
        "cac_usd": "200.00",
        "conversion_rate": 0.5,
        "proven_conversion_share": 0.0,  # fab.js claimed the link; nobody signed
    }
    detail = member.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert detail["stats"] == {
        "clicks": 2,
        "unique_clicks": 1,
        "conversions": 1,
        "converted_wallets": 1,
        "conversion_value_usd": "250.00",
        "proven_conversion_share": 0.0,
    }


@pytest.mark.postgres  # exact decimals: SQLite keeps 15 digits
def test_many_conversions_at_the_maximum_sum_exactly(member, client):
    """Two conversions of 999999999999999999.99 used to make ROI and campaign detail
    answer 500 (their sum overflowed a 20-digit output). Now the API refuses such a
    value, but rows can hold it (chain-derived values, rows stored before the cap):
    every output that sums them is wide enough."""
    campaign = CampaignFactory(
        project=ProjectFactory(organization=member.organization), budget_usd=Decimal("1000.00")
    )
    click = ClickFactory(campaign=campaign, click_id="max")
    column_max = Decimal("999999999999999999.99")
    ConversionFactory.create_batch(40, click=click, value_usd=column_max)
    writer = key_caller(member.organization, "write")
    for n in range(3):
        response = writer.post(
            "/api/v1/conversions",
            {
                "click_id": "max",
                "wallet_address": WALLET,
                "transaction_hash": "0x" + "f" * 63 + str(n),
                "value_usd": "1000000000000.00",  # CONVERSION_VALUE_MAX_USD
            },
        )
        assert response.status_code == 201, response.content
    total = "40000002999999999999.60"  # 40 x column max + 3 x 10**12, to the cent
    assert Decimal(total) == column_max * 40 + Decimal(10**12) * 3

    roi = member.get(f"/api/v1/roi/{campaign.pk}")
    assert roi.status_code == 200
    assert (roi.json()["conversion_value_usd"], roi.json()["conversions"]) == (total, 43)
    assert roi.json()["roi"] == float((Decimal(total) - 1000) / 1000)
    detail = member.get(f"/api/v1/campaigns/{campaign.pk}")
    assert detail.status_code == 200
    assert detail.json()["stats"]["conversion_value_usd"] == total

    client.force_login(member.user)
    for page, shown in (
        ("/trace/", "$40,000,003,000,000,000,000"),  # the dashboard rounds to dollars
        (f"/trace/campaigns/{campaign.pk}/", "$40,000,002,999,999,999,999.60"),
    ):
        response = client.get(page)
        assert response.status_code == 200
        assert shown in response.text
