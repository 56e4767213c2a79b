"""Offers: a buyer who signed a listing's NDA offers an amount; the parties take turns.

An offer is `open` and awaits the seller. The party whose turn it is accepts, declines or
counters (a counter keeps the offer, changes its amount and terms, sets it `countered` and
passes the turn); the buyer may withdraw whenever the offer is not final. Accepting moves
the listing to `under_offer` (`fabric.services.listings.transition`) and declines the
listing's other live offers, all in one transaction under the listing's row lock, so of two
concurrent accepts on one listing one wins and the other is a 409. An offer whose
`expires_at` passed becomes `expired` when it is next read or acted on, and by the
`fabric.expire_offers` beat task. Every step is an `OfferStep` (the `history`), and each
is told to the other party after the commit (`fabric.services.deal_notifications`).

Repeats: repeating the final action the same party took (accept of an accepted offer,
decline of a declined one by the seller, withdraw of a withdrawn one) answers 200 with the
offer and stores nothing; any other action on a final offer, or out of turn, is a 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import READ, WRITE, CallerAccess
from accounts.services.wallets import wallet_address_parse
from fabric.models import Listing, ListingStatus, Offer, OfferAction, OfferStatus, OfferStep, Party
from fabric.selectors import gated_listing, signed_wallets
from fabric.services.listings import transition
from fabrknt.api.errors import Conflict, InvalidInput, NotFound, PermissionDenied

LIVE = (OfferStatus.OPEN, OfferStatus.COUNTERED)
# Listings that take offers (an offer made while another is accepted waits behind it).
OFFERABLE = (ListingStatus.PUBLISHED, ListingStatus.UNDER_OFFER)
TERMS_MAX = 4000
# The action that ends an offer, by status: a repeat of it by the same party is a no-op.
_FINAL_ACTION = {
    OfferStatus.ACCEPTED: OfferAction.ACCEPTED,
    OfferStatus.DECLINED: OfferAction.DECLINED,
    OfferStatus.WITHDRAWN: OfferAction.WITHDRAWN,
}


@dataclass(frozen=True)
class OfferView:
    """One offer as its caller sees it: which side the caller is on, and whether it may act."""

    offer: Offer
    party: str  # Party: the caller's side
    can_act: bool  # the buyer, or the seller's members with write

    @property
    def your_turn(self) -> bool:
        return self.can_act and self.offer.status in LIVE and self.offer.awaiting == self.party

    @property
    def can_withdraw(self) -> bool:
        return self.party == Party.BUYER and self.offer.status in LIVE


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _user(access: CallerAccess) -> User | None:
    return access.user if isinstance(access.user, User) else None


def offer_side(*, offer: Offer, access: CallerAccess) -> OfferView | None:
    """The caller's side of `offer` (None: neither the buyer nor the seller's members)."""
    organization_id = offer.listing.organization_id
    if access.allows(organization_id, READ):
        return OfferView(offer, Party.SELLER, access.allows(organization_id, WRITE))
    user = _user(access)
    if user is not None and offer.buyer_id == user.pk:
        return OfferView(offer, Party.BUYER, True)
    return None


def _visible(offer_id: object, access: CallerAccess) -> OfferView:
    pk = _uuid(offer_id)
    offer = (
        None
        if pk is None
        else Offer.objects.select_related("listing__organization", "buyer").filter(pk=pk).first()
    )
    if offer is None or offer.listing.organization.deleted_at is not None:
        raise NotFound()
    side = offer_side(offer=offer, access=access)
    if side is None:  # 403 to the seller's key without `read`, 404 to anyone else
        raise access.denial(offer.listing.organization_id, READ)
    return side


def offer_get(*, offer_id: object, access: CallerAccess) -> OfferView:
    """The offer for its buyer or the seller's members (others: NotFound), expired first
    if its time is up."""
    side = _visible(offer_id, access)
    if _expire_if_due(side.offer):
        side.offer.refresh_from_db()
    return side


def _money(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise InvalidInput(fields={"amount_usd": ["The amount must be more than zero."]})
    return amount.quantize(Decimal("0.01"))


def _terms(terms: str) -> str:
    terms = terms.strip()
    if len(terms) > TERMS_MAX:
        raise InvalidInput(fields={"terms": [f"At most {TERMS_MAX} characters."]})
    return terms


def _step(offer: Offer, action: str, party: str, actor: User | None) -> OfferStep:
    step = OfferStep.objects.create(
        offer=offer,
        action=action,
        party=party,
        actor=actor,
        amount_usd=offer.amount_usd,
        terms=offer.terms,
    )
    from fabric.tasks import notify_offer_step  # tasks import services

    transaction.on_commit(lambda: notify_offer_step.delay(step.pk), robust=True)
    return step


@dataclass(frozen=True)
class OfferMade:
    offer: Offer
    created: bool  # False: the same offer was already open (a retried request)


def offer_make(
    *,
    listing_id: object,
    access: CallerAccess,
    buyer_wallet: str,
    amount_usd: Decimal,
    terms: str = "",
    expires_at: dt.datetime | None = None,
) -> OfferMade:
    """A new offer by the caller, who signed the listing's NDA with `buyer_wallet`.

    Its natural key is the whole offer while it is open: the same buyer, wallet, amount,
    terms and expiry again answer the open offer (a retried request), not a second one.
    The listing's row lock serializes this with accepts and status changes."""
    view = gated_listing(listing_id=listing_id, access=access)
    user = _user(access)
    if view.is_seller or user is None:
        raise PermissionDenied("The seller's members cannot make offers on its listing.")
    parsed = wallet_address_parse(address=buyer_wallet)
    if parsed is None or parsed.address not in signed_wallets(view.listing, user):
        raise InvalidInput(
            fields={"buyer_wallet": ["One of your wallets that signed this listing's NDA."]}
        )
    amount, terms = _money(amount_usd), _terms(terms)
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(fields={"expires_at": ["The expiry must be in the future."]})
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=view.listing.pk)
        if listing.status not in OFFERABLE:
            raise Conflict(f"A {listing.status} listing takes no offers.")
        fields = {
            "listing": listing,
            "buyer": user,
            "buyer_wallet": parsed.address,
            "amount_usd": amount,
            "terms": terms,
            "expires_at": expires_at,
        }
        existing = Offer.objects.filter(**fields, status=OfferStatus.OPEN).first()
        if existing is not None:
            return OfferMade(existing, created=False)
        offer = Offer.objects.create(**fields)
        _step(offer, OfferAction.MADE, Party.BUYER, user)
    return OfferMade(offer, created=True)


