"""The revenue verifier: what a listing's project earned over the trailing 30 and 90 days,
measured from sources the seller cannot type into, stored as `RevenueRecord`s with their
evidence. `Listing.revenue_verified` (the trailing 30 days) is computed from these records
only.

Definitions are DefiLlama's: **fees** are what users paid for using the product;
**revenue** is the part the protocol keeps (its treasury's share).

On-chain (`onchain`): the listing's treasury assets (`ListingAsset` of type `treasury`: a
chain and an address) and its TRACE project. TRACE stores the transfers that touch the
addresses a project watches (its contracts and treasury addresses: Alchemy's and Helius's
address activity, the indexer's rows); the verifier counts the fungible transfers that
paid a treasury in transactions that went through one of the project's contracts whose
control is verified (`trace.selectors.project_treasury_inflows`), valued by TRACE at the
price of their asset (by identity) on their day. What reaches the treasury is what the
protocol keeps, so it is the revenue. The fees users paid that went elsewhere (a pool's
liquidity providers, a supply side) are not the project's and do not appear as such in
TRACE's data, so the recorded fees are the verified lower bound: equal to the revenue.
Transfers TRACE could not price are counted in the evidence, not in the sums; a treasury
the TRACE project does not watch has no data and is named in the evidence.

Stripe (`stripe`): where the seller connected a restricted, read-only key
(`StripeConnection`), its charges created in the window (`GET /v1/charges` with
`created[gte]`/`created[lt]`, paged with `starting_after` while `has_more`): a charge
counts when it is `paid` and `succeeded`, for what was captured less what was refunded; a
fully refunded charge counts nothing. Every counted charge is revenue the business kept
(Stripe's processing fee is a cost, not a share paid to a supply side), so fees equal
revenue. Amounts are summed by currency in the evidence; only USD goes into the dollar
figures (no exchange rate is guessed).

Windows end at the start of the current UTC day (complete days), so a record is unique
per (listing, source, window, period end) and re-running on the same day rewrites the
same rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from fabric.cache import listing_changed
from fabric.models import (
    AssetType,
    Listing,
    ListingAsset,
    ListingStatus,
    RevenueRecord,
    RevenueSource,
    StripeConnection,
)
from fabric.services.suite import scores_stale
from fabrknt.api.errors import InvalidInput, Unavailable
from fabrknt.chain.addresses import address_key, address_normalize
from trace.models import ContractInteraction
from trace.selectors import project_treasury_inflows

logger = logging.getLogger(__name__)

WINDOWS = (30, 90)
VERIFIED_WINDOW = 30
# A source's latest record keeps counting through a day's outage of that source.
RECORD_FRESH_FOR = dt.timedelta(days=2)
# Listings the daily run measures: every one not finished (a seller sees the figures
# before publishing).
VERIFIED_STATUSES = (
    ListingStatus.DRAFT,
    ListingStatus.PENDING_REVIEW,
    ListingStatus.PUBLISHED,
    ListingStatus.UNDER_OFFER,
)
EVIDENCE_LIMIT = 200  # transaction hashes or charge ids kept per record
STRIPE_PAGE_SIZE = 100
CENTS = Decimal("0.01")
_RESTRICTED_KEY = re.compile(r"^rk_(live|test)_[A-Za-z0-9]{10,200}$")


@dataclasses.dataclass(frozen=True)
class Measured:
    fees_usd: Decimal
    revenue_usd: Decimal
    evidence: dict[str, Any]


class StripeFailed(Exception):
    """Stripe refused the key or did not answer."""


# --- the runs ------------------------------------------------------------------------


def listings_to_verify() -> list[uuid.UUID]:
    """Listings with something to measure: a treasury asset or a Stripe connection."""
    return list(
        Listing.objects.filter(
            Q(assets__asset_type=AssetType.TREASURY) | Q(stripe_connection__isnull=False),
            status__in=VERIFIED_STATUSES,
            organization__deleted_at__isnull=True,
        )
        .distinct()
        .order_by("created_at")
        .values_list("id", flat=True)
    )


def period_end_of(now: dt.datetime) -> dt.datetime:
    """The end of the windows measured at `now`: the start of its UTC day."""
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def revenue_verify(
    *, listing_id: uuid.UUID | str, now: dt.datetime | None = None
) -> list[RevenueRecord]:
    """Measure one listing's sources over each window, store the records (one per source,
    window and period end: a re-run the same day rewrites them) and update the listing's
    verified revenue from them."""
    listing = Listing.objects.select_related("trace_project").get(pk=listing_id)
    now = now or timezone.now()
    period_end = period_end_of(now)
    measured: dict[str, dict[int, Measured]] = {}
    onchain = _onchain_measure(listing, period_end)
    if onchain is not None:
        measured[RevenueSource.ONCHAIN] = onchain
    connection = StripeConnection.objects.filter(listing=listing).first()
    if connection is not None:
        charges = _stripe_measure(connection, period_end, now)
        if charges is not None:
            measured[RevenueSource.STRIPE] = charges
    records = []
    with transaction.atomic():
        for source, windows in measured.items():
            for window_days, figures in windows.items():
                records.append(_record_store(listing, source, window_days, period_end, figures))
        listing_revenue_update(listing=listing, now=now)
    return records


def _record_store(
    listing: Listing, source: str, window_days: int, period_end: dt.datetime, figures: Measured
) -> RevenueRecord:
    record, _ = RevenueRecord.objects.update_or_create(
        listing=listing,
        source=source,
        window_days=window_days,
        period_end=period_end,
        defaults={
            "period_start": period_end - dt.timedelta(days=window_days),
            "fees_usd": figures.fees_usd,
            "revenue_usd": figures.revenue_usd,
            "evidence": figures.evidence,
        },
    )
    return record


def listing_revenue_update(*, listing: Listing, now: dt.datetime | None = None) -> Decimal | None:
    """`revenue_verified`: the sum over sources of each one's latest 30-day record still
    fresh (Stripe only while connected); None when there is none."""
    now = now or timezone.now()
    sources = [RevenueSource.ONCHAIN]
    if StripeConnection.objects.filter(listing=listing).exists():
        sources.append(RevenueSource.STRIPE)
    latest = [
        RevenueRecord.objects.filter(
            listing=listing,
            source=source,
            window_days=VERIFIED_WINDOW,
            period_end__gte=period_end_of(now) - RECORD_FRESH_FOR,
        )
        .order_by("-period_end")
        .first()
        for source in sources
    ]
    found = [record for record in latest if record is not None]
    total = sum((record.revenue_usd for record in found), Decimal("0.00")) if found else None
    verified_at = now if found else None
    if total != listing.revenue_verified:
        scores_stale(listing)  # the Fabrknt score reads it
    Listing.objects.filter(pk=listing.pk).update(
        revenue_verified=total, revenue_verified_at=verified_at
    )
    listing_changed(listing.pk)
    listing.revenue_verified = total  # type: ignore[assignment]  # the column is nullable
    listing.revenue_verified_at = verified_at
    return total


# --- on-chain -----------------------------------------------------------------------


def _onchain_measure(listing: Listing, period_end: dt.datetime) -> dict[int, Measured] | None:
    treasuries = list(listing.assets.filter(asset_type=AssetType.TREASURY))
    project = listing.trace_project
    if not treasuries or project is None or project.organization_id != listing.organization_id:
        return None
    watched = {
        address_key(a)
        for a in [*project.contract_addresses, *project.treasury_addresses]
        if isinstance(a, str)
    }
    by_chain: dict[str, list[str]] = defaultdict(list)
    not_watched = []
    for asset in treasuries:
        address = _treasury_address(asset)
        if address is None or address_key(address) not in watched:
            not_watched.append({"chain": asset.chain, "address": asset.asset_identifier})
        else:
            by_chain[asset.chain].append(address)
    base_evidence = {
        "trace_project": str(project.pk),
        "treasuries": [
            {"chain": c, "address": a} for c, addresses in by_chain.items() for a in addresses
        ],
        "not_watched": not_watched,
    }
    measured = {}
    for window_days in WINDOWS:
        since = period_end - dt.timedelta(days=window_days)
        transfers = [
            row
            for chain, addresses in by_chain.items()
            for row in project_treasury_inflows(
                project=project, chain=chain, treasuries=addresses, since=since, until=period_end
            )
        ]
        measured[window_days] = _onchain_figures(transfers, base_evidence)
    return measured


def _treasury_address(asset: ListingAsset) -> str | None:
    try:
        return address_normalize(chain=asset.chain, address=asset.asset_identifier)
    except ValueError:
        return None


def _onchain_figures(transfers: list[ContractInteraction], base: dict[str, Any]) -> Measured:
    priced = [t for t in transfers if not t.unpriced_reason]
    revenue = sum((t.value_usd for t in priced), Decimal("0.00"))
    by_asset: dict[str, Decimal] = defaultdict(Decimal)
    for t in priced:
        by_asset[f"{t.chain}/{t.asset_address}"] += t.value_usd
    hashes = list(dict.fromkeys(t.transaction_hash for t in transfers))
    evidence = {
        **base,
        "transfers": len(transfers),
        "unpriced_transfers": len(transfers) - len(priced),
        "transactions_count": len(hashes),
        "transactions": [
            {"chain": t.chain, "hash": t.transaction_hash}
            for t in _first_per_hash(transfers)[:EVIDENCE_LIMIT]
        ],
        "usd_by_asset": {asset: str(value) for asset, value in sorted(by_asset.items())},
    }
    return Measured(fees_usd=revenue, revenue_usd=revenue, evidence=evidence)


def _first_per_hash(transfers: Iterable[ContractInteraction]) -> list[ContractInteraction]:
    seen: dict[str, ContractInteraction] = {}
    for t in transfers:
        seen.setdefault(t.transaction_hash, t)
    return list(seen.values())


# --- Stripe -------------------------------------------------------------------------


def _stripe_client(api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": settings.STRIPE_API_URL},
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_HTTP_TIMEOUT_SECONDS),
    )


def _stripe_call(action: Any) -> Any:
    try:
        return action()
    except stripe.AuthenticationError as error:
        raise StripeFailed("Stripe does not accept this key.") from error
    except stripe.PermissionError as error:
        raise StripeFailed("This key may not read charges: give it “Charges: Read”.") from error
    except stripe.StripeError as error:
        raise StripeFailed(f"Stripe did not answer ({type(error).__name__}).") from error


def stripe_charges(
    *, api_key: str, since: dt.datetime, until: dt.datetime
) -> Iterable[dict[str, Any]]:
    """Every charge created in [since, until), newest first, page by page."""
    client = _stripe_client(api_key)
    params = {
        "created": {"gte": int(since.timestamp()), "lt": int(until.timestamp())},
        "limit": STRIPE_PAGE_SIZE,
    }
    page = _stripe_call(lambda: client.v1.charges.list(params=params))  # type: ignore[arg-type]
    iterator = iter(page.auto_paging_iter())
    while True:
        charge = _stripe_call(lambda: next(iterator, None))
        if charge is None:
            return
        yield charge.to_dict()


def _stripe_measure(
    connection: StripeConnection, period_end: dt.datetime, now: dt.datetime
) -> dict[int, Measured] | None:
    since = period_end - dt.timedelta(days=max(WINDOWS))
    try:
        charges = list(stripe_charges(api_key=connection.api_key, since=since, until=period_end))
    except StripeFailed as error:
        logger.warning("revenue: Stripe of listing %s: %s", connection.listing_id, error)
        StripeConnection.objects.filter(pk=connection.pk).update(last_error=str(error)[:500])
        return None
    StripeConnection.objects.filter(pk=connection.pk).update(last_checked_at=now, last_error="")
    measured = {}
    for window_days in WINDOWS:
        start = int((period_end - dt.timedelta(days=window_days)).timestamp())
        measured[window_days] = _stripe_figures(
            [c for c in charges if c.get("created", 0) >= start]
        )
    return measured


def _charge_kept(charge: dict[str, Any]) -> int | None:
    """What a charge brought in, in the currency's smallest unit; None when it does not
    count (not paid, not succeeded)."""
    if charge.get("paid") is not True or charge.get("status") != "succeeded":
        return None
    captured = charge.get("amount_captured")
    if not isinstance(captured, int):
        captured = charge.get("amount", 0) if charge.get("captured") else 0
    refunded = charge.get("amount_refunded") or 0
    return max(0, int(captured) - int(refunded))


def _stripe_figures(charges: list[dict[str, Any]]) -> Measured:
    by_currency: dict[str, int] = Counter()
    counted: list[str] = []
    refunded = unpaid = 0
    for charge in charges:
        kept = _charge_kept(charge)
        if kept is None:
            unpaid += 1
        elif kept == 0:
            refunded += 1
        else:
            by_currency[str(charge.get("currency", "")).lower()] += kept
            counted.append(str(charge.get("id")))
    usd = (Decimal(by_currency.get("usd", 0)) / 100).quantize(CENTS)
    evidence = {
        "charges_counted": len(counted),
        "charges_refunded": refunded,
        "charges_not_paid": unpaid,
        "charge_ids": counted[:EVIDENCE_LIMIT],
        # In each currency's smallest unit, as Stripe gives amounts.
        "amount_by_currency": dict(sorted(by_currency.items())),
        "not_in_usd": sorted(c for c in by_currency if c != "usd"),
    }
    return Measured(fees_usd=usd, revenue_usd=usd, evidence=evidence)


# --- connecting Stripe --------------------------------------------------------------


def stripe_connect(
    *, listing: Listing, api_key: str, actor: User | None
) -> tuple[StripeConnection, bool]:
    """Check a restricted key with Stripe (it must list charges), then store it encrypted;
    (the connection, whether it was created). The same key again changes nothing."""
    key = api_key.strip() if isinstance(api_key, str) else ""
    if key.startswith(("sk_", "pk_")) or not _RESTRICTED_KEY.match(key):
        raise InvalidInput(
            fields={
                "api_key": [
                    "Use a restricted key (rk_live_… or rk_test_…) with “Charges: Read” only; "
                    "never a secret key."
                ]
            }
        )
    existing = StripeConnection.objects.filter(listing=listing).first()
    if existing is not None and existing.api_key == key:
        return existing, False
    try:
        _stripe_call(lambda: _stripe_client(key).v1.charges.list(params={"limit": 1}))
    except StripeFailed as error:
        if "did not answer" in str(error):
            raise Unavailable(
                "Stripe did not answer: try again.", code="provider_unavailable"
            ) from error
        raise InvalidInput(fields={"api_key": [str(error)]}) from error
    mode = "live" if key.startswith("rk_live_") else "test"
    connection, created = StripeConnection.objects.update_or_create(
        listing=listing,
        defaults={
            "api_key": key,
            "account_label": f"{mode} mode key …{key[-4:]}",
            "connected_by": actor,
            "last_error": "",
        },
    )
    return connection, created


def stripe_disconnect(*, listing: Listing) -> bool:
    """Forget the key; the records already measured stay, and stop counting."""
    with transaction.atomic():
        deleted, _ = StripeConnection.objects.filter(listing=listing).delete()
        listing_revenue_update(listing=listing)
    return bool(deleted)
