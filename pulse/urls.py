"""PULSE's pages, mounted under /pulse/ (the API lives in pulse/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path
from django.views.generic import RedirectView

app_name = "pulse"

urlpatterns = [
    # /pulse/ is the list of teams (each links to its vitality dashboard and its settings).
    path("", RedirectView.as_view(pattern_name="pulse:teams"), name="home"),
    path("teams/", include("pulse.pages.teams_urls")),
]
