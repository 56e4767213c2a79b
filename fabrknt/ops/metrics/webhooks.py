"""Webhook deliveries by provider and outcome, counted in one place for every provider.

Each webhook view (Alchemy, Helius, GitHub, Discord) decides its outcome by its answer:
a receipt (2xx) or a refusal with a stable error `code` (`bad_signature`,
`not_configured`, `invalid`, ...). The mixin reads that answer once the view has given it,
so no view counts for itself. A delivery refused before the view (413 over the body limit,
415) is counted with the requests, under no route."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from fabrknt.ops.metrics.families import WEBHOOK_DELIVERIES
from fabrknt.ops.metrics.store import store

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
ERROR = "error"  # the view raised: a 500


def delivery_outcome(response: Response) -> str:
    """`accepted`; what a receipt says became of the delivery (`outcome`, as Discord's
    says, or `duplicate: true`, as GitHub's); else the refusal's error code."""
    data = response.data if isinstance(response.data, dict) else {}
    if 200 <= response.status_code < 300:
        if isinstance(data.get("outcome"), str):
            return data["outcome"]
        return DUPLICATE if data.get("duplicate") is True else ACCEPTED
    code = data.get("code")
    return code if isinstance(code, str) else str(response.status_code)


class WebhookDeliveriesCounted:
    """For a webhook's APIView (first among its bases): counts each delivery it answers."""

    webhook_provider: str

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = ERROR
        try:
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            outcome = delivery_outcome(response)
            return response
        finally:
            store.count(WEBHOOK_DELIVERIES, (self.webhook_provider, outcome))
