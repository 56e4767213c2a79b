"""Listing images API: the seller's members upload (multipart) and delete a logo and
screenshots; whoever may see the listing lists them. The images themselves are served by
`fabric.pages.media` (the URLs below), which asks `listing_view` again."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabric.models import ListingMedia, MediaKind
from fabric.selectors import listing_images, listing_view, seller_image, seller_listing
from fabric.services.media import media_delete, media_upload
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses

TAGS = ["fabric-media"]


class MediaSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField(help_text="The WebP the marketplace shows")

    class Meta:
        model = ListingMedia
        fields = ["id", "listing_id", "kind", "width", "height", "position", "url", "created_at"]

    @extend_schema_field(serializers.URLField())
    def get_url(self, media: ListingMedia) -> str:
        path = reverse("fabric:media-image", kwargs={"media_id": media.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PNG, JPEG or WebP image")
    kind = serializers.ChoiceField(choices=MediaKind.choices)


class ListingMediaView(GenericAPIView):
    serializer_class = MediaSerializer
    parser_classes = [MultiPartParser]

    def get_permissions(self):
        # Listing the images is part of the teaser: anyone the listing is visible to.
        if self.request.method == "GET":
            return [AllowAny()]
        return [permission() for permission in self.settings.DEFAULT_PERMISSION_CLASSES]

    @extend_schema(
        operation_id="fabric_media_list",
        responses={200: MediaSerializer(many=True), **error_responses(404)},
        description="The listing's logo and screenshots, for whoever may see the listing.",
        tags=TAGS,
    )
    def get(self, request: Request, listing_id: str) -> Response:
        view = listing_view(listing_id=listing_id, access=access_of(request))
        page = self.paginate_queryset(listing_images(view.listing))
        data = MediaSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="fabric_media_upload",
        request={"multipart/form-data": MediaUploadSerializer},
        responses={
            201: MediaSerializer,
            200: OpenApiResponse(MediaSerializer, description="The same image, already there"),
            **error_responses(400, 401, 403, 404, 409, 413, 415),
        },
        description="Upload a logo (cropped square, at most 512 px, at least 128×128) or a "
        "screenshot (at most 1600 px wide, at least 640×360): PNG, JPEG or WebP by content, "
        "FABRIC_MEDIA_MAX_BYTES at most (413). Stored as a WebP for the marketplace, the "
        "original kept without its metadata. A new logo replaces the old one; more than "
        "FABRIC_MEDIA_MAX_SCREENSHOTS screenshots is 409.",
        tags=TAGS,
    )
    def post(self, request: Request, listing_id: str) -> Response:
        listing = seller_listing(listing_id=listing_id, access=access_of(request))
        body = MediaUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        uploaded = media_upload(
            listing=listing, upload=body.validated_data["file"], kind=body.validated_data["kind"]
        )
        return Response(
            MediaSerializer(uploaded.media, context={"request": request}).data,
            status=status.HTTP_201_CREATED if uploaded.created else status.HTTP_200_OK,
        )


class ListingMediaItemView(APIView):
    @extend_schema(
        operation_id="fabric_media_delete",
        responses={204: None, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def delete(self, request: Request, listing_id: str, media_id: str) -> Response:
        media = seller_image(listing_id=listing_id, media_id=media_id, access=access_of(request))
        media_delete(media=media)
        return Response(status=status.HTTP_204_NO_CONTENT)
