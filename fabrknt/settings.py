"""Fabrknt Suite settings: one module, every value read from the environment.

Fail closed: unless DJANGO_ENV is `development`, this is production, which demands every
secret and turns on the secure defaults that `manage.py check --deploy` looks for. The
Makefile's targets, the test suite and the benchmarks set `development`, whose embedded
defaults (SQLite, local-memory cache, eager tasks, keys generated per checkout) let
`make run` work on a bare machine.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="production")
# Anything but `development`, a typo or nothing at all included, is production.
PRODUCTION = DJANGO_ENV != "development"


def _checkout_secret(name: str, make: Callable[[], str]) -> str:
    """A secret generated once per checkout and kept beside it (development only)."""
    path = BASE_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # no default: refuses to start without it
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _checkout_secret(
        ".secret_key", lambda: secrets.token_urlsafe(50)
    )

DEBUG = env.bool("DEBUG", default=not PRODUCTION)

# Where `make run` binds the development server (the Makefile's HOST and PORT): the
# development defaults of the host, origin and sign-in domain lists below follow it, so
# `make run PORT=8001` signs in as `make run` does.
DEV_SERVER_HOST = env.str("DEV_SERVER_HOST", default="127.0.0.1")
DEV_SERVER_PORT = env.int("DEV_SERVER_PORT", default=8000)


def _development_hosts() -> list[str]:
    """The names a browser reaches the development server by. A wildcard bind (0.0.0.0,
    ::) names no host of its own: set ALLOWED_HOSTS and the rest for a LAN name."""
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    bound = DEV_SERVER_HOST.strip("[]")
    name = f"[{bound}]" if ":" in bound else bound
    if bound not in {"0.0.0.0", "::"} and name not in hosts:  # noqa: S104 (not a bind)
        hosts.append(name)
    return hosts


_DEVELOPMENT_HOSTS = _development_hosts()
_DEVELOPMENT_DOMAINS = [f"{host}:{DEV_SERVER_PORT}" for host in _DEVELOPMENT_HOSTS]
_DEVELOPMENT_ORIGINS = [f"http://{domain}" for domain in _DEVELOPMENT_DOMAINS]

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else [*_DEVELOPMENT_HOSTS, "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[] if PRODUCTION else _DEVELOPMENT_ORIGINS
)
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS", default=[] if PRODUCTION else _DEVELOPMENT_ORIGINS
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    # runserver serves ASGI (HTTP and /ws/live) through daphne's; it must come before
    # staticfiles, whose runserver it extends.
    "daphne",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "fabrknt.security",
    "fabrknt.ops",
    "fabrknt.chain",
    "accounts",
    "trace",
    "pulse",
    "fabric",
]

MIDDLEWARE = [
    # Outermost: times every request, a guard's refusal included (fabrknt/ops/metrics).
    "fabrknt.ops.metrics.middleware.RequestMetricsMiddleware",
    "fabrknt.security.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before the guards, so that their refusals carry the headers too.
    # django-csp's, the policy of an unchanged response built once per process.
    "fabrknt.security.middleware.ContentSecurityPolicyMiddleware",
    "fabrknt.security.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fabrknt.security.middleware.IpRuleMiddleware",
    "fabrknt.security.middleware.BodyLimitMiddleware",
    "fabrknt.security.middleware.JsonContentTypeMiddleware",
    # Replica reads for safe requests, read-your-writes (fabrknt/db_router.py); removes
    # itself without DATABASE_REPLICA_URL.
    "fabrknt.db_router.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The click ingest paths run every guard above but not what only a browser needs
# (fabrknt/handlers.py): a guard added to MIDDLEWARE guards them too. Their CSP is the
# same policy, built once instead of per response (FixedContentSecurityPolicyMiddleware).
_INGEST_SUBSTITUTES = {
    "fabrknt.security.middleware.ContentSecurityPolicyMiddleware": (
        "fabrknt.security.middleware.FixedContentSecurityPolicyMiddleware"
    ),
}
_BROWSER_ONLY_MIDDLEWARE = {
    # Ingest only writes: its reads stay on the primary.
    "fabrknt.db_router.ReplicaReadsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
}
INGEST_MIDDLEWARE = [
    _INGEST_SUBSTITUTES.get(path, path)
    for path in MIDDLEWARE
    if path not in _BROWSER_ONLY_MIDDLEWARE
]

ROOT_URLCONF = "fabrknt.urls"
WSGI_APPLICATION = "fabrknt.wsgi.application"
ASGI_APPLICATION = "fabrknt.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.pages.current.organizations",
            ],
        },
    },
]

# --- data -------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent requests (runserver's threads). A transaction
    # that reads and then writes cannot wait for SQLite's write lock and fails at once
    # ("database is locked"), so transactions take it when they begin (IMMEDIATE) and wait
    # up to `timeout` seconds for it; in WAL mode readers never block the writer.
    # synchronous=NORMAL is durable against a crashed process (WAL's documented pairing).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
# A read replica (fabrknt/db_router.py): the safe-method requests of a caller who has not
# written within DATABASE_REPLICA_PIN_SECONDS read from it; everything else (writes,
# transactions, tasks, commands, migrations) uses `default`. Unset: no `replica` alias.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_PIN_SECONDS = env.float("DATABASE_REPLICA_PIN_SECONDS", default=5.0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # Tests read the default test database through it.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["fabrknt.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# A page's session user is read with the header's wallet (accounts.backends); sessions
# begun under ModelBackend, and the admin's password sign-in, keep using it.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.SessionUserBackend",
    "django.contrib.auth.backends.ModelBackend",
]


REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis's backend, counting hits and misses for /metrics.
            "BACKEND": "fabrknt.ops.metrics.cache.CountingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "fabrknt",
            # Fail fast when Redis is unreachable instead of hanging the request. Redis
            # errors reach the callers (no IGNORE_EXCEPTIONS): each one decides whether
            # to fall back or fail.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "fabrknt.ops.metrics.cache.CountingLocMemCache"}}
# Sessions are kept in the database; with Redis, read from it (accounts/sessions.py), a
# copy living SESSION_CACHE_SECONDS at most. The signed-in user with their memberships
# (accounts/cache.py) lives as long: a change that could not retire them while Redis was
# unreachable goes unseen that long at most once it answers again.
if REDIS_URL:
    SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_SECONDS = env.int("SESSION_CACHE_SECONDS", default=60)
# After a Redis call fails, each process uses the fallbacks (database, per-process rate
# limits) for this long before it asks Redis again (fabrknt/redis_backoff.py).
REDIS_BACKOFF_SECONDS = env.float("REDIS_BACKOFF_SECONDS", default=5.0)

# --- files ------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
# Uploaded files (FABRIC's data room and listing media) when no bucket is set. Nothing
# serves this directory: every file goes out through a view that checks who asks.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# S3, or an S3-compatible server (AWS_S3_ENDPOINT_URL), once a bucket is set. The keys are
# boto3's: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, or the instance's
# role. The bucket stays private: files go out through presigned links.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
# `path` for S3-compatible servers addressed by IP or without wildcard DNS.
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
# How long a data-room download link (a presigned URL, or our own signed one) works.
FABRIC_DOCUMENT_LINK_SECONDS = env.int("FABRIC_DOCUMENT_LINK_SECONDS", default=300)


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None,
    region: str | None,
    addressing_style: str | None,
    presigned_seconds: int,
) -> dict[str, object]:
    """A private bucket's storage: nothing public, files out through presigned URLs."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "addressing_style": addressing_style,
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": presigned_seconds,
            "file_overwrite": False,
        },
    }


