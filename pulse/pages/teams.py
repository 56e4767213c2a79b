"""PULSE team pages: create a team, its settings (connect GitHub by the App or a
repository webhook, rotate the webhook secret, claim repositories), add contributors, and
the GitHub App's setup URL. The vitality dashboards are elsewhere (pulsescores).

Each view finds the team through `pulse.selectors.team_for_caller` with the access its
action needs, so another organization's team is a 404 and a forbidden POST a 403, as in the API.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import current_membership, memberships_of, page_access
from accounts.selectors import MANAGE, READ, WRITE
from fabrknt.api.errors import Conflict, InvalidInput
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from pulse.models import Team
from pulse.pages import team_forms as f
from pulse.selectors import team_for_caller
from pulse.services.contributors import contributor_add
from pulse.services.github_app import (
    github_app_install_url,
    github_install_state_read,
    github_installation_link,
)
from pulse.services.teams import (
    repository_names_normalize,
    team_create,
    team_github_secret_rotate,
    team_github_webhook_url,
    team_repositories_claim,
)

Request = AuthenticatedHttpRequest


def _settings_url(team: Team) -> str:
    return reverse("pulse:team-settings", args=[team.pulse_id])


def _secret_page(request: Request, team: Team, secret: str, *, created: bool) -> HttpResponse:
    # Rendered, not redirected: the secret is never kept to be shown later.
    context = {
        "team": team,
        "secret": secret,
        "webhook_url": team_github_webhook_url(team=team),
        "created": created,
    }
    response = render(request, "pulse/teams/secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@page_view
def team_list(request: Request) -> HttpResponse:
    access = page_access(request)
    teams = (
        access.scoped(Team.objects.select_related("organization"))
        .annotate(
            contributor_count=Count("contributors", distinct=True),
            repository_count=Count(
                "repositories", filter=Q(repositories__lapsed_at__isnull=True), distinct=True
            ),
        )
        .order_by("organization__name", "team_name")
    )
    can_create = any(access.allows(m.organization_id, WRITE) for m in memberships_of(request))
    return render(request, "pulse/teams/list.html", {"teams": teams, "can_create": can_create})


@page_view
def team_create_page(request: Request) -> HttpResponse:
    access = page_access(request)
    writable = [m for m in memberships_of(request) if access.allows(m.organization_id, WRITE)]
    current = current_membership(request)
    initial = {"organization": current.organization_id if current in writable else None}
    choices = [(str(m.organization_id), m.organization.name) for m in writable]
    form = f.TeamCreateForm(posted(request), initial=initial, organizations=choices)
    if submitted(request):
        created = form.submit(
            lambda: team_create(
                organization=access.organization(form.cleaned_data["organization"], WRITE),
                team_name=form.cleaned_data["team_name"],
                github_repos=form.cleaned_data["github_repos"],
                discord_guild_id=form.cleaned_data["discord_guild_id"],
                actor=request.user,
            )
        )
        if created is not None:
            return _secret_page(request, created.team, created.github_webhook_secret, created=True)
    context: dict[str, object] = {"has_writable_organization": bool(writable)}
    return form_page(request, "pulse/teams/create.html", context, form)


@page_view
def team_settings(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=READ)
    access = page_access(request)
    can_manage = access.allows(team.organization_id, MANAGE)
    can_write = access.allows(team.organization_id, WRITE)
    context = {
        "team": team,
        "can_manage": can_manage,
        "can_write": can_write,
        "repositories": team.repositories.select_related("installation").order_by("full_name"),
        "contributors": team.contributors.order_by("-contribution_score", "wallet_address"),
        "webhook_url": team_github_webhook_url(team=team),
        "install_url": github_app_install_url(team=team, user=request.user) if can_manage else None,
        "repositories_form": f.RepositoriesAddForm(),
        "contributor_form": f.ContributorAddForm(),
    }
    return render(request, "pulse/teams/settings.html", context)


@page_view
def team_repositories_add(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    form = f.RepositoriesAddForm(posted(request))
    if submitted(request):
        claims = form.submit(
            lambda: team_repositories_claim(
                team=team,
                full_names=repository_names_normalize(full_names=form.cleaned_data["github_repos"]),
            )
        )
        if claims is not None:
            lapsed = [c.full_name for c in claims if c.lapsed_at is not None]
            messages.success(request, f"{len(claims)} repositories claimed.")
            if lapsed:
                messages.warning(
                    request, f"Held by another team through the GitHub App: {', '.join(lapsed)}."
                )
            return redirect_to(request, _settings_url(team))
    return form_page(request, "pulse/teams/repositories_add.html", {"team": team}, form)


@page_view
def team_contributor_add(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=WRITE)
    form = f.ContributorAddForm(posted(request))
    if submitted(request):
        added = form.submit(lambda: contributor_add(team=team, **form.cleaned_data))
        if added is not None:
            who = added.contributor.github_login or added.contributor.wallet_address
            messages.success(
                request, f"{who} {'added' if added.created else 'was already a contributor'}."
            )
            return redirect_to(request, _settings_url(team))
    return form_page(request, "pulse/teams/contributor_add.html", {"team": team}, form)


@page_view
def team_secret_rotate(request: Request, pulse_id: str) -> HttpResponse:
    team = team_for_caller(access=page_access(request), pulse_id=pulse_id, kind=MANAGE)
    form = f.SecretRotateForm(posted(request))
    if submitted(request):
        secret = form.submit(lambda: team_github_secret_rotate(team=team, actor=request.user))
        if secret is not None:
            return _secret_page(request, team, secret, created=False)
    return form_page(request, "pulse/teams/secret_rotate.html", {"team": team}, form)


@page_view
def github_setup(request: Request) -> HttpResponse:
    """The GitHub App's setup URL: GitHub sends the member back here after an install,
    with `installation_id` and our signed `state`."""
    try:
        installation_id = int(request.GET.get("installation_id", ""))
        team, issued_at = github_install_state_read(
            state=request.GET.get("state", ""), user=request.user
        )
    except (ValueError, InvalidInput) as error:
        detail = getattr(error, "detail", "GitHub's answer is missing the installation.")
        return render(request, "pulse/teams/github_setup.html", {"error": detail}, status=400)
    team = team_for_caller(access=page_access(request), pulse_id=team.pulse_id, kind=MANAGE)
    try:
        github_installation_link(
            team=team,
            installation_id=installation_id,
            state_issued_at=issued_at,
            actor=request.user,
        )
    except Conflict as error:
        pending = error.code == "installation_pending"
        context = {"team": team, "pending": pending, "error": error.detail}
        return render(
            request, "pulse/teams/github_setup.html", context, status=200 if pending else 409
        )
    messages.success(request, "GitHub App installed: its repositories are verified for this team.")
    return redirect_to(request, _settings_url(team))
