"""Project pages: create, edit, archive, and a member's "recompute metrics" (the project's
own page is `trace.views.project_detail`).

Each view finds the project through `caller_access` with the access its action needs
(WRITE for all of these), so another organization's project is a 404 and a viewer's
forged POST a 403, exactly as in the API; `trace.services.projects` does the rest.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import current_membership, memberships_of, page_access
from accounts.selectors import WRITE
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from trace.models import Project
from trace.pages import project_forms as f
from trace.services.projects import (
    project_archive,
    project_create,
    project_metrics_recompute_request,
    project_update,
)

Request = AuthenticatedHttpRequest


def _writable_project(request: Request, project_id: object) -> Project:
    """404 for a project of another organization, 403 for a viewer."""
    projects = Project.objects.select_related("organization")
    return page_access(request).get(projects, WRITE, pk=project_id)


def _project_url(project: Project) -> str:
    return reverse("trace:project", args=[project.pk])


@page_view
def project_create_page(request: Request) -> HttpResponse:
    access = page_access(request)
    writable = [m for m in memberships_of(request) if access.allows(m.organization_id, WRITE)]
    current = current_membership(request)
    initial = {"organization": current.organization_id if current in writable else None}
    choices = [(str(m.organization_id), m.organization.name) for m in writable]
    form = f.ProjectCreateForm(posted(request), initial=initial, organizations=choices)
    if submitted(request):
        project = form.submit(
            lambda: project_create(
                organization=access.organization(form.cleaned_data["organization"], WRITE),
                name=form.cleaned_data["name"],
                chain=form.cleaned_data["chain"],
                contract_addresses=form.cleaned_data["contract_addresses"],
                treasury_addresses=form.cleaned_data["treasury_addresses"],
                actor=request.user,
            )
        )
        if project is not None:
            messages.success(request, f"{project.name} is ready.")
            return redirect_to(request, _project_url(project))
    context: dict[str, object] = {"has_writable_organization": bool(writable)}
    return form_page(request, "trace/projects/create.html", context, form)


@page_view
def project_edit_page(request: Request, project_id) -> HttpResponse:
    project = _writable_project(request, project_id)
    initial = {
        "name": project.name,
        "contract_addresses": project.contract_addresses,
        "treasury_addresses": project.treasury_addresses,
    }
    form = f.ProjectEditForm(posted(request), initial=initial)
    if submitted(request):
        updated = form.submit(
            lambda: project_update(project=project, actor=request.user, **form.cleaned_data)
        )
        if updated is not None:
            messages.success(request, "Project saved.")
            return redirect_to(request, _project_url(updated))
    return form_page(request, "trace/projects/edit.html", {"project": project}, form)


@page_view
def project_archive_page(request: Request, project_id) -> HttpResponse:
    project = _writable_project(request, project_id)
    form = f.ProjectArchiveForm(posted(request))
    if submitted(request):
        archived = form.submit(lambda: project_archive(project=project, actor=request.user))
        if archived is not None:
            messages.success(request, f"{archived.name} was archived. Its data is kept.")
            return redirect_to(request, reverse("trace:dashboard"))
    return form_page(request, "trace/projects/archive.html", {"project": project}, form)


@require_POST
@page_view
def project_recompute(request: Request, project_id) -> HttpResponse:
    """Queue a recompute of the project's metrics, back to its page with what happened (a
    second request within a minute is refused there: the first one still runs)."""
    project = _writable_project(request, project_id)
    form = f.ProjectRecomputeForm(request.POST)
    days = form.submit(lambda: project_metrics_recompute_request(project=project))
    if days is None:
        for error in form.non_field_errors():
            messages.error(request, str(error))
    else:
        date_from, date_to = days
        messages.success(
            request, f"Metrics recompute queued for {date_from:%b %-d} – {date_to:%b %-d, %Y}."
        )
    return redirect_to(request, _project_url(project))
