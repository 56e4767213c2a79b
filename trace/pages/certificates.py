"""Growth certificates on the pages: a project's certificates (issue one for a period, see
the past ones), the signed JSON download, and the public verification page.

Issuing follows the API's rule: `GET /api/v1/growth-certificate/{id}` is open to every
member (and `read` keys), so a viewer may issue here too. A certificate, like the API's
lookup by id, is public to whoever holds its unguessable id: the verification page and
the download need no sign-in. The page hands the browser the exact bytes that were
signed (base64), so static/trace/certificate-verify.js checks the Ed25519 signature over
them without rendering JSON again.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework.renderers import JSONRenderer

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import caller_access
from fabrknt.pages.decorators import page_view
from fabrknt.pages.htmx import redirect_to
from fabrknt.readcache import public_cache_headers
from trace.cache import PublicCertificate, public_certificate
from trace.models import Project
from trace.pages.period_forms import CertificatePeriodForm
from trace.services.certificates import (
    LEGACY_FORMAT_VERSION,
    JsonObject,
    certificate_issue,
    certificate_period,
)

CERTIFICATES_PAGE_SIZE = 25

# (key, label, how to read it) of a certificate's `metrics`, in the order shown.
METRIC_ROWS = [
    ("dau", "Daily active wallets", "on the period's last day"),
    ("wau", "Weekly active wallets", "the 7 days to the period's last day"),
    ("mau", "Monthly active wallets", "the 30 days to the period's last day"),
    ("transaction_count", "Transactions", "summed over the period"),
    ("transaction_volume_usd", "Volume (USD)", "summed over the period, priced assets only"),
    ("unpriced_transfers", "Unpriced transfers", "counted, valued 0"),
    ("volume_flagged_days", "Days above the volume sanity cap", "included as summed"),
    ("activity_score", "Activity score", "0–100, on the period's last day"),
    ("bot_share", "Suspected bot share", "of the last day's active wallets"),
    (
        "proven_conversion_share",
        "Proven conversion share",
        "of the campaigns' conversion value, credited through wallet-signed links",
    ),
]
_SHARES = {"bot_share", "proven_conversion_share"}


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@page_view
def project_certificates(request: AuthenticatedHttpRequest, project_id: object) -> HttpResponse:
    project = caller_access(user=request.user).get(
        Project.objects.select_related("organization"), pk=project_id
    )
    today = _today()
    form = CertificatePeriodForm(
        request.POST if request.method == "POST" else None,
        default=certificate_period(date_from=None, date_to=None, today=today),
        today=today,
    )
    if request.method == "POST":
        certificate = form.submit(
            lambda: certificate_issue(
                project_id=project.pk,
                date_from=form.period[0],
                date_to=form.period[1],
                actor=request.user,
            )
        )
        if certificate is not None:
            messages.success(
                request,
                f"The certificate for {certificate.period_from} to {certificate.period_to}, "
                f"issued {certificate.issued_at:%Y-%m-%d %H:%M} UTC. The same period with the "
                "same data always gives this certificate.",
            )
            return redirect_to(request, reverse("verify:certificate", args=[certificate.pk]))
    certificates = Paginator(project.certificates.order_by("-issued_at"), CERTIFICATES_PAGE_SIZE)
    context = {
        "project": project,
        "form": form,
        "certificates": certificates.get_page(request.GET.get("page")),
    }
    return render(request, "trace/certificates/list.html", context, status=form.status)


def _public(certificate_id: uuid.UUID) -> PublicCertificate:
    certificate = public_certificate(certificate_id)
    if certificate is None:
        raise Http404
    return certificate


@require_GET
def certificate_download(request: HttpRequest, certificate_id: uuid.UUID) -> HttpResponse:
    """The signed document as a file: the bytes `GET /api/v1/certificates/{id}` answers."""
    certificate = _public(certificate_id)
    body = JSONRenderer().render(certificate.document)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{certificate.filename}"'
    return public_cache_headers(response)


@require_GET
def certificate_verify_page(request: HttpRequest, certificate_id: uuid.UUID) -> HttpResponse:
    """Anyone's page for one certificate: what it says, and its signature checked in the
    browser against the published keys."""
    certificate = _public(certificate_id)
    document = certificate.document
    signed = document["certificate"]
    context = {
        "certificate": signed,
        "document": document,
        "metric_rows": _metric_rows(signed.get("metrics"), signed.get("verified_metrics")),
        "signed_bytes": base64.b64encode(certificate.canonical_json.encode("utf-8")).decode(),
        "legacy_format": signed.get("version") == LEGACY_FORMAT_VERSION,
        "filename": certificate.filename,
        "keys_url": request.build_absolute_uri(reverse("trace-certificate-keys")),
    }
    return public_cache_headers(render(request, "trace/certificates/verify.html", context), request)


def _metric_rows(
    metrics: JsonObject | None, verified: JsonObject | None
) -> list[dict[str, object]]:
    return [
        {
            "key": key,
            "label": label,
            "help": help_text,
            "all": _shown(key, (metrics or {}).get(key)),
            "verified": None if verified is None else _shown(key, verified.get(key)),
        }
        for key, label, help_text in METRIC_ROWS
        if metrics is not None and key in metrics
    ]


def _shown(key: str, value: object) -> str:
    if value is None:
        return "—"
    if key in _SHARES and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
