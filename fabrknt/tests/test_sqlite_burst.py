"""The embedded default (`make run`: SQLite, `manage.py runserver`) holds a burst.

A real development server on a SQLite file of this test's own (migrated by `manage.py
migrate`, no Redis, no broker: clicks are written straight to the database, as under
`make run`), then 16 threads for 6 seconds mixing tracking-link visits, the click API and
signed-in pages. No answer may be a 5xx, and every click the server accepted is stored.

Before SQLite ran in WAL mode with immediate transactions, such a burst answered hundreds
of 500s ("database is locked"): a deferred transaction that reads and then writes cannot
wait for the write lock, so SQLite fails it at once whatever the busy timeout.

CI points DATABASE_URL at PostgreSQL; the server here gets a `sqlite:///` URL of its own
instead, which the settings treat exactly as the default file.
"""

from __future__ import annotations

import collections
import json
import sqlite3
import threading
import time
import uuid

import requests

THREADS = 16
BURST_SECONDS = 6.0

SETUP = """
import json
from django.test import Client
from django.utils import timezone
from accounts.services.api_keys import api_key_issue
from accounts.services.demo import demo_accounts_ensure
from trace.models import Campaign, LandingDomain, Project

accounts = demo_accounts_ensure()
organization = accounts.organization
project = Project.objects.create(
    organization=organization, name="Burst", chain="eip155:8453",
    contract_addresses=["0x" + "ab" * 20],
)
campaign = Campaign.objects.create(
    organization=organization, project=project, name="Burst campaign",
    landing_url="https://burst.example/landing", target_contract="0x" + "ab" * 20,
)
LandingDomain.objects.create(
    organization=organization, domain="burst.example",
    verified_at=timezone.now(), last_checked_at=timezone.now(),
)
key = api_key_issue(organization=organization, name="burst", scopes=["ingest"]).key
client = Client()
client.force_login(accounts.user)
print(json.dumps({
    "campaign": str(campaign.pk), "key": key, "session": client.cookies["sessionid"].value,
}))
"""


def test_a_burst_on_the_embedded_default_gets_no_5xx(development_server):
    # Many visitors, not one address's rate: every visit through the link is recorded.
    server = development_server(RATE_LIMIT_TRACKING_LINK="1000000")
    fixtures = json.loads(server.manage("shell", "-c", SETUP).strip().splitlines()[-1])
    base = server.url
    campaign = fixtures["campaign"]
    requests_by_kind = {
        "tracking link": lambda session: session.get(
            f"{base}/t/{campaign}?utm_source=burst", allow_redirects=False, timeout=30
        ),
        "click API": lambda session: session.post(
            f"{base}/api/v1/clicks",
            json={"campaign_id": campaign, "click_id": uuid.uuid4().hex, "user_agent": "burst"},
            headers={"X-API-Key": fixtures["key"]},
            timeout=30,
        ),
        "dashboard": lambda session: session.get(
            f"{base}/trace/", cookies={"sessionid": fixtures["session"]}, timeout=30
        ),
        "campaign page": lambda session: session.get(
            f"{base}/trace/campaigns/{campaign}/",
            cookies={"sessionid": fixtures["session"]},
            timeout=30,
        ),
    }
    kinds = list(requests_by_kind)
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Event()

    def visitor(index: int) -> None:
        session = requests.Session()
        start.wait()
        stop = time.monotonic() + BURST_SECONDS
        turn = index
        while time.monotonic() < stop:
            kind = kinds[turn % len(kinds)]
            turn += 1
            try:
                status = requests_by_kind[kind](session).status_code
            except requests.RequestException as error:
                with lock:
                    failures.append(f"{kind}: {error}")
                continue
            with lock:
                statuses[kind, status] += 1

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    start.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began

    total = sum(statuses.values())
    print(f"\n{total} requests from {THREADS} threads in {elapsed:.1f} s: {dict(statuses)}")
    server_errors = {key: count for key, count in statuses.items() if key[1] >= 500}
    assert not server_errors, (server_errors, server.log.read_text()[-3000:])
    assert not failures, failures[:5]
    assert set(statuses) == {
        ("tracking link", 302),
        ("click API", 202),
        ("dashboard", 200),
        ("campaign page", 200),
    }
    assert total >= 4 * THREADS  # every thread got through the mix at least once
    with sqlite3.connect(server.database) as stored:
        (clicks,) = stored.execute("SELECT COUNT(*) FROM trace_click").fetchone()
    assert clicks == statuses["tracking link", 302] + statuses["click API", 202]
