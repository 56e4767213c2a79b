"""Telling the parties of an offer's steps and of new messages, by mail.

The pages show every step and message (the inbox); mail goes through
`accounts.services.notifications.notification_send`, so only to those who verified an
address and keep `fabric_offers` / `fabric_messages` on. Who is told: the other side of
who acted — the buyer, or the seller organization's members — and, on the seller's side,
the members who did not act themselves; an expiry (nobody acted) is told to both sides.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Membership, NotificationKind, User
from accounts.services.notifications import notification_send
from fabric.models import Listing, Message, OfferStep, Party


def _seller_members(listing: Listing) -> list[User]:
    memberships = Membership.objects.filter(
        organization_id=listing.organization_id, organization__deleted_at__isnull=True
    ).select_related("user")
    return [membership.user for membership in memberships.order_by("created_at")]


def _recipients(
    *, listing: Listing, buyer: User, acting_party: str, actor_id: object
) -> list[User]:
    if acting_party == Party.BUYER:
        people = _seller_members(listing)
    elif acting_party == Party.SELLER and actor_id is None:
        people = [buyer]  # the platform declined it: another offer was accepted
    else:
        people = [buyer, *_seller_members(listing)]  # a member acted, or the offer expired
    return [person for person in people if person.pk != actor_id]


def _send(people: Iterable[User], *, kind: str, subject: str, body: str) -> int:
    return sum(
        notification_send(user=person, kind=kind, subject=subject, body=body) for person in people
    )


def offer_step_notify(*, step_id: int) -> int:
    """Mail one offer step to whom it concerns. Returns how many mails were sent."""
    step = (
        OfferStep.objects.select_related("offer__listing", "offer__buyer")
        .filter(pk=step_id)
        .first()
    )
    if step is None:
        return 0
    offer = step.offer
    people = _recipients(
        listing=offer.listing, buyer=offer.buyer, acting_party=step.party, actor_id=step.actor_id
    )
    body = render_to_string(
        "fabric/email/offer_step.txt",
        {
            "step": step,
            "offer": offer,
            "url": settings.PUBLIC_BASE_URL + reverse("fabric:offer", args=[offer.pk]),
        },
    )
    subject = f"Offer {step.action} on {offer.listing.title}"
    return _send(people, kind=NotificationKind.FABRIC_OFFERS, subject=subject, body=body)


def message_notify(*, message_id: str) -> int:
    """Mail a new message to the other side of its thread. Returns how many were sent."""
    message = Message.objects.select_related("listing", "buyer").filter(pk=message_id).first()
    if message is None:
        return 0
    people = _recipients(
        listing=message.listing,
        buyer=message.buyer,
        acting_party=message.sender_party,
        actor_id=message.sender_id,
    )
    path = reverse("fabric:listing-messages", args=[message.listing_id])
    if message.sender_party == Party.BUYER:
        path += f"?buyer={message.buyer_id}"
    body = render_to_string(
        "fabric/email/message.txt",
        {"message": message, "url": settings.PUBLIC_BASE_URL + path},
    )
    subject = f"New message about {message.listing.title}"
    return _send(people, kind=NotificationKind.FABRIC_MESSAGES, subject=subject, body=body)
