"""What a sweep of refused requests compares before and after: every table's row count."""

from __future__ import annotations

from django.apps import apps


def row_counts() -> dict[str, int]:
    """Rows per model (by label), for every table the project's models manage."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }
