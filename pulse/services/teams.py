"""Teams: creating one, its repository claims and the secret of its repository webhooks."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, Organization, User
from accounts.services.audit import audit_record
from fabrknt.api.errors import InvalidInput
from pulse.models import RepositoryClaim, Team, TeamRepository

# GitHub: an owner is 1-39 alphanumerics or single hyphens; a repository name is up to 100
# of letters, digits, `.`, `-` and `_` (and is neither `.` nor `..`).
_REPOSITORY = re.compile(
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})"
)
# Discord snowflakes are 64-bit integers written in decimal.
_SNOWFLAKE = re.compile(r"[1-9][0-9]{15,19}")
MAX_REPOSITORIES = 100
TEAM_NAME_MAX = 200


def repository_name_normalize(*, full_name: str) -> str:
    """`owner/repo` in lower case (GitHub matches names case-insensitively), or InvalidInput."""
    value = full_name.strip() if isinstance(full_name, str) else ""
    match = _REPOSITORY.fullmatch(value)
    if match is None or match["name"] in {".", ".."}:
        raise InvalidInput(f"{value[:120]!r} is not a GitHub repository (owner/repo).")
    return value.lower()


def repository_names_normalize(*, full_names: Iterable[str]) -> list[str]:
    """Normalized and de-duplicated, order kept; errors name the offending item."""
    result: list[str] = []
    for index, full_name in enumerate(full_names):
        if index >= MAX_REPOSITORIES:
            raise InvalidInput(fields={"github_repos": [f"At most {MAX_REPOSITORIES}."]})
        try:
            normalized = repository_name_normalize(full_name=full_name)
        except InvalidInput as error:
            raise InvalidInput(fields={"github_repos": [f"Item {index}: {error.detail}"]}) from None
        if normalized not in result:
            result.append(normalized)
    return result


def discord_guild_id_normalize(*, guild_id: str) -> str:
    value = guild_id.strip() if isinstance(guild_id, str) else ""
    if value and not _SNOWFLAKE.fullmatch(value):
        raise InvalidInput(fields={"discord_guild_id": ["A Discord server id (a snowflake)."]})
    return value


def webhook_secret_generate() -> str:
    """A repository webhook secret: 256 random bits, as GitHub's settings page accepts it."""
    return secrets.token_hex(32)


def team_github_webhook_url(*, team: Team) -> str:
    """The URL a team gives its repositories' webhooks: `/api/v1/github/webhook?team=…`."""
    path = reverse("pulse-github-webhook") + "?" + urlencode({"team": team.pulse_id})
    return f"{settings.PUBLIC_BASE_URL}{path}"


@dataclass(frozen=True)
class TeamCreated:
    team: Team
    # Shown once, here; only its encrypted form is kept.
    github_webhook_secret: str


@transaction.atomic
def team_create(
    *,
    organization: Organization,
    team_name: str,
    github_repos: Iterable[str] = (),
    discord_guild_id: str = "",
    actor: User | None = None,
) -> TeamCreated:
    """A new team with its repository claims (self-reported until the App proves them) and
    a fresh repository webhook secret."""
    name = team_name.strip()
    if not name or len(name) > TEAM_NAME_MAX:
        raise InvalidInput(
            fields={"team_name": [f"Enter a name of 1 to {TEAM_NAME_MAX} characters."]}
        )
    repositories = repository_names_normalize(full_names=github_repos)
    guild_id = discord_guild_id_normalize(guild_id=discord_guild_id)
    secret = webhook_secret_generate()
    team = Team.objects.create(
        organization=organization,
        team_name=name,
        discord_guild_id=guild_id,
        github_webhook_secret=secret,
        github_webhook_secret_rotated_at=timezone.now(),
        created_by=actor if isinstance(actor, User) and actor.pk else None,
    )
    team_repositories_claim(team=team, full_names=repositories)
    audit_record(
        organization_id=organization.pk,
        actor=actor,
        action=AuditAction.PULSE_TEAM_CREATED,
        target=team,
        details={"pulse_id": team.pulse_id, "github_repos": repositories},
    )
    return TeamCreated(team=team, github_webhook_secret=secret)


def team_repositories_claim(*, team: Team, full_names: Iterable[str]) -> list[TeamRepository]:
    """Claims (self-reported) on already normalized names; existing claims are kept as
    they are. A repository another team holds through the App is claimed lapsed at once:
    its events stay that team's alone."""
    claimed = []
    for full_name in full_names:
        held_elsewhere = (
            TeamRepository.objects.filter(
                full_name=full_name, claim=RepositoryClaim.APP, lapsed_at__isnull=True
            )
            .exclude(team=team)
            .exists()
        )
        repository, _ = TeamRepository.objects.get_or_create(
            team=team,
            full_name=full_name,
            defaults={
                "claim": RepositoryClaim.WEBHOOK,
                "lapsed_at": timezone.now() if held_elsewhere else None,
            },
        )
        claimed.append(repository)
    return claimed


@transaction.atomic
def team_github_secret_rotate(*, team: Team, actor: User | None = None) -> str:
    """A new repository webhook secret (returned once); the old one stops working at once."""
    secret = webhook_secret_generate()
    team.github_webhook_secret = secret
    team.github_webhook_secret_rotated_at = timezone.now()
    team.save(update_fields=["github_webhook_secret", "github_webhook_secret_rotated_at"])
    audit_record(
        organization_id=team.organization_id,
        actor=actor,
        action=AuditAction.PULSE_TEAM_SECRET_ROTATED,
        target=team,
        details={"pulse_id": team.pulse_id},
    )
    return secret
