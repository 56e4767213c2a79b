"""Revenue in the back office: the verifier's records with their evidence (read-only), the
sellers' Stripe connections (the key is never shown), and a "verify now" action."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from fabric.models import RevenueRecord, StripeConnection
from fabric.tasks import verify_listing_revenue


class _ReadOnly(admin.ModelAdmin):
    """Measured rows: operators look, the verifier writes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RevenueRecord)
class RevenueRecordAdmin(_ReadOnly):
    list_display = [
        "listing",
        "source",
        "window_days",
        "period_end",
        "fees_usd",
        "revenue_usd",
        "computed_at",
    ]
    list_filter = ["source", "window_days", "period_end"]
    list_select_related = ["listing"]
    search_fields = ["listing__title", "listing__id"]
    raw_id_fields = ["listing"]
    date_hierarchy = "period_end"
    exclude = ["evidence"]
    readonly_fields = ["evidence_shown"]
    actions = ["verify_again"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="evidence")
    def evidence_shown(self, record: RevenueRecord) -> str:
        return format_html("<pre>{}</pre>", json.dumps(record.evidence, indent=2))

    def has_verify_permission(self, request: HttpRequest) -> bool:
        # The records stay read-only; measuring again is what changing them means.
        return request.user.has_perm("fabric.change_revenuerecord")

    @admin.action(
        description="Verify these listings' revenue again (today's records)",
        permissions=["verify"],
    )
    def verify_again(self, request: HttpRequest, queryset: QuerySet[RevenueRecord]) -> None:
        listing_ids = sorted({str(i) for i in queryset.values_list("listing_id", flat=True)})
        for listing_id in listing_ids:
            transaction.on_commit(partial(verify_listing_revenue.delay, listing_id))
        self.message_user(request, f"{len(listing_ids)} listing(s) queued for verification.")


@admin.register(StripeConnection)
class StripeConnectionAdmin(_ReadOnly):
    """Operators may remove a connection (the seller's page does too), never see the key."""

    list_display = ["listing", "account_label", "created_at", "last_checked_at", "last_error"]
    list_select_related = ["listing"]
    search_fields = ["listing__title", "listing__id", "account_label"]
    raw_id_fields = ["listing", "connected_by"]
    exclude = ["api_key"]
