"""The suite summary and the Fabrknt score of a listing: TRACE growth, PULSE vitality and
verified revenue, read only through TRACE's and PULSE's services, combined into one 0–100
number whose parts are stored with their evidence (`Listing.score_components`).

The components (each 0–100, with a verified share v between 0 and 1):

- growth (weight 0.40): the `activity_score` of the `verified_metrics` of the TRACE
  project's latest growth certificate for the standard period (the 30 full days ending
  yesterday), which the recompute asks TRACE for (`certificate_issue`: the stored one
  when the data is the same, else a new one, signed and audited). Reading whichever
  certificate was issued last would let a seller pick the period (a strong month a year
  ago). Only the figures of the contracts whose control the seller proved count (a
  certificate with no verified contract has no growth); its volume counts only assets
  the registry prices (`unpriced_transfers` says how many transfers were left out). v is
  the certificate's `proven_conversion_share` (the share of the period's conversion value
  credited through wallet links the wallet signed); with no conversion value in the
  period, v = 1: the activity score's inputs are chain transfers on proven contracts,
  verified by construction.
- vitality (weight 0.35): the PULSE team's `vitality_score`, v its `verified_share`
  (events from verified sources by linked identities).
- revenue (weight 0.25): `Listing.revenue_verified` (trailing 30 days, measured by the
  revenue verifier into `RevenueRecord`s, never typed in), scored on a log scale:
  25 points per tenfold above $100 — $100 → 0, $1k → 25, $10k → 50, $100k → 75,
  $1M and more → 100. v = 1 (every record is measured by the platform).

    credited_i    = value_i × (v_i + SELF_REPORTED_CREDIT × (1 − v_i))    SELF_REPORTED_CREDIT = 0.5
    fabrknt_score = Σ weight_i × credited_i   over the available components (2 decimals)

A self-reported share counts half: it is evidence, but only the seller's. A missing
component (no project or team linked, no verified contract, team scores never
calculated, no revenue measured) is stored as `available: false` with its reason and
earns no points — it is never a zero shown as a measurement, and the weights are not
renormalized over what is left: renormalizing would let a seller raise the score by
unlinking a weak team or project, whereas with fixed weights adding evidence can only
raise it. `coverage` is the sum of the available components' weights; with none
available the score is null, not 0.

Recomputation: `listing_scores_compute` stores the result with an UPDATE of the score
fields alone, so it never overwrites a seller's concurrent edit of the listing (two
recomputes at once both write what they read; the later one stays). Code that changes
what a score reads (linking a project or team, the revenue verifier) calls
`scores_stale(listing)`, which queues `fabric.recompute_listing_scores` after the
commit; beat recomputes every live listing daily (`fabric.recompute_all_listing_scores`),
and `manage.py recompute_scores` does it by hand.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fabric.cache import listing_changed
from fabric.models import Listing, ListingStatus, RevenueRecord
from pulse.selectors import team_minted_tokens
from pulse.services.vitality import team_vitality
from trace.services.certificates import certificate_issue

if TYPE_CHECKING:
    from pulse.models import SBTRecord

FORMULA_VERSION = 1
GROWTH_WEIGHT = 0.40
VITALITY_WEIGHT = 0.35
REVENUE_WEIGHT = 0.25
SELF_REPORTED_CREDIT = 0.5
# Revenue: 0 points at $100 a month, +25 per tenfold, 100 at $1M.
REVENUE_FLOOR_USD = 100.0
REVENUE_POINTS_PER_TENFOLD = 25.0
REVENUE_WINDOW_DAYS = 30
# Listings whose score keeps moving; a sold, withdrawn or rejected listing keeps the score
# it had when it left the market.
RECOMPUTED_STATUSES = (
    ListingStatus.DRAFT,
    ListingStatus.PENDING_REVIEW,
    ListingStatus.PUBLISHED,
    ListingStatus.UNDER_OFFER,
)

JsonObject = dict[str, Any]
CENT = Decimal("0.01")


@dataclass
class Component:
    """One part of the score as stored in `score_components["components"][key]`."""

    key: str
    label: str
    weight: float
    value: float | None = None
    verified_share: float | None = None
    reason: str = ""  # why it is not available
    figures: JsonObject = field(default_factory=dict)
    evidence: JsonObject = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.value is not None

    @property
    def credited(self) -> float | None:
        if self.value is None:
            return None
        share = 1.0 if self.verified_share is None else self.verified_share
        return self.value * (share + SELF_REPORTED_CREDIT * (1 - share))

    @property
    def points(self) -> float:
        return 0.0 if self.credited is None else self.weight * self.credited

    def as_json(self) -> JsonObject:
        credited = self.credited
        return {
            "label": self.label,
            "available": self.available,
            "value": _round(self.value),
            "weight": self.weight,
            "verified_share": _round(self.verified_share, 4),
            "credited": _round(credited),
            "points": round(self.points, 2),
            "reason": self.reason,
            "figures": self.figures,
            "evidence": self.evidence,
        }


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


# --- growth (TRACE) -------------------------------------------------------------------


def growth_component(*, listing: Listing, now: dt.datetime) -> Component:
    """Growth from the linked project's certificate of the standard period (see the module
    docstring)."""
    component = Component("growth", "Growth (TRACE)", GROWTH_WEIGHT)
    if listing.trace_project_id is None:
        component.reason = "No TRACE project is linked to this listing."
        return component
    certificate = certificate_issue(project_id=listing.trace_project_id, now=now)
    component.evidence = {
        "project_id": str(listing.trace_project_id),
        "certificate_id": str(certificate.pk),
        "verification_url": reverse("verify:certificate", args=[certificate.pk]),
    }
    payload: JsonObject = certificate.payload
    contracts = payload["contracts"]
    verified = [contract for contract in contracts if contract["control_verified"]]
    component.figures = {
        "period": payload["period"],
        "issued_at": payload["issued_at"],
        "valid_until": payload["valid_until"],
        "contracts_total": len(contracts),
        "contracts_verified": len(verified),
    }
    component.evidence["contracts"] = verified
    metrics = payload["verified_metrics"]
    if metrics is None:
        component.reason = "Control of none of the project's contracts is verified."
        return component
    component.figures.update(_growth_figures(metrics, payload["metrics"]))
    component.value = float(metrics["activity_score"])
    proven = metrics["proven_conversion_share"]
    component.verified_share = 1.0 if proven is None else float(proven)
    return component


def _growth_figures(verified: JsonObject, everything: JsonObject) -> JsonObject:
    """What the certificate attests for the verified contracts, with the share of the
    project's transactions they carry."""
    keys = (
        "dau",
        "wau",
        "mau",
        "transaction_count",
        "transaction_volume_usd",
        "unpriced_transfers",
        "activity_score",
        "bot_share",
        "proven_conversion_share",
    )
    total = everything.get("transaction_count") or 0
    figures = {key: verified.get(key) for key in keys}
    figures["verified_transaction_share"] = (
        round(verified.get("transaction_count", 0) / total, 4) if total else None
    )
    return figures


