"""Real wallets for the sign-in tests: eth-account keys and PyNaCl Ed25519 keys, and the
EIP-4361 / Sign In With Solana texts they sign."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base58
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from nacl.signing import SigningKey
from siwe import ISO8601Datetime, SiweMessage
from web3 import EthereumTesterProvider, Web3

OWNED_WALLET_BUILD = Path(__file__).resolve().parents[2] / "contracts" / "eip1271" / "build"


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


def eip4361_text(
    *,
    domain: str,
    address: str,
    statement: str | None,
    uri: str,
    version: str,
    chain_id: int,
    nonce: str,
    issued_at: str,
    expiration_time: str | None = None,
    not_before: str | None = None,
    request_id: str | None = None,
    resources: list[str] | None = None,
) -> str:
    """An EIP-4361 message written out by hand from the EIP's layout, times as given (the
    reference vectors' texts, including ones the `siwe` package would not build)."""
    text = f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n"
    if statement is not None:
        text += f"{statement}\n"
    text += f"\nURI: {uri}\nVersion: {version}\nChain ID: {chain_id}\nNonce: {nonce}"
    text += f"\nIssued At: {issued_at}"
    for label, value in [
        ("Expiration Time", expiration_time),
        ("Not Before", not_before),
        ("Request ID", request_id),
    ]:
        if value is not None:
            text += f"\n{label}: {value}"
    if resources is not None:
        text += "\nResources:" + "".join(f"\n- {resource}" for resource in resources)
    return text


def personal_sign(account: LocalAccount, text: str) -> str:
    """What a browser wallet's personal_sign returns: EIP-191, 0x hex."""
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def new_evm_account() -> LocalAccount:
    return Account.create()


def owned_wallet_deploy(owner_address: str) -> tuple[Web3, str]:
    """A fresh in-process chain whose first transaction deploys an OwnedWallet (an
    EIP-1271 contract wallet accepting its owner's personal_sign): from the same deployer
    at the same nonce, every chain gets it at the same address, as a Safe deployed by one
    factory is at one address on Base and on Optimism."""
    w3 = Web3(EthereumTesterProvider())
    contract = w3.eth.contract(
        abi=json.loads((OWNED_WALLET_BUILD / "OwnedWallet_sol_OwnedWallet.abi").read_text()),
        bytecode="0x"
        + (OWNED_WALLET_BUILD / "OwnedWallet_sol_OwnedWallet.bin").read_text().strip(),
    )
    tx = contract.constructor(owner_address).transact({"from": w3.eth.accounts[0]})
    return w3, Web3.to_checksum_address(w3.eth.get_transaction_receipt(tx)["contractAddress"])


@dataclass
class SolanaWallet:
    signing_key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def address(self) -> str:
        return base58.b58encode(bytes(self.signing_key.verify_key)).decode()

    def sign(self, text: str) -> str:
        return base58.b58encode(self.signing_key.sign(text.encode()).signature).decode()


def sign_in_message_text(
    *,
    domain: str,
    address: str,
    statement: str | None = None,
    uri: str | None = None,
    version: str | None = None,
    chain_id: str | None = None,
    nonce: str | None = None,
    issued_at: str | None = None,
    expiration_time: str | None = None,
    not_before: str | None = None,
    request_id: str | None = None,
    resources: list[str] | None = None,
) -> str:
    """What a Solana wallet signs for a `signIn` input: the wallet-standard's
    createSignInMessageText (@solana/wallet-standard-util, signIn.ts), which Phantom's
    sign-in-with-solana spec names as the construction, line for line. Each field the
    input leaves out is left out of the text; an empty `resources` list still writes
    "Resources:"."""
    text = f"{domain} wants you to sign in with your Solana account:\n{address}"
    if statement:
        text += f"\n\n{statement}"
    labelled = [
        ("URI", uri),
        ("Version", version),
        ("Chain ID", chain_id),
        ("Nonce", nonce),
        ("Issued At", issued_at),
        ("Expiration Time", expiration_time),
        ("Not Before", not_before),
        ("Request ID", request_id),
    ]
    fields = [f"{label}: {value}" for label, value in labelled if value]
    if resources is not None:
        fields.append("Resources:")
        fields.extend(f"- {resource}" for resource in resources)
    if fields:
        text += "\n\n" + "\n".join(fields)
    return text


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
    """Our sign-in page's Sign In With Solana message (static/js/signin.js), with extras."""
    return sign_in_message_text(
        domain=domain,
        address=address,
        statement=statement,
        uri=f"http://{domain}/",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=iso(now_utc()),
        expiration_time=iso(expiration_time) if expiration_time else None,
        not_before=iso(not_before) if not_before else None,
        request_id=request_id,
        resources=resources,
    )


HOUR = timedelta(hours=1)
