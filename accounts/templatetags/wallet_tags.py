"""Template helpers for showing who is signed in."""

from __future__ import annotations

from typing import cast

from django import template
from django.db.models import F

from accounts.models import User, Wallet

register = template.Library()


_MEMO = "_signed_in_wallet_address"
_UNKNOWN = object()


@register.simple_tag
def signed_in_wallet_address(user: User) -> str | None:
    """The address of the wallet this user signed in with most recently (a user may have
    several); known without a query when the session's user was read with it
    (accounts.backends.SessionUserBackend) or a page has listed the user's wallets
    (`signed_in_wallet_known`)."""
    if not getattr(user, "is_authenticated", False):
        return None
    known: str | None | object = getattr(user, _MEMO, _UNKNOWN)
    if known is not _UNKNOWN:
        return cast("str | None", known)
    address: str | None = (
        user.wallets.order_by(F("last_signed_in_at").desc(nulls_last=True), "-created_at")
        .values_list("address", flat=True)
        .first()
    )
    return address


def signed_in_wallet_address_known(user: User, address: str | None) -> None:
    # An attribute (not the instance's __dict__): request.user is a lazy proxy of it.
    setattr(user, _MEMO, address)


def signed_in_wallet_known(user: User, wallets: list[Wallet]) -> None:
    """All of `user`'s wallets, read by the page: the header picks from them, no query."""
    latest = max(
        wallets,
        key=lambda w: (w.last_signed_in_at is not None, w.last_signed_in_at, w.created_at),
        default=None,
    )
    signed_in_wallet_address_known(user, latest.address if latest is not None else None)


@register.filter
def short_address(address: str) -> str:
    """`0x1234…abcd`: enough to recognise one's own wallet in a header."""
    if len(address) <= 12:
        return address
    return f"{address[:6]}…{address[-4:]}"
