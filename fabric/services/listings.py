"""A listing's life: the seller creates, edits, publishes and withdraws it, operators
approve, reject and feature it; its status moves only through `transition`, which checks
the move against the allowed ones, stamps the times and records a `ListingEvent`.

The caller's right to act is settled before these are called (`fabric.selectors`:
`seller_listing`, `CallerAccess.organization(..., WRITE)`); these check the values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization, User
from fabric.cache import listing_changed
from fabric.models import (
    MONEY_DIGITS,
    AssetType,
    Listing,
    ListingAsset,
    ListingEvent,
    ListingStatus,
    Visibility,
)
from fabric.services.suite import scores_stale
from fabrknt.api.errors import Conflict, InvalidInput
from fabrknt.chain.addresses import address_normalize
from fabrknt.chain.networks import network_of
from pulse.selectors import organization_teams
from trace.selectors import organization_projects

S = ListingStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING_REVIEW, S.PUBLISHED, S.WITHDRAWN}),
    S.PENDING_REVIEW: frozenset({S.PUBLISHED, S.REJECTED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.UNDER_OFFER, S.SOLD, S.WITHDRAWN}),
    S.UNDER_OFFER: frozenset({S.PUBLISHED, S.SOLD, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.DRAFT}),
    S.WITHDRAWN: frozenset({S.DRAFT}),
    S.SOLD: frozenset(),
}


def transition(listing: Listing, to: str, *, actor: User | None = None, note: str = "") -> Listing:
    """Move `listing` to status `to` (Conflict when the move is not allowed), under a row
    lock so that two concurrent moves cannot both start from the same status."""
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        if to not in ALLOWED[locked.status]:
            raise Conflict(f"A {locked.status} listing cannot become {to}.")
        now = timezone.now()
        fields = ["status", "updated_at"]
        if to == S.PUBLISHED and locked.published_at is None:
            locked.published_at = now
            fields.append("published_at")
        if to == S.SOLD:
            locked.sold_at = now
            fields.append("sold_at")
        ListingEvent.objects.create(
            listing=locked, from_status=locked.status, to_status=to, actor=actor, note=note
        )
        locked.status = to
        locked.save(update_fields=fields)
    for field in ("status", "published_at", "sold_at", "updated_at"):
        setattr(listing, field, getattr(locked, field))
    return listing


# --- the seller's listing -----------------------------------------------------------------

TITLE_MAX = 200
NDA_TEXT_MAX = 20_000
DESCRIPTION_MAX = 20_000
MAX_PRICE = Decimal(10 ** (MONEY_DIGITS - 2)) - Decimal("0.01")
# A sold listing is a record of the deal; one under offer keeps the terms the offer was
# made on.
EDITABLE_STATUSES = frozenset({S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED, S.WITHDRAWN})
# What a buyer receives at these addresses must be on a chain.
CHAIN_ASSET_TYPES = frozenset(
    {AssetType.CONTRACT, AssetType.TOKEN, AssetType.NFT, AssetType.TREASURY}
)
ASSET_IDENTIFIER_MAX = 200
ASSET_METADATA_MAX_KEYS = 20


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(fields={field: [message]})


def listing_blockchain_check(blockchain: object) -> str:
    """A CAIP-2 id of a chain the suite names (fabrknt.chain.networks)."""
    if not isinstance(blockchain, str) or network_of(blockchain) is None:
        raise _invalid("blockchain", "Choose a supported chain (a CAIP-2 id such as eip155:8453).")
    return blockchain


def listing_price_check(price: object, *, field: str = "asking_price_usd") -> Decimal:
    """A non-negative amount of US dollars with at most two decimal places."""
    try:
        amount = Decimal(str(price))
    except InvalidOperation:
        raise _invalid(field, "Enter an amount in US dollars.") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise _invalid(field, "Enter an amount between 0 and 9999999999999.99.")
    if amount != amount.quantize(Decimal("0.01")):
        raise _invalid(field, "At most two decimal places.")
    return amount.quantize(Decimal("0.01"))


def _wallet_check(wallet: str, *, blockchain: str) -> str:
    if not wallet:
        return ""
    try:
        return address_normalize(chain=blockchain, address=wallet.strip())
    except ValueError as error:
        raise _invalid("seller_wallet", f"Not an address on {blockchain}: {error}") from None


def _team_of(organization_id: Any, pulse_id: str | None) -> Any:
    if not pulse_id:
        return None
    team = organization_teams(organization_id=organization_id).filter(pulse_id=pulse_id).first()
    if team is None:
        raise _invalid("pulse_team", "No PULSE team with this pulse_id in the organization.")
    return team


def _project_of(organization_id: Any, project_id: Any) -> Any:
    if not project_id:
        return None
    try:
        pk = uuid.UUID(str(project_id))
    except ValueError:
        raise _invalid("trace_project", "Not a project id.") from None
    project = organization_projects(organization_id=organization_id).filter(pk=pk).first()
    if project is None:
        raise _invalid("trace_project", "No TRACE project with this id in the organization.")
    return project


def listing_links_check(
    *, organization: Organization, pulse_team: str | None, trace_project: Any
) -> None:
    """The PULSE team and TRACE project a listing would link are the organization's own
    (the first step of the seller's pages asks before the listing exists)."""
    _team_of(organization.pk, pulse_team)
    _project_of(organization.pk, trace_project)


def _text(value: object, *, field: str, max_length: int, required: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise _invalid(field, "This field may not be blank.")
    if len(text) > max_length:
        raise _invalid(field, f"At most {max_length} characters.")
    return text


def _visibility_check(visibility: object) -> str:
    if visibility not in Visibility.values:
        raise _invalid("visibility", "Choose public, nda or private.")
    return str(visibility)


def listing_create(
    *,
    organization: Organization,
    title: str,
    asking_price_usd: Decimal | str,
    blockchain: str,
    visibility: str,
    description: str = "",
    pulse_team: str | None = None,
    trace_project: Any = None,
    seller_wallet: str = "",
    nda_text: str = "",
    actor: User | None = None,
) -> Listing:
    """A new listing of `organization`, in draft. Its PULSE team (by pulse_id) and TRACE
    project (by id) must be the organization's own: another's is refused as unknown."""
    blockchain = listing_blockchain_check(blockchain)
    listing = Listing.objects.create(
        organization=organization,
        title=_text(title, field="title", max_length=TITLE_MAX, required=True),
        description=_text(description, field="description", max_length=DESCRIPTION_MAX),
        asking_price_usd=listing_price_check(asking_price_usd),
        blockchain=blockchain,
        visibility=_visibility_check(visibility),
        pulse_team=_team_of(organization.pk, pulse_team),
        trace_project=_project_of(organization.pk, trace_project),
        seller_wallet=_wallet_check(seller_wallet, blockchain=blockchain),
        nda_text=_text(nda_text, field="nda_text", max_length=NDA_TEXT_MAX),
        created_by=actor,
    )
    scores_stale(listing)
    return listing


def listing_update(*, listing: Listing, actor: User | None = None, **changes: Any) -> Listing:
    """The seller's edit of the fields in `changes` (those of `listing_create` but the
    organization). A new NDA text is a new NDA version: buyers sign again."""
    if listing.status not in EDITABLE_STATUSES:
        raise Conflict(f"A {listing.status} listing cannot be edited.")
    unknown = set(changes) - _EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"Not editable: {', '.join(sorted(unknown))}.")
    blockchain = listing.blockchain
    if "blockchain" in changes:
        blockchain = listing_blockchain_check(changes["blockchain"])
    values: dict[str, Any] = {"blockchain": blockchain}
    if "title" in changes:
        values["title"] = _text(
            changes["title"], field="title", max_length=TITLE_MAX, required=True
        )
    if "description" in changes:
        values["description"] = _text(
            changes["description"], field="description", max_length=DESCRIPTION_MAX
        )
    if "asking_price_usd" in changes:
        values["asking_price_usd"] = listing_price_check(changes["asking_price_usd"])
    if "visibility" in changes:
        values["visibility"] = _visibility_check(changes["visibility"])
    if "pulse_team" in changes:
        values["pulse_team"] = _team_of(listing.organization_id, changes["pulse_team"])
    if "trace_project" in changes:
        values["trace_project"] = _project_of(listing.organization_id, changes["trace_project"])
    # The wallet is checked against the chain even when only the chain changes.
    values["seller_wallet"] = _wallet_check(
        changes.get("seller_wallet", listing.seller_wallet), blockchain=blockchain
    )
    if "nda_text" in changes:
        text = _text(changes["nda_text"], field="nda_text", max_length=NDA_TEXT_MAX)
        if text != listing.nda_text:
            values["nda_text"] = text
            values["nda_version"] = listing.nda_version + 1
    relinked = any(
        field in values and getattr(listing, f"{field}_id") != getattr(values[field], "pk", None)
        for field in ("pulse_team", "trace_project")
    )
    for field, value in values.items():
        setattr(listing, field, value)
    listing.save(update_fields=[*values, "updated_at"])
    if relinked:
        scores_stale(listing)  # the score reads the linked project and team
    return listing


_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "asking_price_usd",
        "blockchain",
        "visibility",
        "pulse_team",
        "trace_project",
        "seller_wallet",
        "nda_text",
    }
)


