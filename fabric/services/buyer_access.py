"""The seller's say over buyers' wallets: invite a wallet to a private listing, revoke a
wallet (whatever it signed, it sees nothing gated any more; an invited one no longer sees
a private listing at all), restore a revoked one. One `BuyerAccess` row per listing and
wallet; `fabric.selectors` reads them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services.wallets import WalletAddress, wallet_address_parse
from fabric.models import BuyerAccess, Listing, Visibility
from fabrknt.api.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class AccessChange:
    access: BuyerAccess
    changed: bool  # False: the wallet already stood so (an idempotent repeat)


def _wallet(address: str) -> WalletAddress:
    parsed = wallet_address_parse(address=address)
    if parsed is None:
        raise InvalidInput(
            fields={"wallet_address": ["Not an EVM (0x…) or Solana (base58) address."]}
        )
    return parsed


def _locked_row(listing: Listing, wallet: WalletAddress) -> BuyerAccess:
    row, _ = BuyerAccess.objects.get_or_create(
        listing=listing, namespace=wallet.namespace, wallet_address=wallet.address
    )
    return BuyerAccess.objects.select_for_update().get(pk=row.pk)


def buyer_access_invite(
    *, listing: Listing, wallet_address: str, actor: User | None
) -> AccessChange:
    """Let `wallet_address` see the private `listing` (and sign its NDA); a revoked wallet
    is reinstated. Public and NDA listings are open to anyone: 400."""
    if listing.visibility != Visibility.PRIVATE:
        raise InvalidInput(
            "Only private listings take invitations: anyone may open a public or NDA "
            "listing and sign its NDA."
        )
    wallet = _wallet(wallet_address)
    with transaction.atomic():
        row = _locked_row(listing, wallet)
        if row.invited_at is not None and row.revoked_at is None:
            return AccessChange(access=row, changed=False)
        row.invited_at, row.invited_by = timezone.now(), actor
        row.revoked_at, row.revoked_by = None, None
        row.save()
    return AccessChange(access=row, changed=True)


def buyer_access_revoke(
    *, listing: Listing, wallet_address: str, actor: User | None
) -> AccessChange:
    """Take back what `wallet_address` sees of `listing` beyond what anyone sees."""
    wallet = _wallet(wallet_address)
    with transaction.atomic():
        row = _locked_row(listing, wallet)
        if row.revoked_at is not None:
            return AccessChange(access=row, changed=False)
        row.revoked_at, row.revoked_by = timezone.now(), actor
        row.save()
    return AccessChange(access=row, changed=True)


def buyer_access_restore(
    *, listing: Listing, wallet_address: str, actor: User | None
) -> AccessChange:
    """Undo a revocation: the wallet's NDA signature (and invitation) count again."""
    wallet = _wallet(wallet_address)
    with transaction.atomic():
        row = (
            BuyerAccess.objects.select_for_update()
            .filter(listing=listing, namespace=wallet.namespace, wallet_address=wallet.address)
            .first()
        )
        if row is None:
            raise NotFound("This wallet was never invited or revoked here.")
        if row.revoked_at is None:
            return AccessChange(access=row, changed=False)
        row.revoked_at, row.revoked_by = None, None
        row.save()
    return AccessChange(access=row, changed=True)
