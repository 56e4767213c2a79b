"""The marketplace as buyers use it: /fabric/ (the grid, with filters), a listing's page
(/fabric/listings/<id>/: teaser, suite summary, assets, and the gated part once the NDA is
signed — signing happens on the page with the browser wallet, static/fabric/nda.js, through
the NDA API), and the seller's buyer access (/fabric/listings/<id>/access/).

Who sees what is fabric.selectors.listing_view's answer, for signed-in visitors and
anonymous ones alike; the access forms call fabric.services.buyer_access as the API does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from accounts.pages.current import page_access
from fabric.models import BuyerAccess, Listing, NDASignature
from fabric.pages.market_forms import MarketFilterForm, WalletForm
from fabric.selectors import (
    ListingView,
    buyer_wallets,
    data_room_documents,
    listing_buyers,
    listing_revenue_records,
    listing_view,
    market_search,
    nda_text,
    nda_version_hash,
    seller_listing,
    signed_wallets,
)
from fabric.services.buyer_access import (
    buyer_access_invite,
    buyer_access_restore,
    buyer_access_revoke,
)
from fabrknt.api.errors import NotFound
from fabrknt.chain.networks import chain_name
from fabrknt.pages.decorators import page_view, refusals_as_pages
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted

PAGE_SIZE = 24
# Where a seller creates and edits listings (fabric's seller pages).


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _view(request: HttpRequest, listing_id: UUID) -> ListingView:
    return listing_view(listing_id=listing_id, access=page_access(request))


@require_safe
def market_page(request: HttpRequest) -> HttpResponse:
    form = MarketFilterForm(request.GET)
    filters = form.filters()
    listings = market_search(**filters)  # type: ignore[arg-type]
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filtered": bool(filters),
        "page": page,
        "cards": [_card(listing) for listing in page],
        "query": query.urlencode(),
    }
    return render(request, "fabric/market.html", context)


def _card(listing: Listing) -> dict[str, Any]:
    return {"listing": listing, "chain": chain_name(listing.blockchain)}


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _evidence_url(url: object) -> str:
    """An evidence link, when it is one of ours (a path) or an https page."""
    if isinstance(url, str) and (url.startswith("https://") or url.startswith("/")):
        return url if not url.startswith("//") else ""
    return ""


def score_components(listing: Listing, *, is_seller: bool) -> list[dict[str, Any]]:
    """The stored score's parts (`score_components["components"]`, as
    fabric.services.suite stores them) as rows of label, value 0–100 (None: not
    available, with the reason), weight and the evidence link a buyer can open: the
    certificate's public verification page for growth, the team's page for the seller's
    members (buyers see its tokens' images), the revenue records below for revenue."""
    raw = listing.score_components if isinstance(listing.score_components, dict) else {}
    parts = raw.get("components")
    rows = []
    for key, part in parts.items() if isinstance(parts, dict) else []:
        if not isinstance(part, dict):
            continue
        evidence: dict[str, Any] = part.get("evidence") or {}
        sbts = evidence.get("sbts") or []
        url = (
            evidence.get("verification_url")
            or (evidence.get("team_url") if is_seller else None)
            or (sbts[0].get("image_url") if sbts and isinstance(sbts[0], dict) else None)
            or ("#revenue-title" if evidence.get("revenue_records") else None)
        )
        rows.append(
            {
                "key": key,
                "label": str(part.get("label") or key.capitalize()),
                "score": _number(part.get("value")),
                "max": Decimal(100),
                "weight": _number(part.get("weight")),
                "reason": str(part.get("reason") or ""),
                "evidence_url": _evidence_url(url),
            }
        )
    return rows


def _nda_panel(request: HttpRequest, view: ListingView) -> dict[str, Any]:
    """What the NDA panel needs: the caller's wallets, and why the gated part is closed."""
    user = _user(request)
    if user is None:
        return {"signed_out": True}
    wallets = buyer_wallets(user)
    listing = view.listing
    addresses = [(w.namespace, w.address) for w in wallets]
    revoked = BuyerAccess.objects.filter(
        listing=listing, revoked_at__isnull=False, wallet_address__in=[a for _, a in addresses]
    ).exists()
    signed_older = (
        NDASignature.objects.filter(listing=listing, user=user)
        .exclude(nda_version_hash=nda_version_hash(listing))
        .exists()
    )
    return {
        "wallets": wallets,
        "revoked": revoked,
        "signed_older": signed_older,
        "text": nda_text(listing),
        "message_url": reverse("fabric-nda-message", args=[listing.pk]),
        "sign_url": reverse("fabric-nda-sign"),
    }


@require_safe
@refusals_as_pages
def listing_page(request: HttpRequest, listing_id: UUID) -> HttpResponse:
    view = _view(request, listing_id)
    listing = view.listing
    components = score_components(listing, is_seller=view.is_seller)
    context: dict[str, Any] = {
        "view": view,
        "listing": listing,
        "chain": chain_name(listing.blockchain),
        "components": components,
        "chart": {
            "labels": [row["label"] for row in components],
            "scores": [float(row["score"] or 0) for row in components],
            "maxima": [float(row["max"]) for row in components],
        },
        "assets": list(listing.assets.all()) if view.sees_assets else [],
        "signin_url": f"{reverse('signin')}?next={request.path}",
    }
    if view.nda_signed:
        context["signed_with"] = signed_wallets(listing, _user(request))
    if view.sees_gated:
        context["documents"] = list(data_room_documents(listing))
        context["revenue"] = listing_revenue_records(listing)
    elif not view.is_seller:
        context["nda"] = _nda_panel(request, view)
    return render(request, "fabric/listing.html", context)


_ACTIONS = {
    "invite": (buyer_access_invite, "{wallet} is invited."),
    "revoke": (buyer_access_revoke, "{wallet}'s access is revoked."),
    "restore": (buyer_access_restore, "{wallet}'s access is restored."),
}


@page_view
def listing_access_page(request: AuthenticatedHttpRequest, listing_id: UUID) -> HttpResponse:
    """The seller's view of who signed the NDA, who is invited and who is revoked, with
    the forms that change it (write access; the seller's viewers only read)."""
    access = page_access(request)
    view = listing_view(listing_id=listing_id, access=access)
    if not view.is_seller:
        raise NotFound()
    listing = view.listing
    form = WalletForm(posted(request))
    if submitted(request):
        listing = seller_listing(listing_id=listing_id, access=access)  # 403 for viewers
        action, done = _ACTIONS.get(request.POST.get("action", ""), _ACTIONS["invite"])
        change = form.submit(
            lambda: action(
                listing=listing,
                wallet_address=form.cleaned_data["wallet_address"],
                actor=request.user,
            )
        )
        if change is not None:
            messages.success(request, done.format(wallet=change.access.wallet_address))
            return redirect_to(request, request.path)
    context = {
        "view": view,
        "listing": listing,
        "buyers": listing_buyers(listing),
        "can_write": view.seller_can_write,
    }
    return form_page(request, "fabric/access.html", context, form)
