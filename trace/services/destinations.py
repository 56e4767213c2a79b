"""Where a tracking link (`/t/<campaign>`) sends its visitor, and how.

The destination is always the campaign's landing URL, never anything from the request,
with `fab_click=<click id>` (when the visit was recorded) and the visit's `utm_*`
parameters added to its query; a parameter the landing URL sets itself keeps its value.
Whether the visitor is redirected there or shown an interstitial page that names it
depends on whether the campaign's organization verified the landing URL's domain
(trace.services.domains).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from trace.services.clicks.tracking import landing_url_with_click, utm_params_from_query
from trace.services.domains import landing_url_host, landing_url_verified


@dataclass(frozen=True)
class Destination:
    url: str  # the landing URL with fab_click and utm_* added
    verified: bool  # redirect when True; else the interstitial
    host: str  # the host to name on the interstitial


def destination_for_visit(
    *,
    organization_id: uuid.UUID | str,
    landing_url: str,
    click_id: str | None,
    query: dict[str, str],
) -> Destination:
    """The destination of one visit; `click_id` is None when the visit was not recorded."""
    url = landing_url_with_utm(landing_url=landing_url, utm_params=utm_params_from_query(query))
    if click_id is not None:
        url = landing_url_with_click(landing_url=url, click_id=click_id)
    return Destination(
        url=url,
        verified=landing_url_verified(organization_id=organization_id, landing_url=landing_url),
        host=landing_url_host(landing_url) or _netloc(landing_url),
    )


def landing_url_with_utm(*, landing_url: str, utm_params: dict[str, str]) -> str:
    """`landing_url` with these utm_* parameters added to its query, but for those it
    already sets: its own value wins. The rest of the URL is kept byte for byte."""
    base, hash_mark, fragment = landing_url.partition("#")
    path, _question, query = base.partition("?")
    own = {key for key, _value in parse_qsl(query, keep_blank_values=True)}
    added = [
        f"{quote(key, safe='')}={quote(value, safe='')}"
        for key, value in utm_params.items()
        if key not in own
    ]
    if not added:
        return landing_url
    params = [part for part in query.split("&") if part] + added
    return f"{path}?{'&'.join(params)}{hash_mark}{fragment}"


def _netloc(url: str) -> str:
    # A URL whose host we cannot vouch for is shown with its whole authority part.
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url
