"""TRACE: which marketing brought users who transact on-chain, and at what cost.

Natural keys are unique constraints, so every retried write (clicks, conversions,
chain transactions, daily metrics) lands once however often it arrives.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Organization, User

# Money columns of TRACE hold at most 20 digits, cents included. A sum over up to 2**63
# rows (a 19-digit count) of them has at most 20 + 19 digits: outputs that sum money are
# declared this wide, so no value the database can hold overflows them.
MONEY_MAX_DIGITS = 20
MONEY_SUM_MAX_DIGITS = MONEY_MAX_DIGITS + 19


class ProjectQuerySet(models.QuerySet["Project"]):
    def live(self) -> ProjectQuerySet:
        """Projects not archived: the ones lists show."""
        return self.filter(archived_at__isnull=True)


class Project(models.Model):
    """A web3 product whose on-chain activity TRACE follows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    chain = models.CharField(max_length=64, help_text="CAIP-2 chain id, e.g. eip155:8453")
    contract_addresses = models.JSONField(default=list, blank=True)
    treasury_addresses = models.JSONField(default=list, blank=True)
    # The chain indexer's cursor: the highest block whose logs are stored and confirmed.
    last_indexed_block = models.BigIntegerField(null=True, blank=True)
    # When the indexer last moved the cursor: "indexed up to block N, 2 min ago".
    last_indexed_at = models.DateTimeField(null=True, blank=True)
    # When a member last asked for its metrics to be recomputed (one request a minute).
    metrics_recompute_requested_at = models.DateTimeField(null=True, blank=True)
    # Archived (DELETE): hidden from lists, nothing erased.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # Its link still redirects; its clicks are kept, marked `during_pause`.
    PAUSED = "paused", "Paused"
    # Hidden from default lists; its link, clicks and conversions stay (nothing is erased).
    ARCHIVED = "archived", "Archived"


class AttributionModel(models.TextChoices):
    LAST_CLICK = "last_click", "Last click"
    FIRST_CLICK = "first_click", "First click"
    LINEAR = "linear", "Linear"


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    name = models.CharField(max_length=200)
    landing_url = models.URLField(max_length=2048)
    target_contract = models.CharField(max_length=64, blank=True)
    budget_usd = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    goal = models.CharField(max_length=500, blank=True)
    attribution_model = models.CharField(
        max_length=16, choices=AttributionModel.choices, default=AttributionModel.LAST_CLICK
    )
    attribution_window_days = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(
        max_length=8,
        choices=CampaignStatus.choices,
        default=CampaignStatus.ACTIVE,
        db_default=CampaignStatus.ACTIVE,
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_usd__gte=0), name="campaign_budget_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(attribution_window_days__gte=1), name="campaign_window_positive"
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return self.name


def landing_domain_token() -> str:
    return secrets.token_urlsafe(24)


