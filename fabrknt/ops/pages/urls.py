"""/ops/: the operations page and its queue actions (fabrknt.ops.pages.views)."""

from __future__ import annotations

from django.urls import path

from fabrknt.ops.pages import views

app_name = "ops"

urlpatterns = [
    path("", views.ops_page, name="page"),
    *[
        path(
            f"queues/<str:name>/{action}",
            views.queue_action_page,
            {"action": action},
            name=f"queue-{action}",
        )
        for action in views.QUEUE_ACTIONS
    ],
]
