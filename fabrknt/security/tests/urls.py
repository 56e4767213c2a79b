"""Views that exist only for the request-guard tests (pytest `urls` marker)."""

from __future__ import annotations

import logging

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.security.models import IpRule

logger = logging.getLogger("fabrknt.security.tests")


class _RuleIn(serializers.Serializer):
    cidr = serializers.CharField()
    padding = serializers.CharField(required=False, allow_blank=True)


class StoreRuleView(APIView):
    """Stores what it is sent, so a refusal test can prove nothing got through."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request: Request) -> Response:
        body = _RuleIn(data=request.data)
        body.is_valid(raise_exception=True)
        rule = IpRule.objects.create(cidr=body.validated_data["cidr"], note="from a test")
        return Response(
            {"cidr": rule.cidr, "received": len(request.body)}, status=status.HTTP_201_CREATED
        )


def page(request: HttpRequest) -> HttpResponse:
    logger.warning("serving the test page")
    return HttpResponse("<!doctype html><title>ok</title><p>ok</p>")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/rules", StoreRuleView.as_view()),
    path("api/v1/webhooks/test", StoreRuleView.as_view()),
    path("api/v1/clicks/batch", StoreRuleView.as_view()),
    path("page", page),
]
