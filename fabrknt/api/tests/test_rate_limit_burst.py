"""Concurrent bursts against the real stack: threads calling the WSGI application gunicorn
serves (every middleware, the throttles, the click ingest's lean handler), on real
PostgreSQL and Redis. From one address, or with one key, exactly the allowance is served
and every other request is a 429 whose Retry-After is the wait for the next token (a
burst that outlasts a token's refill, on a very slow machine, may also get that token);
no 5xx; a refused request stores nothing.

Sign-in brute force: bad signatures from one network are throttled after the sign-in
allowance, each refused attempt before it spends a nonce. The allowance is per network,
never per wallet address: signatures cannot be guessed, and a per-address limit would let
anyone lock an owner out by failing sign-ins in their name (the last test)."""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.conf import settings

from accounts.models import SignInNonce, User, Wallet
from accounts.services.api_keys import api_key_issue
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.tests.factories import OrganizationFactory
from accounts.tests.signing import new_evm_account, personal_sign, siwe_text
from fabrknt.tests.wsgi_calls import wsgi_call
from fabrknt.wsgi import application
from trace.tests.factories import CampaignFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),  # the threads' connections see the rows
]

ALLOWANCE = 10  # a minute: a token back every 6 s, far longer than a burst takes
BURST = 40
THREADS = 8
ATTACKER = "198.51.100.7"


@pytest.fixture(autouse=True)
def allowances(settings, redis_client):
    unlimited = {name: 10**9 for name in settings.RATE_LIMITS}
    limited = {name: ALLOWANCE for name in ("sign_in", "api_key", "ingest")}
    settings.RATE_LIMITS = {**unlimited, **limited}


def serve(request: tuple[str, str, bytes, dict]) -> tuple[int, dict, bytes]:
    """One request through the WSGI application, on this thread's own connections."""
    method, path, body, meta = request
    return wsgi_call(application, method, path, body, **meta)


@dataclass
class Burst:
    answers: list[tuple[int, dict, bytes]]
    seconds: float

    @property
    def allowance(self) -> int:
        """ALLOWANCE, and a token more for each 60 / ALLOWANCE seconds the burst lasted
        (none unless the machine is very slow)."""
        return ALLOWANCE + math.floor(self.seconds * ALLOWANCE / 60)

    def count(self, status: int) -> int:
        return [answer[0] for answer in self.answers].count(status)


def burst(requests: list[tuple[str, str, bytes, dict]]) -> Burst:
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(serve, requests))
    return Burst(answers, time.monotonic() - started)


def assert_exactly_the_allowance(done: Burst, served: int) -> None:
    statuses = {status for status, _, _ in done.answers}
    assert statuses == {served, 429}, statuses
    assert ALLOWANCE <= done.count(served) <= done.allowance, done.seconds
    for status, headers, content in done.answers:
        if status == 429:
            retry_after = int(headers["Retry-After"])
            # The wait for one token at ALLOWANCE a minute, whole seconds.
            assert 1 <= retry_after <= math.ceil(60 / ALLOWANCE), retry_after
            assert json.loads(content) == {
                "detail": f"Request was throttled. Expected available in {retry_after} seconds.",
                "code": "throttled",
            }


def test_a_burst_from_one_address_gets_exactly_the_sign_in_allowance():
    one_address = [("GET", "/api/v1/auth/nonce", b"", {"REMOTE_ADDR": ATTACKER})] * BURST

    done = burst(one_address)

    assert_exactly_the_allowance(done, served=200)
    assert SignInNonce.objects.count() == done.count(200)
    assert serve(("GET", "/api/v1/auth/nonce", b"", {"REMOTE_ADDR": "192.0.2.1"}))[0] == 200


def test_a_burst_with_one_key_gets_exactly_its_allowance_and_stores_only_that(redis_client):
    organization = OrganizationFactory()
    campaign = CampaignFactory(organization=organization)
    read_key = api_key_issue(organization=organization, name="read", scopes=["read"]).key
    ingest_key = api_key_issue(organization=organization, name="ingest", scopes=["ingest"]).key
    reads = [("GET", "/api/v1/campaigns", b"", {"HTTP_X_API_KEY": read_key})] * BURST
    clicks = [
        (
            "POST",
            "/api/v1/clicks",
            json.dumps({"campaign_id": str(campaign.pk), "click_id": f"burst-{n}"}).encode(),
            {"HTTP_X_API_KEY": ingest_key},
        )
        for n in range(BURST)
    ]

    read_burst, click_burst = burst(reads), burst(clicks)

    assert_exactly_the_allowance(read_burst, served=200)
    assert_exactly_the_allowance(click_burst, served=202)  # the ingest handler's own 429
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == click_burst.count(202)
    other = api_key_issue(organization=organization, name="other", scopes=["read"]).key
    assert serve(("GET", "/api/v1/campaigns", b"", {"HTTP_X_API_KEY": other}))[0] == 200


def _sign_in_attempt(text: str, signature: str, address: str) -> tuple[str, str, bytes, dict]:
    body = json.dumps({"message": text, "signature": signature}).encode()
    return ("POST", "/api/v1/auth/siwe", body, {"REMOTE_ADDR": address})


def test_sign_in_brute_force_is_throttled_per_network_and_locks_no_owner_out():
    owner, attacker = new_evm_account(), new_evm_account()

    def attempts_in_the_owners_name(networks: list[str]) -> list:
        attempts = []
        for network in networks:
            text = siwe_text(address=owner.address, nonce=sign_in_nonce_issue().value)
            attempts.append(_sign_in_attempt(text, personal_sign(attacker, text), network))
        return attempts

    one_network = burst(attempts_in_the_owners_name([ATTACKER] * BURST))
    # Each from a network of its own: none is throttled, and none locks the owner out.
    many_networks = burst(attempts_in_the_owners_name([f"203.0.113.{n}" for n in range(BURST)]))

    assert_exactly_the_allowance(one_network, served=401)
    assert many_networks.count(401) == BURST
    refused = [json.loads(content) for status, _, content in one_network.answers if status == 401]
    assert {refusal["detail"] for refusal in refused} == {
        "Signature does not match the message's address."
    }
    # A throttled attempt spent no nonce; the others spent theirs.
    spent = SignInNonce.objects.filter(used_at__isnull=False).count()
    assert spent == one_network.count(401) + BURST
    assert (User.objects.count(), Wallet.objects.count()) == (0, 0)
    text = siwe_text(address=owner.address, nonce=sign_in_nonce_issue().value)
    status, _, content = serve(_sign_in_attempt(text, personal_sign(owner, text), "192.0.2.9"))
    assert status == 200, content
    assert Wallet.objects.get().address == owner.address
