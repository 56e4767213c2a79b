"""TRACE API views: thin. They parse input, call one service, render the output.

The two click endpoints are plain Django views: at thousands of requests a second, DRF's
request wrapping, negotiation, serializer and throttle stack cost more than the work
itself (bench/clicks.py measures it). They keep DRF's error shapes and status codes, and
appear in the OpenAPI schema through the APIView classes that document them.
"""

from __future__ import annotations

import json

import redis
from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Scope
from accounts.selectors import caller_access
from accounts.services.api_keys import (
    api_key_authenticate,
    api_key_held,
    api_key_hold,
    api_key_release,
    api_key_revoked_marker,
)
from fabrknt.api.access import INGEST, WRITE, access_of
from fabrknt.api.authentication import BearerJWTAuthentication
from fabrknt.api.rate_limit import Decision, rate_limit_take
from fabrknt.api.throttles import IngestThrottle
from trace.api import serializers as s
from trace.models import Campaign, Conversion, ConversionCredit, Project
from trace.selectors import campaigns_with_stats, stats_from_annotations
from trace.services.campaigns import campaign_create
from trace.services.clicks.stream import click_store_rate_limited, clicks_store
from trace.services.clicks.validation import ClickRejected, click_campaign_cached, click_parse
from trace.services.conversions import ConversionConflict, conversion_create
from trace.services.identify import ClickNotFound, click_get_for, wallet_identify
from trace.services.projects import project_create
from trace.services.roi import campaign_roi

# fab.js calls identify from the dapp's own origin with the page's (public) ingest key.
# No cookie is ever used there, so any origin may call these endpoints.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-API-Key, Authorization",
    "Access-Control-Max-Age": "86400",
}
_ERROR_RESPONSES = {
    400: OpenApiResponse(description="Invalid input (DRF field errors)"),
    401: OpenApiResponse(description="No or bad credentials"),
    403: OpenApiResponse(description="Not allowed"),
    404: OpenApiResponse(description="Unknown (or another organization's) object"),
    429: OpenApiResponse(description="Rate limited; see Retry-After"),
}


def _errors(*codes: int) -> dict:
    return {code: _ERROR_RESPONSES[code] for code in codes}


# --- the click fast path ----------------------------------------------------------------

_jwt = BearerJWTAuthentication()


def _json(payload: object, status_code: int, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(payload, separators=(",", ":")),
        content_type="application/json",
        status=status_code,
        headers=headers,
    )
    return response


def _key_bucket(api_key: ApiKey) -> str:
    return f"ingest:key:{api_key.pk}"


def _ingest_caller(
    request: HttpRequest, *, keys_only: bool, hold: bool = False
) -> tuple[list[str], str] | HttpResponse:
    """(organization ids the caller may ingest for, its rate-limit bucket), or a refusal.
    With `hold`, an ingest key is also kept in this process (`_click_with_held_key`)."""
    key = request.META.get("HTTP_X_API_KEY")
    if key:
        api_key = api_key_authenticate(key=key)
        if api_key is None:
            return _json(
                {"detail": "Invalid or revoked API key."}, 401, {"WWW-Authenticate": "X-API-Key"}
            )
        if not api_key.has_scope(Scope.INGEST):
            return _json({"detail": "This API key lacks the ingest scope."}, 403)
        if hold:
            api_key_hold(api_key=api_key)
        return [str(api_key.organization_id)], _key_bucket(api_key)
    try:
        authenticated = _jwt.authenticate(request)
    except AuthenticationFailed as error:
        detail = error.detail if isinstance(error.detail, dict) else {"detail": error.detail}
        return _json(detail, 401, {"WWW-Authenticate": _jwt.authenticate_header(request)})
    if authenticated is None:
        return _json(
            {"detail": "Authentication credentials were not provided."},
            401,
            {"WWW-Authenticate": _jwt.authenticate_header(request)},
        )
    if keys_only:
        return _json({"detail": "This endpoint takes an ingest API key."}, 403)
    user = authenticated[0]
    ids = caller_access(user=user).organization_ids(INGEST)
    return [str(pk) for pk in ids], f"ingest:user:{user.pk}"


def _caller(
    request: HttpRequest, *, keys_only: bool, hold: bool = False
) -> tuple[list[str], str] | HttpResponse:
    """Method and credentials: (organization ids, rate-limit bucket) or a refusal."""
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers=CORS_HEADERS)
    if request.method != "POST":
        return _json(
            {"detail": f'Method "{request.method}" not allowed.'}, 405, {"Allow": "POST, OPTIONS"}
        )
    return _ingest_caller(request, keys_only=keys_only, hold=hold)


