"""The image's entrypoint: completes the environment the settings read, then execs the
command (gunicorn, uvicorn, celery, manage.py).

The settings read whole URLs and values (DATABASE_URL, REDIS_URL, SECRET_KEY...). Where the
platform hands them out in parts, they are put together here, so the settings keep one way
of reading each:
- `NAME_FILE` (Docker's and compose's secrets convention): NAME is the file's content.
- A value of `__unset__` (a Secrets Manager secret not given a value yet: it refuses an
  empty one) is dropped, as if the variable were not set.
- DATABASE_URL from DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER,
  DATABASE_PASSWORD and DATABASE_SSLMODE: ECS injects the RDS secret's fields one by one,
  and the password changes when Secrets Manager rotates it, so it is read at each
  container start; DATABASE_REPLICA_URL likewise from DATABASE_REPLICA_HOST.
- REDIS_URL from REDIS_HOST, REDIS_PORT and REDIS_AUTH_TOKEN (ElastiCache with in-transit
  encryption: rediss://).
- ALLOWED_HOSTS gains the task's own addresses on ECS, which the load balancer's health
  checks name in their Host header.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Mapping
from urllib.parse import quote

UNSET = "__unset__"  # deploy/aws/fabrknt_aws/app_facts.py


def _from_files(environ: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for name, path in environ.items():
        if name.endswith("_FILE") and name[: -len("_FILE")] not in environ:
            with open(path, encoding="utf-8") as file:
                values[name[: -len("_FILE")]] = file.read().strip()
    return values


def _database_url(environ: Mapping[str, str]) -> str:
    user = quote(environ["DATABASE_USER"], safe="")
    password = quote(environ["DATABASE_PASSWORD"], safe="")
    host, port = environ["DATABASE_HOST"], environ.get("DATABASE_PORT", "5432")
    url = f"postgres://{user}:{password}@{host}:{port}/{environ['DATABASE_NAME']}"
    sslmode = environ.get("DATABASE_SSLMODE")
    return f"{url}?sslmode={sslmode}" if sslmode else url


def _redis_url(environ: Mapping[str, str]) -> str:
    token = quote(environ["REDIS_AUTH_TOKEN"], safe="")
    host, port = environ["REDIS_HOST"], environ.get("REDIS_PORT", "6379")
    return f"rediss://:{token}@{host}:{port}/0"


def container_environment(environ: Mapping[str, str], task_addresses: list[str]) -> dict[str, str]:
    """The environment to exec the command with."""
    completed = {
        name: value for name, value in {**environ, **_from_files(environ)}.items() if value != UNSET
    }
    if not completed.get("DATABASE_URL") and completed.get("DATABASE_HOST"):
        completed["DATABASE_URL"] = _database_url(completed)
    if not completed.get("DATABASE_REPLICA_URL") and completed.get("DATABASE_REPLICA_HOST"):
        completed["DATABASE_REPLICA_URL"] = _database_url(
            {**completed, "DATABASE_HOST": completed["DATABASE_REPLICA_HOST"]}
        )
    if not completed.get("REDIS_URL") and completed.get("REDIS_HOST"):
        completed["REDIS_URL"] = _redis_url(completed)
    if task_addresses:
        hosts = [h for h in completed.get("ALLOWED_HOSTS", "").split(",") if h]
        completed["ALLOWED_HOSTS"] = ",".join([*hosts, *task_addresses])
    return completed


def ecs_task_addresses(environ: Mapping[str, str]) -> list[str]:
    """The task's private IPv4 addresses from the ECS task metadata endpoint (v4); none
    outside ECS."""
    base = environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if not base:
        return []
    with urllib.request.urlopen(f"{base}/task", timeout=2) as response:  # noqa: S310
        task = json.load(response)
    return [
        address
        for container in task.get("Containers", [])
        for network in container.get("Networks", [])
        for address in network.get("IPv4Addresses", [])
    ]


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("entrypoint: no command given")
    environment = container_environment(os.environ, ecs_task_addresses(os.environ))
    os.execvpe(argv[0], argv, environment)  # noqa: S606 - the container's command


if __name__ == "__main__":
    main(sys.argv[1:])
