"""The EVM indexer against a real in-process chain (py-evm) running TRACE's DemoDapp."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from web3.contract import Contract

from fabrknt.chain.alchemy import alchemy_payload_parse
from fabrknt.chain.evm import ChainNotConfigured, contract_artifact, evm_client_override
from trace import tasks
from trace.models import ContractInteraction, IndexedBlock, Project
from trace.services.indexer import ChainMismatch, project_index, project_index_run
from trace.services.ingest import alchemy_event_ingest
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DEMO_CHAIN,
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
)
from trace.tests.factories import ProjectFactory, asset_price

pytestmark = pytest.mark.django_db

ROW_FIELDS = (
    "transaction_hash",
    "log_index",
    "block_number",
    "wallet_address",
    "from_address",
    "to_address",
    "contract_address",
    "event_type",
    "asset",
    "amount",
    "value_usd",
    "source",
)


@pytest.fixture(autouse=True)
def _indexer_settings(settings):
    settings.INDEXER_CONFIRMATIONS = 0
    settings.INDEXER_MAX_BLOCK_RANGE = 1000
    settings.INDEXER_INITIAL_LOOKBACK = 10_000
    settings.CHAIN_RPC_URLS = {}
    # Priced a month ago: the latest price on or before the block's day prices it.
    asset_price(DEMO_CHAIN, "native", timezone.now().date() - dt.timedelta(days=30), "3000.00")


@pytest.fixture
def project(demo_chain: DemoChain) -> Project:
    return ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])


def rows(project: Project) -> list[tuple]:
    return list(
        ContractInteraction.objects.filter(project=project)
        .order_by("block_number", "log_index")
        .values_list(*ROW_FIELDS)
    )


def send_activity(chain: DemoChain) -> dict[str, str]:
    return {
        "swap": chain.swap(1, eth="1", min_out=100),
        "mint": chain.mint(2, count=3, eth="0.05"),
        "free_swap": chain.swap(3, min_out=5),
    }


def expected_rows(chain: DemoChain, sent: dict[str, str]) -> list[tuple]:
    dapp = chain.dapp.address
    acct = chain.accounts

    def row(key, log_index, sender, event, amount, usd):
        return (
            sent[key], log_index, chain.block_of(sent[key]), acct[sender], acct[sender], dapp,
            dapp, event, "ETH", Decimal(amount), Decimal(usd), "indexer",
        )  # fmt: skip

    return [
        # A paid call: its value on the transaction's own row (keyed `external`, as
        # Alchemy keys it), its events moving nothing themselves.
        row("swap", -1, 1, "transaction", "1", "3000.00"),
        row("swap", 0, 1, "Swap", "0", "0.00"),
        # One transaction, three logs: its value is counted once.
        row("mint", -1, 2, "transaction", "0.05", "150.00"),
        row("mint", 0, 2, "Mint", "0", "0.00"),
        row("mint", 1, 2, "Mint", "0", "0.00"),
        row("mint", 2, 2, "Mint", "0", "0.00"),
        row("free_swap", 0, 3, "Swap", "0", "0.00"),
    ]


def test_indexes_real_transactions_with_no_confirmations(demo_chain, project):
    sent = send_activity(demo_chain)
    before = timezone.now()

    assert project_index(project_id=project.id) == 7

    assert rows(project) == expected_rows(demo_chain, sent)
    project.refresh_from_db()
    assert project.last_indexed_block == demo_chain.w3.eth.block_number
    # When the cursor moved: the project page's "indexed up to block N, 2 min ago".
    assert before <= project.last_indexed_at <= timezone.now()
    interaction = ContractInteraction.objects.get(transaction_hash=sent["swap"], log_index=0)
    block = demo_chain.w3.eth.get_block(interaction.block_number)
    assert interaction.block_hash == block["hash"].to_0x_hex()
    assert interaction.occurred_at == dt.datetime.fromtimestamp(block["timestamp"], tz=dt.UTC)
    # Hashes kept for the reorg check: the blocks with interactions and the cursor block.
    assert set(IndexedBlock.objects.filter(project=project).values_list("number", "hash")) == {
        (n, demo_chain.w3.eth.get_block(n)["hash"].to_0x_hex())
        for n in {demo_chain.block_of(h) for h in sent.values()} | {project.last_indexed_block}
    }


def test_a_second_run_stores_nothing(demo_chain, project):
    send_activity(demo_chain)
    assert project_index(project_id=project.id) == 7
    before = rows(project)

    assert project_index(project_id=project.id) == 0
    assert rows(project) == before


def test_re_reading_from_scratch_stores_nothing_twice(demo_chain, project):
    send_activity(demo_chain)
    assert project_index(project_id=project.id) == 7
    Project.objects.filter(id=project.id).update(last_indexed_block=None)
    IndexedBlock.objects.all().delete()

    assert project_index(project_id=project.id) == 0
    assert ContractInteraction.objects.count() == 7


def test_confirmation_depth_holds_back_the_newest_blocks(demo_chain, project, settings):
    settings.INDEXER_CONFIRMATIONS = 2
    sent = send_activity(demo_chain)  # three blocks: swap, mint, free_swap
    head = demo_chain.w3.eth.block_number

    assert project_index(project_id=project.id) == 2  # only the swap is 2 deep
    assert rows(project) == expected_rows(demo_chain, sent)[:2]
    project.refresh_from_db()
    assert project.last_indexed_block == head - 2

    demo_chain.w3.testing.mine(2)
    assert project_index(project_id=project.id) == 5
    assert rows(project) == expected_rows(demo_chain, sent)
    project.refresh_from_db()
    assert project.last_indexed_block == head


def test_block_ranges_are_capped(demo_chain, project, settings):
    settings.INDEXER_MAX_BLOCK_RANGE = 1
    sent = send_activity(demo_chain)

    run = project_index_run(project_id=project.id)

    assert (run.stored, run.from_block, run.to_block) == (7, 0, demo_chain.w3.eth.block_number)
    assert rows(project) == expected_rows(demo_chain, sent)


def test_only_the_project_contracts_are_read(demo_chain):
    other = ProjectFactory(chain=demo_chain.chain)  # a contract nobody calls
    send_activity(demo_chain)

    assert project_index(project_id=other.id) == 0
    assert ContractInteraction.objects.count() == 0


def test_unconfigured_chain_raises_and_the_task_skips(settings):
    project = ProjectFactory(chain="eip155:8453")

    with pytest.raises(ChainNotConfigured):
        project_index(project_id=project.id)
    assert tasks.index_project.delay(str(project.id)).get() == 0
    assert ContractInteraction.objects.count() == 0
    project.refresh_from_db()
    assert project.last_indexed_block is None


def test_an_endpoint_serving_another_chain_is_refused(demo_chain):
    project = ProjectFactory(chain="eip155:1", contract_addresses=[demo_chain.dapp.address])
    demo_chain.swap(1, eth="1")

    with evm_client_override("eip155:1", demo_chain.w3), pytest.raises(ChainMismatch):
        project_index(project_id=project.id)
    assert ContractInteraction.objects.count() == 0


def test_index_chain_task_runs_every_evm_project(demo_chain, project):
    ProjectFactory(chain="solana:mainnet", contract_addresses=[])
    ProjectFactory(chain=demo_chain.chain, contract_addresses=[])
    send_activity(demo_chain)

    assert tasks.index_chain.delay().get() == 1  # one project queued
    assert ContractInteraction.objects.filter(project=project).count() == 7


def test_command_prints_per_project_progress(demo_chain, project):
    send_activity(demo_chain)
    unconfigured = ProjectFactory(name="Elsewhere", chain="eip155:8453")
    out = StringIO()

    call_command("index_chain", stdout=out)

    head = demo_chain.w3.eth.block_number
    assert out.getvalue().splitlines() == [
        f"{project.name} ({project.id}) on {demo_chain.chain}: blocks 0..{head}, "
        "7 new interactions",
        f"Elsewhere ({unconfigured.id}): skipped, chain not configured: eip155:8453",
        "7 new interactions",
    ]

    out = StringIO()
    call_command("index_chain", "--project", str(project.id), stdout=out)
    assert out.getvalue().splitlines() == [
        f"{project.name} ({project.id}) on {demo_chain.chain}: up to date",
        "0 new interactions",
    ]


# --- token transfers, priced by their emitter -------------------------------------------

TOKEN_FIELDS = (
    "transaction_hash",
    "log_index",
    "wallet_address",
    "contract_address",
    "event_type",
    "asset",
    "asset_address",
    "amount",
    "value_usd",
    "unpriced_reason",
)


@pytest.fixture
def token(demo_chain: DemoChain) -> Contract:
    """DemoToken (6 decimals) deployed on the demo chain, inside the test's snapshot."""
    abi, bytecode = contract_artifact("trace/DemoToken")
    deploy = (
        demo_chain.w3.eth.contract(abi=abi, bytecode=bytecode)
        .constructor(6)
        .transact({"from": demo_chain.accounts[0]})
    )
    address = demo_chain.w3.eth.get_transaction_receipt(deploy)["contractAddress"]
    return demo_chain.w3.eth.contract(address=address, abi=abi)


