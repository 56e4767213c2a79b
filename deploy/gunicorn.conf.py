"""Gunicorn for the web containers: `gunicorn -c deploy/gunicorn.conf.py fabrknt.wsgi`.

Sync workers, two per core, one thread each. Gunicorn turns a sync worker with more than
one thread into a gthread worker, so `threads` is 1 unless gthread is asked for. On the
2-core box bench/clicks.py measured, for the click fast path at 64 connections, 4 sync
workers at 2,260-2,470 clicks/s with a p99 of 35-44 ms, and (before the lean ingest
handler) 4 gthread workers of 4 threads at about 1,500/s with a p99 of 110-180 ms: GIL
contention between threads costs more than reconnecting on loopback. Sync workers expect
a proxy in front (the load balancer) to absorb slow clients; set
GUNICORN_WORKER_CLASS=gthread where keep-alive to gunicorn itself matters. Every value
can be overridden from the environment.
"""

from __future__ import annotations

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104 - inside the container
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 4 if worker_class == "gthread" else 1)
# Above the load balancer's idle timeout would be wrong: it must close first.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
backlog = _int("GUNICORN_BACKLOG", 2048)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Recycle workers now and then so a slow leak cannot grow forever; jitter spreads restarts.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 5_000)
# Import Django once in the master; database and Redis connections open lazily per worker.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# Gunicorn's own use of X-Forwarded-Proto (wsgi.url_scheme) is trusted from these addresses
# only; Django finds the client's address itself, through TRUSTED_PROXIES.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None  # /dev/shm in containers


def pre_fork(server, worker) -> None:
    # Everything the preloaded app allocated (Django, DRF, web3...) moves to the permanent
    # generation: the workers' full collections then skip it (measured: a 100 KB JSON
    # body parses 8x faster) and its pages stay shared copy-on-write.
    gc.freeze()


def post_fork(server, worker) -> None:
    # The exporter (gRPC channel, batch thread) of each worker, after the fork; the master
    # only instrumented (fabrknt/wsgi.py). Off unless the OTEL_* variables say so.
    from fabrknt.ops.tracing import tracing_export_start

    tracing_export_start(service="fabrknt-web")
