"""`manage.py seed_demo`'s FABRIC part: listings tied to the demo TRACE project and PULSE
teams, published public / nda / private and a draft, with assets, demo revenue records and
scores computed by the suite service; the demo buyer's verifiable NDA signature, offers in
three states with their history, a thread, data-room documents and listing images (no
escrow deal without a chain); a second run creates nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from accounts.models import Role, User, Wallet
from accounts.services.demo import DEMO_BUYER_ADDRESS, DEMO_BUYER_USERNAME, DEMO_WALLET_ADDRESS
from accounts.tests.factories import MembershipFactory
from fabric.models import (
    DataRoomDocument,
    EscrowTransaction,
    Listing,
    ListingAsset,
    ListingEvent,
    ListingMedia,
    Message,
    NDANonce,
    NDASignature,
    Offer,
    OfferStep,
    RevenueRecord,
)
from fabric.selectors import nda_version_hash, signed_wallets
from fabric.services.demo import LISTINGS
from fabric.services.demo_deals import _development_coin_priced, fabric_demo_deals
from fabric.services.escrow import payment_units
from fabric.tests.dataroom_support import media_root  # noqa: F401 (autouse: files in tmp)
from fabric.tests.escrow_chain import (  # noqa: F401  (fixtures)
    EscrowChain,
    escrow_chain_fixture,
    escrow_chain_module_fixture,
)
from fabric.tests.escrow_world import escrow_deployed
from fabric.tests.factories import ListingFactory
from fabrknt.api.errors import InvalidInput
from fabrknt.chain.evm import evm_client_override
from trace.models import AssetPrice, ContractVerification, GrowthCertificate
from trace.tests.factories import asset_price

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MODELS = [
    Listing,
    ListingAsset,
    ListingEvent,
    RevenueRecord,
    ContractVerification,
    GrowthCertificate,
    User,
    Wallet,
    NDANonce,
    NDASignature,
    Offer,
    OfferStep,
    Message,
    DataRoomDocument,
    ListingMedia,
    EscrowTransaction,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _state() -> list[tuple]:
    return list(
        Listing.objects.order_by("title").values_list(
            "title", "status", "visibility", "fabrknt_score", "revenue_verified"
        )
    )


def test_seed_demo_lists_the_demo_projects_and_a_second_run_creates_nothing(settings):
    settings.SBT_CHAIN = ""  # no chain: no token minted
    first = StringIO()
    call_command("seed_demo", stdout=first)

    listings = {listing.title: listing for listing in Listing.objects.all()}
    assert set(listings) == {spec.title for spec in LISTINGS}
    assert f"{len(LISTINGS)} FABRIC listings" in first.getvalue()
    basedrop, solstice = listings["Basedrop DEX"], listings["Solstice Lend"]
    nightly, kit = listings["Nightly DAO console"], listings["Basedrop Frames kit"]
    assert [(x.status, x.visibility) for x in (basedrop, solstice, nightly, kit)] == [
        ("published", "public"),
        ("under_offer", "nda"),  # the demo buyer's offer was accepted
        ("published", "private"),
        ("draft", "public"),
    ]
    assert basedrop.trace_project.name == "Basedrop DEX"
    assert basedrop.pulse_team.team_name == "Basedrop core"
    assert nightly.trace_project is None
    # Basedrop's contracts are proven: its growth counts, linked to its certificate.
    growth = basedrop.score_components["components"]["growth"]
    assert growth["available"] is True
    certificate = GrowthCertificate.objects.get(pk=growth["evidence"]["certificate_id"])
    assert certificate.project_id == basedrop.trace_project_id
    assert growth["evidence"]["verification_url"] == f"/verify/{certificate.pk}"
    # The recorded proofs are real signatures by the demo deployer over the verify message.
    proofs = ContractVerification.objects.filter(project=basedrop.trace_project)
    assert proofs.count() == 2
    for proof in proofs:
        signer = Account.recover_message(
            encode_defunct(text=proof.message), signature=proof.signature
        )
        assert signer == proof.signer
    # Solstice's program is not: its growth is not available, never a zero.
    solstice_growth = solstice.score_components["components"]["growth"]
    assert solstice_growth["available"] is False
    assert solstice_growth["reason"] == "Control of none of the project's contracts is verified."
    for listing in (basedrop, solstice, nightly):
        assert 0 < listing.fabrknt_score <= 100
        assert listing.score_components["components"]["vitality"]["available"] is True
        records = listing.revenue_records.filter(window_days=30)
        assert listing.revenue_verified == sum(r.revenue_usd for r in records)
        assert all(record.evidence["demo"] is True for record in records)
    assert kit.revenue_verified is None
    assert kit.fabrknt_score == Decimal(
        str(kit.score_components["components"]["growth"]["points"])
    ).quantize(Decimal("0.01"))
    transactions = basedrop.revenue_records.get(window_days=30).evidence["transactions"]
    assert len(transactions) == 12
    assert all(len(tx["hash"]) == 66 and tx["hash"].startswith("0x") for tx in transactions)
    assert {tx["chain"] for tx in transactions} == {basedrop.blockchain}
    stripe = nightly.revenue_records.get(window_days=30)
    assert stripe.source == "stripe" and stripe.evidence["charge_ids"][0].startswith("ch_3")
    # The evidence is the verifier's own shape: the seller's revenue pages render it.
    seller = Client()
    seller.force_login(User.objects.get(username="demo"))
    for listing in (basedrop, solstice, nightly):
        page = seller.get(f"/fabric/listings/{listing.pk}/revenue/")
        assert page.status_code == 200, listing.title
    assert (
        transactions[0]["hash"]
        in seller.get(f"/fabric/listings/{basedrop.pk}/revenue/").content.decode()
    )
    assert ListingAsset.objects.filter(listing=basedrop, asset_type="contract").count() == 2
    _assert_the_buyers_side(solstice, first.getvalue())
    counts, state = _counts(), _state()

    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert _counts() == counts
    assert _state() == state
    assert "0 FABRIC listings, 0 listing assets, 0 demo revenue records" in second.getvalue()
    assert "nothing new was created" in second.getvalue()


def _assert_the_buyers_side(solstice: Listing, output: str) -> None:
    buyer = User.objects.get(username=DEMO_BUYER_USERNAME)
    assert not buyer.has_usable_password() and not buyer.is_staff
    assert Wallet.objects.get(user=buyer).address == DEMO_BUYER_ADDRESS
    assert f"Demo buyer “{DEMO_BUYER_USERNAME}” signs in with the wallet {DEMO_BUYER_ADDRESS}" in (
        output
    )
    # A real EIP-191 signature by the buyer's key over the text the NDA service issued.
    signature = NDASignature.objects.get(listing=solstice, user=buyer)
    assert signature.nda_version_hash == nda_version_hash(solstice)
    assert signature.scheme == "personal_sign"
    signer = Account.recover_message(
        encode_defunct(text=signature.message), signature=signature.signature
    )
    assert signer == signature.buyer_wallet == DEMO_BUYER_ADDRESS
    assert signed_wallets(solstice, buyer) == [DEMO_BUYER_ADDRESS]
    assert NDANonce.objects.get(user=buyer).used_at is not None
    # Offers in three states, each with its history; the accepted one put the listing under
    # offer and the seller's wallet is set for the escrow.
    offers = {o.status: o for o in Offer.objects.filter(listing=solstice, buyer=buyer)}
    assert set(offers) == {"accepted", "open", "countered"}
    history = {
        status: list(offer.steps.order_by("id").values_list("action", "party"))
        for status, offer in offers.items()
    }
    assert history == {
        "accepted": [("made", "buyer"), ("accepted", "seller")],
        "open": [("made", "buyer")],
        "countered": [("made", "buyer"), ("countered", "seller")],
    }
    assert offers["open"].awaiting == "seller" and offers["countered"].awaiting == "buyer"
    assert offers["countered"].amount_usd == Decimal("640000.00")
    assert solstice.seller_wallet == DEMO_WALLET_ADDRESS
    # The thread, both ways.
    thread = list(
        Message.objects.filter(listing=solstice, buyer=buyer).values_list("sender_party", flat=True)
    )
    assert thread == ["buyer", "seller", "buyer"]
    # The data room: a PDF and a CSV, stored through the upload service's content checks.
    documents = DataRoomDocument.objects.filter(listing=solstice).order_by("title")
    assert [(d.title, d.content_type) for d in documents] == [
        ("Audit summary", "application/pdf"),
        ("TVL by month", "text/csv"),
    ]
    for document in documents:
        with document.file.open("rb") as stored:
            assert stored.read(5) == (b"%PDF-" if document.title == "Audit summary" else b"month")
    # A logo and a screenshot on every published listing, resized to WebP by the service.
    published = Listing.objects.exclude(status="draft")
    for listing in published:
        kinds = dict(ListingMedia.objects.filter(listing=listing).values_list("kind", "width"))
        assert kinds == {"logo": 256, "screenshot": 1280}
    # No chain in tests: no escrow deal (make run's development chain gets one).
    assert not EscrowTransaction.objects.exists()


def test_the_accepted_offers_escrow_deal_opens_when_a_deployed_escrow_answers(
    escrow_chain: EscrowChain,
):
    """As under `make run`'s development chain: the escrow contract deployed (real bytecode
    on py-evm) and its node answering, the accepted offer's deal is opened, once."""
    chain = f"eip155:{escrow_chain.w3.eth.chain_id}"
    asset_price(chain, "native", timezone.now().date() - dt.timedelta(days=1), "2500.00")
    escrow_deployed(chain, escrow_chain.escrow.address)
    listing = ListingFactory(blockchain=chain)
    seller = MembershipFactory(organization=listing.organization, role=Role.MEMBER).user

    with evm_client_override(chain, escrow_chain.w3):
        first = fabric_demo_deals(seller=seller, gated=listing, shown=[])
        again = fabric_demo_deals(seller=seller, gated=listing, shown=[])

    assert (first.nda_signatures, first.offers, first.messages, first.escrows) == (1, 3, 3, 1)
    assert again.created == 0
    deal = EscrowTransaction.objects.get()
    offer = Offer.objects.get(listing=listing, status="accepted")
    assert (deal.offer, deal.buyer.username, deal.status) == (offer, DEMO_BUYER_USERNAME, "pending")
    assert (deal.buyer_wallet, deal.seller_wallet) == (DEMO_BUYER_ADDRESS, DEMO_WALLET_ADDRESS)
    assert deal.escrow_contract_address == escrow_chain.escrow.address
    assert deal.amount_usd == offer.amount_usd == Decimal("690000.00")
    assert int(deal.amount_units) == 276 * 10**18  # $690,000 at $2,500 an ether


def test_a_development_chains_coin_gets_the_demos_eth_price(settings):
    """`make run`'s chain (ganache, eip155:1337) is priced as mainnet ETH, which has no feed
    there: the demo records the TRACE demo's ETH price for it, so the deal can be quoted."""
    settings.PRODUCTION = False
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    asset_price("eip155:8453", "native", yesterday, "3100.00")
    with pytest.raises(InvalidInput):
        payment_units(chain="eip155:1337", payment_token="", amount_usd=Decimal("6200.00"))

    _development_coin_priced("eip155:1337")
    _development_coin_priced("eip155:1337")  # once

    assert AssetPrice.objects.filter(asset__chain="eip155:1").count() == 1
    units = payment_units(chain="eip155:1337", payment_token="", amount_usd=Decimal("6200.00"))
    assert units == 2 * 10**18
