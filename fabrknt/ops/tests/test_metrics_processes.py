"""Two gunicorn worker processes (forked from a master that loaded the app, as in
production) count their requests into one Redis: a scrape served by either shows them all,
each worker's flusher thread writing its own within about a second."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

REQUESTS = 40


def healthz_count(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "fabrknt_http_requests_total" and sample.labels == {
                "route": "/healthz",
                "method": "GET",
                "status": "2xx",
            }:
                return sample.value
    return 0.0


def get(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.status


def test_worker_processes_add_up_in_redis(shared_metrics, gunicorn):
    port = gunicorn(WEB_CONCURRENCY="2")
    # Half a request holds one worker (a sync worker reads it to its end), so the other
    # serves the next requests: both processes count some.
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for _ in range(REQUESTS - 1):
        assert get(port, "/healthz") == 200
    held.sendall(b"Connection: close\r\n\r\n")
    assert held.recv(64).startswith(b"HTTP/1.1 200")
    held.close()

    deadline = time.monotonic() + 15
    while (count := healthz_count(port)) < REQUESTS:
        assert time.monotonic() < deadline, count
        time.sleep(0.3)
    assert count == REQUESTS
