"""The alarm thresholds of the operational design, in one list: the operations page colours
its figures by them and the AWS deployment's CloudWatch alarms are made from them, so a
threshold changes here and nowhere else.

Each names the figure it watches (our Prometheus name), the statistic over a period of
`period_seconds`, the comparison and threshold (CloudWatch's terms, so the deployment maps
them one to one), and how many consecutive periods must breach. The values come from the
operational design (`seeds/002`): error rate under 0.1 %, API p99 under 100 ms, RPO one
hour; dead letters are never expected. The design names no figure for the oldest message's
age: five minutes is several periods of the busiest schedules (click flush every 5 s,
indexer and escrow monitor every minute), long enough that workers are behind, not busy.

`alarms_evaluate` decides the ones the operational figures hold (5xx rate, p99 latency,
dead letters); the telemetry decides the backup's age (`fabrknt.ops.telemetry`). Neither
broker tells a queue's oldest message from the queue itself: on AWS that alarm reads SQS's
own CloudWatch metric."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fabrknt.ops.metrics.operational import OperationalMetrics, Window

Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"]
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
}
OK = "ok"
ALARM = "alarm"
INSUFFICIENT_DATA = "insufficient_data"  # nothing to judge (no requests in the period)


@dataclass(frozen=True)
class Alarm:
    name: str
    metric: str
    statistic: str
    comparison: Comparison
    threshold: float
    unit: str
    period_seconds: int
    evaluation_periods: int
    description: str

    def breached(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold)


HTTP_5XX_RATE = Alarm(
    name="http_5xx_rate",
    metric='fabrknt_http_requests_total{status="5xx"} / fabrknt_http_requests_total',
    statistic="Sum",
    comparison="GreaterThanThreshold",
    threshold=0.001,
    unit="ratio",
    period_seconds=300,
    evaluation_periods=1,
    description="Share of answers that were 5xx over five minutes, above 0.1 %.",
)
HTTP_LATENCY_P99 = Alarm(
    name="http_latency_p99",
    metric="fabrknt_http_request_duration_seconds",
    statistic="p99",
    comparison="GreaterThanThreshold",
    threshold=0.1,
    unit="seconds",
    period_seconds=300,
    evaluation_periods=1,
    description="99th percentile of request latency over five minutes, above 100 ms.",
)
QUEUE_OLDEST_MESSAGE_AGE = Alarm(
    name="queue_oldest_message_age",
    metric="fabrknt_queue_oldest_message_age_seconds",
    statistic="Maximum",
    comparison="GreaterThanThreshold",
    threshold=300,
    unit="seconds",
    period_seconds=60,
    evaluation_periods=3,
    description="A message has waited in a task queue more than five minutes, "
    "three minutes running: the workers are behind.",
)
DEAD_LETTERS = Alarm(
    name="dead_letters",
    metric="fabrknt_queue_dead_letters",
    statistic="Maximum",
    comparison="GreaterThanThreshold",
    threshold=0,
    unit="count",
    period_seconds=60,
    evaluation_periods=1,
    description="A task exhausted its retries or redeliveries and waits in a dead-letter "
    "queue for an operator.",
)
BACKUP_AGE = Alarm(
    name="backup_age",
    metric="fabrknt_backup_age_seconds",
    statistic="Minimum",
    comparison="GreaterThanThreshold",
    threshold=3600,
    unit="seconds",
    period_seconds=300,
    evaluation_periods=1,
    description="The latest database backup is more than an hour old (RPO 1 h); the "
    "minimum over the period, so the hourly backup's own run does not count.",
)

ALARMS: tuple[Alarm, ...] = (
    HTTP_5XX_RATE,
    HTTP_LATENCY_P99,
    QUEUE_OLDEST_MESSAGE_AGE,
    DEAD_LETTERS,
    BACKUP_AGE,
)


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM or INSUFFICIENT_DATA
    value: float | None
    threshold: float
    unit: str


def _error_rate(window: Window) -> float | None:
    return window.error_rate


def _p99_seconds(window: Window) -> float | None:
    return None if window.latency_p99_ms is None else window.latency_p99_ms / 1000


# The alarms the operational figures decide, and the figure each reads from its window.
_FROM_WINDOWS: dict[str, Callable[[Window], float | None]] = {
    HTTP_5XX_RATE.name: _error_rate,
    HTTP_LATENCY_P99.name: _p99_seconds,
}


def alarm_state(alarm: Alarm, value: float | None) -> AlarmState:
    if value is None:
        state = INSUFFICIENT_DATA
    else:
        state = ALARM if alarm.breached(value) else OK
    return AlarmState(alarm.name, state, value, alarm.threshold, alarm.unit)


def alarms_evaluate(metrics: OperationalMetrics) -> list[AlarmState]:
    """The 5xx-rate and p99 alarms over the window of their period, and the dead letters
    waiting now (no figure while the broker cannot be reached)."""
    states = []
    for alarm in ALARMS:
        figure = _FROM_WINDOWS.get(alarm.name)
        window = metrics.window(alarm.period_seconds // 60)
        if figure is not None:
            states.append(alarm_state(alarm, figure(window) if window is not None else None))
    queues = metrics.queues
    dead_letters = None if queues is None else sum(q["dead_letter_depth"] for q in queues)
    states.append(alarm_state(DEAD_LETTERS, dead_letters))
    return states
