"""Campaign pages: list → detail → form. Create, edit, pause and resume, archive (after a
confirm step), the tracking link with its QR code, and on the campaign page where its
clicks came from, which were bots, which wallets converted, and the snippet.

Each view finds its campaign through `caller_access` with the access its action needs
(READ to look, WRITE to change), so a viewer's forged POST is a 403 and another
organization's campaign a 404, exactly as in the API; the campaign services do the rest.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import current_membership, current_organization_choose, page_access
from accounts.selectors import READ, WRITE, Access, organization_publishable_keys
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm
from fabrknt.pages.htmx import is_validation, redirect_to
from fabrknt.readcache import cached
from trace.cache import campaign_scope
from trace.models import Campaign, CampaignStatus
from trace.pages.campaign_forms import (
    CampaignForm,
    CampaignStatusForm,
    SnippetKey,
    SnippetKeyForm,
)
from trace.pages.ranges import PageRange
from trace.selectors import (
    WalletCursor,
    campaign_click_sources,
    campaign_converted_wallets,
    campaign_daily,
    campaigns_listed,
    campaigns_with_stats,
    converted_wallets_listed,
    project_latest_complete_metric,
)
from trace.services.campaigns import campaign_archive, campaign_create, campaign_update
from trace.services.roi import CampaignRoi, campaign_roi, campaigns_with_roi

Request = AuthenticatedHttpRequest
WALLETS_PAGE_SIZE = 25
TOP_REFERRERS = 10
TOP_UTM_VALUES = 5
SNIPPET_KEY_PLACEHOLDER = "YOUR_INGEST_KEY"


def _campaign(request: Request, campaign_id: object, access: Access) -> Campaign:
    """The caller's campaign (404 when not theirs to see, 403 when not theirs to do
    `access`); its organization becomes the current one."""
    campaigns = Campaign.objects.select_related("project", "organization")
    campaign = page_access(request).get(campaigns, access, pk=campaign_id)
    current_organization_choose(request, campaign.organization)
    return campaign


def _can_write(request: Request, campaign: Campaign) -> bool:
    return page_access(request).allows(campaign.organization_id, WRITE)


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _submitted(request: HttpRequest) -> bool:
    return request.method == "POST" and not is_validation(request)


def _form_page(
    request: HttpRequest, template: str, context: dict[str, Any], form: Any
) -> HttpResponse:
    status = 200 if is_validation(request) else form.status
    return render(request, template, {**context, "form": form}, status=status)


def _detail_url(campaign: Campaign) -> str:
    return reverse("trace:campaign", args=[campaign.pk])


# --- list and forms ---------------------------------------------------------------------


@require_GET
@page_view
def campaign_list(request: Request) -> HttpResponse:
    """The caller's campaigns, all but archived ones unless asked (`?status=`)."""
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    access = page_access(request)
    campaigns = campaigns_with_roi(
        campaigns_listed(access.scoped(Campaign.objects.all()), status=status)
    )
    membership = current_membership(request)
    context = {
        "campaigns": campaigns,
        "status": status,
        "statuses": CampaignStatus.choices,
        "can_create": membership is not None and access.allows(membership.organization_id, WRITE),
    }
    return render(request, "trace/campaigns/list.html", context)


@page_view
def campaign_create_page(request: Request) -> HttpResponse:
    """A new campaign in the current organization (members with write access)."""
    membership = current_membership(request)
    if membership is None:
        messages.info(request, "Create an organization first: campaigns belong to one.")
        return redirect("organizations:create")
    organization = page_access(request).organization(membership.organization_id, WRITE)
    form = CampaignForm(_posted(request), organization_id=organization.pk)
    if _submitted(request):
        campaign = form.submit(
            lambda: campaign_create(
                organization=organization, created_by=request.user, **form.cleaned_data
            )
        )
        if campaign is not None:
            messages.success(request, f"{campaign.name} is live: share its tracking link.")
            return redirect_to(request, _detail_url(campaign))
    return _form_page(request, "trace/campaigns/form.html", {"organization": organization}, form)


@page_view
def campaign_edit(request: Request, campaign_id) -> HttpResponse:
    campaign = _campaign(request, campaign_id, WRITE)
    initial = {name: getattr(campaign, name) for name in CampaignForm.base_fields}
    form = CampaignForm(_posted(request), initial=initial, organization_id=campaign.organization_id)
    if _submitted(request):
        edited = form.submit(
            lambda: campaign_update(campaign=campaign, actor=request.user, **form.cleaned_data)
        )
        if edited is not None:
            messages.success(request, "Campaign saved.")
            return redirect_to(request, _detail_url(edited))
    context = {"organization": campaign.organization, "campaign": campaign}
    return _form_page(request, "trace/campaigns/form.html", context, form)


