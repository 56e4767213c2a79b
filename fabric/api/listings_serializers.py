"""FABRIC listings: API shapes (input and output kept apart).

A listing's detail is shaped by what its caller may see (`fabric.selectors.ListingView`):
the teaser always; `assets` only to those who see the assets; `revenue` and `data_room`
only after the NDA (and to the seller's members); the seller's own settings only to them.
`access` says which, so a frontend knows what is locked and why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fabric.api.dataroom import DocumentSerializer
from fabric.models import MONEY_DIGITS, AssetType, Listing, Visibility
from fabric.selectors import ListingView, data_room_documents
from fabric.services.listings import (
    ASSET_IDENTIFIER_MAX,
    DESCRIPTION_MAX,
    NDA_TEXT_MAX,
    TITLE_MAX,
)
from fabrknt.chain.networks import network_of


class Money(serializers.DecimalField):
    """US dollars: a decimal string with two places."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


def _score() -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True, read_only=True, help_text="0–100; null until computed"
    )


# --- input ----------------------------------------------------------------------------------


class _ListingFields(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True
    )
    asking_price_usd = Money()
    blockchain = serializers.CharField(max_length=64, help_text="CAIP-2, e.g. eip155:8453")
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    pulse_team = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="a pulse_id of the organization's own PULSE team",
    )
    trace_project = serializers.UUIDField(
        required=False, allow_null=True, help_text="an id of the organization's own TRACE project"
    )
    seller_wallet = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="the address on the listing's chain the escrow pays",
    )
    nda_text = serializers.CharField(
        max_length=NDA_TEXT_MAX,
        required=False,
        allow_blank=True,
        help_text="the listing's own NDA (empty: the platform's); each change is a new "
        "version buyers sign again",
    )


class ListingInSerializer(_ListingFields):
    organization = serializers.UUIDField()


class ListingPatchSerializer(_ListingFields):
    """Every field optional (a PATCH)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class AssetInSerializer(serializers.Serializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    asset_identifier = serializers.CharField(
        max_length=ASSET_IDENTIFIER_MAX,
        help_text="an address for contract, token, nft and treasury; else a name or URL",
    )
    chain = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="CAIP-2; required for contract, token, nft and treasury",
    )
    metadata = serializers.DictField(required=False)


class ListingQuerySerializer(serializers.Serializer):
    blockchain = serializers.CharField(required=False, help_text="CAIP-2")
    min_price = Money(required=False, help_text="asking price at least (USD)")
    max_price = Money(required=False, help_text="asking price at most (USD)")
    min_score = serializers.FloatField(
        required=False, min_value=0, max_value=100, help_text="Fabrknt score at least"
    )

    def validate_blockchain(self, value: str) -> str:
        if network_of(value) is None:
            raise serializers.ValidationError("Not a supported chain (CAIP-2).")
        return value


# --- output ---------------------------------------------------------------------------------


class AssetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    asset_type = serializers.CharField()
    asset_identifier = serializers.CharField(help_text="EIP-55 for EVM addresses")
    chain = serializers.CharField(allow_blank=True)
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()


class ListingSerializer(serializers.Serializer):
    """The teaser: what anyone who may see the listing sees."""

    id = serializers.UUIDField()
    organization = serializers.UUIDField(source="organization_id")
    title = serializers.CharField()
    description = serializers.CharField()
    asking_price_usd = Money()
    blockchain = serializers.CharField()
    visibility = serializers.CharField()
    status = serializers.CharField()
    featured = serializers.BooleanField()
    fabrknt_score = _score()
    growth_score = _score()
    vitality_score = _score()
    revenue_verified = Money(
        allow_null=True, help_text="trailing 30 days, verified; null until measured"
    )
    nda_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    sold_at = serializers.DateTimeField(allow_null=True)


class AccessSerializer(serializers.Serializer):
    is_seller = serializers.BooleanField(help_text="a member (or key) of the seller")
    can_edit = serializers.BooleanField(source="seller_can_write")
    nda_signed = serializers.BooleanField(help_text="one of the caller's wallets signed it")
    sees_assets = serializers.BooleanField()
    sees_gated = serializers.BooleanField(help_text="revenue detail and the data room")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField(source="period_start")
    end = serializers.DateTimeField(source="period_end")


class RevenueRecordSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="onchain or stripe")  # type: ignore[assignment]
    window_days = serializers.IntegerField()
    fees_usd = Money()
    revenue_usd = Money()
    period = PeriodSerializer(source="*")
    computed_at = serializers.DateTimeField()


class RevenueSerializer(serializers.Serializer):
    revenue_verified = Money(allow_null=True)
    records = RevenueRecordSerializer(many=True, source="revenue_records.all")


class DataRoomSerializer(serializers.Serializer):
    documents = serializers.SerializerMethodField()

    @extend_schema_field(DocumentSerializer(many=True))
    def get_documents(self, listing: Listing) -> list[dict[str, Any]]:
        return list(DocumentSerializer(data_room_documents(listing), many=True).data)


class ListingDetailSerializer(ListingSerializer):
    """A listing as the caller (context `listing_view`) may see it: fields it may not see
    are left out, not nulled."""

    access = serializers.SerializerMethodField()
    assets = AssetSerializer(many=True, source="assets.all", required=False)
    revenue = RevenueSerializer(source="*", required=False)
    data_room = DataRoomSerializer(source="*", required=False)
    pulse_team = serializers.SerializerMethodField(
        required=False, help_text="seller only: the linked team's pulse_id"
    )
    trace_project = serializers.UUIDField(
        source="trace_project_id", allow_null=True, required=False, help_text="seller only"
    )
    seller_wallet = serializers.CharField(required=False, help_text="seller only")
    nda_text = serializers.CharField(required=False, help_text="seller only")
    review_note = serializers.CharField(required=False, help_text="seller only")

    SELLER_ONLY = ("pulse_team", "trace_project", "seller_wallet", "nda_text", "review_note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        view: ListingView | None = self.context.get("listing_view")
        if view is None:  # the schema generator
            return
        hidden = set() if view.is_seller else set(self.SELLER_ONLY)
        if not view.sees_assets:
            hidden.add("assets")
        if not view.sees_gated:
            hidden |= {"revenue", "data_room"}
        for name in hidden:
            self.fields.pop(name)

    @extend_schema_field(AccessSerializer)
    def get_access(self, listing: Listing) -> dict[str, Any]:
        return dict(AccessSerializer(self.context["listing_view"]).data)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pulse_team(self, listing: Listing) -> str | None:
        return listing.pulse_team.pulse_id if listing.pulse_team else None
