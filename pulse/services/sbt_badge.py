"""What a minted token shows in wallets and explorers: its ERC-721 metadata document and
the badge image we render for it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse

from fabrknt.chain.addresses import evm_address_normalize
from fabrknt.readcache import cached
from pulse.cache import SBT_METADATA
from pulse.models import Milestone, SBTRecord, SBTStatus
from pulse.services.milestones import RULES


@dataclasses.dataclass(frozen=True)
class Badge:
    milestone: str
    title: str
    team_name: str
    issued_on: dt.date
    token_id: int
    chain: str


def _minted_record(*, chain: str, address: str, token_id: int) -> SBTRecord | None:
    try:
        address = evm_address_normalize(address)
    except ValueError:
        return None
    return (
        SBTRecord.objects.select_related("team")
        .filter(
            chain=chain,
            token_address__iexact=address,
            token_id=str(token_id),
            status=SBTStatus.MINTED,
        )
        .first()
    )


def token_badge(*, chain: str, address: str, token_id: int) -> Badge | None:
    """The badge of a token we minted, or None for any other token: the same for anyone,
    cached until a mint or a team's rename (pulse/cache.py)."""
    return cached(
        "pulse:sbt-badge",
        scopes=[SBT_METADATA],
        parts=(chain, address.lower(), token_id),
        build=lambda: _badge_read(chain=chain, address=address, token_id=token_id),
    )


def _badge_read(*, chain: str, address: str, token_id: int) -> Badge | None:
    record = _minted_record(chain=chain, address=address, token_id=token_id)
    if record is None:
        return None
    issued = record.issued_at or record.created_at
    return Badge(
        milestone=record.milestone,
        title=Milestone(record.milestone).label,
        team_name=record.team.team_name,
        issued_on=issued.date(),
        token_id=token_id,
        chain=chain,
    )


def token_metadata_document(*, chain: str, address: str, token_id: int) -> dict[str, Any] | None:
    """ERC-721 metadata JSON (name, description, image) with OpenSea-style `attributes`
    (milestone, team, date), or None for a token we did not mint."""
    badge = token_badge(chain=chain, address=address, token_id=token_id)
    if badge is None:
        return None
    base: str = settings.PUBLIC_BASE_URL
    kwargs = {"chain": chain, "address": evm_address_normalize(address), "token_id": token_id}
    issued = dt.datetime.combine(badge.issued_on, dt.time(), tzinfo=dt.UTC)
    return {
        "name": f"{badge.title} · {badge.team_name}",
        "description": (
            f"A soulbound PULSE milestone of {badge.team_name}: "
            f"{RULES[badge.milestone].description} Issued by Fabrknt Suite from the team's "
            "recorded activity; it cannot be transferred."
        ),
        "image": base + reverse("pulse_sbt:image", kwargs=kwargs),
        "external_url": base + reverse("pulse-sbt-metadata", kwargs=kwargs),
        "attributes": [
            {"trait_type": "Milestone", "value": badge.milestone},
            {"trait_type": "Team", "value": badge.team_name},
            {"trait_type": "Date", "display_type": "date", "value": int(issued.timestamp())},
        ],
    }
