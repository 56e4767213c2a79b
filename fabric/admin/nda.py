"""NDA signatures (the evidence: the exact text and signature, read-only) and buyers'
access as sellers set it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fabric.models import BuyerAccess, NDASignature


@admin.register(NDASignature)
class NDASignatureAdmin(admin.ModelAdmin):
    """Signatures are evidence: operators read them, nobody edits them."""

    list_display = ["buyer_wallet", "listing", "user", "nda_version", "scheme", "signed_at"]
    list_filter = ["scheme", "namespace", "signed_at"]
    search_fields = ["buyer_wallet", "listing__title", "=listing__id"]
    list_select_related = ["listing", "user"]
    raw_id_fields = ["listing", "user"]
    date_hierarchy = "signed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BuyerAccess)
class BuyerAccessAdmin(admin.ModelAdmin):
    list_display = ["wallet_address", "listing", "invited_at", "revoked_at", "created_at"]
    list_filter = ["namespace", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["wallet_address", "listing__title", "=listing__id"]
    list_select_related = ["listing"]
    raw_id_fields = ["listing", "invited_by", "revoked_by"]
    readonly_fields = ["created_at"]
