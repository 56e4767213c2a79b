"""FABRIC listings API: thin views over fabric.selectors (who sees what) and
fabric.services.listings (what changes)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fabric.api import listings_serializers as s
from fabric.cache import MARKET, listing_scope
from fabric.models import Listing
from fabric.selectors import ListingView, listing_view, market_search, seller_listing
from fabric.services.listings import (
    listing_asset_add,
    listing_create,
    listing_publish,
    listing_update,
    listing_withdraw,
)
from fabrknt.api.access import WRITE, access_of
from fabrknt.api.errors import error_responses
from fabrknt.api.permissions import IsSignedIn
from fabrknt.readcache import cached

TAGS = ["fabric"]


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.pk else None


def _detail(request: Request, listing: Listing, *, created: bool = False) -> Response:
    """The listing as the caller sees it (read again, so every field is the stored one)."""
    view = listing_view(listing_id=listing.pk, access=access_of(request))
    return _render(view, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _render(view: ListingView, code: int = status.HTTP_200_OK) -> Response:
    """The detail as `view`'s caller sees it: decided per request (`listing_view`), then
    read from the cache of that listing and that access level (fabric/cache.py)."""

    def build() -> dict[str, Any]:
        serializer = s.ListingDetailSerializer(view.listing, context={"listing_view": view})
        return dict(serializer.data)

    level = (view.is_seller, view.seller_can_write, view.nda_signed, view.sees_assets)
    data = cached(
        "fabric:listing-detail",
        scopes=[listing_scope(view.listing.pk)],
        parts=(view.listing.pk, *level, view.sees_gated),
        build=build,
    )
    return Response(data, status=code)


class _ReadsForAnyone:
    """GET for anyone, signed in or not (a listing's visibility decides); writes for the
    signed-in."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in SAFE_METHODS:  # type: ignore[attr-defined]
            return [AllowAny()]
        return [IsSignedIn()]


class ListingListCreateView(_ReadsForAnyone, generics.ListAPIView):
    serializer_class = s.ListingSerializer

    @extend_schema(
        operation_id="fabric_listings_list",
        parameters=[s.ListingQuerySerializer],
        responses={200: s.ListingSerializer(many=True), **error_responses(400)},
        description="The marketplace: published listings (and those under offer) that are "
        "`public` or `nda`, featured first, newest first. Open to anyone.",
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The same for every caller: one entry per query string (and host, which the
        # page links carry), until a listing changes (fabric/cache.py).
        self.get_queryset()  # a bad filter is a 400, never cached
        data = cached(
            "fabric:market",
            scopes=[MARKET],
            parts=(request.get_host(), request.is_secure(), sorted(request.query_params.lists())),
            build=lambda: super(ListingListCreateView, self).get(request, *args, **kwargs).data,
        )
        return Response(data)

    def get_queryset(self) -> QuerySet[Listing]:
        query = s.ListingQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return market_search(**query.validated_data)

    @extend_schema(
        operation_id="fabric_listings_create",
        request=s.ListingInSerializer,
        responses={201: s.ListingDetailSerializer, **error_responses(400, 401, 403, 404)},
        description="A new listing of the organization, in `draft`. Its PULSE team and "
        "TRACE project must be the organization's own (else 400).",
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ListingInSerializer, request)
        organization = access_of(request).organization(data.pop("organization"), WRITE)
        listing = listing_create(organization=organization, actor=_actor(request), **data)
        return _detail(request, listing, created=True)


class ListingDetailView(_ReadsForAnyone, APIView):
    @extend_schema(
        operation_id="fabric_listings_retrieve",
        responses={200: s.ListingDetailSerializer, **error_responses(404)},
        description="A listing as its caller may see it: the teaser for anyone who may see "
        "it; `assets` for anyone on a public listing, after the NDA on an `nda` or private "
        "one; `revenue` and `data_room` after the NDA; everything to the seller's members. "
        "Private listings are 404 except to the seller and invited wallets; drafts to all "
        "but the seller.",
        tags=TAGS,
    )
    def get(self, request: Request, pk: str) -> Response:
        return _render(listing_view(listing_id=pk, access=access_of(request)))

    @extend_schema(
        operation_id="fabric_listings_partial_update",
        request=s.ListingPatchSerializer,
        responses={200: s.ListingDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="The seller edits the listing (not once under offer or sold: 409). A "
        "new `nda_text` is a new NDA version: buyers sign again.",
        tags=TAGS,
    )
    def patch(self, request: Request, pk: str) -> Response:
        listing = seller_listing(listing_id=pk, access=access_of(request))
        data = _valid(s.ListingPatchSerializer, request)
        listing = listing_update(listing=listing, actor=_actor(request), **data)
        return _detail(request, listing)


class ListingPublishView(APIView):
    @extend_schema(
        operation_id="fabric_listings_publish",
        request=None,
        responses={200: s.ListingDetailSerializer, **error_responses(401, 403, 404, 409)},
        description="A draft goes on the market (`published`, `published_at` set), or to "
        "`pending_review` when the operators' FABRIC_REQUIRE_REVIEW is on. Again on a "
        "published listing: 200, nothing changes.",
        tags=TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        listing = seller_listing(listing_id=pk, access=access_of(request))
        return _detail(request, listing_publish(listing=listing, actor=_actor(request)))


class ListingWithdrawView(APIView):
    @extend_schema(
        operation_id="fabric_listings_withdraw",
        request=None,
        responses={200: s.ListingDetailSerializer, **error_responses(401, 403, 404, 409)},
        description="The seller takes the listing off the market (a sold one: 409).",
        tags=TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        listing = seller_listing(listing_id=pk, access=access_of(request))
        return _detail(request, listing_withdraw(listing=listing, actor=_actor(request)))


class ListingAssetsView(APIView):
    @extend_schema(
        operation_id="fabric_listing_assets_create",
        request=s.AssetInSerializer,
        responses={
            201: s.AssetSerializer,
            200: s.AssetSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
        description="Add what the buyer receives. Idempotent on (type, chain, identifier): "
        "a repeat answers 200 with the stored asset. Contracts, tokens, NFTs and "
        "treasuries are addresses and need their `chain`.",
        tags=TAGS,
    )
    def post(self, request: Request, pk: str) -> Response:
        listing = seller_listing(listing_id=pk, access=access_of(request))
        data = _valid(s.AssetInSerializer, request)
        added = listing_asset_add(listing=listing, **data)
        return Response(
            s.AssetSerializer(added.asset).data,
            status=status.HTTP_201_CREATED if added.created else status.HTTP_200_OK,
        )
