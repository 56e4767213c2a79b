"""Reads for the request guards: the IP rule set, cached so a request costs one cache hit."""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import cache
from django.db import DatabaseError

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped
from fabrknt.security.models import IpRule

logger = logging.getLogger(__name__)

IP_RULES_CACHE_KEY = "security:ip-rules:v1"
# Saving or deleting a rule drops the entry at once; the timeout only bounds how long a rule
# changed behind the ORM's back (raw SQL, a bulk update) can take to be seen.
_IP_RULES_CACHE_SECONDS = 300

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
RuleRows = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IpRuleSet:
    allow: tuple[Network, ...]
    block: tuple[Network, ...]

    def verdict(self, address: str) -> str | None:
        """ "allow", "block" or None (no rule names this address). Allow wins."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allow):
            return IpRule.Action.ALLOW
        if any(ip in network for network in self.block):
            return IpRule.Action.BLOCK
        return None


# Each process also keeps the set it read for this long, so the hot path (every request)
# does not pay a cache round trip; another process's edit is seen within this time.
_IP_RULES_LOCAL_SECONDS = 2.0
_local: dict[str, tuple[float, IpRuleSet]] = {}


@lru_cache(maxsize=8)
def _rule_set(rows: RuleRows) -> IpRuleSet:
    networks: dict[str, list[Network]] = {IpRule.Action.ALLOW: [], IpRule.Action.BLOCK: []}
    for cidr, action in rows:
        networks[action].append(ipaddress.ip_network(cidr, strict=False))
    return IpRuleSet(
        allow=tuple(networks[IpRule.Action.ALLOW]), block=tuple(networks[IpRule.Action.BLOCK])
    )


def _rule_rows_from_database() -> RuleRows:
    return tuple(IpRule.objects.filter(enabled=True).order_by("pk").values_list("cidr", "action"))


def _rule_rows_or_none() -> RuleRows | None:
    try:
        return _rule_rows_from_database()
    except DatabaseError as error:
        # Fail open while the database is down, so /readyz can still say so (503) instead
        # of every request, probes included, failing here with a 500.
        logger.error("IP rules unavailable, database down: %s", error)
        return None


def ip_rules_active() -> IpRuleSet:
    """The enabled rules: this process's copy while fresh, else the shared cache's."""
    now = time.monotonic()
    held = _local.get(IP_RULES_CACHE_KEY)
    if held is not None and held[0] > now:
        return held[1]
    rule_set = _ip_rules_shared()
    _local[IP_RULES_CACHE_KEY] = (now + _IP_RULES_LOCAL_SECONDS, rule_set)
    return rule_set


def _ip_rules_shared() -> IpRuleSet:
    """The enabled rules, from the cache when it answers, else from the database."""
    if redis_skipped():
        return _rule_set(_rule_rows_or_none() or ())
    try:
        rows = cache.get(IP_RULES_CACHE_KEY)
    except REDIS_ERRORS as error:
        # A cache outage must not take the site down: read the table instead.
        redis_failed(error, during="IP rules lookup")
        return _rule_set(_rule_rows_or_none() or ())
    if rows is None:
        rows = _rule_rows_or_none()
        if rows is None:
            return _rule_set(())
        try:
            cache.set(IP_RULES_CACHE_KEY, rows, _IP_RULES_CACHE_SECONDS)
        except REDIS_ERRORS as error:
            redis_failed(error, during="IP rules lookup")
    return _rule_set(tuple(tuple(row) for row in rows))


def ip_rules_invalidate() -> None:
    _local.clear()
    try:
        cache.delete(IP_RULES_CACHE_KEY)
    except REDIS_ERRORS as error:
        logger.warning("Could not drop the cached IP rules: %s", error)
