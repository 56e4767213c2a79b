from __future__ import annotations

from django.urls import path

from fabrknt.live.api import LiveTokenView

urlpatterns = [path("ws-token", LiveTokenView.as_view(), name="ws-token")]
