"""`manage.py export_waf_ip_sets` against a real WAF-compatible API (moto's server mode,
started here on a free port): the enabled rules land in the four IP sets of each scope,
by action and IP version; a re-run replaces, never appends; a missing set writes nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import boto3
import pytest
import requests
from django.core.management import CommandError, call_command
from moto.server import ThreadedMotoServer

from fabrknt.security.models import IpRule
from fabrknt.security.waf import SCOPES, VERSIONS, waf_ip_set_name

pytestmark = [pytest.mark.django_db]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def waf(monkeypatch) -> Iterator[boto3.client]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_WAFV2", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield boto3.client("wafv2", region_name="us-east-1")
    # The server keeps its state in this process's moto backends: forget it.
    requests.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=5)
    server.stop()


def _create_sets(client, scope: str) -> dict[str, str]:
    ids = {}
    for action in ("allow", "block"):
        for version in VERSIONS:
            name = waf_ip_set_name(scope=scope, action=action, version=version)
            created = client.create_ip_set(
                Name=name, Scope=scope, IPAddressVersion=f"IPV{version}", Addresses=[]
            )
            ids[name] = created["Summary"]["Id"]
    return ids


def _addresses(client, scope: str, ids: dict[str, str]) -> dict[str, list[str]]:
    return {
        name: sorted(client.get_ip_set(Name=name, Scope=scope, Id=id_)["IPSet"]["Addresses"])
        for name, id_ in ids.items()
    }


def test_export_writes_enabled_rules_by_action_and_version(waf):
    ids = {scope: _create_sets(waf, scope) for scope in SCOPES}
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    IpRule.objects.create(cidr="2001:db8::/32", action=IpRule.Action.BLOCK)
    IpRule.objects.create(cidr="198.51.100.7", action=IpRule.Action.ALLOW)
    IpRule.objects.create(cidr="192.0.2.0/24", action=IpRule.Action.BLOCK, enabled=False)

    call_command("export_waf_ip_sets")

    for scope in SCOPES:
        assert _addresses(waf, scope, ids[scope]) == {
            f"fabrknt-{scope.lower()}-allow-ipv4": ["198.51.100.7/32"],
            f"fabrknt-{scope.lower()}-allow-ipv6": [],
            f"fabrknt-{scope.lower()}-block-ipv4": ["203.0.113.0/24"],
            f"fabrknt-{scope.lower()}-block-ipv6": ["2001:db8::/32"],
        }

    # A rule removed in the admin leaves the edge at the next export.
    IpRule.objects.filter(cidr="203.0.113.0/24").delete()
    call_command("export_waf_ip_sets", "--scope", "REGIONAL")
    assert _addresses(waf, "REGIONAL", ids["REGIONAL"])["fabrknt-regional-block-ipv4"] == []
    assert _addresses(waf, "CLOUDFRONT", ids["CLOUDFRONT"])["fabrknt-cloudfront-block-ipv4"] == [
        "203.0.113.0/24"
    ]


def test_a_missing_ip_set_writes_nothing(waf):
    ids = _create_sets(waf, "REGIONAL")
    name = "fabrknt-regional-allow-ipv6"
    lock = waf.get_ip_set(Name=name, Scope="REGIONAL", Id=ids[name])["LockToken"]
    waf.delete_ip_set(Name=name, Scope="REGIONAL", Id=ids.pop(name), LockToken=lock)
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    with pytest.raises(CommandError, match="fabrknt-regional-allow-ipv6"):
        call_command("export_waf_ip_sets", "--scope", "REGIONAL")
    assert all(addresses == [] for addresses in _addresses(waf, "REGIONAL", ids).values())
