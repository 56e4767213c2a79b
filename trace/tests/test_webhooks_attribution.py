"""End to end: click -> identify -> on-chain activity (webhook or indexer) -> conversion."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from trace import tasks
from trace.models import ContractInteraction, Conversion, ConversionSource
from trace.services.indexer import project_index
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DEMO_CHAIN,
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
)
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ProjectFactory,
    WalletLinkFactory,
    asset_price,
)
from trace.tests.test_webhooks_alchemy import DAPP, DELIVERY, ETH_TX, WALLET, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = "whsec_3cGF8LrRh5ymTuhaKjmOL2Vp"
    settings.INDEXER_CONFIRMATIONS = 0
    for chain in ("eip155:1", DEMO_CHAIN):
        asset_price(chain, "native", timezone.now().date() - dt.timedelta(days=2), "3000.00")


def identified(project, wallet: str, *, clicked_days_ago: int = 1):
    campaign = CampaignFactory(project=project, target_contract=project.contract_addresses[0])
    click = ClickFactory(
        campaign=campaign, occurred_at=timezone.now() - dt.timedelta(days=clicked_days_ago)
    )
    WalletLinkFactory(click=click, campaign=campaign, wallet_address=wallet.lower())
    return campaign, click


def test_alchemy_webhook_turns_an_identified_wallet_payment_into_a_conversion(
    client, django_capture_on_commit_callbacks
):
    project = ProjectFactory(chain="eip155:1", contract_addresses=[DAPP])
    campaign, click = identified(project, WALLET)
    now = timezone.now().replace(microsecond=0)
    delivery = copy.deepcopy(DELIVERY)
    delivery["createdAt"] = now.isoformat().replace("+00:00", "Z")
    body = json.dumps(delivery).encode()

    for _ in range(2):  # the redelivery changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/webhooks/alchemy",
                data=body,
                content_type="application/json",
                headers={"X-Alchemy-Signature": sign(body)},
            )
        assert response.status_code == 200

    assert list(
        Conversion.objects.values_list(
            "campaign_id", "click_id", "wallet_address", "transaction_hash", "event_type",
            "value_usd", "contract_address", "source", "occurred_at",
        )
    ) == [
        (campaign.id, click.id, WALLET, ETH_TX, "external", Decimal("4500.00"), DAPP,
         ConversionSource.CHAIN, now),
    ]  # fmt: skip


def test_activity_before_the_click_is_not_attributed(client, django_capture_on_commit_callbacks):
    project = ProjectFactory(chain="eip155:1", contract_addresses=[DAPP])
    identified(project, WALLET, clicked_days_ago=0)
    body = json.dumps(DELIVERY).encode()  # createdAt in 2024

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/webhooks/alchemy",
            data=body,
            content_type="application/json",
            headers={"X-Alchemy-Signature": sign(body)},
        )

    assert response.json()["stored"] == 1
    assert Conversion.objects.count() == 0


def test_indexer_attributes_and_a_reorg_takes_the_conversion_back(
    demo_chain: DemoChain, django_capture_on_commit_callbacks
):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    buyer = demo_chain.accounts[1]
    campaign, click = identified(project, buyer)
    with django_capture_on_commit_callbacks(execute=True):
        project_index(project_id=project.id)
    snapshot = demo_chain.w3.testing.snapshot()
    swap = demo_chain.swap(1, eth="0.5")
    demo_chain.swap(2, eth="1")  # not identified: no conversion

    with django_capture_on_commit_callbacks(execute=True):
        assert project_index(project_id=project.id) == 4  # two Swap events, two paid calls

    assert list(
        Conversion.objects.values_list(
            "campaign_id", "click_id", "wallet_address", "transaction_hash", "event_type",
            "value_usd", "source",
        )
    ) == [(campaign.id, click.id, buyer, swap, "Swap", Decimal("1500.00"), "chain")]  # fmt: skip

    demo_chain.w3.testing.revert(snapshot)
    replacement = demo_chain.mint(1, eth="0.1")
    with django_capture_on_commit_callbacks(execute=True):
        assert project_index(project_id=project.id) == 2

    assert list(Conversion.objects.values_list("transaction_hash", "event_type", "value_usd")) == [
        (replacement, "Mint", Decimal("300.00"))
    ]
    assert set(ContractInteraction.objects.values_list("transaction_hash", flat=True)) == {
        replacement
    }


@pytest.mark.redis
def test_a_run_in_progress_makes_the_next_one_a_no_op(demo_chain: DemoChain, redis_client):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    demo_chain.swap(1, eth="1")
    lock = f"trace:index_project:{project.id}"
    assert cache.add(lock, 1, timeout=60)  # a worker is busy with this project

    assert tasks.index_project.delay(str(project.id)).get() == 0
    assert ContractInteraction.objects.count() == 0

    cache.delete(lock)
    assert tasks.index_project.delay(str(project.id)).get() == 2  # the Swap, the call's value
    assert cache.get(lock) is None  # released after the run