# --- vitality (PULSE) -----------------------------------------------------------------


def vitality_component(*, listing: Listing) -> Component:
    """Vitality from the linked team's stored scores (PULSE's `team_vitality`)."""
    component = Component("vitality", "Team vitality (PULSE)", VITALITY_WEIGHT)
    team = listing.pulse_team
    if team is None:
        component.reason = "No PULSE team is linked to this listing."
        return component
    vitality = team_vitality(team=team)
    component.evidence = {
        "pulse_id": vitality["pulse_id"],
        "team_url": reverse("pulse_dashboard:team", args=[vitality["pulse_id"]]),
        "sbts": [_token_evidence(record) for record in team_minted_tokens(team=team)],
    }
    calculated_at = vitality["calculated_at"]
    component.figures = {
        "vitality_score": vitality["vitality_score"],
        "developer_activity_score": vitality["developer_activity_score"],
        "team_retention_score": vitality["team_retention_score"],
        "community_score": vitality["community_score"],
        "calculated_at": None if calculated_at is None else calculated_at.isoformat(),
    }
    if vitality["vitality_score"] is None:
        component.reason = "The PULSE team's scores have not been calculated yet."
        return component
    component.value = vitality["vitality_score"]
    share = vitality["verified_share"]
    # No activity to share out: nothing is verified.
    component.verified_share = 0.0 if share is None else share
    return component


