"""Invitations: a link a team member shares with a contributor they added, so that the
person behind the wallet signs in and links their GitHub and Discord (pulse.services.identity).

The link carries the team and the contributor, signed with the site's key
(django.core.signing) and valid PULSE_INVITE_MAX_AGE_DAYS; nothing is stored, so minting a
link again is harmless and reading one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from fabrknt.api.errors import InvalidInput, NotFound
from pulse.models import Contributor

_SALT = "pulse.invite"


class InviteInvalid(InvalidInput):
    code = "invite_invalid"
    default_detail = "This invitation link is not valid: ask the team for a new one."


class InviteExpired(InvalidInput):
    code = "invite_expired"
    default_detail = "This invitation link has expired: ask the team for a new one."


@dataclass(frozen=True)
class Invite:
    contributor: Contributor
    max_age_days: int


def invite_token_make(*, contributor: Contributor) -> str:
    """The signed token of an invitation to this contributor of their team."""
    payload = {"t": contributor.team.pulse_id, "c": str(contributor.pk)}
    return signing.dumps(payload, salt=_SALT, compress=True)


def invite_url(*, contributor: Contributor) -> str:
    """The shareable invitation link, on PUBLIC_BASE_URL (as the webhook URLs)."""
    path = reverse("pulse-invite:invite", args=[invite_token_make(contributor=contributor)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def invite_read(*, token: str) -> Invite:
    """The invitation a token names: InviteExpired, InviteInvalid (forged, altered), or
    NotFound (the contributor or the team is gone)."""
    days = settings.PULSE_INVITE_MAX_AGE_DAYS
    try:
        payload = signing.loads(token, salt=_SALT, max_age=days * 24 * 3600)
    except signing.SignatureExpired:
        raise InviteExpired() from None
    except signing.BadSignature:
        raise InviteInvalid() from None
    if not isinstance(payload, dict):
        raise InviteInvalid()
    team, contributor_id = payload.get("t"), payload.get("c")
    if not isinstance(team, str) or not isinstance(contributor_id, str):
        raise InviteInvalid()
    contributor = (
        Contributor.objects.select_related("team")
        .filter(pk=contributor_id, team__pulse_id=team)
        .first()
    )
    if contributor is None:
        raise NotFound("This invitation's contributor is no longer in the team.")
    return Invite(contributor=contributor, max_age_days=days)
