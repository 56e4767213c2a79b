"""Messages: one thread per listing and buyer, once the buyer signed the listing's NDA.

A buyer writes in, and reads, their own thread; the seller's members read every thread of
their listing and answer a buyer who signed its NDA (members with write). Reading a
thread marks the other side's messages read. Each new message is told to the other side
after the commit (`fabric.services.deal_notifications`).
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import CallerAccess
from fabric.models import Message, NDASignature, Party
from fabric.selectors import ListingView, gated_listing
from fabrknt.api.errors import InvalidInput, PermissionDenied

BODY_MAX = 4000


def _user(access: CallerAccess) -> User | None:
    return access.user if isinstance(access.user, User) else None


def _buyer_of_thread(view: ListingView, buyer_id: object) -> User:
    """The buyer a seller's member names: someone who signed this listing's NDA."""
    try:
        pk = uuid.UUID(str(buyer_id))
    except ValueError:
        raise InvalidInput(fields={"buyer": ["A user id."]}) from None
    signed = NDASignature.objects.filter(listing=view.listing, user_id=pk).exists()
    buyer = User.objects.filter(pk=pk).first() if signed else None
    if buyer is None:
        raise InvalidInput(fields={"buyer": ["No buyer who signed this listing's NDA."]})
    return buyer


def thread_messages(
    *, view: ListingView, access: CallerAccess, buyer_id: object | None = None
) -> QuerySet[Message]:
    """The messages the caller may read, oldest first: a buyer's own thread; for the
    seller's members every thread of the listing, or the one of `buyer_id`. Reading one
    thread marks the other side's messages in it read."""
    messages = Message.objects.filter(listing=view.listing).select_related("sender")
    if view.is_seller:
        if buyer_id in (None, ""):
            return messages.order_by("created_at", "id")
        buyer = _buyer_of_thread(view, buyer_id)
        messages, other = messages.filter(buyer=buyer), Party.BUYER
    else:
        messages, other = messages.filter(buyer=_user(access)), Party.SELLER
    messages.filter(sender_party=other, read_at__isnull=True).update(read_at=timezone.now())
    return messages.order_by("created_at", "id")


def message_send(
    *, listing_id: object, access: CallerAccess, body: str, buyer_id: object | None = None
) -> Message:
    """A message in the thread of the listing and the buyer: the caller's own thread for a
    buyer; for the seller's members (write), the thread of `buyer_id`."""
    view = gated_listing(listing_id=listing_id, access=access)
    sender = _user(access)
    if sender is None:
        raise PermissionDenied("Messages are written by people signed in, not API keys.")
    if view.is_seller and not view.seller_can_write:
        raise PermissionDenied("Viewers cannot write to buyers.")
    body = body.strip()
    if not body:
        raise InvalidInput(fields={"body": ["Write something."]})
    if len(body) > BODY_MAX:
        raise InvalidInput(fields={"body": [f"At most {BODY_MAX} characters."]})
    if view.is_seller:
        if buyer_id in (None, ""):
            raise InvalidInput(fields={"buyer": ["Name the buyer whose thread this answers."]})
        buyer, party = _buyer_of_thread(view, buyer_id), Party.SELLER
    else:
        buyer, party = sender, Party.BUYER
    with transaction.atomic():
        message = Message.objects.create(
            listing=view.listing, buyer=buyer, sender=sender, sender_party=party, body=body
        )
        from fabric.tasks import notify_message  # tasks import services

        transaction.on_commit(lambda: notify_message.delay(str(message.pk)), robust=True)
    return message