def _file_storage(*, presigned_seconds: int) -> dict[str, object]:
    """Uploaded files: the bucket when configured, else MEDIA_ROOT."""
    if not AWS_STORAGE_BUCKET_NAME:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return s3_storage(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        addressing_style=AWS_S3_ADDRESSING_STYLE,
        presigned_seconds=presigned_seconds,
    )


STORAGES = {
    "default": _file_storage(presigned_seconds=3600),
    # FABRIC (fabric/storage.py): data-room documents, and listing images.
    "dataroom": _file_storage(presigned_seconds=FABRIC_DOCUMENT_LINK_SECONDS),
    "media": _file_storage(presigned_seconds=3600),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- i18n -------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- security ---------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the sign-in page's script reads it for POSTs
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = (
        tuple(env.list("SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"]))
        or None
    )
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and the scrape: a sidecar or Prometheus in the network reaches them over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy (django-csp) of every response, the ingest paths' included (only
# Django's debug pages for 404 and 500 go without). Our pages carry no inline script or
# style at all; a view that needs one adds its hash or a nonce for itself
# (`csp.decorators.csp_update`), as Swagger UI does (fabrknt/security/swagger_ui.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Request guards (fabrknt/security): body limits in bytes per path family.
API_BODY_LIMIT = env.int("API_BODY_LIMIT", default=8 * 1024)
WEBHOOK_BODY_LIMIT = env.int("WEBHOOK_BODY_LIMIT", default=2 * 1024 * 1024)
CLICK_BATCH_BODY_LIMIT = env.int("CLICK_BATCH_BODY_LIMIT", default=256 * 1024)
NDA_SIGN_BODY_LIMIT = env.int("NDA_SIGN_BODY_LIMIT", default=128 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_BODY_LIMIT, 2_621_440)

# FABRIC's uploads (fabric/services/dataroom.py, media.py). A data-room document is one of
# FABRIC_DOCUMENT_TYPES, told by its content (never its name).
FABRIC_DOCUMENT_MAX_BYTES = env.int("FABRIC_DOCUMENT_MAX_BYTES", default=25 * 1024 * 1024)
FABRIC_DOCUMENT_TYPES = env.list(
    "FABRIC_DOCUMENT_TYPES", default=["pdf", "png", "jpeg", "csv", "xlsx", "docx", "txt", "md"]
)
# Listing images (PNG, JPEG or WebP): the original kept, a WebP made for the marketplace.
FABRIC_MEDIA_MAX_BYTES = env.int("FABRIC_MEDIA_MAX_BYTES", default=8 * 1024 * 1024)
FABRIC_MEDIA_MAX_SCREENSHOTS = env.int("FABRIC_MEDIA_MAX_SCREENSHOTS", default=8)
# The multipart endpoints, the API's only bodies that are not JSON: each body may be its
# file's limit plus this much for the form's other fields and the multipart framing.
MULTIPART_OVERHEAD = 64 * 1024
API_UPLOAD_BODY_LIMITS = {
    r"/api/v1/listings/[^/]+/documents": FABRIC_DOCUMENT_MAX_BYTES + MULTIPART_OVERHEAD,
    r"/api/v1/listings/[^/]+/media": FABRIC_MEDIA_MAX_BYTES + MULTIPART_OVERHEAD,
}
# The proxies in front (CDN origin-facing ranges, the load balancer's subnets), as CIDRs:
# X-Forwarded-For is followed only through them (fabrknt/security/client_ip.py). A hop
# count cannot tell a CDN path from a direct path to the load balancer; addresses can.
# Required in production, where `none` says that clients connect directly.
_NO_PROXIES = "none"


def _trusted_proxies(value: str) -> list[str]:
    if value.strip().lower() == _NO_PROXIES:
        return []
    if not value.strip():
        if PRODUCTION:
            raise ImproperlyConfigured(
                "Set TRUSTED_PROXIES to the CIDRs of the proxies in front (load balancer "
                f"subnets, CDN ranges), or to {_NO_PROXIES!r} when clients "
                "connect directly: without it every client has the proxy's address."
            )
        return []
    networks = []
    for entry in value.split(","):
        try:
            networks.append(str(ipaddress.ip_network(entry.strip())))
        except ValueError as error:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error
    return networks


TRUSTED_PROXIES = _trusted_proxies(env.str("TRUSTED_PROXIES", default=""))

# --- pages ------------------------------------------------------------------------------

