"""TRACE's pages, mounted under /trace/ (the API lives in trace/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path

from trace import views

app_name = "trace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("campaigns/", include("trace.pages.campaigns_urls")),
    path("projects/<uuid:project_id>/", views.project_detail, name="project"),
    path("projects/<uuid:project_id>/backfill/", views.project_backfill, name="project-backfill"),
    path("projects/", include("trace.pages.project_urls")),
    path("", include("trace.pages.certificate_urls")),
    path("", include("trace.pages.export_urls")),
]