def buy_and_send(chain: DemoChain, token: Contract) -> tuple[str, str]:
    """A user buys 1000 DEMO for 1 ETH, then sends 250.5 of them to another."""
    buyer, friend = chain.accounts[1], chain.accounts[2]
    value = chain.w3.to_wei(1, "ether")
    buy = token.functions.buy().transact({"from": buyer, "value": value})
    send = token.functions.transfer(friend, 250_500_000).transact({"from": buyer})
    return buy.to_0x_hex(), send.to_0x_hex()


def token_rows(project: Project) -> list[tuple]:
    return list(
        ContractInteraction.objects.filter(project=project)
        .order_by("block_number", "log_index")
        .values_list(*TOKEN_FIELDS)
    )


def test_erc20_transfers_are_priced_by_the_emitter_with_registry_decimals(demo_chain, token):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[token.address])
    month_ago = timezone.now().date() - dt.timedelta(days=30)
    asset_price(demo_chain.chain, token.address, month_ago, "2.50", symbol="DEMO", decimals=6)
    buy, send = buy_and_send(demo_chain, token)
    buyer = demo_chain.accounts[1]

    assert project_index(project_id=project.id) == 3

    assert token_rows(project) == [
        # The ether paid to the token contract, whose only log there is the mint.
        (buy, -1, buyer, token.address, "transaction", "ETH", "native", Decimal(1),
         Decimal("3000.00"), ""),
        (buy, 0, buyer, token.address, "Transfer", "DEMO", token.address, Decimal(1000),
         Decimal("2500.00"), ""),
        (send, 0, buyer, token.address, "Transfer", "DEMO", token.address,
         Decimal("250.5"), Decimal("626.25"), ""),
    ]  # fmt: skip