# Each product's sections of an organization's JSON export (accounts adds its members and
# keys itself): section name -> function of the organization id yielding rows.
ORGANIZATION_EXPORT_SECTIONS = {
    "projects": "trace.export.organization_projects_export",
    "campaigns": "trace.export.organization_campaigns_export",
    "pulse_teams": "pulse.export.organization_teams_export",
    "pulse_team_repositories": "pulse.export.organization_team_repositories_export",
    "pulse_contributors": "pulse.export.organization_contributors_export",
}

# Each product's sections of the "Your account" page, in order: dotted paths of functions
# of the request returning the section's HTML.
ACCOUNT_PAGE_SECTIONS = ["pulse.pages.identity.account_section"]

# --- API --------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fabrknt.api.authentication.BearerJWTAuthentication",
        "fabrknt.api.authentication.ApiKeyAuthentication",
        "fabrknt.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["fabrknt.api.permissions.IsSignedIn"],
    "DEFAULT_THROTTLE_CLASSES": ["fabrknt.api.throttles.DefaultThrottle"],
    "DEFAULT_PAGINATION_CLASS": "fabrknt.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["fabrknt.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "fabrknt.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "fabrknt.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Requests per minute. Token buckets on Redis when REDIS_URL is set; without Redis, or
# while it is down, token buckets in each process (fabrknt/api/rate_limit.py).
RATE_LIMITS = {
    "anonymous": env.int("RATE_LIMIT_ANONYMOUS", default=120),
    "user": env.int("RATE_LIMIT_USER", default=600),
    "api_key": env.int("RATE_LIMIT_API_KEY", default=6000),
    "sign_in": env.int("RATE_LIMIT_SIGN_IN", default=20),
    "ingest": env.int("RATE_LIMIT_INGEST", default=120000),
    # GET /t/ per visitor IP; over it the visitor is still redirected, but not recorded.
    "tracking_link": env.int("RATE_LIMIT_TRACKING_LINK", default=600),
    # Landing-domain checks per user: each one makes us fetch from a host the caller names.
    "domain_verification": env.int("RATE_LIMIT_DOMAIN_VERIFICATION", default=10),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fabrknt Suite API",
    "DESCRIPTION": "TRACE growth attribution, PULSE team vitality and FABRIC M&A marketplace.",
    "VERSION": "1.0.0",
    # 3.1: the webhook payload models (pydantic) describe optional fields as `type: null`.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are public: like every endpoint open to all, they read no
    # credentials (a revoked key or an expired token sent along is the anonymous caller).
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the vendored sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field name (`kind`) other components also use.
    "ENUM_NAME_OVERRIDES": {"MediaKindEnum": "fabric.models.MediaKind"},
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- wallet sign-in ---------------------------------------------------------------------

SIWE_ALLOWED_DOMAINS = env.list(
    "SIWE_ALLOWED_DOMAINS",
    default=[] if PRODUCTION else [*_DEVELOPMENT_DOMAINS, "testserver"],
)
SIGN_IN_NONCE_TTL = timedelta(seconds=env.int("SIGN_IN_NONCE_TTL_SECONDS", default=600))
# Solana clusters a sign-in message may name. An EVM sign-in may name any chain id: an
# EOA's chain is recorded, a contract wallet needs the chain's CHAIN_RPC_URLS entry.
SIWS_SUPPORTED_CHAINS = env.list(
    "SIWS_SUPPORTED_CHAINS", default=["solana:mainnet", "solana:devnet", "solana:testnet"]
)

# --- mail -------------------------------------------------------------------------------

# Outgoing mail (email verification, notifications): django-environ's email_url, e.g.
# `smtp+tls://user:password@smtp.example:587` or `consolemail://`. In production without
# it, mail is off: the account page offers no email address. (Django's test runner
# replaces the backend with its in-memory outbox.)
EMAIL_URL = env.str("EMAIL_URL", default="" if PRODUCTION else "consolemail://")
EMAIL_ENABLED = bool(EMAIL_URL)
vars().update(env.email_url_config(EMAIL_URL or "dummymail://"))
# The origin links in mails point at; mails are often sent by tasks, which have no request.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL",
    # In development, where `make run` serves (a wildcard bind is reached on 127.0.0.1).
    default=""
    if PRODUCTION
    else f"http://{DEV_SERVER_HOST.replace('0.0.0.0', '127.0.0.1')}:{DEV_SERVER_PORT}",  # noqa: S104  (not a bind: where a wildcard bind is reached)
).rstrip("/")
if EMAIL_ENABLED and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("EMAIL_URL needs PUBLIC_BASE_URL (https://your.host) for links")
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL",
    default=f"Fabrknt Suite <noreply@{urlsplit(PUBLIC_BASE_URL).hostname or 'localhost'}>",
)
EMAIL_VERIFICATION_TTL = timedelta(
    seconds=env.int("EMAIL_VERIFICATION_TTL_SECONDS", default=3 * 24 * 3600)
)
# One verification mail per account in this long: nobody floods an inbox through us.
EMAIL_VERIFICATION_RESEND_AFTER = timedelta(
    seconds=env.int("EMAIL_VERIFICATION_RESEND_SECONDS", default=60)
)

# --- chains and integrations ------------------------------------------------------------

