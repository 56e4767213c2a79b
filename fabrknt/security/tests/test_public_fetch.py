"""Fetching from a host a customer named: public addresses only, the address that was
checked and no other, one deadline, a capped body, same-origin redirects only. Against a
real HTTP server on 127.0.0.1 (allowed only with allow_private, as in development)."""

from __future__ import annotations

import ipaddress
import time

import pytest

from fabrknt.security.public_fetch import (
    FetchRefused,
    address_is_public,
    checked_address,
    embedded_ipv4,
    public_get,
)
from fabrknt.security.tests.local_site import Route

NAME = "site.example.com"


@pytest.fixture
def site(local_site, fake_dns):
    fake_dns.answers[NAME] = ["127.0.0.1"]
    local_site.routes["/file.txt"] = Route(body=b"hello\n")
    return local_site


def _get(site, path: str = "/file.txt", **options):
    # A deadline generous enough for a loaded CI host; the deadline's own test sets a short one.
    options = {"timeout": 5.0, "max_bytes": 64, "allow_private": True, **options}
    return public_get(f"http://{NAME}:{site.port}{path}", **options)


def test_a_get_returns_status_body_and_url(site):
    result = _get(site)
    assert (result.status, result.body) == (200, b"hello\n")
    assert result.url == f"http://{NAME}:{site.port}/file.txt"
    assert site.requests == [("/file.txt", f"{NAME}:{site.port}")]


def test_without_allow_private_loopback_is_refused_before_connecting(site, fake_dns):
    with pytest.raises(FetchRefused, match=f"^{NAME} resolves to 127.0.0.1, which is not a public"):
        _get(site, allow_private=False)
    assert (site.connections, site.requests) == (0, [])


def test_the_host_is_resolved_once_and_the_checked_address_is_used(site, fake_dns):
    # A rebinding name server: the first answer is checked; a second lookup would get
    # another address (where nothing listens), so passing proves there was none.
    fake_dns.answers[NAME] = [["127.0.0.1"], ["127.0.0.2"]]
    site.routes["/file.txt"] = Route(status=302, headers={"Location": "/moved.txt"})
    site.routes["/moved.txt"] = Route(body=b"moved\n")

    assert _get(site, max_redirects=1).body == b"moved\n"
    assert fake_dns.lookups == [NAME]


@pytest.mark.parametrize(
    "location",
    [
        "https://site.example.com/file.txt",  # another scheme
        "http://site.example.com:1/file.txt",  # another port
        "http://127.0.0.1/file.txt",  # another host, even one that resolves the same
        "//elsewhere.example/file.txt",
    ],
)
def test_a_redirect_off_the_origin_is_refused_unfollowed(site, fake_dns, location):
    site.routes["/file.txt"] = Route(status=302, headers={"Location": location})
    with pytest.raises(FetchRefused, match="redirects to another host"):
        _get(site, max_redirects=2)
    assert len(site.requests) == 1
    assert fake_dns.lookups == [NAME]


def test_redirects_beyond_the_allowance_are_refused(site):
    site.routes["/file.txt"] = Route(status=301, headers={"Location": "/file.txt"})
    with pytest.raises(FetchRefused, match=r"^too many redirects \(at most 1 are followed\)$"):
        _get(site, max_redirects=1)
    assert len(site.requests) == 2
    with pytest.raises(FetchRefused, match=r"^too many redirects \(at most 0 are followed\)$"):
        _get(site)
    assert len(site.requests) == 3


def test_one_deadline_covers_the_whole_exchange(site):
    site.routes["/file.txt"] = Route(body=b"x" * 20, drip_seconds=0.1)  # 2 s in all
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer in time"):
        _get(site, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_proxies_from_the_environment_are_not_used(site, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing there
    assert _get(site).body == b"hello\n"


@pytest.mark.parametrize("url", ["ftp://site.example.com/x", "file:///etc/passwd", "/relative"])
def test_only_http_urls_are_fetched(url):
    with pytest.raises(FetchRefused, match="only http and https"):
        public_get(url, timeout=0.5, max_bytes=64, allow_private=True)


def test_an_unknown_name_is_refused(fake_dns):
    with pytest.raises(FetchRefused, match="^nowhere.example could not be resolved$"):
        public_get("https://nowhere.example/x", timeout=0.5, max_bytes=64)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "192.0.0.1",
        "198.18.0.1",
        "127.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::808:808",  # NAT64 prefix: reserved itself
    ],
)
def test_non_public_addresses_are_refused(address):
    assert address_is_public(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address):
    assert address_is_public(ipaddress.ip_address(address)) is True


def test_embedded_ipv4_addresses_are_found():
    assert str(embedded_ipv4(ipaddress.ip_address("::ffff:10.1.2.3"))) == "10.1.2.3"
    assert str(embedded_ipv4(ipaddress.ip_address("2002:a00:1::"))) == "10.0.0.1"
    assert str(embedded_ipv4(ipaddress.ip_address("64:ff9b::a00:1"))) == "10.0.0.1"
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1")) is None


def test_a_name_with_any_non_public_address_is_refused_whole(fake_dns):
    # Resolved only, never connected to: the check comes before any connection.
    fake_dns.answers["mixed.example"] = ["93.184.215.14", "10.0.0.5"]
    with pytest.raises(FetchRefused, match="resolves to 10.0.0.5, which is not a public"):
        checked_address("mixed.example", 443, allow_private=False)
    fake_dns.answers["public.example"] = ["2606:4700::1", "93.184.215.14"]
    assert str(checked_address("public.example", 443, allow_private=False)) == "2606:4700::1"
