"""The seller's pages under /fabric/sell/: the seller's listings, the create flow in steps
(1 organization and links, 2 describe, 3 assets, 4 preview, 5 publish), and each listing's
own page with edit, withdraw and reopen.

Reads ask `fabric.selectors.listing_view` (a buyer's or another organization's view is a
404 here: these are the seller's pages); writes take the listing from `seller_listing`
(the seller's viewers get 403), as the API does.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership, Organization
from accounts.pages.current import current_membership, memberships_of, page_access
from accounts.selectors import WRITE
from fabric.models import Listing, ListingStatus, Visibility
from fabric.pages import sell_forms as f
from fabric.selectors import ListingView, listing_view, seller_listing
from fabric.services.listings import (
    EDITABLE_STATUSES,
    listing_asset_add,
    listing_asset_remove,
    listing_create,
    listing_links_check,
    listing_publish,
    listing_reopen,
    listing_update,
    listing_withdraw,
)
from fabrknt.api.errors import NotFound
from fabrknt.chain.networks import chain_name
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from pulse.models import Team
from pulse.selectors import organization_teams
from trace.models import Project
from trace.selectors import organization_projects

Request = AuthenticatedHttpRequest

STEPS = ("Organization and links", "Describe", "Assets", "Preview", "Publish")
# Pages other areas add for a listing, linked from the seller's page once they exist.
# The listing's other pages, each of its own area.
MORE_PAGES = (
    ("fabric:listing-media", "Images (logo, screenshots)"),
    ("fabric:dataroom-manage", "Data room documents"),
    ("fabric:listing-revenue", "Verified revenue (treasury, Stripe)"),
    ("fabric:listing-access", "Buyer access (NDA signers, invitations)"),
    ("fabric:listing-offers", "Offers"),
    ("fabric:listing-messages", "Messages with buyers"),
    ("fabric:listing", "The buyer's view"),
)
WITHDRAWABLE = frozenset(
    {ListingStatus.DRAFT, ListingStatus.PENDING_REVIEW, ListingStatus.PUBLISHED}
)


def _writable(request: Request) -> list[Membership]:
    access = page_access(request)
    return [m for m in memberships_of(request) if access.allows(m.organization_id, WRITE)]


def _seller_view(request: Request, listing_id: object) -> ListingView:
    view = listing_view(listing_id=listing_id, access=page_access(request))
    if not view.is_seller:
        raise NotFound()
    return view


def _writable_listing(request: Request, listing_id: object) -> Listing:
    return seller_listing(listing_id=listing_id, access=page_access(request))


def _teams(organization_ids: list[Any]) -> list[Team]:
    return [
        team
        for pk in organization_ids
        for team in organization_teams(organization_id=pk).select_related("organization")
    ]


def _projects(organization_ids: list[Any]) -> list[Project]:
    return [
        project
        for pk in organization_ids
        for project in organization_projects(organization_id=pk).select_related("organization")
    ]


def _steps(current: int) -> list[dict[str, object]]:
    return [
        {"number": n, "label": label, "current": n == current, "done": n < current}
        for n, label in enumerate(STEPS, start=1)
    ]


def _page_url(listing: Listing) -> str:
    return reverse("fabric:sell-listing", args=[listing.pk])


def more_pages(listing: Listing) -> list[tuple[str, str]]:
    """The links to the listing's pages in the other areas."""
    return [(reverse(name, args=[listing.pk]), label) for name, label in MORE_PAGES]


# --- the seller's listings --------------------------------------------------------------------


@page_view
def sell_home(request: Request) -> HttpResponse:
    access = page_access(request)
    listings = (
        access.scoped(Listing.objects.select_related("organization"))
        .filter(organization__deleted_at__isnull=True)
        .order_by("-created_at", "pk")
    )
    context = {"listings": listings, "can_create": bool(_writable(request))}
    return render(request, "fabric/sell/list.html", context)


# --- the create flow ----------------------------------------------------------------------------


