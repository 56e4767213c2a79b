"""Linking one's GitHub and Discord identities ("Your account"): the section on the
account page, the button that leaves for the provider, and the callback it returns to.

The account page (accounts) knows nothing of PULSE: it renders the sections listed in
ACCOUNT_PAGE_SECTIONS, this module's `account_section` among them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from fabrknt.api.errors import ServiceError
from fabrknt.pages.decorators import refusals_as_pages
from pulse.models import IdentityStatus
from pulse.services.identity import (
    IDENTITY_COLUMNS,
    IdentityProvider,
    identity_link_complete,
    identity_link_start,
    user_contributors,
)

signin_required = login_required(login_url="signin")
_CONFIGURED = {
    IdentityProvider.GITHUB: ("GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET"),
    IdentityProvider.DISCORD: ("DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET"),
}
_LABELS = {IdentityProvider.GITHUB: "GitHub", IdentityProvider.DISCORD: "Discord"}


def _provider(name: str) -> IdentityProvider:
    try:
        return IdentityProvider(name)
    except ValueError:
        raise Http404("No such provider.") from None


def identity_rows(request: AuthenticatedHttpRequest) -> list[dict[str, object]]:
    """One row per provider for templates/pulse/identity/_identity_list.html (also shown on
    a contributor's invitation page, pulse.pages.invite)."""
    contributors = list(user_contributors(user=request.user).select_related("team"))
    rows: list[dict[str, object]] = []
    for provider in IdentityProvider:
        column, status, _ = IDENTITY_COLUMNS[provider]
        linked = sorted(
            {
                str(getattr(c, column))
                for c in contributors
                if getattr(c, status) == IdentityStatus.LINKED
            }
        )
        rows.append(
            {
                "provider": provider.value,
                "label": _LABELS[provider],
                "linked": linked,
                "teams": len({c.team_id for c in contributors}),
                "configured": all(getattr(settings, name) for name in _CONFIGURED[provider]),
            }
        )
    return rows


def account_section(request: AuthenticatedHttpRequest) -> SafeString:
    """The "Linked identities" section of the account page."""
    context = {"identities": identity_rows(request)}
    return render_to_string("pulse/identity/_account_section.html", context, request=request)


# A link, not a form: the page's CSP allows forms to post (and be redirected) only to us,
# and starting the flow changes nothing here (the state is signed, not stored).
@require_GET
@signin_required
@refusals_as_pages
def link_start(request: AuthenticatedHttpRequest, provider: str) -> HttpResponse:
    chosen = _provider(provider)
    try:
        url = identity_link_start(user=request.user, provider=chosen)
    except ServiceError as refusal:
        messages.error(request, refusal.detail)
        return redirect("account:home")
    return HttpResponseRedirect(url)


@require_GET
@signin_required
@refusals_as_pages
def link_callback(request: AuthenticatedHttpRequest, provider: str) -> HttpResponse:
    chosen = _provider(provider)
    label = _LABELS[chosen]
    if request.GET.get("error"):
        messages.info(request, f"{label} was not linked: you cancelled on {label}.")
        return redirect("account:home")
    try:
        linked = identity_link_complete(
            user=request.user,
            provider=chosen,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
        )
    except ServiceError as refusal:
        messages.error(request, f"{label} was not linked. {refusal.detail}")
        return redirect("account:home")
    shown = (
        f"@{linked.identity.name}" if chosen is IdentityProvider.GITHUB else linked.identity.name
    )
    teams = f"{linked.contributors} team{'s' if linked.contributors != 1 else ''}"
    earlier = (
        "1 earlier contribution now counts"
        if linked.attached == 1
        else f"{linked.attached} earlier contributions now count"
    )
    messages.success(
        request, f"{label} {shown} is linked to your wallet in {teams}; {earlier} for you."
    )
    return redirect("account:home")
