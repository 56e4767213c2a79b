from __future__ import annotations

from django.urls import path

from pulse.api.discord import DiscordWebhookView

urlpatterns = [
    path("discord/webhook", DiscordWebhookView.as_view(), name="pulse-discord-webhook"),
]
