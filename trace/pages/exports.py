"""CSV exports on the pages: a project's or a campaign's export page (a range and the
data sets), and the CSV files themselves, streamed (trace.csv_exports).

Access is the API's for reading: any member of the organization, a viewer included;
another organization's project or campaign is a 404. A bad range answers the export page
again with the form's message (400), and nothing is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.selectors import caller_access
from fabrknt.api.errors import NotFound
from fabrknt.pages.decorators import page_view
from trace.csv_exports import (
    CAMPAIGN_DATASETS,
    PROJECT_DATASETS,
    DateRange,
    campaign_csv,
    export_range,
    project_csv,
)
from trace.models import Campaign, Project
from trace.pages.period_forms import ExportRangeForm


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _project(request: HttpRequest, project_id: object) -> Project:
    return caller_access(user=request.user).get(Project.objects.all(), pk=project_id)


def _campaign(request: HttpRequest, campaign_id: object) -> Campaign:
    return caller_access(user=request.user).get(
        Campaign.objects.select_related("project"), pk=campaign_id
    )


class _Export:
    """One object's exports: what the export page shows and how a CSV is made."""

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        back_url: str,
        datasets: dict[str, tuple[str, str]],
        csv_url: Callable[[str], str],
        lines: Callable[..., Iterator[str]],
    ) -> None:
        self.name, self.kind, self.back_url = name, kind, back_url
        self.datasets, self.csv_url, self.lines = datasets, csv_url, lines

    def page(self, request: HttpRequest, form: ExportRangeForm) -> HttpResponse:
        datasets = [
            {"name": key, "label": label, "help": help_text, "url": self.csv_url(key)}
            for key, (label, help_text) in self.datasets.items()
        ]
        context = {"export": self, "form": form, "datasets": datasets}
        return render(request, "trace/exports/export.html", context, status=form.status)

    def csv(self, request: HttpRequest, dataset: str) -> HttpResponseBase:
        if dataset not in self.datasets:
            raise NotFound()
        form = ExportRangeForm(request.GET, today=_today())
        lines = form.submit(lambda: self.lines(dataset=dataset, days=_range_of(form)))
        if lines is None:
            return self.page(request, form)
        date_from, date_to = form.period
        filename = f"{slugify(self.name) or self.kind}-{dataset}-{date_from}-to-{date_to}.csv"
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


def _range_of(form: ExportRangeForm) -> DateRange:
    date_from, date_to = form.period
    return export_range(date_from=date_from, date_to=date_to)


def _range_form(request: HttpRequest) -> ExportRangeForm:
    """The export page's range: the one in the URL (a page's own range), else the default."""
    given = request.GET if "from" in request.GET or "to" in request.GET else None
    form = ExportRangeForm(given, today=_today())
    if given is not None and not form.is_valid():
        form.status = 400
    return form


def _project_export(project: Project) -> _Export:
    return _Export(
        name=project.name,
        kind="project",
        back_url=reverse("trace:project", args=[project.pk]),
        datasets=PROJECT_DATASETS,
        csv_url=lambda key: reverse("trace:project-export-csv", args=[project.pk, key]),
        lines=lambda **kwargs: project_csv(project=project, **kwargs),
    )


def _campaign_export(campaign: Campaign) -> _Export:
    return _Export(
        name=campaign.name,
        kind="campaign",
        back_url=reverse("trace:campaign", args=[campaign.pk]),
        datasets=CAMPAIGN_DATASETS,
        csv_url=lambda key: reverse("trace:campaign-export-csv", args=[campaign.pk, key]),
        lines=lambda **kwargs: campaign_csv(campaign=campaign, **kwargs),
    )


@require_GET
@page_view
def project_export(request: HttpRequest, project_id: object) -> HttpResponse:
    export = _project_export(_project(request, project_id))
    return export.page(request, _range_form(request))


@require_GET
@page_view
def project_export_csv(request: HttpRequest, project_id: object, dataset: str) -> HttpResponseBase:
    return _project_export(_project(request, project_id)).csv(request, dataset)


@require_GET
@page_view
def campaign_export(request: HttpRequest, campaign_id: object) -> HttpResponse:
    export = _campaign_export(_campaign(request, campaign_id))
    return export.page(request, _range_form(request))


@require_GET
@page_view
def campaign_export_csv(
    request: HttpRequest, campaign_id: object, dataset: str
) -> HttpResponseBase:
    return _campaign_export(_campaign(request, campaign_id)).csv(request, dataset)
