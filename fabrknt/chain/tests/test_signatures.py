"""fabrknt.chain.signatures: webhook signature and shared-secret checks."""

from __future__ import annotations

import hashlib
import hmac

from fabrknt.chain.signatures import hmac_sha256_hex_valid, shared_secret_valid


def test_hmac_signature_check():
    body = b'{"webhookId":"wh_1"}'
    good = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert hmac_sha256_hex_valid(secret="key", body=body, signature=good)
    assert hmac_sha256_hex_valid(secret="key", body=body, signature=good.upper())
    assert not hmac_sha256_hex_valid(secret="key", body=body + b" ", signature=good)
    assert not hmac_sha256_hex_valid(secret="other", body=body, signature=good)
    assert not hmac_sha256_hex_valid(secret="", body=body, signature=good)
    assert not hmac_sha256_hex_valid(secret="key", body=body, signature=None)


def test_shared_secret_check():
    assert shared_secret_valid(secret="s3cret", given="s3cret")
    assert not shared_secret_valid(secret="s3cret", given="s3cre")
    assert not shared_secret_valid(secret="s3cret", given=None)
    assert not shared_secret_valid(secret="", given="")