@page_view
def sell_new(request: Request) -> HttpResponse:
    """Step 1: which organization sells, and its TRACE project and PULSE team."""
    writable = _writable(request)
    ids = [m.organization_id for m in writable]
    current = current_membership(request)
    initial = {"organization": current.organization_id if current in writable else None}
    form = f.LinksForm(
        posted(request),
        initial=initial,
        memberships=writable,
        teams=_teams(ids),
        projects=_projects(ids),
    )
    if submitted(request):
        organization = form.submit(lambda: _links_checked(request, form))
        if organization is not None:
            query = {
                key: form.cleaned_data[key]
                for key in ("trace_project", "pulse_team")
                if form.cleaned_data[key]
            }
            query["organization"] = str(organization.pk)
            return redirect_to(request, f"{reverse('fabric:sell-describe')}?{urlencode(query)}")
    context = {"steps": _steps(1), "has_writable_organization": bool(writable)}
    return form_page(request, "fabric/sell/new.html", context, form)


def _links_checked(request: Request, form: f.LinksForm) -> Organization:
    organization = page_access(request).organization(form.cleaned_data["organization"], WRITE)
    listing_links_check(
        organization=organization,
        pulse_team=form.cleaned_data["pulse_team"],
        trace_project=form.cleaned_data["trace_project"],
    )
    return organization


@page_view
def sell_describe(request: Request) -> HttpResponse:
    """Step 2: what the buyer reads; submitting it creates the draft."""
    organization = page_access(request).organization(request.GET.get("organization"), WRITE)
    links = {key: request.GET.get(key, "") for key in ("trace_project", "pulse_team")}
    form = f.DescribeForm(posted(request))
    if submitted(request):
        listing = form.submit(
            lambda: listing_create(
                organization=organization, actor=request.user, **links, **form.cleaned_data
            )
        )
        if listing is not None:
            messages.success(request, "Draft saved. Now add what the buyer receives.")
            return redirect_to(request, reverse("fabric:sell-assets", args=[listing.pk]))
    team = organization_teams(organization_id=organization.pk).filter(pulse_id=links["pulse_team"])
    context = {
        "steps": _steps(2),
        "organization": organization,
        "team": team.first() if links["pulse_team"] else None,
        "project": _project_named(organization, links["trace_project"]),
        "action": request.get_full_path(),
    }
    return form_page(request, "fabric/sell/describe.html", context, form)


def _project_named(organization: Organization, project_id: str) -> Project | None:
    try:
        pk = uuid.UUID(project_id)
    except ValueError:
        return None
    return organization_projects(organization_id=organization.pk).filter(pk=pk).first()


@page_view
def sell_assets(request: Request, listing_id: str) -> HttpResponse:
    """Step 3 (and any time after): what the buyer receives."""
    view = _seller_view(request, listing_id)
    listing = view.listing
    form = f.AssetForm(posted(request))
    if submitted(request):
        listing = _writable_listing(request, listing_id)
        added = form.submit(
            lambda: listing_asset_add(
                listing=listing,
                asset_type=form.cleaned_data["asset_type"],
                asset_identifier=form.cleaned_data["asset_identifier"],
                chain=form.cleaned_data["chain"],
                metadata={"label": form.cleaned_data["label"]}
                if form.cleaned_data["label"]
                else None,
            )
        )
        if added is not None:
            what = added.asset.asset_identifier
            messages.success(
                request, f"{what} {'added' if added.created else 'was already listed'}."
            )
            return redirect_to(request, reverse("fabric:sell-assets", args=[listing.pk]))
    context = {
        "steps": _steps(3),
        "listing": listing,
        "view": view,
        "assets": listing.assets.all(),
        "draft": listing.status == ListingStatus.DRAFT,
    }
    return form_page(request, "fabric/sell/assets.html", context, form)


@page_view
def sell_asset_remove(request: Request, listing_id: str, asset_id: str) -> HttpResponse:
    listing = _writable_listing(request, listing_id)
    asset = listing.assets.filter(pk=asset_id).first()
    if asset is None:
        raise NotFound()
    form = f.AssetRemoveForm(posted(request))
    if submitted(request):
        if (
            form.submit(lambda: listing_asset_remove(listing=listing, asset_id=asset.pk))
            is not None
        ):
            messages.success(request, f"{asset.asset_identifier} removed.")
            return redirect_to(request, reverse("fabric:sell-assets", args=[listing.pk]))
    context: dict[str, object] = {"listing": listing, "asset": asset}
    return form_page(request, "fabric/sell/asset_remove.html", context, form)


