"""Benchmark: the EVM indexer's reads in JSON-RPC batches against one call a transaction.

    .venv/bin/python bench/indexer.py [--transactions 500] [--per-block 9]
        [--latency-ms 5] [--batch-size 100] [--range 1000]

A DemoDapp on py-evm (eth-tester) gets `--transactions` calls, `--per-block` to a block
(a third of them mints of two: two logs), behind a local HTTP JSON-RPC endpoint
(`fabrknt.chain.tests.evm_rpc`) that waits `--latency-ms` before each answer, as a remote
endpoint's round trip does, and answers from memory after a first, untimed pass (py-evm
takes milliseconds a read, a node microseconds: the figures are the indexer's and the
round trips', not py-evm's). The indexer then reads the whole chain twice, into two
projects, in the same run: batched (`rpc_batch`, INDEXER_RPC_BATCH_SIZE calls a request)
and the naive baseline (the same code with one call a transaction and a block, as before
batching). It prints the logs per second, the HTTP requests the endpoint received, and
checks that both stored the same rows. Rows go to its own PostgreSQL database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/fab_bench_indexer,
created and migrated when missing). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fab_bench_indexer"
COLD_READ_SECONDS = 600  # py-evm's eth_getLogs over the whole chain, before the memo


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_BROKER_URL"] = ""  # tasks (attribution) run in-process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
    os.environ["DJANGO_ENV"] = "development"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build_chain(transactions: int, per_block: int):
    """py-evm with a DemoDapp and the calls, `per_block` to a block; (w3, dapp address)."""
    from web3 import EthereumTesterProvider, Web3
    from web3.types import TxParams, Wei

    from fabrknt.chain.evm import contract_artifact

    w3 = Web3(EthereumTesterProvider())
    abi, bytecode = contract_artifact("trace/DemoDapp")
    deploy = w3.eth.contract(abi=abi, bytecode=bytecode).constructor()
    address = w3.eth.get_transaction_receipt(deploy.transact({"from": w3.eth.accounts[0]}))[
        "contractAddress"
    ]
    dapp = w3.eth.contract(address=address, abi=abi)
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    tester.disable_auto_mine_transactions()
    # eth-tester checks a nonce against the last block: one transaction a sender a block.
    accounts = w3.eth.accounts[1:]
    if per_block > len(accounts):
        raise SystemExit(f"--per-block: at most {len(accounts)} (eth-tester's accounts)")
    for n in range(transactions):
        sender: TxParams = {"from": accounts[n % per_block], "value": Wei(n % 7), "gas": 200_000}
        call = dapp.functions.mint(2) if n % 3 == 0 else dapp.functions.swap(1)
        call.transact(sender)
        if (n + 1) % per_block == 0:
            tester.mine_blocks(1)
    tester.mine_blocks(1)
    tester.enable_auto_mine_transactions()
    return w3, address


def one_call_each(client: Any, requests: Sequence[Callable[[], Any]], *, size: int) -> list[Any]:
    """The naive baseline: what the indexer did before batching."""
    return [request() for request in requests]


def index_once(chain: str, client: Any, address: str, *, batched: bool) -> tuple[int, float]:
    from accounts.models import Organization
    from fabrknt.chain.evm import evm_client_override
    from trace.models import Project
    from trace.services import indexer

    slug = f"bench-{uuid.uuid4().hex[:12]}"
    project = Project.objects.create(
        organization=Organization.objects.create(name=slug, slug=slug),
        name=slug,
        chain=chain,
        contract_addresses=[address],
        last_indexed_block=-1,  # read from block 0
    )
    # The baseline is the same indexer with one call a transaction and a block.
    naive = patch.object(indexer, "rpc_batch", one_call_each)
    with contextlib.nullcontext() if batched else naive, evm_client_override(chain, client):
        started = time.perf_counter()
        stored = indexer.project_index(project_id=project.id)
        elapsed = time.perf_counter() - started
    return stored, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=500)
    parser.add_argument("--per-block", type=int, default=9)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--range", type=int, default=1000, help="INDEXER_MAX_BLOCK_RANGE")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path, interleaved")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(url)

    from django.conf import settings

    from fabrknt.chain.tests.evm_rpc import EvmRpcServer
    from trace.models import ContractInteraction

    settings.INDEXER_CONFIRMATIONS = 0
    settings.INDEXER_RPC_BATCH_SIZE = args.batch_size
    settings.INDEXER_MAX_BLOCK_RANGE = args.range
    print(f"building the chain: {args.transactions} transactions, {args.per_block} a block ...")
    w3, address = build_chain(args.transactions, args.per_block)
    chain = f"eip155:{w3.eth.chain_id}"
    server = EvmRpcServer(w3, latency=args.latency_ms / 1000, memoize=True).start()
    ContractInteraction.objects.filter(chain=chain).delete()
    print(
        f"endpoint latency {args.latency_ms:g} ms a request, batches of {args.batch_size}, "
        f"ranges of {args.range} blocks, head {w3.eth.block_number}"
    )
    paths = {"naive, one call a transaction": False, "batched": True}
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    seen: dict[str, tuple[int, int, dict[str, int]]] = {}
    try:
        index_once(
            chain, server.client(timeout=COLD_READ_SECONDS), address, batched=True
        )  # warms the memo
        for _ in range(args.repeat):
            for name, batched in paths.items():
                server.reset_counts()
                stored, elapsed = index_once(
                    chain, server.client(timeout=COLD_READ_SECONDS), address, batched=batched
                )
                seconds[name].append(elapsed)
                seen[name] = (stored, server.http_requests, dict(server.calls))
    finally:
        server.stop()
    for name in paths:
        stored, requests, calls = seen[name]
        median = statistics.median(seconds[name])
        print(
            f"{name:>30}: {stored} logs in {median:.2f} s (median of {args.repeat}; best "
            f"{min(seconds[name]):.2f} s) = {stored / median:,.0f} logs/s, "
            f"{requests} HTTP requests"
        )
        print(f"{'':>32}{calls}")
    (naive_rows, naive_requests, _), (rows, requests, _) = seen.values()
    assert naive_rows == rows, "both paths must store the same rows"
    naive_s, batched_s = (statistics.median(seconds[name]) for name in paths)
    print(
        f"batched: {naive_s / batched_s:.1f}x the throughput, "
        f"{naive_requests / requests:.0f}x fewer round trips ({naive_requests} -> {requests})"
    )


if __name__ == "__main__":
    main()
