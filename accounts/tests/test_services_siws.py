"""The Sign In With Solana parser and Ed25519 check (accounts/services/siws.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.services.siws import (
    MalformedSiwsMessage,
    siws_message_parse,
    siws_signature_valid,
)
from accounts.tests.signing import SolanaWallet

ADDRESS = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
FULL = (
    "localhost:8000 wants you to sign in with your Solana account:\n"
    f"{ADDRESS}\n"
    "\n"
    "Clicking Sign only proves you own this wallet.\n"
    "\n"
    "URI: http://localhost:8000/sign-in\n"
    "Version: 1\n"
    "Chain ID: mainnet\n"
    "Nonce: oBbLoEldZs0a1b2c\n"
    "Issued At: 2026-11-21T10:00:00.000Z\n"
    "Expiration Time: 2026-11-21T10:10:00.000Z\n"
    "Not Before: 2026-11-21T09:59:00Z\n"
    "Request ID: 7f3a\n"
    "Resources:\n"
    "- https://phantom.com/learn/developers/sign-in-with-solana\n"
    "- https://phantom.app/"
)


def test_parses_every_field_of_phantoms_format():
    parsed = siws_message_parse(text=FULL)

    assert parsed.domain == "localhost:8000"
    assert parsed.address == ADDRESS
    assert parsed.statement == "Clicking Sign only proves you own this wallet."
    assert parsed.uri == "http://localhost:8000/sign-in"
    assert parsed.version == "1"
    assert parsed.chain_id == "mainnet"
    assert parsed.chain == "solana:mainnet"
    assert parsed.nonce == "oBbLoEldZs0a1b2c"
    assert parsed.issued_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert parsed.expiration_time == datetime(2026, 11, 21, 10, 10, tzinfo=UTC)
    assert parsed.not_before == datetime(2026, 11, 21, 9, 59, tzinfo=UTC)
    assert parsed.request_id == "7f3a"
    assert parsed.resources == [
        "https://phantom.com/learn/developers/sign-in-with-solana",
        "https://phantom.app/",
    ]


def test_statement_and_optional_fields_may_be_absent():
    text = (
        f"testserver wants you to sign in with your Solana account:\n{ADDRESS}\n\n"
        "URI: http://testserver/\nVersion: 1\nChain ID: solana:devnet\n"
        "Nonce: abcdEFGH1234\nIssued At: 2026-11-21T10:00:00Z"
    )

    parsed = siws_message_parse(text=text)

    assert (parsed.statement, parsed.expiration_time, parsed.resources) == (None, None, [])
    assert parsed.chain == "solana:devnet"


def _without(line_prefix: str) -> str:
    return "\n".join(line for line in FULL.split("\n") if not line.startswith(line_prefix))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "too short"),
        (FULL.replace("Solana account", "Ethereum account"), "the first line is not"),
        (FULL.replace(ADDRESS, "0x" + "ab" * 20), "not a base58 Solana public key"),
        (FULL.replace(ADDRESS, ADDRESS[:-4]), "not a base58 Solana public key"),
        (FULL.replace(ADDRESS, "1" + ADDRESS), "not a base58 Solana public key"),
        (_without("URI: "), "URI is missing"),
        (_without("Nonce: "), "Nonce is missing"),
        (_without("Issued At: "), "Issued At is missing"),
        (FULL.replace("Version: 1", "Version: 2"), "Version must be 1"),
        (FULL.replace("Nonce: oBbLoEldZs0a1b2c", "Nonce: short"), "Nonce must be"),
        (FULL.replace("Nonce: oBbLoEldZs0a1b2c", "Nonce: has-dash-123"), "Nonce must be"),
        (FULL.replace("Chain ID: mainnet", "Chain ID: Main Net"), "Chain ID is not"),
        (FULL.replace("2026-11-21T10:00:00.000Z", "yesterday"), "Issued At is not an ISO"),
        (FULL.replace("2026-11-21T10:00:00.000Z", "2026-11-21T10:00:00"), "has no time zone"),
        (FULL + "\n", "resources must be"),
        (FULL + "\nExtra: field", "resources must be"),
        (FULL.replace("Version: 1\nChain ID: mainnet", "Chain ID: mainnet\nVersion: 1"), "Version"),
        (FULL.replace("\n", "\r\n"), "line breaks"),
        (FULL.replace("Request ID: 7f3a\n", "Request ID: 7f3a\nUnknown: x\n"), "unexpected line"),
        (FULL.replace("localhost:8000 wants", "evil.example/path wants"), "the first line is not"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(text, reason):
    with pytest.raises(MalformedSiwsMessage, match=reason):
        siws_message_parse(text=text)


def test_signature_check_uses_the_address_key_over_the_utf8_text():
    wallet = SolanaWallet()
    text = "Sign in ✓"

    assert siws_signature_valid(message=text, address=wallet.address, signature=wallet.sign(text))
    assert not siws_signature_valid(
        message=text + ".", address=wallet.address, signature=wallet.sign(text)
    )
    assert not siws_signature_valid(
        message=text, address=SolanaWallet().address, signature=wallet.sign(text)
    )
    assert not siws_signature_valid(message=text, address=wallet.address, signature="")
    assert not siws_signature_valid(message=text, address=wallet.address, signature="0x12")
    assert not siws_signature_valid(message="\ud800", address=wallet.address, signature="1" * 88)
