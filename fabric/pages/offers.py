"""Offer pages: a listing's offers (a buyer makes one and follows theirs; the seller's
members answer them), one offer with its timeline, the accept/decline/withdraw confirm
steps and the counter form, and the inbox (a user's offers and threads, both sides).

They call the services the API calls, with the page caller's access: another listing's or
another buyer's offer is a 404, an unsigned buyer a 403, a move out of turn a 409 shown
on the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from accounts.selectors import CallerAccess
from fabric.models import Offer
from fabric.offer_selectors import inbox, listing_offers
from fabric.pages import offers_forms as f
from fabric.selectors import gated_listing, signed_wallets
from fabric.services.offers import (
    OFFERABLE,
    OfferView,
    offer_accept,
    offer_counter,
    offer_decline,
    offer_get,
    offer_make,
    offer_side,
    offer_withdraw,
)
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm, form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted

Request = AuthenticatedHttpRequest


def _offer_url(offer: Offer) -> str:
    return reverse("fabric:offer", args=[offer.pk])


@dataclass(frozen=True)
class Row:
    """An offer in a list, with its own counter form (field ids unique on the page)."""

    side: OfferView
    counter_form: f.OfferCounterForm
    form_id: str


def counter_form_of(offer: Offer) -> f.OfferCounterForm:
    return f.OfferCounterForm(
        initial={"amount_usd": offer.amount_usd, "terms": offer.terms},
        auto_id=f"counter-{offer.pk}-%s",
    )


def _rows(offers: list[Offer], access: CallerAccess) -> list[Row]:
    sides = [side for offer in offers if (side := offer_side(offer=offer, access=access))]
    return [Row(side, counter_form_of(side.offer), f"counter-{side.offer.pk}") for side in sides]


@page_view
def listing_offers_page(request: Request, listing_id: str) -> HttpResponse:
    access = page_access(request)
    view = gated_listing(listing_id=listing_id, access=access)
    wallets = [] if view.is_seller else signed_wallets(view.listing, request.user)
    form = f.OfferMakeForm(posted(request), wallets=wallets)
    if submitted(request):
        made = form.submit(
            lambda: offer_make(listing_id=view.listing.pk, access=access, **form.cleaned_data)
        )
        if made is not None:
            amount = made.offer.amount_usd
            messages.success(request, f"Your offer of {amount} USD is with the seller.")
            return redirect_to(request, _offer_url(made.offer))
    offers = list(listing_offers(view=view, access=access).prefetch_related("steps"))
    context = {
        "listing": view.listing,
        "view": view,
        "rows": _rows(offers, access),
        "takes_offers": view.listing.status in OFFERABLE,
    }
    return form_page(request, "fabric/offers/listing.html", context, form)


@page_view
def offer_page(request: Request, offer_id: str) -> HttpResponse:
    side = offer_get(offer_id=offer_id, access=page_access(request))
    context = {
        "side": side,
        "offer": side.offer,
        "listing": side.offer.listing,
        "steps": side.offer.steps.select_related("actor").order_by("created_at", "id"),
        "row": Row(side, counter_form_of(side.offer), "counter"),
    }
    return render(request, "fabric/offers/detail.html", context)


ACTIONS: dict[str, tuple[Callable[..., Offer], str, str, str]] = {
    # action: (service, question, explanation, button)
    "accept": (
        offer_accept,
        "Accept the offer of {amount} USD?",
        "The listing goes under offer, its other open offers are declined, and both sides "
        "move on to the escrow. This cannot be undone here.",
        "Accept the offer",
    ),
    "decline": (
        offer_decline,
        "Decline the offer of {amount} USD?",
        "The offer ends; the buyer is told and may make a new one.",
        "Decline the offer",
    ),
    "withdraw": (
        offer_withdraw,
        "Withdraw your offer of {amount} USD?",
        "The offer ends at once; the seller is told.",
        "Withdraw the offer",
    ),
}


@page_view
def offer_act_page(request: Request, offer_id: str, action: str) -> HttpResponse:
    """The confirm step of accept, decline and withdraw; its POST acts."""
    act, title, text, button = ACTIONS[action]
    access = page_access(request)
    side = offer_get(offer_id=offer_id, access=access)
    form = ConfirmForm(posted(request))
    if submitted(request):
        offer = form.submit(lambda: act(offer_id=side.offer.pk, access=access))
        if offer is not None:
            messages.success(request, f"The offer is {offer.status}.")
            return redirect_to(request, _offer_url(offer))
    context = {
        "offer": side.offer,
        "title": title.format(amount=side.offer.amount_usd),
        "text": text,
        "submit": button,
        "action": reverse(f"fabric:offer-{action}", args=[side.offer.pk]),
        "danger": action != "accept",
    }
    return form_page(request, "fabric/offers/confirm.html", context, form)


@page_view
def offer_counter_page(request: Request, offer_id: str) -> HttpResponse:
    access = page_access(request)
    side = offer_get(offer_id=offer_id, access=access)
    initial = {"amount_usd": side.offer.amount_usd, "terms": side.offer.terms}
    form = f.OfferCounterForm(posted(request), initial=initial)
    if submitted(request):
        offer = form.submit(
            lambda: offer_counter(offer_id=side.offer.pk, access=access, **form.cleaned_data)
        )
        if offer is not None:
            messages.success(request, f"Countered at {offer.amount_usd} USD: the turn passes.")
            return redirect_to(request, _offer_url(offer))
    context = {"offer": side.offer, "side": side}
    return form_page(request, "fabric/offers/counter.html", context, form)


@page_view
def inbox_page(request: Request) -> HttpResponse:
    access = page_access(request)
    box = inbox(user=request.user, access=access)
    context = {
        "box": box,
        "buyer_rows": _rows(box.buyer_offers, access),
        "seller_rows": _rows(box.seller_offers, access),
    }
    return render(request, "fabric/inbox.html", context)
