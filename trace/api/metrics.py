"""Daily metrics, growth certificates and the certificate keys: thin views over services."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import READ, access_of
from fabrknt.api.errors import NotFound, error_responses
from fabrknt.readcache import cached, public_cache_headers
from trace.api import metrics_serializers as s
from trace.cache import project_scope, public_certificate
from trace.models import Project
from trace.services.certificates import (
    certificate_document,
    certificate_issue,
    certificate_keys_list,
)
from trace.services.metrics import metrics_for_period

_DAYS = f"{s.EARLIEST_DATE.isoformat()} to {s.LATEST_DATE.isoformat()}"
_PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, OpenApiParameter.QUERY, description=f"first day ({_DAYS})"
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, OpenApiParameter.QUERY, description=f"last day ({_DAYS})"
    ),
]
_ERRORS = error_responses(
    400,
    401,
    404,
    s400=f"bad dates, a day outside {_DAYS}, `from` after `to`, or a period too long",
    s404="no such project in the caller's organizations",
)


def _period_query(request: Request) -> dict:
    query = s.PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class ProjectDays:
    """A project's organization and its days of a period, as the response writes them."""

    organization_id: uuid.UUID
    results: list[dict[str, Any]]


def project_days(project_id: uuid.UUID, date_from: dt.date, date_to: dt.date) -> ProjectDays | None:
    """The same for every caller who may see the project (None: no such project), so
    read from the read cache until the project or its metrics change."""

    def build() -> ProjectDays | None:
        organization_id = (
            Project.objects.filter(pk=project_id).values_list("organization_id", flat=True).first()
        )
        if organization_id is None:
            return None
        days = metrics_for_period(project_id=project_id, date_from=date_from, date_to=date_to)
        # MetricsResponseSerializer's shape, written out (metric_days_data says why).
        return ProjectDays(organization_id, s.metric_days_data(days))

    return cached(
        "trace:metrics",
        scopes=[project_scope(project_id)],
        parts=(str(project_id), date_from.isoformat(), date_to.isoformat()),
        build=build,
    )


class ProjectMetricsView(APIView):
    @extend_schema(
        summary="A project's daily DAU/WAU/MAU, transactions, volume and activity score",
        description="Default period: the last 30 days, today included. Oldest day first.",
        parameters=_PERIOD_PARAMETERS,
        responses={200: s.MetricsResponseSerializer, **_ERRORS},
    )
    def get(self, request: Request, project_id: uuid.UUID) -> Response:
        access = access_of(request)
        date_from, date_to = s.default_metrics_period(_period_query(request), today=_today())
        days = project_days(project_id, date_from, date_to)
        if days is None:
            raise NotFound()
        access.admit(days.organization_id, READ)
        return Response({"project_id": str(project_id), "results": days.results})


class GrowthCertificateView(APIView):
    @extend_schema(
        summary="A signed growth certificate for a period",
        description=(
            "Default period: the last 30 full days (ending yesterday, UTC). DAU, WAU, MAU, "
            "activity score and bot share are the period's last day; transaction count and "
            "volume are summed over the period. `metrics` covers everything the project "
            "watches, `verified_metrics` only its control-verified contracts (null when "
            "none). Valid for 90 days; stored: asking again for the same period and the "
            "same data returns the stored certificate (same id, same signature)."
        ),
        parameters=_PERIOD_PARAMETERS,
        responses={200: s.CertificateDocumentSerializer, **_ERRORS},
    )
    def get(self, request: Request, project_id) -> Response:
        project = access_of(request).get(Project.objects.all(), pk=project_id)
        query = _period_query(request)
        certificate = certificate_issue(
            project_id=project.id,
            date_from=query.get("from"),
            date_to=query.get("to"),
            actor=request.user if request.user.pk else None,
        )
        return Response(certificate_document(certificate))


class CertificateKeysView(APIView):
    # Public: anyone verifying a certificate offline needs the keys, with no account.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Public keys that sign growth certificates",
        responses={200: s.CertificateKeysSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"keys": certificate_keys_list()})


class CertificateLookupView(APIView):
    # Public by its unguessable id, like a share link: a project hands the id to a buyer,
    # who fetches the certificate exactly as it was issued, whenever they like.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A stored growth certificate, exactly as issued (point-in-time lookup)",
        responses={200: s.CertificateDocumentSerializer, **error_responses(404)},
    )
    def get(self, request: Request, certificate_id) -> Response:
        certificate = public_certificate(certificate_id)
        if certificate is None:
            raise NotFound()
        return public_cache_headers(Response(certificate.document))
