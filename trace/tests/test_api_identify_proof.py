"""Proven wallet links: GET /api/v1/identify/message, then POST /api/v1/identify with the
wallet's signature, with real keys (eth-account for EIP-191, PyNaCl for Ed25519)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import base58
import pytest
from django.test import Client
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct
from nacl.signing import SigningKey

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import IdentifyNonce, LinkProof, WalletLink
from trace.services.attribution import attribution_apply_interactions
from trace.services.wallet_proof import identify_nonces_purge
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import (
    ClickFactory,
    ContractInteractionFactory,
    ProjectFactory,
    evm_address,
)

URL = "/api/v1/identify"
MESSAGE_URL = "/api/v1/identify/message"
# Well-known test keys (never used on a real chain).
SIGNER = Account.from_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
STRANGER = Account.from_key("0x" + "2" * 64)


@pytest.fixture
def click(campaign):
    return ClickFactory(campaign=campaign, click_id="clk-1")


def _message(caller: Caller, wallet: str, click_id: str = "clk-1", **query) -> dict:
    response = caller.get(MESSAGE_URL, data={"click_id": click_id, "wallet": wallet, **query})
    assert response.status_code == 200, response.content
    return response.json()


def _evm_signature(account, message: str) -> str:
    return account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


def _identify(caller: Caller, wallet: str, click_id: str = "clk-1", **proof):
    return caller.post(URL, {"click_id": click_id, "wallet_address": wallet, **proof})


def test_the_message_names_click_wallet_domain_nonce_and_expiry(ingest, click, settings):
    settings.IDENTIFY_MESSAGE_DOMAIN = "trace.fabrknt.example"
    issued = _message(ingest, SIGNER.address.lower())
    match = re.fullmatch(
        "trace.fabrknt.example asks you to confirm that this wallet arrived through a "
        "TRACE link:\n"
        f"{SIGNER.address}\n"
        "\n"
        "Signing only proves the link to the campaign. It costs nothing and moves no funds.\n"
        "\n"
        "Click: clk-1\n"
        f"Campaign: {click.campaign_id}\n"
        "Nonce: (?P<nonce>[0-9a-f]{32})\n"
        r"Issued At: (?P<issued>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n"
        r"Expiration Time: (?P<expires>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)",
        issued["message"],
    )
    assert match is not None, issued["message"]
    issued_at = dt.datetime.fromisoformat(match["issued"])
    expires_at = dt.datetime.fromisoformat(match["expires"])
    assert expires_at - issued_at == dt.timedelta(minutes=10)
    assert dt.datetime.fromisoformat(issued["expires_at"]) == expires_at
    assert abs(timezone.now() - issued_at) < dt.timedelta(seconds=5)
    nonce = IdentifyNonce.objects.get()
    assert (nonce.value, nonce.click_id, nonce.wallet_address, nonce.used_at) == (
        match["nonce"],
        click.pk,
        SIGNER.address,
        None,
    )
    assert _message(ingest, SIGNER.address)["message"] != issued["message"]  # a new nonce


def test_a_signed_message_makes_the_link_proven(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    response = _identify(
        ingest, SIGNER.address.lower(), message=message, signature=_evm_signature(SIGNER, message)
    )
    assert response.status_code == 200, response.content
    link = WalletLink.objects.get()
    assert response.json() == {
        "id": link.pk,
        "click_id": "clk-1",
        "campaign_id": str(click.campaign_id),
        "wallet_address": SIGNER.address,
        "proof": "proven",
        "identified_at": response.json()["identified_at"],
        "proven_at": response.json()["proven_at"],
    }
    assert (link.proof, link.proven_at, link.proven_at) == (
        LinkProof.PROVEN,
        link.identified_at,
        dt.datetime.fromisoformat(response.json()["proven_at"]),
    )
    assert IdentifyNonce.objects.get().used_at == link.proven_at


def test_a_claimed_link_is_upgraded_by_the_same_call_with_a_signature(ingest, click):
    claimed = _identify(ingest, SIGNER.address)
    assert (claimed.status_code, claimed.json()["proof"], claimed.json()["proven_at"]) == (
        200,
        "claimed",
        None,
    )
    message = _message(ingest, SIGNER.address)["message"]
    proven = _identify(
        ingest, SIGNER.address, message=message, signature=_evm_signature(SIGNER, message)
    )
    assert (proven.status_code, proven.json()["proof"]) == (200, "proven")
    assert proven.json()["id"] == claimed.json()["id"]
    assert proven.json()["identified_at"] == claimed.json()["identified_at"]
    # Claiming it again later never downgrades it.
    again = _identify(ingest, SIGNER.address)
    assert again.json()["proof"] == "proven"
    link = WalletLink.objects.get()
    assert (link.proof, link.proven_at is not None) == (LinkProof.PROVEN, True)


def test_a_solana_wallet_proves_with_ed25519(member):
    project = ProjectFactory(
        organization=member.organization,
        chain="solana:mainnet",
        contract_addresses=["4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"],
    )
    ClickFactory(campaign__project=project, click_id="sol-1")
    key = SigningKey(bytes(range(32)))
    address = base58.b58encode(bytes(key.verify_key)).decode()
    message = _message(member, address, click_id="sol-1")["message"]
    signature = base58.b58encode(key.sign(message.encode()).signature).decode()
    wrong = base58.b58encode(SigningKey(bytes(32)).sign(message.encode()).signature).decode()

    refused = _identify(member, address, click_id="sol-1", message=message, signature=wrong)
    assert (refused.status_code, refused.json()["code"]) == (400, "proof_wrong_signer")
    assert WalletLink.objects.count() == 0
    response = _identify(member, address, click_id="sol-1", message=message, signature=signature)
    assert (response.status_code, response.json()["proof"]) == (200, "proven")
    assert WalletLink.objects.get().wallet_address == address


# --- refusals: 400 with the reason, and nothing stored ----------------------------------


def _assert_nothing_stored(link_count: int = 0) -> None:
    assert WalletLink.objects.count() == link_count
    assert not WalletLink.objects.filter(proof=LinkProof.PROVEN).exists()
    assert not IdentifyNonce.objects.filter(used_at__isnull=False).exists()


def test_wrong_signer_is_refused(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    response = _identify(
        ingest, SIGNER.address, message=message, signature=_evm_signature(STRANGER, message)
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The signature is not {SIGNER.address}'s over this message.",
        "code": "proof_wrong_signer",
    }
    _assert_nothing_stored()


@pytest.mark.parametrize(
    "signature",
    ["0x" + "00" * 65, "0x" + "11" * 65, "0x1234", "not hex at all", "0x" + "ff" * 65],
)
def test_malformed_signatures_are_refused_not_500(ingest, click, signature):
    message = _message(ingest, SIGNER.address)["message"]
    response = _identify(ingest, SIGNER.address, message=message, signature=signature)
    assert (response.status_code, response.json()["code"]) == (400, "proof_wrong_signer")
    _assert_nothing_stored()


def test_a_message_for_another_click_or_wallet_is_refused(ingest, click):
    ClickFactory(campaign=click.campaign, click_id="clk-2")
    message = _message(ingest, SIGNER.address)["message"]  # for clk-1
    signature = _evm_signature(SIGNER, message)
    for click_id, wallet in (("clk-2", SIGNER.address), ("clk-1", STRANGER.address)):
        response = _identify(
            ingest, wallet, click_id=click_id, message=message, signature=signature
        )
        assert response.status_code == 400
        assert response.json() == {
            "detail": "This message was issued for another click or wallet.",
            "code": "proof_foreign_message",
        }
    _assert_nothing_stored()


def test_an_altered_or_unknown_message_is_refused(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    altered = message.replace("Click: clk-1", "Click: clk-1 ")
    unknown = re.sub("Nonce: [0-9a-f]{32}", "Nonce: " + "0" * 32, message)
    for text, code in (
        (altered, "proof_altered_message"),
        (unknown, "proof_unknown_message"),
        ("Sign this.", "proof_unknown_message"),
    ):
        response = _identify(
            ingest, SIGNER.address, message=text, signature=_evm_signature(SIGNER, text)
        )
        assert (response.status_code, response.json()["code"]) == (400, code)
    _assert_nothing_stored()


def test_an_expired_message_is_refused(ingest, click, settings):
    settings.IDENTIFY_MESSAGE_TTL = dt.timedelta(0)  # expired as soon as it is issued
    message = _message(ingest, SIGNER.address)["message"]
    response = _identify(
        ingest, SIGNER.address, message=message, signature=_evm_signature(SIGNER, message)
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This message has expired: get a new one.",
        "code": "proof_expired_message",
    }
    _assert_nothing_stored()


def test_a_replayed_message_is_refused(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    proof = {"message": message, "signature": _evm_signature(SIGNER, message)}
    assert _identify(ingest, SIGNER.address, **proof).status_code == 200
    link = WalletLink.objects.get()
    link_before = (link.proof, link.proven_at)

    replayed = _identify(ingest, SIGNER.address, **proof)
    assert replayed.status_code == 400
    assert replayed.json() == {
        "detail": "This message has already been used: a message proves a link once.",
        "code": "proof_replayed_message",
    }
    link.refresh_from_db()
    assert (WalletLink.objects.count(), (link.proof, link.proven_at)) == (1, link_before)


def test_message_and_signature_go_together(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    for proof, field in (({"message": message}, "signature"), ({"signature": "0x00"}, "message")):
        response = _identify(ingest, SIGNER.address, **proof)
        assert response.status_code == 400
        assert response.json() == {
            field: ["Send message and signature together."],
            "code": "invalid",
        }
    _assert_nothing_stored()


# --- at most a few wallets per click ----------------------------------------------------


def test_a_click_links_at_most_the_configured_number_of_wallets(ingest, click, settings):
    assert settings.IDENTIFY_MAX_WALLETS_PER_CLICK == 3
    wallets = [evm_address() for _ in range(2)] + [SIGNER.address]
    for wallet in wallets:
        assert _identify(ingest, wallet).json()["proof"] == "claimed"

    over = _identify(ingest, STRANGER.address)
    assert over.status_code == 409
    assert over.json() == {
        "detail": "This click is already linked to 3 wallets, the most one click may have.",
        "code": "click_wallet_limit",
    }
    refused = ingest.get(MESSAGE_URL, data={"click_id": "clk-1", "wallet": STRANGER.address})
    assert (refused.status_code, refused.json()["code"]) == (409, "click_wallet_limit")
    assert set(WalletLink.objects.values_list("wallet_address", flat=True)) == set(wallets)
    assert IdentifyNonce.objects.count() == 0

    # A wallet already linked is not a new one: repeating it, or proving it, still works.
    assert _identify(ingest, wallets[0]).status_code == 200
    message = _message(ingest, SIGNER.address)["message"]
    proven = _identify(
        ingest, SIGNER.address, message=message, signature=_evm_signature(SIGNER, message)
    )
    assert (proven.status_code, proven.json()["proof"]) == (200, "proven")
    # A click of another organization with the same id has its own count.
    other = ClickFactory(click_id="clk-1")
    theirs = key_caller(other.organization, "ingest")
    assert _identify(theirs, STRANGER.address).status_code == 200
    assert WalletLink.objects.count() == 4


# --- the message endpoint ---------------------------------------------------------------


def test_message_credentials_and_scoping(ingest, click):
    query = {"click_id": "clk-1", "wallet": SIGNER.address}
    assert Client().get(MESSAGE_URL, data=query).status_code == 401
    read_key = key_caller(click.campaign.organization, "read")
    assert read_key.get(MESSAGE_URL, data=query).status_code == 403
    ClickFactory(click_id="theirs")
    assert ingest.get(MESSAGE_URL, data={**query, "click_id": "theirs"}).status_code == 404
    bad = ingest.get(MESSAGE_URL, data={**query, "wallet": "0x1234"})
    assert (bad.status_code, list(bad.json())) == (400, ["wallet", "code"])
    assert IdentifyNonce.objects.count() == 0


def test_message_of_a_member_of_several_organizations_names_the_campaign(click):
    caller = member_caller(click.campaign.organization)
    MembershipFactory(user=caller.user, role=Role.MEMBER)
    query = {"click_id": "clk-1", "wallet": SIGNER.address}
    refused = caller.get(MESSAGE_URL, data=query)
    assert (refused.status_code, refused.json()["code"]) == (400, "campaign_required")
    assert IdentifyNonce.objects.count() == 0
    assert (
        caller.get(MESSAGE_URL, data={**query, "campaign_id": click.campaign_id}).status_code == 200
    )


def test_message_cors_preflight_allows_get(db):
    response = Client().options(MESSAGE_URL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert "X-API-Key" in response["Access-Control-Allow-Headers"]


def test_spent_and_expired_nonces_are_purged(ingest, click):
    message = _message(ingest, SIGNER.address)["message"]
    _identify(ingest, SIGNER.address, message=message, signature=_evm_signature(SIGNER, message))
    _message(ingest, STRANGER.address)  # still usable
    expired = _message(ingest, evm_address())
    IdentifyNonce.objects.filter(expires_at=expired["expires_at"], used_at=None).exclude(
        wallet_address=STRANGER.address
    ).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert identify_nonces_purge() == 2
    assert list(IdentifyNonce.objects.values_list("wallet_address", flat=True)) == [
        STRANGER.address
    ]


# --- what the proof is for --------------------------------------------------------------


def test_roi_reports_the_share_of_value_from_proven_links(member, campaign):
    """A proven wallet's 300.00 and a claimed wallet's 100.00: 75% of the value is proven."""
    ingest = key_caller(member.organization, "ingest")
    ClickFactory(campaign=campaign, click_id="clk-p")
    ClickFactory(campaign=campaign, click_id="clk-c")
    message = _message(ingest, SIGNER.address, click_id="clk-p")["message"]
    proven = _identify(
        ingest,
        SIGNER.address,
        click_id="clk-p",
        message=message,
        signature=_evm_signature(SIGNER, message),
    )
    assert proven.json()["proof"] == "proven"
    assert _identify(ingest, STRANGER.address, click_id="clk-c").json()["proof"] == "claimed"
    later = timezone.now() + dt.timedelta(minutes=1)
    interactions = [
        ContractInteractionFactory(
            project=campaign.project,
            wallet_address=wallet.lower(),
            value_usd=Decimal(value),
            occurred_at=later,
        )
        for wallet, value in ((SIGNER.address, "300.00"), (STRANGER.address, "100.00"))
    ]
    assert attribution_apply_interactions(interaction_ids=[i.pk for i in interactions]) == 2

    roi = member.get(f"/api/v1/roi/{campaign.pk}").json()
    assert (roi["conversion_value_usd"], roi["proven_conversion_share"]) == ("400.00", 0.75)
    stats = member.get(f"/api/v1/campaigns/{campaign.pk}").json()["stats"]
    assert stats["proven_conversion_share"] == 0.75