def _expire_if_due(offer: Offer) -> bool:
    """Expire the offer if its time is up (a conditional update: whoever gets there first
    records the step). True when this call expired it."""
    now = timezone.now()
    if offer.status not in LIVE or offer.expires_at is None or offer.expires_at > now:
        return False
    with transaction.atomic():
        claimed = Offer.objects.filter(pk=offer.pk, status__in=LIVE, expires_at__lte=now).update(
            status=OfferStatus.EXPIRED, updated_at=now
        )
        if claimed:
            offer.status = OfferStatus.EXPIRED
            _step(offer, OfferAction.EXPIRED, "", None)
    return bool(claimed)


def offers_expire() -> int:
    """Expire every live offer whose time is up (beat). Returns how many this run expired."""
    due = list(Offer.objects.filter(status__in=LIVE, expires_at__lte=timezone.now()))
    return sum(_expire_if_due(offer) for offer in due)


def _acting(
    offer_id: object, access: CallerAccess, *, withdrawing: bool = False
) -> tuple[OfferView, User]:
    """The offer and the person acting on it. API keys read offers but never answer them:
    a step without an actor is the platform's own (an expiry, a decline by acceptance).
    A buyer answers only while the offer's wallet still stands on the current NDA (not
    revoked by the seller, the NDA not changed since); withdrawing is always open."""
    side = _visible(offer_id, access)
    user = _user(access)
    if user is None:
        raise PermissionDenied("Offers are answered by people signed in, not API keys.")
    if not side.can_act:
        raise PermissionDenied("Viewers cannot answer offers.")
    if (
        side.party == Party.BUYER
        and not withdrawing
        and side.offer.buyer_wallet not in signed_wallets(side.offer.listing, user)
    ):
        raise PermissionDenied(
            "This wallet no longer stands on the listing's NDA (revoked, or a new NDA "
            "version to sign): you can only withdraw the offer."
        )
    _expire_if_due(side.offer)
    return side, user


