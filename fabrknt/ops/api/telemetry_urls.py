from __future__ import annotations

from django.urls import path

from fabrknt.ops.api.telemetry import TelemetryView

urlpatterns = [
    path("operational/telemetry", TelemetryView.as_view(), name="operational-telemetry"),
]
