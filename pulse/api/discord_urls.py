"""The PULSE community endpoints: the Discord relay, install links, Notion."""

from __future__ import annotations

from django.urls import path

from pulse.api.community import TeamDiscordInstallView, TeamNotionView
from pulse.api.discord import DiscordWebhookView

urlpatterns = [
    path("discord/webhook", DiscordWebhookView.as_view(), name="pulse-discord-webhook"),
    path(
        "teams/<str:pulse_id>/discord-install",
        TeamDiscordInstallView.as_view(),
        name="pulse-team-discord-install",
    ),
    path("teams/<str:pulse_id>/notion", TeamNotionView.as_view(), name="pulse-team-notion"),
]
