"""GET /api/v1/auth/nonce, POST /api/v1/auth/siwe and /api/v1/auth/siws."""

from __future__ import annotations

import re
from datetime import timedelta

import base58
import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role, SignInNonce, User, Wallet
from accounts.tests.factories import MembershipFactory, WalletFactory
from accounts.tests.signing import (
    HOUR,
    SolanaWallet,
    new_evm_account,
    now_utc,
    personal_sign,
    siwe_text,
    siws_text,
)

pytestmark = pytest.mark.django_db

SIWE = "/api/v1/auth/siwe"
SIWS = "/api/v1/auth/siws"
MISMATCH = "Signature does not match the message's address."


def _assert_nothing_stored() -> None:
    assert User.objects.count() == 0
    assert Wallet.objects.count() == 0


# --- nonce ---------------------------------------------------------------------------------


def test_nonce_is_issued_stored_and_expires_in_ten_minutes(api):
    before = timezone.now()
    response = api.get("/api/v1/auth/nonce")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"nonce", "expires_at"}
    assert re.fullmatch(r"[A-Za-z0-9]{20}", body["nonce"])
    stored = SignInNonce.objects.get()
    assert stored.value == body["nonce"]
    assert stored.used_at is None
    assert before + timedelta(minutes=10) <= stored.expires_at
    assert stored.expires_at <= timezone.now() + timedelta(minutes=10)
    assert api.get("/api/v1/auth/nonce").json()["nonce"] != body["nonce"]


@override_settings(RATE_LIMITS={"anonymous": 100, "user": 100, "api_key": 100, "sign_in": 2})
def test_sign_in_endpoints_are_rate_limited_per_ip(api):
    assert api.get("/api/v1/auth/nonce").status_code == 200
    assert api.post(SIWE, {"message": "x", "signature": "0x"}, format="json").status_code == 401
    refused = api.get("/api/v1/auth/nonce")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert SignInNonce.objects.count() == 1


# --- SIWE ----------------------------------------------------------------------------------


def test_siwe_signs_in_a_new_wallet_creating_its_user_and_a_session(api, nonce):
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce, chain_id=8453)

    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get()
    wallet = Wallet.objects.get()
    assert (wallet.user, wallet.namespace, wallet.chain) == (user, "eip155", "eip155:8453")
    assert wallet.address == account.address
    assert wallet.last_signed_in_at is not None
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {
        "id": str(user.pk),
        "wallets": [{"chain": "eip155:8453", "address": account.address, "kind": "eoa"}],
        "organizations": [],
    }
    assert SignInNonce.objects.get(value=nonce).used_at is not None
    # The same sign-in gave the pages a session ...
    assert response.cookies["sessionid"].value
    assert api.get("/api/v1/me").json()["id"] == str(user.pk)
    # ... and the API a bearer token.
    bearer = type(api)()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert bearer.get("/api/v1/me").json()["id"] == str(user.pk)


def test_siwe_returning_wallet_lands_in_its_existing_user(api, nonce):
    account = new_evm_account()
    wallet = WalletFactory(address=account.address, chain="eip155:1")
    membership = MembershipFactory(user=wallet.user, role=Role.ADMIN)
    text = siwe_text(address=account.address, nonce=nonce, chain_id=10)

    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert response.status_code == 200
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)
    assert response.json()["user"] == {
        "id": str(wallet.user.pk),
        "wallets": [{"chain": "eip155:1", "address": account.address, "kind": "eoa"}],
        "organizations": [
            {
                "id": str(membership.organization.pk),
                "name": membership.organization.name,
                "role": "admin",
            }
        ],
    }
    wallet.refresh_from_db()
    assert wallet.last_signed_in_at is not None


@pytest.mark.parametrize("chain_id", [56, 324, 7777777])
def test_siwe_an_eoa_signs_in_on_any_evm_chain_and_the_chain_is_recorded(api, nonce, chain_id):
    # Regression: a fixed list of chain ids refused a wallet on BNB Chain (56), zkSync
    # (324) or Zora (7777777); an EOA is the same account on every EVM chain.
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce, chain_id=chain_id)

    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert response.status_code == 200, response.content
    wallet = Wallet.objects.get()
    assert (wallet.kind, wallet.chain, wallet.address) == (
        "eoa",
        f"eip155:{chain_id}",
        account.address,
    )


