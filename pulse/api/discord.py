"""`POST /api/v1/discord/webhook`: activity relayed by our Discord bot.

Thin: check the relay's Ed25519 signature (DISCORD_RELAY_PUBLIC_KEY, over
`X-Signature-Timestamp + body`, at most DISCORD_RELAY_MAX_AGE_SECONDS old or ahead) on the
raw body before anything is parsed, parse the payload, hand it to the service. A bad or
stale signature is a 401 and stores nothing. The answer is 200 with what became of the
event: `stored`, `duplicate` (a repeat: nothing changed) or `ignored` (a guild no team
installed the bot for through its install link: nothing stored, and a 2xx, so the bot does
not retry what will never be taken).
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
from fabrknt.chain.wire import json_body_parse
from fabrknt.ops.metrics.webhooks import WebhookDeliveriesCounted
from pulse.discord.payload import RelayEvent, relay_event_parse
from pulse.discord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, relay_signature_valid
from pulse.services.discord_relay import RelayOutcome, discord_relay_record


class RelayReceiptSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[outcome.value for outcome in RelayOutcome])
    detail = serializers.CharField()


class DiscordWebhookView(WebhookDeliveriesCounted, APIView):
    webhook_provider = "discord"
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="discord_webhook",
        summary="Discord activity relayed by the PULSE bot",
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="hex Ed25519 signature of X-Signature-Timestamp + the raw body, "
                "by the key whose public half is DISCORD_RELAY_PUBLIC_KEY",
            ),
            OpenApiParameter(
                TIMESTAMP_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unix seconds; older than 5 minutes (or as far ahead) is refused",
            ),
        ],
        request=RelayEvent,
        responses={
            200: RelayReceiptSerializer,
            **error_responses(
                400,
                401,
                503,
                s400="malformed JSON or not the relay's shape",
                s401="missing, bad or stale signature",
                s503="DISCORD_RELAY_PUBLIC_KEY not configured",
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        public_key = settings.DISCORD_RELAY_PUBLIC_KEY
        if not public_key:
            raise Unavailable("Discord relay not configured.", code="not_configured")
        body = request.body  # the raw bytes: the signature covers exactly these
        if not relay_signature_valid(
            public_key_base64=public_key,
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            max_age_seconds=settings.DISCORD_RELAY_MAX_AGE_SECONDS,
        ):
            raise NotAuthenticated(
                "Invalid, missing or stale X-Signature-Ed25519 / X-Signature-Timestamp.",
                code="bad_signature",
            )
        event = relay_event_parse(json_body_parse(body))
        result = discord_relay_record(event=event)
        return Response({"outcome": result.outcome.value, "detail": result.detail})
