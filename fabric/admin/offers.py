"""Offers in the back office: each with its steps, read-only (the parties act on the pages
and the API; an operator looks, for instance before settling an escrow dispute)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fabric.models import Offer, OfferStep


class OfferStepInline(admin.TabularInline):
    model = OfferStep
    extra = 0
    fields = ("created_at", "action", "party", "actor", "amount_usd", "terms")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["listing", "amount_usd", "status", "awaiting", "buyer_wallet", "created_at"]
    list_filter = ["status", "awaiting"]
    search_fields = ["listing__title", "buyer_wallet", "buyer__username"]
    list_select_related = ["listing"]
    raw_id_fields = ["listing", "buyer"]
    readonly_fields = [
        "listing",
        "buyer",
        "buyer_wallet",
        "amount_usd",
        "terms",
        "expires_at",
        "status",
        "awaiting",
        "created_at",
        "updated_at",
    ]
    inlines = [OfferStepInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
