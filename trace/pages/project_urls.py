"""/trace/projects/…: the project pages of `trace.pages.projects` (included by trace/urls.py;
the project's own page stays `trace:project`)."""

from __future__ import annotations

from django.urls import path

from trace.pages import projects as views

urlpatterns = [
    path("new", views.project_create_page, name="project-create"),
    path("<uuid:project_id>/edit", views.project_edit_page, name="project-edit"),
    path("<uuid:project_id>/archive", views.project_archive_page, name="project-archive"),
    path("<uuid:project_id>/recompute", views.project_recompute, name="project-recompute"),
]
