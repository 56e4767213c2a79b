"""One click of the API form, checked against the caller's organizations.

Hand-written rather than a DRF serializer: this is the hot path of click ingest, and a
serializer costs more than everything else on it together (bench/clicks.py measures it).
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings

from trace.models import Campaign, CampaignStatus
from trace.services.bots import click_bot_reason

_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REFERRER = 2048
MAX_USER_AGENT = 512
MAX_UTM_KEYS = 20
MAX_UTM_KEY = 64
MAX_UTM_VALUE = 512
# campaign id -> CampaignOwner; a campaign never changes organization, and a landing URL
# or status changed elsewhere is picked up within this many seconds.
CAMPAIGN_CACHE_SECONDS = 30.0
_CAMPAIGN_CACHE_MAX = 50_000


class ClickRejected(Exception):
    """A click that fails validation; `errors` has DRF's field-error shape."""

    def __init__(
        self,
        errors: dict[str, list[str]],
        *,
        unknown_campaign: bool = False,
        organization_id: str | None = None,
    ):
        super().__init__(errors)
        self.errors = errors
        # The campaign is none of the caller's: none at all, or of `organization_id`.
        self.unknown_campaign = unknown_campaign
        self.organization_id = organization_id


@dataclass(slots=True)
class ClickInput:
    campaign_id: str
    click_id: str
    referrer: str = ""
    utm_params: dict[str, str] = field(default_factory=dict)
    user_agent: str = ""
    ip_address: str = ""  # as the visitor came, before truncation
    bot_reason: str = ""
    occurred_at: float = 0.0  # epoch seconds; 0 means "now"
    during_pause: bool = False  # its campaign was paused (Click.during_pause)


class CampaignOwner(NamedTuple):
    """What the click path needs of a campaign, from one cached query."""

    organization_id: str
    landing_url: str
    paused: bool


def _text(value: object, limit: int) -> str | None:
    """`value` if it is a string PostgreSQL can store within `limit` characters, else None."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")  # lone surrogates from JSON "\ud800" cannot be stored
        except UnicodeEncodeError:
            return None
    return value


def _utm(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict) or len(value) > MAX_UTM_KEYS:
        return None
    for key, item in value.items():
        if _text(key, MAX_UTM_KEY) is None or not key or _text(item, MAX_UTM_VALUE) is None:
            return None
    return value


def ip_parse(value: str) -> str | None:
    """The canonical spelling of an IP address (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6:
        if address.scope_id:
            return None
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return str(address)


def ip_for_storage(ip: str) -> str:
    """The visitor's network (/24 or /48), or the full address when STORE_FULL_IP is on."""
    if not ip or settings.STORE_FULL_IP:
        return ip
    if ":" not in ip:  # canonical dotted IPv4 (see ip_parse): cut the last octet
        return ip[: ip.rindex(".")] + ".0"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address)


def click_parse(*, data: object, organization_ids: Collection[str]) -> ClickInput:
    """Validate one click of the API form against the caller's organizations."""
    if not isinstance(data, dict):
        raise ClickRejected({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    campaign_id = data.get("campaign_id")
    if campaign_id is None:
        errors["campaign_id"] = ["This field is required."]
    else:
        try:
            campaign_id = str(uuid.UUID(campaign_id)) if isinstance(campaign_id, str) else None
        except ValueError:
            campaign_id = None
        if campaign_id is None:
            errors["campaign_id"] = ["Must be a valid UUID."]
    click_id = data.get("click_id")
    if click_id is None:
        click_id = uuid.uuid4().hex
    elif not isinstance(click_id, str) or not _CLICK_ID.fullmatch(click_id):
        errors["click_id"] = ["At most 64 characters of A-Z, a-z, 0-9, _ and -."]
    referrer = data.get("referrer") or ""
    if referrer and _text(referrer, MAX_REFERRER) is None:
        errors["referrer"] = [f"A string of at most {MAX_REFERRER} characters."]
    user_agent = data.get("user_agent") or ""
    if user_agent and _text(user_agent, MAX_USER_AGENT) is None:
        errors["user_agent"] = [f"A string of at most {MAX_USER_AGENT} characters."]
    utm_params = data.get("utm_params") or {}
    if utm_params and _utm(utm_params) is None:
        errors["utm_params"] = [
            f"An object of at most {MAX_UTM_KEYS} string keys (<= {MAX_UTM_KEY} characters) "
            f"to string values (<= {MAX_UTM_VALUE} characters)."
        ]
    ip_address = data.get("ip_address") or ""
    if ip_address:
        ip_address = ip_parse(ip_address) if isinstance(ip_address, str) else None
        if ip_address is None:
            errors["ip_address"] = ["Enter a valid IPv4 or IPv6 address."]
    if errors or campaign_id is None or ip_address is None:  # None only with an error
        raise ClickRejected(errors)
    owner = campaign_lookup(campaign_id=campaign_id)
    if owner is None or owner[0] not in organization_ids:
        raise ClickRejected(
            {"campaign_id": ["No such campaign."]},
            unknown_campaign=True,
            organization_id=None if owner is None else owner[0],
        )
    return ClickInput(
        campaign_id=campaign_id,
        click_id=click_id,
        referrer=referrer,
        utm_params=utm_params,
        user_agent=user_agent,
        ip_address=ip_address,
        bot_reason=click_bot_reason(user_agent=user_agent) if user_agent else "",
        during_pause=owner.paused,
    )


_campaign_cache: dict[str, tuple[float, CampaignOwner | None]] = {}


def campaign_lookup(*, campaign_id: str) -> CampaignOwner | None:
    """A campaign's organization, landing URL and pause, cached in the process; None if
    unknown, or if its organization was deleted (its links stop recording clicks)."""
    now = time.monotonic()
    hit = _campaign_cache.get(campaign_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = (
        Campaign.objects.filter(pk=campaign_id, organization__deleted_at__isnull=True)
        .values_list("organization_id", "landing_url", "status")
        .first()
    )
    value = CampaignOwner(str(row[0]), row[1], row[2] == CampaignStatus.PAUSED) if row else None
    if len(_campaign_cache) >= _CAMPAIGN_CACHE_MAX:
        _campaign_cache.clear()
    _campaign_cache[campaign_id] = (now + CAMPAIGN_CACHE_SECONDS, value)
    return value


def click_campaign_cached(*, data: object) -> bool:
    """Whether validating this click needs no database query: its campaign (known or
    not) is in this process's cache. Lets the view put the rate limit before any query."""
    if not isinstance(data, dict):
        return True
    campaign_id = data.get("campaign_id")
    if not isinstance(campaign_id, str):
        return True  # refused without a lookup
    try:
        campaign_id = str(uuid.UUID(campaign_id))
    except ValueError:
        return True
    hit = _campaign_cache.get(campaign_id)
    return hit is not None and hit[0] > time.monotonic()


def campaign_cache_forget(*, campaign_id: str) -> None:
    """Drop one campaign from this process's cache (after a change to it here; other
    processes see the change within CAMPAIGN_CACHE_SECONDS)."""
    _campaign_cache.pop(campaign_id, None)


def campaign_cache_clear() -> None:
    _campaign_cache.clear()
