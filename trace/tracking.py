"""GET /t/<campaign_id>: the tracking link. Records the visit and sends the visitor to the
campaign's landing URL, and only there: the target never comes from the request.

A 302 only when the campaign's organization verified the landing URL's domain; otherwise
a page that names the destination and links to it, so that our domain never forwards a
visitor unseen to a site nobody proved to own (trace.services.domains).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from fabrknt.api.rate_limit import rate_limit_take
from fabrknt.security.client_ip import address_network, client_ip
from trace.services.clicks.tracking import click_track
from trace.services.clicks.validation import campaign_lookup
from trace.services.destinations import destination_for_visit


@require_http_methods(["GET", "HEAD"])
def tracking_redirect(request: HttpRequest, campaign_id: uuid.UUID) -> HttpResponse:
    owner = campaign_lookup(campaign_id=str(campaign_id))
    if owner is None:
        raise Http404("No such campaign.")
    ip = client_ip(request)
    query = request.GET.dict()
    click_id = None
    # Over the per-network allowance (an IPv6 /64 counts as one visitor) the visitor still
    # lands; the visit is just not recorded.
    bucket = f"tracking:{address_network(ip)}"
    if rate_limit_take(bucket, settings.RATE_LIMITS["tracking_link"]).allowed:
        click_id = click_track(
            campaign_id=str(campaign_id),
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            referrer=request.META.get("HTTP_REFERER", ""),
            query=query,
            method=request.method or "GET",  # None only on a request built by hand
            during_pause=owner.paused,
        )
    destination = destination_for_visit(
        organization_id=owner.organization_id,
        landing_url=owner.landing_url,
        click_id=click_id,
        query=query,
    )
    response: HttpResponse
    if destination.verified:
        response = HttpResponseRedirect(destination.url)
    else:
        response = render(request, "trace/interstitial.html", {"destination": destination})
        # Our URL stays ours: the destination does not learn which link sent the visitor.
        response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"  # every visit must reach us to be counted
    response["X-Robots-Tag"] = "noindex"
    return response
