"""A buyer signs a listing's NDA with one of their own wallets.

`nda_message_issue` writes the exact text to sign (the listing, its NDA version's hash and
text, the wallet, a fresh nonce, the time) and keeps the nonce bound to the user, the
listing, the wallet and that version. `nda_sign` takes the text back, rebuilds it from the
nonce's row and the listing as they are now, and checks the wallet's signature over it
with sign-in's own checks: EIP-191 personal_sign for an EOA, EIP-1271 for a contract
wallet on its chain's RPC, Ed25519 for Solana. The signature and the text are kept as
evidence (`NDASignature`, one per wallet and NDA version).

The nonce is spent only by a signature that passes. Unlike sign-in's (which anyone may
present, so the first attempt spends it), this nonce is bound to the signed-in user who
asked for it: nobody else can use it, and a buyer whose wallet signed with the wrong
account may try again with the right one within the ten minutes. A spent nonce is never
accepted twice, except as the retry of the very same signature (the existing one, 200).
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User, Wallet, WalletKind
from accounts.selectors import user_wallets
from accounts.services.sign_in import (
    ProviderLookup,
    SignInRefused,
    chain_rpc_provider,
    evm_signer_kind,
)
from accounts.services.siws import siws_signature_valid
from accounts.services.wallets import EIP155, SOLANA, wallet_address_parse
from fabric.models import Listing, NDANonce, NDASignature
from fabric.selectors import nda_text, nda_version_hash
from fabrknt.api.errors import InvalidInput

NONCE_TTL = timedelta(minutes=10)
_NONCE_ALPHABET = string.ascii_letters + string.digits
_NONCE_LENGTH = 32
# The nonce's line in the text: the listing's title above it is kept to one line, and the
# seller's NDA text comes after, so no text of theirs can pose as it.
_NONCE_LINE_INDEX = 7
_NONCE_LINE = re.compile(r"Nonce: ([A-Za-z0-9]{1,64})")
_SCHEMES: dict[str, str] = {WalletKind.EOA: "personal_sign", WalletKind.CONTRACT: "eip1271"}


class NDARefused(InvalidInput):
    code = "nda_refused"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def nda_message_text(*, listing: Listing, nonce: NDANonce) -> str:
    """The text a buyer signs: what it agrees to, for which listing and NDA version, with
    which wallet; then the NDA itself."""
    return (
        "Fabrknt Suite wants you to sign a non-disclosure agreement with your wallet:\n"
        f"{nonce.wallet_address}\n\n"
        f"Listing: {' '.join(listing.title.split())}\n"
        f"Listing ID: {listing.pk}\n"
        f"NDA version: {listing.nda_version}\n"
        f"NDA version hash: {nonce.nda_version_hash}\n"
        f"Nonce: {nonce.value}\n"
        f"Issued At: {_iso(nonce.issued_at)}\n\n"
        f"{nda_text(listing)}"
    )


def _own_wallet(*, user: User, address: str) -> Wallet:
    parsed = wallet_address_parse(address=address)
    wallet = None
    if parsed is not None:
        # An EOA first: the same address may also be a contract wallet on some chain.
        wallet = (
            user_wallets(user=user)
            .filter(namespace=parsed.namespace, address=parsed.address)
            .order_by("-kind")
            .first()
        )
    if wallet is None:
        raise NDARefused(
            "This is not one of your wallets: sign in with it or link it to your account first.",
            fields={"buyer_wallet": ["Not one of your wallets."]},
        )
    return wallet


def nda_message_issue(*, user: User, listing: Listing, wallet_address: str) -> str:
    """A fresh text for `user` to sign with their wallet `wallet_address` (else 400)."""
    wallet = _own_wallet(user=user, address=wallet_address)
    nonce = NDANonce.objects.create(
        value="".join(secrets.choice(_NONCE_ALPHABET) for _ in range(_NONCE_LENGTH)),
        listing=listing,
        user=user,
        namespace=wallet.namespace,
        wallet_address=wallet.address,
        nda_version_hash=nda_version_hash(listing),
        issued_at=timezone.now(),
    )
    return nda_message_text(listing=listing, nonce=nonce)


@dataclass(frozen=True)
class Signed:
    signature: NDASignature
    created: bool  # False: this wallet had already signed this NDA version


def nda_sign(
    *,
    user: User,
    listing: Listing,
    buyer_wallet: str,
    message: str,
    signature: str,
    provider_for: ProviderLookup = chain_rpc_provider,
) -> Signed:
    """Record `user`'s signature of `listing`'s NDA by their wallet `buyer_wallet` over
    `message`, a text `nda_message_issue` gave them; NDARefused (400) otherwise, storing
    nothing and leaving the nonce as it was."""
    wallet = _own_wallet(user=user, address=buyer_wallet)
    nonce = _nonce_of(message=message, user=user, listing=listing, wallet=wallet)
    natural_key = {
        "listing": listing,
        "namespace": wallet.namespace,
        "buyer_wallet": wallet.address,
        "nda_version_hash": nonce.nda_version_hash,
    }
    existing = NDASignature.objects.filter(**natural_key).first()
    if existing is not None and (existing.message, existing.signature) == (message, signature):
        return Signed(signature=existing, created=False)  # a retry of the same request
    now = timezone.now()
    if nonce.used_at is not None:
        raise NDARefused("This message was already signed: ask for a new one.")
    if nonce.issued_at + NONCE_TTL <= now:
        raise NDARefused("This message expired: ask for a new one.")
    scheme = _verified_scheme(
        wallet=wallet, message=message, signature=signature, provider_for=provider_for
    )
    with transaction.atomic():
        spent = NDANonce.objects.filter(pk=nonce.pk, used_at__isnull=True).update(used_at=now)
        if not spent:
            raise NDARefused("This message was already signed: ask for a new one.")
        record, created = NDASignature.objects.get_or_create(
            **natural_key,
            defaults={
                "user": user,
                "nda_version": listing.nda_version,
                "message": message,
                "signature": signature,
                "scheme": scheme,
            },
        )
    return Signed(signature=record, created=created)


def _nonce_of(*, message: str, user: User, listing: Listing, wallet: Wallet) -> NDANonce:
    """The nonce row of the text, once the text is exactly the one issued for this user,
    listing, wallet and the listing's current NDA version."""
    lines = message.split("\n")
    match = (
        _NONCE_LINE.fullmatch(lines[_NONCE_LINE_INDEX]) if len(lines) > _NONCE_LINE_INDEX else None
    )
    nonce = (
        None if match is None else NDANonce.objects.filter(value=match.group(1), user=user).first()
    )
    if nonce is None:
        raise NDARefused("Unknown message: ask for the text to sign first.")
    if nonce.listing_id != listing.pk:
        raise NDARefused("This message is for another listing.")
    if (nonce.namespace, nonce.wallet_address) != (wallet.namespace, wallet.address):
        raise NDARefused("This message names another wallet.")
    if nonce.nda_version_hash != nda_version_hash(listing):
        raise NDARefused("The NDA changed since this message was issued: sign the new version.")
    if message != nda_message_text(listing=listing, nonce=nonce):
        raise NDARefused("The message is not the text that was issued.")
    return nonce


def _verified_scheme(
    *, wallet: Wallet, message: str, signature: str, provider_for: ProviderLookup
) -> str:
    """How `wallet`'s signature over `message` checked out, or NDARefused."""
    if wallet.namespace == SOLANA:
        if not siws_signature_valid(message=message, address=wallet.address, signature=signature):
            raise NDARefused("The signature is not this wallet's over this message.")
        return "ed25519"
    assert wallet.namespace == EIP155
    provider = None
    if wallet.kind == WalletKind.CONTRACT:
        provider = provider_for(int(wallet.chain.split(":", 1)[1]))
    try:
        kind = evm_signer_kind(
            text=message, address=wallet.address, signature=signature, provider=provider
        )
    except SignInRefused as refusal:
        raise NDARefused(f"The signature is not this wallet's: {refusal.reason}") from None
    return _SCHEMES[kind]


def nda_nonces_purge(*, now: datetime | None = None) -> int:
    """Delete nonces issued over a day ago (spent or expired alike); the day keeps a
    retried signature answered as the stored one meanwhile. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = NDANonce.objects.filter(issued_at__lt=cutoff).delete()
    return deleted