def _throttled(decision: Decision) -> HttpResponse | None:
    if decision.allowed:
        return None
    wait = decision.retry_after
    return _json(
        {"detail": f"Request was throttled. Expected available in {wait} seconds."},
        429,
        {"Retry-After": str(wait)},
    )


def _body(request: HttpRequest) -> tuple[object, HttpResponse | None]:
    try:
        return json.loads(request.body), None
    except (ValueError, RecursionError) as error:
        return None, _json({"detail": f"JSON parse error - {error}"}, 400)


def _click_endpoint(request: HttpRequest, *, keys_only: bool) -> tuple | HttpResponse:
    """Method, credentials, rate limit and JSON body: (organization ids, body) or a refusal."""
    caller = _caller(request, keys_only=keys_only)
    if isinstance(caller, HttpResponse):
        return caller
    organization_ids_, bucket = caller
    refusal = _throttled(rate_limit_take(bucket, settings.RATE_LIMITS["ingest"]))
    if refusal is not None:
        return refusal
    body, refusal = _body(request)
    return refusal or (organization_ids_, body)


class ClickIngestSchema(APIView):
    """Documents POST /api/v1/clicks; requests are served by `click_ingest`."""

    throttle_classes = [IngestThrottle]

    @extend_schema(
        operation_id="clicks_create",
        request=s.ClickSerializer,
        responses={202: s.ClickAcceptedSerializer, **_errors(400, 401, 403, 404, 429)},
        description="Record one click (ingest key or member). Idempotent on click_id.",
    )
    def post(self, request: Request) -> Response:  # pragma: no cover - never routed here
        raise NotImplementedError


class ClickBatchSchema(APIView):
    """Documents POST /api/v1/clicks/batch; requests are served by `click_batch_ingest`."""

    throttle_classes = [IngestThrottle]

    @extend_schema(
        operation_id="clicks_batch_create",
        request=s.ClickBatchSerializer,
        responses={202: s.ClickBatchResultSerializer, **_errors(400, 401, 403, 429)},
        description="Up to 500 clicks (ingest key only); each is accepted or refused alone.",
    )
    def post(self, request: Request) -> Response:  # pragma: no cover - never routed here
        raise NotImplementedError


def _documented_by(schema_view: type[APIView]):
    """Let drf-spectacular describe a plain view with an APIView's schema."""

    def decorate(view):
        view = csrf_exempt(view)
        view.cls = schema_view
        view.initkwargs = {}
        return view

    return decorate


def _click_with_held_key(request: HttpRequest) -> HttpResponse | None:
    """The common case in one Redis round trip, or None for the full path: a valid click of
    a campaign this process has cached, under an ingest key this process holds. The script
    that takes the token and stores the click first checks that the key is not revoked."""
    key = request.META.get("HTTP_X_API_KEY")
    if request.method != "POST" or not key or not settings.REDIS_URL:
        return None
    api_key = api_key_held(key=key)
    if api_key is None:
        return None
    body, refusal = _body(request)
    if refusal is not None or not click_campaign_cached(data=body):
        return None
    try:
        click = click_parse(data=body, organization_ids=[str(api_key.organization_id)])
    except ClickRejected:
        return None
    try:
        decision = click_store_rate_limited(
            click=click,
            bucket=_key_bucket(api_key),
            per_minute=settings.RATE_LIMITS["ingest"],
            refused_if=api_key_revoked_marker(api_key=api_key),
        )
    except redis.RedisError:
        return None  # the full path decides without the stream
    if decision is None:  # revoked since this process authenticated it
        api_key_release(api_key=api_key)
        return None
    return _throttled(decision) or _json({"click_id": click.click_id}, 202, CORS_HEADERS)


