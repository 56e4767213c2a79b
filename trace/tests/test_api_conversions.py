from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from trace.models import Conversion, ConversionCredit
from trace.tests.callers import key_caller
from trace.tests.factories import ClickFactory, ConversionFactory

URL = "/api/v1/conversions"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
TX = "0x" + "AB" * 32


@pytest.fixture
def click(campaign):
    return ClickFactory(campaign=campaign, click_id="clk-9")


def _body(**fields):
    return {
        "click_id": "clk-9",
        "wallet_address": WALLET.lower(),
        "transaction_hash": TX,
        "value_usd": "99.90",
        **fields,
    }


def test_conversion_created_then_repeat_returns_it(ingest, campaign, click):
    first = ingest.post(URL, _body(contract_address=campaign.target_contract.lower()))
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
    again = ingest.post(URL, _body(value_usd="5.00"))
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
def test_bad_input_is_400_and_stores_nothing(ingest, click, fields):
    response = ingest.post(URL, _body(**fields))
    assert response.status_code == 400, response.content
    assert Conversion.objects.count() == 0
    assert ConversionCredit.objects.count() == 0


def test_unknown_click_404_and_foreign_transaction_409(ingest, click):
    assert ingest.post(URL, _body(click_id="unknown")).status_code == 404
    ClickFactory(click_id="theirs")
    assert ingest.post(URL, _body(click_id="theirs")).status_code == 404
    foreign = ConversionFactory(transaction_hash="0x" + "cd" * 32)
    response = ingest.post(URL, _body(transaction_hash="0x" + "CD" * 32))
    assert response.status_code == 409
    assert list(Conversion.objects.all()) == [foreign]


def test_credentials(click):
    assert Client().post(URL, _body(), content_type="application/json").status_code == 401
    write_key = key_caller(click.campaign.organization, "write", "read")
    assert write_key.post(URL, _body()).status_code == 403
    assert Conversion.objects.count() == 0


def test_value_defaults_to_zero(ingest, click):
    body = _body()
    del body["value_usd"]
    response = ingest.post(URL, body)
    assert response.status_code == 201
    assert Conversion.objects.get().value_usd == Decimal("0.00")
