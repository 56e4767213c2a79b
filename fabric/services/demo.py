"""FABRIC demo data: the demo organization's listings, tied to its TRACE projects and PULSE
teams, with assets, revenue records and scores computed by `fabric.services.suite`.

Four listings show what a buyer meets: Basedrop DEX (public; contracts whose control is
proven, so its growth counts), Solstice Lend (behind the NDA; no contract proven, so its
growth is "not available"), Nightly DAO console (private, a team and Stripe revenue, no
TRACE project) and a draft the seller is still preparing.

The revenue records are DEMO data, not measured: on-chain records carry transaction
hashes shaped like Base's and Solana's, drawn from seeded generators (they exist on no
chain), and the Stripe record charge ids shaped like Stripe's. `revenue_verified` is their
30-day sum, as the revenue verifier would store it.

The demo buyer's side (its NDA signature, offers, messages, the data room, images and an
escrow deal) is `fabric.services.demo_deals`.

Re-running creates nothing: listings are found by title in the organization, assets are
unique per listing, revenue records are made only for a listing that has none, and the
score's TRACE certificate for the same period and data is the stored one. Scores are
recomputed on every run (in place).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import base58
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from fabric.cache import listing_changed
from fabric.models import (
    AssetType,
    Listing,
    ListingAsset,
    ListingStatus,
    RevenueRecord,
    RevenueSource,
    Visibility,
)
from fabric.services.demo_deals import DealsDemo, fabric_demo_deals
from fabric.services.listings import transition
from fabric.services.suite import listing_scores_compute
from pulse.services.demo import pulse_demo_teams
from trace.services.demo import trace_demo_control_record, trace_demo_projects

if TYPE_CHECKING:
    from trace.models import Project

BASE_CHAIN = "eip155:8453"
SOLANA_CHAIN = "solana:mainnet"
CENT = Decimal("0.01")
WINDOWS = (30, 90)
DEMO_TRANSACTIONS = 12  # evidence transactions per on-chain record


@dataclass(frozen=True)
class RevenueSpec:
    source: str
    monthly_fees_usd: Decimal
    take_rate: Decimal  # the share of fees the protocol keeps (DefiLlama's revenue)


@dataclass(frozen=True)
class ListingSpec:
    title: str
    description: str
    asking_price_usd: Decimal
    blockchain: str
    visibility: str
    publish: bool
    project: str | None  # a TRACE demo project's name
    team: str | None  # a PULSE demo team's name
    assets: tuple[tuple[str, str], ...]  # (type, identifier) besides the project's own
    revenue: tuple[RevenueSpec, ...] = ()


LISTINGS = [
    ListingSpec(
        title="Basedrop DEX",
        description=(
            "A concentrated-liquidity DEX on Base with a Farcaster-native swap frame. Ninety "
            "days of growth certified by TRACE on contracts whose control is proven, a core "
            "team of eight measured by PULSE, and protocol fees verified on-chain. The sale "
            "includes the contracts' ownership, the domain, the repositories and the socials."
        ),
        asking_price_usd=Decimal("1850000.00"),
        blockchain=BASE_CHAIN,
        visibility=Visibility.PUBLIC,
        publish=True,
        project="Basedrop DEX",
        team="Basedrop core",
        assets=(
            (AssetType.DOMAIN, "basedrop.example"),
            (AssetType.REPOSITORY, "github.com/basedrop/basedrop-dex"),
            (AssetType.SOCIAL, "x.com/basedrop"),
        ),
        revenue=(RevenueSpec(RevenueSource.ONCHAIN, Decimal("46200.00"), Decimal("0.35")),),
    ),
    ListingSpec(
        title="Solstice Lend",
        description=(
            "An isolated-market lending protocol on Solana with its TypeScript SDK. Deposits, "
            "borrows and repayments are followed by TRACE; control of the program is not "
            "proven yet, so its growth does not count towards the score. Details after the NDA."
        ),
        asking_price_usd=Decimal("720000.00"),
        blockchain=SOLANA_CHAIN,
        visibility=Visibility.NDA,
        publish=True,
        project="Solstice Lend",
        team="Solstice SDK",
        assets=(
            (AssetType.DOMAIN, "solstice.example"),
            (AssetType.REPOSITORY, "github.com/solstice-fi/solstice-sdk"),
        ),
        revenue=(RevenueSpec(RevenueSource.ONCHAIN, Decimal("8400.00"), Decimal("0.20")),),
    ),
    ListingSpec(
        title="Nightly DAO console",
        description=(
            "The governance and community console behind Nightly DAO, with its paying "
            "subscribers. Offered privately to invited buyers."
        ),
        asking_price_usd=Decimal("240000.00"),
        blockchain=BASE_CHAIN,
        visibility=Visibility.PRIVATE,
        publish=True,
        project=None,
        team="Nightly DAO",
        assets=(
            (AssetType.DOMAIN, "nightly-dao.example"),
            (AssetType.REPOSITORY, "github.com/nightly-dao/console"),
            (AssetType.SOCIAL, "discord.gg/nightly-dao"),
        ),
        revenue=(RevenueSpec(RevenueSource.STRIPE, Decimal("5900.00"), Decimal("1.00")),),
    ),
    ListingSpec(
        title="Basedrop Frames kit",
        description="The Farcaster frame toolkit Basedrop built for its launch (being prepared).",
        asking_price_usd=Decimal("60000.00"),
        blockchain=BASE_CHAIN,
        visibility=Visibility.PUBLIC,
        publish=False,
        project="Basedrop DEX",
        team=None,
        assets=((AssetType.REPOSITORY, "github.com/basedrop/frames-kit"),),
    ),
]


@dataclass
class FabricDemo:
    listings: int = 0
    assets: int = 0
    revenue_records: int = 0
    verified_contracts: int = 0
    deals: DealsDemo = field(default_factory=DealsDemo)  # the buyer's side (demo_deals)

    @property
    def created(self) -> int:
        made = self.listings + self.assets + self.revenue_records + self.verified_contracts
        return made + self.deals.created


def fabric_demo_seed(
    *, organization: Organization, seller: User, now: dt.datetime | None = None
) -> FabricDemo:
    """The demo organization's listings (TRACE and PULSE demo data seeded first)."""
    now = now or timezone.now()
    result = FabricDemo()
    result.verified_contracts = trace_demo_control_record(organization=organization, now=now)
    projects = trace_demo_projects(organization=organization)
    teams = pulse_demo_teams(organization=organization)
    listings = []
    for spec in LISTINGS:
        with transaction.atomic():
            linked = projects.get(spec.project) if spec.project else None
            listing, made = Listing.objects.get_or_create(
                organization=organization,
                title=spec.title,
                defaults={
                    "description": spec.description,
                    "asking_price_usd": spec.asking_price_usd,
                    "blockchain": spec.blockchain,
                    "visibility": spec.visibility,
                    "trace_project": linked,
                    "pulse_team": teams.get(spec.team) if spec.team else None,
                    "created_by": seller,
                },
            )
            result.listings += int(made)
            if made and spec.publish:
                transition(listing, ListingStatus.PUBLISHED, actor=seller, note="demo")
            result.assets += _assets(listing, spec, linked)
            result.revenue_records += _revenue(listing, spec, linked, now)
        listing_scores_compute(listing_id=listing.pk, now=now)
        listings.append(listing)
    gated = next(x for x in listings if x.visibility == Visibility.NDA)
    gated.refresh_from_db()
    shown = [x for x in listings if x.status != ListingStatus.DRAFT]
    result.deals = fabric_demo_deals(seller=seller, gated=gated, shown=shown)
    return result


