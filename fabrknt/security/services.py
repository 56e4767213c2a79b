"""Writes for the request guards that go beyond one model's save()."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from fabrknt.security.models import IpRule
from fabrknt.security.selectors import ip_rules_invalidate


def ip_rules_set_enabled(*, rules: QuerySet[IpRule], enabled: bool) -> int:
    """Switch rules on or off in one statement; returns how many changed."""
    with transaction.atomic():
        changed = rules.exclude(enabled=enabled).update(enabled=enabled)
        transaction.on_commit(ip_rules_invalidate)
    ip_rules_invalidate()
    return changed


def ip_rules_delete(*, rules: QuerySet[IpRule]) -> int:
    with transaction.atomic():
        deleted, _ = rules.delete()
        transaction.on_commit(ip_rules_invalidate)
    ip_rules_invalidate()
    return deleted
