"""PULSE's pages, mounted under /pulse/ (the API lives in pulse/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path

app_name = "pulse"

urlpatterns = [
    path("teams/", include("pulse.pages.teams_urls")),
]
