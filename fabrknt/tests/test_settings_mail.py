"""Mail settings: EMAIL_URL read by django-environ; off in production without it; links in
mails need PUBLIC_BASE_URL."""

from __future__ import annotations

import json

from fabrknt.tests.test_settings import production_env, run

MAIL = ["EMAIL_ENABLED", "EMAIL_BACKEND", "DEFAULT_FROM_EMAIL"]


def settings_of(names: list[str], env: dict[str, str]):
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps([getattr(settings, name) for name in {names!r}]))"
    )
    return run(["-c", code], env)


def test_production_without_email_url_sends_no_mail():
    result = settings_of(MAIL, production_env())

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        "django.core.mail.backends.dummy.EmailBackend",
        "Fabrknt Suite <noreply@localhost>",
    ]


def test_production_email_url_configures_smtp():
    env = production_env(
        EMAIL_URL="smtp+tls://mailer:s3cret@smtp.example:587",
        PUBLIC_BASE_URL="https://suite.fabrknt.example/",
    )
    fields = [
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_USE_TLS",
        "PUBLIC_BASE_URL",
        "DEFAULT_FROM_EMAIL",
    ]

    assert json.loads(settings_of(MAIL, env).stdout)[:2] == [
        True,
        "django.core.mail.backends.smtp.EmailBackend",
    ]
    assert json.loads(settings_of(fields, env).stdout) == [
        "smtp.example",
        587,
        "mailer",
        True,
        "https://suite.fabrknt.example",
        "Fabrknt Suite <noreply@suite.fabrknt.example>",
    ]


def test_production_email_url_without_public_base_url_refuses_to_start():
    result = settings_of(["EMAIL_ENABLED"], production_env(EMAIL_URL="smtp://smtp.example"))

    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL needs PUBLIC_BASE_URL" in result.stderr
