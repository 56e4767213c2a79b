"""`GET /api/v1/nda/{listing_id}/message?wallet=` and `POST /api/v1/nda/sign`: thin views
over fabric.services.nda; who may see the listing is fabric.selectors.listing_view's."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fabric.models import NDASignature
from fabric.selectors import listing_view
from fabric.services.nda import nda_message_issue, nda_sign
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsUser


class MessageQuerySerializer(serializers.Serializer):
    wallet = serializers.CharField(max_length=64)


class NDAMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class NDASignBodySerializer(serializers.Serializer):
    listing_id = serializers.UUIDField()
    buyer_wallet = serializers.CharField(max_length=64)
    message = serializers.CharField(max_length=100_000, trim_whitespace=False)
    signature = serializers.CharField(max_length=2000)


class NDASignatureSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField()

    class Meta:
        model = NDASignature
        fields = ["id", "listing_id", "buyer_wallet", "nda_version_hash", "signed_at"]


class NDAMessageView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        operation_id="fabric_nda_message",
        parameters=[
            OpenApiParameter(
                "wallet", str, required=True, description="One of the caller's own wallets."
            )
        ],
        responses={200: NDAMessageSerializer, **error_responses(400, 401, 403, 404)},
        description="The exact text to sign with `wallet` to sign the listing's NDA: it "
        "names the listing, the NDA version's hash, the wallet, a single-use nonce (valid "
        "10 minutes) and the time it was issued, then the NDA's text.",
        tags=["fabric"],
    )
    def get(self, request: Request, listing_id: str) -> Response:
        query = MessageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        assert isinstance(request.user, User)
        view = listing_view(listing_id=listing_id, access=access_of(request))
        message = nda_message_issue(
            user=request.user, listing=view.listing, wallet_address=query.validated_data["wallet"]
        )
        return Response({"message": message})


class NDASignView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        operation_id="fabric_nda_sign",
        request=NDASignBodySerializer,
        responses={
            200: NDASignatureSerializer,
            201: NDASignatureSerializer,
            **error_responses(400, 401, 403, 404, 503),
        },
        description="Sign the listing's NDA: `message` is the text from "
        "`GET /api/v1/nda/{listing_id}/message` and `signature` the wallet's over it "
        "(EIP-191 personal_sign, 0x hex, for EVM wallets — EIP-1271 for contract wallets "
        "on a chain with an RPC —, Ed25519 in base58 for Solana). 201 with the stored "
        "signature; 200 with the existing one when this wallet already signed this NDA "
        "version; 400 for a signature by another key, a spent or expired message, another "
        "listing's message or an older NDA version's.",
        tags=["fabric"],
    )
    def post(self, request: Request) -> Response:
        body = NDASignBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        assert isinstance(request.user, User)
        view = listing_view(listing_id=data["listing_id"], access=access_of(request))
        signed = nda_sign(
            user=request.user,
            listing=view.listing,
            buyer_wallet=data["buyer_wallet"],
            message=data["message"],
            signature=data["signature"],
        )
        return Response(
            NDASignatureSerializer(signed.signature).data,
            status=status.HTTP_201_CREATED if signed.created else status.HTTP_200_OK,
        )
