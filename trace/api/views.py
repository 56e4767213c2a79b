"""TRACE API views: thin. They parse input, call one service, render the output.

The click ingest endpoints are plain Django views in `trace.api.clicks`.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import INGEST, WRITE, access_of
from fabrknt.api.errors import InvalidInput, PermissionDenied, error_responses
from fabrknt.api.throttles import IngestThrottle
from trace.api import serializers as s
from trace.api.clicks import CORS_HEADERS
from trace.models import Campaign, Conversion, ConversionCredit, Project
from trace.selectors import campaigns_with_stats, stats_from_annotations
from trace.services.campaigns import campaign_create
from trace.services.conversions import conversion_create
from trace.services.identify import click_get_for, wallet_identify
from trace.services.projects import project_create
from trace.services.roi import campaign_roi

# --- projects ---------------------------------------------------------------------------


class ProjectListCreateView(generics.ListAPIView):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        projects = Project.objects.order_by("name", "pk").prefetch_related("contract_verifications")
        return access_of(self.request).scoped(projects)

    @extend_schema(
        request=s.ProjectInSerializer,
        responses={201: s.ProjectSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ProjectInSerializer, request)
        project = project_create(
            organization=access_of(request).organization(data.pop("organization"), WRITE), **data
        )
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(generics.RetrieveAPIView):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        projects = Project.objects.prefetch_related("contract_verifications")
        return access_of(self.request).scoped(projects)


# --- campaigns --------------------------------------------------------------------------


class CampaignListCreateView(generics.ListAPIView):
    serializer_class = s.CampaignSerializer

    def get_queryset(self):
        return access_of(self.request).scoped(Campaign.objects.order_by("-created_at", "pk"))

    @extend_schema(
        request=s.CampaignInSerializer,
        responses={201: s.CampaignSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.CampaignInSerializer, request)
        organization = access_of(request).organization(data.pop("organization"), WRITE)
        project_id = data.pop("project", None)
        project = None
        if project_id is not None:
            project = Project.objects.filter(pk=project_id, organization=organization).first()
            if project is None:
                raise InvalidInput(fields={"project": ["No such project."]})
        campaign = campaign_create(
            organization=organization,
            project=project,
            created_by=request.user if request.user.pk else None,
            **data,
        )
        serializer = s.CampaignSerializer(campaign, context={"request": request})
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class CampaignDetailView(generics.RetrieveAPIView):
    serializer_class = s.CampaignDetailSerializer

    def get_queryset(self):
        return campaigns_with_stats(access_of(self.request).scoped(Campaign.objects.all()))

    def get_object(self) -> Campaign:
        campaign = super().get_object()
        campaign.stats = stats_from_annotations(campaign)
        return campaign


# --- identify, conversions, ROI ---------------------------------------------------------


class _IngestView(APIView):
    """Called from browsers (fab.js) and servers with an ingest key, or by members."""

    throttle_classes = [IngestThrottle]

    def options(self, request: Request, *args, **kwargs) -> Response:
        return Response(status=204, headers=CORS_HEADERS)

    def initial(self, request: Request, *args, **kwargs) -> None:
        if request.method == "OPTIONS":
            return  # a CORS preflight carries no credentials
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        for header, value in CORS_HEADERS.items():
            response[header] = value
        return super().finalize_response(request, response, *args, **kwargs)

    def click_for_caller(self, click_id: str):
        ids = access_of(self.request).organization_ids(INGEST)
        if not ids:
            raise PermissionDenied("You cannot ingest for any organization.")
        return click_get_for(click_id=click_id, organization_ids=ids)


class IdentifyView(_IngestView):
    @extend_schema(
        request=s.IdentifySerializer,
        responses={200: s.WalletLinkSerializer, **error_responses(400, 401, 403, 404)},
        description="Tie a wallet to a click; repeating it returns the same link.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.IdentifySerializer, request)
        click = self.click_for_caller(data["click_id"])
        link, _created = wallet_identify(click=click, wallet_address=data["wallet_address"])
        return Response(s.WalletLinkSerializer(link).data, status=status.HTTP_200_OK)


class ConversionCreateView(_IngestView):
    @extend_schema(
        request=s.ConversionInSerializer,
        responses={
            201: s.ConversionSerializer,
            200: OpenApiResponse(s.ConversionSerializer, description="Already recorded"),
            **error_responses(400, 401, 403, 404, 409, s409="Recorded for another organization"),
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ConversionInSerializer, request)
        click = self.click_for_caller(data.pop("click_id"))
        conversion, created = conversion_create(click=click, **data)
        conversion = (
            Conversion.objects.select_related("click")
            .prefetch_related(
                Prefetch("credits", queryset=ConversionCredit.objects.select_related("click"))
            )
            .get(pk=conversion.pk)
        )
        return Response(
            s.ConversionSerializer(conversion).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoiView(APIView):
    @extend_schema(responses={200: s.RoiSerializer, **error_responses(401, 404)})
    def get(self, request: Request, campaign_id) -> Response:
        queryset = campaigns_with_stats(access_of(request).scoped(Campaign.objects.all()))
        campaign = get_object_or_404(queryset, pk=campaign_id)
        return Response(s.RoiSerializer(campaign_roi(campaign=campaign)).data)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
