"""A listing's message page: a buyer's own thread with the seller; for the seller's
members, the buyers who signed the NDA (with their unread messages) and the thread of the
one picked (`?buyer=`). Opening a thread marks the other side's messages read."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from accounts.pages.current import page_access
from fabric.models import Listing, Message, Party
from fabric.offer_selectors import listing_buyers
from fabric.pages.offers_forms import MessageForm
from fabric.selectors import gated_listing
from fabric.services.messages import message_send, thread_messages
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted

Request = AuthenticatedHttpRequest
PAGE_SIZE = 50


def _picked_buyer(listing: Listing, buyer_id: str | None) -> User | None:
    if not buyer_id:
        return None
    try:
        pk = uuid.UUID(buyer_id)
    except ValueError:
        raise Http404 from None
    buyer = listing_buyers(listing=listing).filter(pk=pk).first()
    if buyer is None:
        raise Http404
    return buyer


def _buyers_with_unread(listing: Listing) -> list[tuple[User, int]]:
    """The buyers a seller may write to, with how many of their messages nobody read."""
    unread = dict(
        Message.objects.filter(listing=listing, sender_party=Party.BUYER, read_at__isnull=True)
        .values("buyer_id")
        .annotate(count=Count("id"))
        .values_list("buyer_id", "count")
    )
    return [(buyer, unread.get(buyer.pk, 0)) for buyer in listing_buyers(listing=listing)]


@page_view
def listing_messages_page(request: Request, listing_id: str) -> HttpResponse:
    access = page_access(request)
    view = gated_listing(listing_id=listing_id, access=access)
    buyer = _picked_buyer(view.listing, request.GET.get("buyer")) if view.is_seller else None
    form = MessageForm(posted(request))
    url = reverse("fabric:listing-messages", args=[view.listing.pk])
    if buyer is not None:
        url += f"?buyer={buyer.pk}"
    if submitted(request):
        sent = form.submit(
            lambda: message_send(
                listing_id=view.listing.pk,
                access=access,
                body=form.cleaned_data["body"],
                buyer_id=buyer.pk if buyer else None,
            )
        )
        if sent is not None:
            messages.success(request, "Message sent.")
            return redirect_to(request, url)
    in_thread = not view.is_seller or buyer is not None
    thread = (
        thread_messages(view=view, access=access, buyer_id=buyer.pk if buyer else None)
        if in_thread
        else Message.objects.none()
    )
    paginator: Paginator[Message] = Paginator(thread, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
    context = {
        "listing": view.listing,
        "view": view,
        "buyer": buyer,
        "in_thread": in_thread,
        "page": page,
        "thread_url": url,
        "can_write": not view.is_seller or view.seller_can_write,
        "buyers": _buyers_with_unread(view.listing) if view.is_seller else [],
    }
    return form_page(request, "fabric/messages/thread.html", context, form)
