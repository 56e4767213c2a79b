"""The click ingest endpoints: `POST /api/v1/clicks` and `POST /api/v1/clicks/batch`.

Plain Django views, built from small decorators (method and CORS, the ingest caller, the
rate limit, the JSON body): at thousands of requests a second, DRF's request wrapping,
negotiation, serializer and throttle stack cost more than the work itself
(bench/clicks.py measures it). They answer with the API's error bodies and status codes,
and appear in the OpenAPI schema through the APIView classes that document them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Scope
from accounts.selectors import INGEST, READ, caller_access
from accounts.services.api_keys import (
    api_key_authenticate,
    api_key_held,
    api_key_hold,
    api_key_release,
    api_key_revoked_marker,
)
from fabrknt.api.authentication import BearerJWTAuthentication
from fabrknt.api.errors import error_body, error_responses
from fabrknt.api.rate_limit import Decision, rate_limit_take
from fabrknt.api.throttles import IngestThrottle
from fabrknt.ops.logs import log_context_bind
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped
from trace.api import serializers as s
from trace.services.clicks.stream import click_store_rate_limited, clicks_store
from trace.services.clicks.validation import ClickRejected, click_campaign_cached, click_parse

View = Callable[..., HttpResponse]


class IngestRequest(HttpRequest):
    """For annotations: a request as the decorators below leave it."""

    ingest: IngestCaller  # ingest_caller
    json: object  # json_body
    _ingest_json: tuple[object, HttpResponse | None]  # request_json


# fab.js and edge forwarders call from any origin; no cookie is ever used here.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-API-Key, Authorization",
    "Access-Control-Max-Age": "86400",
}

_jwt = BearerJWTAuthentication()


def _json(payload: object, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        json.dumps(payload, separators=(",", ":")),
        content_type="application/json",
        status=status,
        headers=headers,
    )


def _refusal(
    status: int, detail: object, code: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    return _json(error_body(str(detail), code=code), status, headers)


def _throttled(decision: Decision) -> HttpResponse | None:
    if decision.allowed:
        return None
    wait = decision.retry_after
    return _refusal(
        429,
        f"Request was throttled. Expected available in {wait} seconds.",
        "throttled",
        {"Retry-After": str(wait)},
    )


def request_json(request: IngestRequest) -> tuple[object, HttpResponse | None]:
    """The parsed JSON body (parsed once per request), or the 400 that refuses it."""
    if not hasattr(request, "_ingest_json"):
        try:
            request._ingest_json = (json.loads(request.body), None)
        except (ValueError, RecursionError) as error:
            request._ingest_json = (
                None,
                _refusal(400, f"JSON parse error - {error}", "parse_error"),
            )
    return request._ingest_json


# --- decorators ---------------------------------------------------------------------------


def cors_post(view: View) -> View:
    """POST only, from any origin: OPTIONS answers the preflight, other methods 405, and
    every answer carries the CORS headers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
        elif request.method != "POST":
            response = _refusal(
                405,
                f'Method "{request.method}" not allowed.',
                "method_not_allowed",
                {"Allow": "POST, OPTIONS"},
            )
        else:
            response = view(request, *args, **kwargs)
        for header, value in CORS_HEADERS.items():
            response[header] = value
        return response

    return wrapper


@dataclass(frozen=True)
class IngestCaller:
    organization_ids: list[str]  # the organizations it may ingest clicks for
    bucket: str  # its rate-limit bucket
    api_key: ApiKey | None = None
    # The organizations it belongs to whatever its role: another of their campaigns is a
    # 403 (a viewer's), not a 404.
    member_of: frozenset[str] = frozenset()

    def unknown_campaign(self, rejection: ClickRejected) -> HttpResponse:
        if rejection.organization_id in self.member_of:
            return _refusal(403, "Viewers cannot send clicks.", "permission_denied")
        return _refusal(404, "No such campaign.", "not_found")


def _key_bucket(api_key: ApiKey) -> str:
    return f"ingest:key:{api_key.pk}"


