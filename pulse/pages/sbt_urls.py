"""/pulse/…: the soulbound token pages of `pulse.pages.sbt`."""

from __future__ import annotations

from django.urls import path

from pulse.pages import sbt as views

app_name = "pulse_sbt"

urlpatterns = [
    path(
        "teams/<str:pulse_id>/contributors/<uuid:contributor_id>/tokens",
        views.tokens_page,
        name="tokens",
    ),
]
