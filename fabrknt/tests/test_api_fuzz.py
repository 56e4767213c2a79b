"""A schemathesis sweep of the whole API: every operation in the schema served at
/api/v1/schema/ (accounts, TRACE, PULSE, FABRIC and the staff operations), with generated
valid and invalid input. An operation that authenticates callers is called as each of
them: anonymous, a member (owner) and an organization key with every scope at full depth
(MAX_EXAMPLES, the schema's examples and schemathesis' coverage cases); then a viewer, a
key of each single scope and a staff user (no member) with OTHER_CALLERS_MAX_EXAMPLES
generated examples each: what differs for them is who may pass, which a few requests
reach. An operation that authenticates no one is called once. No answer may be a 5xx,
and every answer must be one the schema documents: its status code, content type and
body.

The requests go to the WSGI application in-process (`fabrknt.wsgi.application`, the same
callable gunicorn serves, click ingest handler included) rather than a live server: each request
runs on the test's own database connection, so the organization, project and campaign a
test creates are visible without committing, every example is rolled back to the same
starting point, and there is no port, thread or HTTP parsing to pay for on two cores.

Examples are bounded (MAX_EXAMPLES per operation, a fixed seed, no example database), so
the sweep is repeatable in CI. A finding that has to wait for another change is best kept
as its own `xfail(strict=True)` test with the failing input, its check left out of that
operation here (`excluded_checks`): schemathesis' pytest plugin cannot report a strict
xfail of the items it generates once they pass (an INTERNALERROR in 4.32).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import RequestFactory
from django.urls import resolve
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.core import NotSet

from accounts.models import Role, Scope
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from fabric.tests.factories import ListingFactory
from fabrknt.wsgi import application
from pulse.discord.signature import relay_headers, relay_public_key_of
from pulse.tests.factories import TeamFactory
from pulse.tests.notion_server import Notion, notion_serving
from pulse.tests.oauth_provider import DISCORD_CLIENT
from trace.services.clicks.validation import campaign_cache_clear
from trace.tests.factories import CampaignFactory, ProjectFactory

pytestmark = pytest.mark.postgres

SCHEMA_PATH = "/api/v1/schema/"
MAX_EXAMPLES = 10
OTHER_CALLERS_MAX_EXAMPLES = 5
ALCHEMY_SIGNING_KEY = "fuzz-alchemy-signing-key"
HELIUS_AUTH = "fuzz-helius-auth"
GITHUB_SECRET = "fuzz-github-webhook-secret"
DISCORD_RELAY_SEED = base64.b64encode(b"fuzz-discord-relay-seed-32-bytes").decode()
# The objects every test starts with, at fixed ids, so generated paths can name them.
KNOWN_IDS = {
    "organization_id": uuid.UUID("00000000-0000-4000-8000-00000000000a"),
    "project_id": uuid.UUID("00000000-0000-4000-8000-00000000000b"),
    "campaign_id": uuid.UUID("00000000-0000-4000-8000-00000000000c"),
    "listing_id": uuid.UUID("00000000-0000-4000-8000-00000000000d"),
    "pulse_id": "pt_fuzz",
    "name": "default",  # Celery's queue (the staff operations)
}
CALLERS = ["anonymous", "member", "key"]
OTHER_CALLERS = ["viewer", "key-ingest", "key-read", "key-write", "staff"]
# Fixtures are not reset between examples: `_call_and_roll_back` resets the database
# instead. The webhook payloads' schemas are large; generating them is slow, not wrong.
SUPPRESSED_HEALTH_CHECKS = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
]


def _served_schema() -> dict:
    """The document /api/v1/schema/ serves, from the view that route resolves to. It is
    called directly because the module loads at collection, before any test database
    exists, and the request guards in front of the view read IP rules from the database."""
    request = RequestFactory().get(SCHEMA_PATH, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    response = resolve(SCHEMA_PATH).func(request)
    response.render()
    assert response.status_code == 200
    return json.loads(response.content)


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261130,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "database": "none",
            # The callers below carry real credentials; generated ones would shadow them.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)
# Dates: the calendar's first and last days (where date arithmetic overflows) as often as
# any other day.
schemathesis.openapi.format(
    "date",
    st.one_of(st.sampled_from(["0001-01-01", "9999-12-31"]), st.dates().map(dt.date.isoformat)),
)
schema = schemathesis.openapi.from_dict(_served_schema(), config=CONFIG)
schema.app = application


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, a path names one of the test's own objects instead of a random id."""
    known = {name: str(KNOWN_IDS[name]) for name in path_parameters or {} if name in KNOWN_IDS}
    if not known:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **known}])


@pytest.fixture(scope="module")
def notion() -> Iterator[Notion]:
    """One local Notion for the module: a server per test costs its shutdown's poll."""
    with notion_serving() as notion:
        yield notion


