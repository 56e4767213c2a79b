"""Chain webhooks: Alchemy Address Activity and Helius enhanced transactions.

Thin: check the provider's signature on the raw body before anything is parsed, parse the
payload (`fabrknt.chain`), hand it to the ingest service, answer `{received, stored}`
(and, for Alchemy, how many activities were `rejected`: recorded, not refused).
The provider is the caller, so there is no user authentication and no per-IP throttle
(the signature check is cheap and the body size is capped by the request guard).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.errors import NotAuthenticated, Unavailable, error_responses
from fabrknt.chain.alchemy import AlchemyWebhookPayload, alchemy_payload_parse
from fabrknt.chain.helius import (
    HELIUS_CLUSTERS,
    HeliusWebhookPayload,
    helius_cluster_chain,
    helius_delivery_parse,
)
from fabrknt.chain.signatures import hmac_sha256_hex_valid, shared_secret_valid
from fabrknt.chain.wire import json_body_parse
from fabrknt.ops.metrics.webhooks import WebhookDeliveriesCounted
from trace.services.ingest import alchemy_event_ingest
from trace.services.ingest_helius import helius_delivery_ingest


class WebhookReceiptSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="transfers/transactions in the delivery")
    stored = serializers.IntegerField(help_text="new interactions stored (0 on a redelivery)")


class AlchemyReceiptSerializer(WebhookReceiptSerializer):
    rejected = serializers.IntegerField(
        help_text="activities not of the documented shape, recorded with their reason"
    )


_REFUSALS = error_responses(
    400,
    401,
    503,
    s400="malformed JSON or not the provider's documented shape",
    s401="missing or bad signature",
    s503="webhook secret not configured",
)


class _WebhookView(WebhookDeliveriesCounted, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class AlchemyWebhookView(_WebhookView):
    webhook_provider = "alchemy"

    @extend_schema(
        operation_id="webhooks_alchemy",
        summary="Alchemy Address Activity webhook",
        parameters=[
            OpenApiParameter(
                "X-Alchemy-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="hex HMAC-SHA256 of the raw body with ALCHEMY_WEBHOOK_SIGNING_KEY",
            )
        ],
        request=AlchemyWebhookPayload,
        responses={200: AlchemyReceiptSerializer, **_REFUSALS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        secret = settings.ALCHEMY_WEBHOOK_SIGNING_KEY
        if not secret:
            raise Unavailable("Alchemy webhook not configured.", code="not_configured")
        body = request.body  # the raw bytes: the signature covers exactly these
        if not hmac_sha256_hex_valid(
            secret=secret, body=body, signature=request.headers.get("X-Alchemy-Signature")
        ):
            raise NotAuthenticated("Invalid or missing X-Alchemy-Signature.", code="bad_signature")
        event = alchemy_payload_parse(json_body_parse(body))
        result = alchemy_event_ingest(event=event)
        return Response(
            {"received": result.received, "stored": result.stored, "rejected": len(event.unparsed)}
        )


class HeliusWebhookView(_WebhookView):
    webhook_provider = "helius"

    @extend_schema(
        operation_id="webhooks_helius",
        summary="Helius enhanced-transaction webhook",
        parameters=[
            OpenApiParameter(
                "Authorization",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="exactly the HELIUS_WEBHOOK_AUTH value set on the Helius webhook",
            ),
            OpenApiParameter(
                "cluster",
                str,
                OpenApiParameter.QUERY,
                enum=list(HELIUS_CLUSTERS),
                description="the cluster of the Helius webhook this URL is given to "
                "(mainnet when absent; devnet deliveries are stored on solana:devnet)",
            ),
        ],
        request=HeliusWebhookPayload,
        responses={200: WebhookReceiptSerializer, **_REFUSALS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        secret = settings.HELIUS_WEBHOOK_AUTH
        if not secret:
            raise Unavailable("Helius webhook not configured.", code="not_configured")
        if not shared_secret_valid(secret=secret, given=request.headers.get("Authorization")):
            raise NotAuthenticated("Invalid or missing Authorization header.", code="bad_signature")
        chain = helius_cluster_chain(request.query_params.get("cluster"))
        delivery = helius_delivery_parse(request.body)
        result = helius_delivery_ingest(delivery=delivery, chain=chain)
        return Response({"received": result.received, "stored": result.stored})
