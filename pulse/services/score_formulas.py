"""PULSE's score formulas: pure functions from a team's aggregates to its 0–100 scores.

The aggregates come from one set-based pass over the contributions
(`pulse.services.scores`); everything here is arithmetic on a handful of numbers per team,
so the formulas can be read, tested and explained without a database.

Points. Each contribution is worth

    points = type_weight(type) × event_weight × 0.5 ^ (age_days / half_life)

- `type_weight` is the operator's per-type weight (`ContributionWeight`, editable in the
  admin, read at each calculation; a type without a row weighs its documented default,
  `pulse.models.DEFAULT_CONTRIBUTION_WEIGHTS`: merged pull requests 5, reviews 4 (3 for a
  review that only comments), opened pull requests 2, issues 1.5, commits 1, comments 0.5;
  on Discord a reply 1, a thread message 0.75, a message 0.5, a reaction 0.2);
- `event_weight` is what the ingest judged that one event worth: on Discord the
  Omotenashi weight stored in `Contribution.weight` (a welcome to a newcomer counts
  double, a flood or a one-word message a fifth, with diminishing returns per day:
  `pulse.services.omotenashi`), so helping others counts more than talking; on Notion
  its stored weight (1). GitHub events are judged by their type alone: their stored
  weight is the type weight of the day they arrived, which the current one supersedes
  (so an operator's change applies to past events at the next calculation);
- the half-life is `PULSE_SCORE_HALF_LIFE_DAYS` (90): a contribution of three months ago
  counts half, of six months ago a quarter.

A contributor's score is the sum of their points. Team scores count the contributions of
the team's contributors (events from a GitHub login or Discord id nobody has claimed yet
are counted in `unattributed_events` and scored once a contributor links that identity).

Team scores, each 0–100:

- **developer activity** = 100 × (1 − 2 ^ (−P_github / DEVELOPER_ACTIVITY_REFERENCE)):
  50 at 500 decayed GitHub points, 75 at 1,000, 87.5 at 1,500 (an always-busy team
  approaches 100; one that stopped fades with the half-life).
- **team retention** = 100 × (0.7 × retention_share + 0.3 × bus_factor_points), where
  retention_share is the share of the contributors active in the previous period
  (`PULSE_RETENTION_PERIOD_DAYS`, 30 days before the last 30) who are active in the last
  period (0 when nobody was active before: there is nobody to retain), and the bus factor
  is the fewest contributors whose points make up half of the team's points;
  bus_factor_points = min(1, bus_factor / BUS_FACTOR_TARGET) (4 people or more: full).
- **community** = 100 × (1 − 2 ^ (−P_discord / COMMUNITY_REFERENCE)): 50 at 250
  decayed, Omotenashi-weighted Discord points.
- **vitality** = 0.4 × developer activity + 0.3 × team retention + 0.3 × community. A
  team whose community is not measured (no Discord connected and no Discord activity)
  is scored on the other two with their weights scaled to sum to 1 (4/7 and 3/7), and its
  components say so.

Verified share. A point is verified when its event is verified (the GitHub App, a REST
confirmation, our Discord bot) and its contributor has linked that identity (OAuth) rather
than a team admin asserting it. Each score carries the verified share of the points it is
made of; vitality's is the average of its parts' shares weighted by what each part adds to
it. Shares are null when there is nothing to share out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SCORE_VERSION = 1
DEVELOPER_ACTIVITY_REFERENCE = 500.0
COMMUNITY_REFERENCE = 250.0
RETENTION_SHARE_WEIGHT = 0.7
BUS_FACTOR_WEIGHT = 0.3
BUS_FACTOR_TARGET = 4
VITALITY_WEIGHTS = {"developer_activity": 0.4, "team_retention": 0.3, "community": 0.3}

GITHUB = "github"
DISCORD = "discord"


@dataclass
class TypeTotals:
    """One (platform, type) of a team: its events and points."""

    platform: str
    contribution_type: str
    weight: float
    events: int = 0
    verified_events: int = 0
    points: float = 0.0
    verified_points: float = 0.0


@dataclass
class TeamInputs:
    """What the set-based pass found for one team."""

    by_type: list[TypeTotals] = field(default_factory=list)
    contributors: int = 0
    previous_active: int = 0  # contributors active in the previous period
    retained: int = 0  # of those, active in the last period too
    active: int = 0  # contributors active in the last period
    bus_factor: int = 0
    unattributed_events: int = 0
    community_connected: bool = False  # a Discord guild is linked to the team


@dataclass(frozen=True)
class TeamScores:
    vitality: float
    developer_activity: float
    team_retention: float
    community: float
    verified_share: float | None  # vitality's
    components: dict[str, Any]


def _saturating(points: float, reference: float) -> float:
    return 100.0 * (1.0 - math.pow(2.0, -max(points, 0.0) / reference))


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _platform_part(
    inputs: TeamInputs, platform: str, reference: float
) -> tuple[float, dict[str, Any]]:
    rows = [t for t in inputs.by_type if t.platform == platform]
    points = sum(t.points for t in rows)
    verified_points = sum(t.verified_points for t in rows)
    score = round(_saturating(points, reference), 2)
    return score, {
        "score": score,
        "formula": f"100 × (1 − 2^(−points / {reference:g}))",
        "points": round(points, 2),
        "reference_points": reference,
        "verified_points": round(verified_points, 2),
        "verified_share": _share(verified_points, points),
        "events": sum(t.events for t in rows),
        "verified_events": sum(t.verified_events for t in rows),
        "by_type": [
            {
                "type": t.contribution_type,
                "weight": t.weight,
                "events": t.events,
                "verified_events": t.verified_events,
                "points": round(t.points, 2),
                "verified_points": round(t.verified_points, 2),
            }
            for t in sorted(rows, key=lambda t: (-t.points, t.contribution_type))
        ],
    }


def _retention_part(inputs: TeamInputs, period_days: int) -> tuple[float, dict[str, Any]]:
    share = inputs.retained / inputs.previous_active if inputs.previous_active else 0.0
    bus_points = min(1.0, inputs.bus_factor / BUS_FACTOR_TARGET)
    score = round(100.0 * (RETENTION_SHARE_WEIGHT * share + BUS_FACTOR_WEIGHT * bus_points), 2)
    points = sum(t.points for t in inputs.by_type)
    verified_points = sum(t.verified_points for t in inputs.by_type)
    return score, {
        "score": score,
        "formula": (
            f"100 × ({RETENTION_SHARE_WEIGHT:g} × retention_share + "
            f"{BUS_FACTOR_WEIGHT:g} × min(1, bus_factor / {BUS_FACTOR_TARGET}))"
        ),
        "period_days": period_days,
        "previous_active": inputs.previous_active,
        "retained": inputs.retained,
        "active": inputs.active,
        "retention_share": round(share, 4),
        "bus_factor": inputs.bus_factor,
        "bus_factor_target": BUS_FACTOR_TARGET,
        "bus_factor_points": round(bus_points, 4),
        "verified_share": _share(verified_points, points),
    }


def _vitality(
    parts: dict[str, tuple[float, float | None]], community_measured: bool
) -> tuple[float, float | None, dict[str, float]]:
    weights = dict(VITALITY_WEIGHTS)
    if not community_measured:
        del weights["community"]
    total_weight = sum(weights.values())
    weights = {name: w / total_weight for name, w in weights.items()}
    contributions = {name: w * parts[name][0] for name, w in weights.items()}
    vitality = round(sum(contributions.values()), 2)
    shared = [(contributions[name], parts[name][1]) for name in weights]
    known = sum(c for c, share in shared if share is not None)
    verified = sum(c * share for c, share in shared if share is not None)
    return vitality, _share(verified, known), {n: round(w, 4) for n, w in weights.items()}


def team_scores_compute(
    *, inputs: TeamInputs, half_life_days: float, period_days: int
) -> TeamScores:
    """A team's four scores and their components from its aggregates."""
    developer, developer_parts = _platform_part(inputs, GITHUB, DEVELOPER_ACTIVITY_REFERENCE)
    community, community_parts = _platform_part(inputs, DISCORD, COMMUNITY_REFERENCE)
    retention, retention_parts = _retention_part(inputs, period_days)
    community_measured = inputs.community_connected or community_parts["events"] > 0
    vitality, vitality_share, weights = _vitality(
        {
            "developer_activity": (developer, developer_parts["verified_share"]),
            "team_retention": (retention, retention_parts["verified_share"]),
            "community": (community, community_parts["verified_share"]),
        },
        community_measured,
    )
    points = sum(t.points for t in inputs.by_type)
    verified_points = sum(t.verified_points for t in inputs.by_type)
    components: dict[str, Any] = {
        "version": SCORE_VERSION,
        "half_life_days": half_life_days,
        "vitality": {
            "score": vitality,
            "weights": weights,
            "community_measured": community_measured,
            "verified_share": vitality_share,
        },
        "developer_activity": developer_parts,
        "team_retention": retention_parts,
        "community": {**community_parts, "measured": community_measured},
        "contributors": inputs.contributors,
        "active_contributors": inputs.active,
        "points": round(points, 2),
        "verified_points": round(verified_points, 2),
        "verified_share": _share(verified_points, points),
        "unattributed_events": inputs.unattributed_events,
    }
    return TeamScores(
        vitality=vitality,
        developer_activity=developer,
        team_retention=retention,
        community=community,
        verified_share=vitality_share,
        components=components,
    )