def _assets(listing: Listing, spec: ListingSpec, project: Project | None) -> int:
    rows: list[tuple[str, str, str]] = [(kind, identifier, "") for kind, identifier in spec.assets]
    if project is not None and spec.revenue:  # the protocol itself is for sale
        chain = project.chain
        rows += [(AssetType.CONTRACT, a, chain) for a in project.contract_addresses]
        rows += [(AssetType.TREASURY, a, chain) for a in project.treasury_addresses]
    made = 0
    for kind, identifier, chain in rows:
        _, created = ListingAsset.objects.get_or_create(
            listing=listing, asset_type=kind, chain=chain, asset_identifier=identifier
        )
        made += int(created)
    return made


def _revenue(listing: Listing, spec: ListingSpec, project: Project | None, now: dt.datetime) -> int:
    """30- and 90-day records per source, once per listing; revenue_verified their 30-day
    sum."""
    if not spec.revenue or listing.revenue_records.exists():
        return 0
    end = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # Reproducible on purpose: every machine seeds the same demo (nothing here is secret).
    rng = random.Random(f"fabrknt-demo:revenue:{spec.title}")  # noqa: S311
    treasury = project.treasury_addresses[0] if project and project.treasury_addresses else ""
    records = []
    for revenue in spec.revenue:
        for days in WINDOWS:
            # A little growth: the last 30 days carry slightly more than a third of 90.
            fees = revenue.monthly_fees_usd * days / 30 * Decimal("0.93" if days > 30 else 1)
            fees = fees.quantize(CENT)
            records.append(
                RevenueRecord(
                    listing=listing,
                    source=revenue.source,
                    window_days=days,
                    period_start=end - dt.timedelta(days=days),
                    period_end=end,
                    fees_usd=fees,
                    revenue_usd=(fees * revenue.take_rate).quantize(CENT),
                    evidence=_evidence(revenue, listing.blockchain, treasury, fees, rng),
                )
            )
    RevenueRecord.objects.bulk_create(records)
    monthly = sum((r.revenue_usd for r in records if r.window_days == 30), Decimal("0.00"))
    Listing.objects.filter(pk=listing.pk).update(revenue_verified=monthly, revenue_verified_at=now)
    listing_changed(listing.pk)
    listing.revenue_verified, listing.revenue_verified_at = monthly, now
    return len(records)


def _evidence(
    revenue: RevenueSpec,
    chain: str,
    treasury: str,
    fees: Decimal,
    rng: random.Random,
) -> dict[str, object]:
    """What the record rests on, in the verifier's own shape (fabric.services.revenue's
    `_onchain_figures` and `_stripe_figures`), marked as demo."""
    if revenue.source == RevenueSource.STRIPE:
        return {
            "demo": True,
            "charges_counted": DEMO_TRANSACTIONS,
            "charges_refunded": 0,
            "charges_not_paid": 0,
            "charge_ids": ["ch_3" + _base62(rng, 23) for _ in range(DEMO_TRANSACTIONS)],
            "amount_by_currency": {"usd": int(fees * 100)},
            "not_in_usd": [],
        }
    return {
        "demo": True,
        "treasuries": [{"chain": chain, "address": treasury}],
        "transfers": DEMO_TRANSACTIONS,
        "unpriced_transfers": 0,
        "transactions_count": DEMO_TRANSACTIONS,
        "transactions": [
            {"chain": chain, "hash": _tx_hash(chain, rng)} for _ in range(DEMO_TRANSACTIONS)
        ],
        "usd_by_asset": {f"{chain}/native": str(fees)},
    }


def _tx_hash(chain: str, rng: random.Random) -> str:
    if chain.startswith("eip155"):
        return "0x" + rng.randbytes(32).hex()
    return base58.b58encode(rng.randbytes(64)).decode()  # a Solana signature


def _base62(rng: random.Random, length: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(length))
