"""SIWE for contract wallets (EIP-1271), against the OwnedWallet contract on eth-tester:
real bytecode on in-process chains, real signatures by eth-account keys."""

from __future__ import annotations

import pytest
from web3 import HTTPProvider

from accounts.models import Membership, Role, SignInNonce, User, Wallet
from accounts.services.organizations import membership_add
from accounts.services.sign_in import SignInRefused, sign_in_nonce_issue, siwe_sign_in
from accounts.services.wallets import wallet_address_parse
from accounts.tests.factories import OrganizationFactory
from accounts.tests.signing import new_evm_account, owned_wallet_deploy, personal_sign, siwe_text

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def chain():
    """An in-process EVM with an OwnedWallet whose owner is a fresh key."""
    owner = new_evm_account()
    w3, address = owned_wallet_deploy(owner.address)
    return w3, owner, address


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
    assert (signed_in.wallet.kind, signed_in.wallet.namespace, signed_in.wallet.chain) == (
        "contract",
        "eip155",
        "eip155:1",
    )
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


# --- one account per chain ------------------------------------------------------------------

BASE, OPTIMISM = 8453, 10


@pytest.fixture(scope="module")
def two_chains():
    """One wallet address on two chains, owned by a different key on each."""
    owners = {BASE: new_evm_account(), OPTIMISM: new_evm_account()}
    deployed = {chain_id: owned_wallet_deploy(owners[chain_id].address) for chain_id in owners}
    (address,) = {address for _, address in deployed.values()}
    providers = {chain_id: w3.provider for chain_id, (w3, _) in deployed.items()}
    return address, owners, providers


def _sign_in_as_contract(two_chains, *, chain_id: int, signer=None):
    address, owners, providers = two_chains
    text = siwe_text(address=address, nonce=sign_in_nonce_issue().value, chain_id=chain_id)
    signer = signer or owners[chain_id]
    return siwe_sign_in(
        message=text, signature=personal_sign(signer, text), provider_for=providers.get
    )


def test_a_contract_wallet_is_one_account_per_chain(two_chains):
    address, _, _ = two_chains

    on_base = _sign_in_as_contract(two_chains, chain_id=BASE)
    on_optimism = _sign_in_as_contract(two_chains, chain_id=OPTIMISM)
    on_base_again = _sign_in_as_contract(two_chains, chain_id=BASE)

    assert (on_base.created, on_optimism.created, on_base_again.created) == (True, True, False)
    assert on_base.user != on_optimism.user
    assert on_base_again.user == on_base.user
    assert sorted(
        Wallet.objects.values_list("kind", "namespace", "chain", "address", "user_id")
    ) == sorted(
        [
            ("contract", "eip155", "eip155:10", address, on_optimism.user.pk),
            ("contract", "eip155", "eip155:8453", address, on_base.user.pk),
        ]
    )
    assert sorted(User.objects.values_list("username", flat=True)) == [
        f"eip155:10:{address}",
        f"eip155:8453:{address}",
    ]


def test_the_owner_on_one_chain_cannot_sign_in_as_the_wallet_on_another(two_chains):
    _, owners, _ = two_chains

    with pytest.raises(SignInRefused, match="Signature does not match"):
        _sign_in_as_contract(two_chains, chain_id=OPTIMISM, signer=owners[BASE])

    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)


def test_an_eoa_is_one_account_on_every_chain_without_asking_the_chain(two_chains):
    # An ordinary key's signature recovers to its address: no contract is asked, even
    # where an RPC is set (this one would fail the sign-in with a 503 if it were called).
    account = new_evm_account()
    unreachable = HTTPProvider("http://127.0.0.1:9/")
    signed_in = []
    for chain_id in (BASE, OPTIMISM, 1):
        text = siwe_text(
            address=account.address, nonce=sign_in_nonce_issue().value, chain_id=chain_id
        )
        signed_in.append(
            siwe_sign_in(
                message=text,
                signature=personal_sign(account, text),
                provider_for=lambda chain_id: unreachable,
            )
        )

    assert [s.created for s in signed_in] == [True, False, False]
    assert {s.user.pk for s in signed_in} == {signed_in[0].user.pk}
    assert list(Wallet.objects.values_list("kind", "namespace", "chain", "address")) == [
        ("eoa", "eip155", "eip155:8453", account.address)
    ]


def test_a_member_added_by_address_is_the_eoa_not_the_contract_wallet_there(two_chains):
    address, _, _ = two_chains
    organization = OrganizationFactory()
    added = membership_add(
        organization=organization,
        wallet=wallet_address_parse(address=address),
        role=Role.MEMBER,
        granted_by_role=Role.OWNER,
    )

    on_base = _sign_in_as_contract(two_chains, chain_id=BASE)

    assert on_base.created is True
    assert on_base.user != added.user
    assert not Membership.objects.filter(user=on_base.user).exists()
    assert sorted(Wallet.objects.values_list("kind", "chain", "user_id")) == sorted(
        [("contract", "eip155:8453", on_base.user.pk), ("eoa", "eip155:1", added.user_id)]
    )
