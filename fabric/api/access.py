"""A seller's say over buyers' wallets: `GET /api/v1/listings/{id}/access` (who signed the
NDA, who is invited or revoked), `POST .../access` (invite a wallet to a private listing),
`POST .../access/revoke` and `POST .../access/restore`. Thin views over
fabric.services.buyer_access; reading needs a seller's member (or `read` key), changing
write access (fabric.selectors.seller_listing)."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fabric.models import Listing
from fabric.selectors import BuyerStanding, listing_buyers, seller_listing
from fabric.services.buyer_access import (
    AccessChange,
    buyer_access_invite,
    buyer_access_restore,
    buyer_access_revoke,
)
from fabrknt.api.access import READ, access_of
from fabrknt.api.errors import error_responses


class WalletInSerializer(serializers.Serializer):
    wallet_address = serializers.CharField(max_length=64)


class BuyerAccessSerializer(serializers.Serializer):
    wallet_address = serializers.CharField()
    namespace = serializers.CharField()
    invited_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class BuyerStandingSerializer(serializers.Serializer):
    wallet_address = serializers.CharField()
    namespace = serializers.CharField()
    nda_signed_at = serializers.DateTimeField(allow_null=True, source="signature.signed_at")
    nda_version_hash = serializers.CharField(allow_null=True, source="signature.nda_version_hash")
    signed_current_version = serializers.BooleanField(source="signed_current")
    invited_at = serializers.DateTimeField(allow_null=True, source="access.invited_at")
    revoked_at = serializers.DateTimeField(allow_null=True, source="access.revoked_at")


class ListingBuyersSerializer(serializers.Serializer):
    listing_id = serializers.UUIDField()
    visibility = serializers.CharField()
    buyers = BuyerStandingSerializer(many=True)


def _wallet_address(request: Request) -> str:
    body = WalletInSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return str(body.validated_data["wallet_address"])


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.pk else None


def _changed(
    request: Request, listing_id: str, service: Callable[..., AccessChange]
) -> AccessChange:
    """One wallet's standing changed by `service`, on a listing the caller sells (write)."""
    listing = seller_listing(listing_id=listing_id, access=access_of(request))
    return service(listing=listing, wallet_address=_wallet_address(request), actor=_actor(request))


def _answer(change: AccessChange, *, created_status: int = status.HTTP_200_OK) -> Response:
    return Response(
        BuyerAccessSerializer(change.access).data,
        status=created_status if change.changed else status.HTTP_200_OK,
    )


def _buyers(listing: Listing) -> dict[str, object]:
    buyers: list[BuyerStanding] = listing_buyers(listing)
    return {"listing_id": listing.pk, "visibility": listing.visibility, "buyers": buyers}


class ListingAccessView(APIView):
    @extend_schema(
        operation_id="fabric_listing_access_list",
        responses={200: ListingBuyersSerializer, **error_responses(401, 404)},
        description="The listing's buyers' wallets as its seller sees them: those who "
        "signed its NDA (the current version or an older one), invited and revoked "
        "wallets. The seller's members only; others 404.",
        tags=["fabric"],
    )
    def get(self, request: Request, listing_id: str) -> Response:
        listing = seller_listing(listing_id=listing_id, access=access_of(request), kind=READ)
        return Response(ListingBuyersSerializer(_buyers(listing)).data)

    @extend_schema(
        operation_id="fabric_listing_access_invite",
        request=WalletInSerializer,
        responses={
            200: BuyerAccessSerializer,
            201: BuyerAccessSerializer,
            **error_responses(400, 401, 403, 404),
        },
        description="Invite a wallet to a private listing (it may then open the listing "
        "and sign its NDA); reinstates a revoked wallet. 201 when the wallet's standing "
        "changed, 200 when it was already invited; 400 for a public or NDA listing.",
        tags=["fabric"],
    )
    def post(self, request: Request, listing_id: str) -> Response:
        return _answer(
            _changed(request, listing_id, buyer_access_invite),
            created_status=status.HTTP_201_CREATED,
        )


class ListingAccessRevokeView(APIView):
    @extend_schema(
        operation_id="fabric_listing_access_revoke",
        request=WalletInSerializer,
        responses={200: BuyerAccessSerializer, **error_responses(400, 401, 403, 404)},
        description="Revoke a wallet: whatever it signed, it sees nothing beyond what "
        "anyone sees (and an invited wallet no longer sees a private listing).",
        tags=["fabric"],
    )
    def post(self, request: Request, listing_id: str) -> Response:
        return _answer(_changed(request, listing_id, buyer_access_revoke))


class ListingAccessRestoreView(APIView):
    @extend_schema(
        operation_id="fabric_listing_access_restore",
        request=WalletInSerializer,
        responses={200: BuyerAccessSerializer, **error_responses(400, 401, 403, 404)},
        description="Undo a revocation: the wallet's NDA signature and invitation count "
        "again. 404 for a wallet never invited nor revoked.",
        tags=["fabric"],
    )
    def post(self, request: Request, listing_id: str) -> Response:
        return _answer(_changed(request, listing_id, buyer_access_restore))
