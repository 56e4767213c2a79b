"""A real EVM for the chain tests: py-evm through eth-tester, with TRACE's DemoDapp deployed.

Starting py-evm takes a couple of seconds, so one chain serves a test module and each test
runs between an EVM snapshot and its revert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from fabrknt.chain.evm import contract_artifact, evm_client_override
from fabrknt.chain.tests.evm_rpc import EvmRpcServer

# eth-tester's chain id: not a real network, so tests register its coin in the registry.
DEMO_CHAIN = "eip155:131277322940537"


@dataclasses.dataclass
class DemoChain:
    w3: Web3
    dapp: Contract
    deployment: str  # the creating transaction's hash

    @property
    def chain(self) -> str:
        return f"eip155:{self.w3.eth.chain_id}"

    @property
    def accounts(self) -> list[str]:
        return self.w3.eth.accounts

    def swap(self, sender: int, *, eth: str = "0", min_out: int = 1) -> str:
        tx = self.dapp.functions.swap(min_out).transact(
            {"from": self.accounts[sender], "value": self.w3.to_wei(Decimal(eth), "ether")}
        )
        return tx.to_0x_hex()

    def mint(self, sender: int, *, count: int = 1, eth: str = "0") -> str:
        tx = self.dapp.functions.mint(count).transact(
            {"from": self.accounts[sender], "value": self.w3.to_wei(Decimal(eth), "ether")}
        )
        return tx.to_0x_hex()

    def block_of(self, tx_hash: str) -> int:
        return self.w3.eth.get_transaction_receipt(tx_hash)["blockNumber"]

    @property
    def deployment_block(self) -> int:
        """The block of the DemoDapp's creation, from its creation receipt."""
        return self.block_of(self.deployment)


# Registered under short names; the functions' own names differ so test modules can
# import them without shadowing the fixture arguments.
@pytest.fixture(scope="module", name="demo_chain_module")
def demo_chain_module_fixture() -> Iterator[DemoChain]:
    w3 = Web3(EthereumTesterProvider())
    abi, bytecode = contract_artifact("trace/DemoDapp")
    deploy = (
        w3.eth.contract(abi=abi, bytecode=bytecode)
        .constructor()
        .transact({"from": w3.eth.accounts[0]})
    )
    address = w3.eth.get_transaction_receipt(deploy)["contractAddress"]
    chain = DemoChain(
        w3=w3, dapp=w3.eth.contract(address=address, abi=abi), deployment=deploy.to_0x_hex()
    )
    assert chain.chain == DEMO_CHAIN
    with evm_client_override(chain.chain, w3):
        yield chain


@pytest.fixture(name="demo_chain")
def demo_chain_fixture(demo_chain_module: DemoChain) -> Iterator[DemoChain]:
    snapshot = demo_chain_module.w3.testing.snapshot()
    yield demo_chain_module
    demo_chain_module.w3.testing.revert(snapshot)


@pytest.fixture(name="evm_rpc")
def evm_rpc_fixture() -> Iterator[EvmRpcServer]:
    """A fresh empty chain behind a local HTTP JSON-RPC endpoint, for code that reaches a
    chain through `CHAIN_RPC_URLS`."""
    server = EvmRpcServer(Web3(EthereumTesterProvider())).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="demo_rpc")
def demo_rpc_fixture(demo_chain: DemoChain) -> Iterator[EvmRpcServer]:
    """The demo chain behind a local HTTP JSON-RPC endpoint (batches and all), used as
    the chain's client for the test: the code reads it as it reads a remote node."""
    server = EvmRpcServer(demo_chain.w3).start()
    try:
        with evm_client_override(demo_chain.chain, server.client()):
            yield server
    finally:
        server.stop()