def _siwe_refusal(case: str, nonce: str):
    """(message, signature, expected detail) for one way a SIWE sign-in must fail."""
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)
    if case == "bad signature":
        return text, "0x" + "11" * 65, MISMATCH
    if case == "signature not hex":
        return text, "not-a-signature", "Signature must be 0x-prefixed hex."
    if case == "signature by another key":
        return text, personal_sign(new_evm_account(), text), MISMATCH
    if case == "unknown nonce":
        other = siwe_text(address=account.address, nonce="neverIssued123")
        return (
            other,
            personal_sign(account, other),
            "Unknown nonce: get one from /api/v1/auth/nonce.",
        )
    if case == "domain not allowed":
        other = siwe_text(address=account.address, nonce=nonce, domain="evil.example")
        detail = "Domain 'evil.example' is not allowed to sign in here."
        return other, personal_sign(account, other), detail
    if case == "expiration-time past":
        other = siwe_text(address=account.address, nonce=nonce, expiration_time=now_utc() - HOUR)
        return other, personal_sign(account, other), "Message expired (expiration-time is past)."
    if case == "not-before future":
        other = siwe_text(address=account.address, nonce=nonce, not_before=now_utc() + HOUR)
        detail = "Message not yet valid (not-before is in the future)."
        return other, personal_sign(account, other), detail
    if case == "malformed message":
        broken = text.replace("wants you to sign in", "would like you to sign in")
        return broken, personal_sign(account, broken), "Malformed EIP-4361 message."
    if case == "chain changed after signing":
        # Signed for Ethereum, presented as an Optimism sign-in.
        other = text.replace("Chain ID: 1\n", "Chain ID: 10\n")
        assert other != text
        return other, personal_sign(account, text), MISMATCH
    if case == "lowercase address":
        lowered = text.replace(account.address, account.address.lower())
        return lowered, personal_sign(account, lowered), "Malformed EIP-4361 message."
    raise AssertionError(case)


SIWE_REFUSALS = [
    "bad signature",
    "signature not hex",
    "signature by another key",
    "unknown nonce",
    "domain not allowed",
    "expiration-time past",
    "not-before future",
    "malformed message",
    "chain changed after signing",
    "lowercase address",
]
SPENDS_NONCE = {"unknown nonce": False, "malformed message": False, "lowercase address": False}


@pytest.mark.parametrize("case", SIWE_REFUSALS)
def test_siwe_refusals_are_401_with_a_reason_and_store_nothing(api, nonce, case):
    message, signature, detail = _siwe_refusal(case, nonce)

    response = api.post(SIWE, {"message": message, "signature": signature}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": detail, "code": "sign_in_refused"}
    _assert_nothing_stored()
    assert "sessionid" not in response.cookies
    # Any attempt that names our nonce spends it, whatever the outcome.
    spent = SignInNonce.objects.get(value=nonce).used_at is not None
    assert spent is SPENDS_NONCE.get(case, True)


def test_siwe_nonce_is_spent_by_a_failed_first_attempt(api, nonce):
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)
    first = api.post(SIWE, {"message": text, "signature": personal_sign(new_evm_account(), text)})
    assert first.status_code == 401

    retry = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert retry.status_code == 401
    assert retry.json() == {"detail": "Nonce already used.", "code": "sign_in_refused"}
    _assert_nothing_stored()


def test_siwe_reused_nonce_after_success_is_refused(api, nonce):
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)
    signature = personal_sign(account, text)
    assert api.post(SIWE, {"message": text, "signature": signature}).status_code == 200

    replay = type(api)().post(SIWE, {"message": text, "signature": signature})

    assert replay.status_code == 401
    assert replay.json() == {"detail": "Nonce already used.", "code": "sign_in_refused"}
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def test_siwe_expired_nonce_is_refused(api, nonce):
    SignInNonce.objects.filter(value=nonce).update(expires_at=timezone.now() - timedelta(seconds=1))
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)

    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Nonce expired.", "code": "sign_in_refused"}
    _assert_nothing_stored()