def test_an_unregistered_token_is_stored_as_evidence_worth_nothing(demo_chain, token):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[token.address])
    buy, send = buy_and_send(demo_chain, token)

    assert project_index(project_id=project.id) == 3

    # Its decimals are unknown: the amount is read with ERC-20's customary 18.
    assert [row[5:] for row in token_rows(project)] == [
        ("ETH", "native", Decimal(1), Decimal("3000.00"), ""),
        ("", token.address, Decimal("1E-9"), Decimal("0.00"), "unknown_asset"),
        ("", token.address, Decimal("2.505E-10"), Decimal("0.00"), "unknown_asset"),
    ]


def test_a_paid_call_that_alchemy_also_reports_counts_once(demo_chain, project):
    """DESIGN.md: a transfer that both Alchemy and the indexer report counts once — the
    call's value is keyed `external` by both, its events carry none."""
    sent = send_activity(demo_chain)
    assert project_index(project_id=project.id) == 7
    tx = demo_chain.w3.eth.get_transaction(sent["swap"])
    delivery = alchemy_payload_parse(
        {
            "webhookId": "wh_k63lg72rxda78gce",
            "id": "whevt_indexer_overlap",
            "createdAt": "2024-01-23T07:42:26.411977228Z",
            "type": "ADDRESS_ACTIVITY",
            "event": {
                "network": "ETH_MAINNET",
                "activity": [
                    {
                        "fromAddress": tx["from"].lower(),
                        "toAddress": tx["to"].lower(),
                        "blockNum": hex(tx["blockNumber"]),
                        "hash": sent["swap"],
                        "value": 1,
                        "asset": "ETH",
                        "category": "external",
                        "rawContract": {"rawValue": hex(tx["value"]), "decimals": 18},
                    }
                ],
            },
        }
    )

    result = alchemy_event_ingest(event=dataclasses.replace(delivery, chain=demo_chain.chain))

    assert result.stored == 0
    paid = ContractInteraction.objects.filter(project=project, transaction_hash=sent["swap"])
    assert sum(row.value_usd for row in paid) == Decimal("3000.00")