def _locked(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("listing").get(pk=offer.pk)


def _repeat_or_turn(offer: Offer, party: str, action: str) -> bool:
    """True when this is a repeat of the action that ended the offer (a no-op); Conflict
    when the offer is final or it is not `party`'s turn."""
    if offer.status in _FINAL_ACTION:
        last = offer.steps.order_by("-created_at", "-id").first()
        if (
            _FINAL_ACTION[OfferStatus(offer.status)] == action
            and last is not None
            and last.party == party
        ):
            return True
    if offer.status not in LIVE:
        raise Conflict(f"This offer is {offer.status}.")
    if offer.awaiting != party:
        raise Conflict(f"It is the {offer.awaiting}'s turn.", code="not_your_turn")
    return False


def offer_accept(*, offer_id: object, access: CallerAccess) -> Offer:
    """Accept on the caller's turn: the listing goes under offer, its other live offers are
    declined. The listing's row lock is taken first, so concurrent accepts queue."""
    side, user = _acting(offer_id, access)
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=side.offer.listing_id)
        offer = _locked(side.offer)
        if _repeat_or_turn(offer, side.party, OfferAction.ACCEPTED):
            return offer
        if listing.status != ListingStatus.PUBLISHED:
            raise Conflict(f"The listing is {listing.status}: it accepts no other offer now.")
        transition(offer.listing, ListingStatus.UNDER_OFFER, actor=user, note=f"offer {offer.pk}")
        offer.status = OfferStatus.ACCEPTED
        offer.save(update_fields=["status", "updated_at"])
        _step(offer, OfferAction.ACCEPTED, side.party, user)
        for other in _others_live(offer):
            other.status = OfferStatus.DECLINED
            other.save(update_fields=["status", "updated_at"])
            _step(other, OfferAction.DECLINED, Party.SELLER, None)
    return offer


def _others_live(offer: Offer) -> QuerySet[Offer]:
    return (
        Offer.objects.select_for_update()
        .filter(listing_id=offer.listing_id, status__in=LIVE)
        .exclude(pk=offer.pk)
        .order_by("created_at")
    )


def offer_decline(*, offer_id: object, access: CallerAccess) -> Offer:
    side, user = _acting(offer_id, access)
    with transaction.atomic():
        offer = _locked(side.offer)
        if _repeat_or_turn(offer, side.party, OfferAction.DECLINED):
            return offer
        offer.status = OfferStatus.DECLINED
        offer.save(update_fields=["status", "updated_at"])
        _step(offer, OfferAction.DECLINED, side.party, user)
    return offer


def offer_counter(
    *, offer_id: object, access: CallerAccess, amount_usd: Decimal, terms: str | None = None
) -> Offer:
    """A counter on the caller's turn: new amount (and terms, kept when not given), status
    `countered`, and the turn passes to the other party."""
    amount = _money(amount_usd)
    new_terms = None if terms is None else _terms(terms)
    side, user = _acting(offer_id, access)
    with transaction.atomic():
        offer = _locked(side.offer)
        _repeat_or_turn(offer, side.party, OfferAction.COUNTERED)
        offer.amount_usd = amount
        if new_terms is not None:
            offer.terms = new_terms
        offer.status = OfferStatus.COUNTERED
        offer.awaiting = Party.BUYER if side.party == Party.SELLER else Party.SELLER
        offer.save(update_fields=["amount_usd", "terms", "status", "awaiting", "updated_at"])
        _step(offer, OfferAction.COUNTERED, side.party, user)
    return offer


def offer_withdraw(*, offer_id: object, access: CallerAccess) -> Offer:
    """The buyer takes the offer back, whoever's turn it is, while it is not final."""
    side, user = _acting(offer_id, access, withdrawing=True)
    if side.party != Party.BUYER:
        raise PermissionDenied("Only the buyer withdraws an offer; the seller declines it.")
    with transaction.atomic():
        offer = _locked(side.offer)
        if offer.status == OfferStatus.WITHDRAWN:
            return offer
        if offer.status not in LIVE:
            raise Conflict(f"This offer is {offer.status}.")
        offer.status = OfferStatus.WITHDRAWN
        offer.save(update_fields=["status", "updated_at"])
        _step(offer, OfferAction.WITHDRAWN, Party.BUYER, user)
    return offer
