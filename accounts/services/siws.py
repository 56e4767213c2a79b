"""Sign In With Solana messages: a strict parser and the Ed25519 check.

The text is the one Phantom's `signIn` and the Solana Wallet Standard's
`createSignInMessageText` (@solana/wallet-standard-util) write, as the ABNF of the Sign
In With Solana spec (github.com/phantom/sign-in-with-solana) describes it, EIP-4361's
twin:

    <domain> wants you to sign in with your Solana account:
    <base58 address>

    <statement>                  (this line and the blank one after it: only with one)

    URI: <RFC 3986 URI>
    Version: 1
    Chain ID: <mainnet | testnet | devnet | localnet | solana:mainnet | solana:testnet
               | solana:devnet>
    Nonce: <8 or more letters and digits>
    Issued At: <RFC 3339 date-time>
    Expiration Time: <RFC 3339 date-time>
    Not Before: <RFC 3339 date-time>
    Request ID: <RFC 3986 pchars>
    Resources:
    - <RFC 3986 URI>

The domain and the address are required; every other line is there only when the dapp
asked for it (a dapp that passes no `uri`, as Phantom's example does, gets no URI line),
and those present keep this order. One deliberate difference from the spec: the nonce is
required, because our sign-in issues single-use nonces and without one a signed message
could be replayed; without Issued At, freshness rests on that nonce's expiry. The
statement is one line, as the ABNF has it (so the multi-line statements the
wallet-standard's own tests build are refused), of any characters (the ABNF's are a
subset). `Resources:` may be followed by no resource at all. Times are RFC 3339 only: no
ISO 8601 basic format (`20240101T000000Z`), no missing time zone; "t" and "z" may be
lower case, as RFC 3339 allows.

No maintained Python library parses it (the PyPI package named `siws` is Sign-In with
Stacks), so this one is hand-written and deliberately small: the text must be what the
wallet-standard writes, line for line; anything else (extra or padded lines, unknown or
repeated fields, trailing newlines, \\r) makes the message malformed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base58
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from accounts.services.wallets import solana_public_key

_HEADER = re.compile(r"(?P<domain>[^\s/?#]+) wants you to sign in with your Solana account:")
# The spec asks at least 8; 64 bounds what we look up (ours are 20).
_NONCE = re.compile(r"[A-Za-z0-9]{8,64}")
_CHAIN_IDS = frozenset(
    {
        "mainnet",
        "testnet",
        "devnet",
        "localnet",
        "solana:mainnet",
        "solana:testnet",
        "solana:devnet",
    }
)
# RFC 3986's characters after a scheme: a URI's shape, not every production of its grammar.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
)
_PCHARS = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+")
# RFC 3339 section 5.6 (ASCII digits: \d would take any script's); fromisoformat then
# checks the ranges (month 13, February 30, ...).
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-5][0-9])"
)
_SIGNATURE_BYTES = 64


class MalformedSiwsMessage(ValueError):
    pass


@dataclass(frozen=True)
class SiwsMessage:
    domain: str
    address: str
    nonce: str
    statement: str | None = None
    uri: str | None = None
    version: str | None = None
    chain_id: str | None = None
    issued_at: datetime | None = None
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: list[str] | None = None  # None: no Resources line; []: an empty list

    @property
    def chain(self) -> str | None:
        """CAIP-2 chain: wallets write "mainnet" or "solana:mainnet"; both mean this."""
        if self.chain_id is None or self.chain_id.startswith("solana:"):
            return self.chain_id
        return f"solana:{self.chain_id}"


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str, str], str]:
    def check(label: str, value: str) -> str:
        if pattern.fullmatch(value) is None:
            raise MalformedSiwsMessage(f"{label} must be {what}")
        return value

    return check


def _version(label: str, value: str) -> str:
    if value != "1":
        raise MalformedSiwsMessage(f"{label} must be 1")
    return value


def _chain_id(label: str, value: str) -> str:
    if value not in _CHAIN_IDS:
        raise MalformedSiwsMessage(f"{label} is not a Solana cluster")
    return value


def _date_time(label: str, value: str) -> datetime:
    if _DATE_TIME.fullmatch(value) is None:
        raise MalformedSiwsMessage(f"{label} is not an RFC 3339 date-time")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:  # a date or time that does not exist (leap seconds included)
        raise MalformedSiwsMessage(f"{label} is not a valid date-time") from None


_uri = _matching(_URI, "an RFC 3986 URI")
# (label, attribute, parse), in the order the format puts them.
_FIELDS: tuple[tuple[str, str, Callable[[str, str], Any]], ...] = (
    ("URI", "uri", _uri),
    ("Version", "version", _version),
    ("Chain ID", "chain_id", _chain_id),
    ("Nonce", "nonce", _matching(_NONCE, "8 to 64 letters and digits")),
    ("Issued At", "issued_at", _date_time),
    ("Expiration Time", "expiration_time", _date_time),
    ("Not Before", "not_before", _date_time),
    ("Request ID", "request_id", _matching(_PCHARS, "RFC 3986 path characters")),
)


def _fields(lines: list[str]) -> dict[str, Any]:
    """SiwsMessage's keyword arguments from the field lines (keys from _FIELDS)."""
    values: dict[str, Any] = {}
    position = 0
    for label, attribute, parse in _FIELDS:
        prefix = f"{label}: "
        if position < len(lines) and lines[position].startswith(prefix):
            values[attribute] = parse(label, lines[position][len(prefix) :])
            position += 1
    if position < len(lines) and lines[position] == "Resources:":
        resources = lines[position + 1 :]
        if not all(line.startswith("- ") for line in resources):
            raise MalformedSiwsMessage("resources must be '- <uri>' lines")
        values["resources"] = [_uri("a resource", line[2:]) for line in resources]
    elif position < len(lines):
        # A field out of order or repeated, an unknown one, or a stray blank line.
        raise MalformedSiwsMessage(f"unexpected line: {lines[position][:40]!r}")
    if "nonce" not in values:
        raise MalformedSiwsMessage("Nonce is missing: sign the nonce this server issued")
    return values


def siws_message_parse(*, text: str) -> SiwsMessage:
    """Parse a Sign In With Solana message, or raise MalformedSiwsMessage."""
    if "\r" in text:
        raise MalformedSiwsMessage("line breaks must be \\n")
    lines = text.split("\n")
    header = _HEADER.fullmatch(lines[0])
    if header is None:
        raise MalformedSiwsMessage("the first line is not a Solana sign-in request")
    if len(lines) < 2 or solana_public_key(lines[1]) is None:
        raise MalformedSiwsMessage("the address is not a base58 Solana public key")
    rest = lines[2:]
    if rest and rest[0] != "":
        raise MalformedSiwsMessage("a blank line must follow the address")
    # "\n\n<statement>" comes first when there is one, then "\n\n" and the fields; the
    # statement and the fields have no blank line in them, so a blank third line tells.
    statement = None
    if len(rest) > 2 and rest[2] == "":
        statement = rest[1]
        if not statement:
            raise MalformedSiwsMessage("empty statement")
        rest = rest[2:]
    values = _fields(rest[1:])
    return SiwsMessage(domain=header["domain"], address=lines[1], statement=statement, **values)


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
