"""Redis down: every API-key request is still answered (2xx/4xx, never 5xx) from the
database and a per-process limiter, clicks go straight to the database, /readyz says
"degraded"; and when Redis is back, the platform uses it again.

Against a real redis-server that each test starts on its own port and stops (the
`redis_server` fixture), never the machine's shared one."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import ApiKey, Role
from accounts.services.api_keys import api_key_authenticate, api_key_issue, api_key_revoke
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from trace.models import Click, Project
from trace.selectors import campaign_realtime_clicks
from trace.services.clicks.flush import clicks_flush
from trace.tests.factories import CampaignFactory, LandingDomainFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
BACKOFF = 0.3  # seconds a process keeps to its fallbacks after Redis failed


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.REDIS_BACKOFF_SECONDS = BACKOFF
    settings.CELERY_BROKER_URL = ""  # no broker: readiness is about the cache here
    yield


class Platform:
    """An organization with a campaign, its read, write and ingest keys, and the calls
    each kind of caller makes."""

    def __init__(self) -> None:
        self.organization = OrganizationFactory()
        project = ProjectFactory(organization=self.organization)
        self.campaign = CampaignFactory(project=project, landing_url="https://app.example/")
        LandingDomainFactory(organization=self.organization, domain="app.example")
        self.keys = {
            scope: api_key_issue(organization=self.organization, name=scope, scopes=[scope]).key
            for scope in ("read", "write", "ingest")
        }
        self.accepted: list[str] = []  # click ids the platform answered 2xx for

    def client(self, scope: str | None = None) -> Client:
        headers = {"HTTP_X_API_KEY": self.keys[scope]} if scope else {}
        return Client(raise_request_exception=False, **headers)

    def post(self, scope: str, path: str, body: dict):
        return self.client(scope).post(path, body, content_type="application/json")

    def serve(self, phase: str) -> dict[str, int]:
        """Every kind of API-key call (and the anonymous ones beside them); their statuses."""
        campaign = str(self.campaign.pk)
        statuses = {
            "read": self.client("read").get("/api/v1/projects").status_code,
            "write": self.post(
                "write",
                "/api/v1/projects",
                {
                    "organization": str(self.organization.pk),
                    "name": phase,
                    "chain": "eip155:1",
                    "contract_addresses": [WALLET],
                },
            ).status_code,
        }
        # The first click takes the full path and holds the key; the second the held path.
        for number in range(2):
            click_id = f"{phase}-single-{number}"
            response = self.post(
                "ingest", "/api/v1/clicks", {"campaign_id": campaign, "click_id": click_id}
            )
            statuses[f"click {number}"] = response.status_code
            if response.status_code == 202:
                self.accepted.append(click_id)
        batch = [{"campaign_id": campaign, "click_id": f"{phase}-batch-{n}"} for n in range(3)]
        response = self.post("ingest", "/api/v1/clicks/batch", {"clicks": batch})
        statuses["batch"] = response.status_code
        if response.status_code == 202:
            self.accepted += response.json()["accepted"]
        response = self.client().get(f"/t/{campaign}", REMOTE_ADDR="198.51.100.7")
        statuses["tracking link"] = response.status_code
        if response.status_code == 302:
            self.accepted += parse_qs(urlparse(response["Location"]).query)["fab_click"]
        statuses["sign-in nonce"] = self.client().get("/api/v1/auth/nonce").status_code
        for click_id in (f"{phase}-single-0", "never-stored"):
            statuses[f"identify {click_id}"] = self.post(
                "ingest", "/api/v1/identify", {"click_id": click_id, "wallet_address": WALLET}
            ).status_code
        return statuses


def expected(phase: str) -> dict[str, int]:
    return {
        "read": 200,
        "write": 201,
        "click 0": 202,
        "click 1": 202,
        "batch": 202,
        "tracking link": 302,
        "sign-in nonce": 200,
        f"identify {phase}-single-0": 200,
        "identify never-stored": 404,
    }


def _readiness(client: Client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()


def test_api_key_requests_are_served_through_a_redis_outage(redis_server):
    platform = Platform()
    probe = Client(raise_request_exception=False)

    assert platform.serve("up") == expected("up")
    assert _readiness(probe) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "not configured"}},
    )
    clicks_flush()  # what the workers do before Redis goes (the stream dies with it)

    redis_server.stop()
    started = time.monotonic()
    down = platform.serve("down")
    elapsed = time.monotonic() - started

    assert down == expected("down")
    assert _readiness(probe) == (
        200,
        {
            "status": "degraded",
            "down": ["cache"],
            "checks": {"database": "ok", "cache": "down", "broker": "not configured"},
        },
    )
    # Accepted while Redis was down: already in the database, no flush needed.
    assert Click.objects.filter(click_id__startswith="down-").count() == 5
    assert Click.objects.filter(campaign=platform.campaign).count() == 12
    assert Project.objects.filter(name="down").count() == 1
    assert elapsed < 5  # a refused connection fails fast (the hung case: the next test)

    redis_server.start()
    time.sleep(BACKOFF)

    assert platform.serve("again") == expected("again")
    assert _readiness(probe)[1]["status"] == "ok"
    # Through Redis again: its (new, empty) real-time counters count this phase's clicks.
    counted = campaign_realtime_clicks(campaign_id=str(platform.campaign.pk), day=datetime.now(UTC))
    assert counted.clicks + counted.bot_hits == 6
    clicks_flush()
    stored = list(Click.objects.values_list("click_id", flat=True))
    assert len(platform.accepted) == 18
    assert sorted(stored) == sorted(platform.accepted)  # each accepted click, exactly once


def test_a_hung_redis_costs_one_timeout_per_back_off_not_one_per_request(redis_server, settings):
    settings.REDIS_BACKOFF_SECONDS = 30
    platform = Platform()
    reader = platform.client("read")
    assert reader.get("/api/v1/projects").status_code == 200

    redis_server.pause()  # accepts connections, never answers: every call waits for its timeout
    timings = []
    for _ in range(5):
        started = time.monotonic()
        status = reader.get("/api/v1/projects").status_code
        timings.append((status, time.monotonic() - started))

    assert [status for status, _ in timings] == [200] * 5
    # The first request waits for one socket timeout (2 s), then this process stops asking
    # (before: every request waited for two, the IP rules' and the key's, and answered 500).
    assert timings[0][1] < 3.5
    assert max(seconds for _, seconds in timings[1:]) < 1.0  # well under one timeout


def test_rate_limits_still_limit_while_redis_is_down(redis_server, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "sign_in": 2,
        "api_key": 3,
        "ingest": 3,
        "tracking_link": 1,
    }
    platform = Platform()
    campaign = str(platform.campaign.pk)
    redis_server.stop()

    nonces = [platform.client().get("/api/v1/auth/nonce") for _ in range(3)]
    reads = [platform.client("read").get("/api/v1/projects") for _ in range(4)]
    clicks = [
        platform.post("ingest", "/api/v1/clicks", {"campaign_id": campaign, "click_id": f"c{n}"})
        for n in range(4)
    ]
    visits = [platform.client().get(f"/t/{campaign}").status_code for _ in range(2)]

    assert [response.status_code for response in nonces] == [200, 200, 429]
    assert [response.status_code for response in reads] == [200, 200, 200, 429]
    assert [response.status_code for response in clicks] == [202, 202, 202, 429]
    assert all(1 <= int(r["Retry-After"]) <= 60 for r in (nonces[-1], reads[-1], clicks[-1]))
    assert visits == [302, 302]  # the visitor always lands; the second visit is not recorded
    api_clicks = Click.objects.filter(click_id__in=["c0", "c1", "c2", "c3"])
    assert sorted(api_clicks.values_list("click_id", flat=True)) == ["c0", "c1", "c2"]
    assert Click.objects.count() == 3 + 1


def test_a_key_is_revoked_while_redis_is_down(redis_server):
    platform = Platform()
    owner = MembershipFactory(organization=platform.organization, role=Role.OWNER).user
    reader = platform.client("read")
    assert reader.get("/api/v1/projects").status_code == 200
    key = ApiKey.objects.get(name="read")
    redis_server.stop()

    response = Client(
        raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}"
    ).delete(f"/api/v1/organizations/{platform.organization.pk}/api-keys/{key.pk}")

    assert response.status_code == 204
    assert reader.get("/api/v1/projects").status_code == 401
    redis_server.start()
    time.sleep(BACKOFF)
    assert reader.get("/api/v1/projects").status_code == 401


def test_a_revocation_that_missed_redis_reaches_it_once_it_answers(redis_server, settings):
    # Redis unreachable from the revoking process only (a partition): the other processes
    # still find the key's entry there. The revocation must reach it afterwards.
    platform = Platform()
    revoked, other = platform.keys["read"], platform.keys["write"]
    assert api_key_authenticate(key=revoked) is not None  # cached in Redis
    entry = f"apikey:v2:{ApiKey.prefix_of(revoked)}"
    reachable = settings.CACHES
    settings.CACHES = {"default": {**reachable["default"], "LOCATION": "redis://127.0.0.1:1/0"}}

    assert api_key_revoke(api_key=ApiKey.objects.get(name="read")) is True

    settings.CACHES = reachable
    assert cache.get(entry) is not None  # what every other process would still trust
    time.sleep(BACKOFF)
    assert api_key_authenticate(key=other) is not None  # this process's next key lookup
    assert cache.get(entry) is None
    assert api_key_authenticate(key=revoked) is None


def test_a_crashed_redis_comes_back_with_the_clicks_not_flushed_yet(redis_server, settings):
    """As production runs it (deploy/docker-compose.yml): an append-only file, the broker on
    the same server. Killed before the flush read its stream, Redis comes back with those
    clicks; those accepted meanwhile went to the database; each is stored once."""
    redis_server.stop()
    redis_server.appendonly = True
    redis_server.start()
    settings.CELERY_BROKER_URL = redis_server.url(1)
    platform = Platform()
    probe = Client(raise_request_exception=False)
    assert platform.serve("up") == expected("up")  # its identify flushed the stream
    unflushed = [
        {"campaign_id": str(platform.campaign.pk), "click_id": f"unflushed-{n}"} for n in range(5)
    ]
    answer = platform.post("ingest", "/api/v1/clicks/batch", {"clicks": unflushed})
    assert answer.status_code == 202
    platform.accepted += answer.json()["accepted"]

    redis_server.kill()  # before any flush: five clicks are in the stream alone
    down = platform.serve("down")
    readiness = _readiness(probe)

    assert down == expected("down")
    assert readiness == (
        200,
        {
            "status": "degraded",
            "down": ["cache", "broker"],
            "checks": {"database": "ok", "cache": "down", "broker": "down"},
        },
    )
    assert not Click.objects.filter(click_id__startswith="unflushed-").exists()

    redis_server.start()
    time.sleep(BACKOFF)
    flushed = clicks_flush()

    assert (flushed.read, flushed.inserted, flushed.duplicates) == (5, 5, 0)
    assert platform.serve("again") == expected("again")
    assert _readiness(probe)[1]["status"] == "ok"
    clicks_flush()
    assert len(platform.accepted) == 23
    stored = list(Click.objects.values_list("click_id", flat=True))
    assert sorted(stored) == sorted(platform.accepted)  # each accepted click, exactly once
