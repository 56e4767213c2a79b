"""TRACE's sections of an organization's export (`ORGANIZATION_EXPORT_SECTIONS`): its
projects and campaigns, read in chunks so that the export streams."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from trace.models import Campaign, Project

_CHUNK = 500


def organization_projects_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    projects = Project.objects.filter(organization_id=organization_id).order_by("created_at", "id")
    for project in projects.iterator(chunk_size=_CHUNK):
        yield {
            "id": project.pk,
            "name": project.name,
            "chain": project.chain,
            "contract_addresses": project.contract_addresses,
            "treasury_addresses": project.treasury_addresses,
            "created_at": project.created_at,
        }


def organization_campaigns_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    campaigns = Campaign.objects.filter(organization_id=organization_id).order_by(
        "created_at", "id"
    )
    for campaign in campaigns.iterator(chunk_size=_CHUNK):
        yield {
            "id": campaign.pk,
            "project_id": campaign.project_id,
            "name": campaign.name,
            "landing_url": campaign.landing_url,
            "target_contract": campaign.target_contract,
            "budget_usd": campaign.budget_usd,
            "goal": campaign.goal,
            "attribution_model": campaign.attribution_model,
            "attribution_window_days": campaign.attribution_window_days,
            "created_by": campaign.created_by_id,
            "created_at": campaign.created_at,
        }