CHAIN_RPC_URLS = env.dict("CHAIN_RPC_URLS", default={})
# How long a message for proving control of a contract (verify-message) can be signed: a
# day, so the owners of a multisig have time to gather their signatures.
CONTRACT_VERIFICATION_TTL = timedelta(
    seconds=env.int("CONTRACT_VERIFICATION_TTL_SECONDS", default=24 * 3600)
)
# The chain indexer reads blocks this deep below the head (reorgs above it are re-derived),
# at most this many blocks per eth_getLogs call (providers cap ranges), and starts a new
# project this many blocks back unless its cursor (last_indexed_block) is set by hand.
INDEXER_CONFIRMATIONS = env.int("INDEXER_CONFIRMATIONS", default=6)
INDEXER_MAX_BLOCK_RANGE = env.int("INDEXER_MAX_BLOCK_RANGE", default=1000)
INDEXER_INITIAL_LOOKBACK = env.int("INDEXER_INITIAL_LOOKBACK", default=10_000)
# How many blocks below the cursor are re-checked for a reorg on every run.
INDEXER_REORG_WINDOW = env.int("INDEXER_REORG_WINDOW", default=128)
# Transactions and blocks are read in JSON-RPC batches of at most this many calls (public
# endpoints cap batches; Alchemy and Infura take 1,000, some nodes far fewer).
INDEXER_RPC_BATCH_SIZE = env.int("INDEXER_RPC_BATCH_SIZE", default=100)
# A backfill (a project's history below the live cursor) reads at most this many blocks a
# task run, then queues its next run: a long history never holds a worker for long.
INDEXER_BACKFILL_BLOCKS_PER_RUN = env.int("INDEXER_BACKFILL_BLOCKS_PER_RUN", default=10_000)
CHAIN_SIGNER_KEY = env.str(
    "CHAIN_SIGNER_KEY",
    # eth-tester's first well-known account: a local chain only, never a real one.
    default="" if PRODUCTION else "0x" + "0" * 63 + "1",
)
# How long a transaction we send (a deployment, a mint) may take to be mined before the
# task gives up for now and retries (it then finds the transaction by its hash).
CHAIN_RECEIPT_TIMEOUT_SECONDS = env.int("CHAIN_RECEIPT_TIMEOUT_SECONDS", default=120)
# Where PULSE mints its soulbound tokens (a CAIP-2 EVM chain with a CHAIN_RPC_URLS entry and
# our FabrkntSBT deployed by `deploy_contracts`). Default: the only EVM chain configured.
_EVM_CHAINS = [chain for chain in CHAIN_RPC_URLS if chain.startswith("eip155:")]
SBT_CHAIN = env.str("SBT_CHAIN", default=_EVM_CHAINS[0] if len(_EVM_CHAINS) == 1 else "")
if SBT_CHAIN and not re.fullmatch(r"eip155:[0-9]{1,20}", SBT_CHAIN):
    raise ImproperlyConfigured("SBT_CHAIN must be an EVM CAIP-2 id such as eip155:8453")
# FABRIC's escrow contract (contracts/fabric/FabrkntEscrow.sol), deployed by
# `deploy_contracts`: its arbiter, fixed at deployment (a multisig in production, never the
# CHAIN_SIGNER_KEY's address; empty: no arbiter, disputes wait for both parties), and the
# platform fee each new deal takes, in basis points (at most 1000, the contract's cap), paid
# to ESCROW_FEE_RECIPIENT (empty: the signer's address).
ESCROW_ARBITER_ADDRESS = env.str("ESCROW_ARBITER_ADDRESS", default="")
ESCROW_FEE_BPS = env.int("ESCROW_FEE_BPS", default=250)
ESCROW_FEE_RECIPIENT = env.str("ESCROW_FEE_RECIPIENT", default="")
for _name, _address in (
    ("ESCROW_ARBITER_ADDRESS", ESCROW_ARBITER_ADDRESS),
    ("ESCROW_FEE_RECIPIENT", ESCROW_FEE_RECIPIENT),
):
    if _address and not re.fullmatch(r"0x[0-9a-fA-F]{40}", _address):
        raise ImproperlyConfigured(f"{_name} must be an EVM address (0x and 40 hex digits)")
if not 0 <= ESCROW_FEE_BPS <= 1000:
    raise ImproperlyConfigured("ESCROW_FEE_BPS must be between 0 and 1000 (10%)")
# FABRIC's proof of funds: the ERC-20 tokens whose balances it reads on each EVM chain
# (`eip155:8453=0xTOKEN;0xTOKEN,eip155:1=0xTOKEN`; a chain not named reads every enabled
# ERC-20 of the asset registry on it), and how long a wallet's answer is kept.
PROOF_OF_FUNDS_TOKENS = {
    chain: [token.strip() for token in tokens.split(";") if token.strip()]
    for chain, tokens in env.dict("PROOF_OF_FUNDS_TOKENS", default={}).items()
}
PROOF_OF_FUNDS_CACHE_SECONDS = env.int("PROOF_OF_FUNDS_CACHE_SECONDS", default=60)
# FABRIC's revenue verifier reads a seller's Stripe charges from this API (a setting so the
# tests point it at a local server).
STRIPE_API_URL = env.str("STRIPE_API_URL", default="https://api.stripe.com").rstrip("/")
STRIPE_HTTP_TIMEOUT_SECONDS = env.float("STRIPE_HTTP_TIMEOUT_SECONDS", default=20.0)
# A deal opened by `POST /api/v1/escrow/init` must be funded and settled within this many
# days; after it, each party withdraws what it put in.
ESCROW_DEADLINE_DAYS = env.int("ESCROW_DEADLINE_DAYS", default=30)
if not 1 <= ESCROW_DEADLINE_DAYS <= 365:
    raise ImproperlyConfigured("ESCROW_DEADLINE_DAYS must be between 1 and 365")
# `monitor_escrows` reads the escrow's events this many blocks below the head (a deal is
# released, and its listing sold, only once its settlement is this deep).
ESCROW_CONFIRMATIONS = env.int("ESCROW_CONFIRMATIONS", default=INDEXER_CONFIRMATIONS)
# A CoinGecko-compatible API (`…/api/v3`): the asset registry's prices, fetched hourly.
# Empty: prices come from the admin only.
PRICE_FEED_URL = env.str("PRICE_FEED_URL", default="")
# Sanity caps in whole US dollars. A transfer worth more is recorded as unpriced
# (`over_cap`); a project-day whose volume is above the daily cap is stored flagged.
# Chain-derived conversions copy a transfer's value, so the transfer cap stays below what
# Conversion.value_usd holds.
TRANSFER_VALUE_CAP_USD = env.int("TRANSFER_VALUE_CAP_USD", default=10**10)
METRICS_DAILY_VOLUME_CAP_USD = env.int("METRICS_DAILY_VOLUME_CAP_USD", default=10**11)
if not 0 < TRANSFER_VALUE_CAP_USD <= 10**15:
    raise ImproperlyConfigured("TRANSFER_VALUE_CAP_USD must be between 1 and 10^15")
if METRICS_DAILY_VOLUME_CAP_USD <= 0:
    raise ImproperlyConfigured("METRICS_DAILY_VOLUME_CAP_USD must be positive")
