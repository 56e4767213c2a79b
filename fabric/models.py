"""FABRIC: the marketplace where a web3 project is sold.

A seller's organization lists a project (`Listing`) with what is for sale
(`ListingAsset`); its Fabrknt score and verified revenue are computed by the platform from
TRACE, PULSE and `RevenueRecord`s, never typed in. A buyer proves a wallet and signs the
listing's NDA with it (`NDASignature`, the signature kept as evidence); the seller may
revoke a buyer's access or, for a private listing, invite wallets (`BuyerAccess`). Signed
buyers read the data room (`DataRoomDocument`, every download in `DataRoomDownload`),
make offers (`Offer`, each step in `OfferStep`), talk to the seller (`Message`) and pay
through the escrow contract (`EscrowTransaction`, every event in `EscrowEvent`).

Statuses move only through `fabric.services` transitions; the constraints below keep the
stored values inside their choices whatever writes them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from accounts.models import Organization, User
from fabric.storage import dataroom_storage, media_storage
from fabrknt.encrypted import EncryptedTextField

MONEY_DIGITS = 15
SCORE_DIGITS = 5


def _money_field(**kwargs: object) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)  # type: ignore[arg-type]


def _score_field() -> models.DecimalField[Decimal | None, Decimal | None]:
    return models.DecimalField(max_digits=SCORE_DIGITS, decimal_places=2, null=True, blank=True)


class ListingStatus(models.TextChoices):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    UNDER_OFFER = "under_offer"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class Visibility(models.TextChoices):
    PUBLIC = "public"
    NDA = "nda"
    PRIVATE = "private"


class Listing(models.Model):
    """A project for sale (the seed's fabric_listings)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="fabric_listings"
    )
    pulse_team = models.ForeignKey(
        "pulse.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trace_project = models.ForeignKey(
        "trace.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    asking_price_usd = _money_field()
    blockchain = models.CharField(max_length=64, help_text="CAIP-2")
    # The wallet the escrow pays (the seller's); set by the seller before a deal opens.
    seller_wallet = models.CharField(max_length=64, blank=True, default="")
    # Computed by fabric.services.suite, never written by the seller.
    fabrknt_score = _score_field()
    growth_score = _score_field()
    vitality_score = _score_field()
    score_components = models.JSONField(default=dict, blank=True)
    score_computed_at = models.DateTimeField(null=True, blank=True)
    # Trailing 30 days, from RevenueRecords only (fabric.services.revenue).
    revenue_verified = _money_field(null=True, blank=True)
    revenue_verified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ListingStatus.choices, default=ListingStatus.DRAFT
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    # The NDA's text for this listing; each edit is a new version needing a new signature.
    nda_text = models.TextField(blank=True, default="")
    nda_version = models.PositiveIntegerField(default=1)
    featured = models.BooleanField(default=False)
    review_note = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    sold_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ListingStatus.values), name="fabric_listing_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="fabric_listing_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(asking_price_usd__gte=0), name="fabric_listing_price_nonnegative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "visibility", "-published_at"]),
            models.Index(fields=["organization", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class ListingEvent(models.Model):
    """A status change of a listing: who moved it, from what to what, and why."""

    id = models.BigAutoField(primary_key=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=ListingStatus.choices)
    to_status = models.CharField(max_length=16, choices=ListingStatus.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class AssetType(models.TextChoices):
    CONTRACT = "contract", "Smart contract"
    TOKEN = "token", "Token"
    NFT = "nft", "NFT (ERC-721)"
    DOMAIN = "domain", "Domain"
    REPOSITORY = "repository", "Code repository"
    SOCIAL = "social", "Social account"
    TREASURY = "treasury", "Treasury address"
    OTHER = "other", "Other"


class ListingAsset(models.Model):
    """Something a buyer gets (the seed's fabric_listing_assets). Treasury assets are the
    addresses whose received fees the revenue verifier counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="assets")
    asset_type = models.CharField(max_length=16, choices=AssetType.choices)
    asset_identifier = models.CharField(max_length=200)
    chain = models.CharField(max_length=64, blank=True, default="", help_text="CAIP-2")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "asset_type", "chain", "asset_identifier"],
                name="fabric_asset_unique_per_listing",
            ),
            models.CheckConstraint(
                condition=Q(asset_type__in=AssetType.values), name="fabric_asset_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_type}: {self.asset_identifier}"


class BuyerAccess(models.Model):
    """A wallet's standing with a listing as the seller set it: invited (a private
    listing's only readers besides the seller) and/or revoked (nothing gated, whatever it
    signed). One row per listing and wallet."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="buyer_access")
    namespace = models.CharField(max_length=16, help_text="CAIP-2 namespace: eip155, solana")
    wallet_address = models.CharField(max_length=64)
    invited_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "buyer access"
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "namespace", "wallet_address"],
                name="fabric_buyer_access_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.wallet_address


class NDANonce(models.Model):
    """The nonce of an NDA message handed out by `GET /nda/{listing}/message`: single use,
    bound to the listing, the NDA version, the wallet and the user who asked."""

    id = models.BigAutoField(primary_key=True)
    value = models.CharField(max_length=64, unique=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=16)
    wallet_address = models.CharField(max_length=64)
    nda_version_hash = models.CharField(max_length=66)
    issued_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.value


class NDASignature(models.Model):
    """A buyer's signature over a listing's NDA version (the seed's nda_signatures): the
    exact message and signature are kept as evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="nda_signatures")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="fabric_ndas")
    namespace = models.CharField(max_length=16)
    buyer_wallet = models.CharField(max_length=64)
    nda_version = models.PositiveIntegerField()
    nda_version_hash = models.CharField(max_length=66)
    message = models.TextField()
    signature = models.TextField()
    # How the signature was checked: personal_sign (EIP-191), eip1271, ed25519.
    scheme = models.CharField(max_length=16)
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "NDA signature"
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "namespace", "buyer_wallet", "nda_version_hash"],
                name="fabric_nda_one_per_wallet_version",
            ),
        ]
        indexes = [models.Index(fields=["user", "listing"])]

    def __str__(self) -> str:
        return f"{self.buyer_wallet} on {self.listing_id}"


class OfferStatus(models.TextChoices):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COUNTERED = "countered"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Party(models.TextChoices):
    BUYER = "buyer"
    SELLER = "seller"


class Offer(models.Model):
    """A buyer's offer on a listing; a counter keeps its id and passes the turn."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="offers")
    buyer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="fabric_offers")
    buyer_wallet = models.CharField(max_length=64)
    amount_usd = _money_field()
    terms = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    awaiting = models.CharField(max_length=8, choices=Party.choices, default=Party.SELLER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="fabric_offer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(awaiting__in=Party.values), name="fabric_offer_awaiting_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_usd__gt=0), name="fabric_offer_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["listing", "status"])]

    def __str__(self) -> str:
        return f"{self.amount_usd} for {self.listing_id}"


