"""Offers API: thin views over fabric.services.offers (turns, repeats and expiry are
described there)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabric.models import MONEY_DIGITS, Offer, OfferStep
from fabric.offer_selectors import listing_offers
from fabric.selectors import gated_listing
from fabric.services.offers import (
    TERMS_MAX,
    offer_accept,
    offer_counter,
    offer_decline,
    offer_get,
    offer_make,
    offer_withdraw,
)
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses

TAGS = ["fabric-offers"]


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


class OfferInSerializer(serializers.Serializer):
    buyer_wallet = serializers.CharField(
        max_length=100, help_text="one of your wallets that signed the listing's NDA"
    )
    amount_usd = _money(min_value=Decimal("0.01"), help_text="more than zero, a money string")
    terms = serializers.CharField(
        max_length=TERMS_MAX, required=False, allow_blank=True, default=""
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="in the future; none: no expiry"
    )


class CounterInSerializer(serializers.Serializer):
    amount_usd = _money(min_value=Decimal("0.01"))
    terms = serializers.CharField(
        max_length=TERMS_MAX,
        required=False,
        allow_blank=True,
        help_text="the new terms; left out: the terms stay",
    )


# Statuses and parties are plain strings in the schema (their values in help_text): the
# same choice sets under several field names would make colliding enum components.
class OfferStepSerializer(serializers.ModelSerializer):
    action = serializers.CharField(
        help_text="made, countered, accepted, declined, withdrawn or expired"
    )
    party = serializers.CharField(
        help_text="who took the step: buyer or seller; empty for an expiry"
    )

    class Meta:
        model = OfferStep
        fields = ["action", "party", "amount_usd", "terms", "created_at"]


class OfferSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField()
    buyer = serializers.UUIDField(source="buyer_id", help_text="the buyer's user id")
    status = serializers.CharField(
        help_text="open, countered, accepted, declined, withdrawn or expired"
    )
    awaiting = serializers.CharField(
        help_text="buyer or seller: whose turn it is while the offer is open or countered"
    )
    history = OfferStepSerializer(source="steps", many=True)

    class Meta:
        model = Offer
        fields = [
            "id",
            "listing_id",
            "status",
            "awaiting",
            "amount_usd",
            "terms",
            "expires_at",
            "buyer",
            "buyer_wallet",
            "history",
            "created_at",
            "updated_at",
        ]


def _answer(offer: Offer, code: int = status.HTTP_200_OK) -> Response:
    fresh = Offer.objects.prefetch_related("steps").get(pk=offer.pk)
    return Response(OfferSerializer(fresh).data, status=code)


class ListingOffersView(GenericAPIView):
    serializer_class = OfferSerializer

    def get_queryset(self):
        access = access_of(self.request)
        view = gated_listing(listing_id=self.kwargs["listing_id"], access=access)
        return listing_offers(view=view, access=access).prefetch_related("steps")

    @extend_schema(
        operation_id="fabric_listing_offers_list",
        responses={200: OfferSerializer(many=True), **error_responses(401, 403, 404)},
        description="The listing's offers: all of them for the seller's members, their own "
        "for a buyer who signed the NDA. Newest first.",
        tags=TAGS,
    )
    def get(self, request: Request, listing_id: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OfferSerializer(page, many=True).data)

    @extend_schema(
        operation_id="fabric_listing_offers_create",
        request=OfferInSerializer,
        responses={
            201: OfferSerializer,
            200: OpenApiResponse(OfferSerializer, description="The same offer was open already"),
            **error_responses(400, 401, 403, 404, 409),
        },
        description="An offer by a user who signed the listing's NDA with `buyer_wallet`, on "
        "a published or under-offer listing (else 409): `status: open`, awaiting the "
        "seller. The seller's own members cannot offer (403). Idempotent on the whole "
        "offer while it is open: the same wallet, amount, terms and expiry again answer 200 "
        "with it.",
        tags=TAGS,
    )
    def post(self, request: Request, listing_id: str) -> Response:
        body = OfferInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        made = offer_make(listing_id=listing_id, access=access_of(request), **body.validated_data)
        return _answer(made.offer, status.HTTP_201_CREATED if made.created else status.HTTP_200_OK)


class OfferDetailView(APIView):
    @extend_schema(
        operation_id="fabric_offers_retrieve",
        responses={200: OfferSerializer, **error_responses(401, 404)},
        description="An offer, for its buyer or the seller's members (others 404), with its "
        "history. An offer whose expiry passed is `expired`.",
        tags=TAGS,
    )
    def get(self, request: Request, offer_id: str) -> Response:
        return _answer(offer_get(offer_id=offer_id, access=access_of(request)).offer)


def _action_view(name: str, act: Callable[..., Offer], description: str) -> type[APIView]:
    class OfferActionView(APIView):
        @extend_schema(
            operation_id=f"fabric_offers_{name}",
            request=None,
            responses={
                200: OpenApiResponse(OfferSerializer, description="The offer after the step"),
                **error_responses(401, 403, 404, 409),
            },
            description=description,
            tags=TAGS,
        )
        def post(self, request: Request, offer_id: str) -> Response:
            return _answer(act(offer_id=offer_id, access=access_of(request)))

    OfferActionView.__name__ = f"Offer{name.title()}View"
    return OfferActionView


REPEAT = " Repeating it answers 200 with the offer, unchanged."
OfferAcceptView = _action_view(
    "accept",
    offer_accept,
    "Accept on your turn (the seller's members with write after an offer, the buyer after "
    "a counter): the listing goes under offer and its other open or countered offers are "
    "declined. Out of turn, on a final offer, or when another offer of the listing was "
    "accepted: 409." + REPEAT,
)
OfferDeclineView = _action_view(
    "decline", offer_decline, "Decline on your turn; out of turn or final: 409." + REPEAT
)
OfferWithdrawView = _action_view(
    "withdraw",
    offer_withdraw,
    "The buyer takes the offer back at any time while it is open or countered; the "
    "seller's side, or a final offer: 409." + REPEAT,
)


class OfferCounterView(APIView):
    @extend_schema(
        operation_id="fabric_offers_counter",
        request=CounterInSerializer,
        responses={200: OfferSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Counter on your turn: the offer keeps its id, takes the new amount (and "
        "terms), becomes `countered` and the turn passes. Out of turn or final: 409 (so a "
        "repeated counter is a 409: the turn has passed).",
        tags=TAGS,
    )
    def post(self, request: Request, offer_id: str) -> Response:
        body = CounterInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        offer = offer_counter(offer_id=offer_id, access=access_of(request), **body.validated_data)
        return _answer(offer)
