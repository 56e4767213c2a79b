"""A listing ready for an escrow deal, made by the factories (the offers and NDA APIs are
built elsewhere): the seller's organization and member, a live listing with the seller's
wallet, a buyer whose wallet signed the listing's NDA (a real EIP-191 signature by that
wallet's key), and optionally the buyer's accepted offer (the listing then under offer)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from accounts.models import Role, User, Wallet
from accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WalletFactory,
)
from fabric.chain.escrow import ESCROW_CONTRACT
from fabric.models import EscrowTransaction, Listing, ListingStatus, Offer, OfferStatus, Party
from fabric.selectors import nda_text, nda_version_hash
from fabric.tests.factories import ListingFactory, NDASignatureFactory, OfferFactory
from fabrknt.chain.models import DeployedContract

ASKING_PRICE = Decimal("250000.00")


@dataclasses.dataclass
class DealWorld:
    listing: Listing
    seller: User  # a member of the seller's organization
    buyer: User
    buyer_wallet: str
    offer: Offer | None


def escrow_deployed(chain: str, address: str, block_number: int = 1) -> DeployedContract:
    return DeployedContract.objects.create(
        chain=chain,
        name=ESCROW_CONTRACT,
        address=address,
        bytecode_hash="0x" + "ab" * 32,
        transaction_hash="0x" + "cd" * 32,
        deployer="0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
        block_number=block_number,
    )


def nda_signed(listing: Listing, user: User, account: LocalAccount) -> Wallet:
    """The user's new wallet `account` signed the listing's current NDA (a real EIP-191
    signature); that wallet."""
    wallet = WalletFactory(user=user, address=account.address)
    message = (
        f"I sign the NDA of the listing {listing.pk} (version {nda_version_hash(listing)}) "
        f"with {account.address}.\n\n{nda_text(listing)}"
    )
    signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    NDASignatureFactory(listing=listing, wallet=wallet, message=message, signature=signature)
    return wallet


def deal_world(
    *,
    chain: str,
    seller_wallet: str,
    buyer_account: LocalAccount | None = None,
    offer_amount: Decimal | None = Decimal("200000.00"),
    asking_price: Decimal = ASKING_PRICE,
    title: str = "Orbit DEX",
) -> DealWorld:
    organization = OrganizationFactory(name="Orbit Labs")
    seller = UserFactory()
    MembershipFactory(organization=organization, user=seller, role=Role.OWNER)
    listing = ListingFactory(
        organization=organization,
        title=title,
        asking_price_usd=asking_price,
        blockchain=chain,
        seller_wallet=seller_wallet,
    )
    buyer = UserFactory()
    account = buyer_account or Account.create()
    wallet = nda_signed(listing, buyer, account)
    offer = None
    if offer_amount is not None:
        offer = OfferFactory(
            listing=listing,
            wallet=wallet,
            amount_usd=offer_amount,
            status=OfferStatus.ACCEPTED,
            awaiting=Party.BUYER,
        )
        Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.UNDER_OFFER)
        listing.refresh_from_db()
    return DealWorld(listing, seller, buyer, account.address, offer)


def escrow_pending(offer: Offer, seller_wallet: str) -> EscrowTransaction:
    """A pending escrow deal for the offer, on Base, as `escrow_init` leaves one (with a
    made-up contract and deal reference: nothing here reads the chain)."""
    return EscrowTransaction.objects.create(
        listing=offer.listing,
        offer=offer,
        buyer=offer.buyer,
        buyer_wallet=offer.buyer_wallet,
        seller_wallet=seller_wallet,
        chain="eip155:8453",
        escrow_contract_address=Account.create().address,
        deal_ref="0x" + "12" * 32,
        amount_usd=offer.amount_usd,
        amount_units="1000",
        fee_bps=100,
        deadline=timezone.now() + dt.timedelta(days=7),
    )
