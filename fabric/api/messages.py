"""Messages API: the threads of a listing (one per buyer), thin over
fabric.services.messages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from fabric.models import Message
from fabric.selectors import gated_listing
from fabric.services.messages import BODY_MAX, message_send, thread_messages
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses

TAGS = ["fabric-messages"]


class MessageInSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX)
    buyer = serializers.UUIDField(
        required=False,
        help_text="the seller's members: the user id of the buyer whose thread this answers",
    )


class MessageSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField()
    buyer = serializers.UUIDField(source="buyer_id", help_text="the thread's buyer (user id)")
    sender = serializers.UUIDField(source="sender_id", allow_null=True)
    sender_party = serializers.CharField(help_text="buyer or seller")

    class Meta:
        model = Message
        fields = [
            "id",
            "listing_id",
            "buyer",
            "sender",
            "sender_party",
            "body",
            "created_at",
            "read_at",
        ]


class ListingMessagesView(GenericAPIView):
    serializer_class = MessageSerializer

    def get_queryset(self):
        access = access_of(self.request)
        view = gated_listing(listing_id=self.kwargs["listing_id"], access=access)
        return thread_messages(
            view=view, access=access, buyer_id=self.request.query_params.get("buyer")
        )

    @extend_schema(
        operation_id="fabric_listing_messages_list",
        parameters=[
            OpenApiParameter(
                "buyer",
                str,
                required=False,
                description="the seller's members: one buyer's thread (user id)",
            )
        ],
        responses={200: MessageSerializer(many=True), **error_responses(400, 401, 403, 404)},
        description="Messages, oldest first: a buyer who signed the NDA reads their own "
        "thread; the seller's members every thread of the listing, or one with `buyer`. "
        "Reading a thread marks the other side's messages in it read (`read_at`).",
        tags=TAGS,
    )
    def get(self, request: Request, listing_id: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="fabric_listing_messages_create",
        request=MessageInSerializer,
        responses={201: MessageSerializer, **error_responses(400, 401, 403, 404)},
        description="Write in a thread: a buyer who signed the NDA in their own; the seller's "
        "members with write in the thread of `buyer` (a user who signed the listing's NDA). "
        f"`body` up to {BODY_MAX} characters.",
        tags=TAGS,
    )
    def post(self, request: Request, listing_id: str) -> Response:
        body = MessageInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = message_send(
            listing_id=listing_id,
            access=access_of(request),
            body=body.validated_data["body"],
            buyer_id=body.validated_data.get("buyer"),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
