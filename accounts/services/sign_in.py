"""Wallet sign-in: nonces, Sign In With Ethereum (EIP-4361) and Sign In With Solana.

Every refusal raises SignInRefused with a reason the API returns as a 401. A refusal
stores nothing except the spent nonce: the first attempt with a nonce uses it up, whatever
its outcome, so a captured message can never be replayed.
"""

from __future__ import annotations

import secrets
import string
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests
from abnf.parser import GrammarWarning
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

with warnings.catch_warnings():
    # abnf 2.8.3, the release siwe 4.4.0 imports cleanly with (2.9 fails), warns that
    # siwe's grammar redefines core rules; harmless, and noise in every command's output.
    warnings.simplefilter("ignore", GrammarWarning)
    from siwe import SiweMessage
    from siwe.siwe import check_contract_wallet_signature
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as EthValidationError
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception
from web3.providers.base import BaseProvider

from accounts.cache import viewers_changed
from accounts.models import SignInNonce, User, Wallet, WalletKind
from accounts.services.siws import MalformedSiwsMessage, siws_message_parse, siws_signature_valid
from accounts.services.wallets import DEFAULT_CHAINS, EIP155, SOLANA, wallet_user_ensure
from fabrknt.api.errors import NotAuthenticated, Unavailable

_NONCE_ALPHABET = string.ascii_letters + string.digits
_NONCE_LENGTH = 20  # about 119 random bits
_RPC_TIMEOUT_SECONDS = 10
_MISMATCH = "Signature does not match the message's address."
# EIP-2294's bound: the largest chain id whose EIP-155 `v` still fits in 64 bits.
MAX_EVM_CHAIN_ID = 2**63 - 1 - 36


class SignInRefused(NotAuthenticated):
    """The sign-in is refused; `reason` is safe to show the caller."""

    code = "sign_in_refused"
    default_detail = "Sign-in refused."

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignInUnavailable(Unavailable):
    """A contract wallet could not be checked because the chain's RPC failed."""

    code = "chain_unavailable"


@dataclass(frozen=True)
class SignedIn:
    wallet: Wallet
    created: bool  # the wallet (and its user) signed in for the first time

    @property
    def user(self) -> User:
        return self.wallet.user


@dataclass(frozen=True)
class ProvenWallet:
    """A wallet whose controller signed a sign-in message: who they are, not yet a user."""

    kind: str
    namespace: str
    address: str
    chain: str  # CAIP-2, as the message named it
    statement: str | None


ProviderLookup = Callable[[int], BaseProvider | None]


def chain_rpc_provider(chain_id: int) -> BaseProvider | None:
    """The JSON-RPC provider of an EVM chain from CHAIN_RPC_URLS, if one is configured."""
    url = settings.CHAIN_RPC_URLS.get(f"{EIP155}:{chain_id}")
    if not url:
        return None
    return HTTPProvider(url, request_kwargs={"timeout": _RPC_TIMEOUT_SECONDS})


def sign_in_nonce_issue() -> SignInNonce:
    now = timezone.now()
    value = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(_NONCE_LENGTH))
    return SignInNonce.objects.create(
        value=value, created_at=now, expires_at=now + settings.SIGN_IN_NONCE_TTL
    )


def sign_in_nonces_purge(*, now: datetime | None = None) -> int:
    """Delete nonces that can no longer be used (spent or expired). Returns how many."""
    now = now or timezone.now()
    deleted, _ = SignInNonce.objects.filter(
        Q(used_at__isnull=False) | Q(expires_at__lte=now)
    ).delete()
    return deleted