def _caller_of(request: HttpRequest, *, keys_only: bool) -> IngestCaller | HttpResponse:
    key = request.META.get("HTTP_X_API_KEY")
    if key:
        api_key = api_key_authenticate(key=key)
        if api_key is None:
            return _refusal(
                401,
                "Invalid or revoked API key.",
                "authentication_failed",
                {"WWW-Authenticate": "X-API-Key"},
            )
        # This path has no `request.user` for the log lines to read: the caller named here.
        log_context_bind(organization_id=api_key.organization_id)
        if not api_key.has_scope(Scope.INGEST):
            return _refusal(403, "This API key lacks the ingest scope.", "permission_denied")
        return IngestCaller([str(api_key.organization_id)], _key_bucket(api_key), api_key)
    # simplejwt annotates DRF's Request; it reads only `request.META`, which this has.
    challenge = {"WWW-Authenticate": _jwt.authenticate_header(request)}  # type: ignore[arg-type]
    try:
        authenticated = _jwt.authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed as error:
        if isinstance(error.detail, dict):
            return _json(error.detail, 401, challenge)
        return _refusal(401, error.detail, "authentication_failed", challenge)
    if authenticated is None:
        return _refusal(
            401, "Authentication credentials were not provided.", "not_authenticated", challenge
        )
    if keys_only:
        return _refusal(403, "This endpoint takes an ingest API key.", "permission_denied")
    user = authenticated[0]
    log_context_bind(user_id=user.pk)
    access = caller_access(user=user)
    ids = access.organization_ids(INGEST)
    return IngestCaller(
        [str(pk) for pk in ids],
        f"ingest:user:{user.pk}",
        member_of=frozenset(str(pk) for pk in access.organization_ids(READ)),
    )


