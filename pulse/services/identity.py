"""Identity linking: a contributor proves the GitHub login or Discord id their activity
arrives under, through the provider's OAuth web flow, signed in with their wallet.

Until then an identity a team admin typed is `asserted`. Linking marks it `linked` on
every Contributor row of the user's wallets (in every team), takes it from any other
contributor of those teams who merely held it (proof beats assertion; the activity made
under it moves with it), lets go of activity attached under a different identity the row
held before, and attaches the team's unclaimed activity made under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_wallets
from pulse.models import Contribution, Contributor, IdentityStatus, Platform
from pulse.services.contributors import contributions_attach
from pulse.services.oauth import (
    OAuthStateInvalid,
    ProviderIdentity,
    discord_authorize_url,
    discord_identity_fetch,
    github_authorize_url,
    github_identity_fetch,
    oauth_state_make,
    oauth_state_spend,
)


class IdentityProvider(StrEnum):
    GITHUB = "github"
    DISCORD = "discord"


# The Contributor columns of each provider: (identity, its status, when linked).
IDENTITY_COLUMNS = {
    IdentityProvider.GITHUB: ("github_login", "github_identity", "github_linked_at"),
    IdentityProvider.DISCORD: ("discord_id", "discord_identity", "discord_linked_at"),
}


@dataclass(frozen=True)
class IdentityLinked:
    provider: IdentityProvider
    identity: ProviderIdentity
    contributors: int  # rows marked linked
    attached: int  # contributions that now count for the user


def identity_redirect_uri(*, provider: IdentityProvider) -> str:
    """The callback registered with the provider's OAuth application."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('pulse-identity:callback', args=[provider.value])}"


def user_contributors(*, user: User) -> QuerySet[Contributor]:
    """The Contributor rows of the user's wallets, in every team."""
    addresses = list(user_wallets(user=user).values_list("address", flat=True))
    return Contributor.objects.filter(wallet_address__in=addresses)


def identity_link_start(*, user: User, provider: IdentityProvider) -> str:
    """The provider's authorization URL, with a state naming this user (signed, once)."""
    state = oauth_state_make(purpose=f"link-{provider.value}", subject=str(user.pk))
    redirect_uri = identity_redirect_uri(provider=provider)
    if provider is IdentityProvider.GITHUB:
        return github_authorize_url(state=state, redirect_uri=redirect_uri)
    return discord_authorize_url(state=state, redirect_uri=redirect_uri, scope="identify")


def identity_link_complete(
    *, user: User, provider: IdentityProvider, state: str, code: str
) -> IdentityLinked:
    """Check the state (this user's, unused), exchange the code, link the identity."""
    if oauth_state_spend(state=state, purpose=f"link-{provider.value}") != str(user.pk):
        raise OAuthStateInvalid()
    redirect_uri = identity_redirect_uri(provider=provider)
    if provider is IdentityProvider.GITHUB:
        identity = github_identity_fetch(code=code, redirect_uri=redirect_uri)
    else:
        identity = discord_identity_fetch(code=code, redirect_uri=redirect_uri)
    return identity_link(user=user, provider=provider, identity=identity)


def identity_link(
    *, user: User, provider: IdentityProvider, identity: ProviderIdentity
) -> IdentityLinked:
    """Mark the proven identity linked on the user's contributors (see the module doc)."""
    column, status_column, linked_column = IDENTITY_COLUMNS[provider]
    platform = Platform.GITHUB if provider is IdentityProvider.GITHUB else Platform.DISCORD
    value = identity.name.lower() if provider is IdentityProvider.GITHUB else identity.id
    now = timezone.now()
    attached = 0
    with transaction.atomic():
        mine = list(user_contributors(user=user).select_for_update().order_by("pk"))
        for contributor in mine:
            attached += _take_over(contributor, provider, platform, value)
            previous = getattr(contributor, column)
            if previous and previous != value:
                # Activity attached under what an admin typed is not this person's.
                Contribution.objects.filter(
                    contributor=contributor, platform=platform, source_login=previous
                ).update(contributor=None)
            setattr(contributor, column, value)
            setattr(contributor, status_column, IdentityStatus.LINKED)
            setattr(contributor, linked_column, now)
            fields = [column, status_column, linked_column]
            if provider is IdentityProvider.GITHUB:
                contributor.github_user_id = int(identity.id)
                fields.append("github_user_id")
            contributor.save(update_fields=fields)
            attached += contributions_attach(contributor=contributor)
    return IdentityLinked(provider, identity, contributors=len(mine), attached=attached)


def _take_over(
    contributor: Contributor, provider: IdentityProvider, platform: str, value: str
) -> int:
    """Another contributor of the team holding the identity gives it up, and the activity
    made under it comes along. Returns how many contributions moved."""
    column, status_column, linked_column = IDENTITY_COLUMNS[provider]
    holders = Contributor.objects.filter(team_id=contributor.team_id, **{column: value}).exclude(
        pk=contributor.pk
    )
    moved = 0
    for holder in holders.select_for_update():
        moved += Contribution.objects.filter(
            contributor=holder, platform=platform, source_login=value
        ).update(contributor=contributor)
        setattr(holder, column, "")
        setattr(holder, status_column, IdentityStatus.ASSERTED)
        setattr(holder, linked_column, None)
        holder.save(update_fields=[column, status_column, linked_column])
    return moved
