"""`POST /api/v1/mint-sbt`, and the public metadata and badge of every minted token (the
contract's tokenURI points here: `/api/v1/sbt/<chain>/<address>/<token id>`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import WRITE, access_of
from fabrknt.api.errors import NotFound, error_responses
from fabrknt.readcache import public_cache_headers
from pulse.api import sbt_serializers as s
from pulse.models import Team
from pulse.services.sbt import sbt_request
from pulse.services.sbt_badge import token_badge, token_metadata_document

# A minted token's metadata changes only when its team is renamed: browsers and the CDN
# may keep it an hour (wallets and marketplaces re-fetch on their own schedule).
METADATA_SECONDS = 3600


class MintSbtView(APIView):
    @extend_schema(
        operation_id="pulse_mint_sbt",
        request=s.MintSbtInSerializer,
        responses={
            200: s.SbtRecordSerializer,
            202: s.SbtRecordSerializer,
            **error_responses(400, 401, 403, 404, 503),
        },
        description="Ask for a contributor's milestone token: 202 when the milestone is met "
        "by the team's recorded activity and the mint is queued, 200 with the existing "
        "record on a repeat, 400 when not met or for a wallet that is not an EVM one.",
        tags=["pulse"],
    )
    def post(self, request: Request) -> Response:
        serializer = s.MintSbtInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = access_of(request).get(Team.objects.all(), WRITE, pulse_id=data["pulse_id"])
        claim = sbt_request(
            team=team, wallet_address=data["wallet_address"], milestone=data["milestone"]
        )
        claim.record.team = team
        return Response(
            s.SbtRecordSerializer(claim.record).data,
            status=status.HTTP_202_ACCEPTED if claim.created else status.HTTP_200_OK,
        )


class TokenMetadataView(APIView):
    # Public: wallets and explorers read it from the token's URI, with no account.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="pulse_sbt_metadata",
        responses={200: s.TokenMetadataSerializer, **error_responses(404)},
        description="ERC-721 metadata of a minted PULSE milestone token (its tokenURI).",
        tags=["pulse"],
    )
    def get(self, request: Request, chain: str, address: str, token_id: int) -> Response:
        document = token_metadata_document(chain=chain, address=address, token_id=token_id)
        if document is None:
            raise NotFound()
        return public_cache_headers(Response(document), seconds=METADATA_SECONDS)


@require_safe
def token_image(request: HttpRequest, chain: str, address: str, token_id: int) -> HttpResponse:
    """The token's badge, an SVG we render (its texts escaped by the template engine)."""
    badge = token_badge(chain=chain, address=address, token_id=token_id)
    if badge is None:
        raise Http404
    svg = render_to_string("pulse/sbt/badge.svg", {"badge": badge})
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    public_cache_headers(response, seconds=METADATA_SECONDS)
    # Opened on its own, the image runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