ALCHEMY_WEBHOOK_SIGNING_KEY = env.str("ALCHEMY_WEBHOOK_SIGNING_KEY", default="")
HELIUS_WEBHOOK_AUTH = env.str("HELIUS_WEBHOOK_AUTH", default="")
# Keeping the providers' address lists in step with the projects (trace.services.
# provider_sync). Alchemy has one Address Activity webhook per network, named here by
# CAIP-2 chain: ALCHEMY_WEBHOOK_IDS=eip155:1=wh_abc,eip155:8453=wh_def. Unset: sync is off.
ALCHEMY_NOTIFY_TOKEN = env.str("ALCHEMY_NOTIFY_TOKEN", default="")
ALCHEMY_WEBHOOK_IDS: dict[str, str] = env.dict("ALCHEMY_WEBHOOK_IDS", default={})
if bad_chains := [
    chain for chain in ALCHEMY_WEBHOOK_IDS if not re.fullmatch(r"eip155:[1-9][0-9]*", chain)
]:
    raise ImproperlyConfigured(
        f"ALCHEMY_WEBHOOK_IDS keys must be CAIP-2 EVM chains (eip155:<id>), not {bad_chains}"
    )
ALCHEMY_NOTIFY_API_URL = env.str("ALCHEMY_NOTIFY_API_URL", default="https://dashboard.alchemy.com")
HELIUS_API_KEY = env.str("HELIUS_API_KEY", default="")
HELIUS_WEBHOOK_ID = env.str("HELIUS_WEBHOOK_ID", default="")
HELIUS_API_URL = env.str("HELIUS_API_URL", default="https://api.helius.xyz")
# PULSE's GitHub App: its webhook secret (only GitHub knows it, so its events are
# verified), its id and private key (PEM; `\n` escapes accepted) for installation tokens,
# and its URL name (github.com/apps/<slug>) for the install link. GITHUB_TOKEN: a token
# for `backfill_github` when a team has no App installation. All optional: unset, that
# path is off (the App webhook answers 503, the install link is not offered).
GITHUB_WEBHOOK_SECRET = env.str("GITHUB_WEBHOOK_SECRET", default="")
GITHUB_TOKEN = env.str("GITHUB_TOKEN", default="")
GITHUB_APP_ID = env.str("GITHUB_APP_ID", default="")
GITHUB_APP_PRIVATE_KEY = env.str("GITHUB_APP_PRIVATE_KEY", default="").replace("\\n", "\n")
GITHUB_APP_SLUG = env.str("GITHUB_APP_SLUG", default="")
# GitHub's web and REST origins (tests point them at a local server).
GITHUB_URL = env.str("GITHUB_URL", default="https://github.com").rstrip("/")
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
GITHUB_API_TIMEOUT_SECONDS = env.float("GITHUB_API_TIMEOUT_SECONDS", default=10.0)
# The longest a backfill waits for GitHub's rate limit to reset before it stops (it can be
# re-run: it is idempotent).
GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = env.int("GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS", default=900)
# How long the signed state of an App install link is accepted.
GITHUB_INSTALL_STATE_MAX_AGE_SECONDS = env.int("GITHUB_INSTALL_STATE_MAX_AGE_SECONDS", default=3600)

# Growth certificates: a base64 Ed25519 seed (32 bytes). Its key id is derived from the
# public key, so rotating the seed changes the id; list retired public keys (base64) in
# CERTIFICATE_PUBLIC_KEYS to keep publishing them for certificates already issued.
if PRODUCTION:
    CERTIFICATE_SIGNING_KEY = env.str("CERTIFICATE_SIGNING_KEY")  # no default
else:
    CERTIFICATE_SIGNING_KEY = env.str("CERTIFICATE_SIGNING_KEY", default="") or _checkout_secret(
        ".certificate_signing_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
try:
    if len(base64.b64decode(CERTIFICATE_SIGNING_KEY, validate=True)) != 32:
        raise ValueError
except (binascii.Error, ValueError) as error:
    raise ImproperlyConfigured(
        "CERTIFICATE_SIGNING_KEY must be a base64-encoded 32-byte Ed25519 seed"
    ) from error
CERTIFICATE_PUBLIC_KEYS = env.list("CERTIFICATE_PUBLIC_KEYS", default=[])

# Third-party secrets stored at rest (team webhook secrets, Notion tokens) are encrypted
# with these Fernet keys (fabrknt/encrypted.py): comma-separated, the first encrypts, all
# decrypt, so a key is rotated by putting a new one first. Make one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
if PRODUCTION:
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY")  # no default
else:
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="") or _checkout_secret(
        ".field_encryption_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )


def _fernet_key_valid(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.strip().encode())) == 32
    except (binascii.Error, ValueError):
        return False


if not all(_fernet_key_valid(key) for key in FIELD_ENCRYPTION_KEY.split(",")):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
    )
# --- PULSE community: Discord relay, identity linking, Notion ------------------------------

# Our Discord bot (`manage.py run_discord_bot`) signs each relay with the Ed25519 seed
# DISCORD_RELAY_SIGNING_KEY (base64, 32 bytes; only the bot's host needs it) and the web tier
# checks it with DISCORD_RELAY_PUBLIC_KEY (base64 raw public key). Unset: the relay
# endpoint answers 503 and the bot refuses to start.
DISCORD_RELAY_PUBLIC_KEY = env.str("DISCORD_RELAY_PUBLIC_KEY", default="")
DISCORD_RELAY_SIGNING_KEY = env.str("DISCORD_RELAY_SIGNING_KEY", default="")
for _name, _value in [
    ("DISCORD_RELAY_PUBLIC_KEY", DISCORD_RELAY_PUBLIC_KEY),
    ("DISCORD_RELAY_SIGNING_KEY", DISCORD_RELAY_SIGNING_KEY),
]:
    try:
        if _value and len(base64.b64decode(_value, validate=True)) != 32:
            raise ValueError
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(
            f"{_name} must be a base64-encoded 32-byte Ed25519 key"
        ) from error
