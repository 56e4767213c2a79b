from __future__ import annotations

from django.urls import path

from fabrknt.ops import views
from fabrknt.ops.metrics.api import OperationalMetricsView
from fabrknt.ops.metrics.prometheus import metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path(
        "api/v1/operational/metrics",
        OperationalMetricsView.as_view(),
        name="operational-metrics",
    ),
]
