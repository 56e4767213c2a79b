"""The platform's GitHub App: which team an installation belongs to, and which
repositories that proves control of.

A team installs the App through its install link, which carries a signed state (the team
and the member, django.core.signing). GitHub sends the member back to our setup URL with
the installation id and that state; the installation itself is known from GitHub's
`installation` event (signed with the App's secret). Linking needs both: the state proves
who asked, the event proves that GitHub made the installation, after the state was issued.
Once linked, the installation's repositories are that team's alone (claim `app`) and other
teams' claims on them lapse.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditAction, User
from accounts.services.audit import audit_record
from fabrknt.api.errors import Conflict, InvalidInput, NotFound
from pulse.models import GitHubInstallation, RepositoryClaim, Team, TeamRepository
from pulse.services.github_payloads import (
    RepositoryRef,
    installation_event_parse,
    installation_repositories_event_parse,
)

_STATE_SALT = "pulse.github-app-install"
# Clocks differ between GitHub's event and our state by a little.
_CLOCK_SKEW = dt.timedelta(minutes=2)


def github_app_install_url(*, team: Team, user: User) -> str | None:
    """The App's install link for this team and member, or None when the App is not
    configured (GITHUB_APP_SLUG)."""
    if not settings.GITHUB_APP_SLUG:
        return None
    state = signing.dumps(
        {"team": str(team.pk), "user": str(user.pk), "at": int(time.time())}, salt=_STATE_SALT
    )
    query = urlencode({"state": state})
    return f"{settings.GITHUB_URL}/apps/{settings.GITHUB_APP_SLUG}/installations/new?{query}"


def github_install_state_read(*, state: str, user: User) -> tuple[Team, dt.datetime]:
    """The team of a signed install state, and when it was issued; InvalidInput when it is
    forged, expired or another member's."""
    try:
        data = signing.loads(
            state, salt=_STATE_SALT, max_age=settings.GITHUB_INSTALL_STATE_MAX_AGE_SECONDS
        )
    except signing.BadSignature:  # SignatureExpired included
        raise InvalidInput(
            "This install link is invalid or expired: start again from the team."
        ) from None
    if not isinstance(data, dict) or data.get("user") != str(user.pk):
        raise InvalidInput("This install link was made for another member.")
    team = Team.objects.filter(pk=str(data.get("team"))).first()
    if team is None:
        raise NotFound()
    return team, dt.datetime.fromtimestamp(int(data.get("at", 0)), tz=dt.UTC)


@transaction.atomic
def github_installation_link(
    *,
    team: Team,
    installation_id: int,
    state_issued_at: dt.datetime,
    actor: User | None = None,
) -> GitHubInstallation:
    """Link an installation to the team (the caller checked the state and the member's
    right to manage the team). Conflict `installation_pending` while GitHub's event has not
    arrived; Conflict when the installation predates the state or is another team's."""
    installation = (
        GitHubInstallation.objects.select_for_update()
        .filter(installation_id=installation_id)
        .first()
    )
    if installation is None or installation.removed_at is not None:
        raise Conflict(
            "GitHub has not told us about this installation yet; this page tries again.",
            code="installation_pending",
        )
    if installation.team_id == team.pk:
        return installation
    if installation.team_id is not None or installation.created_at < state_issued_at - _CLOCK_SKEW:
        raise Conflict("This installation is linked elsewhere or older than the install link.")
    installation.team = team
    installation.linked_at = timezone.now()
    installation.save(update_fields=["team", "linked_at"])
    for repository in installation.covered_repositories:
        repository_app_link(
            installation=installation, repository=RepositoryRef.model_validate(repository)
        )
    audit_record(
        organization_id=team.organization_id,
        actor=actor,
        action=AuditAction.PULSE_TEAM_GITHUB_LINKED,
        target=team,
        details={
            "installation_id": installation_id,
            "account": installation.account_login,
            "repositories": [str(r.get("full_name")) for r in installation.covered_repositories],
        },
    )
    return installation


