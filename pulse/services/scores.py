"""Scores: contributor scores and team vitality, recalculated in set-based SQL.

The formulas are `pulse.services.score_formulas` (documented there). This module turns
the contributions into their aggregates without reading a single contribution row into
Python:

1. one statement weighs and decays every contribution in scope and groups them by team,
   contributor, platform and type into a temporary table (a few rows per contributor);
2. one UPDATE writes every contributor's score, verified part and share from it (zero
   for those with nothing), and one INSERT … SELECT snapshots them;
3. three small GROUP BYs give each team its totals per type, its unattributed events, and
   its people: who was active in the last and the previous period, and the bus factor
   (a running sum over the team's contributors ordered by points);
4. Python computes each team's four scores from those few numbers, then updates the
   teams and writes one team snapshot each (the trend charts read them).

It runs on PostgreSQL and on SQLite (the embedded demo), with the dialect differences in
`_DIALECTS`. A calculation "as of" a past moment counts only what had happened by then, so
history can be recomputed (the demo's trend is made that way).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from pulse.cache import teams_changed
from pulse.models import (
    DEFAULT_CONTRIBUTION_WEIGHTS,
    Contribution,
    ContributionWeight,
    Contributor,
    IdentityStatus,
    Platform,
    ScoreSnapshot,
    Team,
    Verification,
)
from pulse.services.score_formulas import (
    TeamInputs,
    TeamScores,
    TypeTotals,
    team_scores_compute,
)

logger = logging.getLogger(__name__)

# A type nobody weighed (neither a ContributionWeight row nor a documented default).
UNKNOWN_TYPE_WEIGHT = 1.0
_PARTS_TABLE = "pulse_score_parts"
SCORE_PLACES = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")


class _Dialect(TypedDict):
    float: str
    age_days: str  # the contribution's age in days at %(as_of)s, never negative
    create_temp: str
    round2: str
    round4: str


_DIALECTS: dict[str, _Dialect] = {
    "postgresql": {
        "float": "double precision",
        # EXTRACT gives numeric, whose POWER is a hundred times slower than a float's.
        "age_days": (
            "GREATEST(CAST(EXTRACT(EPOCH FROM (%(as_of)s - c.occurred_at)) AS double precision)"
            " / 86400.0, 0)"
        ),
        "create_temp": f"CREATE TEMPORARY TABLE {_PARTS_TABLE} ON COMMIT DROP AS",
        "round2": "ROUND(CAST({} AS numeric), 2)",
        "round4": "ROUND(CAST({} AS numeric), 4)",
    },
    "sqlite": {
        "float": "REAL",
        "age_days": "MAX(julianday(%(as_of)s) - julianday(c.occurred_at), 0)",
        "create_temp": f"CREATE TEMP TABLE {_PARTS_TABLE} AS",
        "round2": "ROUND({}, 2)",
        "round4": "ROUND({}, 4)",
    },
}

# work_mem lets the grouping of a million contributions hash in memory; JIT costs more
# than it saves on one pass.
_SESSION_SETTINGS = {"postgresql": ("SET LOCAL work_mem = '128MB'", "SET LOCAL jit = off")}

# Per (team, contributor, platform, type): events, verified events, points, verified
# points, the last event, and whether any event fell in the last / the previous period.
_PARTS_SQL = """
{create_temp}
WITH weights(kind, weight) AS (VALUES {weight_rows})
SELECT team_id, contributor_id, platform, kind,
       COUNT(*) AS events,
       SUM(verified) AS verified_events,
       SUM(points) AS points,
       SUM(points * verified) AS verified_points,
       MAX(occurred_at) AS last_at,
       MAX(in_last) AS in_last,
       MAX(in_previous) AS in_previous
