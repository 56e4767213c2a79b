"""Escrow deals: opening one for a listing (`POST /api/v1/escrow/init` and the page's form)
and what each party may send next. The deal's status then follows the contract's events
(`fabric.services.escrow_monitor`); nothing here signs or sends a transaction.

A deal's payment is priced once, when it opens: its USD amount (an accepted offer's, or the
listing's asking price) in the payment asset's smallest unit from TRACE's price quote of
that asset by identity (`trace.services.pricing`; a development chain's coin is priced as
ETH outside production). The transactions the buyer's wallet sends carry that amount, the
deal's `ref` (keccak of the deal's id) and its deadline (ESCROW_DEADLINE_DAYS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import CallerAccess
from fabric.chain.escrow import (
    ESCROW_CONTRACT,
    AssetKind,
    DealTerms,
    TransactionRequest,
    approve_transaction,
    asset_deposit_transactions,
    buyer_opening_transactions,
    deal_ref,
    dispute_transaction,
    payment_deposit_transactions,
    settle_transaction,
    withdraw_transaction,
)
from fabric.models import (
    EscrowStatus,
    EscrowTransaction,
    Listing,
    ListingStatus,
    Offer,
    OfferStatus,
)
from fabric.selectors import MARKET_STATUSES, gated_listing, signed_wallets
from fabrknt.api.errors import Conflict, InvalidInput, PermissionDenied
from fabrknt.chain.addresses import address_key, evm_address_normalize
from fabrknt.chain.deployments import deployed_contract
from fabrknt.chain.evm import is_evm_chain
from fabrknt.chain.models import DeployedContract
from trace.models import NATIVE_ASSET, UnpricedReason
from trace.services.pricing import EXACT_PRECISION, STALE_PRICE, current_quote

NATIVE = "native"
# The seller's asset of a swap, as the API names it, and the contract's kind for it.
SWAP_KINDS = {
    "erc721": AssetKind.ERC721,
    "ownable": AssetKind.OWNABLE,
    "ownable2step": AssetKind.OWNABLE2STEP,
}
UINT256_MAX = 2**256 - 1


@dataclasses.dataclass(frozen=True)
class EscrowOpening:
    escrow: EscrowTransaction
    created: bool  # False: the existing pending deal of this request (a repeat)
    transactions: list[TransactionRequest]  # the buyer's, in order: [approve,] deposit


@dataclasses.dataclass(frozen=True)
class PartyStep:
    """A transaction one party of a deal may send now."""

    party: str  # buyer | seller
    request: TransactionRequest
    label: str


def escrow_chains() -> list[str]:
    """The chains where our escrow is deployed (where a deal can open)."""
    chains = DeployedContract.objects.filter(name=ESCROW_CONTRACT).values_list("chain", flat=True)
    return sorted(set(chains))


def escrow_init(
    *,
    access: CallerAccess,
    listing_id: object,
    buyer_wallet: str,
    amount_usd: Decimal,
    chain: str | None = None,
    asset: str | None = None,
    swap_asset: dict[str, Any] | None = None,
    offer_id: uuid.UUID | None = None,
) -> EscrowOpening:
    """Opens a deal for a buyer who signed the listing's NDA (API.md's `escrow/init`):
    refusals are NotFound / PermissionDenied (the listing), InvalidInput (the fields) and
    Conflict (a listing not for sale, a seller without a wallet, an offer's deal already
    funded). A repeat for the same offer (or the same request without one) returns the
    pending deal it opened."""
    user = access.user
    if user is None:
        raise PermissionDenied("Only a signed-in buyer opens an escrow.")
    view = gated_listing(listing_id=listing_id, access=access)
    listing = view.listing
    if view.is_seller:
        raise PermissionDenied("The seller's members cannot buy their own listing.")
    wallet = _buyer_wallet(listing, user, buyer_wallet)
    chain = chain or listing.blockchain
    contract = _escrow_on(chain)
    payment_token = _payment_token(asset)
    swap = _swap_asset(swap_asset)
    with transaction.atomic():
        # One opening at a time per offer (or, without one, per listing): a concurrent
        # repeat waits here, then finds the deal this one made.
        offer = _offer_locked(listing, user, offer_id)
        if offer is None:
            Listing.objects.select_for_update().filter(pk=listing.pk).first()
        expected = offer.amount_usd if offer is not None else listing.asking_price_usd
        if amount_usd != expected:
            what = "the accepted offer's amount" if offer else "the listing's asking price"
            raise InvalidInput(fields={"amount_usd": [f"Must be {expected}, {what}."]})
        existing = _pending_repeat(
            listing, user, offer, wallet=wallet, chain=chain, token=payment_token, swap=swap
        )
        if existing is not None:
            return EscrowOpening(existing, False, escrow_opening_transactions(existing))
        _check_for_sale(listing, offer)
        seller_wallet = _seller_wallet(listing, wallet)
        units = payment_units(chain=chain, payment_token=payment_token, amount_usd=expected)
        escrow_id = uuid.uuid4()
        escrow = EscrowTransaction.objects.create(
            id=escrow_id,
            listing=listing,
            offer=offer,
            buyer=user,
            buyer_wallet=wallet,
            seller_wallet=seller_wallet,
            chain=chain,
            escrow_contract_address=contract,
            deal_ref="0x" + deal_ref(str(escrow_id)).hex(),
            payment_token=payment_token,
            amount_usd=expected,
            amount_units=str(units),
            fee_bps=settings.ESCROW_FEE_BPS,
            swap_asset=swap,
            deadline=_deadline(),
        )
    return EscrowOpening(escrow, True, escrow_opening_transactions(escrow))


_UNPRICED = {
    **{reason.value: str(reason.label).lower() for reason in UnpricedReason},
    STALE_PRICE: "its latest price is older than a day",
}


def payment_units(*, chain: str, payment_token: str, amount_usd: Decimal) -> int:
    """`amount_usd` in the payment's smallest unit (wei for the native coin), from the
    current price quote of the asset by identity, rounded half up; InvalidInput when it
    has no price, or only one older than a day."""
    quote = current_quote(chain=chain, address=payment_token or NATIVE_ASSET)
    if quote.asset is None or not quote.price_usd:
        reason = _UNPRICED.get(quote.unpriced_reason, "worth nothing on a test network")
        raise InvalidInput(fields={"asset": [f"This asset cannot be priced on {chain}: {reason}."]})
    with decimal.localcontext(prec=EXACT_PRECISION):
        whole = amount_usd / quote.price_usd
        units = int(whole.scaleb(quote.asset.decimals).to_integral_value(ROUND_HALF_UP))
    if not 0 < units <= UINT256_MAX:
        raise InvalidInput(fields={"amount_usd": ["Too small to pay in this asset."]})
    return units


def deal_terms(escrow: EscrowTransaction) -> DealTerms:
    swap = escrow.swap_asset or {}
    kind = SWAP_KINDS[swap["type"]] if swap else AssetKind.NONE
    return DealTerms(
        ref=bytes.fromhex(escrow.deal_ref.removeprefix("0x")),
        buyer=escrow.buyer_wallet,
        seller=escrow.seller_wallet,
        payment_token=escrow.payment_token or None,
        amount=int(escrow.amount_units),
        deadline=int(escrow.deadline.timestamp()),
        asset_kind=kind,
        asset_contract=swap.get("address"),
        token_id=int(swap.get("token_id", 0)),
    )


def escrow_opening_transactions(escrow: EscrowTransaction) -> list[TransactionRequest]:
    """What the buyer's wallet sends to open the deal on chain and pay into it."""
    return buyer_opening_transactions(
        escrow=escrow.escrow_contract_address, terms=deal_terms(escrow)
    )