def _token_evidence(record: SBTRecord) -> JsonObject:
    """A minted token: where it is on the chain (anyone can read it there) and its image."""
    image = reverse(
        "pulse_sbt:image",
        kwargs={
            "chain": record.chain,
            "address": record.token_address,
            "token_id": int(record.token_id or 0),
        },
    )
    return {
        "milestone": record.milestone,
        "chain": record.chain,
        "token_address": record.token_address,
        "token_id": record.token_id,
        "tx_hash": record.tx_hash,
        "wallet_address": record.wallet_address,
        "image_url": image,
    }


# --- revenue --------------------------------------------------------------------------


def revenue_points(revenue_usd: Decimal) -> float:
    """0–100 for a month's revenue: 25 points per tenfold above $100."""
    amount = float(revenue_usd)
    if amount <= REVENUE_FLOOR_USD:
        return 0.0
    return min(100.0, REVENUE_POINTS_PER_TENFOLD * math.log10(amount / REVENUE_FLOOR_USD))


def revenue_component(*, listing: Listing) -> Component:
    """Revenue from `Listing.revenue_verified`, with the records it was measured in."""
    component = Component("revenue", "Verified revenue", REVENUE_WEIGHT)
    if listing.revenue_verified is None:
        component.reason = "No revenue has been verified for this listing."
        return component
    records = _latest_records(listing)
    component.value = revenue_points(listing.revenue_verified)
    component.verified_share = 1.0
    component.figures = {
        "revenue_verified_30d_usd": str(listing.revenue_verified),
        "fees_30d_usd": str(sum((record.fees_usd for record in records), Decimal("0.00"))),
        "verified_at": None
        if listing.revenue_verified_at is None
        else listing.revenue_verified_at.isoformat(),
    }
    component.evidence = {
        "revenue_records": [
            {
                "id": str(record.pk),
                "source": record.source,
                "window_days": record.window_days,
                "period_start": record.period_start.isoformat(),
                "period_end": record.period_end.isoformat(),
                "revenue_usd": str(record.revenue_usd),
            }
            for record in records
        ]
    }
    return component


def _latest_records(listing: Listing) -> list[RevenueRecord]:
    """Each source's latest 30-day record: what `revenue_verified` was summed from."""
    latest: dict[str, RevenueRecord] = {}
    records = RevenueRecord.objects.filter(
        listing=listing, window_days=REVENUE_WINDOW_DAYS
    ).order_by("source", "-period_end")
    for record in records:
        latest.setdefault(record.source, record)
    return list(latest.values())


# --- the score ------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteScores:
    fabrknt_score: Decimal | None
    growth_score: Decimal | None
    vitality_score: Decimal | None
    components: JsonObject


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(CENT)


def suite_scores_calculate(*, listing: Listing, now: dt.datetime | None = None) -> SuiteScores:
    """The listing's scores and components, computed now (nothing stored)."""
    now = now or timezone.now()
    parts = [
        growth_component(listing=listing, now=now),
        vitality_component(listing=listing),
        revenue_component(listing=listing),
    ]
    available = [part for part in parts if part.available]
    score = sum(part.points for part in available) if available else None
    by_key = {part.key: part for part in parts}
    return SuiteScores(
        fabrknt_score=_decimal(score),
        growth_score=_decimal(by_key["growth"].value),
        vitality_score=_decimal(by_key["vitality"].value),
        components={
            "version": FORMULA_VERSION,
            "self_reported_credit": SELF_REPORTED_CREDIT,
            "coverage": round(sum(part.weight for part in available), 4),
            "components": {part.key: part.as_json() for part in parts},
        },
    )