class LandingDomain(models.Model):
    """A host name an organization claims for its campaigns' landing pages. Once verified
    (our token served at https://DOMAIN/.well-known/fabrknt-verification.txt), `/t/`
    redirects to landing URLs on it and on its subdomains; elsewhere it shows an
    interstitial page naming the destination."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="landing_domains"
    )
    # Lower case, IDNA (punycode) form, no trailing dot: trace.services.domains.domain_normalize.
    domain = models.CharField(max_length=253)
    token = models.CharField(max_length=64, default=landing_domain_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="landingdomain_unique_per_organization"
            ),
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")) & ~Q(domain=""),
                name="landingdomain_domain_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True) | Q(last_checked_at__isnull=False),
                name="landingdomain_verified_when_checked",
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class Click(models.Model):
    """One visit through a tracking link. Inserted in batches from the Redis stream.

    `click_id` is unique per organization, never across tenants, so no organization can
    take or probe another's ids.
    """

    id = models.BigAutoField(primary_key=True)
    click_id = models.CharField(max_length=64)
    # The campaign's organization, which the batch insert copies from the campaign's row
    # (so it cannot disagree with it). No index of its own, as the unique (click_id,
    # organization) index serves lookups, and no database foreign key: the campaign's
    # already guarantees it, and a second check per row cost the batch insert some 15%
    # (measured). Deleting an organization still deletes its clicks (through its
    # campaigns, and Django's cascade).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="clicks")
    occurred_at = models.DateTimeField()
    # Truncated (/24, /48) unless STORE_FULL_IP is on.
    ip_address = models.CharField(max_length=45, blank=True)
    # sha256(daily salt, campaign, IP, user agent): counts unique visitors per day
    # without keeping anything that identifies them.
    visitor_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    referrer = models.CharField(max_length=2048, blank=True)
    utm_params = models.JSONField(default=dict, blank=True)
    is_bot = models.BooleanField(default=False)
    bot_reason = models.CharField(max_length=64, blank=True)
    # The campaign was paused when the click came (as the click path's cached lookup of
    # the campaign saw it): kept, but apart from the campaign's running figures.
    during_pause = models.BooleanField(default=False, db_default=False)
    # Past CLICK_RETENTION_DAYS, a click a conversion refers to is kept as its evidence
    # with the visit's details (IP, visitor hash, agent, referrer, UTM) erased; its
    # campaign's CampaignDay counts it still (trace.services.clicks.retention).
    details_erased = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [
            # click_id first: the index also serves lookups by click id alone (the admin).
            # ON CONFLICT (organization_id, click_id) infers it whatever the column order.
            models.UniqueConstraint(
                fields=["click_id", "organization"], name="click_unique_per_organization"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
        ]

    def __str__(self) -> str:
        return self.click_id


class CampaignDay(models.Model):
    """A campaign's rollup of one UTC day, kept exact by the writes themselves
    (trace.services.rollups): the click flush adds its clicks in the statement that inserts
    them, and every change to a conversion, its credits or a wallet link's proof recounts
    the days it touches. Reads cost one row a day, whatever the traffic.

    `retained_*` hold what click retention removed from the raw rows (deleted clicks, and
    the visitor hashes of the day), so a rebuild from the raw rows adds them back.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (campaign, date) index serves it.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="days", db_index=False
    )
    date = models.DateField()
    clicks = models.PositiveBigIntegerField(default=0)  # people's clicks
    bot_clicks = models.PositiveBigIntegerField(default=0)
    # Distinct visitor hashes of the day's human clicks (salted per day, so the unique
    # visitors of several days are the sum of theirs).
    unique_visitors = models.PositiveBigIntegerField(default=0)
    conversions = models.PositiveBigIntegerField(default=0)  # credited to the campaign
    converted_wallets = models.PositiveBigIntegerField(default=0)  # distinct, that day
    # The campaign's credited share of the day's conversions, and the part of it credited
    # through clicks whose link to the converting wallet is proven.
    conversion_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    proven_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    retained_clicks = models.PositiveBigIntegerField(default=0)
    retained_bot_clicks = models.PositiveBigIntegerField(default=0)
    retained_unique_visitors = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="campaignday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.date}"


class CampaignDayVisitor(models.Model):
    """A visitor hash seen on a campaign's day (its first 32 hex digits, 128 bits): the
    flush inserts it ON CONFLICT DO NOTHING, and what it inserted are the day's new unique
    visitors. Deleted with the day's clicks at retention."""

    pk = models.CompositePrimaryKey("campaign_id", "date", "visitor")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    visitor = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.visitor


# CampaignDayWallet.previous_date of a wallet's first day with the campaign.
NO_PREVIOUS_DATE = dt.date(1, 1, 1)


class CampaignDayWallet(models.Model):
    """A wallet with a conversion credited to a campaign on a day: its conversions that
    day, their credited value (and its proven part), the last one's moment, and the
    wallet's previous day with the campaign (`previous_date`, NO_PREVIOUS_DATE on its
    first), which CampaignDayWalletGap counts."""

    pk = models.CompositePrimaryKey("campaign_id", "date", "wallet_address")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    wallet_address = models.CharField(max_length=64)
    conversions = models.PositiveBigIntegerField(default=0)
    value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    last_converted_at = models.DateTimeField(null=True)
    proven_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    previous_date = models.DateField(default=NO_PREVIOUS_DATE)

    def __str__(self) -> str:
        return self.wallet_address


