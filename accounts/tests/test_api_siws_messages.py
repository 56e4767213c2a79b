"""POST /api/v1/auth/siws with every shape of message a Solana wallet signs.

A wallet builds the text from the dapp's `signInInput` with the wallet-standard's
createSignInMessageText (@solana/wallet-standard-util, src/signIn.ts), leaving out each
field the input leaves out; `sign_in_message_text` is that function in Python. The inputs
are those of Phantom's sign-in-with-solana README and example dapp (`createSignInData`,
`createSignInErrorData`) and of the wallet-standard's tests (src/__tests__/signIn.ts),
with our domain and a nonce we issued: our contract requires the nonce, which the spec
leaves optional. Each is signed with a fresh Ed25519 key and signs in end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import SignInNonce, User, Wallet
from accounts.tests.signing import SolanaWallet, now_utc, sign_in_message_text, siws_text

pytestmark = pytest.mark.django_db

SIWS = "/api/v1/auth/siws"
PHANTOM_STATEMENT = (
    "Clicking Sign or Approve only means you have proved this wallet is owned by you. "
    "This request will not trigger any blockchain transaction or cost any gas fee."
)


def js_iso(moment: datetime) -> str:
    """JavaScript's Date.prototype.toISOString(), which Phantom's example uses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _input(shape: str, nonce: str) -> dict:
    """The signInInput of one shape, less the address (the wallet fills it in)."""
    now = now_utc()
    inputs: dict[str, dict] = {
        "minimal: domain, address and nonce": {},
        "with a statement": {"statement": "S"},
        "Phantom's createSignInData (no URI)": {
            "statement": PHANTOM_STATEMENT,
            "version": "1",
            "chain_id": "mainnet",
            "issued_at": js_iso(now),
            "resources": ["https://example.com", "https://phantom.app/"],
        },
        "Phantom's createSignInErrorData, with our domain": {
            "statement": "Sign-in to connect!",
            "uri": "http://testserver",
            "version": "1",
            "chain_id": "solana:mainnet",
            "issued_at": js_iso(now),
            "resources": ["https://example.com", "https://phantom.app/"],
        },
        "wallet-standard's fields: a URI": {"uri": "https://testserver"},
        "wallet-standard's statement and fields": {"statement": "S", "uri": "https://testserver"},
        "every field": {
            "statement": "Sign in to Fabrknt Suite.",
            "uri": "http://testserver/sign-in?next=%2Ftrace%2F",
            "version": "1",
            "chain_id": "devnet",
            "issued_at": js_iso(now),
            "expiration_time": js_iso(now + timedelta(minutes=10)),
            "not_before": js_iso(now - timedelta(minutes=1)),
            "request_id": "req-7f3a:b@c",
            "resources": ["https://fabrknt.example/terms"],
        },
        "an empty resources list": {"statement": "S", "resources": []},
        "several resources": {
            "resources": [
                "ipfs://Qme7ss3ARVgxv6rXqVPiikMJ8u2NLgmgszg13pYrDKEoiu",
                "https://example.com/my-web2-claim.json",
                "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
            ]
        },
        "without Issued At": {"uri": "http://testserver/", "version": "1", "chain_id": "mainnet"},
        "without Version": {"uri": "http://testserver/", "chain_id": "mainnet"},
        "times with offsets and lower-case t and z": {
            "issued_at": now.astimezone(UTC).strftime("%Y-%m-%dt%H:%M:%Sz"),
            "expiration_time": (now + timedelta(hours=1))
            .astimezone(timezone.get_fixed_timezone(-270))
            .isoformat(timespec="seconds"),
        },
    }
    return {"domain": "testserver", "nonce": nonce, **inputs[shape]}


SHAPES = [
    "minimal: domain, address and nonce",
    "with a statement",
    "Phantom's createSignInData (no URI)",
    "Phantom's createSignInErrorData, with our domain",
    "wallet-standard's fields: a URI",
    "wallet-standard's statement and fields",
    "every field",
    "an empty resources list",
    "several resources",
    "without Issued At",
    "without Version",
    "times with offsets and lower-case t and z",
]
RECORDED_CHAIN = {
    "Phantom's createSignInErrorData, with our domain": "solana:mainnet",
    "every field": "solana:devnet",
}


def _signs_in(api, solana: SolanaWallet, text: str, chain: str) -> None:
    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    assert response.status_code == 200, response.content
    wallet = Wallet.objects.get()
    assert (wallet.namespace, wallet.chain, wallet.address) == ("solana", chain, solana.address)
    assert response.json()["user"]["wallets"] == [
        {"chain": chain, "address": solana.address, "kind": "eoa"}
    ]
    assert response.cookies["sessionid"].value
    assert SignInNonce.objects.filter(used_at__isnull=False).count() == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_every_wallet_message_shape_signs_in(api, nonce, shape):
    solana = SolanaWallet()
    text = sign_in_message_text(address=solana.address, **_input(shape, nonce))

    _signs_in(api, solana, text, RECORDED_CHAIN.get(shape, "solana:mainnet"))


@pytest.mark.parametrize(
    ("chain_id", "recorded"),
    [
        ("mainnet", "solana:mainnet"),
        ("devnet", "solana:devnet"),
        ("testnet", "solana:testnet"),
        ("solana:mainnet", "solana:mainnet"),
        ("solana:devnet", "solana:devnet"),
        ("solana:testnet", "solana:testnet"),
        (None, "solana:mainnet"),  # a key is the same account on every cluster
    ],
)
def test_each_chain_id_signs_in_and_is_recorded(api, nonce, chain_id, recorded):
    solana = SolanaWallet()
    text = sign_in_message_text(
        domain="testserver", address=solana.address, chain_id=chain_id, nonce=nonce
    )

    _signs_in(api, solana, text, recorded)