def ingest_caller(*, keys_only: bool = False, hold: bool = False) -> Callable[[View], View]:
    """An ingest API key (or, unless `keys_only`, a member's bearer token): puts an
    `IngestCaller` on `request.ingest`, or answers 401/403. With `hold`, an ingest key is
    also kept in this process for the next requests (`_click_with_held_key`)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: IngestRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            caller = _caller_of(request, keys_only=keys_only)
            if isinstance(caller, HttpResponse):
                return caller
            if hold and caller.api_key is not None:
                api_key_hold(api_key=caller.api_key)
            request.ingest = caller
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def rate_limited(view: View) -> View:
    """One request from the caller's ingest allowance, before anything else is done."""

    @wraps(view)
    def wrapper(request: IngestRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        decision = rate_limit_take(request.ingest.bucket, settings.RATE_LIMITS["ingest"])
        return _throttled(decision) or view(request, *args, **kwargs)

    return wrapper


def json_body(view: View) -> View:
    """A JSON body, parsed into `request.json`, or 400."""

    @wraps(view)
    def wrapper(request: IngestRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        body, refusal = request_json(request)
        if refusal is not None:
            return refusal
        request.json = body
        return view(request, *args, **kwargs)

    return wrapper


def documented_by(schema_view: type[APIView]) -> Callable[[View], View]:
    """Let drf-spectacular describe a plain view with an APIView's schema (and exempt it
    from CSRF: no cookie is ever used here)."""

    def decorate(view: View) -> View:
        view = csrf_exempt(view)
        # Read by drf-spectacular as on a DRF view; mypy types no attributes on functions.
        view.cls = schema_view  # type: ignore[attr-defined]
        view.initkwargs = {}  # type: ignore[attr-defined]
        return view

    return decorate


# --- the endpoints ------------------------------------------------------------------------


class ClickIngestSchema(APIView):
    """Documents POST /api/v1/clicks; requests are served by `click_ingest`."""

    throttle_classes = [IngestThrottle]

    @extend_schema(
        operation_id="clicks_create",
        request=s.ClickSerializer,
        responses={202: s.ClickAcceptedSerializer, **error_responses(400, 401, 403, 404, 429)},
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
        responses={202: s.ClickBatchResultSerializer, **error_responses(400, 401, 403, 429)},
        description="Up to 500 clicks (ingest key only); each is accepted or refused alone.",
    )
    def post(self, request: Request) -> Response:  # pragma: no cover - never routed here
        raise NotImplementedError


def _click_with_held_key(request: IngestRequest) -> HttpResponse | None:
    """The common case in one Redis round trip, or None for the full path: a valid click of
    a campaign this process has cached, under an ingest key this process holds. The script
    that takes the token and stores the click first checks that the key is not revoked, so
    without Redis there is no held path: the full path looks the key up in the database."""
    key = request.META.get("HTTP_X_API_KEY")
    if not key or not settings.REDIS_URL or redis_skipped():
        return None
    api_key = api_key_held(key=key)
    # The API's authentication holds keys of every scope (fabrknt.api.authentication).
    if api_key is None or not api_key.has_scope(Scope.INGEST):
        return None
    body, refusal = request_json(request)
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
    except REDIS_ERRORS as error:
        redis_failed(error, during="click ingest")
        return None  # the full path decides without Redis
    if decision is None:  # revoked since this process authenticated it
        api_key_release(api_key=api_key)
        return None
    return _throttled(decision) or _json({"click_id": click.click_id}, 202)


@documented_by(ClickIngestSchema)
@cors_post
def click_ingest(request: IngestRequest) -> HttpResponse:
    held = _click_with_held_key(request)
    return held if held is not None else _click_ingest(request)


@ingest_caller(hold=True)
def _click_ingest(request: IngestRequest) -> HttpResponse:
    # Every request takes one token, before any database work, and is refused with 429
    # when none is left, whatever its body. A valid click of a campaign this process has
    # cached takes its token and is stored in one Redis round trip; anything else takes
    # its token first, as the batch endpoint does.
    caller: IngestCaller = request.ingest
    per_minute = settings.RATE_LIMITS["ingest"]
    body, refusal = request_json(request)
    token_taken = refusal is not None or not click_campaign_cached(data=body)
    if token_taken:
        throttled = _throttled(rate_limit_take(caller.bucket, per_minute))
        if throttled is not None:
            return throttled
    if refusal is not None:
        return refusal
    try:
        click = click_parse(data=body, organization_ids=caller.organization_ids)
    except ClickRejected as rejection:
        if not token_taken:
            throttled = _throttled(rate_limit_take(caller.bucket, per_minute))
            if throttled is not None:
                return throttled
        if rejection.unknown_campaign:
            return caller.unknown_campaign(rejection)
        return _json(error_body(fields=rejection.errors, code="invalid"), 400)
    if token_taken:
        clicks_store(clicks=[click])
    else:
        throttled = _throttled(
            click_store_rate_limited(click=click, bucket=caller.bucket, per_minute=per_minute)
        )
        if throttled is not None:
            return throttled
    return _json({"click_id": click.click_id}, 202)


@documented_by(ClickBatchSchema)
@cors_post
@ingest_caller(keys_only=True)
@rate_limited
@json_body
def click_batch_ingest(request: IngestRequest) -> HttpResponse:
    items = request.json.get("clicks") if isinstance(request.json, dict) else None
    limit = settings.CLICK_BATCH_MAX_ITEMS
    if not isinstance(items, list):
        return _json(
            error_body(fields={"clicks": ["Expected a list of clicks."]}, code="invalid"), 400
        )
    if not items or len(items) > limit:
        return _json(
            error_body(fields={"clicks": [f"Between 1 and {limit} clicks."]}, code="invalid"), 400
        )
    accepted, rejected = [], []
    for index, item in enumerate(items):
        try:
            accepted.append(
                click_parse(data=item, organization_ids=request.ingest.organization_ids)
            )
        except ClickRejected as rejection:
            rejected.append({"index": index, "errors": rejection.errors})
    clicks_store(clicks=accepted)
    return _json({"accepted": [click.click_id for click in accepted], "rejected": rejected}, 202)