class CampaignDayWalletGap(models.Model):
    """How many of the wallets converting on a campaign's day had their previous day with
    the campaign on `previous_date` (NO_PREVIOUS_DATE: the day is their first). The
    distinct converted wallets of days [a, b] are the wallets of those days whose
    previous day is before a: one row per day and previous day, whatever the wallets."""

    pk = models.CompositePrimaryKey("campaign_id", "date", "previous_date")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    previous_date = models.DateField()
    # Not "positive": the writes add signed changes in one upsert, which checks a row's
    # constraints before it finds the row the change adds to.
    wallets = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.date} after {self.previous_date}: {self.wallets}"


class CampaignWallet(models.Model):
    """A wallet with conversions credited to a campaign, all time: its first day, its last
    conversion, its conversions, their credited value and its proven part (the sums of
    its CampaignDayWallet rows). The campaign page's converted-wallets table pages through
    it by last conversion."""

    pk = models.CompositePrimaryKey("campaign_id", "wallet_address")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    wallet_address = models.CharField(max_length=64)
    first_date = models.DateField()
    last_converted_at = models.DateTimeField()
    conversions = models.PositiveBigIntegerField(default=0)
    value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    proven_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        indexes = [
            models.Index(
                F("campaign"),
                F("last_converted_at").desc(),
                F("wallet_address"),
                name="campaignwallet_latest",
            )
        ]

    def __str__(self) -> str:
        return self.wallet_address


class CampaignDayContract(models.Model):
    """A campaign's credited conversion value of a day on one contract (as the conversion
    names it, spelled as stored) and its proven part: a certificate's verified-contract
    proven share reads these, one row per day and contract."""

    pk = models.CompositePrimaryKey("campaign_id", "date", "contract_address")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField()
    contract_address = models.CharField(max_length=64)
    conversion_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    proven_value_usd = models.DecimalField(
        max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )

    def __str__(self) -> str:
        return f"{self.contract_address} {self.date}"


class BreakdownDimension(models.TextChoices):
    REFERRER = "referrer", "Referring host"  # human clicks; "" for direct or hidden
    UTM_SOURCE = "utm_source", "utm_source"  # human clicks, by the UTM value
    UTM_MEDIUM = "utm_medium", "utm_medium"
    UTM_CAMPAIGN = "utm_campaign", "utm_campaign"
    UTM_TERM = "utm_term", "utm_term"
    UTM_CONTENT = "utm_content", "utm_content"
    BOT_REASON = "bot_reason", "Bot reason"  # bot clicks, by reason ("" unspecified)
    PAUSED = "paused", "During a pause"  # all clicks (human or not) during a pause; value ""


class CampaignDayBreakdown(models.Model):
    """A campaign's clicks of a UTC day by one value of a dimension (referring host, a UTM
    parameter's value, bot reason, during a pause): the campaign page's breakdowns read
    one row per day and value, whatever the traffic. Kept by the same writes as
    CampaignDay (trace.services.rollups); `retained_clicks` is what click retention
    erased from the raw rows, so a rebuild adds it back."""

    pk = models.CompositePrimaryKey("campaign_id", "dimension", "date", "value")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    dimension = models.CharField(max_length=16, choices=BreakdownDimension.choices)
    date = models.DateField()
    # Cut to 512 characters (a UTM value's stored limit; a host is at most 253).
    value = models.CharField(max_length=512)
    clicks = models.PositiveBigIntegerField(default=0)
    retained_clicks = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.dimension}={self.value}"


class LinkProof(models.TextChoices):
    # Someone who knew the click id named the wallet (fab.js with the page's public key).
    CLAIMED = "claimed", "Claimed"
    # The wallet signed the message the server issued for this click (EIP-191 or Ed25519).
    PROVEN = "proven", "Proven"


