from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import Conversion, ConversionCredit
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import CampaignFactory, ClickFactory, ConversionFactory

URL = "/api/v1/conversions"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
TX = "0x" + "AB" * 32


@pytest.fixture
def click(campaign):
    return ClickFactory(campaign=campaign, click_id="clk-9")


@pytest.fixture
def writer(organization) -> Caller:
    """A server-side caller with a secret `write` key: who reports conversions."""
    return key_caller(organization, "write")


def _body(**fields):
    return {
        "click_id": "clk-9",
        "wallet_address": WALLET.lower(),
        "transaction_hash": TX,
        "value_usd": "99.90",
        **fields,
    }


def test_conversion_created_then_repeat_returns_it(writer, campaign, click):
    first = writer.post(URL, _body(contract_address=campaign.target_contract.lower()))
    assert first.status_code == 201, first.content
    conversion = Conversion.objects.get()
    assert first.json() == {
        "id": str(conversion.pk),
        "campaign_id": str(campaign.pk),
        "click_id": "clk-9",
        "wallet_address": WALLET,
        "transaction_hash": TX.lower(),
        "event_type": "transaction",
        "value_usd": "99.90",
        "contract_address": campaign.target_contract,
        "source": "api",
        "occurred_at": first.json()["occurred_at"],
        "created_at": first.json()["created_at"],
        "credits": [
            {
                "campaign_id": str(campaign.pk),
                "click_id": "clk-9",
                "share": "1.000000",
                "value_usd": "99.90",
            }
        ],
    }
    again = writer.post(URL, _body(value_usd="5.00"))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert (Conversion.objects.count(), ConversionCredit.objects.count()) == (1, 1)


def test_other_event_type_of_same_transaction_is_another_conversion(member, click):
    assert member.post(URL, _body()).status_code == 201
    response = member.post(URL, _body(event_type="mint"))
    assert (response.status_code, response.json()["event_type"]) == (201, "mint")
    assert Conversion.objects.count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"wallet_address": "0xnope"},
        {"transaction_hash": "0x1234"},
        {"transaction_hash": "0x" + "g" * 64},
        {"value_usd": "-1.00"},
        {"value_usd": "1.234"},
        {"contract_address": "0x12"},
        {"event_type": "has space"},
        {"click_id": ""},
    ],
)
def test_bad_input_is_400_and_stores_nothing(writer, click, fields):
    response = writer.post(URL, _body(**fields))
    assert response.status_code == 400, response.content
    assert Conversion.objects.count() == 0
    assert ConversionCredit.objects.count() == 0


def test_unknown_or_other_organizations_click_is_404(writer, click):
    assert writer.post(URL, _body(click_id="unknown")).status_code == 404
    ClickFactory(click_id="theirs")
    assert writer.post(URL, _body(click_id="theirs")).status_code == 404
    assert Conversion.objects.count() == 0


# --- conversions are unique per organization --------------------------------------------


def test_another_organizations_transaction_neither_blocks_nor_leaks(member, click):
    """Org A recorded the transaction first; org B's conversion of it is B's own (201),
    not a 409 that would tell B the transaction is recorded elsewhere."""
    foreign = ConversionFactory(transaction_hash="0x" + "cd" * 32, value_usd=Decimal("7.00"))
    response = member.post(URL, _body(transaction_hash="0x" + "CD" * 32))
    assert response.status_code == 201, response.content
    mine = Conversion.objects.exclude(pk=foreign.pk).get()
    assert response.json()["id"] == str(mine.pk)
    assert (mine.campaign_id, mine.transaction_hash, mine.value_usd) == (
        click.campaign_id,
        "0x" + "cd" * 32,
        Decimal("99.90"),
    )
    assert mine.organization_id == click.campaign.organization_id != foreign.organization_id
    foreign.refresh_from_db()
    assert (foreign.value_usd, ConversionCredit.objects.count()) == (Decimal("7.00"), 1)


def _member_of_two_organizations(click) -> Caller:
    caller = member_caller(click.campaign.organization)
    MembershipFactory(user=caller.user, role=Role.MEMBER)  # and of another organization
    return caller


def test_member_of_several_organizations_names_the_campaign(click):
    caller = _member_of_two_organizations(click)
    refused = caller.post(URL, _body())
    assert refused.status_code == 400
    assert refused.json()["code"] == "campaign_required"
    assert list(refused.json()) == ["campaign_id", "code"]
    assert Conversion.objects.count() == ConversionCredit.objects.count() == 0

    response = caller.post(URL, _body(campaign_id=str(click.campaign_id)))
    assert response.status_code == 201, response.content
    assert response.json()["campaign_id"] == str(click.campaign_id)


def test_named_campaign_must_be_the_clicks_and_the_callers(member, click):
    elsewhere = CampaignFactory(project=click.campaign.project)  # same organization
    foreign = CampaignFactory()
    for campaign_id in (elsewhere.pk, foreign.pk):
        response = member.post(URL, _body(campaign_id=str(campaign_id)))
        assert response.status_code == 404
    assert Conversion.objects.count() == 0


def test_credentials(ingest, click):
    """The `ingest` key sits in public pages: it must not claim revenue. Conversions take
    a (secret) `write` key or a member with write access."""
    organization = click.campaign.organization
    assert Client().post(URL, _body(), content_type="application/json").status_code == 401
    for refused in (
        ingest,
        key_caller(organization, "read", "ingest"),
        member_caller(organization, Role.VIEWER),
    ):
        response = refused.post(URL, _body())
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert Conversion.objects.count() == ConversionCredit.objects.count() == 0
    for allowed, tx in (
        (key_caller(organization, "write"), TX),
        (member_caller(organization), "0x" + "ef" * 32),
    ):
        assert allowed.post(URL, _body(transaction_hash=tx)).status_code == 201
    assert Conversion.objects.count() == 2


def test_value_at_most_the_configured_maximum(writer, click, settings):
    assert settings.CONVERSION_VALUE_MAX_USD == Decimal("1000000000000")
    over = writer.post(URL, _body(value_usd="1000000000000.01"))
    assert over.status_code == 400
    assert over.json() == {
        "value_usd": ["At most 1000000000000 (the maximum)."],
        "code": "invalid",
    }
    # Beyond what the column holds, the serializer refuses it before the service does.
    assert writer.post(URL, _body(value_usd="999999999999999999.99")).status_code == 400
    assert Conversion.objects.count() == ConversionCredit.objects.count() == 0
    at_most = writer.post(URL, _body(value_usd="1000000000000.00"))
    assert (at_most.status_code, at_most.json()["value_usd"]) == (201, "1000000000000.00")

    settings.CONVERSION_VALUE_MAX_USD = Decimal("50.00")
    response = writer.post(URL, _body(value_usd="50.01", event_type="mint"))
    assert response.status_code == 400
    assert Conversion.objects.count() == 1


def test_value_defaults_to_zero(writer, click):
    body = _body()
    del body["value_usd"]
    response = writer.post(URL, body)
    assert response.status_code == 201
    assert Conversion.objects.get().value_usd == Decimal("0.00")
