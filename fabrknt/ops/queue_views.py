"""`/api/v1/queue/`: the queues, their dead letters, retry and purge, for staff."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsStaff
from fabrknt.ops import queues


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    depth = serializers.IntegerField(help_text="messages waiting for a worker")
    dead_letter_depth = serializers.IntegerField()
    in_flight = serializers.IntegerField(
        allow_null=True, help_text="received and not yet acknowledged (SQS; null on Redis)"
    )
    oldest_message_age_seconds = serializers.FloatField(
        allow_null=True, help_text="null: neither broker's queue tells it"
    )


class MovedSerializer(serializers.Serializer):
    moved = serializers.IntegerField()


class PurgeInputSerializer(serializers.Serializer):
    dead_letters = serializers.BooleanField(
        default=False, help_text="drop the dead letters instead of the waiting messages"
    )


class PurgedSerializer(serializers.Serializer):
    purged = serializers.IntegerField()


_ERRORS = error_responses(401, 403, 503, s503="the broker cannot be reached")
_QUEUE_ERRORS = {**_ERRORS, **error_responses(404, s404="no such queue")}


class QueueListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Celery's queues: waiting messages and dead letters",
        description="Empty without a broker (tasks then run in-process).",
        responses={200: QueueSerializer(many=True), **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(QueueSerializer(queues.queue_stats(), many=True).data)


class QueueRetryDeadLettersView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Send a queue's dead letters back to it",
        description="Each is re-sent as it was (same task id): one more attempt.",
        request=None,
        responses={200: MovedSerializer, **_QUEUE_ERRORS},
    )
    def post(self, request: Request, name: str) -> Response:
        return Response({"moved": queues.retry_dead_letters(name)})


class QueuePurgeView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary="Drop a queue's waiting messages (or, asked, its dead letters)",
        request=PurgeInputSerializer,
        responses={200: PurgedSerializer, **_QUEUE_ERRORS, **error_responses(400)},
    )
    def post(self, request: Request, name: str) -> Response:
        given = PurgeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        purged = queues.purge(name, dead_letters=given.validated_data["dead_letters"])
        return Response({"purged": purged})