class WalletLink(models.Model):
    """A wallet that connected after a click (`/identify`): the bridge to on-chain activity."""

    id = models.BigAutoField(primary_key=True)
    click = models.ForeignKey(Click, on_delete=models.CASCADE, related_name="wallet_links")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="wallet_links")
    wallet_address = models.CharField(max_length=64)
    identified_at = models.DateTimeField()
    proof = models.CharField(max_length=8, choices=LinkProof.choices, default=LinkProof.CLAIMED)
    proven_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["click", "wallet_address"], name="walletlink_unique"),
            models.CheckConstraint(
                condition=(Q(proof=LinkProof.CLAIMED) & Q(proven_at__isnull=True))
                | (Q(proof=LinkProof.PROVEN) & Q(proven_at__isnull=False)),
                name="walletlink_proven_at_with_proof",
            ),
        ]
        indexes = [models.Index(fields=["wallet_address", "identified_at"])]

    def __str__(self) -> str:
        return f"{self.wallet_address} via {self.click_id} ({self.proof})"


class IdentifyNonce(models.Model):
    """A nonce issued in the message that proves one wallet's link to one click; the
    first successful proof spends it (a refused attempt leaves it as it was)."""

    id = models.BigAutoField(primary_key=True)
    value = models.CharField(max_length=64, unique=True)
    click = models.ForeignKey(Click, on_delete=models.CASCADE, related_name="+")
    wallet_address = models.CharField(max_length=64)
    # The exact text issued: a proof must sign this, byte for byte.
    message = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.value


class ConversionSource(models.TextChoices):
    API = "api", "API"
    CHAIN = "chain", "On-chain"


