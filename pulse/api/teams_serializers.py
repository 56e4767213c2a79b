"""PULSE teams and contributors: API shapes (input and output kept apart)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pulse.models import SBTRecord, Team
from pulse.services.teams import MAX_REPOSITORIES, TEAM_NAME_MAX, team_github_webhook_url


class TeamInSerializer(serializers.Serializer):
    organization = serializers.UUIDField()
    team_name = serializers.CharField(max_length=TEAM_NAME_MAX)
    github_repos = serializers.ListField(
        child=serializers.CharField(max_length=140),
        max_length=MAX_REPOSITORIES,
        required=False,
        help_text="repositories the team claims, `owner/repo` (self-reported until the "
        "GitHub App is installed on them)",
    )
    discord_guild_id = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="the team's Discord server id"
    )


def _score() -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True, read_only=True, help_text="0–100; null until calculated"
    )


class RepositorySerializer(serializers.Serializer):
    full_name = serializers.CharField()
    claim = serializers.CharField(help_text="`app` (verified) or `webhook` (self-reported)")
    lapsed = serializers.SerializerMethodField()

    def get_lapsed(self, repository: Any) -> bool:
        return repository.lapsed_at is not None


class TeamSerializer(serializers.Serializer):
    pulse_id = serializers.CharField()
    team_name = serializers.CharField()
    vitality_score = _score()
    developer_activity_score = _score()
    team_retention_score = _score()
    contributors = serializers.IntegerField(
        source="contributor_count", help_text="how many contributors the team has"
    )
    last_calculated_at = serializers.DateTimeField(allow_null=True)


class TeamCreatedSerializer(TeamSerializer):
    id = serializers.UUIDField()
    organization = serializers.UUIDField(source="organization_id")
    github_webhook_secret = serializers.SerializerMethodField(
        help_text="shown only in this answer: put it in the repositories' webhook settings"
    )
    github_webhook_url = serializers.SerializerMethodField(
        help_text="`/api/v1/github/webhook?team=<pulse_id>` under the platform's address"
    )
    github_repos = RepositorySerializer(source="repositories.all", many=True)
    discord_guild_id = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_github_webhook_secret(self, team: Team) -> str:
        return str(self.context["github_webhook_secret"])

    def get_github_webhook_url(self, team: Team) -> str:
        return team_github_webhook_url(team=team)


class GitHubSecretSerializer(serializers.Serializer):
    pulse_id = serializers.CharField()
    github_webhook_secret = serializers.CharField(help_text="the new secret, shown only here")
    github_webhook_url = serializers.CharField()


class ContributorInSerializer(serializers.Serializer):
    wallet_address = serializers.CharField(max_length=100)
    github_username = serializers.CharField(max_length=40, required=False, allow_blank=True)
    discord_id = serializers.CharField(max_length=32, required=False, allow_blank=True)


class ContributorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    pulse_id = serializers.CharField(source="team.pulse_id")
    wallet_address = serializers.CharField()
    github_username = serializers.CharField(source="github_login")
    github_identity = serializers.CharField(
        help_text="`asserted` (typed by the team) or `linked` (OAuth)"
    )
    discord_id = serializers.CharField()
    discord_identity = serializers.CharField()
    contribution_score = serializers.FloatField()
    last_active_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ContributorTeamSerializer(serializers.Serializer):
    pulse_id = serializers.CharField(source="team.pulse_id")
    team_name = serializers.CharField(source="team.team_name")
    contribution_score = serializers.FloatField()
    verified_share = serializers.FloatField(allow_null=True)
    last_active_at = serializers.DateTimeField(allow_null=True)


class SBTSerializer(serializers.Serializer):
    pulse_id = serializers.CharField(source="team.pulse_id")
    milestone = serializers.CharField()
    status = serializers.CharField(help_text="claimed, sent, minted or failed")
    chain = serializers.CharField()
    token_address = serializers.SerializerMethodField()
    token_id = serializers.CharField(allow_null=True)
    tx_hash = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token_address(self, record: SBTRecord) -> str | None:
        return record.token_address or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tx_hash(self, record: SBTRecord) -> str | None:
        return record.tx_hash or None


class ContributorProfileSerializer(serializers.Serializer):
    wallet_address = serializers.CharField()
    teams = ContributorTeamSerializer(source="memberships", many=True)
    sbts = SBTSerializer(many=True)
