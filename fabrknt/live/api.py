"""POST /api/v1/ws-token: a single-use token for `/ws/live?token=…` (API.md, Operations)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsUser
from fabrknt.live.tokens import live_token_issue


class LiveTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class LiveTokenView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        request=None,
        responses={200: LiveTokenSerializer, **error_responses(401, 403, 503)},
        tags=["operations"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        return Response(LiveTokenSerializer(live_token_issue(user=request.user)).data)