@pytest.mark.parametrize(
    "body",
    [{}, {"message": ""}, {"message": "x"}, {"message": ["x"], "signature": "0x"}],
)
def test_sign_in_bodies_without_text_fields_are_400(api, body):
    for path in (SIWE, SIWS):
        response = api.post(path, body, format="json")
        assert response.status_code == 400
    _assert_nothing_stored()


def test_sign_in_refuses_lone_surrogates_with_400(api):
    response = api.post(
        SIWE,
        data=b'{"message": "\\ud800", "signature": "0x"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["message", "code"]


# --- SIWS ----------------------------------------------------------------------------------


def test_siws_signs_in_a_new_solana_wallet(api, nonce):
    wallet = SolanaWallet()
    text = siws_text(
        address=wallet.address,
        nonce=nonce,
        chain_id="devnet",
        expiration_time=now_utc() + HOUR,
        request_id="req-1",
        resources=["https://fabrknt.example/terms"],
    )

    response = api.post(SIWS, {"message": text, "signature": wallet.sign(text)})

    assert response.status_code == 200, response.content
    user = User.objects.get()
    stored = Wallet.objects.get()
    assert (stored.user, stored.namespace, stored.chain, stored.address) == (
        user,
        "solana",
        "solana:devnet",
        wallet.address,
    )
    assert response.json()["user"] == {
        "id": str(user.pk),
        "wallets": [{"chain": "solana:devnet", "address": wallet.address, "kind": "eoa"}],
        "organizations": [],
    }
    assert response.cookies["sessionid"].value


def test_siws_returning_wallet_lands_in_its_user(api, nonce):
    solana = SolanaWallet()
    existing = WalletFactory(namespace="solana", chain="solana:mainnet", address=solana.address)
    text = siws_text(address=solana.address, nonce=nonce, chain_id="solana:mainnet")

    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.user.pk)
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def _siws_refusal(case: str, nonce: str):
    solana = SolanaWallet()
    text = siws_text(address=solana.address, nonce=nonce)
    if case == "bad signature":
        return text, SolanaWallet().sign("something else"), MISMATCH
    if case == "signature not base58":
        return text, "0OIl" * 22, MISMATCH
    if case == "signature by another key":
        return text, SolanaWallet().sign(text), MISMATCH
    if case == "unknown nonce":
        other = siws_text(address=solana.address, nonce="neverIssued123")
        return other, solana.sign(other), "Unknown nonce: get one from /api/v1/auth/nonce."
    if case == "domain not allowed":
        other = siws_text(address=solana.address, nonce=nonce, domain="evil.example")
        detail = "Domain 'evil.example' is not allowed to sign in here."
        return other, solana.sign(other), detail
    if case == "expiration-time past":
        other = siws_text(address=solana.address, nonce=nonce, expiration_time=now_utc() - HOUR)
        return other, solana.sign(other), "Message expired (expiration-time is past)."
    if case == "not-before future":
        other = siws_text(address=solana.address, nonce=nonce, not_before=now_utc() + HOUR)
        detail = "Message not yet valid (not-before is in the future)."
        return other, solana.sign(other), detail
    if case == "unsupported chain":
        other = siws_text(address=solana.address, nonce=nonce, chain_id="localnet")
        return other, solana.sign(other), "Chain 'solana:localnet' is not supported."
    if case == "chain changed after signing":
        # Signed for mainnet, presented as a devnet sign-in.
        other = text.replace("Chain ID: mainnet\n", "Chain ID: devnet\n")
        assert other != text
        return other, solana.sign(text), MISMATCH
    if case == "malformed message":
        broken = text.replace("Version: 1\n", "Version: 2\n")
        detail = "Malformed Sign In With Solana message: Version must be 1."
        return broken, solana.sign(broken), detail
    raise AssertionError(case)


SIWS_REFUSALS = [
    "bad signature",
    "signature not base58",
    "signature by another key",
    "unknown nonce",
    "domain not allowed",
    "expiration-time past",
    "not-before future",
    "chain changed after signing",
    "malformed message",
]


