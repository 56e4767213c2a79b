"""The Discord relay's signature: Ed25519 over `timestamp + body`, as Discord itself signs
interactions (`X-Signature-Ed25519`: hex signature, `X-Signature-Timestamp`: Unix seconds).

Our bot signs with DISCORD_RELAY_SIGNING_KEY (a base64 seed); the web tier checks with
DISCORD_RELAY_PUBLIC_KEY, on the raw body, before anything is parsed. A timestamp older
than DISCORD_RELAY_MAX_AGE_SECONDS, or as far in the future, is refused: a captured relay
cannot be replayed later (and a replay inside the window is an idempotent repeat).
"""

from __future__ import annotations

import base64
import binascii
import re
import time

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def relay_signing_key(seed_base64: str) -> SigningKey:
    return SigningKey(base64.b64decode(seed_base64, validate=True))


def relay_public_key_of(seed_base64: str) -> str:
    """The base64 public key (DISCORD_RELAY_PUBLIC_KEY) of a signing seed."""
    return base64.b64encode(bytes(relay_signing_key(seed_base64).verify_key)).decode()


def relay_sign(*, seed_base64: str, timestamp: str, body: bytes) -> str:
    """The hex signature of `timestamp + body`."""
    signed = relay_signing_key(seed_base64).sign(timestamp.encode() + body)
    return signed.signature.hex()


def relay_headers(*, seed_base64: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers a relay POST carries."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        SIGNATURE_HEADER: relay_sign(seed_base64=seed_base64, timestamp=timestamp, body=body),
        TIMESTAMP_HEADER: timestamp,
        "Content-Type": "application/json",
    }


def relay_signature_valid(
    *,
    public_key_base64: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    max_age_seconds: int,
    now: float | None = None,
) -> bool:
    """Whether the relay is signed by our bot's key and fresh. Anything malformed, however
    hostile, is simply not valid."""
    if not public_key_base64 or not signature or not timestamp:
        return False
    if not _HEX_SIGNATURE.fullmatch(signature) or not _TIMESTAMP.fullmatch(timestamp):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > max_age_seconds:
        return False
    try:
        key = VerifyKey(base64.b64decode(public_key_base64, validate=True))
        key.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        return False
    return True
