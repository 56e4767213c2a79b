"""FABRIC demo data, the buyer's side: the demo buyer ("demo-buyer", Hardhat/Anvil account
#1, whose published key makes it DEMO only) signs the NDA of the NDA-gated listing for real
(EIP-191 over the text `fabric.services.nda` issues, so it verifies like any buyer's),
makes offers in three states (one accepted, so the listing is under offer; one open,
awaiting the seller; one the seller countered), and writes to the seller, who answers.
The listing gets data-room documents (a PDF and a CSV, generated) and the published
listings a logo and a screenshot (drawn with Pillow), all through the services the pages
use. When an escrow contract is deployed and its chain answers (`make run`'s development
chain), the accepted offer's deal is opened too; without one no deal is made, and a later
run opens it. A development chain's coin is priced as mainnet ETH (`trace.services.pricing`),
which `make run` has no price feed for: the demo records the TRACE demo's latest ETH price
(ETH on Base) for it, as an operator would enter it.

Re-running creates nothing: the NDA is signed once per wallet and version, the offers and
the thread are made only when the buyer has none on the listing, documents and images are
found by their content, and the deal is the offer's pending one.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address
from PIL import Image, ImageDraw
from web3.exceptions import Web3Exception

from accounts.models import User
from accounts.selectors import CallerAccess
from accounts.services.demo import DEMO_BUYER_KEY, DEMO_WALLET_ADDRESS, demo_buyer_ensure
from fabric.cache import listing_changed
from fabric.chain.escrow import ESCROW_CONTRACT
from fabric.models import (
    EscrowTransaction,
    Listing,
    ListingMedia,
    ListingStatus,
    MediaKind,
    Message,
    Offer,
    OfferStatus,
)
from fabric.selectors import signed_wallets
from fabric.services.dataroom import document_upload
from fabric.services.escrow import escrow_chains, escrow_init
from fabric.services.media import media_upload
from fabric.services.messages import message_send
from fabric.services.nda import nda_message_issue, nda_sign
from fabric.services.offers import offer_accept, offer_counter, offer_make
from fabrknt.api.errors import Conflict, InvalidInput
from fabrknt.chain.deployments import deployed_contract
from fabrknt.chain.evm import ChainNotConfigured, evm_client_serving
from trace.models import NATIVE_ASSET, Asset, AssetPrice, PriceSource
from trace.services.pricing import DEVELOPMENT_CHAINS, DEVELOPMENT_PRICED_AS

logger = logging.getLogger(__name__)
BASE_CHAIN = "eip155:8453"  # the TRACE demo prices ETH on Base
# A fixed moment in the generated PDF's metadata: the same bytes on every run.
PDF_DATE = dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timetuple()
# (amount, terms) of the demo buyer's offers; the seller's counter on the third.
ACCEPTED = (Decimal("690000.00"), "Cash on closing through the escrow; 30-day handover.")
OPEN = (Decimal("650000.00"), "Backup offer, if the accepted one falls through.")
COUNTERED = (Decimal("600000.00"), "Program and SDK only, without the domain.")
COUNTER = (Decimal("640000.00"), "Program and SDK only; the domain stays with us for a year.")
THREAD = [
    ("buyer", "Hello! Could you share the program's audit report and last quarter's TVL?"),
    ("seller", "Sure: both are in the data room now (the audit summary and the TVL export)."),
    ("buyer", "Thanks. Our offer is in; we can close within 30 days through the escrow."),
]
DOCUMENTS = [
    ("Audit summary", "audit-summary.pdf"),
    ("TVL by month", "tvl-by-month.csv"),
]


@dataclass
class DealsDemo:
    buyer_rows: int = 0
    nda_signatures: int = 0
    offers: int = 0
    messages: int = 0
    documents: int = 0
    images: int = 0
    escrows: int = 0

    @property
    def created(self) -> int:
        return (
            self.buyer_rows
            + self.nda_signatures
            + self.offers
            + self.messages
            + self.documents
            + self.images
            + self.escrows
        )


def fabric_demo_deals(*, seller: User, gated: Listing, shown: list[Listing]) -> DealsDemo:
    """The demo buyer's NDA, offers, thread and deal on `gated` (the NDA listing), its data
    room, and images for the `shown` listings; the seller (a member with write) answers."""
    result = DealsDemo()
    buyer, result.buyer_rows = demo_buyer_ensure()
    wallet = to_checksum_address(Account.from_key(DEMO_BUYER_KEY).address)
    result.nda_signatures = _nda(buyer, gated, wallet)
    if not gated.seller_wallet:  # where an escrow pays the seller: the demo operator's wallet
        Listing.objects.filter(pk=gated.pk).update(seller_wallet=DEMO_WALLET_ADDRESS)
        listing_changed(gated.pk)
    buyer_access, seller_access = CallerAccess(user=buyer), CallerAccess(user=seller)
    result.offers = _offers(gated, buyer_access, seller_access, wallet)
    result.messages = _thread(gated, buyer, buyer_access, seller_access)
    result.documents = sum(
        document_upload(
            listing=gated, upload=_upload(name, _document(name)), title=title, actor=seller
        ).created
        for title, name in DOCUMENTS
    )
    for listing in shown:
        result.images += _images(listing)
    result.escrows = _escrow(gated, buyer_access, wallet)
    return result


def _nda(buyer: User, listing: Listing, wallet: str) -> int:
    if wallet in signed_wallets(listing, buyer):
        return 0
    message = nda_message_issue(user=buyer, listing=listing, wallet_address=wallet)
    signed = Account.from_key(DEMO_BUYER_KEY).sign_message(encode_defunct(text=message))
    return int(
        nda_sign(
            user=buyer,
            listing=listing,
            buyer_wallet=wallet,
            message=message,
            signature=signed.signature.to_0x_hex(),
        ).created
    )


def _offers(listing: Listing, buyer: CallerAccess, seller: CallerAccess, wallet: str) -> int:
    """Accepted first (the listing goes under offer), then the two that wait behind it."""
    if Offer.objects.filter(listing=listing, buyer=buyer.user).exists():
        return 0

    def make(amount: Decimal, terms: str) -> Offer:
        return offer_make(
            listing_id=listing.pk, access=buyer, buyer_wallet=wallet, amount_usd=amount, terms=terms
        ).offer

    if listing.status == ListingStatus.PUBLISHED:
        offer_accept(offer_id=make(*ACCEPTED).pk, access=seller)
    make(*OPEN)
    offer_counter(
        offer_id=make(*COUNTERED).pk, access=seller, amount_usd=COUNTER[0], terms=COUNTER[1]
    )
    return Offer.objects.filter(listing=listing, buyer=buyer.user).count()


def _thread(
    listing: Listing, buyer: User, buyer_access: CallerAccess, seller_access: CallerAccess
) -> int:
    if Message.objects.filter(listing=listing, buyer=buyer).exists():
        return 0
    for party, body in THREAD:
        if party == "buyer":
            message_send(listing_id=listing.pk, access=buyer_access, body=body)
        else:
            message_send(listing_id=listing.pk, access=seller_access, body=body, buyer_id=buyer.pk)
    return len(THREAD)


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _document(name: str) -> bytes:
    if name.endswith(".csv"):
        rows = ["month,tvl_usd,borrowed_usd"] + [
            f"2025-{month:02d},{3_100_000 + month * 85_000},{1_200_000 + month * 40_000}"
            for month in range(1, 13)
        ]
        return ("\n".join(rows) + "\n").encode()
    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    lines = [
        "Solstice Lend: audit summary (DEMO)",
        "",
        "Scope: the isolated-market lending program and its TypeScript SDK.",
        "Findings: 0 critical, 1 high (fixed), 3 medium (fixed), 5 low.",
        "Oracle staleness checks added; liquidation bonus capped per market.",
    ]
    for row, line in enumerate(lines):
        draw.text((60, 80 + row * 28), line, fill="black")
    out = io.BytesIO()
    page.save(out, "PDF", resolution=100, creationDate=PDF_DATE, modDate=PDF_DATE)
    return out.getvalue()


def _picture(size: tuple[int, int], hue: int, label: str) -> bytes:
    image = Image.new("RGB", size, (hue, 90, 200 - hue // 2))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 10, height // 5, width * 9 // 10, height * 4 // 5), fill="white")
    draw.text((width // 8, height // 4), label, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _images(listing: Listing) -> int:
    hue = sum(listing.title.encode()) % 200
    made = 0
    kinds: list[tuple[str, tuple[int, int]]] = [
        (MediaKind.LOGO, (256, 256)),
        (MediaKind.SCREENSHOT, (1280, 720)),
    ]
    for kind, size in kinds:
        if ListingMedia.objects.filter(listing=listing, kind=kind).exists():
            continue  # the seller's own image stays
        upload = _upload(f"{kind}.png", _picture(size, hue, listing.title))
        made += media_upload(listing=listing, upload=upload, kind=kind).created
    return made


def _escrow(listing: Listing, buyer: CallerAccess, wallet: str) -> int:
    offer = Offer.objects.filter(
        listing=listing, buyer=buyer.user, status=OfferStatus.ACCEPTED
    ).first()
    chain = _escrow_chain_serving()
    if offer is None or chain is None:
        return 0
    if EscrowTransaction.objects.filter(offer=offer).exists():
        return 0
    _development_coin_priced(chain)
    try:
        opening = escrow_init(
            access=buyer,
            listing_id=listing.pk,
            buyer_wallet=wallet,
            amount_usd=offer.amount_usd,
            chain=chain,
            offer_id=offer.pk,
        )
    except (InvalidInput, Conflict) as refusal:  # e.g. no price for the chain's coin yet
        logger.warning("FABRIC demo: no escrow deal opened on %s (%s)", chain, refusal)
        return 0
    return int(opening.created)


def _development_coin_priced(chain: str) -> None:
    if chain not in DEVELOPMENT_CHAINS:
        return
    priced_chain, address = DEVELOPMENT_PRICED_AS
    coin = Asset.objects.filter(chain=priced_chain, address=address).first()
    latest = (
        AssetPrice.objects.filter(asset__chain=BASE_CHAIN, asset__address=NATIVE_ASSET)
        .order_by("-day")
        .first()
    )
    if coin is None or latest is None:
        return
    AssetPrice.objects.get_or_create(
        asset=coin,
        day=latest.day,
        defaults={
            "price_usd": latest.price_usd,
            "source": PriceSource.ADMIN,
            "fetched_at": latest.fetched_at,
        },
    )


def _escrow_chain_serving() -> str | None:
    """The first chain whose escrow contract is deployed and whose node answers."""

    def serving(chain: str) -> bool:
        contract = deployed_contract(chain=chain, name=ESCROW_CONTRACT)
        if contract is None:
            return False
        try:
            code = evm_client_serving(chain).eth.get_code(to_checksum_address(contract.address))
        except (ChainNotConfigured, OSError, Web3Exception) as error:
            logger.warning("FABRIC demo: %s is not serving (%s): no escrow deal", chain, error)
            return False
        return bool(code)

    return next((chain for chain in escrow_chains() if serving(chain)), None)
