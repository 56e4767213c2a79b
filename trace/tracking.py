"""GET /t/<campaign_id>: the tracking link. Records the visit and redirects to the
campaign's landing URL, and only there: the target never comes from the request."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from fabrknt.api.rate_limit import rate_limit_take
from fabrknt.security.client_ip import address_network, client_ip
from trace.services.clicks import campaign_lookup, click_track, landing_url_with_click


@require_http_methods(["GET", "HEAD"])
def tracking_redirect(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    owner = campaign_lookup(campaign_id=str(campaign_id))
    if owner is None:
        raise Http404("No such campaign.")
    landing_url = owner[1]
    ip = client_ip(request)
    # Over the per-network allowance (an IPv6 /64 counts as one visitor) the visitor still
    # lands; the visit is just not recorded.
    bucket = f"tracking:{address_network(ip)}"
    if rate_limit_take(bucket, settings.RATE_LIMITS["tracking_link"]).allowed:
        click_id = click_track(
            campaign_id=str(campaign_id),
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            referrer=request.META.get("HTTP_REFERER", ""),
            query=request.GET.dict(),
            method=request.method,
        )
        landing_url = landing_url_with_click(landing_url=landing_url, click_id=click_id)
    response = HttpResponseRedirect(landing_url)
    response["Cache-Control"] = "no-store"  # every visit must reach us to be counted
    return response