@pytest.fixture
def credentials(db, settings, tmp_path, notion) -> Iterator[dict[str, dict[str, str]]]:
    """An organization with a project, a campaign, a FABRIC listing and a PULSE team; the
    headers of each caller. Every integration is configured (its not-configured 503 is
    tested where it lives); Notion, the one a request calls, answers locally."""
    settings.RATE_LIMITS = {name: 10**9 for name in settings.RATE_LIMITS}
    settings.MEDIA_ROOT = tmp_path / "media"  # uploads (data room, listing images)
    # Clicks straight to the database (the platform's mode without Redis): the stream
    # path shares its Redis database with the cache that every test, on every xdist
    # worker, empties, and a stream emptied under a request's flush answers NOGROUP (see
    # trace/tests for the stream itself).
    settings.REDIS_URL = ""
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = ALCHEMY_SIGNING_KEY
    settings.HELIUS_WEBHOOK_AUTH = HELIUS_AUTH
    settings.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET
    settings.DISCORD_RELAY_PUBLIC_KEY = relay_public_key_of(DISCORD_RELAY_SEED)
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = DISCORD_CLIENT
    settings.NOTION_API_URL = notion.url
    campaign_cache_clear()
    organization = OrganizationFactory(id=KNOWN_IDS["organization_id"])
    project = ProjectFactory(id=KNOWN_IDS["project_id"], organization=organization)
    CampaignFactory(id=KNOWN_IDS["campaign_id"], project=project)
    ListingFactory(organization=organization, id=KNOWN_IDS["listing_id"])
    TeamFactory(organization=organization, pulse_id=KNOWN_IDS["pulse_id"])
    member = MembershipFactory(organization=organization, role=Role.OWNER).user
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    staff = UserFactory(is_staff=True)
    keys = {
        "key": api_key_issue(organization=organization, name="fuzz", scopes=list(Scope)),
        **{
            f"key-{scope}": api_key_issue(organization=organization, name=scope, scopes=[scope])
            for scope in Scope
        },
    }
    # As Django's test client does: a request must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {
        "anonymous": {},
        **{
            name: {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
            for name, user in [("member", member), ("viewer", viewer), ("staff", staff)]
        },
        **{name: {"X-API-Key": issued.key} for name, issued in keys.items()},
    }
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    campaign_cache_clear()


def _call_and_roll_back(case, **kwargs) -> None:
    # Each example starts from the fixture's rows, whatever the one before it wrote.
    with transaction.atomic():
        try:
            case.call_and_validate(**kwargs)
        finally:
            transaction.set_rollback(True)


def _authenticates(ctx) -> bool:
    """Whether the operation knows callers by their credentials (else it is open)."""
    return any(requirement for requirement in ctx.operation.definition.raw.get("security", []))


@pytest.mark.parametrize("caller", CALLERS)
@schema.include(_authenticates).parametrize()
@settings(suppress_health_check=SUPPRESSED_HEALTH_CHECKS)
def test_api(case, caller, credentials):
    _call_and_roll_back(case, headers=credentials[caller])


@schema.include(_authenticates).parametrize()
@settings(
    max_examples=OTHER_CALLERS_MAX_EXAMPLES,
    phases=[Phase.generate, Phase.shrink],  # neither the schema's examples nor coverage
    suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
)
def test_api_as_other_callers(case, credentials):
    """Each example sent as each of the other callers in turn: one test per operation, so
    its fixture is paid once rather than once per caller."""
    for caller in OTHER_CALLERS:
        note(f"caller: {caller}")
        _call_and_roll_back(case, headers=credentials[caller])


@schema.exclude(_authenticates).parametrize()
@settings(suppress_health_check=SUPPRESSED_HEALTH_CHECKS)
def test_open_api(case, credentials):
    """Operations that authenticate no one (sign-in, public keys, webhooks): credentials
    would be ignored, so they are called once, anonymously."""
    _call_and_roll_back(case)


@schema.include(path_regex="^/api/v1/webhooks/").parametrize()
@settings(suppress_health_check=SUPPRESSED_HEALTH_CHECKS)
def test_webhooks_with_valid_credentials(case, credentials):
    """The chain webhooks past their signature check: the generated payload, signed."""
    if case.operation.path.endswith("/helius"):
        _call_and_roll_back(case, headers={"Authorization": HELIUS_AUTH})
        return
    raw = _raw_body(case)
    signature = hmac.new(ALCHEMY_SIGNING_KEY.encode(), raw, hashlib.sha256).hexdigest()
    _call_and_roll_back(case, headers={"X-Alchemy-Signature": signature}, data=raw)


@schema.include(path_regex="^/api/v1/github/webhook").parametrize()
@settings(suppress_health_check=SUPPRESSED_HEALTH_CHECKS)
def test_github_webhook_with_valid_signature(case, credentials):
    """GitHub's webhook past its signature check (the App's secret): the generated body,
    signed, with a delivery id and an event GitHub sends."""
    raw = _raw_body(case)
    signature = "sha256=" + hmac.new(GITHUB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    case.query = {}
    headers = {
        "X-Hub-Signature-256": signature,
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
    _call_and_roll_back(case, headers=headers, data=raw)


def _raw_body(case) -> bytes:
    """The bytes sent for the case's body: generated JSON, or the raw bytes some cases
    carry (a body in another media type, or none)."""
    if isinstance(case.body, NotSet):
        return b""
    if isinstance(case.body, bytes):
        return case.body
    return json.dumps(case.body).encode()


@schema.include(path_regex="^/api/v1/discord/webhook").parametrize()
@settings(suppress_health_check=SUPPRESSED_HEALTH_CHECKS)
def test_discord_relay_with_valid_signature(case, credentials):
    """The Discord relay past its signature check: the generated body, signed by our bot's
    key, fresh."""
    raw = _raw_body(case)
    headers = relay_headers(seed_base64=DISCORD_RELAY_SEED, body=raw)
    _call_and_roll_back(case, headers=headers, data=raw)
