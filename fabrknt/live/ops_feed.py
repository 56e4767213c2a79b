"""The `ops` live channel's feed: the operational figures, pushed every few
seconds by the beat task `ops.publish_live` (fabrknt/ops/tasks.py, fabrknt/celery.py)."""

from __future__ import annotations

from typing import Any

from fabrknt.live.channels import OPS
from fabrknt.live.publish import publish
from fabrknt.ops.health import readiness_checks

OPS_EVENT = "metrics"


def ops_live_data() -> dict[str, Any]:
    """What the ops channel shows: the one place that says where its figures come from."""
    return {"readiness": readiness_checks()}


def ops_live_publish() -> None:
    publish(OPS, OPS_EVENT, ops_live_data())
