"""IP allow and block lists: 403 for blocked networks, allow wins, edits apply at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.tests.factories import UserFactory
from fabrknt.security.models import IpRule
from fabrknt.security.selectors import ip_rules_active
from fabrknt.security.services import ip_rules_delete, ip_rules_set_enabled

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.security.tests.urls")]

BLOCKED = {"detail": "Requests from your network are blocked.", "code": "ip_blocked"}


def get_page(client, address: str, **extra):
    return client.get("/page", REMOTE_ADDR=address, **extra)


def test_blocked_network_is_403_json(client):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    response = get_page(client, "203.0.113.9")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == BLOCKED
    assert get_page(client, "198.51.100.1").status_code == 200


def test_blocked_post_stores_nothing(client):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    response = client.post(
        "/api/v1/rules",
        {"cidr": "10.0.0.0/8"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 403
    assert list(IpRule.objects.values_list("cidr", flat=True)) == ["203.0.113.0/24"]


def test_allow_rule_wins_over_block_rule(client):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    IpRule.objects.create(cidr="203.0.113.9", action=IpRule.Action.ALLOW, note="office")

    assert get_page(client, "203.0.113.9").status_code == 200
    assert get_page(client, "203.0.113.10").status_code == 403


def test_allow_rule_alone_does_not_lock_out_everyone_else(client):
    IpRule.objects.create(cidr="203.0.113.9", action=IpRule.Action.ALLOW)

    assert get_page(client, "198.51.100.1").status_code == 200


def test_disabled_rule_does_nothing(client):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK, enabled=False)

    assert get_page(client, "203.0.113.9").status_code == 200


def test_ipv6_network_and_ipv4_mapped_address(client):
    IpRule.objects.create(cidr="2001:DB8::/32", action=IpRule.Action.BLOCK)
    IpRule.objects.create(cidr="192.0.2.0/24", action=IpRule.Action.BLOCK)

    assert get_page(client, "2001:db8::1").status_code == 403
    assert get_page(client, "::ffff:192.0.2.7").status_code == 403
    assert get_page(client, "2001:db9::1").status_code == 200
    assert IpRule.objects.get(action="block", cidr__startswith="2001").cidr == "2001:db8::/32"


def test_client_address_comes_from_the_trusted_proxy_hop(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    # The left-most entry is whatever the client claimed; only our proxy's is trusted.
    spoofed = get_page(client, "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    honest = get_page(client, "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")

    assert spoofed.status_code == 403
    assert honest.status_code == 200


def test_saving_and_deleting_a_rule_applies_at_once(client):
    assert get_page(client, "203.0.113.9").status_code == 200  # caches the empty rule set

    rule = IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    assert get_page(client, "203.0.113.9").status_code == 403

    rule.enabled = False
    rule.save()
    assert get_page(client, "203.0.113.9").status_code == 200

    rule.enabled = True
    rule.save()
    assert get_page(client, "203.0.113.9").status_code == 403

    rule.delete()
    assert get_page(client, "203.0.113.9").status_code == 200


def test_rules_are_read_from_the_cache(django_assert_num_queries):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    with django_assert_num_queries(1):
        first = ip_rules_active()
    with django_assert_num_queries(0):
        second = ip_rules_active()

    assert first.verdict("203.0.113.1") == second.verdict("203.0.113.1") == "block"


def test_bulk_services_drop_the_cached_rules(client):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    assert get_page(client, "203.0.113.9").status_code == 403

    assert ip_rules_set_enabled(rules=IpRule.objects.all(), enabled=False) == 1
    assert get_page(client, "203.0.113.9").status_code == 200

    assert ip_rules_set_enabled(rules=IpRule.objects.all(), enabled=True) == 1
    assert get_page(client, "203.0.113.9").status_code == 403

    assert ip_rules_delete(rules=IpRule.objects.all()) == 1
    assert get_page(client, "203.0.113.9").status_code == 200
    assert IpRule.objects.count() == 0


@pytest.mark.parametrize("cidr", ["10.0.0.300", "10.0.0.5/8", "example.com", "", "2001:db8::/129"])
def test_invalid_network_is_refused(cidr):
    rule = IpRule(cidr=cidr, action=IpRule.Action.BLOCK)

    with pytest.raises(ValidationError):
        rule.full_clean()
    with pytest.raises(ValidationError):
        rule.save()
    assert IpRule.objects.count() == 0


def test_same_network_and_action_twice_is_refused():
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)

    with pytest.raises(IntegrityError):
        IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)


@pytest.fixture
def admin_client_for_staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_adds_a_rule_that_applies_at_once(admin_client_for_staff):
    client = admin_client_for_staff
    assert get_page(client, "203.0.113.9").status_code == 200

    response = client.post(
        "/admin/security/iprule/add/",
        {"cidr": "203.0.113.0/24", "action": "block", "note": "abuse", "enabled": "on"},
        REMOTE_ADDR="198.51.100.1",
    )

    assert response.status_code == 302
    assert list(IpRule.objects.values_list("cidr", "action", "note")) == [
        ("203.0.113.0/24", "block", "abuse")
    ]
    assert get_page(client, "203.0.113.9").status_code == 403


def test_admin_refuses_an_invalid_network(admin_client_for_staff):
    response = admin_client_for_staff.post(
        "/admin/security/iprule/add/",
        {"cidr": "10.0.0.300/24", "action": "block", "note": "", "enabled": "on"},
    )

    assert response.status_code == 200
    assert "is not an IP network" in response.content.decode()
    assert IpRule.objects.count() == 0


def test_admin_bulk_delete_applies_at_once(admin_client_for_staff):
    client = admin_client_for_staff
    rule = IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    assert get_page(client, "203.0.113.9").status_code == 403

    response = client.post(
        "/admin/security/iprule/",
        {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert IpRule.objects.count() == 0
    assert get_page(client, "203.0.113.9").status_code == 200


def test_admin_disable_action_applies_at_once(admin_client_for_staff):
    client = admin_client_for_staff
    rule = IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    assert get_page(client, "203.0.113.9").status_code == 403

    response = client.post(
        "/admin/security/iprule/", {"action": "disable_rules", "_selected_action": [rule.pk]}
    )

    assert response.status_code == 302
    assert IpRule.objects.get().enabled is False
    assert get_page(client, "203.0.113.9").status_code == 200


def test_cache_outage_falls_back_to_the_database(client, settings):
    IpRule.objects.create(cidr="203.0.113.0/24", action=IpRule.Action.BLOCK)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    assert get_page(client, "203.0.113.9").status_code == 403
    assert get_page(client, "198.51.100.1").status_code == 200
