"""The signed-in viewer of a page from the read cache (fabrknt/readcache.py; README, "Read
cache"): the session's user, with the wallet the header shows, and their live memberships
(the header's organization selector, and every page's `page_access`). Read on every page
of a signed-in user, changed seldom: read in the same round trip as the session
(accounts/sessions.py) instead of two queries.

`accounts:viewer:<user id>` retires it. Model saves and deletes reach it through the
receivers below (a user's, a wallet's, a membership's; an organization's reaches every
member); the services' queryset updates call `viewers_changed` or
`organization_viewers_changed` themselves (sign out everywhere, a wallet's sign-in, an
organization's deletion).

Who may see what is still decided for each request, from these memberships. An entry
lives SESSION_CACHE_SECONDS at most, as a session's cached copy: a change made while
Redis could not be told goes unseen that long at most. A user with a usable password (an
operator of the admin) is read from the database every time: no password hash is copied
out of it. Users who sign in with a wallet have none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete, post_save

from accounts.models import Membership, Organization, User, Wallet
from accounts.read_ahead import viewer_read_ahead
from accounts.selectors import user_memberships, viewer_memberships_known
from accounts.templatetags.wallet_tags import signed_in_wallet_address_known
from fabrknt.readcache import cached, changed, lookup_keys, retiring

# What the cache holds for a user with a usable password: read them from the database.
_FROM_DATABASE = "from the database"


@dataclass(frozen=True)
class Viewer:
    user: User
    memberships: list[Membership] | None  # None: not read (a page reads them if it needs)


def viewer_scope(user_id: object) -> str:
    return f"accounts:viewer:{user_id}"


def viewers_changed(user_ids: Iterable[object]) -> None:
    changed(*(viewer_scope(pk) for pk in sorted({str(pk) for pk in user_ids})))


def organization_viewers_changed(organization_id: uuid.UUID) -> None:
    """The organization changed (renamed, deleted): every member's viewer. One query, none
    while Redis is backed off."""
    if retiring(f"the members of organization {organization_id}"):
        viewers_changed(
            Membership.objects.filter(organization_id=organization_id).values_list(
                "user_id", flat=True
            )
        )


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


def _user_read(user_id: uuid.UUID) -> User | None:
    """The user with the header's wallet on the same row: one query."""
    try:
        user = User._default_manager.annotate(header_wallet_address=_latest_wallet_address()).get(
            pk=user_id
        )
    except User.DoesNotExist:
        return None
    signed_in_wallet_address_known(user, user.header_wallet_address)
    return user


def session_user(user_id: uuid.UUID) -> User | None:
    """The session's user if active, with the header's wallet address and their live
    memberships known (`viewer_memberships`): accounts.backends.SessionUserBackend."""
    viewer = session_viewer(user_id)
    if viewer is None or not viewer.user.is_active:
        return None
    if viewer.memberships is not None:
        viewer_memberships_known(viewer.user, viewer.memberships)
    return viewer.user


def _cacheable(user_id: uuid.UUID) -> Viewer | str | None:
    user = _user_read(user_id)
    if user is None:
        return None
    if user.password and user.has_usable_password():
        return _FROM_DATABASE
    return Viewer(user=user, memberships=list(user_memberships(user=user)))


def viewer_lookup_keys(user_id: object) -> list[str]:
    """The read cache's keys of the user's viewer (its generation, its entry), which the
    session's own round trip reads (accounts/sessions.py)."""
    return lookup_keys(viewer_scope(user_id), scopes=[viewer_scope(user_id)])


def session_viewer(user_id: uuid.UUID) -> Viewer | None:
    """The user of that id (active or not: the caller decides) with their live
    memberships, None when there is no such user."""
    found = cached(
        viewer_scope(user_id),
        scopes=[viewer_scope(user_id)],
        build=lambda: _cacheable(user_id),
        ttl=settings.SESSION_CACHE_SECONDS,
        found=viewer_read_ahead(user_id),
    )
    if found == _FROM_DATABASE:  # its memberships read by the page if it needs them
        user = _user_read(user_id)
        return None if user is None else Viewer(user=user, memberships=None)
    assert not isinstance(found, str)
    return found


def _user_saved(sender: Any, instance: User, **kwargs: Any) -> None:
    viewers_changed([instance.pk])


def _owned_saved(sender: Any, instance: Wallet | Membership, **kwargs: Any) -> None:
    viewers_changed([instance.user_id])


def _organization_saved(sender: Any, instance: Organization, **kwargs: Any) -> None:
    organization_viewers_changed(instance.pk)


def connect() -> None:
    """Called by AccountsConfig.ready()."""
    for event, signal in (("save", post_save), ("delete", post_delete)):
        for model, receiver in (
            (User, _user_saved),
            (Wallet, _owned_saved),
            (Membership, _owned_saved),
            (Organization, _organization_saved),
        ):
            signal.connect(receiver, sender=model, dispatch_uid=f"viewer-{model.__name__}-{event}")
