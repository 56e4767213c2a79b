"""One error shape for the API, and one place that makes it.

Services refuse by raising a `ServiceError` subclass (status, stable `code`, `detail`);
views never catch them: `exception_handler` turns them, DRF's own exceptions and Django's
`ValidationError` into one of two bodies, both with a stable `code`:

- `{"detail": "...", "code": "..."}` for a refusal as a whole;
- `{"<field>": ["..."], ..., "code": "invalid"}` for field errors (DRF's shape).

The plain Django views of the click fast path build the same bodies with `error_body`,
and Django's own error pages (a path that matches no route, a bad Host) answer with them
under /api/ (`handler404` and friends in `fabrknt.urls`).

A request that fails because the database cannot be reached answers 503 `unavailable`
with Retry-After (DRF's views here, every other view through `server_error`), never 500:
the same request succeeds once the database is back.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

FieldErrors = dict[str, Any]
# Paths under it answer errors with the bodies below; elsewhere Django's pages answer.
API_PREFIX = "/api/"


class ServiceError(Exception):
    """A refusal by a service: the caller did something the rules do not allow.

    `fields`, when given, are DRF-shaped field errors ({"field": ["message"]}) and the body
    carries them instead of `detail`.
    """

    status: int = 400
    code: str = "invalid"
    default_detail: str = "Invalid input."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        fields: FieldErrors | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        if code is not None:
            self.code = code
        self.fields = fields
        super().__init__(self.detail)


class InvalidInput(ServiceError):
    status = 400
    code = "invalid"


class NotAuthenticated(ServiceError):
    status = 401
    code = "not_authenticated"
    default_detail = "Authentication credentials were not provided or are not valid."


class PermissionDenied(ServiceError):
    status = 403
    code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    default_detail = "Not found."


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
    default_detail = "The upload is larger than allowed."


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    default_detail = "The request conflicts with the current state."


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"
    default_detail = "A service this request needs is unavailable."


class DatabaseUnavailable(Unavailable):
    default_detail = "The database is unavailable; retry shortly."


# What a client is told to wait before retrying a request the database could not serve.
DATABASE_RETRY_AFTER_SECONDS = 5


def _database_unreachable(error: BaseException | None) -> bool:
    """Whether the request failed because the database could not be reached (refused,
    dropped, closed under it): retrying may succeed, so 503, not a server error."""
    return isinstance(error, (OperationalError, InterfaceError))


def error_body(
    detail: str | None = None, *, code: str, fields: FieldErrors | None = None
) -> dict[str, Any]:
    """The body of an error response: field errors or a detail, and the code."""
    if fields is not None:
        return {**fields, "code": code}
    return {"detail": detail, "code": code}


def _django_validation_fields(error: DjangoValidationError) -> FieldErrors | None:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if _database_unreachable(exc):
        exc = DatabaseUnavailable()
    if isinstance(exc, ServiceError):
        return Response(
            error_body(exc.detail, code=exc.code, fields=exc.fields),
            status=exc.status,
            headers=_refusal_headers(exc, context),
        )
    if isinstance(exc, DjangoValidationError):
        fields = _django_validation_fields(exc)
        body = error_body(" ".join(exc.messages), code="invalid", fields=fields)
        return Response(body, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = error_body(str(data["detail"]), code=_code_of(exc))
    elif isinstance(data, dict):
        response.data = error_body(fields=data, code=_code_of(exc))
    else:  # a list of messages (ValidationError("...")): one detail
        response.data = error_body(" ".join(str(item) for item in data), code=_code_of(exc))
    return response


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return str(exc.default_code)


def _refusal_headers(exc: ServiceError, context: dict) -> dict[str, str] | None:
    """A 401 says how to authenticate, as DRF's own 401s do; a 503 when to come back."""
    if isinstance(exc, DatabaseUnavailable):
        return {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if exc.status != 401:
        return None
    view = context.get("view")
    request = context.get("request")
    if view is None or request is None:
        return None
    header = view.get_authenticate_header(request)
    return {"WWW-Authenticate": header} if header else None


class ErrorSerializer(serializers.Serializer):
    """The body of a refusal: what went wrong, and a stable code to branch on."""

    detail = serializers.CharField()
    code = serializers.CharField()


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for refusals, for `extend_schema(responses=...)`.

    400 is described as field errors or a detail; the others as `ErrorSerializer`.
    Per-status wording can be given as `s401="..."`.
    """
    defaults = {
        400: "Invalid input: field errors ({field: [messages]}) or a detail, with `code`",
        401: "No or bad credentials",
        403: "Not allowed",
        404: "Unknown (or another organization's) object",
        409: "Conflicts with the current state",
        413: "Body too large",
        415: "Body is not JSON (Content-Type must be application/json)",
        429: (
            "Rate limited (`throttled`), or over the API key's daily quota "
            "(`quota_exceeded`, see X-RateLimit-*); see Retry-After"
        ),
        503: "A service this request needs is unavailable",
    }
    responses = {}
    for status in statuses:
        description = descriptions.get(f"s{status}", defaults[status])
        if status == 400:
            responses[status] = OpenApiResponse(description=description)
        else:
            responses[status] = OpenApiResponse(ErrorSerializer, description=description)
    return responses


_PAGE_ERRORS = {
    400: ("Bad request.", "bad_request", defaults.bad_request),
    403: (PermissionDenied.default_detail, PermissionDenied.code, defaults.permission_denied),
    404: (NotFound.default_detail, NotFound.code, defaults.page_not_found),
}


def _api_or_page(status: int, request: HttpRequest, exception: Exception) -> HttpResponse:
    detail, code, page = _PAGE_ERRORS[status]
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body(detail, code=code), status=status)
    return page(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_or_page(400, request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_or_page(403, request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An /api/ path that matches no route (say `/api/v1/projects/not-a-uuid`) is the
    API's 404, not Django's HTML page."""
    return _api_or_page(404, request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the request's exception (outside DRF's views: the
    # click fast path, pages); without the database, the answer is a 503 to retry.
    if _database_unreachable(sys.exc_info()[1]):
        unavailable = DatabaseUnavailable()
        if request.path.startswith(API_PREFIX):
            response: HttpResponse = JsonResponse(
                error_body(unavailable.detail, code=unavailable.code), status=unavailable.status
            )
        else:
            response = HttpResponse(unavailable.detail, status=unavailable.status)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("Server error.", code="server_error"), status=500)
    return defaults.server_error(request)
