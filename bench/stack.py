"""The processes the signed-in benches (bench/load.py, bench/soak.py) serve with, besides
gunicorn (bench.clicks.start_server) and the ASGI server (fabrknt.live.tests.server): the
environment they share, a real Celery worker and beat."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def server_arguments(
    parser: argparse.ArgumentParser, *, clicks: int, port: int, database: str
) -> None:
    """The served stack's options: the history loaded, gunicorn, PostgreSQL, Redis, broker."""
    from bench.reads import database_url

    parser.add_argument("--clicks", type=int, default=clicks, help="history loaded first")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--database-url", default=database_url(database))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/13",
    )


def signed_in_env(args: argparse.Namespace, domain: str) -> dict[str, str]:
    """bench/reads.py's server environment (rate limits raised) on args' broker, with the
    sign-in and tracking-link limits raised too and SIWE messages for `domain` accepted."""
    from bench.reads import app_env

    env = app_env(args)
    env.update(
        {
            "CELERY_BROKER_URL": args.broker_url,
            "RATE_LIMIT_SIGN_IN": str(10**9),
            "RATE_LIMIT_TRACKING_LINK": str(10**9),
            "SIWE_ALLOWED_DOMAINS": domain,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    return env


def _celery_start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_start(env: dict[str, str], log: Path, *, name: str = "load") -> subprocess.Popen:
    """A real Celery worker (solo pool) on the broker, started as the tests start theirs."""
    from fabrknt.ops.tests.workers import worker_command

    return _celery_start(worker_command(name=name, loglevel="WARNING"), env, log)


def beat_start(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`celery -A fabrknt beat` as `make beat` runs it: django-celery-beat's scheduler, its
    entries seeded from fabrknt/celery.py's schedule (the click flush every 5 s)."""
    return _celery_start(
        [sys.executable, "-m", "celery", "-A", "fabrknt", "beat", "--loglevel=WARNING"], env, log
    )
