"""Reads behind the vitality pages: a team's scores explained, its trend, its leaderboard,
a contributor's profile. Everything is read from what a calculation stored (the team's
`score_components`, the snapshots, the contributors' scores), plus one GROUP BY for a
contributor's activity by type; nothing here recomputes a score."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from pulse.models import (
    Contribution,
    ContributionType,
    Contributor,
    IdentityStatus,
    ScoreSnapshot,
    Team,
    Verification,
)
from pulse.services.score_formulas import BUS_FACTOR_TARGET

TREND_DAYS = 180
LEADERBOARD_SIZE = 50
SCORE_LABELS = {
    "vitality": "Vitality",
    "developer_activity": "Developer activity",
    "team_retention": "Team retention",
    "community": "Community",
}
SCORE_FIELDS = {
    "vitality": "vitality_score",
    "developer_activity": "developer_activity_score",
    "team_retention": "team_retention_score",
    "community": "community_score",
}
TYPE_LABELS = dict(ContributionType.choices)


@dataclass(frozen=True)
class Gauge:
    key: str
    label: str
    score: float | None
    verified_share: float | None
    measured: bool = True

    @property
    def verified_percent(self) -> int | None:
        return None if self.verified_share is None else round(self.verified_share * 100)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def team_vitality(*, team: Team) -> dict[str, Any]:
    """A team's stored scores, their verified share and components, as
    `GET /api/v1/vitality/{pulse_id}` answers them (and as FABRIC reads them: through this
    function, never the tables). Scores are null until the first calculation."""
    return {
        "pulse_id": team.pulse_id,
        "vitality_score": _float(team.vitality_score),
        "developer_activity_score": _float(team.developer_activity_score),
        "team_retention_score": _float(team.team_retention_score),
        "community_score": _float(team.community_score),
        "verified_share": _float(team.verified_share),
        "components": team.score_components or {},
        "calculated_at": team.last_calculated_at,
    }


def team_gauges(*, team: Team) -> list[Gauge]:
    """The four scores with the verified share of each (from the stored components)."""
    components: dict[str, Any] = team.score_components or {}
    gauges = []
    for key, label in SCORE_LABELS.items():
        part = components.get(key) or {}
        gauges.append(
            Gauge(
                key=key,
                label=label,
                score=_float(getattr(team, SCORE_FIELDS[key])),
                verified_share=_float(part.get("verified_share")),
                measured=key != "community" or bool(part.get("measured", True)),
            )
        )
    return gauges


def _type_rows(by_type: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**row, "label": TYPE_LABELS.get(row["type"], row["type"].replace("_", " "))}
        for row in by_type
    ]


def team_explanation(*, team: Team) -> dict[str, Any] | None:
    """The stored components arranged for the page's "how each score is made"; None
    before the first calculation."""
    components: dict[str, Any] = team.score_components or {}
    if not components or team.last_calculated_at is None:
        return None
    developer = dict(components.get("developer_activity") or {})
    community = dict(components.get("community") or {})
    developer["rows"] = _type_rows(developer.get("by_type", []))
    community["rows"] = _type_rows(community.get("by_type", []))
    vitality = dict(components.get("vitality") or {})
    weights: dict[str, float] = vitality.get("weights", {})
    vitality["rows"] = [
        {
            "label": SCORE_LABELS[name],
            "weight": weight,
            "score": _float(getattr(team, SCORE_FIELDS[name])),
            "points": weight * float(getattr(team, SCORE_FIELDS[name]) or 0),
        }
        for name in ("developer_activity", "team_retention", "community")
        if (weight := weights.get(name)) is not None
    ]
    retention = dict(components.get("team_retention") or {})
    retention.setdefault("bus_factor_target", BUS_FACTOR_TARGET)
    return {
        "vitality": vitality,
        "developer_activity": developer,
        "team_retention": retention,
        "community": community,
        "half_life_days": components.get("half_life_days"),
        "unattributed_events": components.get("unattributed_events", 0),
        "verified_share": components.get("verified_share"),
        "points": components.get("points"),
        "verified_points": components.get("verified_points"),
    }


def _trend(snapshots: QuerySet[ScoreSnapshot], fields: dict[str, str]) -> dict[str, Any]:
    """One point per day (the day's last calculation), oldest first, for Chart.js."""
    by_day: dict[dt.date, ScoreSnapshot] = {}
    for snapshot in snapshots.order_by("calculated_at", "id"):
        by_day[snapshot.calculated_at.astimezone(dt.UTC).date()] = snapshot
    days = sorted(by_day)
    trend: dict[str, Any] = {"labels": [day.isoformat() for day in days]}
    for key, field in fields.items():
        trend[key] = [_float(getattr(by_day[day], field)) for day in days]
    return trend


def team_trend(*, team: Team, days: int = TREND_DAYS) -> dict[str, Any]:
    since = timezone.now() - dt.timedelta(days=days)
    snapshots = ScoreSnapshot.objects.filter(
        team=team, contributor=None, calculated_at__gte=since
    ).only("calculated_at", *SCORE_FIELDS.values())
    return _trend(snapshots, SCORE_FIELDS)


def contributor_trend(*, contributor: Contributor, days: int = TREND_DAYS) -> dict[str, Any]:
    since = timezone.now() - dt.timedelta(days=days)
    snapshots = ScoreSnapshot.objects.filter(
        contributor=contributor, calculated_at__gte=since
    ).only("calculated_at", "contribution_score")
    return _trend(snapshots, {"contribution_score": "contribution_score"})


def team_leaderboard(*, team: Team, size: int = LEADERBOARD_SIZE) -> list[Contributor]:
    """The team's contributors by score, best first."""
    return list(
        Contributor.objects.filter(team=team).order_by(
            "-contribution_score", "-last_active_at", "wallet_address"
        )[:size]
    )


@dataclass(frozen=True)
class ContributorActivity:
    contribution_type: str
    label: str
    platform: str
    events: int
    verified_events: int
    last_at: dt.datetime | None


def contributor_activity(*, contributor: Contributor) -> list[ContributorActivity]:
    """A contributor's events per type (one GROUP BY), most frequent first."""
    rows = (
        Contribution.objects.filter(contributor=contributor)
        .values("platform", "contribution_type")
        .annotate(
            events=Count("id"),
            verified_events=Count("id", filter=Q(verification=Verification.VERIFIED)),
            last_at=Max("occurred_at"),
        )
        .order_by("-events", "contribution_type")
    )
    return [
        ContributorActivity(
            contribution_type=row["contribution_type"],
            label=TYPE_LABELS.get(row["contribution_type"], row["contribution_type"]),
            platform=row["platform"],
            events=row["events"],
            verified_events=row["verified_events"],
            last_at=row["last_at"],
        )
        for row in rows
    ]


def contributor_identities(*, contributor: Contributor) -> list[dict[str, Any]]:
    """The contributor's GitHub and Discord identities and how each is known."""
    identities = []
    for platform, handle, status in (
        ("GitHub", contributor.github_login, contributor.github_identity),
        ("Discord", contributor.discord_id, contributor.discord_identity),
    ):
        if handle:
            identities.append(
                {
                    "platform": platform,
                    "handle": handle,
                    "linked": status == IdentityStatus.LINKED,
                }
            )
    return identities
