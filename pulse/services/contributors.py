"""Contributors: who a team counts, by wallet, and the identities their activity arrives
under. Activity from an identity nobody has claimed yet waits (`contributor` empty) and is
attached when a contributor claims it, here or by linking it through OAuth."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.services.wallets import wallet_address_parse
from fabrknt.api.errors import Conflict, InvalidInput
from pulse.models import Contribution, Contributor, Platform, Team

# GitHub logins: 1-39 alphanumerics or single hyphens, not starting or ending with one.
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_SNOWFLAKE = re.compile(r"[1-9][0-9]{15,19}")


def github_login_normalize(*, login: str) -> str:
    """A GitHub login in lower case (GitHub matches logins case-insensitively); '' stays ''."""
    value = login.strip() if isinstance(login, str) else ""
    if value.startswith("@"):
        value = value[1:]
    if value and not _GITHUB_LOGIN.fullmatch(value):
        raise InvalidInput(fields={"github_username": ["Not a GitHub username."]})
    return value.lower()


def discord_id_normalize(*, discord_id: str) -> str:
    value = discord_id.strip() if isinstance(discord_id, str) else ""
    if value and not _SNOWFLAKE.fullmatch(value):
        raise InvalidInput(fields={"discord_id": ["A Discord user id (a snowflake, digits)."]})
    return value


@dataclass(frozen=True)
class ContributorAdded:
    contributor: Contributor
    created: bool


def contributor_add(
    *, team: Team, wallet_address: str, github_username: str = "", discord_id: str = ""
) -> ContributorAdded:
    """A contributor of `team`, unique per wallet. A repeat with the same identities (or
    none given) returns the existing one; other identities for that wallet are a Conflict,
    as is an identity another contributor of the team already holds. Activity waiting
    under the identities is attached to the new contributor."""
    parsed = wallet_address_parse(address=wallet_address if isinstance(wallet_address, str) else "")
    if parsed is None:
        raise InvalidInput(fields={"wallet_address": ["Not an EVM or Solana address."]})
    login = github_login_normalize(login=github_username)
    discord = discord_id_normalize(discord_id=discord_id)
    existing = Contributor.objects.filter(team=team, wallet_address=parsed.address).first()
    if existing is not None:
        return ContributorAdded(_same_or_conflict(existing, login, discord), created=False)
    _identities_free(team=team, github_login=login, discord_id=discord)
    try:
        with transaction.atomic():
            contributor = Contributor.objects.create(
                team=team,
                wallet_address=parsed.address,
                wallet_namespace=parsed.namespace,
                github_login=login,
                discord_id=discord,
            )
            contributions_attach(contributor=contributor)
    except IntegrityError:
        # A concurrent add of the same wallet or identity won: answer as a repeat would.
        existing = Contributor.objects.filter(team=team, wallet_address=parsed.address).first()
        if existing is None:
            raise Conflict("Another contributor of this team has that identity.") from None
        return ContributorAdded(_same_or_conflict(existing, login, discord), created=False)
    return ContributorAdded(contributor, created=True)


def _same_or_conflict(contributor: Contributor, login: str, discord: str) -> Contributor:
    if (login and login != contributor.github_login) or (
        discord and discord != contributor.discord_id
    ):
        raise Conflict("This wallet is already a contributor of the team, with other identities.")
    return contributor


def _identities_free(*, team: Team, github_login: str, discord_id: str) -> None:
    others = Contributor.objects.filter(team=team)
    if github_login and others.filter(github_login=github_login).exists():
        raise Conflict(f"Another contributor of this team is {github_login!r} on GitHub.")
    if discord_id and others.filter(discord_id=discord_id).exists():
        raise Conflict("Another contributor of this team has that Discord id.")


def contributions_attach(*, contributor: Contributor) -> int:
    """Attach the team's unclaimed contributions made under the contributor's identities
    (GitHub login, Discord id, Notion user id); move `last_active_at` forward to the latest
    of them. Returns how many were attached. Call it whenever an identity is set."""
    identities = {
        Platform.GITHUB: contributor.github_login,
        Platform.DISCORD: contributor.discord_id,
        Platform.NOTION: contributor.notion_user_id,
    }
    attached = 0
    for platform, login in identities.items():
        if not login:
            continue
        attached += Contribution.objects.filter(
            team_id=contributor.team_id,
            contributor__isnull=True,
            platform=platform,
            source_login=login,
        ).update(contributor=contributor)
    if attached:
        latest = Contribution.objects.filter(contributor=contributor).aggregate(
            latest=Max("occurred_at")
        )["latest"]
        if latest is not None and (
            contributor.last_active_at is None or latest > contributor.last_active_at
        ):
            contributor.last_active_at = latest
            contributor.save(update_fields=["last_active_at"])
    return attached