def test_our_sign_in_pages_message_signs_in(api, nonce):
    solana = SolanaWallet()

    _signs_in(api, solana, siws_text(address=solana.address, nonce=nonce), "solana:mainnet")


def test_without_issued_at_the_nonces_expiry_still_bounds_the_message(api, nonce):
    SignInNonce.objects.filter(value=nonce).update(expires_at=timezone.now() - timedelta(seconds=1))
    solana = SolanaWallet()
    text = sign_in_message_text(domain="testserver", address=solana.address, nonce=nonce)

    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Nonce expired.", "code": "sign_in_refused"}
    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)


# --- refused -------------------------------------------------------------------------------

MALFORMED_TIMES = [
    "20240101T000000Z",
    "2024-01-01T00:00:00",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00Z",
    "2024-01-01",
    "2024-01-01T00:00:00+0200",
    "2024-W01-1T00:00:00Z",
    "1704067200",
    "Wed Oct 05 2011 16:48:00 GMT+0200 (CEST)",
]
IMPOSSIBLE_TIMES = ["2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z"]


def _assert_refused_as_malformed(response, reason: str, nonce: str) -> None:
    assert response.status_code == 401
    assert response.json() == {
        "detail": f"Malformed Sign In With Solana message: {reason}.",
        "code": "sign_in_refused",
    }
    assert "sessionid" not in response.cookies
    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)
    # A message that does not parse never reaches the nonce: it stays usable.
    assert SignInNonce.objects.get(value=nonce).used_at is None


@pytest.mark.parametrize("label", ["Issued At", "Expiration Time", "Not Before"])
@pytest.mark.parametrize("written", MALFORMED_TIMES + IMPOSSIBLE_TIMES)
def test_times_that_are_not_rfc_3339_are_refused(api, nonce, label, written):
    solana = SolanaWallet()
    attribute = label.lower().replace(" ", "_")
    text = sign_in_message_text(
        domain="testserver", address=solana.address, nonce=nonce, **{attribute: written}
    )

    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    problem = "an RFC 3339" if written in MALFORMED_TIMES else "a valid"
    _assert_refused_as_malformed(response, f"{label} is not {problem} date-time", nonce)


def _malformed(case: str, address: str, nonce: str) -> tuple[str, str]:
    """(text, reason) of one way a message can be out of shape."""
    header = f"testserver wants you to sign in with your Solana account:\n{address}"
    full = sign_in_message_text(
        domain="testserver",
        address=address,
        statement="S",
        uri="http://testserver/",
        version="1",
        chain_id="mainnet",
        nonce=nonce,
        issued_at=js_iso(now_utc()),
        resources=["https://example.com"],
    )
    cases = {
        "no nonce (the spec's minimal message)": (
            header,
            "Nonce is missing: sign the nonce this server issued",
        ),
        "no nonce, other fields": (
            full.replace(f"Nonce: {nonce}\n", ""),
            "Nonce is missing: sign the nonce this server issued",
        ),
        "a multi-line statement": (
            full.replace("\n\nS\n\n", "\n\nS\n\nS\n\n"),
            "unexpected line: 'S'",
        ),
        "fields out of order": (
            full.replace("Version: 1\nChain ID: mainnet", "Chain ID: mainnet\nVersion: 1"),
            "unexpected line: 'Version: 1'",
        ),
        "a repeated field": (
            full.replace(f"Nonce: {nonce}\n", f"Nonce: {nonce}\nNonce: {nonce}\n"),
            f"unexpected line: 'Nonce: {nonce}'",
        ),
        "an unknown field": (full + "\nExtra: x", "resources must be '- <uri>' lines"),
        "a trailing newline": (full + "\n", "resources must be '- <uri>' lines"),
        "CRLF line breaks": (full.replace("\n", "\r\n"), "line breaks must be \\n"),
        "Version 2": (full.replace("Version: 1", "Version: 2"), "Version must be 1"),
        "a chain outside the spec's list": (
            full.replace("Chain ID: mainnet", "Chain ID: solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
            "Chain ID is not a Solana cluster",
        ),
        "a URI without a scheme": (
            full.replace("URI: http://testserver/", "URI: testserver/"),
            "URI must be an RFC 3986 URI",
        ),
        "a resource that is no URI": (
            full.replace("- https://example.com", "- example dot com"),
            "a resource must be an RFC 3986 URI",
        ),
        "an Ethereum header": (
            full.replace("Solana account", "Ethereum account"),
            "the first line is not a Solana sign-in request",
        ),
    }
    return cases[case]


MALFORMED_SHAPES = [
    "no nonce (the spec's minimal message)",
    "no nonce, other fields",
    "a multi-line statement",
    "fields out of order",
    "a repeated field",
    "an unknown field",
    "a trailing newline",
    "CRLF line breaks",
    "Version 2",
    "a chain outside the spec's list",
    "a URI without a scheme",
    "a resource that is no URI",
    "an Ethereum header",
]


@pytest.mark.parametrize("case", MALFORMED_SHAPES)
def test_messages_out_of_shape_are_refused(api, nonce, case):
    solana = SolanaWallet()
    text, reason = _malformed(case, solana.address, nonce)

    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    _assert_refused_as_malformed(response, reason, nonce)
