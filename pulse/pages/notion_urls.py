"""A team's Notion workspace pages, mounted under /pulse/notion/."""

from __future__ import annotations

from django.urls import path

from pulse.pages import notion

app_name = "pulse-notion"

urlpatterns = [
    path("teams/<str:pulse_id>", notion.workspace, name="workspace"),
    path("teams/<str:pulse_id>/editors", notion.editor, name="editor"),
    path("teams/<str:pulse_id>/disconnect", notion.disconnect, name="disconnect"),
]
