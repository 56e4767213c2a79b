"""What the log redaction replaces in text, shape by shape (the end-to-end proof through
real requests is test_logs.py)."""

from __future__ import annotations

import pytest

from fabrknt.ops.redaction import redact_text, redact_value, secret_values_forget

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nx2k=\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Max retries exceeded with url: /v0/webhooks/abc?api-key=7f3c9a1e2b4d",
            "Max retries exceeded with url: /v0/webhooks/abc?api-key=[REDACTED]",
        ),
        (
            "GET /oauth/callback?code=4/0AfJ&state=xyz HTTP/1.1",
            "GET /oauth/callback?code=[REDACTED]&state=[REDACTED] HTTP/1.1",
        ),
        ("PASSWORD=hunter2hunter2 retry", "PASSWORD=[REDACTED] retry"),
        (f"key file: {PEM} end", "key file: [REDACTED] end"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [REDACTED]"),
        ("sent Bearer abcdefghijklmnopqrstuvwxyz", "sent Bearer [REDACTED]"),
        ("header sha256=" + "a" * 64 + " refused", "header [REDACTED] refused"),
        ("sig 0x" + "1b" * 65 + " bad", "sig [REDACTED] bad"),
        ("key fab_0123abcd_QWERTYUIOPasdfghjkl used", "key fab_0123abcd_[REDACTED] used"),
        # Not secrets: a transaction hash, an address, a plain sentence.
        (
            "tx 0x" + "ab" * 32 + " from 0x" + "cd" * 20,
            "tx 0x" + "ab" * 32 + " from 0x" + "cd" * 20,
        ),
        ("Ping 5f1c answered by worker-1", "Ping 5f1c answered by worker-1"),
    ],
)
def test_secret_shapes_and_names_are_redacted(text, expected):
    assert redact_text(text) == expected


def test_secret_settings_and_url_passwords_are_redacted_wherever_they_appear(settings):
    settings.HELIUS_API_KEY = "hk-5d0c7e2a91f4"
    settings.CELERY_BROKER_URL = "redis://:br0ker-pa55word@redis:6379/2"
    secret_values_forget()
    try:
        text = redact_text("helius said hk-5d0c7e2a91f4; broker br0ker-pa55word down")
    finally:
        secret_values_forget()

    assert text == "helius said [REDACTED]; broker [REDACTED] down"


def test_fields_named_like_secrets_are_dropped_whole():
    assert redact_value({"X-Api-Key": "anything", "nested": {"client_secret": 1}, "n": 2}) == {
        "X-Api-Key": "[REDACTED]",
        "nested": {"client_secret": "[REDACTED]"},
        "n": 2,
    }
