"""`GET /api/v1/suite/summary/{listing_id}`: a listing's Fabrknt score, its TRACE, PULSE and
revenue parts, and the evidence each links to. Visible exactly as the listing is
(`fabric.selectors.listing_view`): anyone for a live public or NDA listing, the seller's
members and invited wallets for a private one; the revenue breakdown (periods, amounts,
fees) only to those who see the gated part (the seller's members, NDA signers)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabric.cache import listing_scope
from fabric.selectors import listing_view
from fabric.services.suite import suite_summary
from fabrknt.api.access import access_of
from fabrknt.api.errors import error_responses
from fabrknt.readcache import cached


class SuitePartSerializer(serializers.Serializer):
    available = serializers.BooleanField(
        help_text="false: the part earns no points (see `reason`); never a measured zero"
    )
    status = serializers.CharField(
        help_text="`verified`, `partly_verified` (part of it self-reported), `not_available` "
        "or `not_computed` (no recompute yet)"
    )
    score = serializers.FloatField(allow_null=True, help_text="0–100, as TRACE/PULSE state it")
    weight = serializers.FloatField(allow_null=True, help_text="its weight in the Fabrknt score")
    verified_share = serializers.FloatField(
        allow_null=True, help_text="0–1; the self-reported rest counts half"
    )
    points = serializers.FloatField(allow_null=True, help_text="what it adds to the score")
    reason = serializers.CharField(allow_blank=True)
    figures = serializers.DictField(help_text="the figures it was computed from")
    evidence = serializers.DictField(
        help_text="growth: certificate_id and its public verification_url, the verified "
        "contracts; vitality: pulse_id, team_url (the seller's members), minted SBTs with "
        "chain, token address, token id and tx hash; revenue: the RevenueRecords (their "
        "periods and amounts after the NDA)"
    )


class SuiteSummarySerializer(serializers.Serializer):
    listing_id = serializers.UUIDField()
    fabrknt_score = serializers.FloatField(
        allow_null=True, help_text="0–100; null when no part is available (README, FABRIC)"
    )
    growth_score = serializers.FloatField(allow_null=True)
    vitality_score = serializers.FloatField(allow_null=True)
    revenue_verified = serializers.DecimalField(
        max_digits=15, decimal_places=2, allow_null=True, help_text="trailing 30 days, USD"
    )
    coverage = serializers.FloatField(
        allow_null=True, help_text="the summed weight of the available parts (0–1)"
    )
    trace = SuitePartSerializer()
    pulse = SuitePartSerializer()
    revenue = SuitePartSerializer()
    computed_at = serializers.DateTimeField(allow_null=True)


class SuiteSummaryView(APIView):
    # Public listings' summaries are for anyone; listing_view decides who sees which.
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="fabric_suite_summary_retrieve",
        summary="A listing's Fabrknt score and its verified parts, with their evidence",
        description="As stored by the last recompute (on listing changes and daily). The "
        "formula, the weights and how missing or self-reported parts count: README, FABRIC.",
        responses={200: SuiteSummarySerializer, **error_responses(401, 404)},
        tags=["fabric"],
    )
    def get(self, request: Request, listing_id: str) -> Response:
        view = listing_view(listing_id=listing_id, access=access_of(request))

        def build() -> dict[str, Any]:
            summary = suite_summary(
                listing=view.listing,
                revenue_detail=view.sees_gated,
                link=request.build_absolute_uri,
            )
            return dict(SuiteSummarySerializer(summary).data)

        # Who sees the revenue detail is decided above, for each request; the answer for
        # that level is cached until the listing changes (fabric/cache.py).
        data = cached(
            "fabric:suite-summary",
            scopes=[listing_scope(view.listing.pk)],
            parts=(view.listing.pk, view.sees_gated, request.build_absolute_uri("/")),
            build=build,
        )
        return Response(data)
