"""What each read endpoint and page costs: SQL queries and Redis round trips, pinned.

One table (COSTS) holds every expected figure, so a change that adds a query or a round
trip to a read shows up here as one changed number. Each figure is the steady state: the
request is made once to warm the process (scripts loaded, IP rules and keys held,
connections open), then measured. Queries are Django's (CaptureQueriesContext); Redis round
trips are counted where redis-py writes to its socket (one write per command, one per
pipeline), against the real Redis of REDIS_URL.

Authentication plus rate limiting on an API read costs one Redis round trip at most
(issue 10): a key this process holds is confirmed not revoked by the same Lua script that
takes the rate-limit token.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.connection import AbstractConnection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    ProjectFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


# (who, path template): (SQL queries, Redis round trips). `key` is an API key with the read
# scope (X-API-Key), `session` a signed-in owner's session cookie, `bearer` the owner's JWT,
# `anonymous` nobody.
# Paths name {campaign}, {project} and {organization}.
# A page's header wallet comes with the session's user (accounts.backends), no query of
# its own.
COSTS: dict[tuple[str, str], tuple[int, int]] = {
    ("anonymous", "/healthz"): (0, 0),
    ("anonymous", "/readyz"): (1, 2),
    ("key", "/api/v1/campaigns"): (2, 1),
    ("key", "/api/v1/campaigns/{campaign}"): (1, 1),
    ("key", "/api/v1/roi/{campaign}"): (1, 1),
    ("key", "/api/v1/metrics/{project}"): (2, 1),
    ("key", "/api/v1/projects"): (3, 1),
    ("bearer", "/api/v1/campaigns/{campaign}"): (2, 1),
    ("bearer", "/api/v1/roi/{campaign}"): (2, 1),
    ("session", "/api/v1/campaigns"): (4, 1),
    ("session", "/api/v1/campaigns/{campaign}"): (3, 1),
    ("session", "/api/v1/roi/{campaign}"): (3, 1),
    ("session", "/api/v1/metrics/{project}"): (4, 1),
    ("session", "/api/v1/projects"): (5, 1),
    ("session", "/api/v1/organizations"): (4, 1),
    ("session", "/api/v1/organizations/{organization}/api-keys"): (6, 1),
    ("session", "/trace/"): (6, 0),
    # Referrers, UTM values and click quality from the day rollups and their breakdowns:
    # one statement (trace.selectors.campaign_click_sources), whatever the traffic.
    ("session", "/trace/campaigns/{campaign}/"): (9, 0),
    ("session", "/trace/projects/{project}/"): (13, 0),
    ("session", "/organizations/"): (3, 0),
    ("session", "/organizations/{organization}/"): (6, 0),
    # + each key's requests today against the daily quota: one MGET.
    ("session", "/organizations/{organization}/api-keys/"): (5, 1),
    ("session", "/account/"): (6, 0),  # + PULSE's linked identities section
}


@dataclass
class Cost:
    queries: int = 0
    round_trips: int = 0


@contextmanager
def redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cost]:
    """Counts what redis-py sends from this thread, the request's: one packed write per
    command or pipeline. (The metrics store's thread flushes on its own, once a second.)"""
    cost = Cost()
    send = AbstractConnection.send_packed_command
    requesting = threading.get_ident()

    def counting(self, command, check_health=True):
        if threading.get_ident() == requesting:
            cost.round_trips += 1
        return send(self, command, check_health)

    with monkeypatch.context() as patched:
        patched.setattr(AbstractConnection, "send_packed_command", counting)
        yield cost


@pytest.fixture
def world(db):
    """An organization with a project, 90 days of metrics and a campaign with clicks and
    conversions; its owner (signed in) and a read key."""
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    project = ProjectFactory(organization=organization)
    today = timezone.localdate()
    for days_ago in range(1, 91):
        ActivityMetricFactory(project=project, date=today - dt.timedelta(days=days_ago))
    campaign = CampaignFactory(project=project)
    for other in range(2):
        CampaignFactory(project=project, name=f"Other {other}")
    clicks = [
        ClickFactory(campaign=campaign, occurred_at=timezone.now() - dt.timedelta(days=n % 30))
        for n in range(20)
    ]
    for click in clicks[:3]:
        ConversionFactory(click=click)
    key = api_key_issue(organization=organization, name="costs", scopes=["read"]).key
    session = Client()
    session.force_login(owner)
    bearer = AccessToken.for_user(owner)
    callers: dict[str, Callable[[str], object]] = {
        "anonymous": Client().get,
        "key": lambda path: Client().get(path, HTTP_X_API_KEY=key),
        "session": session.get,
        "bearer": lambda path: Client().get(path, HTTP_AUTHORIZATION=f"Bearer {bearer}"),
    }
    names = {"campaign": campaign.pk, "project": project.pk, "organization": organization.pk}
    return callers, names


def measure(world, monkeypatch, who: str, template: str) -> Cost:
    callers, names = world
    get = callers[who]
    path = template.format(**names)
    for _ in range(2):  # the first looks an API key up and holds it, the second confirms it
        warm = get(path)
        assert warm.status_code == 200, (path, warm.status_code, warm.content[:300])
    with redis_round_trips(monkeypatch) as cost, CaptureQueriesContext(connection) as queries:
        response = get(path)
    assert response.status_code == 200, (path, response.status_code)
    cost.queries = len(queries.captured_queries)
    return cost


@pytest.mark.parametrize(("who", "template"), list(COSTS))
def test_request_cost(world, monkeypatch, who, template):
    cost = measure(world, monkeypatch, who, template)
    assert (cost.queries, cost.round_trips) == COSTS[(who, template)]
