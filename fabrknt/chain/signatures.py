"""Signature checks: that a webhook really comes from the provider (in constant time),
and that a wallet signed a message."""

from __future__ import annotations

import hashlib
import hmac
import re

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as EthValidationError

_EVM_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")  # r, s and v: 65 bytes


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


def evm_personal_sign_valid(*, message: str, address: str, signature: str) -> bool:
    """Whether `signature` (0x and 65 bytes in hex) is `address`'s EIP-191 personal_sign
    of the UTF-8 `message`. Anything malformed, however hostile, is simply not valid."""
    if not isinstance(signature, str) or not _EVM_SIGNATURE.fullmatch(signature):
        return False
    try:
        # recover_message is a combomethod, which its types leave as Any.
        signer: str = Account.recover_message(encode_defunct(text=message), signature=signature)
    except (BadSignature, ValueError, EthValidationError):  # e.g. 65 zero bytes, a bad v
        return False
    return signer.lower() == address.lower()
