"""Visits through a tracking link (`GET /t/<campaign id>`)."""

from __future__ import annotations

import uuid

from trace.services.bots import click_bot_reason
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import (
    MAX_REFERRER,
    MAX_USER_AGENT,
    MAX_UTM_KEY,
    MAX_UTM_KEYS,
    MAX_UTM_VALUE,
    ClickInput,
    ip_parse,
)


def _clean(value: str, limit: int) -> str:
    return value.replace("\x00", "")[:limit]


def utm_params_from_query(query: dict[str, str]) -> dict[str, str]:
    """The `utm_*` parameters of a tracking-link visit, within the stored limits."""
    utm_params: dict[str, str] = {}
    for key, value in query.items():
        if key.startswith("utm_") and len(key) <= MAX_UTM_KEY and len(utm_params) < MAX_UTM_KEYS:
            utm_params[_clean(key, MAX_UTM_KEY)] = _clean(value, MAX_UTM_VALUE)
    return utm_params


def click_track(
    *,
    campaign_id: str,
    ip: str,
    user_agent: str,
    referrer: str,
    query: dict[str, str],
    method: str,
    during_pause: bool = False,
) -> str:
    """Record a visit through a tracking link; returns its new click id.

    HEAD requests and preview bots are stored with is_bot and a reason, not as clicks.
    """
    utm_params = utm_params_from_query(query)
    user_agent = _clean(user_agent, MAX_USER_AGENT)
    click = ClickInput(
        campaign_id=campaign_id,
        click_id=uuid.uuid4().hex,
        referrer=_clean(referrer, MAX_REFERRER),
        utm_params=utm_params,
        user_agent=user_agent,
        ip_address=ip_parse(ip) or "",
        bot_reason=click_bot_reason(user_agent=user_agent, method=method),
        during_pause=during_pause,
    )
    clicks_store(clicks=[click])
    return click.click_id


def landing_url_with_click(*, landing_url: str, click_id: str) -> str:
    """The landing URL with fab_click=<click_id> added to its query (fragment kept)."""
    base, hash_mark, fragment = landing_url.partition("#")
    path, question, query = base.partition("?")
    params = [part for part in query.split("&") if part and not part.startswith("fab_click=")]
    params.append(f"fab_click={click_id}")
    return f"{path}?{'&'.join(params)}{hash_mark}{fragment}"
