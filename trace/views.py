"""TRACE's pages: the dashboard and a project (campaigns: trace.pages.campaigns), for the
signed-in user's organizations only (anything else is a 404, as in the API).

Charts are drawn by static/trace/charts.js from data handed over with `json_script`: the
CSP allows no inline script. Daily series are grouped in SQL; Python only fills the days
that had nothing with zeros.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, SupportsFloat

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import READ, WRITE, CallerAccess
from fabrknt.api.errors import ServiceError
from fabrknt.chain.evm import is_evm_chain
from fabrknt.readcache import cached
from trace.cache import organization_figures_scope
from trace.forms import BackfillStartForm
from trace.models import ActivityMetric, Campaign, Project
from trace.pages.ranges import PageRange
from trace.selectors import (
    MONEY_CONTEXT,
    campaigns_listed,
    project_ingest_state,
    project_latest_backfill,
    project_latest_complete_metric,
    project_recent_interactions,
    projects_with_latest_metric,
)
from trace.services.backfill import project_backfill_start
from trace.services.contract_control import project_contracts_status
from trace.services.provider_sync import project_address_provider
from trace.services.roi import campaigns_with_roi

signin_required = login_required(login_url="signin")


@require_GET
@signin_required
def dashboard(request: HttpRequest) -> HttpResponse:
    access = page_access(request)
    date_range = PageRange.from_request(request)
    context = {
        **_dashboard_figures(access, date_range),
        "date_range": date_range,
    }
    return render(request, "trace/dashboard.html", context)


def _dashboard_figures(access: CallerAccess, date_range: PageRange) -> dict[str, Any]:
    """The dashboard's projects and campaigns of the caller's organizations, with their
    figures of the range: from the read cache while none of those organizations' figures
    changed (trace/cache.py: every flush, conversion and edit of theirs retires it). The
    same for every member whatever their role (every role reads), so keyed by the
    organizations, the range and the time zone (today's date decides the metrics shown)."""
    organizations = sorted(str(pk) for pk in access.organization_ids(READ))
    if not organizations:  # nothing to read
        return _dashboard_read(access, date_range)
    return cached(
        "trace:dashboard",
        scopes=[organization_figures_scope(pk) for pk in organizations],
        parts=(
            tuple(organizations),
            date_range.choice,
            date_range.first,
            date_range.last,
            date_range.today,
            timezone.get_current_timezone_name(),
        ),
        build=lambda: _dashboard_read(access, date_range),
    )


def _dashboard_read(access: CallerAccess, date_range: PageRange) -> dict[str, Any]:
    projects = projects_with_latest_metric(access.scoped(Project.objects.live()))
    campaigns = campaigns_with_roi(
        campaigns_listed(access.scoped(Campaign.objects.all())),
        start=date_range.start,
        end=date_range.end,
    )
    with decimal.localcontext(MONEY_CONTEXT):  # exact, however large the sums
        totals = {
            "budget_usd": sum((c.stats.budget_usd for c in campaigns), Decimal("0")),
            "clicks": sum(c.stats.clicks for c in campaigns),
            "conversions": sum(c.stats.conversions for c in campaigns),
            "conversion_value_usd": sum(
                (c.stats.conversion_value_usd for c in campaigns), Decimal("0")
            ),
        }
    return {"projects": projects, "campaigns": campaigns, "totals": totals}


@require_GET
@signin_required
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    access = page_access(request)
    project = _project_of(access, project_id)
    return _project_page(request, access, project, BackfillStartForm(project=project))


@require_POST
@signin_required
def project_backfill(request: AuthenticatedHttpRequest, project_id) -> HttpResponse:
    """Start a backfill (members with write access): back to the project page, or the
    page again with the refusal on the form."""
    access = page_access(request)
    project = _project_of(access, project_id)
    if not access.allows(project.organization_id, WRITE):
        raise PermissionDenied
    form = BackfillStartForm(request.POST, project=project)
    if not form.is_valid():
        return _project_page(request, access, project, form, status=400)
    try:
        project_backfill_start(
            project=project,
            contract=form.cleaned_data["contract"] or None,
            from_block=form.cleaned_data["from_block"],
            started_by=request.user,
        )
    except ServiceError as refusal:  # shown on the form, with its code
        form.add_error(None, f"{refusal.detail} ({refusal.code})")
        return _project_page(request, access, project, form, status=refusal.status)
    return redirect("trace:project", project_id=project.pk)


def _project_of(access: CallerAccess, project_id) -> Project:
    return get_object_or_404(
        access.scoped(Project.objects.select_related("organization")), pk=project_id
    )


def _project_page(
    request: HttpRequest,
    access: CallerAccess,
    project: Project,
    backfill_form: BackfillStartForm,
    *,
    status: int = 200,
) -> HttpResponse:
    can_write = access.allows(project.organization_id, WRITE)
    recent_interactions = project_recent_interactions(project=project)
    date_range = PageRange.from_request(request)
    latest = project_latest_complete_metric(project, until=date_range.last)
    in_range = ActivityMetric.objects.filter(
        project=project, date__range=(date_range.first, date_range.last)
    )
    metrics = list(in_range.order_by("date").values("date", "dau", "wau", "mau"))
    in_range_totals = in_range.aggregate(
        transaction_count=Sum("transaction_count"), volume_usd=Sum("transaction_volume_usd")
    )
    chart = {
        "labels": [row["date"].isoformat() for row in metrics],
        "dau": [row["dau"] for row in metrics],
        "wau": [row["wau"] for row in metrics],
        "mau": [row["mau"] for row in metrics],
        # Today's metrics are of the day so far: drawn as a partial day.
        "partial_last": bool(metrics) and metrics[-1]["date"] == date_range.today,
    }
    context = {
        "project": project,
        "latest": latest,
        "score": _score_breakdown(latest),
        "in_range": in_range_totals,
        "chart": chart,
        "date_range": date_range,
        "campaigns": campaigns_with_roi(campaigns_listed(project.campaigns.all())),
        "contracts": project_contracts_status(project=project),
        "address_provider": project_address_provider(project=project),
        "address_syncs": project.address_syncs.all(),
        # The indexer, so a backfill, reads EVM chains only.
        "chain_indexed": is_evm_chain(project.chain),
        "backfill": project_latest_backfill(project),
        "backfill_form": backfill_form if can_write else None,
        "can_write": can_write,
        "ingest": project_ingest_state(project=project),
        "has_activity": bool(recent_interactions),
        "recent_interactions": recent_interactions,
    }
    return render(request, "trace/project_detail.html", context, status=status)


# (key in score_components, label) of the weighted parts of the activity score.
SCORE_PARTS = [("stickiness", "Stickiness"), ("growth", "Growth"), ("retention", "Retention")]


def _score_breakdown(metric: ActivityMetric | None) -> dict | None:
    """The stored components of the score as rows: measured value, points of the weight."""
    if metric is None:
        return None
    components = metric.score_components or {}
    weights = components.get("weights")
    if not isinstance(weights, dict):
        return None
    details = {
        "stickiness": f"DAU {metric.dau:,} of MAU {metric.mau:,}",
        "growth": f"MAU {components.get('mau_30_days_ago', 0):,} → {metric.mau:,} in 30 days",
        "retention": (
            f"{components.get('retained_wallets', 0):,} of last week's "
            f"{components.get('wau_7_days_ago', 0):,} wallets came back"
        ),
    }
    rows = []
    for key, label in SCORE_PARTS:
        if key not in weights:
            continue
        fraction = float(components.get(f"{key}_points") or 0)
        rows.append(
            {
                "key": key,
                "label": label,
                "detail": details[key],
                "measured": _percent(components.get(key), signed=key == "growth"),
                "fraction": fraction,
                "points": float(weights[key]) * fraction,
                "weight": float(weights[key]),
            }
        )
    return {
        "rows": rows,
        "bot_share": _percent(components.get("bot_share", 0)),
        "bot_penalty": float(components.get("bot_penalty") or 0),
    }


def _percent(value: SupportsFloat | str | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{float(value):+.1%}" if signed else f"{float(value):.1%}"