def escrow_next_steps(
    escrow: EscrowTransaction, *, now: dt.datetime | None = None
) -> list[PartyStep]:
    """The transactions each party may send now, from the deal's events as the monitor
    recorded them: the buyer's opening deposit, the seller's hand-over of the asset, the
    approvals, the settlement, a dispute, and withdrawals after the deadline."""
    now = now or timezone.now()
    seen = _seen(escrow.events.values_list("event", "data"))
    if escrow.status == EscrowStatus.RELEASED or "Refunded" in seen.names:
        return []
    expired = now > escrow.deadline
    if escrow.deal_id is None:
        if expired:
            return []
        return [_step("buyer", request) for request in escrow_opening_transactions(escrow)]
    deal_id = int(escrow.deal_id)
    if expired:
        return _withdrawals(escrow, deal_id, seen)
    if escrow.status == EscrowStatus.REFUNDED:
        return []
    if escrow.status == EscrowStatus.PENDING:
        return _deposits(escrow, deal_id, seen)
    return _closing(escrow, deal_id, seen)


# ---- init's checks ---------------------------------------------------------------------


def _buyer_wallet(listing: Listing, user: User, buyer_wallet: str) -> str:
    try:
        wallet = evm_address_normalize(buyer_wallet)
    except ValueError as error:
        raise InvalidInput(
            fields={"buyer_wallet": [f"{error} The escrow runs on EVM chains."]}
        ) from error
    if address_key(wallet) not in {address_key(w) for w in signed_wallets(listing, user)}:
        raise InvalidInput(
            fields={"buyer_wallet": ["Use one of your wallets that signed this listing's NDA."]}
        )
    return wallet


