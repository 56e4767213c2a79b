"""The escrow deployed by `deploy_contracts`' service on a real EVM: its arbiter and fee
come from the settings; the fee follows them on re-runs, the arbiter never changes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from web3 import EthereumTesterProvider, Web3

from fabric.chain.escrow import ESCROW_CONTRACT, ESCROW_DEPLOYABLE, escrow_contract
from fabrknt.chain.deployments import contract_deploy
from fabrknt.chain.evm import ZERO_ADDRESS, evm_client_override
from fabrknt.chain.models import DeployedContract
from fabrknt.chain.signer import signer_address

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", name="chain_module")
def chain_module_fixture() -> Iterator[Web3]:
    with warnings.catch_warnings():  # eth-tester resets the filters to "default" on start
        w3 = Web3(EthereumTesterProvider())
    with evm_client_override(f"eip155:{w3.eth.chain_id}", w3):
        yield w3


@pytest.fixture(name="w3")
def chain_fixture(chain_module: Web3, settings) -> Iterator[Web3]:
    settings.ESCROW_ARBITER_ADDRESS = chain_module.eth.accounts[1]
    settings.ESCROW_FEE_BPS = 300
    settings.ESCROW_FEE_RECIPIENT = chain_module.eth.accounts[4]
    snapshot = chain_module.testing.snapshot()
    yield chain_module
    chain_module.testing.revert(snapshot)


def _chain(w3: Web3) -> str:
    return f"eip155:{w3.eth.chain_id}"


def test_deployed_with_the_settings_arbiter_and_fee(w3):
    deployment = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    assert deployment.deployed
    escrow = escrow_contract(w3, deployment.contract.address)
    assert escrow.functions.arbiter().call() == w3.eth.accounts[1]
    assert escrow.functions.feeBps().call() == 300
    assert escrow.functions.feeRecipient().call() == w3.eth.accounts[4]
    assert escrow.functions.owner().call() == signer_address()
    assert deployment.contract.name == ESCROW_CONTRACT


def test_a_new_fee_setting_reaches_the_deployed_contract(w3, settings):
    first = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    settings.ESCROW_FEE_BPS = 100
    settings.ESCROW_FEE_RECIPIENT = ""
    again = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    assert not again.deployed and again.contract.address == first.contract.address
    escrow = escrow_contract(w3, first.contract.address)
    assert escrow.functions.feeBps().call() == 100
    assert escrow.functions.feeRecipient().call() == signer_address()


def test_a_changed_arbiter_needs_a_new_deployment(w3, settings):
    first = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    settings.ESCROW_ARBITER_ADDRESS = w3.eth.accounts[2]
    with pytest.raises(ImproperlyConfigured, match="deploy a new one with --force"):
        contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    forced = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE, force=True)
    assert forced.contract.address != first.contract.address
    assert (
        escrow_contract(w3, forced.contract.address).functions.arbiter().call()
        == (w3.eth.accounts[2])
    )


def test_without_an_arbiter(w3, settings):
    settings.ESCROW_ARBITER_ADDRESS = ""
    deployment = contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    escrow = escrow_contract(w3, deployment.contract.address)
    assert escrow.functions.arbiter().call() == ZERO_ADDRESS


def test_the_signer_is_never_the_arbiter(w3, settings):
    settings.ESCROW_ARBITER_ADDRESS = signer_address().lower()
    block = w3.eth.block_number
    with pytest.raises(ImproperlyConfigured, match="must be another account"):
        contract_deploy(chain=_chain(w3), deployable=ESCROW_DEPLOYABLE)
    assert w3.eth.block_number == block
    assert not DeployedContract.objects.exists()
