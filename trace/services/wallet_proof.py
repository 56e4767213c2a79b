"""Proving a wallet's link to a click: the message the wallet signs, and its check.

`GET /api/v1/identify/message` issues, for one click and one wallet, this text:

    <domain> asks you to confirm that this wallet arrived through a TRACE link:
    <wallet address>

    Signing only proves the link to the campaign. It costs nothing and moves no funds.

    Click: <click id>
    Campaign: <campaign id>
    Nonce: <32 hex digits>
    Issued At: <ISO-8601 UTC>
    Expiration Time: <ISO-8601 UTC>

`<domain>` is IDENTIFY_MESSAGE_DOMAIN (as a sign-in message names its domain). EVM wallets
sign it with personal_sign (EIP-191), Solana wallets with signMessage (Ed25519 over the
UTF-8 text, base58). The server keeps the exact text it issued with the nonce, so a proof
must sign that text for that click and that wallet before it expires; the first proof that
succeeds spends the nonce, and a refused one leaves everything as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.services.siws import siws_signature_valid
from fabrknt.api.errors import Conflict, InvalidInput
from fabrknt.chain.signatures import evm_personal_sign_valid
from trace.models import Click, IdentifyNonce, WalletLink

_NONCE_LINE = re.compile(r"^Nonce: ([0-9a-f]{32})$", re.MULTILINE)


class ProofRefused(InvalidInput):
    """A signed message that does not prove the link; `code` says why."""

    code = "proof_refused"


class ClickWalletLimit(Conflict):
    code = "click_wallet_limit"

    def __init__(self) -> None:
        limit = settings.IDENTIFY_MAX_WALLETS_PER_CLICK
        super().__init__(
            f"This click is already linked to {limit} wallet{'s' if limit > 1 else ''}, "
            "the most one click may have."
        )


@dataclass(frozen=True)
class IdentifyMessage:
    message: str
    expires_at: dt.datetime


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message_text(
    *,
    click: Click,
    wallet_address: str,
    nonce: str,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
) -> str:
    return (
        f"{settings.IDENTIFY_MESSAGE_DOMAIN} asks you to confirm that this wallet arrived "
        "through a TRACE link:\n"
        f"{wallet_address}\n"
        "\n"
        "Signing only proves the link to the campaign. It costs nothing and moves no funds.\n"
        "\n"
        f"Click: {click.click_id}\n"
        f"Campaign: {click.campaign_id}\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {_timestamp(issued_at)}\n"
        f"Expiration Time: {_timestamp(expires_at)}"
    )


def click_has_room_for(*, click: Click, wallet_address: str) -> bool:
    """Whether `wallet_address` is linked to the click already or may still be."""
    links = WalletLink.objects.filter(click=click)
    return (
        links.filter(wallet_address=wallet_address).exists()
        or links.count() < settings.IDENTIFY_MAX_WALLETS_PER_CLICK
    )


def identify_message_issue(*, click: Click, wallet_address: str) -> IdentifyMessage:
    """The message `wallet_address` (normalized) signs to prove its link to `click`.

    ClickWalletLimit when the click is linked to as many other wallets as it may be: no
    signature could make the link then."""
    if not click_has_room_for(click=click, wallet_address=wallet_address):
        raise ClickWalletLimit()
    issued_at = timezone.now().replace(microsecond=0)
    expires_at = issued_at + settings.IDENTIFY_MESSAGE_TTL
    value = secrets.token_hex(16)
    message = _message_text(
        click=click,
        wallet_address=wallet_address,
        nonce=value,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    IdentifyNonce.objects.create(
        value=value,
        click=click,
        wallet_address=wallet_address,
        message=message,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    return IdentifyMessage(message=message, expires_at=expires_at)


def identify_proof_check(
    *, click: Click, wallet_address: str, message: str, signature: str, now: dt.datetime
) -> IdentifyNonce:
    """The unspent nonce of `message` if it is the one issued for this click and wallet,
    unexpired, and signed by the wallet; ProofRefused with the reason otherwise. Nothing
    is stored or spent here (see `identify_nonce_spend`)."""
    match = _NONCE_LINE.search(message)
    nonce = IdentifyNonce.objects.filter(value=match[1]).first() if match else None
    if nonce is None:
        raise ProofRefused(
            "This message was not issued here: get it from /api/v1/identify/message.",
            code="proof_unknown_message",
        )
    if message != nonce.message:
        raise ProofRefused(
            "This message differs from the one issued with its nonce.",
            code="proof_altered_message",
        )
    if nonce.click_id != click.pk or nonce.wallet_address != wallet_address:
        raise ProofRefused(
            "This message was issued for another click or wallet.",
            code="proof_foreign_message",
        )
    if nonce.used_at is not None:
        raise ProofRefused(
            "This message has already been used: a message proves a link once.",
            code="proof_replayed_message",
        )
    if nonce.expires_at <= now:
        raise ProofRefused("This message has expired: get a new one.", code="proof_expired_message")
    if not _signed_by(wallet_address=wallet_address, message=message, signature=signature):
        raise ProofRefused(
            f"The signature is not {wallet_address}'s over this message.",
            code="proof_wrong_signer",
        )
    return nonce


def _signed_by(*, wallet_address: str, message: str, signature: str) -> bool:
    if wallet_address.startswith("0x"):  # EIP-191 personal_sign
        return evm_personal_sign_valid(message=message, address=wallet_address, signature=signature)
    return siws_signature_valid(message=message, address=wallet_address, signature=signature)


def identify_nonce_spend(*, nonce: IdentifyNonce, now: dt.datetime) -> None:
    """Spend the nonce; of two concurrent proofs with one message only one gets it."""
    spent = IdentifyNonce.objects.filter(
        pk=nonce.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        raise ProofRefused(
            "This message has already been used: a message proves a link once.",
            code="proof_replayed_message",
        )


def identify_nonces_purge(*, now: dt.datetime | None = None) -> int:
    """Delete nonces that can no longer prove anything (spent or expired); how many."""
    now = now or timezone.now()
    deleted, _ = IdentifyNonce.objects.filter(
        Q(used_at__isnull=False) | Q(expires_at__lte=now)
    ).delete()
    return deleted