def _escrow_on(chain: str) -> str:
    if not is_evm_chain(chain):
        raise InvalidInput(fields={"chain": [f"{chain} is not an EVM chain (eip155:<id>)."]})
    contract = deployed_contract(chain=chain, name=ESCROW_CONTRACT)
    if contract is None:
        raise InvalidInput(fields={"chain": [f"Our escrow contract is not deployed on {chain}."]})
    return evm_address_normalize(contract.address)


def _payment_token(asset: str | None) -> str:
    if asset in (None, "", NATIVE):
        return ""
    try:
        return evm_address_normalize(asset)
    except ValueError as error:
        raise InvalidInput(
            fields={"asset": [f"Use {NATIVE!r} or an ERC-20 token's address. {error}"]}
        ) from error


def _swap_asset(swap: dict[str, Any] | None) -> dict[str, str]:
    """The stored form of a swap's asset: {type, address[, token_id]} (the id as text: a
    uint256 does not fit a JSON number)."""
    if not swap:
        return {}
    kind = swap.get("type")
    if kind not in SWAP_KINDS:
        raise InvalidInput(
            fields={"swap_asset": [f"type must be one of {', '.join(sorted(SWAP_KINDS))}."]}
        )
    try:
        address = evm_address_normalize(swap.get("address"))  # type: ignore[arg-type]
    except ValueError as error:
        raise InvalidInput(fields={"swap_asset": [f"address: {error}"]}) from error
    if kind != "erc721":
        if swap.get("token_id") not in (None, 0, "0"):
            raise InvalidInput(fields={"swap_asset": ["Only an ERC-721 asset has a token_id."]})
        return {"type": kind, "address": address}
    token_id = _token_id(swap.get("token_id"))
    return {"type": kind, "address": address, "token_id": str(token_id)}


def _token_id(value: object) -> int:
    try:
        token_id = int(str(value), 10) if isinstance(value, int | str) else -1
    except ValueError:
        token_id = -1
    if isinstance(value, bool) or not 0 <= token_id <= UINT256_MAX:
        raise InvalidInput(
            fields={"swap_asset": ["token_id: an ERC-721 token id (a whole number)."]}
        )
    return token_id


def _offer_locked(listing: Listing, user: User, offer_id: uuid.UUID | None) -> Offer | None:
    if offer_id is None:
        return None
    offer = (
        Offer.objects.select_for_update()
        .filter(pk=offer_id, listing=listing, buyer=user, status=OfferStatus.ACCEPTED)
        .first()
    )
    if offer is None:
        raise InvalidInput(fields={"offer_id": ["Not an accepted offer of yours on this listing."]})
    return offer


def _pending_repeat(
    listing: Listing,
    user: User,
    offer: Offer | None,
    *,
    wallet: str,
    chain: str,
    token: str,
    swap: dict[str, str],
) -> EscrowTransaction | None:
    """The deal a repeat of this request opened: the offer's pending deal, or without an
    offer the same buyer's pending deal with the same terms."""
    pending = EscrowTransaction.objects.filter(
        listing=listing, buyer=user, status=EscrowStatus.PENDING
    )
    if offer is not None:
        return pending.filter(offer=offer).order_by("created_at").first()
    return (
        pending.filter(
            offer__isnull=True,
            buyer_wallet=wallet,
            chain=chain,
            payment_token=token,
            swap_asset=swap,
        )
        .order_by("created_at")
        .first()
    )


def _check_for_sale(listing: Listing, offer: Offer | None) -> None:
    listing.refresh_from_db(fields=["status", "seller_wallet"])
    allowed = (ListingStatus.UNDER_OFFER,) if offer is not None else MARKET_STATUSES
    if listing.status not in allowed:
        raise Conflict(f"This listing is {listing.status}: no escrow can open on it now.")
    if offer is not None and offer.escrows.exclude(status=EscrowStatus.REFUNDED).exists():
        raise Conflict("This offer's escrow is already funded or settled.")


def _seller_wallet(listing: Listing, buyer_wallet: str) -> str:
    if not listing.seller_wallet:
        raise Conflict(
            "The seller has not set the wallet the escrow pays yet: ask the seller to add it "
            "to the listing."
        )
    try:
        seller = evm_address_normalize(listing.seller_wallet)
    except ValueError as error:
        raise Conflict("The listing's seller wallet is not an EVM address.") from error
    if address_key(seller) == address_key(buyer_wallet):
        raise InvalidInput(fields={"buyer_wallet": ["The seller's own wallet cannot buy."]})
    return seller


