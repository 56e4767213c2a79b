"""`GET /api/v1/operational/metrics` (staff): `operational_metrics()`, serialized."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsStaff
from fabrknt.ops.alarms import ALARM, INSUFFICIENT_DATA, OK
from fabrknt.ops.metrics.operational import operational_metrics
from fabrknt.ops.queue_views import QueueSerializer


class WindowSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(help_text="the window: the last 1, 5 or 15 whole minutes")
    requests = serializers.IntegerField()
    request_rate = serializers.FloatField(help_text="requests per second")
    latency_p50_ms = serializers.FloatField(allow_null=True, help_text="null without requests")
    latency_p99_ms = serializers.FloatField(allow_null=True, help_text="null without requests")
    server_errors = serializers.IntegerField(help_text="5xx answers")
    error_rate = serializers.FloatField(
        allow_null=True, help_text="5xx share of the answers (0-1); null without requests"
    )
    clicks = serializers.IntegerField(help_text="clicks accepted")
    click_ingest_rate = serializers.FloatField(help_text="clicks accepted per second")


class MinutePointSerializer(serializers.Serializer):
    minute = serializers.DateTimeField(help_text="the minute's start")
    requests = serializers.IntegerField()
    latency_p50_ms = serializers.FloatField(allow_null=True)
    latency_p99_ms = serializers.FloatField(allow_null=True)
    server_errors = serializers.IntegerField(help_text="5xx answers")
    clicks = serializers.IntegerField()
    click_backlog = serializers.IntegerField(
        allow_null=True, help_text="largest click stream backlog seen that minute; null: none"
    )


class AlarmStateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="an alarm of fabrknt.ops.alarms.ALARMS")
    state = serializers.ChoiceField(choices=[OK, ALARM, INSUFFICIENT_DATA])
    value = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField()
    unit = serializers.CharField()


class OperationalMetricsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    complete_until = serializers.DateTimeField(
        help_text="end of the last whole minute counted (the minute in progress is not)"
    )
    windows = WindowSerializer(many=True)
    click_backlog = serializers.IntegerField(
        allow_null=True,
        help_text="entries waiting in the Redis click streams now (a batch entry holds up to "
        "CLICK_BATCH_MAX_ITEMS clicks); null without Redis (clicks go to the database)",
    )
    series = MinutePointSerializer(many=True, help_text="the last 60 whole minutes, oldest first")
    queues = QueueSerializer(
        many=True, allow_null=True, help_text="the task queues; null: the broker cannot be reached"
    )
    alarms = AlarmStateSerializer(many=True, help_text="the 5xx-rate, p99 and dead-letter alarms")


class OperationalMetricsView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="operational_metrics",
        summary="Request rate, latency, errors and click ingest over 1/5/15 minutes",
        responses={
            200: OperationalMetricsSerializer,
            **error_responses(401, 403, 503, s503="the metrics store (Redis) is unavailable"),
        },
        tags=["operations"],
    )
    def get(self, request: Request) -> Response:
        return Response(OperationalMetricsSerializer(operational_metrics()).data)