@require_POST
@page_view
def campaign_status(request: Request, campaign_id) -> HttpResponse:
    """Pause or resume: a button on the campaign page, no confirm (undone as easily)."""
    campaign = _campaign(request, campaign_id, WRITE)
    form = CampaignStatusForm(request.POST)
    changed = form.submit(
        lambda: campaign_update(
            campaign=campaign, actor=request.user, status=form.cleaned_data["campaign_status"]
        )
    )
    if changed is None:
        messages.error(request, "Choose pause or resume.")
        return redirect_to(request, _detail_url(campaign))
    if changed.status == CampaignStatus.PAUSED:
        messages.success(
            request,
            f"{changed.name} is paused: its link still works, and its clicks are kept, "
            "marked as arriving during the pause.",
        )
    else:
        messages.success(request, f"{changed.name} is active again.")
    return redirect_to(request, _detail_url(changed))


@page_view
def campaign_archive_page(request: Request, campaign_id) -> HttpResponse:
    campaign = _campaign(request, campaign_id, WRITE)
    form = ConfirmForm(_posted(request))
    if _submitted(request):
        archived = form.submit(lambda: campaign_archive(campaign=campaign, actor=request.user))
        if archived is not None:
            messages.success(
                request,
                f"{archived.name} is archived: hidden from lists, nothing erased. "
                "Resume it from its page to bring it back.",
            )
            return redirect_to(request, reverse("trace:campaigns"))
    return _form_page(request, "trace/campaigns/archive.html", {"campaign": campaign}, form)


# --- the campaign page ------------------------------------------------------------------


@require_GET
@page_view
def campaign_detail(request: Request, campaign_id) -> HttpResponse:
    date_range = PageRange.from_request(request)
    page = _campaign_page(request, campaign_id, date_range)
    if page is None:
        raise Http404
    campaign = page.campaign
    # Who may see it is decided for each request, from the memberships read anyway.
    page_access(request).admit(campaign.organization_id, READ)
    current_organization_choose(request, campaign.organization)
    tracking_url = request.build_absolute_uri(reverse("trace-tracking-link", args=[campaign.pk]))
    context = {
        "campaign": campaign,
        "can_write": _can_write(request, campaign),
        "page": page,
        "date_range": date_range,
        "tracking_url": tracking_url,
        "statuses": CampaignStatus,
        **_snippet(request, page.snippet_keys),
    }
    return render(request, "trace/campaign_detail.html", context)


@dataclass(frozen=True)
class CampaignPage:
    """What a campaign's page shows of the campaign and its figures in a range: its row
    (with its project and organization), the KPIs, the daily chart, where clicks came from
    and a page of converted wallets rendered, when they were read, when its project's
    last metrics were computed, and its organization's publishable keys (the snippet's,
    newest first). The same for every reader, so read once per change of the campaign's
    figures."""

    campaign: Campaign
    figures: SafeString
    chart: SafeString
    sources: SafeString
    roi: CampaignRoi
    counted_at: dt.datetime
    metrics_computed_at: dt.datetime | None
    snippet_keys: tuple[SnippetKey, ...]


# The parts of the page rendered by _campaign_page_read, in order.
FIGURES_TEMPLATES = {
    "figures": "trace/campaigns/figures.html",
    "chart": "trace/campaigns/chart.html",
    "sources": "trace/campaigns/sources.html",
}


def _campaign_page(
    request: Request, campaign_id: uuid.UUID, date_range: PageRange
) -> CampaignPage | None:
    """The campaign's page for the range (and the wallets page of `?wallets_after=`, a
    bad one read as none), None when there is no such campaign, from the read cache while
    the campaign's scope has not changed: every write of its rollups, its row, its
    project's row and metrics retires it (trace/cache.py). Whoever reads it: the caller
    decides who may. Besides the rows it depends on what the key holds: the range, the
    time zone (days and dates), the wallets page and whether live updates are on."""
    after = WalletCursor.parse(request.GET.get("wallets_after"))
    parts = (
        str(campaign_id),
        date_range.choice,
        date_range.first,
        date_range.last,
        date_range.today,
        timezone.get_current_timezone_name(),
        str(after) if after else "",
        settings.LIVE_UPDATES_ENABLED,
    )
    return cached(
        "trace:campaign-page",
        scopes=[campaign_scope(campaign_id)],
        parts=parts,
        build=lambda: _campaign_page_read(campaign_id, date_range, after),
    )