def _deadline() -> dt.datetime:
    deadline = timezone.now() + dt.timedelta(days=settings.ESCROW_DEADLINE_DAYS)
    return deadline.replace(microsecond=0)


# ---- next steps ------------------------------------------------------------------------

_LABELS = {
    "approve_payment": "Allow the escrow to take the payment",
    "create_and_deposit": "Open the deal and deposit the payment",
    "deposit_payment": "Deposit the payment",
    "approve_asset": "Allow the escrow to take the token",
    "reserve_asset": "Reserve the contract for this deal",
    "transfer_ownership": "Hand the contract's ownership to the escrow",
    "deposit_asset": "Deposit the asset",
    "approve": "Approve the release",
    "settle": "Settle: release payment and asset",
    "dispute": "Open a dispute",
    "withdraw": "Withdraw your deposit",
}


@dataclasses.dataclass(frozen=True)
class _Seen:
    names: set[str]
    parties: dict[str, set[str]]  # event -> address keys of the parties that sent it
    arbiter: str | None  # the deal's arbiter, from DealCreated


def _seen(rows: Iterable[tuple[str, dict[str, Any]]]) -> _Seen:
    names: set[str] = set()
    parties: dict[str, set[str]] = {}
    arbiter = None
    for name, data in rows:
        names.add(name)
        party = data.get("party")
        if party:
            parties.setdefault(name, set()).add(address_key(party))
        if name == "DealCreated":
            arbiter = data.get("arbiter")
    return _Seen(names, parties, arbiter)


def _step(party: str, request: TransactionRequest) -> PartyStep:
    return PartyStep(party, request, _LABELS[request.step])


def _deposits(escrow: EscrowTransaction, deal_id: int, seen: _Seen) -> list[PartyStep]:
    escrow_address = escrow.escrow_contract_address
    steps: list[PartyStep] = []
    if "PaymentDeposited" not in seen.names:
        steps += [
            _step("buyer", request)
            for request in payment_deposit_transactions(
                escrow=escrow_address,
                deal_id=deal_id,
                buyer=escrow.buyer_wallet,
                payment_token=escrow.payment_token or None,
                amount=int(escrow.amount_units),
            )
        ]
    terms = deal_terms(escrow)
    if terms.asset_kind is not AssetKind.NONE and "AssetDeposited" not in seen.names:
        assert terms.asset_contract is not None  # a swap names its asset
        handover = asset_deposit_transactions(
            escrow=escrow_address,
            deal_id=deal_id,
            seller=escrow.seller_wallet,
            asset_kind=terms.asset_kind,
            asset_contract=terms.asset_contract,
            token_id=terms.token_id,
        )
        reserved = "AssetReserved" in seen.names
        steps += [
            _step("seller", request)
            for request in handover
            if not (reserved and request.step == "reserve_asset")
        ]
    return steps


def _closing(escrow: EscrowTransaction, deal_id: int, seen: _Seen) -> list[PartyStep]:
    """A funded deal: each party's approval, the settlement once both approved (unless a
    dispute leaves it to the arbiter), a dispute while none is open."""
    address = escrow.escrow_contract_address
    parties = (("buyer", escrow.buyer_wallet), ("seller", escrow.seller_wallet))
    approved = seen.parties.get("Approved", set())
    disputed = "Disputed" in seen.names
    steps = [
        _step(party, approve_transaction(escrow=address, deal_id=deal_id, party=wallet))
        for party, wallet in parties
        if address_key(wallet) not in approved
    ]
    both_approved = all(address_key(wallet) in approved for _, wallet in parties)
    if both_approved and not (disputed and seen.arbiter):
        steps += [
            _step(party, settle_transaction(escrow=address, deal_id=deal_id, sender=wallet))
            for party, wallet in parties
        ]
    if not disputed:
        steps += [
            _step(party, dispute_transaction(escrow=address, deal_id=deal_id, party=wallet))
            for party, wallet in parties
        ]
    return steps


def _withdrawals(escrow: EscrowTransaction, deal_id: int, seen: _Seen) -> list[PartyStep]:
    """After the deadline: each party takes back what it put in (and has not taken)."""
    withdrawn = seen.parties.get("Withdrawn", set())
    steps: list[PartyStep] = []
    for party, wallet, deposited in (
        ("buyer", escrow.buyer_wallet, "PaymentDeposited"),
        ("seller", escrow.seller_wallet, "AssetDeposited"),
    ):
        if deposited in seen.names and address_key(wallet) not in withdrawn:
            request = withdraw_transaction(
                escrow=escrow.escrow_contract_address, deal_id=deal_id, party=wallet
            )
            steps.append(_step(party, request))
    return steps