@_documented_by(ClickIngestSchema)
def click_ingest(request: HttpRequest) -> HttpResponse:
    # Every request takes one token, before any database work, and is refused with 429
    # when none is left, whatever its body. A valid click of a campaign this process has
    # cached takes its token and is stored in one Redis round trip; anything else takes
    # its token first, as the batch endpoint does.
    held = _click_with_held_key(request)
    if held is not None:
        return held
    caller = _caller(request, keys_only=False, hold=True)
    if isinstance(caller, HttpResponse):
        return caller
    organization_ids_, bucket = caller
    per_minute = settings.RATE_LIMITS["ingest"]
    body, refusal = _body(request)
    token_taken = refusal is not None or not click_campaign_cached(data=body)
    if token_taken:
        throttled = _throttled(rate_limit_take(bucket, per_minute))
        if throttled is not None:
            return throttled
    if refusal is not None:
        return refusal
    try:
        click = click_parse(data=body, organization_ids=organization_ids_)
    except ClickRejected as rejection:
        if not token_taken:
            throttled = _throttled(rate_limit_take(bucket, per_minute))
            if throttled is not None:
                return throttled
        if rejection.unknown_campaign:
            return _json({"detail": "No such campaign."}, 404, CORS_HEADERS)
        return _json(rejection.errors, 400, CORS_HEADERS)
    if token_taken:
        clicks_store(clicks=[click])
    else:
        throttled = _throttled(
            click_store_rate_limited(click=click, bucket=bucket, per_minute=per_minute)
        )
        if throttled is not None:
            return throttled
    return _json({"click_id": click.click_id}, 202, CORS_HEADERS)


@_documented_by(ClickBatchSchema)
def click_batch_ingest(request: HttpRequest) -> HttpResponse:
    parsed = _click_endpoint(request, keys_only=True)
    if isinstance(parsed, HttpResponse):
        return parsed
    organization_ids_, body = parsed
    items = body.get("clicks") if isinstance(body, dict) else None
    limit = settings.CLICK_BATCH_MAX_ITEMS
    if not isinstance(items, list):
        return _json({"clicks": ["Expected a list of clicks."]}, 400)
    if not items or len(items) > limit:
        return _json({"clicks": [f"Between 1 and {limit} clicks."]}, 400)
    accepted, rejected = [], []
    for index, item in enumerate(items):
        try:
            accepted.append(click_parse(data=item, organization_ids=organization_ids_))
        except ClickRejected as rejection:
            rejected.append({"index": index, "errors": rejection.errors})
    clicks_store(clicks=accepted)
    return _json({"accepted": [click.click_id for click in accepted], "rejected": rejected}, 202)


# --- projects ---------------------------------------------------------------------------


class ProjectListCreateView(generics.ListAPIView):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        return access_of(self.request).scoped(Project.objects.order_by("name", "pk"))

    @extend_schema(
        request=s.ProjectInSerializer,
        responses={201: s.ProjectSerializer, **_errors(400, 401, 403, 404)},
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
        return access_of(self.request).scoped(Project.objects.all())


# --- campaigns --------------------------------------------------------------------------


class CampaignListCreateView(generics.ListAPIView):
    serializer_class = s.CampaignSerializer

    def get_queryset(self):
        return access_of(self.request).scoped(Campaign.objects.order_by("-created_at", "pk"))

    @extend_schema(
        request=s.CampaignInSerializer,
        responses={201: s.CampaignSerializer, **_errors(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.CampaignInSerializer, request)
        organization = access_of(request).organization(data.pop("organization"), WRITE)
        project_id = data.pop("project", None)
        project = None
        if project_id is not None:
            project = Project.objects.filter(pk=project_id, organization=organization).first()
            if project is None:
                return Response({"project": ["No such project."]}, status=400)
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
        try:
            return click_get_for(click_id=click_id, organization_ids=ids)
        except ClickNotFound:
            raise NotFound("No such click.") from None


class IdentifyView(_IngestView):
    @extend_schema(
        request=s.IdentifySerializer,
        responses={200: s.WalletLinkSerializer, **_errors(400, 401, 403, 404)},
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
            409: OpenApiResponse(description="Recorded for another organization"),
            **_errors(400, 401, 403, 404),
        },
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.ConversionInSerializer, request)
        click = self.click_for_caller(data.pop("click_id"))
        try:
            conversion, created = conversion_create(click=click, **data)
        except ConversionConflict:
            return Response(
                {"detail": "This transaction is already recorded as a conversion."}, status=409
            )
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
    @extend_schema(responses={200: s.RoiSerializer, **_errors(401, 404)})
    def get(self, request: Request, campaign_id) -> Response:
        queryset = campaigns_with_stats(access_of(request).scoped(Campaign.objects.all()))
        campaign = get_object_or_404(queryset, pk=campaign_id)
        return Response(s.RoiSerializer(campaign_roi(campaign=campaign)).data)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