@pytest.mark.parametrize("case", SIWS_REFUSALS)
def test_siws_refusals_are_401_with_a_reason_and_store_nothing(api, nonce, case):
    message, signature, detail = _siws_refusal(case, nonce)

    response = api.post(SIWS, {"message": message, "signature": signature}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": detail, "code": "sign_in_refused"}
    _assert_nothing_stored()
    spent = SignInNonce.objects.get(value=nonce).used_at is not None
    assert spent is SPENDS_NONCE.get(case, True)


def test_siws_reused_nonce_is_refused(api, nonce):
    solana = SolanaWallet()
    text = siws_text(address=solana.address, nonce=nonce)
    first = api.post(SIWS, {"message": text, "signature": SolanaWallet().sign(text)})
    assert first.status_code == 401

    retry = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    assert retry.status_code == 401
    assert retry.json() == {"detail": "Nonce already used.", "code": "sign_in_refused"}
    _assert_nothing_stored()


def test_siws_reused_nonce_after_success_is_refused(api, nonce):
    solana = SolanaWallet()
    text = siws_text(address=solana.address, nonce=nonce)
    signature = solana.sign(text)
    assert api.post(SIWS, {"message": text, "signature": signature}).status_code == 200

    replay = type(api)().post(SIWS, {"message": text, "signature": signature})

    assert replay.status_code == 401
    assert replay.json() == {"detail": "Nonce already used.", "code": "sign_in_refused"}
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def test_siws_expired_nonce_is_refused(api, nonce):
    SignInNonce.objects.filter(value=nonce).update(expires_at=timezone.now() - timedelta(seconds=1))
    solana = SolanaWallet()
    text = siws_text(address=solana.address, nonce=nonce)

    response = api.post(SIWS, {"message": text, "signature": solana.sign(text)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Nonce expired.", "code": "sign_in_refused"}
    _assert_nothing_stored()


# --- robustness ----------------------------------------------------------------------------

NASTY_MESSAGES = [
    "testserver wants you to sign in with your Ethereum account:",
    "testserver wants you to sign in with your Solana account:\n\n\n\n",
    "é" * 4000,
    "a\nb\nc\nd\ne\nf",
    "testserver wants you to sign in with your Ethereum account:\n0x" + "0" * 40 + "\n\nURI: x",
]


@pytest.mark.parametrize("message", NASTY_MESSAGES, ids=range(len(NASTY_MESSAGES)))
@pytest.mark.parametrize("path", [SIWE, SIWS])
def test_nasty_messages_are_refused_never_a_server_error(api, path, message):
    response = api.post(path, {"message": message, "signature": "0x" + "00" * 65})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Malformed")
    _assert_nothing_stored()


def test_nul_characters_are_400(api):
    # DRF's CharField refuses NUL; PostgreSQL could not have stored it anyway.
    response = api.post(SIWS, {"message": "\x00" * 100, "signature": "x"})
    assert response.status_code == 400
    assert list(response.json()) == ["message", "code"]


def test_huge_chain_id_is_refused(api, nonce):
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce, chain_id=10**30)
    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})
    assert response.status_code == 401
    assert response.json() == {
        "detail": f"Chain ID {10**30} is not an EVM chain ID.",
        "code": "sign_in_refused",
    }
    _assert_nothing_stored()


def test_contract_wallet_check_with_an_unreachable_rpc_is_503(api, nonce, settings):
    # Port 9 (discard) on loopback refuses the connection at once: no network is involved.
    settings.CHAIN_RPC_URLS = {"eip155:1": "http://127.0.0.1:9/"}
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)

    response = api.post(
        SIWE, {"message": text, "signature": personal_sign(new_evm_account(), text)}
    )

    assert response.status_code == 503
    assert response.json()["detail"].startswith("Chain RPC failed:")
    _assert_nothing_stored()