class OfferAction(models.TextChoices):
    MADE = "made"
    COUNTERED = "countered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OfferStep(models.Model):
    """One step of an offer's history (`history` in the API)."""

    id = models.BigAutoField(primary_key=True)
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=12, choices=OfferAction.choices)
    party = models.CharField(max_length=8, choices=Party.choices, blank=True, default="")
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    amount_usd = _money_field()
    terms = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.amount_usd}"


class Message(models.Model):
    """A message in the thread of a listing and one buyer (after the NDA)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="messages")
    # The thread: the listing and this buyer.
    buyer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    sender = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    sender_party = models.CharField(max_length=8, choices=Party.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["listing", "buyer", "created_at"])]

    def __str__(self) -> str:
        return f"{self.sender_party} on {self.listing_id}"


class EscrowStatus(models.TextChoices):
    PENDING = "pending"
    FUNDED = "funded"
    RELEASED = "released"
    REFUNDED = "refunded"


class EscrowTransaction(models.Model):
    """A deal in the escrow contract (the seed's escrow_transactions). Its status follows
    the contract's events as `monitor_escrows` reads them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="escrows")
    offer = models.ForeignKey(
        Offer, on_delete=models.SET_NULL, null=True, blank=True, related_name="escrows"
    )
    buyer = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="fabric_escrows"
    )
    buyer_wallet = models.CharField(max_length=64)
    seller_wallet = models.CharField(max_length=64)
    chain = models.CharField(max_length=64, help_text="CAIP-2")
    escrow_contract_address = models.CharField(max_length=64)
    # The contract's deal id (uint256 as text), known once DealCreated is seen.
    deal_id = models.CharField(max_length=78, null=True, blank=True)
    # keccak256 of this row's id: the deal's `ref` on the chain.
    deal_ref = models.CharField(max_length=66, unique=True)
    payment_token = models.CharField(
        max_length=64, blank=True, default="", help_text="empty: the native coin"
    )
    amount_usd = _money_field()
    # The payment in the asset's smallest unit (wei), as decimal text.
    amount_units = models.CharField(max_length=78)
    fee_bps = models.PositiveIntegerField()
    # The seller's asset of an atomic swap: {type, address, token_id?}; empty: payment only.
    swap_asset = models.JSONField(default=dict, blank=True)
    deadline = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EscrowStatus.choices, default=EscrowStatus.PENDING
    )
    disputed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EscrowStatus.values), name="fabric_escrow_status_valid"
            ),
            models.UniqueConstraint(
                fields=["chain", "escrow_contract_address", "deal_id"],
                condition=Q(deal_id__isnull=False),
                name="fabric_escrow_unique_deal",
            ),
        ]
        indexes = [models.Index(fields=["chain", "status"])]

    def __str__(self) -> str:
        return f"{self.chain} deal {self.deal_id or '(unseen)'}"


