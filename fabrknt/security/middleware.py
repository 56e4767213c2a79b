"""Request guards in the spirit of an edge WAF, in the order settings.MIDDLEWARE lists them:
a request id for every log line, IP allow/block rules, body-size limits, JSON-only bodies on
the API, and security headers on every response. Refusals are JSON `{"detail": ...}`."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Callable

from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.handlers.wsgi import LimitedStream, WSGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from fabrknt.api.errors import API_PREFIX, error_body
from fabrknt.security.client_ip import client_ip
from fabrknt.security.models import IpRule
from fabrknt.security.request_id import current_request, current_request_id
from fabrknt.security.selectors import ip_rules_active

logger = logging.getLogger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponse]

WEBHOOK_PREFIXES = ("/api/v1/webhooks/", "/api/v1/github/webhook", "/api/v1/discord/webhook")
CLICK_BATCH_PREFIX = "/api/v1/clicks/batch"
# A signed NDA carries the NDA's whole text: a seller's own may run to pages.
NDA_SIGN_PATH = "/api/v1/nda/sign"


def _refusal(status: int, detail: str, *, code: str) -> JsonResponse:
    return JsonResponse(error_body(detail, code=code), status=status)


class RequestWithId(HttpRequest):
    """For annotations: a request once RequestIdMiddleware has given it `request_id`."""

    request_id: str


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID when it is safe to log (1-64 of [A-Za-z0-9._-]), else
    makes one; echoes it and exposes it (and the request, whose user the log lines name)
    to logging through `current_request_id` and `current_request`.

    The context variables are cleared on `request_finished` (see SecurityConfig.ready), not
    here: Django logs 4xx/5xx responses after the middleware chain has returned, and those
    lines must carry the id too."""

    HEADER_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: RequestWithId) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if self.HEADER_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        current_request_id.set(request_id)
        current_request.set(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class IpRuleMiddleware:
    """403 for addresses in an enabled block rule, unless an allow rule also names them."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = client_ip(request)
        if ip_rules_active().verdict(address) == IpRule.Action.BLOCK:
            logger.warning(
                "Refused %s %s from blocked address %s", request.method, request.path, address
            )
            return _refusal(403, "Requests from your network are blocked.", code="ip_blocked")
        return self.get_response(request)


def upload_limit_for(path: str) -> int | None:
    """The body limit of a multipart upload endpoint (settings.API_UPLOAD_BODY_LIMITS);
    None for every other path."""
    for pattern, limit in settings.API_UPLOAD_BODY_LIMITS.items():
        if re.fullmatch(pattern, path):
            return limit
    return None


def body_limit_for(path: str) -> int | None:
    """The largest body, in bytes, accepted on `path`; None outside the API."""
    if not path.startswith(API_PREFIX):
        return None
    upload_limit = upload_limit_for(path)
    if upload_limit is not None:
        return upload_limit
    if path.startswith(WEBHOOK_PREFIXES):
        return settings.WEBHOOK_BODY_LIMIT
    if path.startswith(CLICK_BATCH_PREFIX):
        return settings.CLICK_BATCH_BODY_LIMIT
    if path == NDA_SIGN_PATH:
        return settings.NDA_SIGN_BODY_LIMIT
    return settings.API_BODY_LIMIT


def _read_at_most(stream, size: int) -> bytes:
    """Up to `size` bytes: a stream may hand out less than asked before its end."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class BodyLimitMiddleware:
    """413 for API bodies over their path's limit, declared (Content-Length) or not
    (Transfer-Encoding: chunked, which the WSGI server de-chunks without a length)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: WSGIRequest) -> HttpResponse:
        limit = body_limit_for(request.path)
        if limit is None:
            return self.get_response(request)
        declared = request.META.get("CONTENT_LENGTH", "")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return _refusal(400, "Content-Length is not a valid length.", code="invalid")
            if length > limit:
                return self._too_large(limit)
        elif request.META.get("HTTP_TRANSFER_ENCODING"):
            # Django reads nothing without a Content-Length, so read the body here, never
            # more than one byte past the limit, and hand it to the view as if declared.
            body = _read_at_most(request.environ["wsgi.input"], limit + 1)
            if len(body) > limit:
                return self._too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            # django-stubs types `_stream` as BinaryIO; WSGIRequest itself keeps a LimitedStream.
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)

    @staticmethod
    def _too_large(limit: int) -> JsonResponse:
        return _refusal(
            413, f"Request body is larger than this endpoint's {limit} bytes.", code="too_large"
        )


class JsonContentTypeMiddleware:
    """415 for API requests that carry a body in anything but application/json (or
    multipart/form-data on the upload endpoints)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and self._has_body(request):
            media_type = (request.content_type or "").strip().lower()
            if media_type == "multipart/form-data" and upload_limit_for(request.path):
                return self.get_response(request)
            if media_type != "application/json":
                shown = media_type or "none"
                return _refusal(
                    415,
                    f'Unsupported media type "{shown}": send Content-Type application/json.',
                    code="unsupported_media_type",
                )
        return self.get_response(request)

    @staticmethod
    def _has_body(request: HttpRequest) -> bool:
        # BodyLimitMiddleware, which runs first, has turned chunked bodies into a length.
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0) > 0
        except ValueError:
            return False


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy and the classic hardening headers on every response (the
    Content-Security-Policy is django-csp's); a view that sets one itself keeps its own."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class FixedContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY, built once by django-csp, for the click ingest
    handler in place of django-csp's middleware (settings.INGEST_MIDDLEWARE).

    django-csp's middleware rebuilds the header on every response, so that a view may
    change the policy or use a nonce; the two JSON ingest endpoints never do. Measured,
    django-csp's middleware costs 80-125 µs of CPU a response and this one 3-6 µs; on the
    click path that is some 15 % of a request (README, "Written by hand")."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.policy = build_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(CSP_HEADER, self.policy)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy of an ordinary response built once per
    process: one that no view changed (`csp.decorators`) and that used no nonce gets the
    header built at start-up, as django-csp would build it every time (80-125 µs of CPU a
    response, see FixedContentSecurityPolicyMiddleware). Any other response, and Django's
    debug pages, go through django-csp unchanged."""

    _CHANGES = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    )

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.policy = build_policy()
        self.policy_report_only = build_policy(report_only=True)
        self.excluded = self._excluded_prefixes("CONTENT_SECURITY_POLICY")
        self.excluded_report_only = self._excluded_prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY")

    @staticmethod
    def _excluded_prefixes(setting: str) -> tuple[str, ...]:
        policy = getattr(settings, setting, None) or {}
        return tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        ordinary = getattr(request, "_csp_nonce", None) is None and not any(
            hasattr(response, change) for change in self._CHANGES
        )
        if not ordinary or (settings.DEBUG and response.status_code in (404, 500)):
            return super().process_response(request, response)
        path = request.path_info
        if (
            self.policy
            and CSP_HEADER not in response
            and not getattr(response, "_csp_exempt", False)
            and not (self.excluded and path.startswith(self.excluded))
        ):
            response[CSP_HEADER] = self.policy
        if (
            self.policy_report_only
            and CSP_HEADER_REPORT_ONLY not in response
            and not getattr(response, "_csp_exempt_ro", False)
            and not (self.excluded_report_only and path.startswith(self.excluded_report_only))
        ):
            response[CSP_HEADER_REPORT_ONLY] = self.policy_report_only
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
