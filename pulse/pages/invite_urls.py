"""/pulse/invite/<token>: the page a contributor's invitation link opens (pulse.pages.invite)."""

from __future__ import annotations

from django.urls import path

from pulse.pages import invite

app_name = "pulse-invite"

urlpatterns = [
    path("<str:token>", invite.invite_page, name="invite"),
]
