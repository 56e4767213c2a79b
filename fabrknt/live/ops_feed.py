"""The `ops` live channel's feed: the operational figures and the telemetry, pushed every
few seconds by the beat task `ops.publish_live` (fabrknt/ops/tasks.py, fabrknt/celery.py),
each as its API renders it (GET /api/v1/operational/metrics and /telemetry), so the
operations page applies a push exactly as it would a fresh read."""

from __future__ import annotations

from typing import Any

from fabrknt.api.errors import Unavailable
from fabrknt.live.channels import OPS
from fabrknt.live.publish import publish

METRICS_EVENT = "metrics"
TELEMETRY_EVENT = "telemetry"


def ops_live_data() -> dict[str, Any]:
    """What the ops channel shows, by event: the one place that says where its figures
    come from. The metrics are left out while their store (Redis) cannot be read."""
    from fabrknt.ops.api.telemetry_serializers import TelemetrySerializer
    from fabrknt.ops.metrics.api import OperationalMetricsSerializer
    from fabrknt.ops.metrics.operational import operational_metrics
    from fabrknt.ops.telemetry import telemetry

    data: dict[str, Any] = {TELEMETRY_EVENT: TelemetrySerializer(telemetry()).data}
    try:
        data[METRICS_EVENT] = OperationalMetricsSerializer(operational_metrics()).data
    except Unavailable:
        pass
    return data


def ops_live_publish() -> None:
    for event, data in ops_live_data().items():
        publish(OPS, event, data)
