"""Listings in the back office: operators vet them (approve or reject what waits for
review, feature, withdraw) through fabric.services.listings, and read their status history,
assets, NDA signatures and buyer access. Status and scores are never edited by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from fabric.models import BuyerAccess, Listing, ListingAsset, ListingEvent, NDASignature
from fabric.services.listings import (
    listing_approve,
    listing_feature,
    listing_reject,
    listing_withdraw,
)
from fabrknt.api.errors import ServiceError
from trace.admin import ReadOnlyAdmin


def _operator(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class ListingActionForm(ActionForm):
    note = forms.CharField(
        required=False,
        max_length=500,
        label="Note",
        help_text="Why (shown to the seller; required to reject).",
    )


class ListingEventInline(admin.TabularInline):
    model = ListingEvent
    verbose_name_plural = "status history"
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ListingAssetInline(admin.TabularInline):
    model = ListingAsset
    fields = ("asset_type", "chain", "asset_identifier", "metadata", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "organization",
        "status",
        "visibility",
        "featured",
        "asking_price_usd",
        "fabrknt_score",
        "revenue_verified",
        "published_at",
        "created_at",
    ]
    list_filter = ["status", "visibility", "featured", "blockchain"]
    list_select_related = ["organization"]
    search_fields = ["title", "organization__name", "=id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["organization", "pulse_team", "trace_project", "created_by"]
    # Every change goes through the actions (and their services): nothing typed here.
    readonly_fields = [
        field.name for field in Listing._meta.get_fields() if field.concrete and field.name != "id"
    ]
    inlines = [ListingEventInline, ListingAssetInline]
    action_form = ListingActionForm
    actions = ["approve", "reject", "feature", "unfeature", "withdraw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sellers create listings on their pages or through the API

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Listing],
        act: Callable[[Listing], object],
        done: str,
    ) -> None:
        """Run `act` on each listing; a refused one (say, not pending review) is reported
        and the others still move."""
        moved = 0
        for listing in queryset.order_by("pk"):
            try:
                act(listing)
            except ServiceError as error:
                self.message_user(request, f"{listing.title}: {error.detail}", messages.WARNING)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} listing(s) {done}.")

    def _note(self, request: HttpRequest) -> str:
        return request.POST.get("note", "").strip()

    @admin.action(description="Approve (publish what waits for review)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        note = self._note(request)
        self._each(
            request,
            queryset,
            lambda listing: listing_approve(listing=listing, actor=_operator(request), note=note),
            "approved",
        )

    @admin.action(description="Reject (with the note)", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        note = self._note(request)
        if not note:
            self.message_user(request, "Write a note for the seller to reject.", messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda listing: listing_reject(listing=listing, actor=_operator(request), note=note),
            "rejected",
        )

    @admin.action(description="Feature in the marketplace", permissions=["change"])
    def feature(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        self._each(
            request,
            queryset,
            lambda listing: listing_feature(listing=listing, featured=True),
            "featured",
        )

    @admin.action(description="Stop featuring", permissions=["change"])
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        self._each(
            request,
            queryset,
            lambda listing: listing_feature(listing=listing, featured=False),
            "no longer featured",
        )

    @admin.action(description="Withdraw from the market", permissions=["change"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        note = self._note(request)
        self._each(
            request,
            queryset,
            lambda listing: listing_withdraw(listing=listing, actor=_operator(request), note=note),
            "withdrawn",
        )


@admin.register(NDASignature)
class NDASignatureAdmin(ReadOnlyAdmin):
    """Signatures are evidence: the exact message and signature, as the buyer signed them."""

    list_display = ["listing", "buyer_wallet", "user", "nda_version", "scheme", "signed_at"]
    list_filter = ["scheme", "namespace", "signed_at"]
    list_select_related = ["listing", "user"]
    date_hierarchy = "signed_at"
    search_fields = ["buyer_wallet", "listing__title", "=listing__id"]
    raw_id_fields = ["listing", "user"]


@admin.register(BuyerAccess)
class BuyerAccessAdmin(ReadOnlyAdmin):
    """Invitations and revocations, as the sellers set them on their pages."""

    list_display = ["listing", "wallet_address", "namespace", "invited_at", "revoked_at"]
    list_filter = ["namespace", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["listing"]
    search_fields = ["wallet_address", "listing__title", "=listing__id"]
    raw_id_fields = ["listing", "invited_by", "revoked_by"]
