from __future__ import annotations

from django.urls import path

from fabrknt.ops import queue_views, views
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
    path("api/v1/queue/", queue_views.QueueListView.as_view(), name="queue-list"),
    path(
        "api/v1/queue/<str:name>/retry-dead-letters",
        queue_views.QueueRetryDeadLettersView.as_view(),
        name="queue-retry-dead-letters",
    ),
    path("api/v1/queue/<str:name>/purge", queue_views.QueuePurgeView.as_view(), name="queue-purge"),
]
