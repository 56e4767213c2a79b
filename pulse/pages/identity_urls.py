"""Identity linking, mounted under /account/identities/."""

from __future__ import annotations

from django.urls import path

from pulse.pages import identity

app_name = "pulse-identity"

urlpatterns = [
    path("<str:provider>/link", identity.link_start, name="link"),
    path("<str:provider>/callback", identity.link_callback, name="callback"),
]
