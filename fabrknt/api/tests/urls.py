"""Views that exist only for the rate-limit tests (pytest `urls` marker)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.throttles import IngestThrottle, SignInThrottle


class OpenView(APIView):
    """Anyone; the project's default throttle."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class SignedInView(APIView):
    """A user or an API key (the default permission); the default throttle."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class SignInView(OpenView):
    throttle_classes = [SignInThrottle]


class IngestView(SignedInView):
    throttle_classes = [IngestThrottle]


class ModelRuleView(OpenView):
    """Raises what a model's full_clean() or a service raises."""

    def get(self, request: Request) -> Response:
        if request.query_params.get("kind") == "fields":
            raise DjangoValidationError({"cidr": ["Not a network."]})
        raise DjangoValidationError("The rule conflicts with another.")


urlpatterns = [
    path("api/v1/model-rule", ModelRuleView.as_view()),
    path("api/v1/open", OpenView.as_view()),
    path("api/v1/signed-in", SignedInView.as_view()),
    path("api/v1/sign-in", SignInView.as_view()),
    path("api/v1/ingest", IngestView.as_view()),
]