FROM (
    SELECT c.team_id AS team_id, c.contributor_id AS contributor_id, c.platform AS platform,
           c.contribution_type AS kind, c.occurred_at AS occurred_at,
           COALESCE(w.weight, %(unknown_weight)s)
               * CASE WHEN c.platform = %(github)s THEN 1 ELSE CAST(c.weight AS {float}) END
               * POWER(CAST(0.5 AS {float}), {age_days} / %(half_life)s) AS points,
           CASE WHEN c.verification = %(verified)s AND (
                    (c.platform = %(github)s AND p.github_identity = %(linked)s)
                 OR (c.platform = %(discord)s AND p.discord_identity = %(linked)s)
                 OR c.platform NOT IN (%(github)s, %(discord)s))
                THEN 1 ELSE 0 END AS verified,
           CASE WHEN c.occurred_at > %(last_from)s THEN 1 ELSE 0 END AS in_last,
           CASE WHEN c.occurred_at > %(previous_from)s AND c.occurred_at <= %(last_from)s
                THEN 1 ELSE 0 END AS in_previous
    FROM {contribution} c
    LEFT JOIN {contributor} p ON p.id = c.contributor_id
    LEFT JOIN weights w ON w.kind = c.contribution_type
    WHERE c.occurred_at <= %(as_of)s {team_condition}
) weighed
GROUP BY team_id, contributor_id, platform, kind
"""

_CONTRIBUTORS_UPDATE_SQL = """
UPDATE {contributor} SET
    contribution_score = totals.score,
    verified_contribution_score = totals.verified_score,
    verified_share = totals.share,
    last_active_at = COALESCE(totals.last_at, {contributor}.last_active_at)
FROM (
    SELECT p.id AS id,
           {score} AS score,
           {verified_score} AS verified_score,
           CASE WHEN SUM(s.points) > 0 THEN {share} END AS share,
           MAX(s.last_at) AS last_at
    FROM {contributor} p
    LEFT JOIN {parts} s ON s.contributor_id = p.id
    WHERE 1 = 1 {contributor_condition}
    GROUP BY p.id
) totals
WHERE {contributor}.id = totals.id
  -- A row whose figures did not move is not rewritten (nor are its five indexes).
  AND ({contributor}.contribution_score <> totals.score
       OR {contributor}.verified_contribution_score <> totals.verified_score
       OR {contributor}.verified_share IS NULL AND totals.share IS NOT NULL
       OR {contributor}.verified_share IS NOT NULL AND totals.share IS NULL
       OR {contributor}.verified_share <> totals.share
       OR totals.last_at IS NOT NULL AND ({contributor}.last_active_at IS NULL
                                          OR {contributor}.last_active_at <> totals.last_at))
"""

_CONTRIBUTOR_SNAPSHOTS_SQL = """
INSERT INTO {snapshot} (team_id, contributor_id, calculated_at, contribution_score,
                        verified_share, components)
SELECT p.team_id, p.id, %(as_of)s, p.contribution_score, p.verified_share, '{{}}'
FROM {contributor} p
WHERE p.contribution_score > 0 {contributor_condition}
"""

_TYPE_TOTALS_SQL = """
SELECT team_id, platform, kind, SUM(events), SUM(verified_events), SUM(points),
       SUM(verified_points)