def _campaign_page_read(
    campaign_id: uuid.UUID, date_range: PageRange, after: WalletCursor | None
) -> CampaignPage | None:
    window = {"start": date_range.start, "end": date_range.end}
    counted_at = timezone.now()
    # The range's figures and the wallet pager's total on the campaign's own row: the ROI
    # and the total cost no query of their own.
    campaign = (
        campaigns_with_stats(Campaign.objects.select_related("project", "organization"), **window)
        .annotate(listed_wallet_count=converted_wallets_listed(**window))
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        return None
    sources = campaign_click_sources(
        campaign=campaign, referrer_limit=TOP_REFERRERS, utm_limit=TOP_UTM_VALUES, **window
    )
    roi = campaign_roi(campaign=campaign, start=date_range.start, end=date_range.end)
    context = {
        "campaign": campaign,
        "roi": roi,
        "chart": _chart(campaign, date_range),
        "date_range": date_range,
        "referrers": sources.referrers,
        "top_referrers": TOP_REFERRERS,
        "utm": sources.utm,
        "top_utm_values": TOP_UTM_VALUES,
        "quality": sources.quality,
        "wallets": _wallets_page(campaign, date_range, after),
        "live_updates": settings.LIVE_UPDATES_ENABLED,
    }
    rendered = {
        part: render_to_string(template, context) for part, template in FIGURES_TEMPLATES.items()
    }
    metric = project_latest_complete_metric(campaign.project) if campaign.project else None
    return CampaignPage(
        campaign=campaign,
        **rendered,
        roi=roi,
        counted_at=counted_at,
        metrics_computed_at=metric.computed_at if metric else None,
        snippet_keys=tuple(
            SnippetKey._make(row)
            for row in organization_publishable_keys(
                organization_id=campaign.organization_id
            ).values_list("name", "publishable_key")
        ),
    )


def _wallets_page(
    campaign: Campaign, date_range: PageRange, after: WalletCursor | None
) -> dict[str, Any]:
    """A page of the converted-wallets table: WALLETS_PAGE_SIZE rows from the cursor,
    whether older ones follow, and the range's total from the rollups (never counted over
    the wallets)."""
    window = {"start": date_range.start, "end": date_range.end}
    rows = list(
        campaign_converted_wallets(campaign=campaign, after=after, **window)[
            : WALLETS_PAGE_SIZE + 1
        ]
    )
    older = None
    if len(rows) > WALLETS_PAGE_SIZE:
        rows = rows[:WALLETS_PAGE_SIZE]
        last = rows[-1]
        older = str(WalletCursor(last["last_converted_at"], last["wallet_address"]))
    return {
        "rows": rows,
        # Annotated by _campaign_page_read (converted_wallets_listed).
        "total": campaign.listed_wallet_count if rows else 0,  # type: ignore[attr-defined]
        "paged": after is not None,
        "older": older,
    }


def _chart(campaign: Campaign, date_range: PageRange) -> dict[str, Any]:
    days = date_range.dates
    daily = campaign_daily(campaign=campaign, days=days)
    return {
        "labels": [day.isoformat() for day in days],
        "clicks": daily["clicks"],
        "conversions": daily["conversions"],
        # Today is counted so far: drawn as a partial day.
        "partial_last": date_range.ends_today,
    }


def _snippet(request: HttpRequest, keys: tuple[SnippetKey, ...]) -> dict[str, Any]:
    """The embed snippet, with the publishable ingest key picked (`?key=`), else the
    newest one; the placeholder only when the organization has none."""
    newest = keys[0].publishable_key if keys else None
    data = request.GET if "key" in request.GET else None
    picker = SnippetKeyForm(data, initial={"key": newest}, keys=keys)
    key = picker.cleaned_data["key"] if picker.is_bound and picker.is_valid() else newest
    script = request.build_absolute_uri(static("trace/fab.js"))
    return {
        "embed_snippet": (
            f'<script src="{script}" data-key="{key or SNIPPET_KEY_PLACEHOLDER}" defer></script>'
        ),
        "snippet_picker": picker if key is not None else None,
    }


@require_GET
@page_view
def campaign_qr(request: Request, campaign_id) -> HttpResponse:
    """The tracking link as a QR code (SVG), to print or download."""
    campaign = _campaign(request, campaign_id, READ)
    url = request.build_absolute_uri(reverse("trace-tracking-link", args=[campaign.pk]))
    svg = io.BytesIO()
    segno.make(url, error="m").save(
        svg, kind="svg", scale=6, border=4, xmldecl=False, title=f"Tracking link of {campaign.name}"
    )
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-qr.svg"'
    return response
