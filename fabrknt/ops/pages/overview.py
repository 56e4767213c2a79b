"""What the operations page shows: the operational metrics, the telemetry and the queues,
read through the same functions as the API and the WebSocket feed, with every alarm of
`fabrknt.ops.alarms.ALARMS` in its state.

The page must open whatever is down: without the metrics store (Redis) the figures are
missing, not the page; the telemetry answers for every component itself."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fabrknt.api.errors import Unavailable
from fabrknt.ops.alarms import (
    ALARMS,
    DEAD_LETTERS,
    HTTP_5XX_RATE,
    HTTP_LATENCY_P99,
    INSUFFICIENT_DATA,
    Alarm,
    AlarmState,
    alarm_state,
)
from fabrknt.ops.api.telemetry_serializers import TelemetrySerializer
from fabrknt.ops.metrics.api import OperationalMetricsSerializer
from fabrknt.ops.metrics.operational import OperationalMetrics, Window, operational_metrics
from fabrknt.ops.queues import QueueStats
from fabrknt.ops.readings import queues_read
from fabrknt.ops.telemetry import Telemetry, telemetry


@dataclass(frozen=True)
class AlarmRow:
    alarm: Alarm
    state: str  # OK, ALARM or INSUFFICIENT_DATA
    value: float | None


@dataclass(frozen=True)
class WindowRow:
    window: Window
    error_rate_alarm: bool
    latency_alarm: bool


@dataclass(frozen=True)
class QueueRow:
    stats: QueueStats
    dead_letters_alarm: bool


@dataclass(frozen=True)
class Overview:
    metrics: OperationalMetrics | None  # None: the metrics store (Redis) cannot be read
    telemetry: Telemetry
    queues: list[QueueRow] | None  # None: the broker cannot be reached
    alarms: list[AlarmRow]
    windows: list[WindowRow]

    def versions(self) -> dict[str, str | None]:
        return dataclasses.asdict(self.telemetry.versions)

    def initial_data(self) -> dict[str, Any]:
        """The figures as the WebSocket events carry them, for the page's script (charts,
        and the same rendering when an event arrives), with the alarms' definitions."""
        return {
            "metrics": OperationalMetricsSerializer(self.metrics).data if self.metrics else None,
            "telemetry": TelemetrySerializer(self.telemetry).data,
            "alarms": [alarm_definition(alarm) for alarm in ALARMS],
        }


def alarm_definition(alarm: Alarm) -> dict[str, Any]:
    return {
        "name": alarm.name,
        "description": alarm.description,
        "comparison": alarm.comparison,
        "threshold": alarm.threshold,
        "unit": alarm.unit,
    }


def alarm_rows(states: list[AlarmState]) -> list[AlarmRow]:
    """Every alarm of ALARMS, in its order, with the state judged for it; one nobody can
    judge here (the oldest message's age: neither broker's queue tells it) has no data."""
    judged = {state.name: state for state in states}
    rows = []
    for alarm in ALARMS:
        state = judged.get(alarm.name)
        if state is None:
            rows.append(AlarmRow(alarm, INSUFFICIENT_DATA, None))
        else:
            rows.append(AlarmRow(alarm, state.state, state.value))
    return rows


def _window_row(window: Window) -> WindowRow:
    p99 = None if window.latency_p99_ms is None else window.latency_p99_ms / 1000
    return WindowRow(
        window=window,
        error_rate_alarm=window.error_rate is not None
        and HTTP_5XX_RATE.breached(window.error_rate),
        latency_alarm=p99 is not None and HTTP_LATENCY_P99.breached(p99),
    )


def ops_overview() -> Overview:
    try:
        metrics: OperationalMetrics | None = operational_metrics()
    except Unavailable:  # logged by the metrics; the rest of the page still helps
        metrics = None
    telemetry_now = telemetry()
    queues = metrics.queues if metrics is not None else queues_read()
    if metrics is not None:
        states = [*metrics.alarms, telemetry_now.backup.alarm]
    else:  # the dead letters need only the broker
        dead = None if queues is None else sum(q["dead_letter_depth"] for q in queues)
        states = [alarm_state(DEAD_LETTERS, dead), telemetry_now.backup.alarm]
    return Overview(
        metrics=metrics,
        telemetry=telemetry_now,
        queues=None
        if queues is None
        else [
            QueueRow(stats, DEAD_LETTERS.breached(stats["dead_letter_depth"])) for stats in queues
        ],
        alarms=alarm_rows(states),
        windows=[] if metrics is None else [_window_row(window) for window in metrics.windows],
    )
