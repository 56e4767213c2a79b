"""The beat schedules in the back office: django-celery-beat's admin, with its actions
requiring the change permission. The package declares none, so an operator allowed only
to look could enable, disable or run any schedule."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask


class _Action(Protocol):
    """An admin action as `admin.action` leaves it."""

    short_description: str

    def __call__(
        self, model_admin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> Any: ...


def _requiring_change(
    action: _Action,
) -> Callable[[admin.ModelAdmin[Any], HttpRequest, QuerySet[Any]], Any]:
    @admin.action(description=action.short_description, permissions=["change"])
    @functools.wraps(action)
    def guarded(
        model_admin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> Any:
        return action(model_admin, request, queryset)

    return guarded


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    enable_tasks = _requiring_change(BeatPeriodicTaskAdmin.enable_tasks)
    disable_tasks = _requiring_change(BeatPeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _requiring_change(BeatPeriodicTaskAdmin.toggle_tasks)
    run_tasks = _requiring_change(BeatPeriodicTaskAdmin.run_tasks)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
