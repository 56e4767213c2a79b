"""Inviting a contributor: the shareable link a team member gets from the team's settings,
and the public page it opens, where the person behind the contributor's wallet signs in
and links GitHub and Discord (the buttons of pulse.pages.identity).

The invitation page shows nothing of the team beyond its name to anyone but the invited
wallet, and changes nothing: the linking itself is pulse.pages.identity's.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import WRITE
from fabrknt.api.errors import InvalidInput, NotFound
from fabrknt.pages.decorators import page_view, refusals_as_pages
from pulse.models import Contributor, IdentityStatus
from pulse.pages.identity import identity_rows
from pulse.selectors import team_for_caller
from pulse.services.identity import IDENTITY_COLUMNS, IdentityProvider, user_contributors
from pulse.services.invites import invite_read, invite_url

_LABELS = {IdentityProvider.GITHUB: "GitHub", IdentityProvider.DISCORD: "Discord"}


@page_view
def contributor_invite(
    request: AuthenticatedHttpRequest, pulse_id: str, contributor_id: str
) -> HttpResponse:
    """For members who can write to the team: the contributor's invitation link."""
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    contributor = team.contributors.filter(pk=contributor_id).first()
    if contributor is None:
        raise NotFound("No such contributor in this team.")
    contributor.team = team
    link = invite_url(contributor=contributor)
    context = {
        "team": team,
        "contributor": contributor,
        "link": link,
        "max_age_days": settings.PULSE_INVITE_MAX_AGE_DAYS,
    }
    response = render(request, "pulse/invite/link.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _left_to_do(contributor: Contributor) -> list[str]:
    """The providers this contributor has not linked yet."""
    return [
        _LABELS[provider]
        for provider in IdentityProvider
        if getattr(contributor, IDENTITY_COLUMNS[provider][1]) != IdentityStatus.LINKED
    ]


@require_GET
@refusals_as_pages
def invite_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invitation link opens (public)."""
    try:
        invite = invite_read(token=token)
    except (InvalidInput, NotFound) as refusal:
        refused = {"error": refusal.detail, "code": refusal.code}
        return render(request, "pulse/invite/invalid.html", refused, status=refusal.status)
    contributor = invite.contributor
    context: dict[str, object] = {
        "team_name": contributor.team.team_name,
        "wallet": contributor.wallet_address,
        "max_age_days": invite.max_age_days,
    }
    user = request.user
    if not user.is_authenticated:
        context["state"] = "anonymous"
        context["signin_url"] = f"{reverse('signin')}?{urlencode({'next': request.path})}"
    elif not user_contributors(user=user).filter(pk=contributor.pk).exists():
        context["state"] = "other_wallet"
    else:
        context["state"] = "invited"
        context["identities"] = identity_rows(cast(AuthenticatedHttpRequest, request))
        context["left"] = _left_to_do(contributor)
    response = render(request, "pulse/invite/invite.html", context)
    response["Cache-Control"] = "no-store"
    return response
