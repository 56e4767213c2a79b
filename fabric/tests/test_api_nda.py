"""The NDA by wallet signature (API.md, FABRIC): `GET /api/v1/nda/{listing}/message` and
`POST /api/v1/nda/sign`, with real eth-account and PyNaCl keys, and EIP-1271 against the
OwnedWallet contract on an in-process EVM. A refused signature stores nothing, grants
nothing and leaves the nonce usable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import WalletKind
from accounts.selectors import caller_access
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import WalletFactory
from accounts.tests.signing import (
    SolanaWallet,
    new_evm_account,
    owned_wallet_deploy,
    personal_sign,
)
from fabric.models import NDANonce, NDASignature, Visibility
from fabric.selectors import listing_view, nda_version_hash
from fabric.services.nda import NDARefused, nda_message_issue, nda_message_text, nda_sign
from fabric.tasks import purge_nda_nonces
from fabric.tests.factories import BuyerAccessFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    """A user with an EVM wallet whose key we hold."""
    account = new_evm_account()
    wallet = WalletFactory(address=account.address)
    return wallet.user, account


def _message(client, listing, wallet: str) -> str:
    response = client.get(f"/api/v1/nda/{listing.pk}/message", {"wallet": wallet})
    assert response.status_code == 200, response.json()
    return response.json()["message"]


def _sign(client, listing, wallet: str, message: str, signature: str):
    return client.post(
        "/api/v1/nda/sign",
        {
            "listing_id": str(listing.pk),
            "buyer_wallet": wallet,
            "message": message,
            "signature": signature,
        },
    )


def _sees_gated(user, listing) -> bool:
    return listing_view(listing_id=listing.pk, access=caller_access(user=user)).sees_gated


def test_the_message_names_listing_version_wallet_nonce_and_the_nda(buyer):
    user, account = buyer
    listing = ListingFactory(title="Swap Protocol", nda_text="Keep it secret.")
    client = as_user(user)

    # Any letter case of the wallet is the same wallet; the text carries EIP-55.
    message = _message(client, listing, account.address.lower())

    nonce = NDANonce.objects.get()
    lines = message.split("\n")
    assert lines[:8] == [
        "Fabrknt Suite wants you to sign a non-disclosure agreement with your wallet:",
        account.address,
        "",
        "Listing: Swap Protocol",
        f"Listing ID: {listing.pk}",
        "NDA version: 1",
        f"NDA version hash: {nda_version_hash(listing)}",
        f"Nonce: {nonce.value}",
    ]
    assert lines[8].startswith("Issued At: 20") and lines[8].endswith("Z")
    assert lines[9:] == ["", "Keep it secret."]
    assert (nonce.user, nonce.listing, nonce.wallet_address, nonce.used_at) == (
        user,
        listing,
        account.address,
        None,
    )


def test_eip191_signature_is_stored_and_opens_the_gated_part(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    assert _sees_gated(user, listing) is False
    message = _message(client, listing, account.address)

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 201, response.json()
    stored = NDASignature.objects.get()
    assert response.json() == {
        "id": str(stored.pk),
        "listing_id": str(listing.pk),
        "buyer_wallet": account.address,
        "nda_version_hash": nda_version_hash(listing),
        "signed_at": stored.signed_at.isoformat().replace("+00:00", "Z"),
    }
    assert (stored.user, stored.scheme, stored.message, stored.nda_version) == (
        user,
        "personal_sign",
        message,
        1,
    )
    assert NDANonce.objects.get().used_at is not None
    assert _sees_gated(user, listing) is True


def test_a_retry_answers_200_with_the_stored_signature_and_a_new_message_too(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address)
    signature = personal_sign(account, message)
    first = _sign(client, listing, account.address, message, signature)

    again = _sign(client, listing, account.address, message, signature)
    fresh = _message(client, listing, account.address)
    resigned = _sign(client, listing, account.address, fresh, personal_sign(account, fresh))

    assert (first.status_code, again.status_code, resigned.status_code) == (201, 200, 200)
    assert again.json() == first.json() == resigned.json()
    assert NDASignature.objects.count() == 1


def test_a_signature_by_another_key_is_refused_stores_nothing_and_grants_nothing(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address)

    response = _sign(
        client, listing, account.address, message, personal_sign(new_evm_account(), message)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "nda_refused"
    assert "Signature does not match" in response.json()["detail"]
    assert NDASignature.objects.count() == 0
    assert _sees_gated(user, listing) is False
    # The nonce is not spent: the right key may still sign the same text.
    assert NDANonce.objects.get().used_at is None
    right = _sign(client, listing, account.address, message, personal_sign(account, message))
    assert right.status_code == 201


@pytest.mark.parametrize(
    "signature", ["", "0x", "0xzz", "0x" + "00" * 65, "0x" + "ff" * 65, "not hex", "0x" + "1" * 3]
)
def test_malformed_signatures_are_400(buyer, signature):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address)

    response = _sign(client, listing, account.address, message, signature)

    assert response.status_code == 400
    assert NDASignature.objects.count() == 0


def test_a_message_of_another_listing_is_refused(buyer):
    user, account = buyer
    listing, other = ListingFactory(), ListingFactory()
    client = as_user(user)
    message = _message(client, other, account.address)

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 400
    assert response.json()["detail"] == "This message is for another listing."
    assert NDASignature.objects.count() == 0
    assert NDANonce.objects.get().used_at is None


def test_an_edited_message_is_refused(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address).replace("keep confidential", "share")

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 400
    assert response.json()["detail"] == "The message is not the text that was issued."
    assert NDASignature.objects.count() == 0


def test_a_nonce_is_single_use_and_is_the_callers_own(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address)
    first = _sign(client, listing, account.address, message, personal_sign(account, message))
    assert first.status_code == 201
    NDASignature.objects.all().delete()  # whatever happened since, the nonce stays spent

    again = _sign(client, listing, account.address, message, personal_sign(account, message))
    assert again.status_code == 400
    assert again.json()["detail"] == "This message was already signed: ask for a new one."

    # Another user cannot use this user's message, even signed by a wallet of theirs.
    other_account = new_evm_account()
    other = WalletFactory(address=other_account.address).user
    fresh = _message(client, listing, account.address)
    stolen = _sign(
        as_user(other), listing, other_account.address, fresh, personal_sign(other_account, fresh)
    )
    assert stolen.status_code == 400
    assert stolen.json()["detail"] == "Unknown message: ask for the text to sign first."
    assert NDASignature.objects.count() == 0
    assert NDANonce.objects.filter(used_at__isnull=True).count() == 1


def test_an_expired_message_is_refused(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    _message(client, listing, account.address)
    # The text as it was issued eleven minutes ago.
    NDANonce.objects.update(issued_at=timezone.now() - timedelta(minutes=11))
    message = nda_message_text(listing=listing, nonce=NDANonce.objects.get())

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 400
    assert response.json()["detail"] == "This message expired: ask for a new one."
    assert NDASignature.objects.count() == 0


def test_a_new_nda_version_needs_a_new_signature(buyer):
    user, account = buyer
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, account.address)
    assert (
        _sign(
            client, listing, account.address, message, personal_sign(account, message)
        ).status_code
        == 201
    )
    stale = _message(client, listing, account.address)

    listing.nda_text, listing.nda_version = "New terms.", 2
    listing.save()

    assert _sees_gated(user, listing) is False
    response = _sign(client, listing, account.address, stale, personal_sign(account, stale))
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The NDA changed since this message was issued: sign the new version."
    )
    current = _message(client, listing, account.address)
    assert "NDA version: 2" in current and current.endswith("\n\nNew terms.")
    signed = _sign(client, listing, account.address, current, personal_sign(account, current))
    assert signed.status_code == 201
    assert NDASignature.objects.count() == 2
    assert _sees_gated(user, listing) is True


def test_solana_wallets_sign_with_ed25519(db):
    solana = SolanaWallet()
    user = WalletFactory(namespace="solana", chain="solana:mainnet", address=solana.address).user
    listing = ListingFactory()
    client = as_user(user)
    message = _message(client, listing, solana.address)

    wrong = _sign(client, listing, solana.address, message, SolanaWallet().sign(message))
    right = _sign(client, listing, solana.address, message, solana.sign(message))

    assert wrong.status_code == 400
    assert right.status_code == 201
    assert NDASignature.objects.get().scheme == "ed25519"
    assert _sees_gated(user, listing) is True


def test_the_wallet_must_be_one_of_the_callers(buyer):
    user, account = buyer
    listing = ListingFactory()
    stranger = new_evm_account()
    client = as_user(user)

    for wallet in (stranger.address, "not-a-wallet", ""):
        response = client.get(f"/api/v1/nda/{listing.pk}/message", {"wallet": wallet})
        assert response.status_code == 400
    message = _message(client, listing, account.address)
    response = _sign(client, listing, stranger.address, message, personal_sign(stranger, message))
    assert response.status_code == 400
    assert response.json()["buyer_wallet"] == ["Not one of your wallets."]
    assert NDANonce.objects.count() == 1
    assert NDASignature.objects.count() == 0


def test_listings_the_caller_cannot_see_are_404(buyer):
    user, account = buyer
    client = as_user(user)
    private = ListingFactory(visibility=Visibility.PRIVATE)
    draft = ListingFactory(status="draft")

    for listing_id in (private.pk, draft.pk, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/api/v1/nda/{listing_id}/message", {"wallet": account.address})
        assert response.status_code == 404
    response = _sign(client, private, account.address, "text", "0x00")
    assert response.status_code == 404
    assert NDANonce.objects.count() == 0


def test_an_invited_wallet_signs_a_private_listing(buyer):
    user, account = buyer
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    BuyerAccessFactory(listing=listing, wallet_address=account.address, invited=True)
    client = as_user(user)
    message = _message(client, listing, account.address)

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 201
    assert _sees_gated(user, listing) is True


def test_a_revoked_wallet_may_sign_but_gains_nothing(buyer):
    user, account = buyer
    listing = ListingFactory()
    BuyerAccessFactory(listing=listing, wallet_address=account.address, revoked=True)
    client = as_user(user)
    message = _message(client, listing, account.address)

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 201
    assert _sees_gated(user, listing) is False


def test_anonymous_callers_and_api_keys_are_refused(buyer):
    _, account = buyer
    listing = ListingFactory()
    key = api_key_issue(organization=listing.organization, name="k", scopes=["read", "write"])
    for client in (JsonClient(), as_key(key.key)):
        response = client.get(f"/api/v1/nda/{listing.pk}/message", {"wallet": account.address})
        assert response.status_code in (401, 403)
        assert _sign(client, listing, account.address, "x", "0x00").status_code in (401, 403)
    assert NDANonce.objects.count() == 0


@pytest.fixture(scope="module")
def owned_wallet():
    """An in-process EVM with an OwnedWallet (EIP-1271) whose owner is a fresh key."""
    owner = new_evm_account()
    w3, address = owned_wallet_deploy(owner.address)
    return w3, owner, address


def test_a_contract_wallet_signs_through_eip1271_on_its_chain(owned_wallet):
    w3, owner, address = owned_wallet
    wallet = WalletFactory(kind=WalletKind.CONTRACT, chain="eip155:8453", address=address)
    listing = ListingFactory()
    message = nda_message_issue(user=wallet.user, listing=listing, wallet_address=address)
    asked: list[int] = []

    def provider_for(chain_id: int):
        asked.append(chain_id)
        return w3.provider

    with pytest.raises(NDARefused, match="Signature does not match"):
        nda_sign(
            user=wallet.user,
            listing=listing,
            buyer_wallet=address,
            message=message,
            signature=personal_sign(new_evm_account(), message),
            provider_for=provider_for,
        )
    assert NDASignature.objects.count() == 0
    with pytest.raises(NDARefused, match="Signature does not match"):  # no RPC for its chain
        nda_sign(
            user=wallet.user,
            listing=listing,
            buyer_wallet=address,
            message=message,
            signature=personal_sign(owner, message),
            provider_for=lambda chain_id: None,
        )
    signed = nda_sign(
        user=wallet.user,
        listing=listing,
        buyer_wallet=address,
        message=message,
        signature=personal_sign(owner, message),
        provider_for=provider_for,
    )

    assert asked == [8453, 8453]
    assert (signed.created, signed.signature.scheme) == (True, "eip1271")
    assert _sees_gated(wallet.user, listing) is True


def test_nonces_older_than_a_day_are_purged(buyer):
    user, account = buyer
    listing = ListingFactory()
    nda_message_issue(user=user, listing=listing, wallet_address=account.address)
    nda_message_issue(user=user, listing=listing, wallet_address=account.address)
    NDANonce.objects.filter(pk=NDANonce.objects.first().pk).update(
        issued_at=timezone.now() - timedelta(days=1, minutes=1)
    )

    assert purge_nda_nonces() == 1
    assert NDANonce.objects.count() == 1


def test_a_long_nda_fits_the_sign_request(buyer):
    """The signed text carries the whole NDA: past the API's usual 8 KiB body limit."""
    user, account = buyer
    listing = ListingFactory(nda_text="The buyer keeps every detail confidential. " * 700)
    client = as_user(user)
    message = _message(client, listing, account.address)
    assert len(message) > 30_000

    response = _sign(client, listing, account.address, message, personal_sign(account, message))

    assert response.status_code == 201
    assert NDASignature.objects.get().message == message
