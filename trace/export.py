"""TRACE's sections of an organization's export (`ORGANIZATION_EXPORT_SECTIONS`): its
projects and campaigns."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from accounts.services.organization_export import export_rows
from trace.models import Campaign, Project


def organization_projects_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        Project.objects.filter(organization_id=organization_id),
        *("id", "name", "chain", "contract_addresses", "treasury_addresses", "created_at"),
    )


def organization_campaigns_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        Campaign.objects.filter(organization_id=organization_id),
        *("id", "project_id", "name", "landing_url", "target_contract", "budget_usd", "goal"),
        *("attribution_model", "attribution_window_days", "created_at"),
        created_by="created_by_id",
    )
