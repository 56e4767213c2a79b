"""What the stacks take from the application's own code, so the infrastructure follows it:
the Celery queues (one SQS queue and dead-letter queue each), their visibility timeout and
redelivery cap, the settings that are secrets, and the paths the WAF rules single out.

Needs Django's settings configured (app.py does it; the tests run under pytest-django).
"""

from __future__ import annotations

from dataclasses import dataclass

# Every secret fabrknt/settings.py reads, one Secrets Manager secret each. Values AWS can
# generate are generated; the rest are provider-issued or in a format the settings check
# (deploy/README.md says how to set each) and start as UNSET, which the image's entrypoint
# drops from the environment (Secrets Manager refuses an empty value), leaving that
# integration off, as an unset variable does. The database and Redis credentials come from their own
# secrets (data.py). deploy/aws/tests check this list against settings.py.
UNSET = "__unset__"  # deploy/entrypoint.py knows it too
GENERATED_SECRETS = ("SECRET_KEY", "JWT_SIGNING_KEY", "METRICS_SCRAPE_TOKEN")
OPERATOR_SECRETS = (
    "CERTIFICATE_SIGNING_KEY",
    "FIELD_ENCRYPTION_KEY",
    "CHAIN_SIGNER_KEY",
    "CHAIN_RPC_URLS",
    "EMAIL_URL",
    "PRICE_FEED_URL",
    "ALCHEMY_WEBHOOK_SIGNING_KEY",
    "ALCHEMY_NOTIFY_TOKEN",
    "HELIUS_WEBHOOK_AUTH",
    "HELIUS_API_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_TOKEN",
    "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_OAUTH_CLIENT_SECRET",
    "DISCORD_BOT_TOKEN",
    "DISCORD_RELAY_SIGNING_KEY",
    "DISCORD_OAUTH_CLIENT_SECRET",
)


@dataclass(frozen=True)
class EdgePaths:
    """The application's paths that the edge rules treat apart (fabrknt/security)."""

    api_prefix: str
    # Called by servers with ingest keys: exempt from the /api/* rate rule, anonymous-IP
    # and bot rules.
    ingest_prefixes: tuple[str, ...]
    # Called by providers with signatures: exempt as ingest, and from the 8 KB body rule.
    webhook_prefixes: tuple[str, ...]
    # API paths with a body limit above 8 KB that the app enforces itself.
    large_body_prefixes: tuple[str, ...]
    # Multipart upload endpoints (regular expressions of whole paths).
    upload_patterns: tuple[str, ...]


@dataclass(frozen=True)
class AppFacts:
    queue_names: tuple[str, ...]
    visibility_timeout_seconds: int
    max_receive_count: int
    edge_paths: EdgePaths


def celery_queue_names() -> tuple[str, ...]:
    """The default queue, every queue CELERY_TASK_QUEUES declares and every queue a route
    of CELERY_TASK_ROUTES names (a mapping, or a list of mappings, as Celery takes)."""
    from django.conf import settings

    names = {settings.CELERY_TASK_DEFAULT_QUEUE}
    names.update(queue.name for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ())
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    for mapping in [routes] if isinstance(routes, dict) else routes:
        for route in mapping.values() if isinstance(mapping, dict) else ():
            if isinstance(route, dict) and route.get("queue"):
                names.add(route["queue"])
    return tuple(sorted(names))


def edge_paths() -> EdgePaths:
    from django.conf import settings
    from django.urls import reverse

    from fabrknt.api.errors import API_PREFIX
    from fabrknt.security.middleware import CLICK_BATCH_PREFIX, NDA_SIGN_PATH, WEBHOOK_PREFIXES

    return EdgePaths(
        api_prefix=API_PREFIX,
        # /api/v1/clicks covers the batch path (/api/v1/clicks/batch) too.
        ingest_prefixes=(reverse("trace-clicks"),),
        webhook_prefixes=tuple(WEBHOOK_PREFIXES),
        large_body_prefixes=(CLICK_BATCH_PREFIX, NDA_SIGN_PATH),
        upload_patterns=tuple(f"^{pattern}$" for pattern in settings.API_UPLOAD_BODY_LIMITS),
    )


def app_facts() -> AppFacts:
    from django.conf import settings

    return AppFacts(
        queue_names=celery_queue_names(),
        visibility_timeout_seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
        # The first delivery and CELERY_MAX_REDELIVERIES more, then the dead-letter queue.
        max_receive_count=settings.CELERY_MAX_REDELIVERIES + 1,
        edge_paths=edge_paths(),
    )
