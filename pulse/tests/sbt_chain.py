"""A real EVM (py-evm through eth-tester) for the soulbound token tests.

The platform's signer is eth-tester's first account (the development CHAIN_SIGNER_KEY,
0x…01), funded there. One chain serves a test module; each test runs between an EVM
snapshot and its revert, and deploys FabrkntSBT through `deploy_contracts`' own service.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator

import pytest
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from fabrknt.chain.deployments import contract_deploy
from fabrknt.chain.evm import evm_client_override
from pulse.services.sbt_contract import SBT_DEPLOYABLE, sbt_contract


@dataclasses.dataclass
class SbtChain:
    w3: Web3

    @property
    def chain(self) -> str:
        return f"eip155:{self.w3.eth.chain_id}"

    @property
    def accounts(self) -> list[str]:
        return self.w3.eth.accounts

    def deploy(self) -> Contract:
        deployment = contract_deploy(chain=self.chain, deployable=SBT_DEPLOYABLE)
        return sbt_contract(self.w3, deployment.contract.address)


@pytest.fixture(scope="module", name="sbt_chain_module")
def sbt_chain_module_fixture() -> Iterator[SbtChain]:
    with warnings.catch_warnings():  # eth-tester resets the filters to "default" on start
        w3 = Web3(EthereumTesterProvider())
    chain = SbtChain(w3)
    with evm_client_override(chain.chain, w3):
        yield chain


@pytest.fixture(name="sbt_chain")
def sbt_chain_fixture(sbt_chain_module: SbtChain, settings) -> Iterator[SbtChain]:
    settings.SBT_CHAIN = sbt_chain_module.chain
    settings.PUBLIC_BASE_URL = "https://suite.example"
    snapshot = sbt_chain_module.w3.testing.snapshot()
    yield sbt_chain_module
    sbt_chain_module.w3.testing.revert(snapshot)
