"""Certificates are signed over RFC 8785 (JCS) canonical JSON, so any verifier reproduces the
bytes: checked against the RFC's published examples and number table, and against an
independent implementation (JavaScript's own JSON.stringify, which JCS is defined by)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import shutil
import struct
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings
from nacl.signing import SigningKey

from trace.services.certificates import (
    canonical_json,
    certificate_check,
    certificate_document,
    certificate_issue,
    key_id_of,
)
from trace.tests.factories import ContractInteractionFactory, ProjectFactory

NOW = dt.datetime(2025, 4, 1, 9, 30, 15, tzinfo=dt.UTC)
LAST = dt.date(2025, 3, 31)

# RFC 8785, Appendix B: IEEE 754 doubles (hex) and their JCS serialisation.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # round to even
]


@pytest.mark.parametrize(("ieee", "expected"), APPENDIX_B)
def test_numbers_are_written_as_rfc_8785_appendix_b_says(ieee, expected):
    (number,) = struct.unpack(">d", bytes.fromhex(ieee))
    assert canonical_json({"n": number}) == b'{"n":' + expected.encode() + b"}"


def test_the_rfc_8785_section_3_2_2_example():
    parsed = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )

    assert (
        canonical_json(parsed)
        == (
            '{"literals":[null,true,false],'
            '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


def test_the_rfc_8785_section_3_2_3_sorting_example():
    """Keys sort by UTF-16 code units: the emoji (a surrogate pair, D83D) before U+FB33."""
    parsed = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control\u007f",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }

    assert canonical_json(parsed) == (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")


@pytest.fixture
def certificate_document_with_floats(db):
    project = ProjectFactory(
        name="Ünïcode ✓ 日本 \U0001f680", chain="eip155:8453", organization__name="Zürich 🚀 DAO"
    )
    # Three wallets on the last day of four active in the month: a DAU/MAU of 0.75 and a
    # score with a fractional part; a bot share of 1/3 once one of three is suspected.
    for n in range(3):
        ContractInteractionFactory(
            project=project,
            wallet_address=f"0x{n + 1:040x}",
            occurred_at=dt.datetime.combine(LAST, dt.time(10 + n), tzinfo=dt.UTC),
            value_usd=Decimal("33.33"),
        )
    ContractInteractionFactory(
        project=project,
        wallet_address=f"0x{9:040x}",
        occurred_at=dt.datetime.combine(LAST - dt.timedelta(days=20), dt.time(9), tzinfo=dt.UTC),
    )
    project.wallet_flags.create(wallet_address=f"0x{1:040x}", reason="velocity", score=0.9)
    certificate = certificate_issue(
        project_id=project.id, date_from=LAST - dt.timedelta(days=6), date_to=LAST, now=NOW
    )
    return certificate_document(certificate)


def test_a_certificate_with_non_ascii_names_and_floats_is_jcs(certificate_document_with_floats):
    body = certificate_document_with_floats["certificate"]
    metrics = body["metrics"]
    assert (metrics["bot_share"], metrics["dau"], metrics["mau"]) == (0.3333, 3, 4)
    text = canonical_json(body).decode("utf-8")
    # UTF-8 as is (never \u escapes), no spaces, keys sorted, ECMAScript numbers.
    contract = body["contracts"][0]["address"]
    organization = body["organization"]["id"]
    assert text == (
        f'{{"certificate_id":"{body["certificate_id"]}","chain":"eip155:8453",'
        f'"contracts":[{{"address":"{contract}","chain":"eip155:8453",'
        '"control_verified":false}],'
        '"issued_at":"2025-04-01T09:30:15Z","issuer":"Fabrknt Suite",'
        '"metrics":{"activity_score":46.67,"bot_share":0.3333,"dau":3,"mau":4,'
        '"proven_conversion_share":null,"transaction_count":3,"transaction_volume_usd":"99.99","unpriced_transfers":0,'
        '"volume_flagged_days":0,"wau":3},'
        f'"organization":{{"id":"{organization}","name":"Zürich \U0001f680 DAO"}},'
        '"period":{"from":"2025-03-25","to":"2025-03-31"},'
        f'"project_id":"{body["project_id"]}","project_name":"Ünïcode ✓ 日本 \U0001f680",'
        '"valid_until":"2025-06-30T09:30:15Z","verified_metrics":null,"version":2}'
    )
    assert json.loads(text) == body


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_an_independent_implementation_reproduces_the_signed_bytes(
    certificate_document_with_floats,
):
    """JCS is ECMAScript's JSON.stringify with object keys sorted by UTF-16 code units,
    which is what JavaScript's default sort does: a ten-line verifier in another runtime."""
    script = """
    const canonical = (v) => Array.isArray(v) ? "[" + v.map(canonical).join(",") + "]"
      : v !== null && typeof v === "object"
        ? "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k]))
            .join(",") + "}"
        : JSON.stringify(v);
    let input = "";
    process.stdin.on("data", (chunk) => { input += chunk; });
    process.stdin.on("end", () => process.stdout.write(canonical(JSON.parse(input))));
    """
    document = certificate_document_with_floats
    # What a client saved: pretty-printed, keys in another order, non-ASCII escaped.
    saved = json.dumps(document["certificate"], indent=2, ensure_ascii=True)

    node = subprocess.run(
        ["node", "-e", script], input=saved.encode(), capture_output=True, check=True, timeout=30
    )

    assert node.stdout == canonical_json(document["certificate"])
    assert certificate_check(document, now=NOW).valid is True


