"""Identify: tie a wallet to the click that brought it (called by fab.js on connect)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fabrknt.api.errors import InvalidInput, NotFound
from trace.models import Click, WalletLink
from trace.services.attribution import attribution_apply_wallet_link
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import stream_client
from trace.services.projects import address_normalize, chain_parse

# A click accepted moments ago may still be in the Redis stream; on a miss we drain it
# (bounded: this many batches) and look again, so identify works right after a redirect.
FLUSH_BATCHES_ON_MISS = 20


class ClickNotFound(NotFound):
    code = "click_not_found"
    default_detail = "No such click."


class CampaignRequired(InvalidInput):
    code = "campaign_required"

    def __init__(self) -> None:
        super().__init__(
            fields={
                "campaign_id": [
                    "Required: you act for several organizations, and a click id is only "
                    "unique within one."
                ]
            }
        )


def click_get_for(
    *, click_id: str, organization_ids: Collection, campaign_id: uuid.UUID | None = None
) -> Click:
    """The click `click_id` of the caller's organization (`organization_ids`), of the
    campaign `campaign_id` when given, flushing the stream on a miss.

    A click id is unique per organization only, so a caller acting for several
    organizations must name the campaign (CampaignRequired otherwise)."""
    if campaign_id is None and len(organization_ids) > 1:
        raise CampaignRequired()
    queryset = Click.objects.select_related("campaign", "campaign__project").filter(
        click_id=click_id, organization_id__in=organization_ids
    )
    if campaign_id is not None:
        queryset = queryset.filter(campaign_id=campaign_id)
    click = queryset.first()
    if click is None and stream_client() is not None:
        clicks_flush(max_batches=FLUSH_BATCHES_ON_MISS)
        click = queryset.first()
    if click is None:
        raise ClickNotFound()
    return click


def click_namespace(click: Click) -> str | None:
    """The address namespace the click's campaign lives in, when its project says so."""
    project = click.campaign.project
    return chain_parse(chain=project.chain).namespace if project is not None else None


def wallet_identify(*, click: Click, wallet_address: str) -> tuple[WalletLink, bool]:
    """The (click, wallet) link, created the first time; ValidationError for a bad address.

    A new link also attributes the wallet's earlier transactions within the window, for a
    wallet identified after it had already used the target contract.
    """
    try:
        address = address_normalize(address=wallet_address, namespace=click_namespace(click))
    except ValidationError as error:
        raise ValidationError({"wallet_address": error.messages}) from None
    with transaction.atomic():
        link, created = WalletLink.objects.select_related("click", "campaign").get_or_create(
            click=click,
            wallet_address=address,
            defaults={"campaign": click.campaign, "identified_at": timezone.now()},
        )
        if created:
            attribution_apply_wallet_link(link=link)
    return link, created
