"""Discord install pages, mounted under /pulse/discord/."""

from __future__ import annotations

from django.urls import path

from pulse.pages import discord

app_name = "pulse-discord"

urlpatterns = [
    path("teams/<str:pulse_id>/install", discord.install, name="install"),
    path("installed", discord.installed, name="installed"),
]
