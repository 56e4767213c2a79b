"""The operators' IP rules (the admin's IpRule list) exported to the edge's WAF IP sets.

The deployment (deploy/aws, fabrknt_aws/waf.py) creates four IP sets per WAF scope (allow
and block, IPv4 and IPv6: a WAF IP set holds one version) named by `waf_ip_set_name`, and
its allow and block rules reference them; `manage.py export_waf_ip_sets` replaces their
addresses with the enabled rules, so a network blocked in the admin is refused at the
edge before it reaches the application too.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fabrknt.security.models import IpRule

SCOPES = ("CLOUDFRONT", "REGIONAL")
VERSIONS = (4, 6)


def waf_ip_set_name(*, scope: str, action: str, version: int) -> str:
    return f"fabrknt-{scope.lower()}-{action}-ipv{version}"


def ip_rule_networks() -> dict[tuple[str, int], list[str]]:
    """The enabled rules' networks by (action, IP version), each list sorted."""
    networks: dict[tuple[str, int], list[str]] = {
        (action, version): [] for action in IpRule.Action.values for version in VERSIONS
    }
    for action, cidr in IpRule.objects.filter(enabled=True).values_list("action", "cidr"):
        networks[(action, ipaddress.ip_network(cidr).version)].append(cidr)
    return {key: sorted(values) for key, values in networks.items()}


def _ip_set_ids(client: Any, scope: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    kwargs: dict[str, Any] = {"Scope": scope, "Limit": 100}
    while True:
        page = client.list_ip_sets(**kwargs)
        ids.update({item["Name"]: item["Id"] for item in page.get("IPSets", [])})
        if not page.get("NextMarker") or not page.get("IPSets"):
            return ids
        kwargs["NextMarker"] = page["NextMarker"]


def ip_rules_export_to_waf(*, client: Any, scope: str) -> dict[str, int]:
    """Replaces the addresses of `scope`'s four IP sets with the enabled rules; returns the
    number of networks written to each set, by name. A missing set is a LookupError
    (nothing is written then)."""
    ids = _ip_set_ids(client, scope)
    networks = ip_rule_networks()
    names = {
        waf_ip_set_name(scope=scope, action=action, version=version): (action, version)
        for action, version in networks
    }
    missing = sorted(set(names) - set(ids))
    if missing:
        raise LookupError(f"No WAF IP set named {', '.join(missing)} in scope {scope}")
    written = {}
    for name, key in names.items():
        lock_token = client.get_ip_set(Name=name, Scope=scope, Id=ids[name])["LockToken"]
        client.update_ip_set(
            Name=name, Scope=scope, Id=ids[name], Addresses=networks[key], LockToken=lock_token
        )
        written[name] = len(networks[key])
    return written
