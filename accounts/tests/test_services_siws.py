"""The Sign In With Solana parser and Ed25519 check (accounts/services/siws.py).

The message shapes are those of the Sign In With Solana spec's ABNF and of the
wallet-standard's createSignInMessageText and its tests (@solana/wallet-standard-util,
src/signIn.ts and src/__tests__/signIn.ts), built here by `sign_in_message_text`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from accounts.services.siws import (
    MalformedSiwsMessage,
    siws_message_parse,
    siws_signature_valid,
)
from accounts.tests.signing import SolanaWallet, sign_in_message_text

ADDRESS = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
NONCE = "oBbLoEldZs0a1b2c"
FULL = (
    "localhost:8000 wants you to sign in with your Solana account:\n"
    f"{ADDRESS}\n"
    "\n"
    "Clicking Sign only proves you own this wallet.\n"
    "\n"
    "URI: http://localhost:8000/sign-in\n"
    "Version: 1\n"
    "Chain ID: mainnet\n"
    f"Nonce: {NONCE}\n"
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
    assert parsed.nonce == NONCE
    assert parsed.issued_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert parsed.expiration_time == datetime(2026, 11, 21, 10, 10, tzinfo=UTC)
    assert parsed.not_before == datetime(2026, 11, 21, 9, 59, tzinfo=UTC)
    assert parsed.request_id == "7f3a"
    assert parsed.resources == [
        "https://phantom.com/learn/developers/sign-in-with-solana",
        "https://phantom.app/",
    ]


def test_the_minimal_message_is_domain_address_and_our_nonce():
    text = sign_in_message_text(domain="testserver", address=ADDRESS, nonce=NONCE)
    assert (
        text
        == f"testserver wants you to sign in with your Solana account:\n{ADDRESS}\n\nNonce: {NONCE}"
    )

    parsed = siws_message_parse(text=text)

    assert (parsed.domain, parsed.address, parsed.nonce) == ("testserver", ADDRESS, NONCE)
    assert parsed.statement is None
    assert (parsed.uri, parsed.version, parsed.chain_id, parsed.chain) == (None, None, None, None)
    assert (parsed.issued_at, parsed.expiration_time, parsed.not_before) == (None, None, None)
    assert (parsed.request_id, parsed.resources) == (None, None)


def test_a_statement_before_the_fields():
    parsed = siws_message_parse(
        text=sign_in_message_text(
            domain="testserver", address=ADDRESS, statement="Nonce: looks:like a field", nonce=NONCE
        )
    )
    assert (parsed.statement, parsed.nonce) == ("Nonce: looks:like a field", NONCE)


def test_an_empty_resources_list_parses_and_differs_from_none():
    parsed = siws_message_parse(
        text=sign_in_message_text(domain="testserver", address=ADDRESS, nonce=NONCE, resources=[])
    )
    assert parsed.resources == []


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.000Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.123456789Z", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2024-02-29t23:59:59z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2023-12-31T19:30:00-04:30", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00-00:00", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_rfc_3339_times_are_read(written, meant):
    parsed = siws_message_parse(
        text=sign_in_message_text(
            domain="testserver", address=ADDRESS, nonce=NONCE, issued_at=written
        )
    )
    assert parsed.issued_at == meant
    assert parsed.issued_at.utcoffset() is not None


def test_offsets_are_kept():
    parsed = siws_message_parse(text=FULL.replace("09:59:00Z", "11:59:00+02:00"))
    assert parsed.not_before.utcoffset() == timedelta(hours=2)
    assert parsed.not_before.tzinfo == timezone(timedelta(hours=2))


def _without(line_prefix: str) -> str:
    return "\n".join(line for line in FULL.split("\n") if not line.startswith(line_prefix))


@pytest.mark.parametrize("label", ["URI", "Version", "Chain ID", "Issued At", "Request ID"])
def test_each_optional_field_may_be_left_out(label):
    parsed = siws_message_parse(text=_without(f"{label}: "))
    assert parsed.nonce == NONCE


NOT_RFC_3339 = "is not an RFC 3339 date-time"
NO_SUCH_TIME = "is not a valid date-time"


@pytest.mark.parametrize(
    ("issued_at", "reason"),
    [
        ("20240101T000000Z", NOT_RFC_3339),  # ISO 8601 basic format
        ("2024-01-01T00:00:00", NOT_RFC_3339),  # no time zone
        ("2024-01-01", NOT_RFC_3339),  # a date alone
        ("2024-01-01 00:00:00Z", NOT_RFC_3339),  # a space for the "T"
        ("2024-01-01T00:00Z", NOT_RFC_3339),  # no seconds
        ("2024-01-01T00:00:00,5Z", NOT_RFC_3339),  # a decimal comma
        ("2024-01-01T00:00:00.Z", NOT_RFC_3339),  # a dot without digits
        ("2024-01-01T00:00:00+0200", NOT_RFC_3339),  # offset without its colon
        ("2024-01-01T00:00:00+02", NOT_RFC_3339),  # offset without minutes
        ("2024-01-01T00:00:00+02:60", NOT_RFC_3339),
        ("2024-W01-1T00:00:00Z", NOT_RFC_3339),  # an ISO week date
        ("2024-001T00:00:00Z", NOT_RFC_3339),  # an ISO ordinal date
        ("+2024-01-01T00:00:00Z", NOT_RFC_3339),
        ("2024-1-1T0:0:0Z", NOT_RFC_3339),
        ("1704067200", NOT_RFC_3339),  # a Unix time
        ("Wed Oct 05 2011 16:48:00 GMT+0200 (CEST)", NOT_RFC_3339),
        ("2024-01-01T00:00:00UTC", NOT_RFC_3339),
        ("２０２４-01-01T00:00:00Z", NOT_RFC_3339),  # digits that are not ASCII
        ("2024-13-01T00:00:00Z", NO_SUCH_TIME),
        ("2023-02-29T00:00:00Z", NO_SUCH_TIME),
        ("2024-01-01T24:00:00Z", NO_SUCH_TIME),
        ("2024-01-01T00:60:00Z", NO_SUCH_TIME),
        ("2016-12-31T23:59:60Z", NO_SUCH_TIME),  # a leap second Python cannot hold
        ("2024-01-01T00:00:00+24:00", NO_SUCH_TIME),
    ],
)
@pytest.mark.parametrize("label", ["Issued At", "Expiration Time", "Not Before"])
def test_times_must_be_rfc_3339(label, issued_at, reason):
    text = FULL.replace(
        {
            "Issued At": "2026-11-21T10:00:00.000Z",
            "Expiration Time": "2026-11-21T10:10:00.000Z",
            "Not Before": "2026-11-21T09:59:00Z",
        }[label],
        issued_at,
    )
    with pytest.raises(MalformedSiwsMessage, match=f"^{label} {reason}$"):
        siws_message_parse(text=text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the first line is not"),
        (FULL.split("\n")[0], "the address is not"),
        (FULL.replace("Solana account", "Ethereum account"), "the first line is not"),
        (FULL.replace(ADDRESS, "0x" + "ab" * 20), "not a base58 Solana public key"),
        (FULL.replace(ADDRESS, ADDRESS[:-4]), "not a base58 Solana public key"),
        (FULL.replace(ADDRESS, "1" + ADDRESS), "not a base58 Solana public key"),
        (_without("Nonce: "), "Nonce is missing"),
        (
            f"testserver wants you to sign in with your Solana account:\n{ADDRESS}",
            "Nonce is missing",
        ),
        (FULL.replace("Version: 1", "Version: 2"), "Version must be 1"),
        (FULL.replace("Version: 1", "Version: "), "Version must be 1"),
        (FULL.replace(f"Nonce: {NONCE}", "Nonce: short"), "Nonce must be"),
        (FULL.replace(f"Nonce: {NONCE}", "Nonce: has-dash-123"), "Nonce must be"),
        (FULL.replace(f"Nonce: {NONCE}", f"Nonce:  {NONCE}"), "Nonce must be"),
        (FULL.replace("Chain ID: mainnet", "Chain ID: Main Net"), "Chain ID is not"),
        (FULL.replace("Chain ID: mainnet", "Chain ID: solana:localnet"), "Chain ID is not"),
        (FULL.replace("Chain ID: mainnet", "Chain ID: mainnet-beta"), "Chain ID is not"),
        (FULL.replace("Chain ID: mainnet", "Chain ID: eip155:1"), "Chain ID is not"),
        (FULL.replace("URI: http://localhost:8000/sign-in", "URI: /sign-in"), "URI must be"),
        (FULL.replace("URI: http://localhost:8000/sign-in", "URI: http://a b/"), "URI must be"),
        (FULL.replace("URI: http://localhost:8000/sign-in", "URI: "), "URI must be"),
        (FULL.replace("Request ID: 7f3a", "Request ID: 7f 3a"), "Request ID must be"),
        (FULL.replace("Request ID: 7f3a", "Request ID: "), "Request ID must be"),
        (FULL.replace("- https://phantom.app/", "- not a uri"), "a resource must be"),
        (FULL.replace("- https://phantom.app/", "- "), "a resource must be"),
        (FULL.replace("- https://phantom.app/", "-https://phantom.app/"), "resources must be"),
        (FULL + "\n", "resources must be"),
        (FULL + "\nExtra: field", "resources must be"),
        (FULL.split("\nResources:")[0] + "\n", "unexpected line: ''"),
        (FULL.replace("Version: 1\nChain ID: mainnet", "Chain ID: mainnet\nVersion: 1"), "Version"),
        (FULL.replace("Request ID: 7f3a\n", "Request ID: 7f3a\nRequest ID: 7f3b\n"), "unexpected"),
        (FULL.replace("Request ID: 7f3a\n", "Request ID: 7f3a\nUnknown: x\n"), "unexpected line"),
        (FULL.replace("\n", "\r\n"), "line breaks"),
        (FULL.replace("localhost:8000 wants", "evil.example/path wants"), "the first line is not"),
        (FULL.replace("localhost:8000 wants", " localhost:8000 wants"), "the first line is not"),
        (FULL.replace(f"{ADDRESS}\n\n", f"{ADDRESS}\n"), "a blank line must follow"),
        (FULL.replace("wallet.\n\n", "wallet.\n\n\n"), "unexpected line: ''"),
        (FULL.replace("Clicking Sign only proves you own this wallet.", ""), "empty statement"),
        # EIP-4361's way of leaving the statement out is not the wallet-standard's.
        (FULL.replace("Clicking Sign only proves you own this wallet.\n", ""), "unexpected line"),
        # A statement alone: a message without fields has no nonce.
        (
            f"testserver wants you to sign in with your Solana account:\n{ADDRESS}\n\nHello",
            "unexpected line: 'Hello'",
        ),
        # The wallet-standard's own tests build a multi-line statement ("S\n\nS"), but the
        # spec's ABNF (message-statement has no LF) and Phantom's field notes forbid it,
        # and Phantom refuses to sign a message that fails that ABNF: deliberately refused.
        (FULL.replace("wallet.\n", "wallet.\n\nAnd more.\n"), "unexpected line: 'And more.'"),
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