# How old (or how far ahead) a relay's X-Signature-Timestamp may be.
DISCORD_RELAY_MAX_AGE_SECONDS = env.int("DISCORD_RELAY_MAX_AGE_SECONDS", default=300)
# Where the bot posts its relays: by default this platform's own endpoint.
DISCORD_RELAY_URL = env.str("DISCORD_RELAY_URL", default="") or (
    f"{PUBLIC_BASE_URL}/api/v1/discord/webhook" if PUBLIC_BASE_URL else ""
)
DISCORD_BOT_TOKEN = env.str("DISCORD_BOT_TOKEN", default="")
# The Discord application of the bot: its install link and the users' "Link Discord" both
# use it (DISCORD_OAUTH_CLIENT_ID/_SECRET are read as the same values).
DISCORD_CLIENT_ID = env.str("DISCORD_CLIENT_ID", default="") or env.str(
    "DISCORD_OAUTH_CLIENT_ID", default=""
)
DISCORD_CLIENT_SECRET = env.str("DISCORD_CLIENT_SECRET", default="") or env.str(
    "DISCORD_OAUTH_CLIENT_SECRET", default=""
)
# The bot's permissions in the install link: View Channels, Read Message History (its
# events need nothing more; it never writes).
DISCORD_BOT_PERMISSIONS = env.int("DISCORD_BOT_PERMISSIONS", default=66560)
# Discord's origin for OAuth and its API (tests point it at a local server; GitHub's are
# GITHUB_URL and GITHUB_API_URL above).
DISCORD_BASE_URL = env.str("DISCORD_BASE_URL", default="https://discord.com").rstrip("/")
GITHUB_OAUTH_CLIENT_ID = env.str("GITHUB_OAUTH_CLIENT_ID", default="")
GITHUB_OAUTH_CLIENT_SECRET = env.str("GITHUB_OAUTH_CLIENT_SECRET", default="")
# How long an OAuth state (identity link, bot install) may wait for the provider's redirect.
OAUTH_STATE_TTL = timedelta(seconds=env.int("OAUTH_STATE_TTL_SECONDS", default=600))
# A team's Discord install link may be sent to the server's admin: it lasts longer.
DISCORD_INSTALL_LINK_TTL = timedelta(
    seconds=env.int("DISCORD_INSTALL_LINK_TTL_SECONDS", default=24 * 3600)
)
OAUTH_HTTP_TIMEOUT_SECONDS = env.float("OAUTH_HTTP_TIMEOUT_SECONDS", default=10.0)
# Notion: each team's own integration token (stored encrypted); the API's origin and the
# version header it is read with (beat reads the workspaces every 30 minutes: admin).
NOTION_API_URL = env.str("NOTION_API_URL", default="https://api.notion.com").rstrip("/")
NOTION_API_VERSION = env.str("NOTION_API_VERSION", default="2022-06-28")
# A newly connected workspace is read this far back.
NOTION_INITIAL_LOOKBACK_DAYS = env.int("NOTION_INITIAL_LOOKBACK_DAYS", default=30)

# --- TRACE clicks -----------------------------------------------------------------------

# Keep visitors' full IP addresses; by default they are cut to /24 (IPv4) or /48 (IPv6).
STORE_FULL_IP = env.bool("STORE_FULL_IP", default=False)
# The Redis stream the click fast path appends to and `trace.flush_clicks` drains.
CLICK_STREAM_KEY = env.str("CLICK_STREAM_KEY", default="fabrknt:clicks")
# A safety cap if flushing stops (approximate trim); far above any healthy backlog.
CLICK_STREAM_MAXLEN = env.int("CLICK_STREAM_MAXLEN", default=10_000_000)
CLICK_FLUSH_BATCH_SIZE = env.int("CLICK_FLUSH_BATCH_SIZE", default=5000)
# Entries a flusher read but did not acknowledge for this long belong to a dead worker.
CLICK_STREAM_CLAIM_IDLE_SECONDS = env.int("CLICK_STREAM_CLAIM_IDLE_SECONDS", default=60)
CLICK_BATCH_MAX_ITEMS = env.int("CLICK_BATCH_MAX_ITEMS", default=500)
# Raw clicks are kept this many days (or their campaign's attribution window, when
# longer), then rolled up into daily counts per campaign and deleted by the daily
# `trace.purge_expired_clicks`; a click a conversion refers to stays with the visit's
# details erased (trace/services/clicks/retention.py). 395: a year and a month.
CLICK_RETENTION_DAYS = env.int("CLICK_RETENTION_DAYS", default=395)
if CLICK_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("CLICK_RETENTION_DAYS must be at least 1")

# --- TRACE landing domains --------------------------------------------------------------

# The check of https://DOMAIN/.well-known/fabrknt-verification.txt: the time limit of the
# whole exchange (redirects included) and the largest file read.
DOMAIN_VERIFICATION_TIMEOUT_SECONDS = env.float("DOMAIN_VERIFICATION_TIMEOUT_SECONDS", default=3.0)
DOMAIN_VERIFICATION_MAX_BYTES = env.int("DOMAIN_VERIFICATION_MAX_BYTES", default=4096)
# Development only, for a local test server: fetch from loopback and private addresses,
# over http, on another port (0: the scheme's). Anywhere else they refuse to start.
DOMAIN_VERIFICATION_ALLOW_PRIVATE = env.bool("DOMAIN_VERIFICATION_ALLOW_PRIVATE", default=False)
DOMAIN_VERIFICATION_SCHEME = env.str("DOMAIN_VERIFICATION_SCHEME", default="https")
DOMAIN_VERIFICATION_PORT = env.int("DOMAIN_VERIFICATION_PORT", default=0)
if DOMAIN_VERIFICATION_SCHEME not in {"http", "https"}:
    raise ImproperlyConfigured("DOMAIN_VERIFICATION_SCHEME must be http or https")
if DJANGO_ENV != "development" and (
    DOMAIN_VERIFICATION_ALLOW_PRIVATE
    or DOMAIN_VERIFICATION_SCHEME != "https"
    or DOMAIN_VERIFICATION_PORT
):
    raise ImproperlyConfigured(
        "DOMAIN_VERIFICATION_ALLOW_PRIVATE, _SCHEME and _PORT are for development only"
    )

