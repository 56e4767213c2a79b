"""Campaigns: a tracking link to a landing page, a budget, and how conversions are credited.

A campaign is `active`, `paused` (its link still redirects; clicks are kept, marked
`during_pause`) or `archived` (hidden from default lists; nothing is erased).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from accounts.models import AuditAction, Organization, User
from accounts.services.audit import audit_record
from trace.models import AttributionModel, Campaign, CampaignStatus, Project
from trace.services.clicks.validation import campaign_cache_forget
from trace.services.projects import address_normalize, chain_parse

# Only web pages: `/t/` redirects here, so anything else would be an open door.
_landing_url_validator = URLValidator(schemes=["http", "https"])
MAX_WINDOW_DAYS = 365


def landing_url_validate(*, url: str) -> str:
    if not isinstance(url, str) or len(url) > 2048:
        raise ValidationError("Enter an http(s) URL of at most 2048 characters.")
    _landing_url_validator(url)
    # Browsers and Python's parser can disagree on the host of such a URL
    # (`https://evil.example\\@good.example/`): it could never be verified, so refuse it.
    if "\\" in url or "@" in urlsplit(url).netloc:
        raise ValidationError("A landing URL may not hold user info (`user@`) or a backslash.")
    return url


def campaign_create(
    *,
    organization: Organization,
    name: str,
    landing_url: str,
    budget_usd: Decimal,
    project: Project | None = None,
    target_contract: str = "",
    goal: str = "",
    attribution_model: str = AttributionModel.LAST_CLICK,
    attribution_window_days: int = 30,
    created_by: User | None = None,
) -> Campaign:
    campaign = Campaign(
        organization=organization,
        project=project,
        name=name,
        landing_url=landing_url,
        target_contract=target_contract,
        budget_usd=budget_usd,
        goal=goal,
        attribution_model=attribution_model,
        attribution_window_days=attribution_window_days,
        created_by=created_by,
    )
    _campaign_validate(campaign)
    with transaction.atomic():
        campaign.save(force_insert=True)
        audit_record(
            organization_id=organization.pk,
            actor=created_by,
            action=AuditAction.CAMPAIGN_CREATED,
            target=campaign,
            label=name,
            details={"project_id": str(project.pk) if project is not None else None},
        )
    return campaign


# What an edit may change (the organization and the creator never change).
EDITABLE_FIELDS = (
    "project",
    "name",
    "landing_url",
    "target_contract",
    "budget_usd",
    "goal",
    "attribution_model",
    "attribution_window_days",
    "status",
)


def campaign_update(*, campaign: Campaign, actor: User | None, **changes: Any) -> Campaign:
    """Change some of a campaign's EDITABLE_FIELDS (its status among them); all are checked
    together and nothing is stored when one is refused. The click path of this process
    sees the change at once, other processes within CAMPAIGN_CACHE_SECONDS."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["Cannot be changed."] for name in sorted(unknown)})
    changed = {name: value for name, value in changes.items() if getattr(campaign, name) != value}
    if not changed:
        return campaign
    edited = Campaign.objects.get(pk=campaign.pk)  # the caller's object stays as it was
    for name, value in changed.items():
        setattr(edited, name, value)
    _campaign_validate(edited)
    with transaction.atomic():
        edited.save(update_fields=list(changed))
        audit_record(
            organization_id=edited.organization_id,
            actor=actor,
            action=AuditAction.CAMPAIGN_UPDATED,
            target=edited,
            label=edited.name,
            details={"changed": sorted(changed), "status": edited.status},
        )
    # Forgotten now, not on commit: a rollback only costs this process one more lookup.
    campaign_cache_forget(campaign_id=str(edited.pk))
    return edited


def campaign_archive(*, campaign: Campaign, actor: User | None) -> Campaign:
    """Archive a campaign (DELETE): hidden from default lists, nothing erased."""
    return campaign_update(campaign=campaign, actor=actor, status=CampaignStatus.ARCHIVED)


def _campaign_validate(campaign: Campaign) -> None:
    """Every rule on a campaign's fields at once (one error per field); normalizes the
    target contract's spelling in place."""
    errors: dict[str, list[str]] = {}
    project = campaign.project
    if project is not None and project.organization_id != campaign.organization_id:
        errors["project"] = ["No such project."]
    if not campaign.name or not campaign.name.strip():
        errors["name"] = ["This field may not be blank."]
    try:
        landing_url_validate(url=campaign.landing_url)
    except ValidationError as error:
        errors["landing_url"] = error.messages
    if campaign.budget_usd is None or campaign.budget_usd < 0:
        errors["budget_usd"] = ["Must be zero or more."]
    if campaign.attribution_model not in AttributionModel.values:
        errors["attribution_model"] = [f"One of {', '.join(AttributionModel.values)}."]
    if not 1 <= campaign.attribution_window_days <= MAX_WINDOW_DAYS:
        errors["attribution_window_days"] = [f"Between 1 and {MAX_WINDOW_DAYS} days."]
    if campaign.status not in CampaignStatus.values:
        errors["status"] = [f"One of {', '.join(CampaignStatus.values)}."]
    if campaign.target_contract:
        try:
            namespace = (
                chain_parse(chain=project.chain).namespace
                if project is not None and "project" not in errors
                else None
            )
            campaign.target_contract = address_normalize(
                address=campaign.target_contract, namespace=namespace
            )
        except ValidationError as error:
            errors["target_contract"] = error.messages
    if errors:
        raise ValidationError(errors)