def test_a_disabled_users_wallet_cannot_sign_in(api, nonce):
    account = new_evm_account()
    wallet = WalletFactory(address=account.address, user__is_active=False)
    text = siwe_text(address=account.address, nonce=nonce)

    response = api.post(SIWE, {"message": text, "signature": personal_sign(account, text)})

    assert response.status_code == 401
    assert response.json() == {"detail": "This account is disabled.", "code": "sign_in_refused"}
    wallet.refresh_from_db()
    assert wallet.last_signed_in_at is None
    assert "sessionid" not in response.cookies


# --- hostile signatures --------------------------------------------------------------------

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _hostile_evm_signature(case: str, good: bytes) -> str:
    """Hex that is a well-formed 0x string but no valid secp256k1 signature of the text."""
    r, s, v = good[:32], good[32:64], good[64:]
    forged = {
        "65 zero bytes": bytes(65),
        "r is 0": bytes(32) + s + v,
        "s is 0": r + bytes(32) + v,
        "r is the curve order": SECP256K1_N.to_bytes(32, "big") + s + v,
        "s is the curve order": r + SECP256K1_N.to_bytes(32, "big") + v,
        "r and s all ones": b"\xff" * 64 + v,
        "v is 29": r + s + bytes([29]),
        "v is 2": r + s + bytes([2]),
        "64 bytes": good[:64],
        "66 bytes": good + b"\x00",
        "1 byte": good[:1],
        "empty": b"",
    }[case]
    return "0x" + forged.hex()


HOSTILE_EVM_SIGNATURES = [
    "65 zero bytes",
    "r is 0",
    "s is 0",
    "r is the curve order",
    "s is the curve order",
    "r and s all ones",
    "v is 29",
    "v is 2",
    "64 bytes",
    "66 bytes",
    "1 byte",
    "empty",
]


@pytest.mark.parametrize("case", HOSTILE_EVM_SIGNATURES)
def test_siwe_hostile_signatures_are_401_spend_the_nonce_and_store_nothing(api, nonce, case):
    account = new_evm_account()
    text = siwe_text(address=account.address, nonce=nonce)
    good = bytes.fromhex(personal_sign(account, text)[2:])

    response = api.post(SIWE, {"message": text, "signature": _hostile_evm_signature(case, good)})

    assert response.status_code == 401
    assert response.json() == {"detail": MISMATCH, "code": "sign_in_refused"}
    _assert_nothing_stored()
    assert SignInNonce.objects.get(value=nonce).used_at is not None
    assert "sessionid" not in response.cookies


HOSTILE_SOLANA_SIGNATURES = {
    "64 zero bytes": base58.b58encode(bytes(64)).decode(),
    "64 bytes of ones": base58.b58encode(b"\xff" * 64).decode(),
    "63 bytes": base58.b58encode(bytes(63)).decode(),
    "65 bytes": base58.b58encode(bytes(65)).decode(),
    "empty": "",
    "0x hex": "0x" + "00" * 64,
    "not base58": "0" * 88,
}


@pytest.mark.parametrize("case", list(HOSTILE_SOLANA_SIGNATURES))
def test_siws_hostile_signatures_are_401_spend_the_nonce_and_store_nothing(api, nonce, case):
    solana = SolanaWallet()
    text = siws_text(address=solana.address, nonce=nonce)

    response = api.post(SIWS, {"message": text, "signature": HOSTILE_SOLANA_SIGNATURES[case]})

    if case == "empty":  # the serializer refuses a blank field before any sign-in starts
        assert response.status_code == 400
        assert SignInNonce.objects.get(value=nonce).used_at is None
    else:
        assert response.status_code == 401
        assert response.json() == {"detail": MISMATCH, "code": "sign_in_refused"}
        assert SignInNonce.objects.get(value=nonce).used_at is not None
    _assert_nothing_stored()


def test_siws_signature_for_an_address_off_the_curve_is_401(api, nonce):
    # 32 bytes that are no Ed25519 point: a parseable address nobody can sign for.
    off_curve = base58.b58encode(b"\x02" + bytes(30) + b"\x80").decode()
    text = siws_text(address=off_curve, nonce=nonce)

    response = api.post(SIWS, {"message": text, "signature": SolanaWallet().sign(text)})

    assert response.status_code == 401
    assert response.json() == {"detail": MISMATCH, "code": "sign_in_refused"}
    _assert_nothing_stored()