class Conversion(models.Model):
    """A transaction (and event) credited to campaigns; unique per organization, so two
    tenants whose campaigns brought the same transaction each have their own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The campaign's organization, kept on the row for the unique key.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="conversions")
    click = models.ForeignKey(
        Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    wallet_address = models.CharField(max_length=64)
    transaction_hash = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64, default="transaction")
    value_usd = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    contract_address = models.CharField(max_length=64, blank=True)
    source = models.CharField(
        max_length=8, choices=ConversionSource.choices, default=ConversionSource.API
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The hash first: the index also serves lookups by transaction alone.
            models.UniqueConstraint(
                fields=["transaction_hash", "event_type", "organization"],
                name="conversion_unique_per_organization",
            ),
            models.CheckConstraint(
                condition=Q(value_usd__gte=0), name="conversion_value_nonnegative"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "occurred_at"]),
            models.Index(fields=["wallet_address"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.transaction_hash}"


class ConversionCredit(models.Model):
    """How one conversion's value is shared between the clicks (so campaigns) behind it.

    Last and first click give one row with share 1; linear gives one row per touch. ROI
    sums credited values, so a campaign is paid only its share. A conversion without any
    credit row (written directly, e.g. demo data) counts fully for its own campaign.
    """

    id = models.BigAutoField(primary_key=True)
    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="credits")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="conversion_credits"
    )
    click = models.ForeignKey(
        Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    share = models.DecimalField(max_digits=7, decimal_places=6)
    value_usd = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversion", "click"], name="credit_unique_click"),
            models.CheckConstraint(
                condition=Q(share__gt=0) & Q(share__lte=1), name="credit_share_range"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "conversion"])]

    def __str__(self) -> str:
        return f"{self.share} of {self.conversion_id} to {self.campaign_id}"


class InteractionSource(models.TextChoices):
    ALCHEMY = "alchemy", "Alchemy webhook"
    HELIUS = "helius", "Helius webhook"
    INDEXER = "indexer", "JSON-RPC indexer"


class UnpricedReason(models.TextChoices):
    UNKNOWN_ASSET = "unknown_asset", "Not in the asset registry"
    ASSET_DISABLED = "asset_disabled", "Disabled in the asset registry"
    NO_PRICE = "no_price", "No price on or before its day"
    NOT_FUNGIBLE = "not_fungible", "Not fungible (NFT)"
    OVER_CAP = "over_cap", "Above the per-transfer value cap"


class OccurredAtSource(models.TextChoices):
    BLOCK = "block", "The block's time, from the chain or the payload"
    RPC = "rpc", "The block's time, read from the chain's JSON-RPC for a webhook"
    DELIVERY = "delivery", "The webhook delivery's time: the block's was not to be had"


class ContractInteraction(models.Model):
    """One on-chain transaction (or one log of it) touching a project's contracts, stored
    for each project that watches one of its addresses."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="interactions")
    chain = models.CharField(max_length=64)
    transaction_hash = models.CharField(max_length=128)
    # -1 for a transaction-level record (a transfer with no log).
    log_index = models.IntegerField(default=-1)
    # Which transfer of the transaction this is (DESIGN.md, "Chain data"): `log:<index>`
    # for a log, `log:<index>:<item>` for an item of an ERC-1155 batch, the category and
    # trace address for a log-less one (`external`, `internal:call_0_1`), and the
    # provider's position inside a Solana transaction (`native:<i>`, `token:<i>`, ...).
    transfer_position = models.CharField(max_length=96)
    block_number = models.BigIntegerField(null=True, blank=True)
    block_hash = models.CharField(max_length=128, blank=True)
    wallet_address = models.CharField(max_length=64, help_text="the user's side of it")
    from_address = models.CharField(max_length=64, blank=True)
    to_address = models.CharField(max_length=64, blank=True)
    contract_address = models.CharField(max_length=64, blank=True)
    event_type = models.CharField(max_length=64, blank=True)
    # A display label only (the provider's or the registry's symbol): never priced by.
    asset = models.CharField(max_length=32, blank=True)
    # What moved, by identity on `chain`: the token's contract (or mint) address in its
    # canonical form, `native` for the chain's coin, empty when nothing fungible moved.
    asset_address = models.CharField(max_length=64, blank=True, default="", db_default="")
    amount = models.DecimalField(max_digits=40, decimal_places=18, default=Decimal("0"))
    # Wide enough that a day's or a period's sum of any stored values fits the outputs.
    value_usd = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0.00"))
    # Empty when `value_usd` is a price from the asset registry (or the amount is 0);
    # otherwise why the transfer is kept as evidence but valued 0.
    unpriced_reason = models.CharField(
        max_length=16, choices=UnpricedReason.choices, blank=True, default="", db_default=""
    )
    occurred_at = models.DateTimeField()
    # Where `occurred_at` comes from; `delivery` is a stand-in that can be a day late.
    occurred_at_source = models.CharField(
        max_length=8,
        choices=OccurredAtSource.choices,
        default=OccurredAtSource.BLOCK,
        db_default=OccurredAtSource.BLOCK,
    )
    source = models.CharField(max_length=8, choices=InteractionSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Once per watching project: a tenant that registers a contract first must
            # not blind another that watches it too (DESIGN.md, "Chain data").
            models.UniqueConstraint(
                fields=["project", "chain", "transaction_hash", "transfer_position"],
                name="interaction_unique_project_chain_tx_position",
            ),
            models.CheckConstraint(
                condition=Q(value_usd__gte=0), name="interaction_value_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(unpriced_reason="") | Q(value_usd=0),
                name="interaction_unpriced_is_zero",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "occurred_at"]),
            models.Index(fields=["wallet_address", "occurred_at"]),
            models.Index(fields=["chain", "block_number"]),
            # A project page's "webhook last received …".
            models.Index(
                fields=["project", "source", "-created_at"], name="interaction_project_received"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain} {self.transaction_hash}#{self.transfer_position}"


class BackfillStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Backfill(models.Model):
    """A project's chain history read below the live indexer's cursor, a bounded range per
    task run. `next_block` is its own cursor: the live one (`Project.last_indexed_block`)
    is never moved by it, and the rows are the live indexer's, so nothing is stored twice.
    """

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="backfills")
    contracts = models.JSONField(default=list, help_text="the addresses whose logs it reads")
    from_block = models.BigIntegerField()
    to_block = models.BigIntegerField(help_text="the live cursor when it started")
    next_block = models.BigIntegerField(help_text="the first block not read yet")
    status = models.CharField(
        max_length=8, choices=BackfillStatus.choices, default=BackfillStatus.RUNNING
    )
    error = models.CharField(max_length=500, blank=True)
    stored = models.PositiveIntegerField(default=0, help_text="interactions it added")
    started_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Two backfills of one project would read the same blocks twice over.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="running"),
                name="backfill_one_running_per_project",
            ),
            models.CheckConstraint(
                condition=Q(from_block__gte=0)
                & Q(from_block__lte=F("to_block"))
                & Q(next_block__gte=F("from_block"))
                & Q(next_block__lte=F("to_block") + 1),
                name="backfill_cursor_within_range",
            ),
        ]
        indexes = [models.Index(fields=["project", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.project_id} blocks {self.from_block}–{self.to_block} ({self.status})"

    @property
    def blocks_read(self) -> int:
        return self.next_block - self.from_block

    @property
    def blocks_total(self) -> int:
        return self.to_block - self.from_block + 1

    @property
    def last_block_read(self) -> int:
        return self.next_block - 1

    @property
    def percent_read(self) -> int:
        """Whole percent of its blocks read, rounded down: 100 only once all are."""
        return 100 * self.blocks_read // self.blocks_total


class RejectedActivity(models.Model):
    """One item of a provider's delivery that could not be parsed or stored: kept with its
    reason for the operators, while the rest of the delivery is stored and answered 2xx (a
    refused delivery is retried and then paused by the provider)."""

    id = models.BigAutoField(primary_key=True)
    source = models.CharField(max_length=8, choices=InteractionSource.choices)
    # The provider's id of the delivery (Alchemy's event id, Helius' transaction signature).
    delivery_id = models.CharField(max_length=128)
    item_index = models.IntegerField(help_text="the item's position in the delivery")
    chain = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500)
    item = models.JSONField(help_text="the item as received")
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            # A redelivery records nothing twice.
            models.UniqueConstraint(
                fields=["source", "delivery_id", "item_index"],
                name="rejected_activity_unique_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.delivery_id}[{self.item_index}]: {self.reason}"


class ControlMethod(models.TextChoices):
    OWNER = "owner", "Signed by the contract's owner()"
    DEPLOYER = "deployer", "Signed by the contract's deployer"
    EIP1271 = "eip1271", "Signed for its owner, a contract wallet (EIP-1271)"
    UPGRADE_AUTHORITY = "upgrade_authority", "Signed by the program's upgrade authority"


class ContractVerificationNonce(models.Model):
    """A message issued for an organization to prove control of one of its project's
    contracts. Bound to that project and contract; the first attempt with it spends it."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    chain = models.CharField(max_length=64)
    contract_address = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64, unique=True)
    # Exactly the text issued: the signed message must be this, byte for byte.
    message = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.contract_address} ({self.nonce})"


class ContractVerification(models.Model):
    """Proof that whoever controls a contract vouched for the project's organization: the
    message naming it, signed by the contract's owner, deployer or upgrade authority.

    One per (project, contract): a later proof replaces it. Several organizations may each
    hold one for the same contract (the signer chose to vouch for each); a project watching
    a contract without one is `control_verified: false`.
    """

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="contract_verifications"
    )
    chain = models.CharField(max_length=64)
    contract_address = models.CharField(max_length=64)
    method = models.CharField(max_length=24, choices=ControlMethod.choices)
    # The address whose signature proved control (for eip1271: the contract wallet).
    signer = models.CharField(max_length=64)
    message = models.TextField()
    signature = models.TextField()
    verified_at = models.DateTimeField()

    class Meta:
        ordering = ["project", "contract_address"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "chain", "contract_address"],
                name="contractverification_unique_project_contract",
            ),
            models.CheckConstraint(
                condition=Q(method__in=ControlMethod.values),
                name="contractverification_method_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_address} by {self.method}"


class ActivityMetric(models.Model):
    """One project's day: active wallets, transactions, volume and the activity score."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metrics")
    date = models.DateField()
    dau = models.PositiveIntegerField(default=0)
    wau = models.PositiveIntegerField(default=0)
    mau = models.PositiveIntegerField(default=0)
    transaction_count = models.PositiveIntegerField(default=0)
    # A day's sum of ContractInteraction.value_usd (24 digits): room for 10^12 such rows.
    transaction_volume_usd = models.DecimalField(
        max_digits=36, decimal_places=2, default=Decimal("0.00")
    )
    # Transfers stored that day whose value is unknown (unknown or disabled asset, no
    # price, NFT, above the per-transfer cap): counted as $0 in the volume.
    unpriced_transfers = models.PositiveIntegerField(default=0, db_default=0)
    # Why the day's volume is implausible (above METRICS_DAILY_VOLUME_CAP_USD); empty when
    # it is not. The volume is stored as summed, and flagged, never silently cut.
    volume_flag_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Share of the day's active wallets that are flagged `suspected` (0..1).
    bot_share = models.FloatField(default=0.0)
    activity_score = models.FloatField(default=0.0)
    score_components = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["project", "date"], name="metric_unique_project_day"),
            models.CheckConstraint(
                condition=Q(transaction_volume_usd__gte=0), name="metric_volume_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.date}"

    @property
    def volume_flagged(self) -> bool:
        return bool(self.volume_flag_reason)


class FlagStatus(models.TextChoices):
    SUSPECTED = "suspected", "Suspected"
    CONFIRMED = "confirmed", "Confirmed"
    CLEARED = "cleared", "Cleared"


class WalletFlag(models.Model):
    """A wallet that looks like a bot or sybil. Nothing is deleted: operators decide."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="wallet_flags")
    wallet_address = models.CharField(max_length=64)
    reason = models.CharField(max_length=64)
    score = models.FloatField(help_text="0..1, how sure the detector is")
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=FlagStatus.choices, default=FlagStatus.SUSPECTED
    )
    reviewed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "wallet_address", "reason"], name="walletflag_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=1), name="walletflag_score_range"
            ),
        ]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"{self.wallet_address}: {self.reason} ({self.status})"


# The `Asset.address` of a chain's own coin (ETH, SOL, POL...).
NATIVE_ASSET = "native"
# A price describes its day; one observed longer ago than this is stale.
PRICE_STALE_AFTER = dt.timedelta(days=1)


class Asset(models.Model):
    """A priced asset, by identity: (CAIP-2 chain, contract/mint address or `native`).

    The symbol is a label for people; nothing is ever priced by it, because any token can
    call itself USDC.
    """

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=64, help_text="CAIP-2 chain id, e.g. eip155:8453")
    address = models.CharField(
        max_length=64,
        help_text=f"contract or mint address in canonical form, or `{NATIVE_ASSET}`",
    )
    symbol = models.CharField(max_length=32, help_text="display only")
    decimals = models.PositiveSmallIntegerField(validators=[MaxValueValidator(36)])
    price_source = models.CharField(
        max_length=100,
        blank=True,
        help_text="CoinGecko coin id (e.g. ethereum, usd-coin); empty: prices from the admin",
    )
    enabled = models.BooleanField(default=True, help_text="off: transfers count as unpriced")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["chain", "symbol"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="asset_unique_chain_address"),
            models.CheckConstraint(condition=Q(decimals__lte=36), name="asset_decimals_range"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} on {self.chain}"

    def clean(self) -> None:
        from fabrknt.chain.addresses import address_normalize

        if self.address == NATIVE_ASSET:
            return
        try:
            self.address = address_normalize(chain=self.chain, address=self.address)
        except ValueError as error:
            raise ValidationError({"address": str(error)}) from error


class PriceSource(models.TextChoices):
    FEED = "feed", "Price feed"
    ADMIN = "admin", "Operator"


class AssetPrice(models.Model):
    """An asset's USD price on a UTC day; transfers are priced with the latest on or
    before their day."""

    id = models.BigAutoField(primary_key=True)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="prices")
    day = models.DateField()
    price_usd = models.DecimalField(max_digits=36, decimal_places=18)
    source = models.CharField(max_length=8, choices=PriceSource.choices)
    # When the price was observed: the feed's `last_updated_at`, or when an operator set it.
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "day"], name="assetprice_unique_asset_day"),
            models.CheckConstraint(condition=Q(price_usd__gte=0), name="assetprice_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.day} ${self.price_usd}"

    @property
    def is_stale(self) -> bool:
        return price_is_stale(day=self.day, fetched_at=self.fetched_at)


def price_is_stale(
    *, day: dt.date, fetched_at: dt.datetime, now: dt.datetime | None = None
) -> bool:
    """Older than a day: observed more than a day ago, or describing a day before
    yesterday."""
    now = now or timezone.now()
    return now - fetched_at > PRICE_STALE_AFTER or day < (now - PRICE_STALE_AFTER).date()


class GrowthCertificate(models.Model):
    """A signed snapshot of a project's metrics, kept for point-in-time lookup.

    `canonical_json` holds the exact bytes that were signed, so a stored certificate can be
    re-verified later even if the way we render JSON changes. `content_hash` is the SHA-256
    of the RFC 8785 JSON of what it attests (the certificate without its id, issued_at and
    valid_until): asking again for the same period and data finds it. Not unique: once the
    stored one has expired, or the signing key has changed, the same data is certified
    anew. Empty for certificates issued before it existed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="certificates")
    period_from = models.DateField()
    period_to = models.DateField()
    payload = models.JSONField()
    canonical_json = models.TextField()
    signature = models.CharField(max_length=128, help_text="base64 Ed25519 signature")
    key_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["project", "-issued_at"]),
            models.Index(
                fields=["project", "period_from", "period_to", "content_hash"],
                name="certificate_same_content",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_from__lte=models.F("period_to")),
                name="certificate_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.period_from}..{self.period_to}"


