"""Locust users and stages of bench/load.py (run by it: `locust -f` this file, headless).

Every user signs in with Ethereum (SIWE) as one of the wallets bench/load.py made members
of the demo organization (a single-use nonce, an EIP-191 signature, the JWT and session
cookie kept), then loops, thinking 1 s between steps: mostly a static asset and an API
read (the k6 scenario's `main.css` and `operational/metrics`), now and then a click on the
tracking link or the `/trace/` dashboard page.

The shape (on the master) ramps users through LOAD_STAGES, holds each stage, measures
LOAD_HOLD seconds of it after LOAD_SETTLE seconds (the difference of the aggregated
response-time histograms at both ends), gives the browser of bench/load.py a turn
outside the measured window, and ramps down after the last stage or the second stage over
the targets. Stage results go to LOAD_REPORT (JSON) as each stage ends.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import locust.runners
from locust import LoadTestShape, constant, task
from locust.contrib.fasthttp import FastHttpUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (  # noqa: E402
    TARGETS,
    histogram_percentile,
    passes,
    signed_in_payload,
    wallet_account,
)

# The tests' signing helpers (web3: slow to import) before the workers connect.
importlib.import_module("accounts.tests.signing")
# Workers report every second (3 s by default): stage windows end closer to their time.
locust.runners.WORKER_REPORT_INTERVAL = 1.0
# On the shared, loaded machine a worker may miss a few heartbeats: not gone for that.
locust.runners.HEARTBEAT_LIVENESS = 30

CAMPAIGN = os.environ.get("LOAD_CAMPAIGN", "")
WALLETS = int(os.environ.get("LOAD_WALLETS", "1"))
DOMAIN = os.environ.get("LOAD_DOMAIN", "127.0.0.1")
STATIC = os.environ.get("LOAD_STATIC", "/static/css/app.css")


class Visitor(FastHttpUser):
    wait_time = constant(1)  # the k6 script's sleep(1)
    access = ""

    def on_start(self) -> None:
        self.sign_in()

    def sign_in(self) -> None:
        account = wallet_account(random.randrange(WALLETS))  # noqa: S311 - not a secret
        nonce = self.client.get("/api/v1/auth/nonce", name="sign-in: nonce")
        if nonce.status_code != 200:
            return
        body = signed_in_payload(account, domain=DOMAIN, nonce=nonce.json()["nonce"])
        reply = self.client.post("/api/v1/auth/siwe", json=body, name="sign-in: siwe")
        if reply.status_code == 200:
            self.access = reply.json()["access"]  # the session cookie stays in the client

    @task(8)
    def browse(self) -> None:
        self.client.get(STATIC, name="static asset")
        with self.client.get(
            f"/api/v1/campaigns/{CAMPAIGN}",
            headers={"Authorization": f"Bearer {self.access}"},
            name="api read",
            catch_response=True,
        ) as reply:
            if reply.status_code == 401:  # the access token expired (long runs): again
                reply.success()
                self.sign_in()

    @task(1)
    def click(self) -> None:
        self.client.get(f"/t/{CAMPAIGN}?utm_source=load", name="click /t/", allow_redirects=False)

    @task(1)
    def dashboard(self) -> None:
        self.client.get("/trace/", name="page /trace/")


def _snapshot(stats: Any) -> dict[str, tuple[int, int, dict[int, int]]]:
    entries = {"total": stats.total}
    entries.update({name: entry for (name, _method), entry in stats.entries.items()})
    return {
        name: (entry.num_requests, entry.num_failures, dict(entry.response_times))
        for name, entry in entries.items()
    }


def _difference(before: dict, after: dict, seconds: float) -> dict[str, dict[str, float]]:
    result = {}
    for name, (requests, failures, times) in after.items():
        requests0, failures0, times0 = before.get(name, (0, 0, {}))
        histogram = {ms: n - times0.get(ms, 0) for ms, n in times.items()}
        count = requests - requests0
        result[name] = {
            "requests": count,
            "failures": failures - failures0,
            "rps": count / seconds,
            "p50": histogram_percentile(histogram, 0.50),
            "p99": histogram_percentile(histogram, 0.99),
            "errors": (failures - failures0) / count if count else 0.0,
        }
    return result


class Stages(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self.stages = [int(n) for n in os.environ.get("LOAD_STAGES", "50").split(",")]
        self.rate = float(os.environ.get("LOAD_SPAWN_RATE", "50"))
        self.settle = float(os.environ.get("LOAD_SETTLE", "5"))
        self.hold = float(os.environ.get("LOAD_HOLD", "20"))
        self.ramp_down = float(os.environ.get("LOAD_RAMP_DOWN", "10"))
        self.all_stages = os.environ.get("LOAD_ALL_STAGES") == "1"
        self.report = Path(os.environ.get("LOAD_REPORT", "load-report.json"))
        self.browser_ack = Path(str(self.report) + ".browser")
        self.index = 0
        self.phase = "ramp"
        self.phase_started = 0.0
        self.before: dict = {}
        self.window_started = 0.0
        self.results: list[dict] = []
        self.failed = 0
        self.down_started: float | None = None

    def _write(self, **extra: Any) -> None:
        state = {"stages": self.results, "stage": self.index, "phase": self.phase, **extra}
        temporary = self.report.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(self.report)

    def _enter(self, phase: str, now: float) -> None:
        self.phase, self.phase_started = phase, now
        self._write()

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None  # the master's, once the test runs
        now = self.get_run_time()
        if self.down_started is not None:
            return (0, self.rate) if now - self.down_started < self.ramp_down else None
        users = self.stages[self.index]
        previous = self.stages[self.index - 1] if self.index else 0
        elapsed = now - self.phase_started
        if self.phase == "ramp" and elapsed >= (users - previous) / self.rate + self.settle:
            self.before, self.window_started = _snapshot(self.runner.stats), time.time()
            self._enter("measure", now)
        elif self.phase == "measure" and elapsed >= self.hold:
            seconds = time.time() - self.window_started
            stage: dict[str, Any] = {
                "users": users,
                "started": self.window_started,
                "ended": time.time(),
                "requests": _difference(self.before, _snapshot(self.runner.stats), seconds),
                "running": self.runner.user_count,
            }
            stage["passes"] = passes(stage["requests"]["total"])
            self.results.append(stage)
            self.failed += not stage["passes"]
            self.browser_ack.unlink(missing_ok=True)
            self._enter("browser", now)
        elif self.phase == "browser" and (self.browser_ack.exists() or elapsed > 120):
            last = self.index == len(self.stages) - 1
            if last or (self.failed >= 2 and not self.all_stages):
                self.down_started = now
                self._enter("down", now)
                return 0, self.rate
            self.index += 1
            self._enter("ramp", now)
            users = self.stages[self.index]
        return users, self.rate


__all__ = ["TARGETS", "Stages", "Visitor"]