def _nonce_spend(*, value: str, now: datetime) -> None:
    # One conditional UPDATE: of two concurrent attempts with a nonce only one gets a row.
    spent = SignInNonce.objects.filter(
        value=value, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if spent:
        return
    nonce = SignInNonce.objects.filter(value=value).first()
    if nonce is None:
        raise SignInRefused("Unknown nonce: get one from /api/v1/auth/nonce.")
    if nonce.used_at is not None:
        raise SignInRefused("Nonce already used.")
    raise SignInRefused("Nonce expired.")


def _check_domain_and_window(
    *, domain: str, expiration_time: datetime | None, not_before: datetime | None, now: datetime
) -> None:
    if domain not in settings.SIWE_ALLOWED_DOMAINS:
        raise SignInRefused(f"Domain {domain[:100]!r} is not allowed to sign in here.")
    if expiration_time is not None and expiration_time <= now:
        raise SignInRefused("Message expired (expiration-time is past).")
    if not_before is not None and not_before > now:
        raise SignInRefused("Message not yet valid (not-before is in the future).")


def _signed_in(proven: ProvenWallet) -> SignedIn:
    wallet, created = wallet_user_ensure(
        namespace=proven.namespace, address=proven.address, chain=proven.chain, kind=proven.kind
    )
    if not wallet.user.is_active:
        raise SignInRefused("This account is disabled.")
    now = timezone.now()
    Wallet.objects.filter(pk=wallet.pk).update(last_signed_in_at=now)
    wallet.last_signed_in_at = now
    viewers_changed([wallet.user_id])  # the header shows the wallet signed in with last
    return SignedIn(wallet=wallet, created=created)


def siwe_sign_in(
    *, message: str, signature: str, provider_for: ProviderLookup = chain_rpc_provider
) -> SignedIn:
    """Sign in with an EIP-4361 message and its personal_sign (or EIP-1271) signature."""
    return _signed_in(
        siwe_wallet_prove(message=message, signature=signature, provider_for=provider_for)
    )


def siwe_wallet_prove(
    *, message: str, signature: str, provider_for: ProviderLookup = chain_rpc_provider
) -> ProvenWallet:
    """The wallet an EIP-4361 message and its signature prove control of, by every rule
    of sign-in (the nonce spent first, whatever the outcome), or SignInRefused.

    `provider_for(chain_id)` gives the JSON-RPC provider used for contract wallets; the
    tests hand in an in-process EVM.
    """
    parsed = _siwe_message_parse(message)
    now = timezone.now()
    _nonce_spend(value=parsed.nonce, now=now)
    _check_domain_and_window(
        domain=parsed.domain,
        expiration_time=parsed.expiration_time and parsed.expiration_time._datetime,
        not_before=parsed.not_before and parsed.not_before._datetime,
        now=now,
    )
    # Any chain: an EOA is the same key everywhere, and its chain is only recorded; a
    # contract wallet is checked on its chain, so one without an RPC cannot sign in.
    if not 1 <= parsed.chain_id <= MAX_EVM_CHAIN_ID:
        raise SignInRefused(f"Chain ID {parsed.chain_id} is not an EVM chain ID.")
    kind = evm_signer_kind(
        text=parsed.prepare_message(),
        address=parsed.address,
        signature=signature,
        provider=provider_for(parsed.chain_id),
    )
    return ProvenWallet(
        kind=kind,
        namespace=EIP155,
        address=parsed.address,
        chain=f"{EIP155}:{parsed.chain_id}",
        statement=parsed.statement,
    )


def _siwe_message_parse(text: str) -> SiweMessage:
    """The EIP-4361 message, exactly as the siwe package would write its fields.

    siwe's ABNF parser backtracks quadratically: a hostile 4 KiB line costs seconds of
    CPU, which any anonymous caller could repeat. Its regular-expression parser (the same
    package's, from the EIP's reference) is linear; it is looser about URIs and resources,
    so the text must also be the canonical serialization of what it parsed — the very
    text the signature is checked over — and the domain is matched exactly later on.
    """
    try:
        parsed = SiweMessage.from_message(text, abnf=False)
    except ValueError:  # the regular expression's and pydantic's errors alike
        raise SignInRefused("Malformed EIP-4361 message.") from None
    if parsed.prepare_message() != text:
        raise SignInRefused("Malformed EIP-4361 message.")
    return parsed


def _is_hex(value: str) -> bool:
    digits = value[2:]
    return (
        value.startswith("0x")
        and len(digits) % 2 == 0
        and all(c in string.hexdigits for c in digits)
    )


def evm_signer_kind(
    *, text: str, address: str, signature: str, provider: BaseProvider | None
) -> str:
    """What kind of wallet at `address` signed `text`, or SignInRefused (SignInUnavailable
    when the chain's RPC fails). The checks of siwe's `SiweMessage.verify`, without letting
    a forged signature escape as an exception: the EIP-191 signer is `address` — an EOA,
    whichever chain. Else, with an RPC for the chain, the contract at that address accepts
    the signature (EIP-1271): a contract wallet of that chain. Sign-in and FABRIC's NDA
    signatures both check here."""
    if not _is_hex(signature):
        raise SignInRefused("Signature must be 0x-prefixed hex.")
    message = encode_defunct(text=text)
    if _eip191_signer(message=message, signature=signature) == address:
        return WalletKind.EOA
    if provider is None:
        raise SignInRefused(_MISMATCH)
    try:
        accepted = check_contract_wallet_signature(
            address=address, message=message, signature=signature, w3=Web3(provider)
        )
    except (Web3Exception, requests.RequestException) as error:
        raise SignInUnavailable(f"Chain RPC failed: {type(error).__name__}") from None
    if not accepted:
        raise SignInRefused(_MISMATCH)
    return WalletKind.CONTRACT


def _eip191_signer(*, message: SignableMessage, signature: str) -> str | None:
    """Who made this EIP-191 signature, or None when it is no secp256k1 signature at all:
    a wrong length, v other than 0/1/27/28, r or s zero or not below the curve order, or
    a point that does not exist. A contract wallet's signature may be any of these."""
    try:
        # recover_message is a combomethod, which its types leave as Any.
        signer: str = Account.recover_message(message, signature=bytes.fromhex(signature[2:]))
    except (BadSignature, EthValidationError, ValueError, IndexError):
        return None
    return signer


def siws_sign_in(*, message: str, signature: str) -> SignedIn:
    """Sign in with a Sign In With Solana message and its base58 Ed25519 signature."""
    return _signed_in(siws_wallet_prove(message=message, signature=signature))


def siws_wallet_prove(*, message: str, signature: str) -> ProvenWallet:
    """The Solana wallet a Sign In With Solana message and its signature prove control of,
    by every rule of sign-in, or SignInRefused."""
    try:
        parsed = siws_message_parse(text=message)
    except MalformedSiwsMessage as error:
        raise SignInRefused(f"Malformed Sign In With Solana message: {error}.") from None
    now = timezone.now()
    _nonce_spend(value=parsed.nonce, now=now)
    _check_domain_and_window(
        domain=parsed.domain,
        expiration_time=parsed.expiration_time,
        not_before=parsed.not_before,
        now=now,
    )
    if parsed.chain is not None and parsed.chain not in settings.SIWS_SUPPORTED_CHAINS:
        raise SignInRefused(f"Chain {parsed.chain!r} is not supported.")
    if not siws_signature_valid(message=message, address=parsed.address, signature=signature):
        raise SignInRefused(_MISMATCH)
    # An Ed25519 key is the same account on every cluster: a message that names none
    # records the default one.
    return ProvenWallet(
        kind=WalletKind.EOA,
        namespace=SOLANA,
        address=parsed.address,
        chain=parsed.chain or DEFAULT_CHAINS[SOLANA],
        statement=parsed.statement,
    )