def repository_app_link(
    *, installation: GitHubInstallation, repository: RepositoryRef
) -> TeamRepository:
    """The installation's team now holds the repository through the App: other teams'
    claims on it lapse."""
    assert installation.team_id is not None
    full_name = repository.full_name.lower()
    now = timezone.now()
    TeamRepository.objects.filter(full_name=full_name, lapsed_at__isnull=True).exclude(
        team_id=installation.team_id
    ).update(lapsed_at=now)
    claim, _ = TeamRepository.objects.update_or_create(
        team_id=installation.team_id,
        full_name=full_name,
        defaults={
            "claim": RepositoryClaim.APP,
            "installation": installation,
            "github_repository_id": repository.id,
            "verified_at": now,
            "lapsed_at": None,
        },
    )
    return claim


def _repository_app_unlink(*, installation: GitHubInstallation, full_names: list[str]) -> int:
    return TeamRepository.objects.filter(
        installation=installation,
        claim=RepositoryClaim.APP,
        full_name__in=[name.lower() for name in full_names],
        lapsed_at__isnull=True,
    ).update(lapsed_at=timezone.now())


def installation_event_apply(*, event: str, payload: Any) -> str:
    """Apply an `installation` or `installation_repositories` event (App-signed only);
    what it did, for the delivery log."""
    if event == "installation":
        return _installation(payload)
    return _installation_repositories(payload)


def _installation(payload: Any) -> str:
    parsed = installation_event_parse(payload)
    account = parsed.installation.account
    installation, _ = GitHubInstallation.objects.select_for_update().get_or_create(
        installation_id=parsed.installation.id,
        defaults={
            "account_login": account.login if account else "",
            "account_type": account.type if account else "",
        },
    )
    now = timezone.now()
    if parsed.action == "created":
        installation.covered_repositories = [r.model_dump() for r in parsed.repositories or []]
        installation.removed_at = None
        installation.save(update_fields=["covered_repositories", "removed_at"])
        if installation.team_id is not None:
            for repository in parsed.repositories or []:
                repository_app_link(installation=installation, repository=repository)
        return f"installation {installation.installation_id} created"
    if parsed.action == "deleted":
        installation.removed_at = now
        installation.save(update_fields=["removed_at"])
        names = [str(r["full_name"]) for r in installation.covered_repositories]
        lapsed = _repository_app_unlink(installation=installation, full_names=names)
        return f"installation {installation.installation_id} deleted, {lapsed} claims lapsed"
    if parsed.action in {"suspend", "unsuspend"}:
        installation.suspended_at = now if parsed.action == "suspend" else None
        installation.save(update_fields=["suspended_at"])
    return f"installation {parsed.action}"


def _installation_repositories(payload: Any) -> str:
    parsed = installation_repositories_event_parse(payload)
    installation, _ = GitHubInstallation.objects.select_for_update().get_or_create(
        installation_id=parsed.installation.id,
        defaults={
            "account_login": parsed.installation.account.login
            if parsed.installation.account
            else ""
        },
    )
    removed = {r.full_name.lower() for r in parsed.repositories_removed}
    covered = {
        str(r["full_name"]).lower(): r
        for r in installation.covered_repositories
        if str(r["full_name"]).lower() not in removed
    }
    for repository in parsed.repositories_added:
        covered[repository.full_name.lower()] = repository.model_dump()
    installation.covered_repositories = list(covered.values())
    installation.save(update_fields=["covered_repositories"])
    if installation.team_id is not None:
        for repository in parsed.repositories_added:
            repository_app_link(installation=installation, repository=repository)
    lapsed = _repository_app_unlink(installation=installation, full_names=list(removed))
    return (
        f"{len(parsed.repositories_added)} added, {len(removed)} removed ({lapsed} claims lapsed)"
    )
