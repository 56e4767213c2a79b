"""CSV exports of a project or a campaign, under /trace/ (trace.pages.exports)."""

from __future__ import annotations

from django.urls import path

from trace.pages import exports

urlpatterns = [
    path("projects/<uuid:project_id>/export/", exports.project_export, name="project-export"),
    path(
        "projects/<uuid:project_id>/export/<str:dataset>.csv",
        exports.project_export_csv,
        name="project-export-csv",
    ),
    path("campaigns/<uuid:campaign_id>/export/", exports.campaign_export, name="campaign-export"),
    path(
        "campaigns/<uuid:campaign_id>/export/<str:dataset>.csv",
        exports.campaign_export_csv,
        name="campaign-export-csv",
    ),
]
