"""The organization's audit log: one row per action, written by the service that acts."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model

from accounts.models import AuditEvent, User

_LABEL_MAX = 200


def audit_record(
    *,
    organization_id: uuid.UUID,
    actor: User | None,
    action: str,
    target: Model,
    label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` (None: an API key or the platform) did `action` to `target`.

    Called inside the acting service's transaction, so the event exists exactly when the
    action does."""
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor if isinstance(actor, User) and actor.pk else None,
        action=action,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        target_label=(label or str(target))[:_LABEL_MAX],
        details=details or {},
    )
