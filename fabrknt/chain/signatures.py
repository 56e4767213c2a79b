"""Checks that a webhook really comes from the provider, in constant time."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex_valid(*, secret: str, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the hex HMAC-SHA256 of the raw `body` under `secret`.

    Alchemy signs this way (`X-Alchemy-Signature`, no prefix, no timestamp). Hex case is
    ignored; anything that is not 64 hex digits simply fails the comparison.
    """
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def shared_secret_valid(*, secret: str, given: str | None) -> bool:
    """Whether a header carries exactly the shared secret (Helius' `Authorization`)."""
    if not secret or given is None:
        return False
    return hmac.compare_digest(secret.encode(), given.encode())
