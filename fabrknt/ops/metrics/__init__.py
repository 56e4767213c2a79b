"""Request, cache, task, click and webhook metrics, shared across processes through Redis:
recorded in memory (`store`), exposed at `/metrics` (`prometheus`) and summarised by
`operational_metrics()` (`operational`) for the API, the operations page and live updates."""

from fabrknt.ops.metrics.operational import operational_metrics

__all__ = ["operational_metrics"]
