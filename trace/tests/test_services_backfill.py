"""Backfills on a real chain (py-evm) read over a local HTTP JSON-RPC endpoint
(`fabrknt.chain.tests.evm_rpc`): a DemoDapp deployed after some empty blocks, transactions
over many blocks, a live indexer that started late, and a backfill of the history below
it, a few blocks a run, until done."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from celery.exceptions import Retry
from django.utils import timezone
from web3 import Web3

from fabrknt.api.errors import ServiceError
from fabrknt.chain.evm import contract_artifact, contract_creation_block, evm_client_override
from trace import tasks
from trace.models import Backfill, BackfillStatus, ContractInteraction, Project
from trace.services.backfill import backfill_run, project_backfill_start
from trace.services.indexer import project_index
from trace.services.projects import project_addresses_update, project_create
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DEMO_CHAIN,
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
    demo_rpc_fixture,
)
from trace.tests.factories import ProjectFactory, asset_price

pytestmark = pytest.mark.django_db

KEY = ("transaction_hash", "transfer_position")
ROW = (*KEY, "block_number", "wallet_address", "event_type", "amount", "value_usd")
EMPTY_BLOCKS_BEFORE_DEPLOYMENT = 7


@pytest.fixture(autouse=True)
def _indexer_settings(settings):
    settings.INDEXER_CONFIRMATIONS = 0
    settings.INDEXER_MAX_BLOCK_RANGE = 2
    settings.INDEXER_BACKFILL_BLOCKS_PER_RUN = 5
    settings.INDEXER_INITIAL_LOOKBACK = 4  # the live indexer starts 4 blocks below the head
    settings.CHAIN_RPC_URLS = {}
    asset_price(DEMO_CHAIN, "native", timezone.now().date() - dt.timedelta(days=1), "2000.00")


@pytest.fixture
def dapp(demo_chain: DemoChain):
    """A DemoDapp of the test's own, deployed after some empty blocks."""
    w3 = demo_chain.w3
    w3.testing.mine(EMPTY_BLOCKS_BEFORE_DEPLOYMENT)
    abi, bytecode = contract_artifact("trace/DemoDapp")
    deploy = (
        w3.eth.contract(abi=abi, bytecode=bytecode)
        .constructor()
        .transact({"from": w3.eth.accounts[0]})
    )
    receipt = w3.eth.get_transaction_receipt(deploy)
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi), receipt["blockNumber"]


def history(chain: DemoChain, dapp, count: int) -> list[str]:
    """`count` transactions, one a block, an empty block after each; a mint every third."""
    accounts, sent = chain.accounts, []
    for n in range(count):
        sender = {"from": accounts[1 + n % 4], "value": chain.w3.to_wei(n % 2, "ether")}
        call = dapp.functions.mint(2) if n % 3 == 0 else dapp.functions.swap(1)
        sent.append(call.transact(sender).to_0x_hex())
        chain.w3.testing.mine(1)
    return sent


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rows(project: Project) -> set[tuple]:
    return set(ContractInteraction.objects.filter(project=project).values_list(*ROW))


def full_index(chain: DemoChain, address: str, settings) -> set[tuple]:
    """What the live indexer stores reading the whole chain at once, in-process."""
    control = ProjectFactory(chain=chain.chain, contract_addresses=[address])
    Project.objects.filter(id=control.id).update(last_indexed_block=-1)
    settings.INDEXER_MAX_BLOCK_RANGE = 1000
    with evm_client_override(chain.chain, chain.w3):
        project_index(project_id=control.id)
    settings.INDEXER_MAX_BLOCK_RANGE = 2
    return rows(control)


def test_a_backfill_stores_the_history_below_the_live_cursor_once(
    demo_chain, demo_rpc, dapp, settings, django_capture_on_commit_callbacks
):
    contract, deployed_in = dapp
    sent = history(demo_chain, contract, 12)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    project_index(project_id=project.id)  # the live indexer: only the last 4 blocks
    project.refresh_from_db()
    live_cursor = project.last_indexed_block
    assert live_cursor == demo_chain.w3.eth.block_number
    expected = full_index(demo_chain, contract.address, settings)
    live_rows = len(rows(project))
    assert len(expected) == 22 and 0 < live_rows < 22  # 16 events, 6 paid calls
    demo_rpc.reset_counts()

    with django_capture_on_commit_callbacks(execute=True):
        backfill = project_backfill_start(project=project)

    backfill.refresh_from_db()
    # The deployment block, by binary search over eth_getCode, is the receipt's.
    assert backfill.from_block == deployed_in == EMPTY_BLOCKS_BEFORE_DEPLOYMENT + 2
    assert (backfill.to_block, backfill.next_block) == (live_cursor, live_cursor + 1)
    assert (backfill.status, backfill.error, backfill.percent_read) == ("done", "", 100)
    assert rows(project) == expected  # every transfer, each once
    assert ContractInteraction.objects.filter(project=project).count() == 22
    assert backfill.stored == 22 - live_rows  # the live indexer's rows were not stored again
    project.refresh_from_db()
    assert project.last_indexed_block == live_cursor  # the live cursor did not move
    # Runs of 5 blocks over deployed_in..live_cursor (25), each in ranges of 2, 2 and 1:
    # one eth_getLogs a range.
    assert live_cursor - deployed_in + 1 == 25
    assert demo_rpc.calls["eth_getLogs"] == 5 * 3
    assert len(sent) == 12


