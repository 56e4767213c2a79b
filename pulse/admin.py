"""PULSE's back office: teams, contributors, what came in and what it became."""

from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from fabrknt.admin_base import ReadOnlyAdmin
from pulse.models import (
    Contribution,
    ContributionWeight,
    Contributor,
    GitHubInstallation,
    NotionConnection,
    SBTRecord,
    ScoreSnapshot,
    Team,
    TeamRepository,
    WebhookDelivery,
    WeeklyReport,
)
from pulse.services.github_backfill import team_github_backfills_schedule
from pulse.tasks import calculate_scores


class TeamRepositoryInline(admin.TabularInline):
    model = TeamRepository
    extra = 0
    fields = ["full_name", "claim", "github_repository_id", "verified_at", "lapsed_at"]
    readonly_fields = ["full_name", "claim", "github_repository_id", "verified_at", "lapsed_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = [
        "team_name",
        "pulse_id",
        "organization",
        "vitality_score",
        "developer_activity_score",
        "team_retention_score",
        "community_score",
        "verified_share",
        "last_calculated_at",
    ]
    list_select_related = ["organization"]
    search_fields = ["team_name", "pulse_id", "organization__name", "discord_guild_id"]
    # The webhook secret is never shown here: it is shown once to the team, and rotated.
    exclude = ["github_webhook_secret"]
    readonly_fields = [
        "pulse_id",
        "vitality_score",
        "developer_activity_score",
        "team_retention_score",
        "community_score",
        "verified_share",
        "score_components",
        "last_calculated_at",
        "github_webhook_secret_rotated_at",
        "created_at",
    ]
    raw_id_fields = ["organization", "created_by"]
    inlines = [TeamRepositoryInline]
    actions = ["backfill_github", "recalculate_scores"]

    @admin.action(description="Backfill GitHub history (last 90 days)", permissions=["change"])
    def backfill_github(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        since = team_github_backfills_schedule(
            team_ids=[str(pk) for pk in queryset.values_list("pk", flat=True)], days=90
        )
        self.message_user(
            request,
            f"GitHub backfill since {since:%Y-%m-%d} queued for {queryset.count()} team(s).",
        )

    @admin.action(description="Recalculate scores", permissions=["change"])
    def recalculate_scores(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        """One `pulse.calculate_scores` task per team, queued once this request commits."""
        team_ids = [str(pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)]
        for team_id in team_ids:
            transaction.on_commit(partial(calculate_scores.delay, team_id), robust=True)
        self.message_user(request, f"Score recalculation queued for {len(team_ids)} team(s).")


@admin.register(GitHubInstallation)
class GitHubInstallationAdmin(ReadOnlyAdmin):
    list_display = ["installation_id", "account_login", "team", "linked_at", "removed_at"]
    list_select_related = ["team"]
    search_fields = ["account_login", "team__team_name", "team__pulse_id"]


@admin.register(TeamRepository)
class TeamRepositoryAdmin(ReadOnlyAdmin):
    list_display = ["full_name", "team", "claim", "verified_at", "lapsed_at", "created_at"]
    list_filter = ["claim"]
    list_select_related = ["team"]
    search_fields = ["full_name", "team__team_name", "team__pulse_id"]


@admin.register(Contributor)
class ContributorAdmin(admin.ModelAdmin):
    list_display = [
        "wallet_address",
        "team",
        "github_login",
        "github_identity",
        "discord_id",
        "discord_identity",
        "contribution_score",
        "verified_share",
        "last_active_at",
    ]
    list_filter = ["github_identity", "discord_identity", "wallet_namespace"]
    list_select_related = ["team"]
    search_fields = ["wallet_address", "github_login", "discord_id", "team__pulse_id"]
    raw_id_fields = ["team"]
    readonly_fields = [
        "contribution_score",
        "verified_contribution_score",
        "verified_share",
        "last_active_at",
        "created_at",
    ]


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "team",
        "platform",
        "contribution_type",
        "source_login",
        "contributor",
        "weight",
        "verification",
    ]
    list_filter = ["platform", "contribution_type", "verification"]
    list_select_related = ["team", "contributor"]
    search_fields = ["source_id", "source_login", "team__pulse_id", "repository"]
    raw_id_fields = ["team", "contributor", "delivery"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ContributionWeight)
class ContributionWeightAdmin(admin.ModelAdmin):
    list_display = ["contribution_type", "weight", "updated_at"]
    list_editable = ["weight"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "source", "event", "delivery_id", "team", "outcome", "detail"]
    list_filter = ["source", "outcome", "event"]
    list_select_related = ["team"]
    search_fields = ["delivery_id", "team__pulse_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "calculated_at",
        "team",
        "contributor",
        "vitality_score",
        "contribution_score",
        "verified_share",
    ]
    list_select_related = ["team", "contributor"]
    raw_id_fields = ["team", "contributor"]
    show_full_result_count = False


@admin.register(SBTRecord)
class SBTRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "milestone",
        "wallet_address",
        "team",
        "chain",
        "status",
        "token_id",
        "tx_hash",
        "issued_at",
    ]
    list_filter = ["status", "milestone", "chain"]
    list_select_related = ["team"]
    search_fields = ["wallet_address", "tx_hash", "team__pulse_id"]
    actions = ["retry_mint"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # The rows stay read-only; re-queuing a mint is what changing an SBT record means.
        return request.user.has_perm("pulse.change_sbtrecord")

    @admin.action(description="Retry the mint (failed or still sent)", permissions=["retry"])
    def retry_mint(self, request: HttpRequest, queryset: QuerySet[SBTRecord]) -> None:
        from pulse.services.sbt import sbt_retry

        queued = sum(sbt_retry(record=record) for record in queryset)
        self.message_user(request, f"{queued} mint(s) queued; minted records were left alone.")


@admin.register(WeeklyReport)
class WeeklyReportAdmin(ReadOnlyAdmin):
    list_display = ["week_start", "team", "created_at", "sent_at"]
    list_select_related = ["team"]
    search_fields = ["team__pulse_id", "team__team_name"]


@admin.register(NotionConnection)
class NotionConnectionAdmin(ReadOnlyAdmin):
    list_display = ["team", "workspace_name", "last_polled_at", "last_error"]
    list_select_related = ["team"]
    exclude = ["access_token"]
