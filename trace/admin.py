"""TRACE's back office: the numbers operators need, read-only views of ingested data, and
actions that call the same services and tasks as the API and the schedules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from celery import Task
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Q, QuerySet
from django.db.models.functions import NullIf
from django.http import HttpRequest
from django.utils import timezone

from accounts.http import AuthenticatedHttpRequest
from fabrknt.admin_base import ReadOnlyAdmin
from fabrknt.api.errors import ServiceError
from trace import tasks
from trace.models import (
    PRICE_STALE_AFTER,
    ActivityMetric,
    Asset,
    AssetPrice,
    Backfill,
    BackfillStatus,
    Campaign,
    CampaignDay,
    Click,
    ContractInteraction,
    ContractVerification,
    Conversion,
    ConversionCredit,
    FlagStatus,
    GrowthCertificate,
    LandingDomain,
    Project,
    ProviderAddressSync,
    RejectedActivity,
    WalletFlag,
    WalletLink,
    price_is_stale,
)
from trace.selectors import (
    LatestPriceAnnotations,
    StatsAnnotations,
    assets_with_latest_price,
    campaigns_with_stats,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    CampaignWithStats = WithAnnotations[Campaign, StatsAnnotations]
    AssetWithLatestPrice = WithAnnotations[Asset, LatestPriceAnnotations]
from trace.services.backfill import project_backfill_start
from trace.services.bots import wallet_flag_review
from trace.services.price_feed import prices_fetch
from trace.services.pricing import asset_price_set
from trace.services.projects import (
    ADDRESS_FIELDS,
    chain_parse,
    project_addresses_normalize,
    project_addresses_update,
    project_metrics_recompute_schedule,
)
from trace.services.provider_sync import provider_sync_schedule
from trace.services.roi import campaign_roi
from trace.services.rollups import rollups_rebuild


def _enqueue(task: Task, **kwargs) -> None:
    # After commit, so a worker never reads rows this request has not committed yet.
    transaction.on_commit(lambda: task.delay(**kwargs))


class ProjectAdminForm(forms.ModelForm):
    """The project's chain and addresses checked and normalized as the API does."""

    class Meta:
        model = Project
        fields = [
            "organization",
            "name",
            "chain",
            "contract_addresses",
            "treasury_addresses",
            "last_indexed_block",
        ]

    def clean_chain(self) -> str:
        return chain_parse(chain=self.cleaned_data["chain"]).caip2

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chain = cleaned.get("chain") or self.instance.chain  # read-only once created
        if chain and not self.has_error("chain"):
            lists = {field: cleaned.get(field) for field in ADDRESS_FIELDS}
            try:
                cleaned.update(
                    project_addresses_normalize(
                        chain=chain,
                        **{field: [] if value is None else value for field, value in lists.items()},
                    )
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class ProviderResyncAdmin(admin.ModelAdmin):
    """The "Re-sync now" action: the providers' webhooks are told the projects' addresses
    again. Only for operators with the re-sync permission."""

    def has_resync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trace.resync_provideraddresssync")

    def _resync(self, request: HttpRequest, projects: QuerySet[Project]) -> None:
        with transaction.atomic():
            for project in projects:
                provider_sync_schedule(project=project)
        self.message_user(request, f"Provider address sync queued for {len(projects)} project(s).")


@admin.register(Project)
class ProjectAdmin(ProviderResyncAdmin):
    form = ProjectAdminForm
    list_display = [
        "name",
        "organization",
        "chain",
        "contract_count",
        "last_indexed_block",
        "address_sync",
    ]
    list_filter = ["chain", "address_syncs__status"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__name", "organization__slug"]
    raw_id_fields = ["organization"]
    readonly_fields = ["id", "created_at"]
    actions = [
        "reindex",
        "backfill_from_deployment",
        "recompute_metrics",
        "resync_provider_addresses",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return super().get_queryset(request).prefetch_related("address_syncs")

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> list[str]:
        # A project's data and the providers' webhooks belong to its chain: fixed once created.
        return [*self.readonly_fields, "chain"] if obj else list(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: Project, form: forms.ModelForm, change: bool
    ) -> None:
        # The addresses go through the services, which have the providers' webhooks follow.
        if not change:
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                provider_sync_schedule(project=obj)
            return
        with transaction.atomic():
            obj.save(update_fields=[f for f in form.changed_data if f not in ADDRESS_FIELDS])
            project_addresses_update(
                project=obj,
                contract_addresses=obj.contract_addresses,
                treasury_addresses=obj.treasury_addresses,
            )

    @admin.display(description="# contracts")
    def contract_count(self, project: Project) -> int:
        return len(project.contract_addresses or [])

    @admin.display(description="Address sync")
    def address_sync(self, project: Project) -> str:
        return ", ".join(
            f"{state.get_provider_display()}: {state.get_status_display().lower()}"
            for state in project.address_syncs.all()
        )

    @admin.action(description="Re-index from chain", permissions=["change"])
    def reindex(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project_id in queryset.values_list("pk", flat=True):
            _enqueue(tasks.index_project, project_id=str(project_id))
        self.message_user(request, f"Re-indexing queued for {queryset.count()} project(s).")

    @admin.action(description="Backfill history from the deployment block", permissions=["change"])
    def backfill_from_deployment(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Project]
    ) -> None:
        for project in queryset:
            try:
                backfill = project_backfill_start(project=project, started_by=request.user)
            except ServiceError as refusal:
                self.message_user(
                    request, f"{project}: {refusal.detail} ({refusal.code})", messages.ERROR
                )
                continue
            self.message_user(
                request,
                f"{project}: backfilling blocks {backfill.from_block}–{backfill.to_block}.",
            )

    @admin.action(description="Recompute metrics (last 90 days)", permissions=["change"])
    def recompute_metrics(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        date_from, today = project_metrics_recompute_schedule(
            project_ids=[str(pk) for pk in queryset.values_list("pk", flat=True)]
        )
        self.message_user(
            request,
            f"Metrics recompute queued for {queryset.count()} project(s), {date_from}–{today}.",
        )

    @admin.action(description="Re-sync provider address lists now", permissions=["resync"])
    def resync_provider_addresses(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        self._resync(request, queryset)


@admin.register(ProviderAddressSync)
class ProviderAddressSyncAdmin(ProviderResyncAdmin, ReadOnlyAdmin):
    """Whether Alchemy's and Helius' webhooks watch each project's addresses; the sync
    writes these rows, operators read them and re-sync."""

    list_display = [
        "project",
        "provider",
        "status",
        "retrying",
        "attempts",
        "last_attempt_at",
        "synced_at",
        "last_error",
    ]
    list_filter = ["provider", "status", "retrying"]
    list_select_related = ["project"]
    search_fields = ["project__name", "project__organization__name", "last_error"]
    actions = ["resync_now"]

    @admin.action(description="Re-sync now", permissions=["resync"])
    def resync_now(self, request: HttpRequest, queryset: QuerySet[ProviderAddressSync]) -> None:
        self._resync(request, Project.objects.filter(address_syncs__in=queryset).distinct())


@admin.register(Backfill)
class BackfillAdmin(ReadOnlyAdmin):
    list_display = [
        "project",
        "status",
        "from_block",
        "to_block",
        "next_block",
        "percent",
        "stored",
        "started_at",
        "finished_at",
        "error",
    ]
    list_filter = ["status"]
    list_select_related = ["project"]
    search_fields = ["project__name", "project__id", "error"]
    raw_id_fields = ["project", "started_by"]
    actions = ["queue_next_run"]

    @admin.display(description="read")
    def percent(self, backfill: Backfill) -> str:
        return f"{backfill.percent_read}%"

    def has_resume_permission(self, request: HttpRequest) -> bool:
        # Whoever may start a backfill (Projects, a change action) may resume one.
        return request.user.has_perm("trace.change_project")

    @admin.action(description="Queue the next run (a stalled backfill)", permissions=["resume"])
    def queue_next_run(self, request: HttpRequest, queryset: QuerySet[Backfill]) -> None:
        running = queryset.filter(status=BackfillStatus.RUNNING).values_list("pk", flat=True)
        for backfill_id in running:
            _enqueue(tasks.backfill_project, backfill_id=backfill_id)
        self.message_user(request, f"Next run queued for {len(running)} running backfill(s).")


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
    actions = ["rebuild_rollups"]

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
    def clicks(self, campaign: CampaignWithStats) -> int:
        return campaign.click_count

    @admin.display(description="Conversions", ordering="conversion_count")
    def conversions(self, campaign: CampaignWithStats) -> int:
        return campaign.conversion_count

    @admin.display(description="Value (USD)", ordering="conversion_value_usd")
    def conversion_value(self, campaign: CampaignWithStats) -> Decimal:
        return campaign_roi(campaign=campaign).conversion_value_usd

    @admin.display(description="ROI", ordering="roi_order")
    def roi(self, campaign: CampaignWithStats) -> str:
        roi = campaign_roi(campaign=campaign).roi
        return "—" if roi is None else f"{roi:+.1%}"

    @admin.action(description="Rebuild daily rollups from the raw rows", permissions=["change"])
    def rebuild_rollups(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        result = rollups_rebuild(campaign_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"Rebuilt {result.campaigns} campaign(s): {result.days} day(s) recounted."
        )


@admin.register(CampaignDay)
class CampaignDayAdmin(ReadOnlyAdmin):
    list_display = [
        "date",
        "campaign",
        "clicks",
        "bot_clicks",
        "unique_visitors",
        "conversions",
        "converted_wallets",
        "conversion_value_usd",
        "proven_value_usd",
    ]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    raw_id_fields = ["campaign"]
    date_hierarchy = "date"


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


@admin.register(RejectedActivity)
class RejectedActivityAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "source", "chain", "delivery_id", "item_index", "reason"]
    list_filter = ["source", "chain"]
    search_fields = ["=delivery_id", "reason"]
    date_hierarchy = "received_at"


@admin.register(ContractInteraction)
class ContractInteractionAdmin(ReadOnlyAdmin):
    list_display = [
        "transaction_hash",
        "transfer_position",
        "project",
        "chain",
        "event_type",
        "wallet_address",
        "asset",
        "asset_address",
        "value_usd",
        "unpriced_reason",
        "source",
        "occurred_at",
        "occurred_at_source",
    ]
    list_filter = ["chain", "source", "unpriced_reason", "occurred_at_source", "project"]
    list_select_related = ["project"]
    search_fields = [
        "=transaction_hash",
        "=wallet_address",
        "=contract_address",
        "=asset_address",
    ]
    raw_id_fields = ["project"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ContractVerification)
class ContractVerificationAdmin(ReadOnlyAdmin):
    """Proofs of contract control: written only by a signature the chain confirms."""

    list_display = ["contract_address", "project", "chain", "method", "signer", "verified_at"]
    list_filter = ["method", "chain"]
    list_select_related = ["project"]
    search_fields = ["=contract_address", "=signer", "project__name"]
    raw_id_fields = ["project"]
    date_hierarchy = "verified_at"


class VolumeFlaggedFilter(admin.SimpleListFilter):
    title = "volume flagged"
    parameter_name = "volume_flagged"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(volume_flag_reason="")
        if self.value() == "no":
            return queryset.filter(volume_flag_reason="")
        return queryset


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
        "unpriced_transfers",
        "volume_flagged",
        "bot_share",
        "activity_score",
    ]
    list_filter = [VolumeFlaggedFilter, "project"]
    list_select_related = ["project"]
    search_fields = ["project__name"]
    raw_id_fields = ["project"]
    date_hierarchy = "date"
    ordering = ["-date"]

    @admin.display(description="Flagged", boolean=True)
    def volume_flagged(self, metric: ActivityMetric) -> bool:
        return metric.volume_flagged


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
    def confirm(self, request: AuthenticatedHttpRequest, queryset: QuerySet[WalletFlag]) -> None:
        self._review(request, queryset, FlagStatus.CONFIRMED)

    @admin.action(description="Clear: not a bot", permissions=["change"])
    def clear(self, request: AuthenticatedHttpRequest, queryset: QuerySet[WalletFlag]) -> None:
        self._review(request, queryset, FlagStatus.CLEARED)

    def _review(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[WalletFlag], status: str
    ) -> None:
        flag_ids = list(queryset.values_list("pk", flat=True))
        for flag_id in flag_ids:
            wallet_flag_review(flag_id=flag_id, status=status, reviewer=request.user)
        self.message_user(
            request, f"{len(flag_ids)} flag(s) marked {status}.", level=messages.SUCCESS
        )


class StaleFilter(admin.SimpleListFilter):
    """Assets whose latest price is older than a day (or that have none)."""

    title = "latest price"
    parameter_name = "price"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("stale", "Stale or missing")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Asset]) -> QuerySet[Asset]:
        if self.value() != "stale":
            return queryset
        cutoff = timezone.now() - PRICE_STALE_AFTER
        return queryset.filter(
            Q(latest_price_day__isnull=True)
            | Q(latest_price_fetched_at__lt=cutoff)
            | Q(latest_price_day__lt=cutoff.date())
        )


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "chain",
        "address",
        "decimals",
        "price_source",
        "enabled",
        "latest_price",
        "latest_price_day",
        "stale",
    ]
    list_filter = ["chain", "enabled", StaleFilter]
    search_fields = ["symbol", "=address", "price_source"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["fetch_prices_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Asset]:
        return assets_with_latest_price(super().get_queryset(request))

    @admin.display(description="Latest price (USD)", ordering="latest_price_usd")
    def latest_price(self, asset: AssetWithLatestPrice) -> Decimal | None:
        return asset.latest_price_usd

    @admin.display(description="Its day", ordering="latest_price_day")
    def latest_price_day(self, asset: AssetWithLatestPrice) -> dt.date | None:
        return asset.latest_price_day

    @admin.display(description="Stale", boolean=True)
    def stale(self, asset: AssetWithLatestPrice) -> bool:
        if asset.latest_price_day is None or asset.latest_price_fetched_at is None:
            return True  # no price (both come from the one latest row)
        return price_is_stale(day=asset.latest_price_day, fetched_at=asset.latest_price_fetched_at)

    @admin.action(description="Fetch prices now (PRICE_FEED_URL)", permissions=["change"])
    def fetch_prices_now(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        result = prices_fetch(asset_ids=queryset.values_list("pk", flat=True))
        if result.error:
            self.message_user(request, f"Nothing fetched: {result.error}", level=messages.ERROR)
            return
        missing = f"; no price for {', '.join(result.missing)}" if result.missing else ""
        level = messages.WARNING if result.missing else messages.SUCCESS
        self.message_user(request, f"{result.stored} price(s) stored{missing}.", level=level)


@admin.register(AssetPrice)
class AssetPriceAdmin(admin.ModelAdmin):
    """The feed writes prices; an operator may add or correct one (it becomes theirs)."""

    list_display = ["asset", "day", "price_usd", "source", "fetched_at", "stale"]
    list_filter = ["source", "asset__chain"]
    list_select_related = ["asset"]
    search_fields = ["asset__symbol", "=asset__address"]
    raw_id_fields = ["asset"]
    date_hierarchy = "day"
    fields = ["asset", "day", "price_usd", "source", "fetched_at"]
    readonly_fields = ["source", "fetched_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # A stored price keeps its asset and day; only the price can be corrected.
        return self.readonly_fields + (["asset", "day"] if obj is not None else [])

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a wrong price is corrected, so what priced a transfer stays known

    @admin.display(description="Stale", boolean=True)
    def stale(self, price: AssetPrice) -> bool:
        return price.is_stale

    def save_model(self, request: HttpRequest, obj: AssetPrice, form, change: bool) -> None:
        saved = asset_price_set(asset=obj.asset, day=obj.day, price_usd=obj.price_usd)
        obj.pk, obj.source, obj.fetched_at = saved.pk, saved.source, saved.fetched_at


@admin.register(GrowthCertificate)
class GrowthCertificateAdmin(ReadOnlyAdmin):
    list_display = ["project", "period_from", "period_to", "key_id", "issued_at", "valid_until"]
    list_filter = ["key_id"]
    list_select_related = ["project"]
    search_fields = ["=id", "project__name"]
    raw_id_fields = ["project"]
    date_hierarchy = "issued_at"


class VerifiedFilter(admin.SimpleListFilter):
    title = "verified"
    parameter_name = "verified"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "Verified"), ("no", "Not verified")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(verified_at__isnull=self.value() == "no")
        return queryset


@admin.register(LandingDomain)
class LandingDomainAdmin(admin.ModelAdmin):
    """Organizations add and verify their domains through the API; operators look, re-check
    (the same check as the API's) and remove."""

    list_display = [
        "domain",
        "organization",
        "verified",
        "verified_at",
        "last_checked_at",
        "last_error",
    ]
    list_filter = [VerifiedFilter, "last_checked_at"]
    list_select_related = ["organization"]
    search_fields = ["domain", "organization__name", "organization__slug"]
    raw_id_fields = ["organization"]
    readonly_fields = [
        "organization",
        "domain",
        "token",
        "created_at",
        "verified_at",
        "last_checked_at",
        "last_error",
    ]
    actions = ["recheck"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Verified", boolean=True, ordering="verified_at")
    def verified(self, landing_domain: LandingDomain) -> bool:
        return landing_domain.verified_at is not None

    @admin.action(description="Re-check now (fetch the verification file)", permissions=["change"])
    def recheck(self, request: HttpRequest, queryset: QuerySet[LandingDomain]) -> None:
        landing_domain_ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        for landing_domain_id in landing_domain_ids:
            _enqueue(tasks.check_landing_domain, landing_domain_id=landing_domain_id)
        self.message_user(request, f"Re-check queued for {len(landing_domain_ids)} domain(s).")
