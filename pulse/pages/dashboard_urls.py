"""/pulse/…: the vitality pages of `pulse.pages.dashboard`."""

from __future__ import annotations

from django.urls import path

from pulse.pages import dashboard as views

app_name = "pulse_dashboard"

urlpatterns = [
    path("teams/<str:pulse_id>/", views.team_page, name="team"),
    path("teams/<str:pulse_id>/recalculate", views.team_recalculate, name="team-recalculate"),
    path(
        "teams/<str:pulse_id>/contributors/<uuid:contributor_id>/",
        views.contributor_page,
        name="contributor",
    ),
    path("teams/<str:pulse_id>/reports/", views.reports_page, name="reports"),
    path("teams/<str:pulse_id>/reports/<str:week_start>/", views.report_page, name="report"),
]
