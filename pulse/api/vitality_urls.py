"""The vitality endpoint (included by fabrknt/urls.py under /api/v1/)."""

from __future__ import annotations

from django.urls import path

from pulse.api.vitality import VitalityView

urlpatterns = [
    path("vitality/<str:pulse_id>", VitalityView.as_view(), name="pulse-vitality"),
]
