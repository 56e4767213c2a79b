"""A team's Discord install link: our bot's authorization URL carrying the team's signed
state; the redirect back links the guild the bot was added to to that team.

Only someone with "Manage Server" in a guild can add a bot to it, so a completed install
proves that a server admin chose this team: the guild becomes the team's alone (verified)
and every other team's claim on it lapses. The guild is the one Discord's token endpoint
names (`guild` in its answer for the `bot` scope), which the redirect's `guild_id` must
agree with; the code is exchanged once, and the state is single use.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fabrknt.api.errors import NotFound
from pulse.models import Team
from pulse.services.oauth import (
    OAuthRefused,
    discord_authorize_url,
    discord_code_exchange,
    oauth_state_make,
    oauth_state_spend,
)

INSTALL_PURPOSE = "discord-install"
BOT_SCOPE = "bot applications.commands"


def discord_install_redirect_uri() -> str:
    """Where Discord sends the installer back (register it in the application's OAuth2
    redirects)."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('pulse-discord:installed')}"


def discord_install_url(*, team: Team) -> str:
    """The team's install link (valid DISCORD_INSTALL_LINK_TTL, once): a member may send it
    to the server's admin."""
    return discord_authorize_url(
        state=oauth_state_make(purpose=INSTALL_PURPOSE, subject=team.pulse_id),
        redirect_uri=discord_install_redirect_uri(),
        scope=BOT_SCOPE,
        permissions=str(settings.DISCORD_BOT_PERMISSIONS),
    )


def discord_install_complete(*, state: str, code: str, guild_id: str = "") -> Team:
    """Link the guild the bot was just added to to the team of `state`."""
    pulse_id = oauth_state_spend(
        state=state, purpose=INSTALL_PURPOSE, max_age=settings.DISCORD_INSTALL_LINK_TTL
    )
    team = Team.objects.filter(pulse_id=pulse_id).first()
    if team is None:
        raise NotFound("This team no longer exists.")
    token = discord_code_exchange(code=code, redirect_uri=discord_install_redirect_uri())
    guild = token.get("guild")
    installed = str(guild.get("id", "")) if isinstance(guild, dict) else ""
    if not installed.isdigit() or len(installed) > 32:
        raise OAuthRefused("Discord did not say which server the bot was added to.")
    if guild_id and guild_id != installed:
        raise OAuthRefused("The server in the link is not the one the bot was added to.")
    return discord_guild_link(team=team, guild_id=installed)


def discord_guild_link(*, team: Team, guild_id: str) -> Team:
    """The guild is `team`'s alone from now on: the other teams' claims on it lapse."""
    now = timezone.now()
    with transaction.atomic():
        Team.objects.filter(
            discord_guild_id=guild_id, discord_guild_lapsed_at__isnull=True
        ).exclude(pk=team.pk).update(discord_guild_lapsed_at=now)
        Team.objects.filter(pk=team.pk).update(
            discord_guild_id=guild_id, discord_guild_verified_at=now, discord_guild_lapsed_at=None
        )
    team.refresh_from_db()
    return team
