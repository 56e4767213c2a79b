"""Sign In With Solana messages: a strict parser and the Ed25519 check.

The text is Phantom's / Solana Wallet Standard's (`createSignInMessageText`), the twin of
EIP-4361:

    <domain> wants you to sign in with your Solana account:
    <base58 address>

    <statement>

    URI: <uri>
    Version: 1
    Chain ID: <mainnet | devnet | testnet | solana:...>
    Nonce: <nonce>
    Issued At: <ISO-8601>
    Expiration Time: <ISO-8601>
    Not Before: <ISO-8601>
    Request ID: <id>
    Resources:
    - <uri>

No maintained Python library parses it, so this one is hand-written and deliberately
small: fields in the fixed order above, URI/Version/Chain ID/Nonce/Issued At required,
anything else (extra lines, unknown fields, trailing newlines) makes the message malformed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import base58
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from accounts.services.wallets import solana_public_key

_HEADER = re.compile(r"^(?P<domain>[^\s/?#]+) wants you to sign in with your Solana account:$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,64}$")
_CHAIN = re.compile(r"^(solana:)?[a-z0-9-]{1,32}$")
_SIGNATURE_BYTES = 64
# (label, attribute, required), in the order the format puts them.
_FIELDS = (
    ("URI", "uri", True),
    ("Version", "version", True),
    ("Chain ID", "chain_id", True),
    ("Nonce", "nonce", True),
    ("Issued At", "issued_at", True),
    ("Expiration Time", "expiration_time", False),
    ("Not Before", "not_before", False),
    ("Request ID", "request_id", False),
)
_TIMES = {"issued_at", "expiration_time", "not_before"}


class MalformedSiwsMessage(ValueError):
    pass


@dataclass(frozen=True)
class SiwsMessage:
    domain: str
    address: str
    uri: str
    version: str
    chain_id: str
    nonce: str
    issued_at: datetime
    statement: str | None = None
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: list[str] = field(default_factory=list)

    @property
    def chain(self) -> str:
        """CAIP-2 chain: wallets write "mainnet" or "solana:mainnet"; both mean this."""
        if self.chain_id.startswith("solana:"):
            return self.chain_id
        return f"solana:{self.chain_id}"


def _timestamp(label: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedSiwsMessage(f"{label} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise MalformedSiwsMessage(f"{label} has no time zone")
    return parsed


def _fields(lines: list[str]) -> dict[str, Any]:
    """SiwsMessage's keyword arguments from the field lines (keys from _FIELDS)."""
    values: dict[str, Any] = {}
    position = 0
    for label, attribute, required in _FIELDS:
        prefix = f"{label}: "
        if position < len(lines) and lines[position].startswith(prefix):
            value = lines[position][len(prefix) :]
            if not value or value != value.strip():
                raise MalformedSiwsMessage(f"{label} is empty or padded")
            values[attribute] = _timestamp(label, value) if attribute in _TIMES else value
            position += 1
        elif required:
            raise MalformedSiwsMessage(f"{label} is missing or out of order")
    if position < len(lines):
        if lines[position] != "Resources:" or position + 1 == len(lines):
            raise MalformedSiwsMessage(f"unexpected line: {lines[position][:40]!r}")
        resources = lines[position + 1 :]
        if not all(line.startswith("- ") and len(line) > 2 for line in resources):
            raise MalformedSiwsMessage("resources must be '- <uri>' lines")
        values["resources"] = [line[2:] for line in resources]
    return values


def siws_message_parse(*, text: str) -> SiwsMessage:
    """Parse a Sign In With Solana message, or raise MalformedSiwsMessage."""
    if "\r" in text:
        raise MalformedSiwsMessage("line breaks must be \\n")
    lines = text.split("\n")
    if len(lines) < 4:
        raise MalformedSiwsMessage("too short")
    header = _HEADER.match(lines[0])
    if header is None:
        raise MalformedSiwsMessage("the first line is not a Solana sign-in request")
    address = lines[1]
    if solana_public_key(address) is None:
        raise MalformedSiwsMessage("the address is not a base58 Solana public key")
    if lines[2] != "":
        raise MalformedSiwsMessage("a blank line must follow the address")
    # "<statement>\n\n" sits before the fields only when there is a statement; the fields
    # themselves never contain a blank line.
    statement = None
    rest = lines[3:]
    if len(rest) > 1 and rest[1] == "":
        statement = rest[0]
        if not statement:
            raise MalformedSiwsMessage("empty statement")
        rest = rest[2:]
    values = _fields(rest)
    if values["version"] != "1":
        raise MalformedSiwsMessage("Version must be 1")
    if not _CHAIN.match(values["chain_id"]):
        raise MalformedSiwsMessage("Chain ID is not a Solana cluster")
    if not _NONCE.match(values["nonce"]):
        raise MalformedSiwsMessage("Nonce must be 8 to 64 letters and digits")
    return SiwsMessage(domain=header["domain"], address=address, statement=statement, **values)


def siws_signature_valid(*, message: str, address: str, signature: str) -> bool:
    """Whether `signature` (base58) is the address's Ed25519 signature of the UTF-8 text."""
    public_key = solana_public_key(address)
    try:
        raw_signature = base58.b58decode(signature)
    except ValueError:
        return False
    if public_key is None or len(raw_signature) != _SIGNATURE_BYTES:
        return False
    try:
        VerifyKey(public_key).verify(message.encode("utf-8"), raw_signature)
    except (CryptoError, ValueError, TypeError):  # UnicodeEncodeError is a ValueError
        return False
    return True
