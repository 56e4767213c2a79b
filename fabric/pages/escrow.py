"""The escrow's pages: a deal (/fabric/deals/<id>/: its status timeline, its transactions
and the steps each party sends from its browser wallet) and opening one
(/fabric/listings/<id>/escrow/new/, for a buyer who signed the NDA).

Who sees a deal is `fabric.selectors.escrow_deal` (its buyer, the seller's members), as
for `GET /api/v1/escrow/{id}`; opening one calls the API's service
(`fabric.services.escrow.escrow_init`) with the same refusals.
"""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import READ
from fabric.api.escrow import transaction_json
from fabric.models import EscrowStatus, EscrowTransaction, Offer, OfferStatus
from fabric.pages.escrow_forms import EscrowOpenForm
from fabric.selectors import escrow_deal, gated_listing, signed_wallets
from fabric.services.escrow import NATIVE, PartyStep, escrow_chains, escrow_init, escrow_next_steps
from fabrknt.api.errors import PermissionDenied
from fabrknt.chain.evm import evm_chain_id, native_asset
from fabrknt.chain.networks import chain_name, network_of
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from trace.services.pricing import PriceBook, amount_from_base_units

Request = AuthenticatedHttpRequest

# The contract's states in order, with what each means to the parties.
TIMELINE = (
    (EscrowStatus.PENDING, "Opened", "The buyer opens the deal and deposits the payment."),
    (EscrowStatus.FUNDED, "Funded", "Payment (and, for a swap, the asset) held by the escrow."),
    (EscrowStatus.RELEASED, "Released", "Payment to the seller, asset to the buyer."),
)
REFUNDED_STEP = (
    EscrowStatus.REFUNDED,
    "Refunded",
    "Called off: each party got back what it put in.",
)


@page_view
def deal_page(request: Request, escrow_id: UUID) -> HttpResponse:
    access = page_access(request)
    escrow = escrow_deal(escrow_id=escrow_id, access=access)
    parties = set()
    if escrow.buyer_id == request.user.pk:
        parties.add("buyer")
    if access.allows(escrow.listing.organization_id, READ):
        parties.add("seller")
    steps = escrow_next_steps(escrow)
    network = network_of(escrow.chain)
    context = {
        "escrow": escrow,
        "listing": escrow.listing,
        "chain_name": chain_name(escrow.chain),
        "chain_id": evm_chain_id(escrow.chain),
        "contract_url": network.address_url(escrow.escrow_contract_address) if network else "",
        "explorer_tx": network.transaction_url("") if network else "",
        "timeline": _timeline(escrow),
        "transactions": [
            {
                "event": event,
                "url": network.transaction_url(event.tx_hash) if network else "",
            }
            for event in escrow.events.order_by("block_number", "log_index")
        ],
        "my_steps": [_step_row(step) for step in steps if step.party in parties],
        "waiting": [step for step in steps if step.party not in parties],
        "payment": _payment_label(escrow),
        "roles": sorted(parties),
    }
    return render(request, "fabric/escrow/deal.html", context)


@page_view
def escrow_new_page(request: Request, listing_id: UUID) -> HttpResponse:
    access = page_access(request)
    view = gated_listing(listing_id=listing_id, access=access)
    listing = view.listing
    if view.is_seller:
        raise PermissionDenied("The seller's members cannot buy their own listing.")
    offers = list(
        Offer.objects.filter(listing=listing, buyer=request.user, status=OfferStatus.ACCEPTED)
    )
    wallets = [w for w in signed_wallets(listing, request.user) if w.startswith("0x")]
    chains = escrow_chains()
    if listing.blockchain in chains:  # the listing's own chain first
        chains.remove(listing.blockchain)
        chains.insert(0, listing.blockchain)
    # The offer the link names (an offer page's "Open escrow"), else the newest accepted.
    offer_ids = [str(offer.pk) for offer in offers]
    chosen = request.GET.get("offer", "")
    chosen = chosen if chosen in offer_ids else next(iter(offer_ids), "")
    form = EscrowOpenForm(
        posted(request),
        initial={"price": chosen},
        offers=offers,
        asking_price=f"{listing.asking_price_usd:,.2f}",
        wallets=wallets,
        chains=chains,
    )
    if submitted(request) and wallets and chains:
        opening = form.submit(
            lambda: escrow_init(
                access=access,
                listing_id=listing.pk,
                buyer_wallet=form.cleaned_data["buyer_wallet"],
                amount_usd=_price(form.cleaned_data["price"], offers, listing.asking_price_usd),
                chain=form.cleaned_data["chain"],
                asset=form.cleaned_data["asset"] or NATIVE,
                swap_asset=form.swap_asset(),
                offer_id=UUID(form.cleaned_data["price"]) if form.cleaned_data["price"] else None,
            )
        )
        if opening is not None:
            return redirect_to(request, reverse("fabric:deal", args=[opening.escrow.pk]))
    context = {
        "listing": listing,
        "wallets": wallets,
        "chains": chains,
        "action": request.get_full_path(),
    }
    return form_page(request, "fabric/escrow/new.html", context, form)


def _price(choice: str, offers: list[Offer], asking_price: Decimal) -> Decimal:
    for offer in offers:
        if str(offer.pk) == choice:
            return offer.amount_usd
    return asking_price


def _timeline(escrow: EscrowTransaction) -> list[dict[str, object]]:
    stages = list(TIMELINE)
    if escrow.status == EscrowStatus.REFUNDED:
        stages[-1] = REFUNDED_STEP
    times = {
        EscrowStatus.PENDING: escrow.created_at,
        EscrowStatus.FUNDED: escrow.funded_at,
        EscrowStatus.RELEASED: escrow.completed_at,
        EscrowStatus.REFUNDED: escrow.completed_at,
    }
    order: list[str] = [stage[0] for stage in stages]
    reached = order.index(escrow.status) if escrow.status in order else 0
    return [
        {
            "status": status,
            "title": title,
            "text": text,
            "at": times[status],
            "done": index <= reached,
            "current": index == reached,
        }
        for index, (status, title, text) in enumerate(stages)
    ]


def _step_row(step: PartyStep) -> dict[str, object]:
    return {
        "step": step,
        "params": json.dumps(
            {key: value for key, value in transaction_json(step.request).items() if key != "step"}
        ),
    }


def _payment_label(escrow: EscrowTransaction) -> str:
    """The payment in whole units of its asset, as the registry names it."""
    units = int(escrow.amount_units)
    if not escrow.payment_token:
        amount = amount_from_base_units(units, 18).normalize()
        return f"{amount:f} {native_asset(escrow.chain)}"
    asset = PriceBook().asset(chain=escrow.chain, address=escrow.payment_token)
    if asset is None:
        return f"{units} base units of the token {escrow.payment_token}"
    return f"{amount_from_base_units(units, asset.decimals).normalize():f} {asset.symbol}"