FROM {parts} WHERE contributor_id IS NOT NULL
GROUP BY team_id, platform, kind
"""

_UNATTRIBUTED_SQL = """
SELECT team_id, SUM(events) FROM {parts} WHERE contributor_id IS NULL GROUP BY team_id
"""

# The bus factor counts a contributor when the points of those ranked above them make up
# less than half the team's: the fewest people whose points reach half. The tolerance keeps
# float rounding from counting one more person at an exact half.
_PEOPLE_SQL = """
WITH per_person AS (
    SELECT team_id, contributor_id, SUM(points) AS points,
           MAX(in_last) AS in_last, MAX(in_previous) AS in_previous
    FROM {parts} WHERE contributor_id IS NOT NULL
    GROUP BY team_id, contributor_id
),
ranked AS (
    SELECT team_id, points, in_last, in_previous,
           SUM(points) OVER (
               PARTITION BY team_id ORDER BY points DESC, contributor_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS ahead,
           SUM(points) OVER (PARTITION BY team_id) AS total
    FROM per_person
)
SELECT team_id,
       SUM(CASE WHEN points > 0 AND COALESCE(ahead, 0) < total * (0.5 - 1e-9) THEN 1 ELSE 0 END),
       SUM(in_previous),
       SUM(CASE WHEN in_previous = 1 AND in_last = 1 THEN 1 ELSE 0 END),
       SUM(in_last)
FROM ranked
GROUP BY team_id
"""


@dataclass(frozen=True)
class ScoreRun:
    """What one calculation did."""

    as_of: dt.datetime
    teams: int
    contributors: int  # scored
    contributors_changed: int  # whose figures moved (the others were not rewritten)
    seconds: float
    team_scores: dict[str, TeamScores]  # by team id


def contribution_weights() -> dict[str, float]:
    """The weight of each contribution type now: the operators' rows over the defaults."""
    weights = {kind: float(weight) for kind, weight in DEFAULT_CONTRIBUTION_WEIGHTS.items()}
    weights.update(
        (kind, float(weight))
        for kind, weight in ContributionWeight.objects.values_list("contribution_type", "weight")
    )
    return weights


def _dialect() -> _Dialect:
    dialect = _DIALECTS.get(connection.vendor)
    if dialect is None:
        raise NotImplementedError(
            f"PULSE scores support PostgreSQL and SQLite, not {connection.vendor}"
        )
    return dialect


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _timestamp(moment: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()  # Django's CursorWrapper is untyped
        return rows


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
        return count


def _parts_create(*, as_of: dt.datetime, team_id: object | None, weights: dict[str, float]) -> None:
    dialect = _dialect()
    period = dt.timedelta(days=settings.PULSE_RETENTION_PERIOD_DAYS)
    params: dict[str, Any] = {
        "as_of": _timestamp(as_of),
        "last_from": _timestamp(as_of - period),
        "previous_from": _timestamp(as_of - 2 * period),
        "half_life": float(settings.PULSE_SCORE_HALF_LIFE_DAYS),
        "unknown_weight": UNKNOWN_TYPE_WEIGHT,
        "verified": Verification.VERIFIED.value,
        "linked": IdentityStatus.LINKED.value,
        "github": Platform.GITHUB.value,
        "discord": Platform.DISCORD.value,
    }
    weight_rows = []
    for n, (kind, weight) in enumerate(sorted(weights.items())):
        params[f"kind_{n}"], params[f"weight_{n}"] = kind, weight
        weight_rows.append(f"(%(kind_{n})s, CAST(%(weight_{n})s AS {dialect['float']}))")
    team_condition = ""
    if team_id is not None:
        params["team"] = _team_param(team_id)
        team_condition = "AND c.team_id = %(team)s"
    sql = _PARTS_SQL.format(
        create_temp=dialect["create_temp"],
        weight_rows=", ".join(weight_rows),
        float=dialect["float"],
        age_days=dialect["age_days"],
        contribution=_table(Contribution),
        contributor=_table(Contributor),
        team_condition=team_condition,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_PARTS_TABLE}")
        cursor.execute(sql, params)
        cursor.execute(f"ANALYZE {_PARTS_TABLE}")  # the statements below join on it


def _team_param(team_id: object) -> Any:
    return Contribution._meta.get_field("team").get_db_prep_value(team_id, connection)


def _contributors_update(*, as_of: dt.datetime, team_id: object | None) -> int:
    """Write every contributor's figures; returns how many moved."""
    dialect = _dialect()
    params: dict[str, Any] = {"as_of": _timestamp(as_of)}
    condition = ""
    if team_id is not None:
        params["team"] = _team_param(team_id)
        condition = "AND p.team_id = %(team)s"
    contributor = _table(Contributor)
    updated = _execute(
        _CONTRIBUTORS_UPDATE_SQL.format(
            contributor=contributor,
            parts=_PARTS_TABLE,
            score=dialect["round2"].format("COALESCE(SUM(s.points), 0)"),
            verified_score=dialect["round2"].format("COALESCE(SUM(s.verified_points), 0)"),
            share=dialect["round4"].format("SUM(s.verified_points) / SUM(s.points)"),
            contributor_condition=condition,
        ),
        params,
    )
    _execute(
        _CONTRIBUTOR_SNAPSHOTS_SQL.format(
            snapshot=_table(ScoreSnapshot),
            contributor=contributor,
            contributor_condition=condition,
        ),
        params,
    )
    return updated


def _team_inputs(teams: list[Team], weights: dict[str, float]) -> dict[Any, TeamInputs]:
    inputs: dict[Any, TeamInputs] = {
        team.pk: TeamInputs(
            community_connected=bool(team.discord_guild_id) and team.discord_guild_lapsed_at is None
        )
        for team in teams
    }
    # A team id as the database hands it back (a UUID on PostgreSQL, hex text on SQLite).
    to_pk = Team._meta.get_field("id").to_python
    by_type: dict[Any, list[TypeTotals]] = defaultdict(list)
    for team_id, platform, kind, events, verified_events, points, verified_points in _rows(
        _TYPE_TOTALS_SQL.format(parts=_PARTS_TABLE)
    ):
        by_type[to_pk(team_id)].append(
            TypeTotals(
                platform=platform,
                contribution_type=kind,
                weight=weights.get(kind, UNKNOWN_TYPE_WEIGHT),
                events=int(events),
                verified_events=int(verified_events),
                points=float(points or 0),
                verified_points=float(verified_points or 0),
            )
        )
    for team_id, rows in by_type.items():
        if team_id in inputs:
            inputs[team_id].by_type = rows
    for team_id, events in _rows(_UNATTRIBUTED_SQL.format(parts=_PARTS_TABLE)):
        if to_pk(team_id) in inputs:
            inputs[to_pk(team_id)].unattributed_events = int(events)
    for team_id, bus_factor, previous_active, retained, active in _rows(
        _PEOPLE_SQL.format(parts=_PARTS_TABLE)
    ):
        team_inputs = inputs.get(to_pk(team_id))
        if team_inputs is not None:
            team_inputs.bus_factor = int(bus_factor or 0)
            team_inputs.previous_active = int(previous_active or 0)
            team_inputs.retained = int(retained or 0)
            team_inputs.active = int(active or 0)
    counts = Contributor.objects.filter(team__in=[t.pk for t in teams]).values("team_id")
    for row in counts.annotate(n=Count("id")).values_list("team_id", "n"):
        inputs[row[0]].contributors = row[1]
    return inputs


def _decimal(value: float, places: Decimal) -> Decimal:
    return Decimal(str(value)).quantize(places)


def _share_decimal(value: float | None) -> Decimal | None:
    return None if value is None else _decimal(value, SHARE_PLACES)


def _teams_save(teams: list[Team], scores: dict[Any, TeamScores], as_of: dt.datetime) -> None:
    snapshots = []
    for team in teams:
        score = scores[team.pk]
        team.vitality_score = _decimal(score.vitality, SCORE_PLACES)
        team.developer_activity_score = _decimal(score.developer_activity, SCORE_PLACES)
        team.team_retention_score = _decimal(score.team_retention, SCORE_PLACES)
        team.community_score = _decimal(score.community, SCORE_PLACES)
        team.verified_share = _share_decimal(score.verified_share)
        team.score_components = {**score.components, "as_of": as_of.isoformat()}
        team.last_calculated_at = as_of
        snapshots.append(
            ScoreSnapshot(
                team=team,
                calculated_at=as_of,
                vitality_score=team.vitality_score,
                developer_activity_score=team.developer_activity_score,
                team_retention_score=team.team_retention_score,
                community_score=team.community_score,
                verified_share=team.verified_share,
                components=team.score_components,
            )
        )
    Team.objects.bulk_update(
        teams,
        [
            "vitality_score",
            "developer_activity_score",
            "team_retention_score",
            "community_score",
            "verified_share",
            "score_components",
            "last_calculated_at",
        ],
        batch_size=500,
    )
    ScoreSnapshot.objects.bulk_create(snapshots, batch_size=500)


def scores_calculate(
    *,
    team: Team | None = None,
    as_of: dt.datetime | None = None,
    on_calculated: Callable[[list[Any]], object] | None = None,
) -> ScoreRun:
    """Recalculate every contributor's score and every team's scores (or one team's), as
    of `as_of` (now by default), with a snapshot of each. Safe to re-run: each run
    rewrites the current scores and adds one snapshot per team and scored contributor.

    After the commit, `on_calculated(team_ids)` runs (default: `scores_calculated`, the
    hook milestones hang on)."""
    started = timezone.now()
    as_of = as_of or started
    team_id = None if team is None else team.pk
    weights = contribution_weights()
    with transaction.atomic():
        for statement in _SESSION_SETTINGS.get(connection.vendor, ()):
            _execute(statement)
        teams = list(Team.objects.all() if team is None else Team.objects.filter(pk=team.pk))
        try:
            _parts_create(as_of=as_of, team_id=team_id, weights=weights)
            changed = _contributors_update(as_of=as_of, team_id=team_id)
            inputs = _team_inputs(teams, weights)
        finally:
            if connection.vendor == "sqlite":  # PostgreSQL drops it at the commit
                _execute(f"DROP TABLE IF EXISTS {_PARTS_TABLE}")
        scores = {
            pk: team_scores_compute(
                inputs=team_inputs,
                half_life_days=float(settings.PULSE_SCORE_HALF_LIFE_DAYS),
                period_days=settings.PULSE_RETENTION_PERIOD_DAYS,
            )
            for pk, team_inputs in inputs.items()
        }
        _teams_save(teams, scores, as_of)
        teams_changed(team.pk for team in teams)  # bulk and raw updates: no signals
    team_ids = [t.pk for t in teams]
    contributors = sum(team_inputs.contributors for team_inputs in inputs.values())
    hook = on_calculated or scores_calculated
    transaction.on_commit(lambda: hook(team_ids))
    seconds = (timezone.now() - started).total_seconds()
    logger.info(
        "PULSE scores: %s teams, %s contributors (%s changed) in %.2f s",
        len(teams),
        contributors,
        changed,
        seconds,
    )
    return ScoreRun(
        as_of=as_of,
        teams=len(teams),
        contributors=contributors,
        contributors_changed=changed,
        seconds=seconds,
        team_scores={str(pk): score for pk, score in scores.items()},
    )


def scores_calculated(team_ids: Iterable[Any]) -> None:
    """The hook after a calculation: the milestones of these teams are evaluated, and a
    milestone met for the first time claims its token and queues its mint
    (`pulse.services.milestones.evaluate_team`; without SBT_CHAIN or a deployed contract it
    claims nothing). Scores do not depend on milestones: this runs after the commit, and a
    team whose evaluation fails is logged and skipped, never undoing the calculation."""
    from pulse.services.milestones import evaluate_team

    for team in Team.objects.filter(pk__in=list(team_ids)).order_by("pk"):
        try:
            claimed = evaluate_team(team)
        except Exception:
            logger.exception("PULSE milestones of team %s not evaluated", team.pulse_id)
            continue
        if claimed:
            logger.info("PULSE team %s: %s milestone tokens claimed", team.pulse_id, len(claimed))