def test_runs_are_bounded_and_resume_where_the_last_stopped(demo_chain, demo_rpc, dapp):
    contract, deployed_in = dapp
    history(demo_chain, contract, 6)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    project_index(project_id=project.id)
    backfill = project_backfill_start(project=project)  # its first run is not queued here
    total = backfill.blocks_total
    assert total == demo_chain.w3.eth.block_number - deployed_in + 1

    positions = []
    while backfill.status == BackfillStatus.RUNNING:
        backfill = backfill_run(backfill_id=backfill.id).backfill
        positions.append(backfill.next_block)

    assert positions == [
        min(deployed_in + 5 * run, backfill.to_block + 1) for run in range(1, len(positions) + 1)
    ]
    assert len(positions) == -(-total // 5)
    assert backfill.finished_at is not None
    assert backfill_run(backfill_id=backfill.id).stored == 0  # a run after done: nothing


def test_re_running_and_the_live_indexer_afterwards_store_nothing_twice(
    demo_chain, demo_rpc, dapp, settings, django_capture_on_commit_callbacks
):
    contract, _ = dapp
    history(demo_chain, contract, 9)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    project_index(project_id=project.id)
    with django_capture_on_commit_callbacks(execute=True):
        project_backfill_start(project=project)
    before = rows(project)

    with django_capture_on_commit_callbacks(execute=True):  # the whole chain, again
        again = project_backfill_start(project=project, from_block=0)
    again.refresh_from_db()
    assert (again.status, again.stored) == ("done", 0)
    assert rows(project) == before

    newer = history(demo_chain, contract, 2)  # the live indexer goes on from its cursor
    assert project_index(project_id=project.id) == 4  # a mint of 2, a paid swap
    assert project_index(project_id=project.id) == 0
    assert rows(project) == full_index(demo_chain, contract.address, settings)
    assert {r[0] for r in rows(project)} >= set(newer)


def test_a_given_from_block_starts_there(demo_chain, demo_rpc, dapp):
    contract, deployed_in = dapp
    sent = history(demo_chain, contract, 6)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    project_index(project_id=project.id)
    third = demo_chain.block_of(sent[2])

    backfill = project_backfill_start(project=project, from_block=third)
    while backfill.status == BackfillStatus.RUNNING:
        backfill = backfill_run(backfill_id=backfill.id).backfill

    assert backfill.from_block == third
    stored_blocks = set(
        ContractInteraction.objects.filter(project=project).values_list("block_number", flat=True)
    )
    assert demo_chain.block_of(sent[1]) not in stored_blocks
    assert {demo_chain.block_of(tx) for tx in sent[2:]} <= stored_blocks
    assert deployed_in < third


def test_without_historical_state_the_user_must_give_the_block(demo_chain, demo_rpc, dapp):
    contract, deployed_in = dapp
    history(demo_chain, contract, 2)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    demo_rpc.historical_state = False

    with pytest.raises(ServiceError) as refused:
        project_backfill_start(project=project)

    assert (refused.value.status, refused.value.code) == (400, "from_block_required")
    assert "does not serve historical state" in refused.value.detail
    assert not Backfill.objects.exists()
    # Given a block, it needs no historical state.
    backfill = project_backfill_start(project=project, from_block=deployed_in)
    assert backfill.from_block == deployed_in


def test_the_creation_block_search_finds_the_receipts_block(demo_chain, demo_rpc, dapp):
    contract, deployed_in = dapp
    client = demo_rpc.client()

    assert contract_creation_block(client, contract.address) == deployed_in
    assert contract_creation_block(client, demo_chain.dapp.address) == demo_chain.deployment_block
    assert contract_creation_block(client, demo_chain.accounts[3]) is None  # no code


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"contract": "0x" + "12" * 20}, 400, "unknown_contract"),
        ({"contract": "not an address"}, 400, "unknown_contract"),
        ({"from_block": -1}, 400, "invalid"),
        ({"from_block": 10_000}, 400, "nothing_to_backfill"),
    ],
)
def test_refusals_store_nothing(demo_chain, demo_rpc, dapp, change, status, code):
    contract, _ = dapp
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])

    with pytest.raises(ServiceError) as refused:
        project_backfill_start(project=project, **change)

    assert (refused.value.status, refused.value.code) == (status, code)
    assert not Backfill.objects.exists()


def test_one_running_backfill_a_project(demo_chain, demo_rpc, dapp):
    contract, _ = dapp
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    first = project_backfill_start(project=project)

    with pytest.raises(ServiceError) as refused:
        project_backfill_start(project=project, from_block=0)

    assert (refused.value.status, refused.value.code) == (409, "backfill_running")
    assert list(Backfill.objects.values_list("id", flat=True)) == [first.id]