def listing_publish(*, listing: Listing, actor: User | None = None) -> Listing:
    """Put a draft on the market, or up for the operators' review when
    FABRIC_REQUIRE_REVIEW is on. Publishing again what is already published (or waiting
    for review) changes nothing."""
    target = S.PENDING_REVIEW if settings.FABRIC_REQUIRE_REVIEW else S.PUBLISHED
    if listing.status in (target, S.PUBLISHED, S.UNDER_OFFER):
        return listing
    return transition(listing, target, actor=actor)


def listing_withdraw(*, listing: Listing, actor: User | None = None, note: str = "") -> Listing:
    """Take the listing off the market (or out of review); already withdrawn: nothing."""
    if listing.status == S.WITHDRAWN:
        return listing
    return transition(listing, S.WITHDRAWN, actor=actor, note=note)


def listing_reopen(*, listing: Listing, actor: User | None = None) -> Listing:
    """A withdrawn or rejected listing back to draft, to be edited and published again."""
    return transition(listing, S.DRAFT, actor=actor)


# --- the operators' vetting -----------------------------------------------------------------


def listing_approve(*, listing: Listing, actor: User | None = None, note: str = "") -> Listing:
    """A listing waiting for review goes on the market."""
    if listing.status != S.PENDING_REVIEW:
        raise Conflict(
            f"Only listings pending review can be approved (this one is {listing.status})."
        )
    return transition(listing, S.PUBLISHED, actor=actor, note=note)


