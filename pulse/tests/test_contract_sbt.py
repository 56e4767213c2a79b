"""FabrkntSBT's own behaviour on a real EVM: ERC-721 + ERC-5192, locked from its mint,
every transfer and approval reverts, one token per claim, the issuer revokes."""

from __future__ import annotations

import pytest
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from fabrknt.chain.signer import signer_address
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = pytest.mark.django_db
# Without a gas limit, sending estimates the gas first: a call that reverts raises there.
REVERTS = (TransactionFailed, ContractLogicError)
CLAIM = Web3.keccak(text="claim-1")


def _mint(sbt_chain, sbt, to: str, claim: bytes = CLAIM) -> int:
    tx = sbt.functions.mint(to, claim).transact({"from": signer_address()})
    receipt = sbt_chain.w3.eth.get_transaction_receipt(tx)
    (transfer,) = sbt.events.Transfer().process_receipt(receipt, errors=DISCARD)
    (locked,) = sbt.events.Locked().process_receipt(receipt, errors=DISCARD)
    assert transfer["args"]["to"] == to
    assert locked["args"]["tokenId"] == transfer["args"]["tokenId"]
    return transfer["args"]["tokenId"]


def test_mint_is_owned_and_locked(sbt_chain):
    sbt = sbt_chain.deploy()
    holder = sbt_chain.accounts[1]
    token_id = _mint(sbt_chain, sbt, holder)
    assert token_id == 1
    assert sbt.functions.ownerOf(token_id).call() == holder
    assert sbt.functions.locked(token_id).call() is True
    assert sbt.functions.balanceOf(holder).call() == 1
    assert sbt.functions.tokenOfClaim(CLAIM).call() == 1
    assert sbt.functions.name().call() == "Fabrknt PULSE Milestones"
    assert sbt.functions.symbol().call() == "PULSE"
    assert sbt.functions.tokenURI(token_id).call() == (
        f"https://suite.example/api/v1/sbt/{sbt_chain.chain}/{sbt.address}/1"
    )
    with pytest.raises(REVERTS):
        sbt.functions.locked(2).call()  # no such token


def test_every_transfer_and_approval_reverts(sbt_chain):
    sbt = sbt_chain.deploy()
    holder, other = sbt_chain.accounts[1], sbt_chain.accounts[2]
    token_id = _mint(sbt_chain, sbt, holder)
    for call in (
        sbt.functions.transferFrom(holder, other, token_id),
        sbt.functions.safeTransferFrom(holder, other, token_id),
        sbt.functions.safeTransferFrom(holder, other, token_id, b""),
        sbt.functions.approve(other, token_id),
        sbt.functions.setApprovalForAll(other, True),
    ):
        with pytest.raises(REVERTS):
            call.transact({"from": holder})
    # The issuer cannot move it either.
    with pytest.raises(REVERTS):
        sbt.functions.transferFrom(holder, other, token_id).transact({"from": signer_address()})
    assert sbt.functions.ownerOf(token_id).call() == holder
    assert sbt.functions.getApproved(token_id).call() == "0x" + "0" * 40


def test_a_claim_mints_once_and_only_the_issuer_mints(sbt_chain):
    sbt = sbt_chain.deploy()
    _mint(sbt_chain, sbt, sbt_chain.accounts[1])
    with pytest.raises(REVERTS):
        sbt.functions.mint(sbt_chain.accounts[1], CLAIM).transact({"from": signer_address()})
    with pytest.raises(REVERTS):
        sbt.functions.mint(sbt_chain.accounts[2], Web3.keccak(text="other")).transact(
            {"from": sbt_chain.accounts[2]}
        )
    assert sbt.functions.balanceOf(sbt_chain.accounts[1]).call() == 1
    assert sbt.functions.balanceOf(sbt_chain.accounts[2]).call() == 0


def test_the_issuer_revokes(sbt_chain):
    sbt = sbt_chain.deploy()
    holder = sbt_chain.accounts[1]
    token_id = _mint(sbt_chain, sbt, holder)
    with pytest.raises(REVERTS):
        sbt.functions.revoke(token_id).transact({"from": holder})
    sbt.functions.revoke(token_id).transact({"from": signer_address()})
    with pytest.raises(REVERTS):
        sbt.functions.ownerOf(token_id).call()
    assert sbt.functions.tokenOfClaim(CLAIM).call() == 0
    assert _mint(sbt_chain, sbt, holder) == 2  # the claim may be minted again


def test_supports_interfaces(sbt_chain):
    sbt = sbt_chain.deploy()
    for interface in ("0x80ac58cd", "0x5b5e139f", "0xb45a3c0e", "0x01ffc9a7"):
        assert sbt.functions.supportsInterface(bytes.fromhex(interface[2:])).call() is True
    assert sbt.functions.supportsInterface(bytes.fromhex("ffffffff")).call() is False
