"""Identify: tie a wallet to the click that brought it (called by fab.js on connect).

A link is `claimed` when the caller only names the wallet (fab.js holds a public key), and
`proven` when the wallet signed the message issued for that click
(trace.services.wallet_proof).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fabrknt.api.errors import InvalidInput, NotFound
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped
from trace.cache import campaigns_figures_changed
from trace.models import Click, LinkProof, WalletLink
from trace.services.attribution import attribution_apply_wallet_link
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import stream_client
from trace.services.projects import address_normalize, chain_parse
from trace.services.rollups import campaign_days_conversions_refresh, click_wallet_cells
from trace.services.wallet_proof import (
    ClickWalletLimit,
    IdentifyMessage,
    click_has_room_for,
    identify_message_issue,
    identify_nonce_spend,
    identify_proof_check,
)

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
    *, click_id: str, organization_ids: Collection[uuid.UUID], campaign_id: uuid.UUID | None = None
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
    if click is None and stream_client() is not None and not redis_skipped():
        try:
            clicks_flush(max_batches=FLUSH_BATCHES_ON_MISS)
        except REDIS_ERRORS as error:
            # The clicks accepted while Redis is down are in the database already.
            redis_failed(error, during="identify")
        click = queryset.first()
    if click is None:
        raise ClickNotFound()
    return click


def click_namespace(click: Click) -> str | None:
    """The address namespace the click's campaign lives in, when its project says so."""
    project = click.campaign.project
    return chain_parse(chain=project.chain).namespace if project is not None else None


def wallet_address_for(*, click: Click, wallet_address: str, field: str = "wallet_address") -> str:
    """The stored spelling of a wallet address in the click's namespace; ValidationError
    (on `field`) when it is not one."""
    try:
        return address_normalize(address=wallet_address, namespace=click_namespace(click))
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def identify_message(*, click: Click, wallet_address: str) -> IdentifyMessage:
    """The message the wallet signs to prove its link to the click (see wallet_proof)."""
    address = wallet_address_for(click=click, wallet_address=wallet_address, field="wallet")
    return identify_message_issue(click=click, wallet_address=address)


def wallet_identify(
    *, click: Click, wallet_address: str, message: str = "", signature: str = ""
) -> tuple[WalletLink, bool]:
    """The (click, wallet) link, created the first time; ValidationError for a bad address.

    Without a signature the link is `claimed`. With the wallet's signature over the message
    issued for this click and wallet (trace.services.wallet_proof) it is `proven`, and a
    claimed link is upgraded; a proof that fails stores nothing (ProofRefused). A click
    links at most IDENTIFY_MAX_WALLETS_PER_CLICK wallets (ClickWalletLimit beyond).

    A new link also attributes the wallet's earlier transactions within the window, for a
    wallet identified after it had already used the target contract.
    """
    address = wallet_address_for(click=click, wallet_address=wallet_address)
    now = timezone.now()
    nonce = None
    if message or signature:
        nonce = identify_proof_check(
            click=click, wallet_address=address, message=message, signature=signature, now=now
        )
    proof = LinkProof.PROVEN if nonce is not None else LinkProof.CLAIMED
    with transaction.atomic():
        # One identify at a time per click, so that the wallet count cannot be overrun.
        # NO KEY: conversions referencing the click need not wait for it.
        Click.objects.select_for_update(no_key=True).filter(pk=click.pk).first()
        if not click_has_room_for(click=click, wallet_address=address):
            raise ClickWalletLimit()
        if nonce is not None:
            identify_nonce_spend(nonce=nonce, now=now)
        link, created = WalletLink.objects.select_related("click", "campaign").get_or_create(
            click=click,
            wallet_address=address,
            defaults={
                "campaign": click.campaign,
                "identified_at": now,
                "proof": proof,
                "proven_at": now if proof == LinkProof.PROVEN else None,
            },
        )
        proven_now = created and proof == LinkProof.PROVEN
        if created:
            attribution_apply_wallet_link(link=link)
        elif proof == LinkProof.PROVEN and link.proof == LinkProof.CLAIMED:
            proven_now = bool(
                WalletLink.objects.filter(pk=link.pk, proof=LinkProof.CLAIMED).update(
                    proof=LinkProof.PROVEN, proven_at=now
                )
            )
            link.proof, link.proven_at = LinkProof.PROVEN, now
        if proven_now:
            # Conversions of this wallet through this click now count as proven value.
            campaign_days_conversions_refresh(
                click_wallet_cells(click_id=click.pk, wallet_address=address)
            )
            # And the campaign page lists the wallet as proven, whatever it converted.
            campaigns_figures_changed([click.campaign_id])
    return link, created
