"""TRACE's back office: the numbers operators need, read-only views of ingested data, and
actions that call the same services and tasks as the API and the schedules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from celery import Task
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, QuerySet
from django.db.models.functions import NullIf
from django.http import HttpRequest
from django.utils import timezone

from trace import tasks
from trace.models import (
    ActivityMetric,
    Campaign,
    Click,
    ContractInteraction,
    Conversion,
    ConversionCredit,
    FlagStatus,
    GrowthCertificate,
    PriceQuote,
    Project,
    WalletFlag,
    WalletLink,
)
from trace.selectors import campaigns_with_stats
from trace.services.bots import wallet_flag_review
from trace.services.roi import campaign_roi

METRICS_RECOMPUTE_DAYS = 90


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ingested and derived rows: operators look, the pipeline writes."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _enqueue(task: Task, **kwargs) -> None:
    # After commit, so a worker never reads rows this request has not committed yet.
    transaction.on_commit(lambda: task.delay(**kwargs))


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "chain", "contract_count", "last_indexed_block"]
    list_filter = ["chain"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__name", "organization__slug"]
    raw_id_fields = ["organization"]
    readonly_fields = ["id", "created_at"]
    actions = ["reindex", "recompute_metrics"]

    @admin.display(description="# contracts")
    def contract_count(self, project: Project) -> int:
        return len(project.contract_addresses or [])

    @admin.action(description="Re-index from chain", permissions=["change"])
    def reindex(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project_id in queryset.values_list("pk", flat=True):
            _enqueue(tasks.index_project, project_id=str(project_id))
        self.message_user(request, f"Re-indexing queued for {queryset.count()} project(s).")

    @admin.action(description="Recompute metrics (last 90 days)", permissions=["change"])
    def recompute_metrics(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        today = timezone.now().date()
        date_from = today - dt.timedelta(days=METRICS_RECOMPUTE_DAYS - 1)
        for project_id in queryset.values_list("pk", flat=True):
            _enqueue(
                tasks.aggregate_metrics,
                project_id=str(project_id),
                date_from=date_from.isoformat(),
                date_to=today.isoformat(),
            )
        self.message_user(
            request,
            f"Metrics recompute queued for {queryset.count()} project(s), {date_from}–{today}.",
        )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "budget_usd",
        "clicks",
        "conversions",
        "conversion_value",
        "roi",
    ]
    list_filter = ["attribution_model", "project"]
    list_select_related = ["project"]
    search_fields = ["name", "project__name", "organization__name"]
    raw_id_fields = ["organization", "project", "created_by"]
    readonly_fields = ["id", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        # One query for the page: the stats are correlated subqueries of the same SELECT.
        # ROI is shown from campaign_roi (exact Decimal, reads the annotations); the SQL
        # expression below exists only so the column can be sorted.
        queryset = campaigns_with_stats(super().get_queryset(request))
        return queryset.annotate(
            roi_order=ExpressionWrapper(
                (F("conversion_value_usd") - F("budget_usd")) / NullIf(F("budget_usd"), 0),
                output_field=FloatField(),
            )
        )

    @admin.display(description="Clicks", ordering="click_count")
    def clicks(self, campaign: Campaign) -> int:
        return campaign.click_count

    @admin.display(description="Conversions", ordering="conversion_count")
    def conversions(self, campaign: Campaign) -> int:
        return campaign.conversion_count

    @admin.display(description="Value (USD)", ordering="conversion_value_usd")
    def conversion_value(self, campaign: Campaign) -> Decimal:
        return campaign_roi(campaign=campaign).conversion_value_usd

    @admin.display(description="ROI", ordering="roi_order")
    def roi(self, campaign: Campaign) -> str:
        roi = campaign_roi(campaign=campaign).roi
        return "—" if roi is None else f"{roi:+.1%}"


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ["click_id", "campaign", "occurred_at", "is_bot", "bot_reason", "ip_address"]
    list_filter = ["is_bot", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["=click_id", "=visitor_hash", "referrer"]
    raw_id_fields = ["campaign"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # millions of rows: skip the second COUNT(*)


@admin.register(WalletLink)
class WalletLinkAdmin(ReadOnlyAdmin):
    list_display = ["wallet_address", "campaign", "click", "proof", "identified_at"]
    list_filter = ["proof", "campaign"]
    list_select_related = ["campaign", "click"]
    search_fields = ["=wallet_address", "=click__click_id"]
    raw_id_fields = ["click", "campaign"]
    date_hierarchy = "identified_at"


class ConversionCreditInline(admin.TabularInline):
    model = ConversionCredit
    fields = ["campaign", "click", "share", "value_usd"]
    raw_id_fields = ["campaign", "click"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = [
        "transaction_hash",
        "event_type",
        "campaign",
        "wallet_address",
        "value_usd",
        "source",
        "occurred_at",
    ]
    list_filter = ["source", "event_type", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["=transaction_hash", "=wallet_address", "campaign__name"]
    raw_id_fields = ["campaign", "click"]
    date_hierarchy = "occurred_at"
    inlines = [ConversionCreditInline]


@admin.register(ContractInteraction)
class ContractInteractionAdmin(ReadOnlyAdmin):
    list_display = [
        "transaction_hash",
        "log_index",
        "project",
        "chain",
        "event_type",
        "wallet_address",
        "value_usd",
        "source",
        "occurred_at",
    ]
    list_filter = ["chain", "source", "project"]
    list_select_related = ["project"]
    search_fields = ["=transaction_hash", "=wallet_address", "=contract_address"]
    raw_id_fields = ["project"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ActivityMetric)
class ActivityMetricAdmin(ReadOnlyAdmin):
    list_display = [
        "project",
        "date",
        "dau",
        "wau",
        "mau",
        "transaction_count",
        "transaction_volume_usd",
        "bot_share",
        "activity_score",
    ]
    list_filter = ["project"]
    list_select_related = ["project"]
    search_fields = ["project__name"]
    raw_id_fields = ["project"]
    date_hierarchy = "date"
    ordering = ["-date"]


@admin.register(WalletFlag)
class WalletFlagAdmin(admin.ModelAdmin):
    list_display = [
        "wallet_address",
        "project",
        "reason",
        "score",
        "status",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = ["status", "reason", "project"]
    list_select_related = ["project", "reviewed_by"]
    search_fields = ["=wallet_address", "project__name"]
    raw_id_fields = ["project", "reviewed_by"]
    date_hierarchy = "created_at"
    actions = ["confirm", "clear"]
    # A decision goes through the actions, which record who made it and when.
    readonly_fields = [
        "project",
        "wallet_address",
        "reason",
        "score",
        "evidence",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # nothing is deleted: a wrong flag is cleared

    @admin.action(description="Confirm: exclude these wallets from metrics", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[WalletFlag]) -> None:
        self._review(request, queryset, FlagStatus.CONFIRMED)

    @admin.action(description="Clear: not a bot", permissions=["change"])
    def clear(self, request: HttpRequest, queryset: QuerySet[WalletFlag]) -> None:
        self._review(request, queryset, FlagStatus.CLEARED)

    def _review(self, request: HttpRequest, queryset: QuerySet[WalletFlag], status: str) -> None:
        flag_ids = list(queryset.values_list("pk", flat=True))
        for flag_id in flag_ids:
            wallet_flag_review(flag_id=flag_id, status=status, reviewer=request.user)
        self.message_user(
            request, f"{len(flag_ids)} flag(s) marked {status}.", level=messages.SUCCESS
        )


@admin.register(PriceQuote)
class PriceQuoteAdmin(admin.ModelAdmin):
    list_display = ["asset", "day", "price_usd"]
    list_editable = ["price_usd"]
    list_filter = ["asset"]
    search_fields = ["=asset"]
    date_hierarchy = "day"


@admin.register(GrowthCertificate)
class GrowthCertificateAdmin(ReadOnlyAdmin):
    list_display = ["project", "period_from", "period_to", "key_id", "issued_at", "valid_until"]
    list_filter = ["key_id"]
    list_select_related = ["project"]
    search_fields = ["=id", "project__name"]
    raw_id_fields = ["project"]
    date_hierarchy = "issued_at"
