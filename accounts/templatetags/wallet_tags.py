"""Template helpers for showing who is signed in."""

from __future__ import annotations

from django import template
from django.db.models import F

from accounts.models import User, Wallet

register = template.Library()


@register.simple_tag
def signed_in_wallet(user: User) -> Wallet | None:
    """The wallet this user signed in with most recently (a user may have several)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return user.wallets.order_by(
        F("last_signed_in_at").desc(nulls_last=True), "-created_at"
    ).first()


@register.filter
def short_address(address: str) -> str:
    """`0x1234…abcd`: enough to recognise one's own wallet in a header."""
    if len(address) <= 12:
        return address
    return f"{address[:6]}…{address[-4:]}"
