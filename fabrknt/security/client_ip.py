"""The client's address, trusting X-Forwarded-For only as far as our own proxies
(settings.TRUSTED_PROXIES), and the network every per-IP limit counts it under."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a bucket name, never bound
IPV6_SUBSCRIBER_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    """The address of whoever reached the first of our proxies.

    Walks from REMOTE_ADDR leftwards through X-Forwarded-For while the address in hand
    is one of our proxies: the first address outside TRUSTED_PROXIES is the client. So a
    client that connects directly is REMOTE_ADDR whatever it claims, and what a client
    writes into the header itself (left of what our proxies appended) is never reached.
    A malformed entry ends the walk at the proxy that passed it on; a chain of our own
    proxies ends at its left-most."""
    remote = request.META.get("REMOTE_ADDR", "")
    address = _address(remote)
    if address is None:
        return remote or UNKNOWN_ADDRESS
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if _is_ours(address, networks):
        for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            hop = _address(entry)
            if hop is None:
                break
            address = hop
            if not _is_ours(address, networks):
                break
    return str(address)


def client_network(request: HttpRequest) -> str:
    """The client's address as a per-IP limit counts it (see `address_network`)."""
    return address_network(client_ip(request))


def address_network(address: str) -> str:
    """An address as a rate-limit bucket name: IPv6 by /64, since one subscriber usually
    holds a whole /64 and could otherwise take a fresh bucket per request; IPv4 as is."""
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(parsed)


def _address(entry: str) -> IPAddress | None:
    """One X-Forwarded-For entry or REMOTE_ADDR as an address (IPv4-mapped IPv6 as IPv4);
    a port some proxies append (`192.0.2.1:443`, `[2001:db8::1]:443`) is dropped; None
    for anything else (`unknown`, obfuscated identifiers, garbage)."""
    entry = entry.strip()
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_ours(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


@functools.cache
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)
