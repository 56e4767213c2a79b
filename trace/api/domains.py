"""Landing domains API: an organization's owners and admins add the domains of their
campaigns' landing pages, verify them (a token served at a well-known URL), and remove
them. People only, as for members and keys (MANAGE); another organization's is a 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from fabrknt.api.access import MANAGE, access_of
from fabrknt.api.errors import error_responses
from fabrknt.api.throttles import DefaultThrottle, DomainVerificationThrottle
from trace.api import domains_serializers as s
from trace.services.domains import (
    landing_domain_add,
    landing_domain_get,
    landing_domain_remove,
    landing_domain_verify,
    organization_landing_domains,
)

TAGS = ["landing-domains"]


def _organization(request: Request, organization_id) -> Organization:
    return access_of(request).organization(organization_id, MANAGE)


class LandingDomainListView(GenericAPIView):
    serializer_class = s.LandingDomainSerializer

    def get_queryset(self):
        organization = _organization(self.request, self.kwargs["organization_id"])
        return organization_landing_domains(organization=organization)

    @extend_schema(
        responses={200: s.LandingDomainSerializer(many=True), **error_responses(401, 403, 404)},
        tags=TAGS,
        summary="The organization's landing domains (owners and admins)",
    )
    def get(self, request: Request, organization_id) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.LandingDomainSerializer(page, many=True).data)

    @extend_schema(
        request=s.LandingDomainInSerializer,
        responses={
            201: s.LandingDomainSerializer,
            200: OpenApiResponse(s.LandingDomainSerializer, description="Already added"),
            **error_responses(400, 401, 403, 404),
        },
        tags=TAGS,
        summary="Add a landing domain; serve its token at verification_url, then verify",
    )
    def post(self, request: Request, organization_id) -> Response:
        organization = _organization(request, organization_id)
        body = s.LandingDomainInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        landing_domain, created = landing_domain_add(
            organization=organization, domain=body.validated_data["domain"]
        )
        return Response(
            s.LandingDomainSerializer(landing_domain).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LandingDomainDetailView(APIView):
    @extend_schema(
        responses={200: s.LandingDomainSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
        summary="One landing domain and the outcome of its last check",
    )
    def get(self, request: Request, organization_id, domain: str) -> Response:
        organization = _organization(request, organization_id)
        landing_domain = landing_domain_get(organization=organization, domain=domain)
        return Response(s.LandingDomainSerializer(landing_domain).data)

    @extend_schema(
        responses={204: None, **error_responses(401, 403, 404)},
        tags=TAGS,
        summary="Remove a landing domain: its campaigns' links show the interstitial again",
    )
    def delete(self, request: Request, organization_id, domain: str) -> Response:
        organization = _organization(request, organization_id)
        landing_domain_remove(
            landing_domain=landing_domain_get(organization=organization, domain=domain)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LandingDomainVerifyView(APIView):
    throttle_classes = [DomainVerificationThrottle, DefaultThrottle]

    @extend_schema(
        request=None,
        responses={
            200: s.LandingDomainSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                429,
                s400="Not verified: `detail` says why (`code`: domain_not_verified)",
            ),
        },
        tags=TAGS,
        summary="Fetch the verification file now; 200 when it holds the token",
    )
    def post(self, request: Request, organization_id, domain: str) -> Response:
        organization = _organization(request, organization_id)
        landing_domain = landing_domain_verify(
            landing_domain=landing_domain_get(organization=organization, domain=domain)
        )
        return Response(s.LandingDomainSerializer(landing_domain).data)
