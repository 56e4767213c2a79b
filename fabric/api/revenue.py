"""`POST/DELETE /api/v1/listings/{id}/stripe`: a seller connects (or forgets) the read-only
Stripe key the revenue verifier reads charges with (fabric.services.revenue)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import ApiKey
from fabric.models import StripeConnection
from fabric.selectors import seller_listing
from fabric.services.revenue import stripe_connect, stripe_disconnect
from fabrknt.api.access import access_of
from fabrknt.api.errors import NotFound, error_responses


class StripeKeySerializer(serializers.Serializer):
    api_key = serializers.CharField(
        max_length=255,
        trim_whitespace=True,
        help_text="a restricted key (rk_live_… or rk_test_…) with “Charges: Read” only; "
        "stored encrypted, never shown again",
    )


class StripeConnectionSerializer(serializers.Serializer):
    listing_id = serializers.UUIDField()
    connected = serializers.SerializerMethodField()
    account_label = serializers.CharField(help_text="the key's mode and last four characters")
    created_at = serializers.DateTimeField()
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()

    def get_connected(self, connection: StripeConnection) -> bool:
        return True


class ListingStripeView(APIView):
    @extend_schema(
        operation_id="fabric_listing_stripe_connect",
        summary="Connect a listing's Stripe account with a read-only key",
        description="The key is checked with Stripe (it must list charges) before it is "
        "stored, encrypted. 201 when connected, 200 when the same key was already connected "
        "(nothing changes); a refused key stores nothing.",
        request=StripeKeySerializer,
        responses={
            201: StripeConnectionSerializer,
            200: StripeConnectionSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                503,
                s400="not a restricted key, or Stripe refused it",
                s503="Stripe did not answer",
            ),
        },
        tags=["fabric"],
    )
    def post(self, request: AuthenticatedRequest, listing_id: str) -> Response:
        listing = seller_listing(listing_id=listing_id, access=access_of(request))
        body = StripeKeySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connection, created = stripe_connect(
            listing=listing,
            api_key=body.validated_data["api_key"],
            actor=None if isinstance(request.auth, ApiKey) else request.user,
        )
        return Response(StripeConnectionSerializer(connection).data, status=201 if created else 200)

    @extend_schema(
        operation_id="fabric_listing_stripe_disconnect",
        summary="Forget a listing's Stripe key",
        description="The revenue records already measured stay; Stripe stops counting in the "
        "listing's verified revenue.",
        responses={
            204: OpenApiResponse(description="Disconnected"),
            **error_responses(401, 403, 404, s404="no such listing, or no Stripe connected"),
        },
        tags=["fabric"],
    )
    def delete(self, request: AuthenticatedRequest, listing_id: str) -> Response:
        listing = seller_listing(listing_id=listing_id, access=access_of(request))
        if not stripe_disconnect(listing=listing):
            raise NotFound("No Stripe account is connected to this listing.")
        return Response(status=204)