def listing_scores_compute(*, listing_id: object, now: dt.datetime | None = None) -> Listing | None:
    """Compute and store a listing's scores; None when the listing no longer exists."""
    try:
        pk = uuid.UUID(str(listing_id))
    except ValueError:
        return None
    listing = Listing.objects.select_related("pulse_team").filter(pk=pk).first()
    if listing is None:
        return None
    now = now or timezone.now()
    scores = suite_scores_calculate(listing=listing, now=now)
    fields = {
        "fabrknt_score": scores.fabrknt_score,
        "growth_score": scores.growth_score,
        "vitality_score": scores.vitality_score,
        "score_components": scores.components,
        "score_computed_at": now,
    }
    Listing.objects.filter(pk=listing.pk).update(**fields)
    listing_changed(listing.pk)
    for name, value in fields.items():
        setattr(listing, name, value)
    return listing


def scores_stale(listing: Listing) -> None:
    """Recompute the listing's scores once the current transaction commits. Call it after
    changing what they read: the linked project or team, the verified revenue."""
    from fabric.tasks import recompute_listing_scores

    listing_id = str(listing.pk)
    transaction.on_commit(lambda: recompute_listing_scores.delay(listing_id), robust=True)


def recomputed_listing_ids() -> list[str]:
    """The listings the daily recompute covers: every one still in play."""
    return [
        str(pk)
        for pk in Listing.objects.filter(
            status__in=RECOMPUTED_STATUSES, organization__deleted_at__isnull=True
        ).values_list("pk", flat=True)
    ]


# --- the summary ----------------------------------------------------------------------


# Evidence keys holding a path on this site (stored as paths, answered absolute).
LINK_KEYS = frozenset({"verification_url", "team_url", "image_url"})


def suite_summary(
    *,
    listing: Listing,
    revenue_detail: bool = True,
    link: Callable[[str], str] = lambda path: path,
) -> JsonObject:
    """`GET /api/v1/suite/summary/{id}` from the stored scores: the score, its parts and
    their evidence, each of its site paths passed through `link` (the view's absolute
    URI). Without `revenue_detail` (before the NDA) the revenue part names its records
    but not their amounts: the 30-day total is the teaser's, its breakdown is gated."""
    stored: JsonObject = _linked(listing.score_components or {}, link)
    components: JsonObject = stored.get("components") or {}
    revenue = _part_summary(components.get("revenue"))
    if not revenue_detail:
        revenue["figures"] = {}
        revenue["evidence"] = {
            "revenue_records": [
                {key: record[key] for key in ("id", "source", "window_days")}
                for record in revenue["evidence"].get("revenue_records", [])
            ]
        }
    return {
        "listing_id": listing.pk,
        "fabrknt_score": _float(listing.fabrknt_score),
        "growth_score": _float(listing.growth_score),
        "vitality_score": _float(listing.vitality_score),
        "revenue_verified": listing.revenue_verified,
        "coverage": stored.get("coverage"),
        "trace": _part_summary(components.get("growth")),
        "pulse": _part_summary(components.get("vitality")),
        "revenue": revenue,
        "computed_at": listing.score_computed_at,
    }


def _linked(value: Any, link: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {
            key: link(item) if key in LINK_KEYS and isinstance(item, str) else _linked(item, link)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_linked(item, link) for item in value]
    return value


def _part_summary(part: JsonObject | None) -> JsonObject:
    if part is None:
        return {
            "available": False,
            "status": "not_computed",
            "score": None,
            "weight": None,
            "verified_share": None,
            "points": None,
            "reason": "The score has not been computed yet.",
            "figures": {},
            "evidence": {},
        }
    return {
        "available": part["available"],
        "status": _status(part),
        "score": part["value"],
        "weight": part["weight"],
        "verified_share": part["verified_share"],
        "points": part["points"],
        "reason": part["reason"],
        "figures": part["figures"],
        "evidence": part["evidence"],
    }


def _status(part: JsonObject) -> str:
    """`verified`, `partly_verified` (some of it self-reported) or `not_available`."""
    if not part["available"]:
        return "not_available"
    share = part["verified_share"]
    return "verified" if share is None or share >= 1 else "partly_verified"