@page_view
def sell_preview(request: Request, listing_id: str) -> HttpResponse:
    """Step 4: the listing as a buyer who has not signed the NDA sees it."""
    view = _seller_view(request, listing_id)
    listing = view.listing
    buyer_sees_assets = listing.visibility == Visibility.PUBLIC
    context = {
        "steps": _steps(4),
        "listing": listing,
        "chain": chain_name(listing.blockchain),
        "assets": listing.assets.all() if buyer_sees_assets else None,
        "asset_count": listing.assets.count(),
        "draft": listing.status == ListingStatus.DRAFT,
    }
    return render(request, "fabric/sell/preview.html", context)


@page_view
def sell_publish(request: Request, listing_id: str) -> HttpResponse:
    """Step 5: put the draft on the market (or up for review)."""
    listing = _writable_listing(request, listing_id)
    form = f.PublishForm(posted(request))
    if submitted(request):
        published = form.submit(lambda: listing_publish(listing=listing, actor=request.user))
        if published is not None:
            if published.status == ListingStatus.PENDING_REVIEW:
                messages.success(request, "Sent for review: it goes on the market once approved.")
            else:
                messages.success(request, "Published: buyers find it in the marketplace.")
            return redirect_to(request, _page_url(listing))
    context = {"steps": _steps(5), "listing": listing}
    return form_page(request, "fabric/sell/publish.html", context, form)


# --- a listing's own page -------------------------------------------------------------------


@page_view
def sell_listing(request: Request, listing_id: str) -> HttpResponse:
    view = _seller_view(request, listing_id)
    listing = view.listing
    context = {
        "listing": listing,
        "view": view,
        "chain": chain_name(listing.blockchain),
        "team": listing.pulse_team,
        "project": listing.trace_project,
        "assets": listing.assets.all(),
        "events": listing.events.select_related("actor").order_by("-created_at", "-id"),
        "can_edit": view.seller_can_write and listing.status in EDITABLE_STATUSES,
        "can_publish": view.seller_can_write and listing.status == ListingStatus.DRAFT,
        "can_withdraw": view.seller_can_write and listing.status in WITHDRAWABLE,
        "can_reopen": view.seller_can_write
        and listing.status in (ListingStatus.WITHDRAWN, ListingStatus.REJECTED),
        "more_pages": more_pages(listing),
    }
    return render(request, "fabric/sell/listing.html", context)


@page_view
def sell_edit(request: Request, listing_id: str) -> HttpResponse:
    listing = _writable_listing(request, listing_id)
    organization_ids = [listing.organization_id]
    form = f.EditForm(
        posted(request),
        initial=f.EditForm.initial_of(listing),
        teams=_teams(organization_ids),
        projects=_projects(organization_ids),
    )
    if submitted(request):
        updated = form.submit(
            lambda: listing_update(listing=listing, actor=request.user, **form.cleaned_data)
        )
        if updated is not None:
            messages.success(request, "Listing saved.")
            return redirect_to(request, _page_url(listing))
    return form_page(request, "fabric/sell/edit.html", {"listing": listing}, form)


@page_view
def sell_withdraw(request: Request, listing_id: str) -> HttpResponse:
    listing = _writable_listing(request, listing_id)
    form = f.WithdrawForm(posted(request))
    if submitted(request):
        if form.submit(lambda: listing_withdraw(listing=listing, actor=request.user)) is not None:
            messages.success(request, "Withdrawn: buyers no longer see it.")
            return redirect_to(request, _page_url(listing))
    return form_page(request, "fabric/sell/withdraw.html", {"listing": listing}, form)


@page_view
def sell_reopen(request: Request, listing_id: str) -> HttpResponse:
    listing = _writable_listing(request, listing_id)
    form = f.ReopenForm(posted(request))
    if submitted(request):
        if form.submit(lambda: listing_reopen(listing=listing, actor=request.user)) is not None:
            messages.success(request, "Back to draft: edit it and publish again.")
            return redirect_to(request, _page_url(listing))
    return form_page(request, "fabric/sell/reopen.html", {"listing": listing}, form)
