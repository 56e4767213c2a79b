"""Escrow deals for operators: read-only, since the contract's events decide their status
(`monitor_escrows`); each deal with its event history, and the monitor's cursors."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fabric.models import EscrowCursor, EscrowEvent, EscrowTransaction


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EscrowEventInline(_ReadOnly, admin.TabularInline):
    model = EscrowEvent
    extra = 0
    fields = readonly_fields = ("event", "status_after", "tx_hash", "block_number", "occurred_at")
    ordering = ["block_number", "log_index"]


@admin.register(EscrowTransaction)
class EscrowTransactionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "listing",
        "status",
        "amount_usd",
        "chain",
        "deal_id",
        "created_at",
        "funded_at",
        "completed_at",
        "disputed_at",
    ]
    list_filter = ["status", "chain"]
    list_select_related = ["listing"]
    search_fields = ["id", "deal_ref", "buyer_wallet", "seller_wallet", "listing__title"]
    raw_id_fields = ["listing", "offer", "buyer"]
    inlines = [EscrowEventInline]
    date_hierarchy = "created_at"


@admin.register(EscrowCursor)
class EscrowCursorAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["chain", "contract_address", "last_block", "updated_at"]
