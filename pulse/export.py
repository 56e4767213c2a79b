"""PULSE's sections of an organization's export (`ORGANIZATION_EXPORT_SECTIONS`): its teams
(never their webhook secret), their repositories and contributors, read in chunks so that
the export streams."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from pulse.models import Contributor, Team, TeamRepository

_CHUNK = 500


def organization_teams_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    teams = Team.objects.filter(organization_id=organization_id).order_by("created_at", "id")
    for team in teams.iterator(chunk_size=_CHUNK):
        yield {
            "id": team.pk,
            "pulse_id": team.pulse_id,
            "team_name": team.team_name,
            "vitality_score": team.vitality_score,
            "developer_activity_score": team.developer_activity_score,
            "team_retention_score": team.team_retention_score,
            "community_score": team.community_score,
            "verified_share": team.verified_share,
            "last_calculated_at": team.last_calculated_at,
            "discord_guild_id": team.discord_guild_id,
            "created_at": team.created_at,
        }


def organization_team_repositories_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    repositories = TeamRepository.objects.filter(team__organization_id=organization_id).order_by(
        "created_at", "id"
    )
    for repository in repositories.iterator(chunk_size=_CHUNK):
        yield {
            "team_id": repository.team_id,
            "full_name": repository.full_name,
            "claim": repository.claim,
            "verified_at": repository.verified_at,
            "lapsed_at": repository.lapsed_at,
            "created_at": repository.created_at,
        }


def organization_contributors_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    contributors = Contributor.objects.filter(team__organization_id=organization_id).order_by(
        "created_at", "id"
    )
    for contributor in contributors.iterator(chunk_size=_CHUNK):
        yield {
            "id": contributor.pk,
            "team_id": contributor.team_id,
            "wallet_address": contributor.wallet_address,
            "github_login": contributor.github_login,
            "github_identity": contributor.github_identity,
            "discord_id": contributor.discord_id,
            "discord_identity": contributor.discord_identity,
            "contribution_score": contributor.contribution_score,
            "last_active_at": contributor.last_active_at,
            "created_at": contributor.created_at,
        }
