"""The data room API: the seller's members upload and delete documents (multipart, the
API's exception to JSON bodies), the seller's members and NDA signers list them and ask
for short-lived download links; our own signed links are served here too."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fabric.models import DataRoomDocument
from fabric.selectors import (
    data_room_document,
    data_room_documents,
    gated_listing,
    seller_document,
    seller_listing,
)
from fabric.services.dataroom import (
    document_delete,
    document_filename,
    document_link_issue,
    document_link_redeem,
    document_upload,
)
from fabrknt.api.access import access_of
from fabrknt.api.errors import NotFound, error_responses
from fabrknt.security.client_ip import client_ip

logger = logging.getLogger(__name__)

TAGS = ["fabric-dataroom"]


class DocumentSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField(read_only=True)
    filename = serializers.SerializerMethodField()

    class Meta:
        model = DataRoomDocument
        fields = ["id", "listing_id", "title", "filename", "content_type", "size", "sha256"]
        fields += ["created_at"]

    def get_filename(self, document: DataRoomDocument) -> str:
        return document_filename(document)


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG, CSV, XLSX, DOCX, text or Markdown")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DocumentLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


def _user(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.pk else None


class ListingDocumentsView(GenericAPIView):
    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        view = gated_listing(listing_id=self.kwargs["listing_id"], access=access_of(self.request))
        return data_room_documents(view.listing)

    @extend_schema(
        operation_id="fabric_documents_list",
        responses={200: DocumentSerializer(many=True), **error_responses(401, 403, 404)},
        description="The listing's data room: for the seller's members, and for buyers who "
        "signed its current NDA (403 before, or once the seller revoked the wallet).",
        tags=TAGS,
    )
    def get(self, request: Request, listing_id: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="fabric_documents_upload",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            201: DocumentSerializer,
            200: OpenApiResponse(DocumentSerializer, description="The same content, already there"),
            **error_responses(400, 401, 403, 404, 413, 415),
        },
        description="Upload a document (multipart/form-data: `file`, optional `title`). Its "
        "type is told from its content (PDF, PNG, JPEG, XLSX, DOCX, or UTF-8 text for CSV, "
        "Markdown and plain text), never its name; FABRIC_DOCUMENT_MAX_BYTES (25 MiB) at "
        "most, else 413. The same content again answers 200 with the existing document.",
        tags=TAGS,
    )
    def post(self, request: Request, listing_id: str) -> Response:
        listing = seller_listing(listing_id=listing_id, access=access_of(request))
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        uploaded = document_upload(
            listing=listing,
            upload=body.validated_data["file"],
            title=body.validated_data["title"],
            actor=_user(request),
        )
        return Response(
            DocumentSerializer(uploaded.document).data,
            status=status.HTTP_201_CREATED if uploaded.created else status.HTTP_200_OK,
        )


class ListingDocumentView(APIView):
    @extend_schema(
        operation_id="fabric_documents_delete",
        responses={204: None, **error_responses(401, 403, 404)},
        description="Take a document out of the data room (its file is deleted; the access "
        "log keeps its downloads).",
        tags=TAGS,
    )
    def delete(self, request: Request, listing_id: str, document_id: str) -> Response:
        document = seller_document(
            listing_id=listing_id, document_id=document_id, access=access_of(request)
        )
        document_delete(document=document, actor=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentLinkView(APIView):
    @extend_schema(
        operation_id="fabric_documents_link",
        request=None,
        responses={200: DocumentLinkSerializer, **error_responses(401, 403, 404)},
        description="A short-lived download link (FABRIC_DOCUMENT_LINK_SECONDS, 5 minutes): "
        "a presigned URL of the bucket, or a signed URL of this server. Each link is "
        "recorded in the data room's access log.",
        tags=TAGS,
    )
    def post(self, request: Request, document_id: str) -> Response:
        document, view = data_room_document(document_id=document_id, access=access_of(request))
        link = document_link_issue(
            document=document, view=view, user=_user(request), ip_address=client_ip(request)
        )
        body = {"url": request.build_absolute_uri(link.url), "expires_at": link.expires_at}
        return Response(DocumentLinkSerializer(body).data)


class DocumentDownloadView(APIView):
    # The signed link is the permission (it names the document and whom it was issued to).
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="fabric_documents_download",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **error_responses(400, 404),
            410: OpenApiResponse(description="The link has expired"),
        },
        description="The file behind a link from `POST /documents/{id}/link` (when files "
        "are on this server), as an attachment; recorded in the access log.",
        tags=TAGS,
    )
    def get(self, request: Request, token: str) -> FileResponse:
        with transaction.atomic():  # a file gone from the disk records no download
            document = document_link_redeem(token=token, ip_address=client_ip(request))
            try:
                opened = document.file.open("rb")
            except FileNotFoundError:
                # The row outlived its file (a lost disk, a restore without the media
                # folder): the operator's to mend, the downloader's a 404.
                logger.error("Data room file %s is missing", document.file.name)
                raise NotFound() from None
        response = FileResponse(
            opened,
            as_attachment=True,
            filename=document_filename(document),
            content_type=document.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        return response
