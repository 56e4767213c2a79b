"""GET a small resource from a host a customer named, without becoming their proxy into
our network (SSRF).

The host is resolved once, here, and every address it resolves to must be public: not
loopback, private, shared (CGNAT), link-local, multicast, reserved or unspecified, nor an
IPv6 address that embeds one of those (IPv4-mapped, 6to4, NAT64). curl is then pinned to
the address that was checked (`RESOLVE`), so it makes no second DNS lookup that an
attacker's name server could answer differently (DNS rebinding), and its open-socket hook
refuses any other address. One deadline covers the whole exchange, the body is capped,
no proxy from the environment is used, compressed answers are not asked for, and
redirects are followed only within the same origin (scheme, host and port), at most
`max_redirects` times.

`allow_private` exists for development and tests only (a local HTTP server); the settings
refuse it outside development.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import pycurl

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Fabrknt-Verification/1.0"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are IPv4.
_NAT64_NETWORKS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The resource could not be fetched safely, or at all; `str()` says why, in words
    fit to show the customer who named the host."""


@dataclass(frozen=True)
class FetchResult:
    status: int
    body: bytes
    url: str  # the URL that answered (after same-origin redirects)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64_NETWORKS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """Whether `address`, and any IPv4 address it embeds, is a public unicast address.
    An IPv4-mapped address is the IPv4 address it maps, and judged as such."""
    inner = embedded_ipv4(address)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    candidates = [address] if inner is None or inner == address else [address, inner]
    return all(
        candidate.is_global
        and not (
            candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        )
        for candidate in candidates
    )


def host_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to for TCP, in the resolver's order (one lookup)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchRefused(f"{host} could not be resolved") from error
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchRefused(f"{host} could not be resolved")
    return addresses


def checked_address(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """The address to connect to: the first `host` resolves to, once every address it
    resolves to has been found public (a name that also points inside is refused whole)."""
    addresses = host_addresses(host, port)
    if not allow_private:
        for address in addresses:
            if not address_is_public(address):
                raise FetchRefused(f"{host} resolves to {address}, which is not a public address")
    return addresses[0]


def public_get(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    max_redirects: int = 0,
    allow_private: bool = False,
) -> FetchResult:
    """GET `url` within `timeout` seconds in all, from a public address only; a body over
    `max_bytes` or a redirect off the origin is refused. Any HTTP status is returned."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise FetchRefused("only http and https URLs can be fetched")
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    address = checked_address(host, port, allow_private=allow_private)
    deadline = time.monotonic() + timeout
    for _hop in range(max_redirects + 1):
        status, body, location = _get_once(
            url, host=host, port=port, address=address, deadline=deadline, max_bytes=max_bytes
        )
        if status not in REDIRECT_STATUSES or not location:
            return FetchResult(status=status, body=body, url=url)
        target = urljoin(url, location)
        if not _same_origin(url, target):
            shown = urlsplit(target).hostname or target
            raise FetchRefused(f"{url} redirects to another host ({shown}); serve the file itself")
        url = target
    raise FetchRefused(f"too many redirects (at most {max_redirects} are followed)")


def _same_origin(url: str, target: str) -> bool:
    first, second = urlsplit(url), urlsplit(target)
    try:
        return (first.scheme, first.hostname, first.port or _DEFAULT_PORTS[first.scheme]) == (
            second.scheme,
            second.hostname,
            second.port or _DEFAULT_PORTS.get(second.scheme),
        )
    except ValueError:  # a port that does not parse
        return False


def _get_once(
    url: str, *, host: str, port: int, address: IPAddress, deadline: float, max_bytes: int
) -> tuple[int, bytes, str]:
    """One GET over a connection to `address`: (status, body, Location header or "")."""
    remaining_ms = int((deadline - time.monotonic()) * 1000)
    if remaining_ms <= 0:
        raise FetchRefused("no answer in time")
    body = bytearray()
    too_large = False

    def write(chunk: bytes) -> int | None:
        nonlocal too_large
        if len(body) + len(chunk) > max_bytes:
            too_large = True
            return 0  # anything but len(chunk) makes curl abort the transfer
        body.extend(chunk)
        return None

    def open_socket(_purpose: int, curl_address: tuple) -> socket.socket | int:
        family, socktype, protocol, sockaddr = curl_address
        if ipaddress.ip_address(sockaddr[0]) != address:
            return pycurl.SOCKET_BAD  # never anything but the address we checked
        return socket.socket(family, socktype, protocol)

    curl = pycurl.Curl()
    try:
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.PROXY, "")
        curl.setopt(pycurl.NOPROXY, "*")
        shown_address = f"[{address}]" if address.version == 6 else str(address)
        curl.setopt(pycurl.RESOLVE, [f"{host}:{port}:{shown_address}"])
        curl.setopt(pycurl.OPENSOCKETFUNCTION, open_socket)
        curl.setopt(pycurl.TIMEOUT_MS, remaining_ms)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, remaining_ms)
        curl.setopt(pycurl.MAXFILESIZE, max_bytes)
        curl.setopt(pycurl.WRITEFUNCTION, write)
        curl.setopt(pycurl.CAINFO, certifi.where())
        curl.setopt(pycurl.USERAGENT, USER_AGENT)
        curl.perform()
        status = curl.getinfo(pycurl.RESPONSE_CODE)
        location = curl.getinfo(pycurl.REDIRECT_URL) or ""
    except pycurl.error as error:
        code, message = error.args[0], str(error.args[-1])
        if too_large or code == pycurl.E_FILESIZE_EXCEEDED:
            raise FetchRefused(f"the answer is larger than {max_bytes} bytes") from error
        raise FetchRefused(_curl_failure(code, message, host=host)) from error
    finally:
        curl.close()
    return status, bytes(body), location


def _curl_failure(code: int | str, message: str, *, host: str) -> str:
    # `code` is libcurl's error number, or pycurl's message when it refused an argument.
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return f"{host} did not answer in time"
    if code == pycurl.E_COULDNT_CONNECT:
        return f"could not connect to {host}"
    if code in (pycurl.E_PEER_FAILED_VERIFICATION, pycurl.E_SSL_CONNECT_ERROR):
        return f"no valid TLS connection to {host} ({message})"
    return f"the request to {host} failed ({message})"
