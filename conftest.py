"""Suite-wide test set-up: service markers and shared fixtures.

A test marked `postgres`, `redis`, `celery_worker` or `browser` runs only where that
service is reachable; elsewhere it is skipped with the reason, and under
FABRKNT_REQUIRE_SERVICES=1 (CI) it fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import override_settings

from accounts.services.api_keys import api_key_process_state_clear
from fabrknt.api.rate_limit import process_buckets
from fabrknt.celery import app as celery_app
from fabrknt.redis_backoff import redis_backoff_clear
from fabrknt.security.selectors import ip_rules_invalidate
from trace.services.clicks.validation import campaign_cache_clear
from trace.services.domains import verified_cache_clear

REQUIRE_SERVICES = os.environ.get("FABRKNT_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"  # Debian's; `playwright install` would download its own
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _redis_problem(url: str, name: str) -> str | None:
    if not url:
        return f"{name} is not set"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis at {name} is unreachable: {error}"
    return None


def _postgres_problem() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    return None


def _browser_problem() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


SERVICE_PROBLEMS: dict[str, Callable[[], str | None]] = {
    "postgres": _postgres_problem,
    "redis": lambda: _redis_problem(settings.REDIS_URL, "REDIS_URL"),
    "celery_worker": lambda: _redis_problem(settings.CELERY_BROKER_URL, "CELERY_BROKER_URL"),
    "browser": _browser_problem,
}


def pytest_configure(config: pytest.Config) -> None:
    # Tests call tasks in-process; the celery_worker tests switch this off for themselves.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, problem_of in SERVICE_PROBLEMS.items():
        if item.get_closest_marker(marker) is None:
            continue
        problem = problem_of()
        if problem is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"needs {marker} (FABRKNT_REQUIRE_SERVICES=1): {problem}", pytrace=False)
        pytest.skip(f"needs {marker}: {problem}")


def _forget_process_state() -> None:
    cache.clear()
    process_buckets.clear()
    redis_backoff_clear()
    ip_rules_invalidate()
    api_key_process_state_clear()
    campaign_cache_clear()
    verified_cache_clear()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache and full rate-limit buckets, asking Redis (no
    back-off left by another test's outage), and without the IP rules, API keys, campaigns
    and verified domains a process keeps for a moment (a rolled-back one must not leak)."""
    _forget_process_state()
    yield
    _forget_process_state()


@pytest.fixture
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REDIS_SERVER = "redis-server"  # Debian's package


@dataclass
class RedisServer:
    """A redis-server of one test's own, on its own port: the test may stop it (a Redis
    outage) and start it again (recovery, empty: it keeps nothing on disk, unless
    `appendonly` is set before it starts, as production's Redis runs)."""

    port: int
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)
    appendonly: bool = False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=5)

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "yes" if self.appendonly else "no"]
                + ["--dir", str(self.log.parent)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.05)

    def pause(self) -> None:
        """Freezes the server (SIGSTOP): connections are still accepted by the kernel, but
        nothing is answered, as with a hung or overloaded Redis."""
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """Kills the server (SIGKILL), as a crash or the OOM killer would."""
        assert self.process is not None, "not running"
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Stops the server; its port refuses connections until `start`."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path, settings) -> Iterator[RedisServer]:
    """A real Redis of this test's own (never the machine's shared one), started on a free
    port, with REDIS_URL and the default cache pointed at it. The Redis clients kept per
    URL (rate limits, click stream) follow REDIS_URL."""
    if shutil.which(REDIS_SERVER) is None:
        problem = f"{REDIS_SERVER} is not installed (apt-get install redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    server = RedisServer(port=_free_port(), log=tmp_path / "redis-server.log")
    server.start()
    cache_settings = dict(settings.CACHES["default"])
    if "redis" not in cache_settings["BACKEND"].lower():  # a run without REDIS_URL
        cache_settings = {
            "BACKEND": "django_redis.cache.RedisCache",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 2},  # as settings.py
        }
    settings.REDIS_URL = server.url()
    settings.CACHES = {**settings.CACHES, "default": {**cache_settings, "LOCATION": server.url()}}
    yield server
    server.stop()


@pytest.fixture
def gunicorn(tmp_path) -> Callable[..., int]:
    """Starts gunicorn (deploy/gunicorn.conf.py, one sync worker) serving the project
    against this run's database, with environment overrides; returns its port. Rows a
    test commits (transactional tests) are visible to it; the tables exist from the
    session set-up."""
    processes: list[subprocess.Popen] = []

    def start(**env: str) -> int:
        port = _free_port()
        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
                + ["fabrknt.wsgi:application"],
                cwd=Path(settings.BASE_DIR),
                env={
                    **os.environ,
                    "DATABASE_URL": database_url,
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "WEB_CONCURRENCY": "1",
                    **env,
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        deadline = time.monotonic() + 60  # a loaded CI machine took over 15 s
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class DevelopmentServer:
    """`manage.py runserver` as `make run` starts it, on a SQLite file of its own."""

    url: str
    port: int
    database: Path
    log: Path
    manage: Callable[..., str]  # runs a manage.py command against the same database


@pytest.fixture
def development_server(tmp_path: Path) -> Iterator[Callable[..., DevelopmentServer]]:
    """Starts the development server of `make run` (`runserver --noreload`, its threads)
    on a migrated SQLite file in tmp_path, with the environment the Makefile gives it and
    none of this run's services (no DATABASE_URL, Redis or broker: the embedded
    defaults)."""
    processes: list[subprocess.Popen] = []

    def start(**overrides: str) -> DevelopmentServer:
        database = tmp_path / "db.sqlite3"
        port = _free_port()
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
        }
        env.update(
            DJANGO_ENV="development",
            # The embedded default with a file of this test's own: the settings treat a
            # sqlite URL as they treat the default file.
            DATABASE_URL=f"sqlite:///{database}",
            DEV_SERVER_HOST="127.0.0.1",  # as the Makefile's `run` exports them
            DEV_SERVER_PORT=str(port),
            **overrides,
        )

        def manage(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=settings.BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        manage("migrate", "--noinput")
        log = tmp_path / f"runserver-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        return DevelopmentServer(url=url, port=port, database=database, log=log, manage=manage)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by Playwright's sync API, for one test module.

    Playwright keeps an asyncio event loop in the test thread while the browser is open;
    Django then refuses ORM calls from that thread (the tests' assertions, the live
    server's flush between tests) as "async-unsafe", although nothing here is async: the
    loop only carries messages to Chromium. So that check is off while the browser is.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _no_live_updates_on_the_wsgi_live_server(request) -> Iterator[None]:
    """pytest-django's live server speaks WSGI only: no /ws/live there, so its pages must
    not try to connect (the browser would log the refused handshake as an error)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    with override_settings(LIVE_UPDATES_ENABLED=False):
        yield
