"""TRACE API views: thin. They parse input, call one service, render the output.

The click ingest endpoints are plain Django views in `trace.api.clicks`.
"""

from __future__ import annotations

import uuid

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization, User
from fabrknt.api.access import INGEST, READ, WRITE, Access, access_of
from fabrknt.api.errors import InvalidInput, NotFound, PermissionDenied, error_responses
from fabrknt.api.throttles import IngestThrottle
from fabrknt.readcache import cached
from trace.api import serializers as s
from trace.api.clicks import CORS_HEADERS
from trace.cache import campaign_list_scope, campaign_scope
from trace.models import Campaign, Click, Conversion, ConversionCredit, Project
from trace.selectors import campaigns_listed, campaigns_with_stats, stats_from_annotations
from trace.services.campaigns import campaign_archive, campaign_create, campaign_update
from trace.services.conversions import conversion_create
from trace.services.identify import click_get_for, identify_message, wallet_identify
from trace.services.projects import project_archive, project_create, project_update
from trace.services.roi import campaign_roi

# --- projects ---------------------------------------------------------------------------


class ProjectListCreateView(generics.ListAPIView):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        projects = (
            Project.objects.live().order_by("name", "pk").prefetch_related("contract_verifications")
        )
        return access_of(self.request).scoped(projects)

    @extend_schema(
        request=s.ProjectInSerializer,
        responses={201: s.ProjectSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ProjectInSerializer, request)
        project = project_create(
            organization=access_of(request).organization(data.pop("organization"), WRITE),
            actor=_user_of(request),
            **data,
        )
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(generics.RetrieveAPIView):
    """A project (archived ones too: archiving hides them from lists, erases nothing);
    PATCH edits its name and addresses (its chain is fixed), DELETE archives it."""

    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        projects = Project.objects.prefetch_related("contract_verifications")
        return access_of(self.request).scoped(projects)

    def _writable(self) -> Project:
        projects = Project.objects.prefetch_related("contract_verifications")
        return access_of(self.request).get(projects, WRITE, pk=self.kwargs["pk"])

    @extend_schema(
        request=s.ProjectPatchSerializer,
        responses={200: s.ProjectSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk) -> Response:
        project = self._writable()
        data = _valid(s.ProjectPatchSerializer, request)
        project = project_update(project=project, actor=_user_of(request), **data)
        return Response(s.ProjectSerializer(project).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk) -> Response:
        project_archive(project=self._writable(), actor=_user_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- campaigns --------------------------------------------------------------------------


class CampaignListCreateView(generics.ListAPIView):
    serializer_class = s.CampaignSerializer

    @extend_schema(parameters=[s.CampaignListQuerySerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        # The same for every caller of the same organizations: one entry per query string
        # (and host, which the tracking and page links carry), until one of their
        # campaigns is saved (trace/cache.py). A bad filter is a 400, never cached.
        self._status()
        organizations = access_of(request).acting_for(READ)
        data = cached(
            "trace:campaign-list",
            scopes=[campaign_list_scope(pk) for pk in organizations],
            parts=(
                organizations,
                request.get_host(),
                request.is_secure(),
                sorted(request.query_params.lists()),
            ),
            build=lambda: super(CampaignListCreateView, self).get(request, *args, **kwargs).data,
        )
        return Response(data)

    def get_queryset(self):
        return campaigns_listed(
            access_of(self.request).scoped(Campaign.objects.order_by("-created_at", "pk")),
            status=self._status(),
        )

    def _status(self) -> str | None:
        query = s.CampaignListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("status")

    @extend_schema(
        request=s.CampaignInSerializer,
        responses={201: s.CampaignSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.CampaignInSerializer, request)
        organization = access_of(request).organization(data.pop("organization"), WRITE)
        campaign = campaign_create(
            organization=organization,
            project=_project_of(organization, data.pop("project", None)),
            created_by=request.user if request.user.pk else None,
            **data,
        )
        serializer = s.CampaignSerializer(campaign, context={"request": request})
        return Response(serializer.data, status=status.HTTP_201_CREATED)


def _campaign_with_stats(request: Request, campaign_id: uuid.UUID) -> Campaign:
    """The caller's campaign with its figures (`campaigns_with_stats`), from the read cache
    until its rollups or its row change (trace/cache.py: every flush that counted it);
    who may see it is decided for each request."""
    campaign: Campaign | None = cached(
        "trace:campaign-stats",
        scopes=[campaign_scope(campaign_id)],
        parts=(str(campaign_id),),
        build=lambda: campaigns_with_stats(Campaign.objects.filter(pk=campaign_id)).first(),
    )
    if campaign is None:
        raise NotFound()
    access_of(request).admit(campaign.organization_id, READ)
    return campaign


class CampaignDetailView(generics.RetrieveAPIView):
    serializer_class = s.CampaignDetailSerializer

    def get_object(self) -> Campaign:
        campaign = _campaign_with_stats(self.request, self.kwargs["pk"])
        campaign.stats = stats_from_annotations(campaign)  # type: ignore[attr-defined]  # the serializer reads it
        return campaign

    @extend_schema(
        request=s.CampaignPatchSerializer,
        responses={200: s.CampaignSerializer, **error_responses(400, 401, 403, 404)},
        description="Edit a campaign, or set its `status`: `active`, `paused` (its link "
        "still redirects; clicks are kept, marked `during_pause`) or `archived`.",
    )
    def patch(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = _campaign_to_change(request, pk)
        serializer = s.CampaignPatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "project" in changes:
            changes["project"] = _project_of(campaign.organization, changes["project"])
        campaign = campaign_update(campaign=campaign, actor=_actor(request), **changes)
        return Response(s.CampaignSerializer(campaign, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={200: s.CampaignSerializer, **error_responses(401, 403, 404)},
        description="Archive the campaign (nothing is erased): 200 with `status: archived`.",
    )
    def delete(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = campaign_archive(
            campaign=_campaign_to_change(request, pk), actor=_actor(request)
        )
        return Response(s.CampaignSerializer(campaign, context={"request": request}).data)


def _campaign_to_change(request: Request, pk: uuid.UUID) -> Campaign:
    """The caller's campaign: 404 when not theirs to see, 403 when not theirs to change."""
    campaigns = Campaign.objects.select_related("organization", "project")
    return access_of(request).get(campaigns, WRITE, pk=pk)


def _project_of(organization: Organization, project_id: uuid.UUID | None) -> Project | None:
    if project_id is None:
        return None
    project = Project.objects.filter(pk=project_id, organization=organization).first()
    if project is None:
        raise InvalidInput(fields={"project": ["No such project."]})
    return project


def _actor(request: Request) -> User | None:
    return request.user if request.user.pk else None


# --- identify, conversions, ROI ---------------------------------------------------------


_NO_ACCESS = {
    INGEST: "You cannot ingest for any organization.",
    WRITE: "Conversions need a `write` key or a member (an `ingest` key is public).",
}


def _click_of_caller(
    request: Request, access: Access, *, click_id: str, campaign_id: uuid.UUID | None = None
) -> Click:
    """The click in the organizations where the caller has `access` (403 when none)."""
    ids = access_of(request).organization_ids(access)
    if not ids:
        raise PermissionDenied(_NO_ACCESS[access])
    return click_get_for(click_id=click_id, organization_ids=ids, campaign_id=campaign_id)


class _IngestView(APIView):
    """Called from browsers (fab.js) and servers with an ingest key, or by members."""

    throttle_classes = [IngestThrottle]
    cors_methods = "POST, OPTIONS"

    # As in DRF's own stubs: APIView.options takes DRF's Request, Django's View an HttpRequest.
    def options(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[override]
        return Response(status=204)

    def initial(self, request: Request, *args, **kwargs) -> None:
        if request.method == "OPTIONS":
            return  # a CORS preflight carries no credentials
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        for header, value in CORS_HEADERS.items():
            response[header] = value
        response["Access-Control-Allow-Methods"] = self.cors_methods
        return super().finalize_response(request, response, *args, **kwargs)


class IdentifyMessageView(_IngestView):
    cors_methods = "GET, OPTIONS"

    @extend_schema(
        parameters=[s.IdentifyMessageQuerySerializer],
        responses={200: s.IdentifyMessageSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="The text the wallet signs (EIP-191 personal_sign, or Ed25519 for "
        "Solana) so that POST /identify makes its link to the click `proven`. Single use; "
        "409 when the click is linked to as many other wallets as it may be.",
    )
    def get(self, request: Request) -> Response:
        query = s.IdentifyMessageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        click = _click_of_caller(
            request, INGEST, click_id=data["click_id"], campaign_id=data.get("campaign_id")
        )
        issued = identify_message(click=click, wallet_address=data["wallet"])
        return Response(s.IdentifyMessageSerializer(issued).data)


class IdentifyView(_IngestView):
    @extend_schema(
        request=s.IdentifySerializer,
        responses={200: s.WalletLinkSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Tie a wallet to a click; repeating it returns the same link. With the "
        "wallet's signature over the message GET /identify/message gave, the link is "
        "`proven` (a claimed one is upgraded), else `claimed`. 409 when the click is "
        "linked to as many other wallets as it may be.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.IdentifySerializer, request)
        click = _click_of_caller(
            request, INGEST, click_id=data["click_id"], campaign_id=data.get("campaign_id")
        )
        link, _created = wallet_identify(
            click=click,
            wallet_address=data["wallet_address"],
            message=data.get("message", ""),
            signature=data.get("signature", ""),
        )
        return Response(s.WalletLinkSerializer(link).data, status=status.HTTP_200_OK)


class ConversionCreateView(APIView):
    """Server to server, with a secret `write` key or as a member: never from a page."""

    @extend_schema(
        request=s.ConversionInSerializer,
        responses={
            201: s.ConversionSerializer,
            200: OpenApiResponse(s.ConversionSerializer, description="Already recorded"),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ConversionInSerializer, request)
        click = _click_of_caller(
            request, WRITE, click_id=data.pop("click_id"), campaign_id=data.pop("campaign_id", None)
        )
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
        campaign = _campaign_with_stats(request, campaign_id)
        return Response(s.RoiSerializer(campaign_roi(campaign=campaign)).data)


def _user_of(request: Request) -> User | None:
    """The signed-in user, None for an API key (the audit log says which)."""
    return request.user if request.user.pk else None


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
