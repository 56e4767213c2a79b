"""The indexer reads transactions and blocks in JSON-RPC batches: the demo chain behind a
local HTTP endpoint (`fabrknt.chain.tests.evm_rpc`, JSON-RPC 2.0 §6 batches) that counts
the HTTP requests it receives. The same chain read in-process (eth-tester's provider,
which cannot batch) gives the same rows, one call at a time."""

from __future__ import annotations

import math

import pytest
from web3.exceptions import TransactionNotFound

from fabrknt.chain.evm import evm_client_override, rpc_batch
from trace.models import ContractInteraction
from trace.services.indexer import project_index
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
    demo_rpc_fixture,
)
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

COLUMNS = (
    "transaction_hash",
    "transfer_position",
    "block_number",
    "block_hash",
    "wallet_address",
    "event_type",
    "amount",
    "occurred_at",
)


@pytest.fixture(autouse=True)
def _indexer_settings(settings):
    settings.INDEXER_CONFIRMATIONS = 0
    settings.INDEXER_MAX_BLOCK_RANGE = 1000
    settings.INDEXER_INITIAL_LOOKBACK = 10_000
    settings.INDEXER_RPC_BATCH_SIZE = 100
    settings.CHAIN_RPC_URLS = {}


def activity(chain: DemoChain, count: int) -> list[str]:
    """`count` transactions, each in its own block; every third a mint of two (2 logs)."""
    return [
        chain.mint(1 + n % 5, count=2, eth="0.01") if n % 3 == 0 else chain.swap(1 + n % 5)
        for n in range(count)
    ]


def stored(project) -> list[tuple]:
    return list(
        ContractInteraction.objects.filter(project=project)
        .order_by("block_number", "log_index")
        .values_list(*COLUMNS)
    )


def test_a_range_costs_a_few_requests_not_one_a_transaction(demo_chain, demo_rpc):
    sent = activity(demo_chain, 30)
    in_process = ProjectFactory(
        chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address]
    )
    over_http = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    with evm_client_override(demo_chain.chain, demo_chain.w3):
        assert project_index(project_id=in_process.id) == 50
    demo_rpc.reset_counts()

    assert project_index(project_id=over_http.id) == 50

    assert stored(over_http) == stored(in_process)
    # eth_chainId, eth_blockNumber, eth_getLogs, and one batch of the 30 transactions and
    # their 30 blocks (the newest is also the cursor's).
    assert demo_rpc.http_requests == 4 < len(sent)
    assert demo_rpc.calls["eth_getTransactionByHash"] == len(sent)
    assert demo_rpc.calls["eth_getBlockByNumber"] == len({demo_chain.block_of(tx) for tx in sent})


def test_batches_are_capped_at_the_batch_size(demo_chain, demo_rpc, settings):
    settings.INDEXER_RPC_BATCH_SIZE = 8
    sent = activity(demo_chain, 12)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])

    assert project_index(project_id=project.id) == 20

    calls = len(sent) + len(sent)  # each transaction and its block
    assert demo_rpc.http_requests == 3 + math.ceil(calls / 8) == 6


def test_the_tester_provider_cannot_batch_and_gets_one_call_each(demo_chain):
    sent = activity(demo_chain, 3)
    w3 = demo_chain.w3

    fetched = rpc_batch(w3, [lambda h=h: w3.eth.get_transaction(h) for h in sent], size=2)

    assert [tx["hash"].to_0x_hex() for tx in fetched] == sent


def test_a_failing_call_in_a_batch_raises_as_it_does_alone(demo_chain, demo_rpc):
    client = demo_rpc.client()
    swap = demo_chain.swap(1)

    with pytest.raises(TransactionNotFound):
        rpc_batch(
            client,
            [
                lambda: client.eth.get_transaction(swap),
                lambda: client.eth.get_transaction("0x" + "ab" * 32),
            ],
            size=10,
        )
    assert demo_rpc.http_requests == 1
