"""The landing-domain back office: list, filter, search, and a re-check that runs the same
check as the API, after commit, for operators who may change domains only."""

from __future__ import annotations

import pytest
from celery.signals import task_prerun
from django.contrib.auth.models import Permission

from accounts.tests.factories import OrganizationFactory, UserFactory
from fabrknt.security.tests.local_site import Route
from trace.models import LandingDomain
from trace.services.domains import VERIFICATION_PATH
from trace.tests.factories import LandingDomainFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/trace/landingdomain/"


@pytest.fixture
def domains():
    organization = OrganizationFactory(name="Acme")
    return (
        LandingDomainFactory(
            organization=organization, domain="shop.example.com", verified_at=None
        ),
        LandingDomainFactory(organization=organization, domain="acme.example"),
        LandingDomainFactory(domain="other.example"),
    )


def _listed(response) -> list[str]:
    return sorted(row.domain for row in response.context["cl"].result_list)


def test_the_changelist_filters_and_searches(admin_client, domains):
    assert _listed(admin_client.get(CHANGELIST)) == [
        "acme.example",
        "other.example",
        "shop.example.com",
    ]
    assert _listed(admin_client.get(f"{CHANGELIST}?verified=no")) == ["shop.example.com"]
    assert _listed(admin_client.get(f"{CHANGELIST}?verified=yes")) == [
        "acme.example",
        "other.example",
    ]
    assert _listed(admin_client.get(f"{CHANGELIST}?q=acme")) == ["acme.example", "shop.example.com"]


def test_domains_are_not_added_or_edited_by_hand(admin_client, domains):
    pending = domains[0]
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    admin_client.post(
        f"{CHANGELIST}{pending.pk}/change/", {"domain": "evil.example", "verified_at": "2026-01-01"}
    )
    pending.refresh_from_db()
    assert (pending.domain, pending.verified_at) == ("shop.example.com", None)


def test_recheck_runs_the_check_after_commit(
    admin_client, domains, local_verification, django_capture_on_commit_callbacks
):
    pending, verified, _other = domains
    local_verification.routes[VERIFICATION_PATH] = Route(body=pending.token.encode())
    runs = []

    def record(sender=None, kwargs=None, **_):
        runs.append((sender.name, dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            response = admin_client.post(
                CHANGELIST, {"action": "recheck", "_selected_action": [pending.pk, verified.pk]}
            )
        assert runs == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        task_prerun.disconnect(record)

    assert response.status_code == 302
    assert sorted(runs, key=str) == sorted(
        (("trace.check_landing_domain", {"landing_domain_id": str(row.pk)}) for row in domains[:2]),
        key=str,
    )
    pending.refresh_from_db()
    verified.refresh_from_db()
    assert pending.verified_at is not None
    # acme.example is not the local site's name: the fake DNS knows nothing of it.
    assert (verified.verified_at, verified.last_error) == (
        None,
        "acme.example could not be resolved",
    )


def test_recheck_needs_the_change_permission(client, domains):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_landingdomain"))
    client.force_login(viewer)

    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert 'value="recheck"' not in response.content.decode()
    before = list(LandingDomain.objects.values_list("pk", "last_checked_at", "verified_at"))

    client.post(CHANGELIST, {"action": "recheck", "_selected_action": [domains[0].pk]})

    assert list(LandingDomain.objects.values_list("pk", "last_checked_at", "verified_at")) == before