class EscrowEvent(models.Model):
    """A contract event of a deal, as the monitor read it: the status history and every
    transaction hash. Unique per log, so a re-read stores nothing twice; a reorg removes
    the rows of the dropped blocks."""

    id = models.BigAutoField(primary_key=True)
    escrow = models.ForeignKey(EscrowTransaction, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=32)
    tx_hash = models.CharField(max_length=66)
    log_index = models.PositiveIntegerField()
    block_number = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    data = models.JSONField(default=dict, blank=True)
    status_after = models.CharField(max_length=10, choices=EscrowStatus.choices)
    occurred_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["block_number", "log_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["escrow", "tx_hash", "log_index"], name="fabric_escrow_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} in {self.tx_hash}"


class EscrowCursor(models.Model):
    """How far `monitor_escrows` has read one escrow contract's events."""

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=64)
    contract_address = models.CharField(max_length=64)
    last_block = models.PositiveBigIntegerField(default=0)
    last_block_hash = models.CharField(max_length=66, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "contract_address"], name="fabric_escrow_cursor_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.contract_address} at {self.last_block}"


def data_room_upload_to(instance: DataRoomDocument, filename: str) -> str:
    return f"dataroom/{instance.listing_id}/{uuid.uuid4().hex}/{filename}"


class DataRoomDocument(models.Model):
    """A document of a listing's data room, stored through the `dataroom` storage.

    Deleting one removes its file and keeps the row (`deleted_at`), so the access log
    still says what was downloaded. One live document per listing and content."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=data_room_upload_to, storage=dataroom_storage, max_length=500)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "sha256"],
                condition=Q(deleted_at__isnull=True),
                name="fabric_document_unique_content",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DownloadKind(models.TextChoices):
    LINK = "link", "Link issued"
    DOWNLOAD = "download", "File served"


class DataRoomDownload(models.Model):
    """One download of a data-room document (the access log)."""

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(
        DataRoomDocument, on_delete=models.CASCADE, related_name="downloads"
    )
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # A link handed out (for a bucket, the only record: the file comes from S3), or a file
    # served through our own link.
    kind = models.CharField(max_length=8, choices=DownloadKind.choices, default=DownloadKind.LINK)
    wallet_address = models.CharField(max_length=64, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["document", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.document_id} by {self.user_id}"


class MediaKind(models.TextChoices):
    LOGO = "logo"
    SCREENSHOT = "screenshot"


def media_upload_to(instance: ListingMedia, filename: str) -> str:
    return f"listings/{instance.listing_id}/{uuid.uuid4().hex}/{filename}"


class ListingMedia(models.Model):
    """An image of a listing: the original as uploaded and the WebP the marketplace shows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(max_length=12, choices=MediaKind.choices)
    original = models.FileField(upload_to=media_upload_to, storage=media_storage, max_length=500)
    webp = models.FileField(upload_to=media_upload_to, storage=media_storage, max_length=500)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)
    # Of the uploaded bytes: the same image sent again is the same media.
    sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "position", "created_at"]
        verbose_name_plural = "listing media"
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "kind", "sha256"],
                condition=~Q(sha256=""),
                name="fabric_media_unique_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.listing_id}"


class RevenueSource(models.TextChoices):
    ONCHAIN = "onchain", "On-chain fees"
    STRIPE = "stripe", "Stripe charges"


class RevenueRecord(models.Model):
    """Revenue the verifier measured for a listing over a trailing window, with its
    evidence (transactions or Stripe charge ids). `Listing.revenue_verified` is read from
    these only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="revenue_records")
    source = models.CharField(max_length=8, choices=RevenueSource.choices)
    window_days = models.PositiveSmallIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    # DefiLlama's terms: fees are what users paid; revenue what the protocol kept.
    fees_usd = _money_field()
    revenue_usd = _money_field()
    evidence = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "source", "window_days", "period_end"],
                name="fabric_revenue_unique_window",
            ),
            models.CheckConstraint(
                condition=Q(source__in=RevenueSource.values), name="fabric_revenue_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.window_days}d to {self.period_end:%Y-%m-%d}"


class StripeConnection(models.Model):
    """A seller's read-only (restricted) Stripe key for the revenue verifier, encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.OneToOneField(
        Listing, on_delete=models.CASCADE, related_name="stripe_connection"
    )
    api_key = EncryptedTextField()
    account_label = models.CharField(max_length=200, blank=True, default="")
    connected_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"Stripe for {self.listing_id}"
