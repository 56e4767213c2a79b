"""Reads of PULSE data for the API, the pages and FABRIC."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet

from accounts.selectors import READ, Access, CallerAccess
from accounts.services.wallets import wallet_address_parse
from fabrknt.api.errors import NotFound
from pulse.models import Contributor, SBTRecord, SBTStatus, Team


def teams_with_counts(teams: QuerySet[Team]) -> QuerySet[Team]:
    """Teams annotated with `contributor_count`."""
    return teams.annotate(contributor_count=Count("contributors", distinct=True))


def team_for_caller(*, access: CallerAccess, pulse_id: str, kind: Access = READ) -> Team:
    """The team with that pulse_id if the caller may act on it (NotFound for another
    organization's team, PermissionDenied when visible but not `kind`)."""
    teams = teams_with_counts(Team.objects.select_related("organization"))
    return access.get(teams, kind, pulse_id=pulse_id)


def organization_teams(*, organization_id: uuid.UUID) -> QuerySet[Team]:
    """An organization's teams, by name (FABRIC links a listing to one of them)."""
    return Team.objects.filter(organization_id=organization_id).order_by("team_name", "pk")


@dataclass(frozen=True)
class ContributorProfile:
    wallet_address: str
    memberships: list[Contributor]  # one per visible team, each with its team
    sbts: list[SBTRecord]


def contributor_profile(*, access: CallerAccess, wallet: str) -> ContributorProfile:
    """A wallet's contributions across the teams the caller may read, and its tokens there;
    NotFound when the wallet is no contributor of any of them."""
    parsed = wallet_address_parse(address=wallet if isinstance(wallet, str) else "")
    if parsed is None:
        raise NotFound()
    contributors = list(
        access.scoped(
            Contributor.objects.filter(wallet_address=parsed.address), via="team__organization"
        )
        .select_related("team")
        .prefetch_related(
            Prefetch(
                "sbt_records",
                queryset=SBTRecord.objects.select_related("team").order_by("created_at"),
            )
        )
        .order_by("team__team_name", "team_id")
    )
    if not contributors:
        raise NotFound()
    sbts = [record for contributor in contributors for record in contributor.sbt_records.all()]
    return ContributorProfile(parsed.address, contributors, sbts)


def team_minted_tokens(*, team: Team) -> list[SBTRecord]:
    """The team's soulbound tokens that are on the chain (minted), oldest first, with their
    contributor: the on-chain evidence FABRIC links a team's vitality to."""
    return list(
        SBTRecord.objects.filter(team=team, status=SBTStatus.MINTED)
        .select_related("contributor")
        .order_by("issued_at", "created_at")
    )
