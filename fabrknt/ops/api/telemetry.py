"""GET /api/v1/operational/telemetry: a thin view over `fabrknt.ops.telemetry`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsStaff
from fabrknt.ops.api.telemetry_serializers import TelemetrySerializer
from fabrknt.ops.telemetry import telemetry


class TelemetryView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Workers, beat schedules, components, versions and pending migrations",
        description=(
            "Staff only. Always answers 200 while the process serves: a component that is "
            "down is reported `down`, and what lives in it as empty (the workers and task "
            "results in Redis) or null (schedules and migrations in the database)."
        ),
        responses={200: TelemetrySerializer, **error_responses(401, 403, s403="Staff only")},
    )
    def get(self, request: Request) -> Response:
        return Response(TelemetrySerializer(telemetry()).data)
