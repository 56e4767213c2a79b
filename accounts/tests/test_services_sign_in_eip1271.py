"""SIWE for contract wallets (EIP-1271), against the OwnedWallet contract on eth-tester."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import EthereumTesterProvider, Web3

from accounts.models import SignInNonce, User, Wallet
from accounts.services.sign_in import SignInRefused, siwe_sign_in
from accounts.tests.signing import new_evm_account, personal_sign, siwe_text

BUILD = Path(__file__).resolve().parents[2] / "contracts" / "eip1271" / "build"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def chain():
    """An in-process EVM with an OwnedWallet whose owner is a fresh key."""
    w3 = Web3(EthereumTesterProvider())
    owner = new_evm_account()
    contract = w3.eth.contract(
        abi=json.loads((BUILD / "OwnedWallet_sol_OwnedWallet.abi").read_text()),
        bytecode="0x" + (BUILD / "OwnedWallet_sol_OwnedWallet.bin").read_text().strip(),
    )
    tx = contract.constructor(owner.address).transact({"from": w3.eth.accounts[0]})
    address = w3.eth.get_transaction_receipt(tx)["contractAddress"]
    return w3, owner, Web3.to_checksum_address(address)


def test_contract_wallet_signs_in_through_eip1271(chain, nonce):
    w3, owner, wallet_address = chain
    text = siwe_text(address=wallet_address, nonce=nonce)
    asked = []

    def provider_for(chain_id: int):
        asked.append(chain_id)
        return w3.provider

    signed_in = siwe_sign_in(
        message=text, signature=personal_sign(owner, text), provider_for=provider_for
    )

    assert asked == [1]
    assert signed_in.created is True
    assert signed_in.wallet.address == wallet_address
    assert (signed_in.wallet.namespace, signed_in.wallet.chain) == ("eip155", "eip155:1")
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def test_contract_wallet_refuses_a_signature_not_by_its_owner(chain, nonce):
    w3, _, wallet_address = chain
    text = siwe_text(address=wallet_address, nonce=nonce)

    with pytest.raises(SignInRefused, match="Signature does not match"):
        siwe_sign_in(
            message=text,
            signature=personal_sign(new_evm_account(), text),
            provider_for=lambda chain_id: w3.provider,
        )

    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)


def test_contract_wallet_is_refused_without_an_rpc_for_its_chain(chain, nonce):
    _, owner, wallet_address = chain
    text = siwe_text(address=wallet_address, nonce=nonce)

    with pytest.raises(SignInRefused, match="Signature does not match"):
        siwe_sign_in(message=text, signature=personal_sign(owner, text))  # CHAIN_RPC_URLS empty

    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)


def test_an_ordinary_account_with_a_wrong_signature_is_refused_with_a_provider(chain, nonce):
    # With a provider, a mismatch falls back to calling the address; an EOA has no code.
    w3, _, _ = chain
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)

    with pytest.raises(SignInRefused, match="Signature does not match"):
        siwe_sign_in(
            message=text,
            signature=personal_sign(new_evm_account(), text),
            provider_for=lambda chain_id: w3.provider,
        )
    assert User.objects.count() == 0


@pytest.mark.parametrize("signature", ["0x" + "00" * 65, "0x" + "ff" * 65, "0x"])
def test_a_signature_no_key_can_make_falls_back_to_eip1271_and_is_refused(chain, nonce, signature):
    # Not a secp256k1 signature at all, so no EOA signed it; the contract is still asked
    # (a contract wallet's signature need not be one) and says no.
    w3, _, wallet_address = chain
    text = siwe_text(address=wallet_address, nonce=nonce)
    asked = []

    def provider_for(chain_id: int):
        asked.append(chain_id)
        return w3.provider

    with pytest.raises(SignInRefused, match="Signature does not match"):
        siwe_sign_in(message=text, signature=signature, provider_for=provider_for)

    assert asked == [1]
    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)
    assert SignInNonce.objects.get(value=nonce).used_at is not None
