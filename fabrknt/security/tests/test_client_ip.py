"""The client's address behind our proxies (TRUSTED_PROXIES), and the network a per-IP
limit counts it under."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from fabrknt.security.client_ip import address_network, client_ip, client_network

LOAD_BALANCER = "10.0.0.0/16"
LOAD_BALANCER_V6 = "2001:db8:ffff::/48"
CDN = "203.0.113.0/24"
OURS = [LOAD_BALANCER, LOAD_BALANCER_V6, CDN]


def request(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


# (what happened, REMOTE_ADDR, X-Forwarded-For, the client)
CHAINS = [
    ("direct", "198.51.100.7", None, "198.51.100.7"),
    ("direct, claiming an address", "198.51.100.7", "192.0.2.1", "198.51.100.7"),
    ("direct, claiming our proxy", "198.51.100.7", "10.0.1.5", "198.51.100.7"),
    ("load balancer", "10.0.1.5", "198.51.100.7", "198.51.100.7"),
    ("load balancer, spoofed left-most", "10.0.1.5", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
    ("load balancer, spoofed proxy", "10.0.1.5", "10.0.9.9, 198.51.100.7", "198.51.100.7"),
    ("CDN then load balancer", "10.0.1.5", "198.51.100.7, 203.0.113.10", "198.51.100.7"),
    (
        "CDN then load balancer, spoofed left-most",
        "10.0.1.5",
        "192.0.2.1, 10.0.9.9, 198.51.100.7, 203.0.113.10",
        "198.51.100.7",
    ),
    ("IPv6 client, IPv4 load balancer", "10.0.1.5", "2001:db8:1:2::7", "2001:db8:1:2::7"),
    ("IPv4 client, IPv6 load balancer", "2001:db8:ffff::2", "198.51.100.7", "198.51.100.7"),
    (
        "IPv6 client, CDN, IPv6 load balancer",
        "2001:db8:ffff::2",
        "2001:DB8:1:2::7, 203.0.113.10",
        "2001:db8:1:2::7",
    ),
    ("IPv4-mapped load balancer", "::ffff:10.0.1.5", "198.51.100.7", "198.51.100.7"),
    ("IPv4-mapped client", "10.0.1.5", "::ffff:198.51.100.7", "198.51.100.7"),
    ("IPv4 with a port", "10.0.1.5", "198.51.100.7:51234", "198.51.100.7"),
    ("IPv6 with a port", "10.0.1.5", "[2001:db8:1:2::7]:443", "2001:db8:1:2::7"),
    ("our proxy, no header", "10.0.1.5", None, "10.0.1.5"),
    ("only our proxies", "10.0.1.5", "203.0.113.10", "203.0.113.10"),
    ("malformed, next to our proxy", "10.0.1.5", "198.51.100.7, garbage", "10.0.1.5"),
    ("malformed, past the CDN", "10.0.1.5", "198.51.100.7, unknown, 203.0.113.10", "203.0.113.10"),
    ("malformed, left of the client", "10.0.1.5", "garbage, 198.51.100.7", "198.51.100.7"),
    ("empty entry", "10.0.1.5", "198.51.100.7, ", "10.0.1.5"),
    ("empty header", "10.0.1.5", "", "10.0.1.5"),
    ("no REMOTE_ADDR", "", "198.51.100.7", "0.0.0.0"),
]


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [case[1:] for case in CHAINS],
    ids=[case[0] for case in CHAINS],
)
def test_the_client_is_the_first_address_that_is_not_our_proxy(settings, remote, forwarded, client):
    settings.TRUSTED_PROXIES = OURS

    assert client_ip(request(remote, forwarded)) == client


@pytest.mark.parametrize(
    ("remote", "forwarded"),
    [("10.0.1.5", "198.51.100.7"), ("198.51.100.7", "192.0.2.1"), ("10.0.1.5", None)],
)
def test_without_trusted_proxies_the_header_is_ignored(settings, remote, forwarded):
    settings.TRUSTED_PROXIES = []

    assert client_ip(request(remote, forwarded)) == remote


def test_a_path_through_the_cdn_and_one_straight_to_the_load_balancer_agree(settings):
    settings.TRUSTED_PROXIES = OURS

    through_cdn = request("10.0.1.5", "198.51.100.7, 203.0.113.10")
    direct_to_the_load_balancer = request("10.0.1.5", "198.51.100.7")

    assert client_ip(through_cdn) == client_ip(direct_to_the_load_balancer) == "198.51.100.7"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2::7", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::7", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_per_ip_limits_count_ipv6_by_its_64(address, network):
    assert address_network(address) == network


def test_the_network_of_a_client_behind_our_proxies(settings):
    settings.TRUSTED_PROXIES = OURS

    assert client_network(request("10.0.1.5", "2001:db8:1:2::7")) == "2001:db8:1:2::/64"
