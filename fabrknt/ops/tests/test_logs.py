"""The log lines as the console handler writes them: every kind of secret sent through real
requests (API key, bearer JWT, signed webhooks, wallet sign-in, a 500 whose traceback
quotes the request and the settings) and none in the output; the ids on the lines."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
import uuid

import pytest
from django.conf import settings
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services.api_keys import api_key_issue
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from accounts.tests.signing import (
    SolanaWallet,
    new_evm_account,
    personal_sign,
    siwe_text,
    siws_text,
)
from fabrknt.ops.logs import JsonFormatter, PlainFormatter
from fabrknt.ops.redaction import secret_values_forget
from fabrknt.ops.tasks import ping
from fabrknt.ops.tests.urls import SECRET_SETTINGS
from pulse.discord.signature import relay_sign
from pulse.tests.discord_relay_support import PUBLIC_KEY, SEED
from trace.tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.ops.tests.urls")]

ALCHEMY_KEY = "whsec_alchemy_4f1c9e7a2b6d8e0f3a5c7e9b"
GITHUB_SECRET = "github-app-secret-8c2e4a6f0b1d3e5f"
HELIUS_AUTH = "helius-auth-91d3f5b7a9c1e3f5"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def secrets_configured(settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = ALCHEMY_KEY
    settings.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET
    settings.HELIUS_WEBHOOK_AUTH = HELIUS_AUTH
    settings.DISCORD_RELAY_PUBLIC_KEY = PUBLIC_KEY
    settings.DISCORD_RELAY_SIGNING_KEY = SEED
    secret_values_forget()  # the redaction reads the secret settings once
    yield
    secret_values_forget()


@pytest.fixture(params=["json", "plain"])
def log_output(request):
    """The console handler of settings.LOGGING, writing into a buffer in either format."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    formatter, stream = handler.formatter, handler.stream
    buffer = io.StringIO()
    handler.setFormatter(JsonFormatter() if request.param == "json" else PlainFormatter())
    handler.setStream(buffer)
    try:
        yield request.param, buffer
    finally:
        handler.setFormatter(formatter)
        handler.setStream(stream)


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_no_secret_reaches_the_logs_and_lines_name_their_request(secrets_configured, log_output):
    log_format, output = log_output
    client = Client(raise_request_exception=False)
    organization, other = OrganizationFactory(), OrganizationFactory()
    project, foreign_project = (
        ProjectFactory(organization=organization),
        ProjectFactory(organization=other),
    )
    api_key = api_key_issue(organization=organization, name="logs", scopes=["read"]).key
    member = MembershipFactory(organization=organization, role="member").user
    jwt = str(AccessToken.for_user(member))
    secrets: list[str] = [api_key, api_key.split("_", 2)[2], jwt, PASSWORD]
    expected: dict[str, dict[str, str]] = {}  # request id -> ids its lines must carry

    # An API key reading another organization's project: 404, logged with the key's org.
    response = client.get(f"/api/v1/projects/{foreign_project.pk}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 404
    expected[response["X-Request-ID"]] = {"organization_id": str(organization.pk)}

    # A bearer JWT editing its own organization's project badly: 400, user and org.
    response = client.patch(
        f"/api/v1/projects/{project.pk}",
        data={"contract_addresses": "not a list"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {jwt}",
    )
    assert response.status_code == 400, response.content
    expected[response["X-Request-ID"]] = {
        "user_id": str(member.pk),
        "organization_id": str(organization.pk),
    }

    # A page, signed in by session, opening another organization's project: 404, the user.
    page = Client(raise_request_exception=False)
    page.force_login(member)
    session_id = page.cookies["sessionid"].value
    secrets.append(session_id)
    response = page.get(f"/trace/projects/{foreign_project.pk}/")
    assert response.status_code == 404
    expected[response["X-Request-ID"]] = {"user_id": str(member.pk)}

    # Each webhook with a signature, forged (401, logged) and genuine.
    body = json.dumps({"webhookId": "wh_1", "id": "evt_1", "type": "ADDRESS_ACTIVITY"}).encode()
    signatures = {
        "HTTP_X_ALCHEMY_SIGNATURE": _hmac_hex(ALCHEMY_KEY, body),
        "HTTP_X_HUB_SIGNATURE_256": "sha256=" + _hmac_hex(GITHUB_SECRET, body),
    }
    timestamp = str(int(time.time()))
    signatures["HTTP_X_SIGNATURE_ED25519"] = relay_sign(
        seed_base64=SEED, timestamp=timestamp, body=body
    )
    secrets += [*signatures.values(), signatures["HTTP_X_HUB_SIGNATURE_256"][7:]]
    for path, header, forged in [
        ("/api/v1/webhooks/alchemy", "HTTP_X_ALCHEMY_SIGNATURE", _hmac_hex("x" * 16, body)),
        ("/api/v1/github/webhook", "HTTP_X_HUB_SIGNATURE_256", "sha256=" + "0" * 64),
        ("/api/v1/discord/webhook", "HTTP_X_SIGNATURE_ED25519", "ab" * 64),
        ("/api/v1/webhooks/helius", "HTTP_AUTHORIZATION", "helius-not-the-auth"),
    ]:
        response = client.post(
            path,
            data=body,
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="ping",
            HTTP_X_GITHUB_DELIVERY=str(uuid.uuid4()),
            HTTP_X_SIGNATURE_TIMESTAMP=timestamp,
            **{header: forged},
        )
        assert response.status_code in (401, 403), (path, response.content)
        expected[response["X-Request-ID"]] = {}
    response = client.post(
        "/api/v1/webhooks/helius",
        data=b"[]",
        content_type="application/json",
        HTTP_AUTHORIZATION=HELIUS_AUTH,
    )
    assert response.status_code == 200, response.content

    # Wallet sign-ins: a wrong signer (401, logged), then genuine SIWE and SIWS ones.
    evm, intruder = new_evm_account(), new_evm_account()
    text = siwe_text(address=evm.address, nonce=sign_in_nonce_issue().value)
    response = client.post(
        "/api/v1/auth/siwe",
        {"message": text, "signature": personal_sign(intruder, text)},
        content_type="application/json",
    )
    assert response.status_code == 401
    expected[response["X-Request-ID"]] = {}
    text = siwe_text(address=evm.address, nonce=sign_in_nonce_issue().value)
    siwe_signature = personal_sign(evm, text)
    signed_in = client.post(
        "/api/v1/auth/siwe",
        {"message": text, "signature": siwe_signature},
        content_type="application/json",
    )
    assert signed_in.status_code == 200, signed_in.content
    solana = SolanaWallet()
    siws = siws_text(address=solana.address, nonce=sign_in_nonce_issue().value)
    siws_signature = solana.sign(siws)
    response = client.post(
        "/api/v1/auth/siws",
        {"message": siws, "signature": siws_signature},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    secrets += [
        siwe_signature,
        siwe_signature[2:],
        siws_signature,
        signed_in.json()["access"],
        signed_in.json()["refresh"],
        signed_in.cookies["sessionid"].value,
    ]

    # The worst case: a view that logs every header and fails quoting the request, its
    # body and the secret settings. 500, the traceback logged, the session's user named.
    leaked_body = json.dumps(
        {
            "message": text,
            "signature": siwe_signature,
            "password": PASSWORD,
            "solana": {"message": siws, "signature": siws_signature},
        }
    )
    response = page.post(
        "/leaky",
        data=leaked_body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {jwt}",
        HTTP_X_API_KEY=api_key,
        HTTP_COOKIE=f"sessionid={session_id}; csrftoken=csrf-{PASSWORD}",
        **signatures,
    )
    assert response.status_code == 500
    expected[response["X-Request-ID"]] = {"user_id": str(member.pk)}
    for name in SECRET_SETTINGS:
        value = getattr(settings, name)
        secrets += [value, value.removeprefix("0x")]
    secrets += [ALCHEMY_KEY, GITHUB_SECRET, HELIUS_AUTH, SEED]

    # A task run eagerly (as in a worker, with its id): its lines name it.
    token = uuid.uuid4().hex
    task = ping.apply(args=(token,))

    written = output.getvalue()
    leaked = [secret for secret in secrets if secret and secret in written]
    assert leaked == [], written
    assert "[REDACTED]" in written
    assert "Leaky failure" in written and "RuntimeError" in written  # the traceback is there
    if log_format == "plain":
        assert f"task_id={task.id} task_name=ops.ping" in written
        return
    lines = [json.loads(line) for line in written.splitlines()]  # one object per line
    by_request: dict[str, list[dict]] = {}
    for line in lines:
        by_request.setdefault(line.get("request_id", "-"), []).append(line)
    for request_id, ids in expected.items():
        assert by_request.get(request_id), f"no line for request {request_id}: {written}"
        for line in by_request[request_id]:
            assert {key: line.get(key) for key in ids} == ids, line
    error = next(line for line in lines if line.get("status_code") == 500)
    assert (error["level"], error["logger"], error["method"], error["path"]) == (
        "error",
        "django.request",
        "POST",
        "/leaky",
    )
    assert "RuntimeError: Leaky failure" in error["exception"]
    headers = next(line for line in lines if line["message"].startswith("Request as received"))
    assert headers["headers"]["Authorization"] == "[REDACTED]"
    assert headers["headers"]["X-Api-Key"] == "[REDACTED]"
    pinged = next(line for line in lines if line["message"].startswith(f"Ping {token}"))
    assert (pinged["task_id"], pinged["task_name"]) == (task.id, "ops.ping")


def test_djangos_own_loggers_write_through_the_console_handler_alone():
    """Django's DEFAULT_LOGGING gives `django` and `django.server` plain-text handlers of
    their own (and mail to ADMINS); the settings remove them, so runserver's request lines
    and Django's errors are JSON lines like the rest."""
    for name in ("django", "django.server", "django.request"):
        logger = logging.getLogger(name)
        assert (logger.handlers, logger.propagate) == ([], True), name
    assert [handler.name for handler in logging.getLogger().handlers if handler.name] == ["console"]
