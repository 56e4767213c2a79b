"""Two tenants watching one contract: a squatter that registers it first must not blind its
real owner, who registers it later (issue 7, item 2). Every transfer is stored once per
watching project, and each project's conversions and metrics come from its own rows."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from trace.models import ActivityMetric, ContractInteraction, Conversion
from trace.services.indexer import project_index
from trace.services.metrics import metrics_aggregate
from trace.tests import test_webhooks_alchemy as alchemy
from trace.tests import test_webhooks_helius as helius
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
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

pytestmark = pytest.mark.django_db

CREATED = dt.datetime(2024, 1, 23, 7, 42, 26, tzinfo=dt.UTC)
DAY = CREATED.date()
METRIC_FIELDS = ("date", "dau", "wau", "mau", "transaction_count", "transaction_volume_usd")


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = alchemy.SIGNING_KEY
    settings.HELIUS_WEBHOOK_AUTH = helius.AUTH
    settings.INDEXER_CONFIRMATIONS = 0
    asset_price("eip155:1", "native", dt.date(2024, 1, 20), "2500.00")
    asset_price("solana:mainnet", "native", dt.date(2025, 9, 1), "150.00")


def identified(project, wallet: str):
    """A campaign of the project's organization on its contract, and a click that `wallet`
    was identified on the day before the delivery."""
    campaign = CampaignFactory(project=project, target_contract=project.contract_addresses[0])
    click = ClickFactory(campaign=campaign, occurred_at=CREATED - dt.timedelta(days=1))
    WalletLinkFactory(click=click, campaign=campaign, wallet_address=wallet)
    return campaign, click


def per_project() -> list[tuple]:
    return sorted(
        ContractInteraction.objects.values_list(
            "project__name", "transaction_hash", "log_index", "wallet_address",
            "contract_address", "value_usd",
        )
    )  # fmt: skip


def metrics_of(project) -> list[tuple]:
    metrics_aggregate(project_id=project.id, date_from=DAY, date_to=DAY)
    return list(ActivityMetric.objects.filter(project=project).values_list(*METRIC_FIELDS))


def test_alchemy_stores_the_transfer_for_the_squatter_and_the_owner_who_came_later(
    client, django_capture_on_commit_callbacks
):
    squatter = ProjectFactory(name="squatter", chain="eip155:1", contract_addresses=[alchemy.DAPP])
    owner = ProjectFactory(name="owner", chain="eip155:1", contract_addresses=[alchemy.DAPP])
    assert squatter.created_at < owner.created_at
    # The squatter runs a campaign on the contract too, for another wallet.
    squatter_campaign, _ = identified(squatter, alchemy.WALLET_2)
    owner_campaign, owner_click = identified(owner, alchemy.WALLET)
    delivery = copy.deepcopy(alchemy.DELIVERY)
    delivery["createdAt"] = CREATED.isoformat().replace("+00:00", "Z")
    second = copy.deepcopy(delivery["event"]["activity"][0])  # WALLET_2 pays the dapp too
    second.update(fromAddress=alchemy.WALLET_2.lower(), hash="0x" + "2" * 64, value=0.5)
    second["rawContract"]["rawValue"] = hex(5 * 10**17)
    delivery["event"]["activity"].append(second)
    body = json.dumps(delivery).encode()

    for _ in range(2):  # a redelivery stores nothing more for either
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                alchemy.URL,
                data=body,
                content_type="application/json",
                headers={"X-Alchemy-Signature": alchemy.sign(body)},
            )
        assert response.status_code == 200

    dapp, wallet, wallet_2 = alchemy.DAPP, alchemy.WALLET, alchemy.WALLET_2
    assert per_project() == [
        ("owner", "0x" + "2" * 64, -1, wallet_2, dapp, Decimal("1250.00")),
        ("owner", alchemy.ETH_TX, -1, wallet, dapp, Decimal("3750.00")),
        ("squatter", "0x" + "2" * 64, -1, wallet_2, dapp, Decimal("1250.00")),
        ("squatter", alchemy.ETH_TX, -1, wallet, dapp, Decimal("3750.00")),
    ]
    # Each organization's campaign converts its own identified wallet.
    assert sorted(
        Conversion.objects.values_list("campaign_id", "click_id", "transaction_hash", "value_usd")
    ) == sorted(
        [
            (owner_campaign.id, owner_click.id, alchemy.ETH_TX, Decimal("3750.00")),
            (
                squatter_campaign.id,
                squatter_campaign.clicks.get().id,
                "0x" + "2" * 64,
                Decimal("1250.00"),
            ),
        ]
    )
    # The owner's day: both wallets, both transactions, the whole volume.
    assert metrics_of(owner) == [(DAY, 2, 2, 2, 2, Decimal("5000.00"))]


def test_helius_stores_the_program_call_for_every_project_watching_the_program(client):
    ProjectFactory(name="squatter", chain="solana:mainnet", contract_addresses=[helius.PROGRAM])
    ProjectFactory(
        name="owner",
        chain="solana:mainnet",
        contract_addresses=[helius.PROGRAM],
        treasury_addresses=[helius.TREASURY],
    )

    response = client.post(
        helius.URL,
        data=json.dumps(helius.DELIVERY).encode(),
        content_type="application/json",
        headers={"Authorization": helius.AUTH},
    )

    assert response.status_code == 200
    assert response.json() == {"received": 4, "stored": 5}
    swap, transfer = helius.signature(1), helius.signature(2)
    assert sorted(
        ContractInteraction.objects.values_list(
            "project__name", "transaction_hash", "transfer_position", "wallet_address",
            "contract_address", "value_usd",
        )
    ) == sorted([
        # Only the owner watches the treasury.
        ("owner", swap, "swap:in:native", helius.USER_1, helius.PROGRAM, Decimal("37.50")),
        ("owner", swap, "swap:out:0", helius.USER_1, helius.PROGRAM, Decimal("0.00")),
        ("owner", transfer, "native:0", helius.USER_2, helius.TREASURY, Decimal("150.00")),
        ("squatter", swap, "swap:in:native", helius.USER_1, helius.PROGRAM, Decimal("37.50")),
        ("squatter", swap, "swap:out:0", helius.USER_1, helius.PROGRAM, Decimal("0.00")),
    ])  # fmt: skip


def test_the_indexer_stores_the_owners_logs_after_the_squatters(demo_chain: DemoChain):
    asset_price(demo_chain.chain, "native", timezone.now().date() - dt.timedelta(days=2), "3000")
    dapp = demo_chain.dapp.address
    squatter = ProjectFactory(name="squatter", chain=demo_chain.chain, contract_addresses=[dapp])
    owner = ProjectFactory(name="owner", chain=demo_chain.chain, contract_addresses=[dapp])
    swap = demo_chain.swap(1, eth="1")

    assert project_index(project_id=squatter.id) == 2  # the Swap event, the call's value
    assert project_index(project_id=owner.id) == 2

    buyer = demo_chain.accounts[1]
    assert per_project() == [
        ("owner", swap, -1, buyer, dapp, Decimal("3000.00")),
        ("owner", swap, 0, buyer, dapp, Decimal("0.00")),
        ("squatter", swap, -1, buyer, dapp, Decimal("3000.00")),
        ("squatter", swap, 0, buyer, dapp, Decimal("0.00")),
    ]