# --- TRACE conversions and wallet links -------------------------------------------------


def _money_setting(name: str, default: str) -> Decimal:
    """A positive amount of dollars with at most two decimals (below the 10**18 that the
    money columns hold)."""
    raw = env.str(name, default=default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not (value.is_finite() and 0 < value < 10**18 and value == value.quantize(Decimal("0.01"))):
        raise ImproperlyConfigured(
            f"{name} must be a positive amount with two decimals, not {raw!r}"
        )
    return value


# The largest value_usd a conversion posted to the API may claim (400 above it).
CONVERSION_VALUE_MAX_USD = _money_setting("CONVERSION_VALUE_MAX_USD", "1000000000000")
# How many wallets one click may be linked to (/identify answers 409 beyond): a click id
# seen by others (a shared link, a scraper) cannot be used to claim arbitrary wallets.
IDENTIFY_MAX_WALLETS_PER_CLICK = env.int("IDENTIFY_MAX_WALLETS_PER_CLICK", default=3)
if IDENTIFY_MAX_WALLETS_PER_CLICK < 1:
    raise ImproperlyConfigured("IDENTIFY_MAX_WALLETS_PER_CLICK must be at least 1")
# The message a wallet signs to prove its link to a click names this domain (as a sign-in
# message does) and expires after this many seconds; its nonce is single use.
# By default the sign-in domain, else the platform's own host.
IDENTIFY_MESSAGE_DOMAIN = env.str(
    "IDENTIFY_MESSAGE_DOMAIN", default=next(iter(SIWE_ALLOWED_DOMAINS + ALLOWED_HOSTS), "")
)
if not IDENTIFY_MESSAGE_DOMAIN:
    raise ImproperlyConfigured(
        "Set IDENTIFY_MESSAGE_DOMAIN (or SIWE_ALLOWED_DOMAINS, or ALLOWED_HOSTS)"
    )
IDENTIFY_MESSAGE_TTL = timedelta(seconds=env.int("IDENTIFY_MESSAGE_TTL_SECONDS", default=600))

# --- PULSE scores -------------------------------------------------------------------------

# A contribution's points halve every this many days (pulse.services.scores).
PULSE_SCORE_HALF_LIFE_DAYS = env.float("PULSE_SCORE_HALF_LIFE_DAYS", default=90.0)
if PULSE_SCORE_HALF_LIFE_DAYS <= 0:
    raise ImproperlyConfigured("PULSE_SCORE_HALF_LIFE_DAYS must be positive")
# Retention compares who was active in the last period with the period before it.
PULSE_RETENTION_PERIOD_DAYS = env.int("PULSE_RETENTION_PERIOD_DAYS", default=30)
if PULSE_RETENTION_PERIOD_DAYS < 1:
    raise ImproperlyConfigured("PULSE_RETENTION_PERIOD_DAYS must be at least 1")

# A contributor's invitation link (pulse.services.invites) is valid this many days.
PULSE_INVITE_MAX_AGE_DAYS = env.int("PULSE_INVITE_MAX_AGE_DAYS", default=14)
if PULSE_INVITE_MAX_AGE_DAYS < 1:
    raise ImproperlyConfigured("PULSE_INVITE_MAX_AGE_DAYS must be at least 1")

# FABRIC: a published listing waits for an operator's approval in the admin
# (`pending_review`) before it reaches the marketplace.
FABRIC_REQUIRE_REVIEW = env.bool("FABRIC_REQUIRE_REVIEW", default=False)

# --- jobs -------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# How often a task lost with its worker is handed out again before it is dropped.
CELERY_MAX_REDELIVERIES = env.int("CELERY_MAX_REDELIVERIES", default=3)
# Dead letters a queue keeps on a Redis broker (the newest; each one past it drops the
# oldest, logged): Redis holds them in memory. SQS keeps its dead-letter queues 14 days.
CELERY_DEAD_LETTERS_MAX = env.int("CELERY_DEAD_LETTERS_MAX", default=10000)
# Longer than the longest task and any retry countdown, else Redis/SQS redeliver
# a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 60 * 60),
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late, a task cut off by a lost broker connection is redelivered anyway; cancel
# it rather than let two copies run (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# --- backups ----------------------------------------------------------------------------

# `manage.py backup_db` (hourly in beat) writes pg_dump's custom format with a sha256
# manifest to the `backups` named storage (fabrknt/ops/backups.py): BACKUP_BUCKET on S3
# (AWS_S3_ENDPOINT_URL and the other AWS_S3_* settings above apply), else BACKUP_ROOT on
# this server, readable by the server's user only. A backup is deleted once it is older than
# BACKUP_RETENTION_DAYS or beyond the BACKUP_KEEP newest; the newest one is never deleted.
BACKUP_BUCKET = env.str("BACKUP_BUCKET", default="")
BACKUP_ROOT = Path(env.str("BACKUP_ROOT", default=str(BASE_DIR / "backups")))
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=7)
BACKUP_KEEP = env.int("BACKUP_KEEP", default=200)
if BACKUP_RETENTION_DAYS < 1 or BACKUP_KEEP < 1:
    raise ImproperlyConfigured("BACKUP_RETENTION_DAYS and BACKUP_KEEP must be at least 1")
# Where pg_dump and pg_restore are (their major version at least the server's), e.g.
# /usr/lib/postgresql/16/bin; empty: found on PATH.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
STORAGES["backups"] = (
    s3_storage(
        bucket=BACKUP_BUCKET,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        addressing_style=AWS_S3_ADDRESSING_STYLE,
        presigned_seconds=300,
    )
    if BACKUP_BUCKET
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": BACKUP_ROOT,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
)

# --- queues and dead letters (fabrknt.ops.queues) ---------------------------------------

