"""Campaigns: a tracking link to a landing page, a budget, and how conversions are credited."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from accounts.models import AuditAction, Organization, User
from accounts.services.audit import audit_record
from trace.models import AttributionModel, Campaign, Project
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
    errors: dict[str, list[str]] = {}
    if project is not None and project.organization_id != organization.pk:
        errors["project"] = ["No such project."]
    try:
        landing_url_validate(url=landing_url)
    except ValidationError as error:
        errors["landing_url"] = error.messages
    if budget_usd < 0:
        errors["budget_usd"] = ["Must be zero or more."]
    if attribution_model not in AttributionModel.values:
        errors["attribution_model"] = [f"One of {', '.join(AttributionModel.values)}."]
    if not 1 <= attribution_window_days <= MAX_WINDOW_DAYS:
        errors["attribution_window_days"] = [f"Between 1 and {MAX_WINDOW_DAYS} days."]
    if target_contract:
        try:
            namespace = (
                chain_parse(chain=project.chain).namespace
                if project is not None and "project" not in errors
                else None
            )
            target_contract = address_normalize(address=target_contract, namespace=namespace)
        except ValidationError as error:
            errors["target_contract"] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        campaign = Campaign.objects.create(
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
        audit_record(
            organization_id=organization.pk,
            actor=created_by,
            action=AuditAction.CAMPAIGN_CREATED,
            target=campaign,
            label=name,
            details={"project_id": str(project.pk) if project is not None else None},
        )
    return campaign