class IndexedBlock(models.Model):
    """A block hash the chain indexer saw for a project, kept to notice reorgs.

    Recorded for the blocks holding the project's interactions and for each run's last
    confirmed block; when the chain later reports another hash at such a height, the blocks
    above the highest still-matching one are re-derived.
    """

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="indexed_blocks")
    chain = models.CharField(max_length=64)
    number = models.BigIntegerField()
    hash = models.CharField(max_length=66)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="indexedblock_unique")
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.number} {self.hash}"


class AddressProvider(models.TextChoices):
    """A webhook provider whose address list must hold the projects' addresses."""

    ALCHEMY = "alchemy", "Alchemy"
    HELIUS = "helius", "Helius"


class AddressSyncStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    NOT_CONFIGURED = "not_configured", "Not configured"


class ProviderAddressSync(models.Model):
    """Whether a provider's webhook watches a project's addresses (trace.services.
    provider_sync). One row per project and provider that serves its chain."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="address_syncs")
    provider = models.CharField(max_length=16, choices=AddressProvider.choices)
    status = models.CharField(
        max_length=16, choices=AddressSyncStatus.choices, default=AddressSyncStatus.PENDING
    )
    # The project's addresses the provider was last told to watch: what a later change
    # must remove.
    synced_addresses = models.JSONField(default=list, blank=True)
    # Attempts since the last change was scheduled; `retrying` while a failed one waits
    # for its next try.
    attempts = models.PositiveIntegerField(default=0)
    retrying = models.BooleanField(default=False)
    requested_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["project", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "provider"], name="provideraddresssync_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="synced", synced_at__isnull=False) | ~Q(status="synced"),
                name="provideraddresssync_synced_at_set",
            ),
        ]
        indexes = [models.Index(fields=["provider", "status"])]
        permissions = [("resync_provideraddresssync", "Can re-sync provider address lists")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.provider}: {self.status}"