# On SQS (CELERY_BROKER_URL=sqs://, or sqs://KEY:SECRET@host:port for an SQS-compatible
# server): the region, and a prefix that keeps this deployment's queues apart from others
# in the account. `manage.py ensure_queues` and every worker's start give each queue its
# dead-letter queue and redrive policy.
CELERY_SQS_REGION = env.str("CELERY_SQS_REGION", default="") or env.str(
    "AWS_DEFAULT_REGION", default="us-east-1"
)
CELERY_SQS_QUEUE_PREFIX = env.str("CELERY_SQS_QUEUE_PREFIX", default="fabrknt-")
# Dead letters are kept this long on SQS (its maximum: 14 days).
CELERY_SQS_DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60
if CELERY_BROKER_URL.startswith("sqs://"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        region=CELERY_SQS_REGION,
        queue_name_prefix=CELERY_SQS_QUEUE_PREFIX,
        # An endpoint in the URL is reached over https; false for a local server on http.
        is_secure=env.bool("CELERY_SQS_SECURE", default=True),
        # Long polling: also how soon a message a lost worker held is received again.
        wait_time_seconds=env.int("CELERY_SQS_WAIT_TIME_SECONDS", default=10),
    )
    # Celery holds a retry or an ETA in the worker until it is due, its message invisible
    # meanwhile: the timeout must outlast them (the `ops.E001` system check), and SQS
    # allows at most 12 hours.
    if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 12 * 60 * 60:
        raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT is at most 43200 s on SQS")

# --- logging ----------------------------------------------------------------------------

# `json`: one JSON object per line, for a log pipeline (production's default); `plain`: one
# readable line for a terminal (development's). Both carry the same ids and redact the
# same secrets (fabrknt/ops/logs.py, redaction.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "fabrknt.security.request_id.RequestIdLogFilter"}},
    "formatters": {
        "json": {"()": "fabrknt.ops.logs.JsonFormatter"},
        "plain": {"()": "fabrknt.ops.logs.PlainFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers (DEFAULT_LOGGING: plain text to stderr, and mail to ADMINS)
        # removed: their lines go through the console handler above like every other.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- metrics (fabrknt/ops/metrics) ------------------------------------------------------

# `/metrics` answers loopback, and with this token (`Authorization: Bearer <token>`) anyone
# else: Prometheus in the cluster. Empty: loopback only.
METRICS_SCRAPE_TOKEN = env.str("METRICS_SCRAPE_TOKEN", default="")

# --- telemetry (GET /api/v1/operational/telemetry, fabrknt/ops/telemetry.py) -----------

# The running code's version: the deployment sets it to the git commit it built; without
# it, a checkout's own commit is asked of git once per process.
APP_VERSION = env.str("APP_VERSION", default="")
# How often each Celery worker records itself in Redis, and after how long without a
# record the telemetry calls it stale (it stops, hangs, or lost Redis).
TELEMETRY_HEARTBEAT_SECONDS = env.float("TELEMETRY_HEARTBEAT_SECONDS", default=10.0)
TELEMETRY_WORKER_STALE_SECONDS = env.float("TELEMETRY_WORKER_STALE_SECONDS", default=30.0)
# --- live updates (fabrknt/live) --------------------------------------------------------

# Whether pages connect to /ws/live: off for a deployment that serves no ASGI server.
LIVE_UPDATES_ENABLED = env.bool("LIVE_UPDATES_ENABLED", default=True)
# Messages a connection may have waiting (in its process, fanned out from Redis pub/sub);
# past it the oldest are dropped (fabrknt/live/fanout.py, and fabrknt/live/layer.py for
# each process's receiver).
LIVE_CHANNEL_CAPACITY = env.int("LIVE_CHANNEL_CAPACITY", default=100)
# A push the client has not taken within this long (the server's write buffer is full):
# the client is too slow and the connection is closed (the watchdog of fabrknt/live/fanout.py).
LIVE_SEND_TIMEOUT_SECONDS = env.float("LIVE_SEND_TIMEOUT_SECONDS", default=5.0)
LIVE_MAX_SUBSCRIPTIONS = env.int("LIVE_MAX_SUBSCRIPTIONS", default=20)
# `{"subscribe": "<kind>:<id>"}`: which function says whether a user may see the object
# (keyword arguments user, object_id). The `ops` channel is staff's.
LIVE_CHANNEL_KINDS = {
    "campaign": "trace.live.campaign_live_visible",
    "project": "trace.live.project_live_visible",
}
if REDIS_URL:
    # Pub/sub ignores the database number of REDIS_URL: the prefix carries it, so two
    # deployments (or test runs) on one Redis server with their own databases stay apart.
    _REDIS_DATABASE = urlsplit(REDIS_URL).path.strip("/") or "0"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "fabrknt.live.layer.LiveChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"fabrknt:live:{_REDIS_DATABASE}:",
                "capacity": LIVE_CHANNEL_CAPACITY,
            },
        }
    }
else:  # the embedded default: one process, nothing shared
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": LIVE_CHANNEL_CAPACITY},
        }
    }

# --- CloudWatch -------------------------------------------------------------------------

# The namespace the app puts its own figures in for the AWS alarms (fabrknt/ops/cloudwatch.py:
# the newest backup's age, every minute from beat); empty: nothing is published. The AWS
# deployment sets it to its alarms' namespace ("Fabrknt"); boto3 finds the region and
# credentials (the ECS task role) itself.
CLOUDWATCH_METRICS_NAMESPACE = env.str("CLOUDWATCH_METRICS_NAMESPACE", default="")

# --- read cache (fabrknt/readcache.py; README, "Read cache") -----------------------------
# How long a cached read lives at most. Writes retire entries at once (generation
# counters); this is the safety net for a bump lost while Redis was down.
READ_CACHE_SECONDS = env.int("READ_CACHE_SECONDS", default=300)
# Off: every read from the database (writes still bump). bench/readcache.py compares both.
READ_CACHE_ENABLED = env.bool("READ_CACHE_ENABLED", default=True)
# Anyone's pages (certificates, token metadata): how long browsers (max-age) and the CDN
# (s-maxage) keep them. A change reaches the CDN within s-maxage.
PUBLIC_PAGE_MAX_AGE = env.int("PUBLIC_PAGE_MAX_AGE", default=60)
PUBLIC_PAGE_S_MAXAGE = env.int("PUBLIC_PAGE_S_MAXAGE", default=300)
