"""PULSE's vitality pages: the teams, a team's dashboard (score gauges, trend, how each
score is made, leaderboard), a contributor's profile, the weekly reports.

Each view finds the team through `pulse.selectors.team_for_caller` (another
organization's team is a 404, as in the API); figures are read from what the last calculation stored
(`pulse.services.vitality`). Charts are drawn by static/pulse/charts.js from data handed
over with `json_script`: the CSP allows no inline script.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import READ, WRITE
from fabrknt.pages.decorators import page_view
from fabrknt.pages.htmx import redirect_to
from fabrknt.readcache import cached
from pulse.cache import team_scope
from pulse.models import Contributor, Team, WeeklyReport
from pulse.pages.sbt import token_rows
from pulse.selectors import team_for_caller
from pulse.services import vitality

Request = AuthenticatedHttpRequest


def _can_write(request: Request, team: Team) -> bool:
    return page_access(request).allows(team.organization_id, WRITE)


@page_view
def team_page(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=READ)
    context = {
        "team": team,
        # Who may see the team is decided above, per request; what it shows is the same
        # for every member until the next calculation (pulse/cache.py).
        **cached(
            "pulse:team-vitality",
            scopes=[team_scope(team.pk)],
            parts=(team.pk,),
            build=lambda: {
                "gauges": vitality.team_gauges(team=team),
                "explanation": vitality.team_explanation(team=team),
                "trend": vitality.team_trend(team=team),
                "leaderboard": vitality.team_leaderboard(team=team),
            },
        ),
        "reports": WeeklyReport.objects.filter(team=team).order_by("-week_start")[:4],
        "can_write": _can_write(request, team),
    }
    return render(request, "pulse/dashboard/team.html", context)


@require_POST
@page_view
def team_recalculate(request: Request, pulse_id: str) -> HttpResponse:
    """Queue a recalculation of the team's scores (members who may write)."""
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    from pulse.tasks import calculate_scores

    transaction.on_commit(lambda: calculate_scores.delay(str(team.pk)))
    messages.success(request, "Recalculation queued: the scores update in a moment.")
    return redirect_to(request, reverse("pulse_dashboard:team", args=[team.pulse_id]))


@page_view
def contributor_page(request: Request, pulse_id: str, contributor_id) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=READ)
    contributor = Contributor.objects.filter(team=team, pk=contributor_id).first()
    if contributor is None:
        raise Http404
    context = {
        "team": team,
        "contributor": contributor,
        "identities": vitality.contributor_identities(contributor=contributor),
        "activity": vitality.contributor_activity(contributor=contributor),
        "trend": vitality.contributor_trend(contributor=contributor),
        "tokens": token_rows(contributor),
    }
    return render(request, "pulse/dashboard/contributor.html", context)


@page_view
def reports_page(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=READ)
    reports = WeeklyReport.objects.filter(team=team).order_by("-week_start")
    return render(request, "pulse/dashboard/reports.html", {"team": team, "reports": reports})


@page_view
def report_page(request: Request, pulse_id: str, week_start: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=READ)
    try:
        day = dt.date.fromisoformat(week_start)
    except ValueError:
        raise Http404 from None
    report = WeeklyReport.objects.filter(team=team, week_start=day).first()
    if report is None:
        raise Http404
    context = {"team": team, "report": report, "body": report.body}
    return render(request, "pulse/dashboard/report.html", context)
