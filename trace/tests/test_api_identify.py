from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import WalletLink
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import click_parse
from trace.tests.callers import key_caller, member_caller
from trace.tests.factories import ClickFactory, ProjectFactory

URL = "/api/v1/identify"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def test_identify_links_wallet_idempotently(ingest, campaign):
    click = ClickFactory(campaign=campaign, click_id="clk-1")
    first = ingest.post(URL, {"click_id": "clk-1", "wallet_address": WALLET.lower()})
    again = ingest.post(URL, {"click_id": "clk-1", "wallet_address": WALLET})
    assert (first.status_code, again.status_code) == (200, 200)
    link = WalletLink.objects.get()
    assert (
        first.json()
        == again.json()
        == {
            "id": link.pk,
            "click_id": "clk-1",
            "campaign_id": str(campaign.pk),
            "wallet_address": WALLET,
            "proof": "claimed",  # fab.js named the wallet; it did not sign
            "identified_at": first.json()["identified_at"],
            "proven_at": None,
        }
    )
    assert (link.click_id, link.campaign_id) == (click.pk, campaign.pk)
    assert first["Access-Control-Allow-Origin"] == "*"


def test_member_identifies_solana_wallet(member):
    solana = ProjectFactory(
        organization=member.organization,
        chain="solana:mainnet",
        contract_addresses=["4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"],
    )
    ClickFactory(campaign__project=solana, click_id="sol-1")
    address = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
    response = member.post(URL, {"click_id": "sol-1", "wallet_address": address})
    assert (response.status_code, response.json()["wallet_address"]) == (200, address)
    refused = member.post(URL, {"click_id": "sol-1", "wallet_address": WALLET})
    assert refused.status_code == 400
    assert list(refused.json()) == ["wallet_address", "code"]
    assert WalletLink.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"click_id": "clk-1", "wallet_address": "0x1234"},
        {"click_id": "clk-1", "wallet_address": "0x52908400098527886e0f7030069857D2E4169EE7"},
        {"click_id": "clk 1", "wallet_address": WALLET},
        {"wallet_address": WALLET},
        {"click_id": "clk-1"},
    ],
)
def test_bad_input_is_400_and_stores_nothing(ingest, campaign, body):
    ClickFactory(campaign=campaign, click_id="clk-1")
    response = ingest.post(URL, body)
    assert response.status_code == 400
    assert WalletLink.objects.count() == 0


def test_unknown_or_other_organizations_click_is_404(ingest):
    ClickFactory(click_id="theirs")
    for click_id in ("theirs", "never-seen"):
        response = ingest.post(URL, {"click_id": click_id, "wallet_address": WALLET})
        assert response.status_code == 404
    assert WalletLink.objects.count() == 0


def test_credentials(campaign):
    ClickFactory(campaign=campaign, click_id="clk-1")
    body = {"click_id": "clk-1", "wallet_address": WALLET}
    assert Client().post(URL, body, content_type="application/json").status_code == 401
    read_key = key_caller(campaign.organization, "read")
    assert read_key.post(URL, body).status_code == 403
    assert WalletLink.objects.count() == 0


def test_cors_preflight_needs_no_credentials(db):
    response = Client().options(URL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-API-Key" in response["Access-Control-Allow-Headers"]


@pytest.mark.redis
def test_click_still_in_the_stream_is_flushed_then_identified(ingest, campaign, redis_client):
    click = click_parse(
        data={"campaign_id": str(campaign.pk), "click_id": "fresh"},
        organization_ids={str(campaign.organization_id)},
    )
    clicks_store(clicks=[click])
    response = ingest.post(URL, {"click_id": "fresh", "wallet_address": WALLET})
    assert response.status_code == 200
    assert WalletLink.objects.get().click.click_id == "fresh"


# --- click ids are unique per organization ----------------------------------------------


def test_a_click_id_in_two_organizations_resolves_within_the_callers(ingest, campaign):
    theirs = ClickFactory(click_id="dup")  # another organization's, created first
    mine = ClickFactory(campaign=campaign, click_id="dup")
    response = ingest.post(URL, {"click_id": "dup", "wallet_address": WALLET})
    assert response.status_code == 200, response.content
    assert response.json()["campaign_id"] == str(campaign.pk)
    assert list(WalletLink.objects.values_list("click_id", flat=True)) == [mine.pk]
    assert not WalletLink.objects.filter(click=theirs).exists()


def test_member_of_several_organizations_names_the_campaign(campaign):
    ClickFactory(campaign=campaign, click_id="clk-1")
    caller = member_caller(campaign.organization)
    MembershipFactory(user=caller.user, role=Role.MEMBER)  # and of another organization
    body = {"click_id": "clk-1", "wallet_address": WALLET}
    refused = caller.post(URL, body)
    assert refused.status_code == 400
    assert (list(refused.json()), refused.json()["code"]) == (
        ["campaign_id", "code"],
        "campaign_required",
    )
    assert WalletLink.objects.count() == 0

    response = caller.post(URL, {**body, "campaign_id": str(campaign.pk)})
    assert response.status_code == 200, response.content
    assert WalletLink.objects.get().campaign_id == campaign.pk
