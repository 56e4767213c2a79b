"""The Discord install link of a team, and the page Discord sends the installer back to.

The install page is for the team's members who may write; the return page needs no
sign-in (the server admin who adds the bot may have no account here): the signed,
single-use state names the team, and Discord's answer to the code names the guild.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import WRITE, caller_access
from fabrknt.api.errors import ServiceError
from fabrknt.pages.decorators import page_view
from pulse.models import Team
from pulse.services.discord_install import discord_install_complete, discord_install_url


@page_view
def install(request: AuthenticatedHttpRequest, pulse_id: str) -> HttpResponse:
    team = caller_access(user=request.user).get(
        Team.objects.select_related("organization"), WRITE, pulse_id=pulse_id
    )
    hours = int(settings.DISCORD_INSTALL_LINK_TTL.total_seconds() // 3600)
    context: dict[str, object] = {"team": team, "ttl_hours": hours}
    try:
        context["install_url"] = discord_install_url(team=team)
    except ServiceError as refusal:  # the integration is not configured
        context["unavailable"] = refusal.detail
    return render(request, "pulse/discord/install.html", context)


@require_GET
def installed(request: HttpRequest) -> HttpResponse:
    query = request.GET
    if query.get("error"):
        return _not_connected(request, "The bot was not added.", status=400)
    try:
        team = discord_install_complete(
            state=query.get("state", ""),
            code=query.get("code", ""),
            guild_id=query.get("guild_id", ""),
        )
    except ServiceError as refusal:
        return _not_connected(request, refusal.detail, status=refusal.status)
    context = {
        "title": "Discord server connected",
        "detail": f"Activity in this server now counts for {team.team_name}. "
        "Any other team's claim on the server has lapsed.",
        "team": team,
    }
    return render(request, "pulse/discord/installed.html", context)


def _not_connected(request: HttpRequest, detail: str, *, status: int) -> HttpResponse:
    context = {"title": "Discord server not connected", "detail": detail}
    return render(request, "pulse/discord/installed.html", context, status=status)
