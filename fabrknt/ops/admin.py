"""The beat schedules in the back office: django-celery-beat's admin, with its actions
requiring the change permission. The package declares none, so an operator allowed only
to look could enable, disable or run any schedule."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask


def _requiring_change(action: Callable) -> Callable:
    @admin.action(description=action.short_description, permissions=["change"])
    @functools.wraps(action)
    def guarded(model_admin: admin.ModelAdmin, request, queryset):
        return action(model_admin, request, queryset)

    return guarded


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    enable_tasks = _requiring_change(BeatPeriodicTaskAdmin.enable_tasks)
    disable_tasks = _requiring_change(BeatPeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _requiring_change(BeatPeriodicTaskAdmin.toggle_tasks)
    run_tasks = _requiring_change(BeatPeriodicTaskAdmin.run_tasks)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
