"""A chain webhook delivered 20 times at once (a provider retrying while the first attempt
is still in flight) stores each transfer once: real concurrent requests to a live server,
each on its own database connection, with the deliveries the provider tests sign."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fabrknt.tests.concurrency import DELIVERIES, post_at_once
from trace.models import NATIVE_ASSET, ContractInteraction
from trace.tests import test_webhooks_alchemy as alchemy
from trace.tests import test_webhooks_helius as helius
from trace.tests.factories import ProjectFactory, asset_price

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def stored() -> list[tuple]:
    return list(
        ContractInteraction.objects.order_by("transaction_hash", "transfer_position").values_list(
            "project_id", "transaction_hash", "transfer_position", "value_usd"
        )
    )


def test_an_alchemy_delivery_sent_20_times_at_once_is_stored_once(live_server, settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = alchemy.SIGNING_KEY
    asset_price("eip155:1", NATIVE_ASSET, dt.date(2024, 1, 20), "2500.00")
    project = ProjectFactory(
        chain="eip155:1", contract_addresses=[alchemy.DAPP], treasury_addresses=[alchemy.TREASURY]
    )
    body = json.dumps(alchemy.DELIVERY).encode()

    answers = post_at_once(
        live_server.url + alchemy.URL,
        body=body,
        headers={"X-Alchemy-Signature": alchemy.sign(body)},
    )

    # Each answer says how many transfers it stored: together, each once.
    assert [status for status, _ in answers] == [200] * DELIVERIES
    assert sum(receipt.get("stored", 0) for _, receipt in answers) == 2
    assert [(row[0], row[1]) for row in stored()] == [
        (project.id, alchemy.ETH_TX),
        (project.id, alchemy.USDC_TX),
    ]


def test_a_helius_delivery_sent_20_times_at_once_is_stored_once(live_server, settings):
    settings.HELIUS_WEBHOOK_AUTH = helius.AUTH
    asset_price("solana:mainnet", "native", dt.date(2025, 9, 1), "150.00")
    project = ProjectFactory(
        chain="solana:mainnet",
        contract_addresses=[helius.PROGRAM],
        treasury_addresses=[helius.TREASURY],
    )

    answers = post_at_once(
        live_server.url + helius.URL,
        body=json.dumps(helius.DELIVERY).encode(),
        headers={"Authorization": helius.AUTH},
    )

    assert [status for status, _ in answers] == [200] * DELIVERIES
    assert sum(receipt.get("stored", 0) for _, receipt in answers) == 3
    assert [row[:3] for row in stored()] == [
        (project.id, helius.signature(1), "swap:in:native"),
        (project.id, helius.signature(1), "swap:out:0"),
        (project.id, helius.signature(2), "native:0"),
    ]
