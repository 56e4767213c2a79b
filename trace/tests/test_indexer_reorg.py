"""Reorgs on a real in-process chain: an EVM snapshot is taken, blocks are indexed, the
chain is reverted to the snapshot and grows other blocks; the indexer must notice and
re-derive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from trace.models import ContractInteraction, Conversion, ConversionSource, IndexedBlock
from trace.services.indexer import project_index, project_index_run
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DEMO_CHAIN,
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
)
from trace.tests.factories import ConversionFactory, ProjectFactory, asset_price

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _indexer_settings(settings):
    settings.INDEXER_CONFIRMATIONS = 0
    settings.INDEXER_MAX_BLOCK_RANGE = 1000
    asset_price(DEMO_CHAIN, "native", timezone.now().date() - dt.timedelta(days=1), "2000.00")


def interactions(project) -> set[tuple]:
    return set(
        ContractInteraction.objects.filter(project=project).values_list(
            "transaction_hash", "log_index", "block_number", "wallet_address", "value_usd"
        )
    )


def test_orphaned_blocks_are_re_derived(demo_chain: DemoChain):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    w3, acct = demo_chain.w3, demo_chain.accounts
    assert project_index(project_id=project.id) == 0  # block 1 (the deployment) recorded
    fork_block = w3.eth.block_number
    snapshot = w3.testing.snapshot()

    orphan_swap = demo_chain.swap(1, eth="1")
    orphan_mint = demo_chain.mint(2, count=2, eth="0.5")
    # Each paid call: its events, and its value on the transaction's own row.
    assert project_index(project_id=project.id) == 5
    # Attribution had turned the orphaned swap into a conversion; an API conversion stays.
    chain_conversion = ConversionFactory(
        transaction_hash=orphan_swap, source=ConversionSource.CHAIN, event_type="Swap"
    )
    api_conversion = ConversionFactory(source=ConversionSource.API)

    w3.testing.revert(snapshot)  # the chain drops both blocks ...
    new_swap = demo_chain.swap(4, eth="2")  # ... and grows others at the same heights
    new_mint = demo_chain.mint(5, eth="0.25")
    w3.testing.mine(1)
    assert w3.eth.block_number == fork_block + 3

    run = project_index_run(project_id=project.id)

    assert (run.fork_block, run.orphaned, run.stored) == (fork_block, 5, 4)
    assert interactions(project) == {
        (new_swap, -1, fork_block + 1, acct[4], Decimal("4000.00")),
        (new_swap, 0, fork_block + 1, acct[4], Decimal("0.00")),
        (new_mint, -1, fork_block + 2, acct[5], Decimal("500.00")),
        (new_mint, 0, fork_block + 2, acct[5], Decimal("0.00")),
    }
    assert not ContractInteraction.objects.filter(
        transaction_hash__in=[orphan_swap, orphan_mint]
    ).exists()
    assert list(Conversion.objects.values_list("id", flat=True)) == [api_conversion.id]
    assert not Conversion.objects.filter(id=chain_conversion.id).exists()
    project.refresh_from_db()
    assert project.last_indexed_block == fork_block + 3
    for number, stored_hash in IndexedBlock.objects.filter(project=project).values_list(
        "number", "hash"
    ):
        assert stored_hash == w3.eth.get_block(number)["hash"].to_0x_hex()

    assert project_index(project_id=project.id) == 0  # settled: nothing new, nothing removed
    assert len(interactions(project)) == 4


def test_a_shorter_winning_chain_rewinds_the_cursor(demo_chain: DemoChain):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    w3 = demo_chain.w3
    project_index(project_id=project.id)
    fork_block = w3.eth.block_number
    snapshot = w3.testing.snapshot()
    demo_chain.swap(1, eth="1")
    demo_chain.swap(2, eth="1")
    assert project_index(project_id=project.id) == 4

    w3.testing.revert(snapshot)
    replacement = demo_chain.swap(3, eth="1")  # one block where there were two

    run = project_index_run(project_id=project.id)

    assert (run.fork_block, run.orphaned, run.stored) == (fork_block, 4, 2)
    assert {h for (h,) in ContractInteraction.objects.values_list("transaction_hash")} == {
        replacement
    }
    project.refresh_from_db()
    assert project.last_indexed_block == fork_block + 1


def test_a_transaction_mined_again_after_the_reorg_keeps_one_row(demo_chain: DemoChain):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    w3 = demo_chain.w3
    project_index(project_id=project.id)
    snapshot = w3.testing.snapshot()
    demo_chain.mint(2, eth="0.1")  # lost in the reorg
    survivor = demo_chain.swap(1, eth="1")
    assert project_index(project_id=project.id) == 4
    old_block = demo_chain.block_of(survivor)

    w3.testing.revert(snapshot)
    assert demo_chain.swap(1, eth="1") == survivor  # same sender, nonce and call: same hash
    assert demo_chain.block_of(survivor) == old_block - 1

    run = project_index_run(project_id=project.id)

    assert (run.orphaned, run.stored) == (4, 2)
    assert set(ContractInteraction.objects.values_list("transaction_hash", "block_number")) == {
        (survivor, old_block - 1)
    }


def test_without_a_reorg_nothing_is_removed(demo_chain: DemoChain):
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    demo_chain.swap(1, eth="1")
    project_index(project_id=project.id)
    demo_chain.swap(2, eth="1")

    run = project_index_run(project_id=project.id)

    assert (run.fork_block, run.orphaned, run.stored) == (None, 0, 2)
    assert ContractInteraction.objects.count() == 4
