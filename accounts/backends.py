"""The session's user, read with the wallet the header shows (one query, not two)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.db import connection
from django.db.models.expressions import RawSQL

from accounts.models import User, Wallet
from accounts.templatetags.wallet_tags import signed_in_wallet_address_known


def _latest_wallet_address() -> RawSQL:
    """The address of the user's wallet signed in with most recently (as
    `signed_in_wallet_address` orders them), a correlated subquery on the user's row."""
    quote = connection.ops.quote_name
    wallets, users = quote(Wallet._meta.db_table), quote(User._meta.db_table)
    return RawSQL(  # noqa: S611 (quoted names only, no value)
        f"SELECT {wallets}.{quote('address')} FROM {wallets} "  # noqa: S608 (quoted names)
        f"WHERE {wallets}.{quote('user_id')} = {users}.{quote('id')} "
        f"ORDER BY {wallets}.{quote('last_signed_in_at')} DESC NULLS LAST, "
        f"{wallets}.{quote('created_at')} DESC LIMIT 1",
        (),
    )


class SessionUserBackend(BaseBackend):
    """Loads a signed-in session's user (AuthenticationMiddleware) as ModelBackend does,
    active users only, with the header's wallet address annotated on the same row.
    Authenticates nobody: sign-in is by wallet, passwords (the admin) stay ModelBackend's,
    and permissions are ModelBackend's too (listed after this one)."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.annotate(
                header_wallet_address=_latest_wallet_address()
            ).get(pk=user_id)
        except User.DoesNotExist:
            return None
        signed_in_wallet_address_known(user, user.header_wallet_address)
        return user if user.is_active else None