def listing_reject(*, listing: Listing, note: str, actor: User | None = None) -> Listing:
    """A listing waiting for review is refused; the note tells the seller why."""
    note = _text(note, field="note", max_length=500, required=True)
    with transaction.atomic():
        listing = transition(listing, S.REJECTED, actor=actor, note=note)
        Listing.objects.filter(pk=listing.pk).update(review_note=note)
    listing.review_note = note
    return listing


def listing_feature(*, listing: Listing, featured: bool) -> Listing:
    """Show (or stop showing) a listing first in the marketplace."""
    Listing.objects.filter(pk=listing.pk).update(featured=featured, updated_at=timezone.now())
    listing_changed(listing.pk)
    listing.featured = featured
    return listing


# --- what is for sale -----------------------------------------------------------------------


@dataclass(frozen=True)
class AssetAdded:
    asset: ListingAsset
    created: bool


def _asset_chain(asset_type: str, chain: str) -> str:
    if not chain:
        if asset_type in CHAIN_ASSET_TYPES:
            raise _invalid("chain", f"A {asset_type} asset needs its chain (CAIP-2).")
        return ""
    if network_of(chain) is None:
        raise _invalid("chain", "Choose a supported chain (a CAIP-2 id such as eip155:8453).")
    return chain


def _asset_identifier(asset_type: str, chain: str, identifier: object) -> str:
    text = _text(
        identifier, field="asset_identifier", max_length=ASSET_IDENTIFIER_MAX, required=True
    )
    if asset_type not in CHAIN_ASSET_TYPES:
        return text
    try:
        return address_normalize(chain=chain, address=text)
    except ValueError as error:
        raise _invalid("asset_identifier", str(error)) from None


def _metadata_check(metadata: object) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or len(metadata) > ASSET_METADATA_MAX_KEYS:
        raise _invalid("metadata", f"An object of at most {ASSET_METADATA_MAX_KEYS} keys.")
    return metadata


def listing_asset_add(
    *,
    listing: Listing,
    asset_type: str,
    asset_identifier: str,
    chain: str = "",
    metadata: dict[str, Any] | None = None,
) -> AssetAdded:
    """Add what a buyer receives. Contracts, tokens, NFTs and treasuries are addresses on a
    chain (EIP-55 on EVM chains). The same asset again returns the one stored."""
    if listing.status == S.SOLD:
        raise Conflict("A sold listing's assets are a record of the deal.")
    if asset_type not in AssetType.values:
        raise _invalid("asset_type", f"Choose one of {', '.join(AssetType.values)}.")
    chain = _asset_chain(asset_type, chain or "")
    identifier = _asset_identifier(asset_type, chain, asset_identifier)
    key = {
        "listing": listing,
        "asset_type": asset_type,
        "chain": chain,
        "asset_identifier": identifier,
    }
    existing = ListingAsset.objects.filter(**key).first()
    if existing is not None:
        return AssetAdded(existing, created=False)
    try:
        with transaction.atomic():
            asset = ListingAsset.objects.create(**key, metadata=_metadata_check(metadata))
    except IntegrityError:  # a concurrent add of the same asset won
        return AssetAdded(ListingAsset.objects.get(**key), created=False)
    return AssetAdded(asset, created=True)


def listing_asset_remove(*, listing: Listing, asset_id: Any) -> int:
    """Take an asset off the listing (not once sold): how many went (0 for an unknown id)."""
    if listing.status == S.SOLD:
        raise Conflict("A sold listing's assets are a record of the deal.")
    removed, _ = ListingAsset.objects.filter(listing=listing, pk=asset_id).delete()
    return removed
