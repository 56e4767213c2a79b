"""Usage plans: each `read` or `write` API key may make its organization's
`daily_request_quota` of requests a UTC day (ingest keys keep their per-minute limit alone).

The count is the rate limiter's (`fabrknt.api.rate_limit.DailyQuota`): DefaultThrottle
counts a key's request in the Lua script that takes its token, so authentication, the
per-minute limit and the quota stay one Redis round trip. Every answer to such a key says
where it stands, in GitHub's header names for the day's allowance:

- `X-RateLimit-Limit`: the quota; `X-RateLimit-Remaining`: what is left of it today;
- `X-RateLimit-Reset`: the next midnight UTC, in seconds since the epoch.

Over the quota the answer is 429 `quota_exceeded` with `Retry-After` until that midnight
(a 429 `throttled` with headers showing quota left is the per-minute limit). While Redis
is down each process counts on its own, as the per-minute buckets do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from rest_framework import exceptions

from accounts.models import ApiKey
from fabrknt.api.rate_limit import DailyQuota, QuotaUsage, daily_quota_used


def api_key_daily_quota(api_key: ApiKey) -> DailyQuota | None:
    """Today's quota of a key authenticated with its organization's figure (see
    `ApiKeyQuerySet.with_daily_quota`); None for a key without one (ingest only)."""
    if not api_key.has_daily_quota:
        return None
    return _today(api_key, api_key.daily_request_quota)


def api_keys_used_today(*, keys: Sequence[ApiKey], limit: int) -> dict[uuid.UUID, int] | None:
    """Requests each of `keys` (those with a quota) made today, in one round trip; None
    while Redis is down (see `daily_quota_used`)."""
    counted = [key for key in keys if key.has_daily_quota]
    used = daily_quota_used([_today(key, limit) for key in counted])
    if used is None:
        return None
    return {key.pk: count for key, count in zip(counted, used, strict=True)}


def _today(api_key: ApiKey, limit: int) -> DailyQuota:
    return DailyQuota.today(f"key:{api_key.pk}", limit)


def quota_day_end() -> datetime:
    """When today's counts start again: the next midnight UTC."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=UTC)


class QuotaExceeded(exceptions.Throttled):
    default_code = "quota_exceeded"


def quota_exceeded(usage: QuotaUsage, *, wait: int) -> QuotaExceeded:
    return QuotaExceeded(
        wait=wait,
        detail=(
            f"This key's daily quota of {usage.limit:,} requests is used up; "
            "it starts again at 00:00 UTC."
        ),
    )


def quota_headers(usage: QuotaUsage) -> dict[str, str]:
    """For DRF's `view.headers`, which it copies onto the response, refusals included."""
    return {
        "X-RateLimit-Limit": str(usage.limit),
        "X-RateLimit-Remaining": str(usage.remaining),
        "X-RateLimit-Reset": str(usage.resets_at),
    }
