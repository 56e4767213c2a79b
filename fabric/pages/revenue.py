"""A listing's revenue page for its seller: the verified revenue and the records it comes
from, with their evidence; connect or disconnect Stripe; verify now. Members of the
seller's organization see it; those who may write act on it."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.pages.current import page_access
from fabric.models import Listing, RevenueRecord, StripeConnection
from fabric.selectors import listing_revenue_records, listing_view, seller_listing
from fabric.services.revenue import stripe_connect, stripe_disconnect
from fabric.tasks import verify_listing_revenue
from fabrknt.api.errors import NotFound
from fabrknt.chain.networks import chain_name, network_of
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm, ServiceForm
from fabrknt.pages.htmx import redirect_to


class StripeKeyForm(ServiceForm):
    api_key = forms.CharField(
        label="Restricted Stripe key",
        max_length=255,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Stripe Dashboard → Developers → API keys → Create restricted key: "
        "“Charges: Read”, nothing else. Paste it here (rk_live_… or rk_test_…); it is checked "
        "with Stripe, stored encrypted and never shown again.",
    )


@dataclasses.dataclass(frozen=True)
class EvidenceLink:
    label: str
    url: str | None


@dataclasses.dataclass(frozen=True)
class RecordRow:
    record: RevenueRecord
    facts: list[str]
    links: list[EvidenceLink]


def _record_row(record: RevenueRecord) -> RecordRow:
    evidence: dict[str, Any] = record.evidence or {}
    if record.source == "onchain":
        facts = [
            f"{evidence.get('transfers', 0)} transfer(s) to the treasury in "
            f"{evidence.get('transactions_count', 0)} transaction(s)",
            f"{evidence.get('unpriced_transfers', 0)} unpriced (not counted)",
        ]
        facts += [
            f"not watched by the TRACE project: {chain_name(t['chain'])} {t['address']}"
            for t in evidence.get("not_watched", [])
        ]
        links = []
        for tx in evidence.get("transactions", []):
            network = network_of(tx["chain"])
            links.append(
                EvidenceLink(tx["hash"], network.transaction_url(tx["hash"]) if network else None)
            )
    else:
        facts = [
            f"{evidence.get('charges_counted', 0)} paid charge(s) counted",
            f"{evidence.get('charges_refunded', 0)} fully refunded, "
            f"{evidence.get('charges_not_paid', 0)} not paid (not counted)",
        ]
        facts += [
            f"also {amount} {currency.upper()} (smallest unit), not converted to USD"
            for currency, amount in evidence.get("amount_by_currency", {}).items()
            if currency != "usd"
        ]
        links = [EvidenceLink(charge_id, None) for charge_id in evidence.get("charge_ids", [])]
    return RecordRow(record=record, facts=facts, links=links)


def _seller_view(request: AuthenticatedHttpRequest, listing_id: str) -> tuple[Listing, bool]:
    view = listing_view(listing_id=listing_id, access=page_access(request))
    if not view.is_seller:
        raise NotFound()
    return view.listing, view.seller_can_write


def _page(
    request: AuthenticatedHttpRequest,
    listing: Listing,
    *,
    can_write: bool,
    key_form: StripeKeyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "listing": listing,
        "can_write": can_write,
        "connection": StripeConnection.objects.filter(listing=listing).first(),
        "treasuries": listing.assets.filter(asset_type="treasury"),
        "rows": [_record_row(r) for r in listing_revenue_records(listing)],
        "key_form": key_form or StripeKeyForm(),
        "confirm_form": ConfirmForm(),
    }
    return render(request, "fabric/revenue/listing.html", context, status=status)


@page_view
def listing_revenue(request: AuthenticatedHttpRequest, listing_id: str) -> HttpResponse:
    listing, can_write = _seller_view(request, listing_id)
    if request.method != "POST":
        return _page(request, listing, can_write=can_write)
    listing = seller_listing(listing_id=listing_id, access=page_access(request))
    form = StripeKeyForm(request.POST)
    connected = form.submit(
        lambda: stripe_connect(
            listing=listing, api_key=form.cleaned_data["api_key"], actor=request.user
        )
    )
    if connected is None:
        return _page(request, listing, can_write=True, key_form=form, status=form.status)
    messages.success(request, f"Stripe is connected ({connected[0].account_label}).")
    return redirect_to(request, request.path)


@page_view
def listing_revenue_verify(request: AuthenticatedHttpRequest, listing_id: str) -> HttpResponse:
    listing = seller_listing(listing_id=listing_id, access=page_access(request))
    if request.method == "POST" and ConfirmForm(request.POST).is_valid():
        transaction.on_commit(lambda: verify_listing_revenue.delay(str(listing.pk)))
        messages.success(request, "Verification started: the records below update when it ends.")
    return redirect_to(request, reverse("fabric:listing-revenue", args=[listing.pk]))


@page_view
def listing_stripe_disconnect(request: AuthenticatedHttpRequest, listing_id: str) -> HttpResponse:
    listing = seller_listing(listing_id=listing_id, access=page_access(request))
    if request.method == "POST" and ConfirmForm(request.POST).submit(
        lambda: stripe_disconnect(listing=listing)
    ):
        messages.success(request, "Stripe is disconnected; its records stay, and no longer count.")
    return redirect_to(request, reverse("fabric:listing-revenue", args=[listing.pk]))
