"""The activity score: one 0–100 number for a project's day, explained by its components.

    base   = 40 × stickiness_points + 30 × growth_points + 30 × retention_points
    score  = base × (1 − bot_share)                                   (0..100, 2 decimals)

where, for the day t (all counts exclude wallets whose flag an operator confirmed):

- stickiness = DAU / MAU; stickiness_points = min(1, stickiness / 0.5). A DAU/MAU of 50 %
  (the best consumer apps) earns full marks; a project used once a month earns little.
- growth = (MAU(t) − MAU(t − 30)) / MAU(t − 30); growth_points = clamp(0.5 + growth / 2,
  0, 1): flat is 0.5, doubling (+100 %) or better is 1, losing every user is 0. With no
  users 30 days earlier, any users now count as full growth (1) and none as 0.
- retention = share of the wallets active in the previous 7 days (t−13 … t−7) that are
  active again in the last 7 days (t−6 … t); retention_points = retention. With nobody
  active in the previous week it is 0: there is nobody to retain.
- bot_share = share of the day's active wallets flagged `suspected`. It removes the same
  share of the score: a day whose users are 30 % suspected bots keeps 70 % of its score.

A day with MAU = 0 scores 0. Every input, ratio and point value is stored in
`ActivityMetric.score_components`, so a score can always be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

STICKINESS_WEIGHT = 40.0
GROWTH_WEIGHT = 30.0
RETENTION_WEIGHT = 30.0
# DAU/MAU at which stickiness earns full marks.
STICKINESS_TARGET = 0.5
SCORE_VERSION = 1


@dataclass(frozen=True)
class ScoreInputs:
    dau: int
    wau: int
    mau: int
    mau_30_days_ago: int
    wau_7_days_ago: int
    # Wallets active both in t−13 … t−7 and in t−6 … t.
    retained: int
    bot_share: float


class ScoreWeights(TypedDict):
    stickiness: float
    growth: float
    retention: float


class ScoreComponents(TypedDict):
    """What `ActivityMetric.score_components` stores."""

    version: int
    weights: ScoreWeights
    stickiness: float
    stickiness_points: float
    growth: float | None
    growth_points: float
    mau_30_days_ago: int
    retention: float
    retention_points: float
    retained_wallets: int
    wau_7_days_ago: int
    bot_share: float
    bot_penalty: float


@dataclass(frozen=True)
class Score:
    value: float
    components: ScoreComponents


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def activity_score_calculate(*, inputs: ScoreInputs) -> Score:
    stickiness = inputs.dau / inputs.mau if inputs.mau else 0.0
    stickiness_points = _clamp(stickiness / STICKINESS_TARGET)

    growth: float | None = None  # None: no base to grow from
    if inputs.mau_30_days_ago:
        growth = (inputs.mau - inputs.mau_30_days_ago) / inputs.mau_30_days_ago
        growth_points = _clamp(0.5 + growth / 2)
    else:
        growth_points = 1.0 if inputs.mau else 0.0

    retention = inputs.retained / inputs.wau_7_days_ago if inputs.wau_7_days_ago else 0.0
    retention_points = _clamp(retention)

    bot_share = _clamp(inputs.bot_share)
    base = (
        STICKINESS_WEIGHT * stickiness_points
        + GROWTH_WEIGHT * growth_points
        + RETENTION_WEIGHT * retention_points
    )
    value = round(base * (1 - bot_share), 2) if inputs.mau else 0.0
    components: ScoreComponents = {
        "version": SCORE_VERSION,
        "weights": {
            "stickiness": STICKINESS_WEIGHT,
            "growth": GROWTH_WEIGHT,
            "retention": RETENTION_WEIGHT,
        },
        "stickiness": round(stickiness, 4),
        "stickiness_points": round(stickiness_points, 4),
        "growth": None if growth is None else round(growth, 4),
        "growth_points": round(growth_points, 4),
        "mau_30_days_ago": inputs.mau_30_days_ago,
        "retention": round(retention, 4),
        "retention_points": round(retention_points, 4),
        "retained_wallets": inputs.retained,
        "wau_7_days_ago": inputs.wau_7_days_ago,
        "bot_share": round(bot_share, 4),
        "bot_penalty": round(base * bot_share, 2) if inputs.mau else 0.0,
    }
    return Score(value=value, components=components)
