"""Real wallets for the sign-in tests: eth-account keys and PyNaCl Ed25519 keys, and the
EIP-4361 / Sign In With Solana texts they sign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import base58
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from nacl.signing import SigningKey
from siwe import ISO8601Datetime, SiweMessage


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(tz=UTC)


def siwe_text(
    *,
    address: str,
    nonce: str,
    domain: str = "testserver",
    chain_id: int = 1,
    statement: str = "Sign in to Fabrknt Suite.",
    expiration_time: datetime | None = None,
    not_before: datetime | None = None,
) -> str:
    """An EIP-4361 message built by the `siwe` package itself."""
    return SiweMessage(
        domain=domain,
        address=address,
        statement=statement,
        uri=f"http://{domain}/",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=ISO8601Datetime.from_datetime(now_utc()),
        expiration_time=(
            ISO8601Datetime.from_datetime(expiration_time) if expiration_time else None
        ),
        not_before=ISO8601Datetime.from_datetime(not_before) if not_before else None,
    ).prepare_message()


def personal_sign(account: LocalAccount, text: str) -> str:
    """What a browser wallet's personal_sign returns: EIP-191, 0x hex."""
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def new_evm_account() -> LocalAccount:
    return Account.create()


@dataclass
class SolanaWallet:
    signing_key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def address(self) -> str:
        return base58.b58encode(bytes(self.signing_key.verify_key)).decode()

    def sign(self, text: str) -> str:
        return base58.b58encode(self.signing_key.sign(text.encode()).signature).decode()


def siws_text(
    *,
    address: str,
    nonce: str,
    domain: str = "testserver",
    chain_id: str = "mainnet",
    statement: str | None = "Sign in to Fabrknt Suite.",
    expiration_time: datetime | None = None,
    not_before: datetime | None = None,
    request_id: str | None = None,
    resources: list[str] | None = None,
) -> str:
    """Phantom's / Wallet Standard's createSignInMessageText, line for line."""
    text = f"{domain} wants you to sign in with your Solana account:\n{address}"
    if statement:
        text += f"\n\n{statement}"
    fields = [
        f"URI: http://{domain}/",
        "Version: 1",
        f"Chain ID: {chain_id}",
        f"Nonce: {nonce}",
        f"Issued At: {iso(now_utc())}",
    ]
    if expiration_time:
        fields.append(f"Expiration Time: {iso(expiration_time)}")
    if not_before:
        fields.append(f"Not Before: {iso(not_before)}")
    if request_id:
        fields.append(f"Request ID: {request_id}")
    if resources:
        fields.append("Resources:")
        fields.extend(f"- {resource}" for resource in resources)
    return text + "\n\n" + "\n".join(fields)


HOUR = timedelta(hours=1)
