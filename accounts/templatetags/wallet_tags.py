"""Template helpers for showing who is signed in."""

from __future__ import annotations

from django import template
from django.db.models import F

from accounts.models import User, Wallet

register = template.Library()


_MEMO = "_signed_in_wallet"


@register.simple_tag
def signed_in_wallet(user: User) -> Wallet | None:
    """The wallet this user signed in with most recently (a user may have several); a page
    that has listed the user's wallets already names it (`signed_in_wallet_known`)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if _MEMO in user.__dict__:
        known: Wallet | None = user.__dict__[_MEMO]
        return known
    return user.wallets.order_by(
        F("last_signed_in_at").desc(nulls_last=True), "-created_at"
    ).first()


def signed_in_wallet_known(user: User, wallets: list[Wallet]) -> None:
    """All of `user`'s wallets, read by the page: the header picks from them, no query."""
    latest = max(
        wallets,
        key=lambda w: (w.last_signed_in_at is not None, w.last_signed_in_at, w.created_at),
        default=None,
    )
    user.__dict__[_MEMO] = latest


@register.filter
def short_address(address: str) -> str:
    """`0x1234…abcd`: enough to recognise one's own wallet in a header."""
    if len(address) <= 12:
        return address
    return f"{address[:6]}…{address[-4:]}"
