"""`manage.py deploy_contracts` on a real EVM: deploys every registered contract (FABRIC's
escrow, PULSE's token) with the signer key, records the addresses, keeps identical
deployments on re-runs, redeploys when forced or when the chain lost the code (a
development chain restarted empty)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from web3 import Web3

from fabric.chain.escrow import ESCROW_CONTRACT, escrow_contract
from fabrknt.chain.deployments import bytecode_hash, deployed_contract
from fabrknt.chain.evm import contract_artifact
from fabrknt.chain.models import DeployedContract, SignerNonce
from fabrknt.chain.signer import signer_address
from pulse.services.sbt_contract import SBT_CONTRACT, sbt_contract
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = pytest.mark.django_db


def _deploy(chain: str, *args: str) -> str:
    out = StringIO()
    call_command("deploy_contracts", "--chain", chain, *args, stdout=out)
    return out.getvalue()


def _lines(chain: str, verb: str) -> str:
    """The command's output: one line per contract, in name order."""
    lines = []
    for name in (ESCROW_CONTRACT, SBT_CONTRACT):
        contract = deployed_contract(chain=chain, name=name)
        assert contract is not None
        lines.append(f"{name} {verb} on {chain} at {contract.address}\n")
    return "".join(lines)


def test_deploys_records_and_configures(sbt_chain):
    output = _deploy(sbt_chain.chain)
    contract = deployed_contract(chain=sbt_chain.chain, name=SBT_CONTRACT)
    escrow = deployed_contract(chain=sbt_chain.chain, name=ESCROW_CONTRACT)
    assert contract is not None and escrow is not None
    assert output == _lines(sbt_chain.chain, "deployed")
    assert escrow_contract(sbt_chain.w3, escrow.address).functions.owner().call() == (
        signer_address()
    )
    _, bytecode = contract_artifact(SBT_CONTRACT)
    assert contract.bytecode_hash == bytecode_hash(bytecode)
    assert contract.deployer == signer_address()
    receipt = sbt_chain.w3.eth.get_transaction_receipt(contract.transaction_hash)
    assert receipt["contractAddress"] == contract.address
    assert receipt["from"] == signer_address()
    sbt = sbt_contract(sbt_chain.w3, contract.address)
    assert sbt.functions.owner().call() == signer_address()
    assert sbt.functions.baseURI().call() == (
        f"https://suite.example/api/v1/sbt/{sbt_chain.chain}/{contract.address}/"
    )
    # Three transactions (the escrow's creation, the token's creation and base URI).
    nonce = SignerNonce.objects.get(chain=sbt_chain.chain)
    assert nonce.next_nonce == 3
    assert sbt_chain.w3.eth.get_transaction_count(signer_address()) == 3


def test_rerun_keeps_the_deployment(sbt_chain):
    _deploy(sbt_chain.chain)
    head = sbt_chain.w3.eth.block_number
    output = _deploy(sbt_chain.chain)
    assert DeployedContract.objects.count() == 2
    assert output == _lines(sbt_chain.chain, "already deployed")
    assert sbt_chain.w3.eth.block_number == head  # nothing sent


def test_a_new_base_url_is_set_on_rerun(sbt_chain, settings):
    _deploy(sbt_chain.chain)
    settings.PUBLIC_BASE_URL = "https://pulse.example"
    _deploy(sbt_chain.chain)
    contract = DeployedContract.objects.get(name=SBT_CONTRACT)
    sbt = sbt_contract(sbt_chain.w3, contract.address)
    assert sbt.functions.baseURI().call().startswith("https://pulse.example/api/v1/sbt/")


def test_force_deploys_again(sbt_chain):
    _deploy(sbt_chain.chain)
    first = DeployedContract.objects.get(name=SBT_CONTRACT)
    _deploy(sbt_chain.chain, "--force")
    assert DeployedContract.objects.count() == 4
    current = deployed_contract(chain=sbt_chain.chain, name=SBT_CONTRACT)
    assert current is not None and current.address != first.address


def test_redeploys_when_the_chain_lost_the_code(sbt_chain):
    snapshot = sbt_chain.w3.testing.snapshot()
    _deploy(sbt_chain.chain)
    lost = DeployedContract.objects.get(name=SBT_CONTRACT)
    sbt_chain.w3.testing.revert(snapshot)  # the chain restarted empty; our records did not
    assert sbt_chain.w3.eth.get_code(lost.address) == b""
    output = _deploy(sbt_chain.chain)
    assert output == _lines(sbt_chain.chain, "deployed")
    # The same signer nonces: the same addresses.
    contract = DeployedContract.objects.get(name=SBT_CONTRACT)
    assert contract.address == lost.address
    assert sbt_chain.w3.eth.get_code(contract.address) != b""
    assert SignerNonce.objects.get().next_nonce == 3


def test_refuses_a_chain_without_rpc_and_stores_nothing():
    with pytest.raises(CommandError, match="chain not configured"):
        _deploy("eip155:8453")
    with pytest.raises(CommandError, match="not an EVM chain"):
        _deploy("solana:mainnet")
    assert not DeployedContract.objects.exists()
    assert not SignerNonce.objects.exists()


def test_signer_key_is_checksummed_address(sbt_chain):
    expected = Web3.to_checksum_address("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf")
    assert signer_address() == expected
