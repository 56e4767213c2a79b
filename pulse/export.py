"""PULSE's sections of an organization's export (`ORGANIZATION_EXPORT_SECTIONS`): its teams
(never their webhook secret), their repositories and contributors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from accounts.services.organization_export import export_rows
from pulse.models import Contributor, Team, TeamRepository


def organization_teams_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        Team.objects.filter(organization_id=organization_id),
        *("id", "pulse_id", "team_name", "vitality_score", "developer_activity_score"),
        *("team_retention_score", "community_score", "verified_share", "last_calculated_at"),
        *("discord_guild_id", "created_at"),
    )


def organization_team_repositories_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        TeamRepository.objects.filter(team__organization_id=organization_id),
        *("team_id", "full_name", "claim", "verified_at", "lapsed_at", "created_at"),
    )


def organization_contributors_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        Contributor.objects.filter(team__organization_id=organization_id),
        *("id", "team_id", "wallet_address", "github_login", "github_identity", "discord_id"),
        *("discord_identity", "contribution_score", "last_active_at", "created_at"),
    )
