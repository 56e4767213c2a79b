"""GitHub's webhook: the platform App's deliveries and teams' repository webhooks.

The signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body) is checked in constant
time before anything is parsed: with GITHUB_WEBHOOK_SECRET for the App (verified events),
or, with `?team=<pulse_id>`, with that team's secret (self-reported events, written to that
team only). The delivery is recorded (idempotent on `X-GitHub-Delivery`) and processed by
a task, so GitHub gets its answer at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.errors import InvalidInput, NotAuthenticated, Unavailable, error_responses
from fabrknt.chain.signatures import hmac_sha256_hex_valid
from fabrknt.ops.metrics.webhooks import WebhookDeliveriesCounted
from pulse.models import Team
from pulse.services.github_ingest import github_delivery_record

_SIGNATURE_PREFIX = "sha256="
_EVENT = re.compile(r"[a-z_]{1,64}")
_DELIVERY = re.compile(r"[A-Za-z0-9-]{1,100}")
_PULSE_ID = re.compile(r"pt_[A-Za-z0-9_-]{1,29}")
_BAD_SIGNATURE = "Invalid or missing X-Hub-Signature-256."


class GitHubReceiptSerializer(serializers.Serializer):
    delivery = serializers.CharField(help_text="the X-GitHub-Delivery id")
    duplicate = serializers.BooleanField(help_text="true when this delivery was already received")


def _payload(body: bytes) -> dict[str, Any]:
    # PostgreSQL's jsonb cannot hold NUL characters; GitHub never sends them.
    if b"\\u0000" in body.lower():
        raise InvalidInput("The payload contains a NUL character.")

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        payload = json.loads(body, parse_constant=refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidInput("Malformed JSON body.") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The payload must be a JSON object.")
    return payload


class GitHubWebhookView(WebhookDeliveriesCounted, APIView):
    webhook_provider = "github"
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="pulse_github_webhook",
        summary="GitHub webhook (the platform App, or a team's repository webhook)",
        parameters=[
            OpenApiParameter(
                "team",
                str,
                OpenApiParameter.QUERY,
                description="a team's pulse_id: the delivery is signed with that team's "
                "github_webhook_secret (self-reported events); absent: the GitHub App's",
            ),
            OpenApiParameter("X-Hub-Signature-256", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-GitHub-Event", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-GitHub-Delivery", str, OpenApiParameter.HEADER, required=True),
        ],
        request={"application/json": dict},
        responses={
            202: GitHubReceiptSerializer,
            200: GitHubReceiptSerializer,
            **error_responses(
                400, 401, 503, s401="missing or bad signature", s503="GITHUB_WEBHOOK_SECRET not set"
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        team, secret = self._signer(request)
        body = request.body  # the raw bytes: the signature covers exactly these
        signature = request.headers.get("X-Hub-Signature-256", "")
        if not signature.startswith(_SIGNATURE_PREFIX) or not hmac_sha256_hex_valid(
            secret=secret, body=body, signature=signature[len(_SIGNATURE_PREFIX) :]
        ):
            raise NotAuthenticated(_BAD_SIGNATURE, code="bad_signature")
        event = request.headers.get("X-GitHub-Event", "")
        delivery_id = request.headers.get("X-GitHub-Delivery", "")
        if not _EVENT.fullmatch(event) or not _DELIVERY.fullmatch(delivery_id):
            raise InvalidInput("X-GitHub-Event and X-GitHub-Delivery are required.")
        receipt = github_delivery_record(
            team=team, delivery_id=delivery_id, event=event, payload=_payload(body)
        )
        return Response(
            {"delivery": delivery_id, "duplicate": not receipt.created},
            status=status.HTTP_202_ACCEPTED if receipt.created else status.HTTP_200_OK,
        )

    def _signer(self, request: Request) -> tuple[Team | None, str]:
        """The team whose secret signs this delivery (None: the App) and that secret."""
        pulse_id = request.query_params.get("team")
        if pulse_id is None:
            if not settings.GITHUB_WEBHOOK_SECRET:
                raise Unavailable("The GitHub App is not configured.", code="not_configured")
            return None, settings.GITHUB_WEBHOOK_SECRET
        # An unknown team fails as a bad signature does: nothing tells them apart.
        team = (
            Team.objects.filter(pulse_id=pulse_id).first()
            if _PULSE_ID.fullmatch(pulse_id)
            else None
        )
        if team is None or not team.github_webhook_secret:
            raise NotAuthenticated(_BAD_SIGNATURE, code="bad_signature")
        return team, team.github_webhook_secret