def test_a_project_off_evm_or_without_rpc_is_refused(settings):
    solana = ProjectFactory(chain="solana:mainnet", contract_addresses=[])
    base = ProjectFactory(chain="eip155:8453", contract_addresses=["0x" + "12" * 20])

    with pytest.raises(ServiceError) as off_evm:
        project_backfill_start(project=solana)
    with pytest.raises(ServiceError) as no_rpc:
        project_backfill_start(project=base)

    assert (off_evm.value.status, off_evm.value.code) == (400, "not_indexable")
    assert (no_rpc.value.status, no_rpc.value.code) == (503, "chain_not_configured")
    assert not Backfill.objects.exists()


def test_a_chain_no_longer_configured_fails_the_backfill_with_its_reason(settings):
    project = ProjectFactory(chain="eip155:8453", contract_addresses=["0x" + "12" * 20])
    backfill = Backfill.objects.create(
        project=project,
        contracts=project.contract_addresses,
        from_block=0,
        to_block=9,
        next_block=0,
    )

    assert tasks.backfill_project.delay(backfill.id).get() == 0

    backfill.refresh_from_db()
    assert backfill.status == BackfillStatus.FAILED
    assert backfill.error == "chain not configured: eip155:8453"
    assert backfill.finished_at is not None
    assert not ContractInteraction.objects.exists()


def test_an_endpoint_that_keeps_failing_fails_it_after_the_retries(demo_chain, demo_rpc, dapp):
    contract, _ = dapp
    history(demo_chain, contract, 2)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    backfill = project_backfill_start(project=project)
    gone = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{unused_port()}"))

    with evm_client_override(demo_chain.chain, gone):  # connection refused, every time
        with pytest.raises(Retry):  # retried later, still running
            tasks.backfill_project.apply(args=[backfill.id])
        backfill.refresh_from_db()
        assert backfill.status == BackfillStatus.RUNNING
        last = tasks.backfill_project.apply(args=[backfill.id], retries=tasks.BACKFILL_MAX_RETRIES)
        assert last.get() == 0

    backfill.refresh_from_db()
    assert backfill.status == BackfillStatus.FAILED
    assert backfill.error.startswith("ConnectionError")
    assert backfill.next_block == backfill.from_block
    assert not ContractInteraction.objects.exists()


def test_the_beat_queues_a_stalled_backfill_again(demo_chain, demo_rpc, dapp):
    contract, _ = dapp
    history(demo_chain, contract, 2)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[contract.address])
    backfill = project_backfill_start(project=project)  # its queued run was lost
    Backfill.objects.filter(id=backfill.id).update(
        updated_at=timezone.now() - tasks.BACKFILL_STALLED_AFTER - dt.timedelta(seconds=1)
    )

    tasks.index_chain.delay().get()

    backfill.refresh_from_db()
    assert backfill.status == BackfillStatus.DONE
    assert ContractInteraction.objects.filter(project=project).count() == 4  # mint 2, pay 1


# --- a contract added to a project backfills its history --------------------------------


def test_a_new_projects_contract_backfills_its_history_by_itself(
    demo_chain, demo_rpc, dapp, django_capture_on_commit_callbacks
):
    contract, deployed_in = dapp
    sent = history(demo_chain, contract, 6)
    organization = ProjectFactory(chain=demo_chain.chain).organization

    with django_capture_on_commit_callbacks(execute=True):
        project = project_create(
            organization=organization,
            name="Added",
            chain=demo_chain.chain,
            contract_addresses=[contract.address],
        )

    backfill = Backfill.objects.get(project=project)
    assert (backfill.status, backfill.from_block) == (BackfillStatus.DONE, deployed_in)
    stored = set(
        ContractInteraction.objects.filter(project=project).values_list(
            "transaction_hash", flat=True
        )
    )
    assert stored == set(sent)


def test_a_contract_added_later_is_backfilled_from_its_own_deployment(
    demo_chain, demo_rpc, dapp, django_capture_on_commit_callbacks
):
    contract, deployed_in = dapp
    history(demo_chain, contract, 3)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    Project.objects.filter(id=project.id).update(last_indexed_block=demo_chain.w3.eth.block_number)

    with django_capture_on_commit_callbacks(execute=True):
        project_addresses_update(
            project=project,
            contract_addresses=[demo_chain.dapp.address, contract.address],
            treasury_addresses=[],
        )

    backfill = Backfill.objects.get(project=project)
    assert (backfill.status, backfill.from_block) == (BackfillStatus.DONE, deployed_in)
    assert ContractInteraction.objects.filter(project=project).exists()


def test_without_an_rpc_for_the_chain_no_backfill_starts_and_the_create_succeeds(
    django_capture_on_commit_callbacks,
):
    organization = ProjectFactory().organization

    with django_capture_on_commit_callbacks(execute=True):
        project = project_create(
            organization=organization,
            name="Unread",
            chain="eip155:8453",
            contract_addresses=["0x5fbdb2315678afecb367f032d93f642f64180aa3"],
        )

    assert Project.objects.filter(id=project.id).exists()
    assert not Backfill.objects.exists()