def _signed(certificate: dict, signed_over: bytes) -> dict:
    key = SigningKey(base64.b64decode(settings.CERTIFICATE_SIGNING_KEY))
    return {
        "certificate": certificate,
        "signature": base64.b64encode(key.sign(signed_over).signature).decode(),
        "algorithm": "ed25519",
        "key_id": key_id_of(bytes(key.verify_key)),
    }


LEGACY = {
    "certificate_id": "6d1f3b1e-8c55-4c1b-9d7e-0e7f1b0c2a11",
    "version": 1,
    "issuer": "Fabrknt Suite",
    "project_id": "0b7f3a55-2f4b-4d7c-8d1e-5c6f7a8b9c0d",
    "project_name": "Café",
    "chain": "eip155:8453",
    "period": {"from": "2025-03-02", "to": "2025-03-31"},
    # 1e-07 in Python's json, 1e-7 in JCS: the two renderings differ.
    "metrics": {"dau": 1, "bot_share": 1e-07, "activity_score": 12.5},
    "issued_at": "2025-04-01T09:30:15Z",
    "valid_until": "2025-06-30T09:30:15Z",
}


def _legacy_bytes(certificate: dict) -> bytes:
    return json.dumps(
        certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def test_certificates_signed_before_rfc_8785_still_verify():
    assert _legacy_bytes(LEGACY) != canonical_json(LEGACY)
    document = _signed(LEGACY, _legacy_bytes(LEGACY))

    assert certificate_check(document, now=NOW).valid is True
    # The version is signed: calling it version 2 (JCS) breaks the signature.
    relabelled = {**document, "certificate": {**LEGACY, "version": 2}}
    check = certificate_check(relabelled, now=NOW)
    assert (check.valid, check.reason) == (False, "the signature does not match the certificate")


def test_a_version_2_certificate_signed_over_the_legacy_bytes_is_refused():
    certificate = {**LEGACY, "version": 2}
    document = _signed(certificate, _legacy_bytes(certificate))

    check = certificate_check(document, now=NOW)

    assert (check.valid, check.reason) == (False, "the signature does not match the certificate")


def test_a_document_json_cannot_carry_exactly_is_invalid_not_an_error():
    certificate = {**LEGACY, "version": 2, "metrics": {"dau": 2**60}}
    document = _signed(certificate, b"whatever")

    check = certificate_check(document, now=NOW)

    assert check.valid is False
    assert check.reason.startswith("the certificate is not canonical JSON (RFC 8785): ")


def test_verify_certificate_accepts_a_saved_version_1_file(tmp_path):
    from django.core.management import call_command

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    certificate = {
        **LEGACY,
        "issued_at": now.isoformat().replace("+00:00", "Z"),
        "valid_until": (now + dt.timedelta(days=90)).isoformat().replace("+00:00", "Z"),
    }
    assert _legacy_bytes(certificate) != canonical_json(certificate)
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(_signed(certificate, _legacy_bytes(certificate)), indent=2))
    out = io.StringIO()

    call_command("verify_certificate", str(path), stdout=out)

    assert out.getvalue().startswith("VALID: signed by key ")
