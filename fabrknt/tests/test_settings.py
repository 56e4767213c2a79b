"""Production settings: refuse to start without secrets; `check --deploy` is clean."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

REPO = settings.BASE_DIR
# Only what the deploy sets; the developer's own environment must not leak in.
_INHERITED = ("PATH", "HOME", "LANG", "PYTHONPATH")


def production_env(**overrides: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="fabrknt.settings",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="suite.fabrknt.example",
        TRUSTED_PROXIES="10.0.0.0/16",
        # Secrets other products require in production (no defaults there).
        CERTIFICATE_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("django_env", ["production", None], ids=["production", "unset"])
def test_production_without_secret_key_refuses_to_start(django_env):
    env = production_env(DJANGO_ENV=django_env)
    del env["SECRET_KEY"]

    result = run(["-c", "import django; django.setup()"], env)

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_without_field_encryption_key_refuses_to_start():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEY"]

    result = run(["-c", "import django; django.setup()"], env)

    assert result.returncode != 0
    assert "Set the FIELD_ENCRYPTION_KEY environment variable" in result.stderr


@pytest.mark.parametrize("key", ["not-a-key", base64.urlsafe_b64encode(b"short").decode()])
def test_a_malformed_field_encryption_key_refuses_to_start(key):
    result = run(["-c", "import django; django.setup()"], production_env(FIELD_ENCRYPTION_KEY=key))

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be Fernet keys" in result.stderr


def test_production_with_secrets_starts():
    result = run(["-c", "import django; django.setup(); print('up')"], production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "up"


def setting(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps(settings.{name}))"
    )
    return run(["-c", code], env)


@pytest.mark.parametrize("value", [None, " "], ids=["unset", "blank"])
def test_production_without_trusted_proxies_refuses_to_start(value):
    result = setting("TRUSTED_PROXIES", production_env(TRUSTED_PROXIES=value))

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set TRUSTED_PROXIES to the CIDRs" in result.stderr


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        (" None ", []),
        ("10.0.0.0/16, 2001:DB8::/32,192.0.2.7", ["10.0.0.0/16", "2001:db8::/32", "192.0.2.7/32"]),
    ],
)
def test_production_trusted_proxies(value, networks):
    result = setting("TRUSTED_PROXIES", production_env(TRUSTED_PROXIES=value))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == networks


@pytest.mark.parametrize("value", ["10.0.0.5/8", "none,lb.internal"])
def test_a_trusted_proxy_that_is_not_a_network_refuses_to_start(value):
    result = setting("TRUSTED_PROXIES", production_env(TRUSTED_PROXIES=value))

    assert result.returncode != 0
    assert "ImproperlyConfigured: TRUSTED_PROXIES:" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION_SECURITY = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz$", "^metrics$"],
    # No development keys, hosts or domains.
    "PRODUCTION": True,
    "CHAIN_SIGNER_KEY": "",
    "ALLOWED_HOSTS": ["suite.fabrknt.example"],
    "CSRF_TRUSTED_ORIGINS": [],
    "CORS_ALLOWED_ORIGINS": [],
    "SIWE_ALLOWED_DOMAINS": [],
}


# Fail closed: only `development` relaxes anything; a typo, or no DJANGO_ENV at all, does not.
@pytest.mark.parametrize("django_env", ["production", None, "test", "developement"])
def test_production_security_settings(django_env):
    names = list(PRODUCTION_SECURITY)
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))"
    )

    result = run(["-c", code], production_env(DJANGO_ENV=django_env))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == PRODUCTION_SECURITY


def test_trace_limits_refuse_bad_values_and_read_good_ones():
    for name, value, message in (
        ("CONVERSION_VALUE_MAX_USD", "abc", "CONVERSION_VALUE_MAX_USD must be a positive"),
        ("CONVERSION_VALUE_MAX_USD", "0.001", "CONVERSION_VALUE_MAX_USD must be a positive"),
        ("CONVERSION_VALUE_MAX_USD", "1e18", "CONVERSION_VALUE_MAX_USD must be a positive"),
        ("IDENTIFY_MAX_WALLETS_PER_CLICK", "0", "IDENTIFY_MAX_WALLETS_PER_CLICK must be at"),
    ):
        result = run(["-c", "import django; django.setup()"], production_env(**{name: value}))
        assert result.returncode != 0, (name, value)
        assert message in result.stderr

    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CONVERSION_VALUE_MAX_USD, s.IDENTIFY_MAX_WALLETS_PER_CLICK, "
        "s.IDENTIFY_MESSAGE_DOMAIN, s.IDENTIFY_MESSAGE_TTL.total_seconds())"
    )
    env = production_env(
        CONVERSION_VALUE_MAX_USD="2500.50",
        IDENTIFY_MAX_WALLETS_PER_CLICK="5",
        IDENTIFY_MESSAGE_DOMAIN="suite.fabrknt.example",
        IDENTIFY_MESSAGE_TTL_SECONDS="120",
    )
    result = run(["-c", script], env)
    assert result.stdout.split() == ["2500.50", "5", "suite.fabrknt.example", "120.0"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "http://127.0.0.1:8123"), ("0.0.0.0", "http://127.0.0.1:8123")],  # noqa: S104
)
def test_mail_links_follow_the_port_make_run_serves(host, expected):
    """`make run PORT=8123`: links in mails point where the development server listens."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="fabrknt.settings",
        DJANGO_ENV="development",
        DEV_SERVER_HOST=host,
        DEV_SERVER_PORT="8123",
    )

    result = setting("PUBLIC_BASE_URL", env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_every_setting_read_from_the_environment_is_in_the_readme_table():
    """README's Settings table is where an operator looks a variable up: one read by
    settings.py and missing there is a setting nobody knows to set."""
    read = set(
        re.findall(
            r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', (REPO / "fabrknt" / "settings.py").read_text()
        )
    )
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("\n## Settings\n") :]
    table = table[: table.index("\n## ", 1)]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert len(read) > 100  # the pattern still finds what settings.py reads
    assert read - documented == set()
