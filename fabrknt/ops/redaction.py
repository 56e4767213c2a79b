"""Scrubbing secrets out of log lines before they are written.

Nothing we log on purpose carries a secret, but log lines quote what they are given: an
exception's message (a provider's URL with `?api-key=`, a header echoed back), a request
line with a query string, `extra=` fields. Every line therefore goes through
`redact_event` (a structlog processor in both log formats, fabrknt/ops/logs.py), which
replaces with `[REDACTED]`:

- the values of the secret settings (SECRET_KEY, FIELD_ENCRYPTION_KEY, the signing keys,
  webhook secrets, provider tokens...: every setting whose name says secret, token, key,
  auth or password), and the passwords inside the database, cache and broker URLs,
  wherever they appear;
- what has the shape of a secret: our API keys (`fab_<prefix>_<secret>`: the prefix, which
  names the key, is kept), JWTs, Authorization schemes (`Bearer`, `Basic`...), PEM private
  keys, wallet signatures (65-byte hex and longer), `sha256=` HMAC signatures;
- the value after a sensitive name (`password=`, `"signature": `, `X-Api-Key:`,
  `HTTP_AUTHORIZATION': '...'`, `?token=`, `&code=`), and the whole value of an `extra=`
  field with such a name. A Solana signature is found this way only: its shape (64 bytes
  in base58) is also a Solana transaction's id, which the logs need.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from structlog.typing import EventDict, WrappedLogger

REDACTED = "[REDACTED]"
# Shorter values are not secrets worth the false positives (a development default, "").
MIN_SECRET_LENGTH = 8

# Settings (and environment variables) whose values are secrets, by name.
SECRET_SETTING_NAME = re.compile(
    r"SECRET|TOKEN|PASSWORD|PRIVATE_KEY|SIGNING_KEY|SIGNER_KEY|ENCRYPTION_KEY|API_KEY$|_AUTH$"
)
# Settings whose values are URLs that may carry a password (redis://:pw@host).
URL_SETTINGS = (
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
)

# A field or parameter named like this holds a secret. Matched as a suffix, case aside, so
# `HTTP_X_ALCHEMY_SIGNATURE`, `x-hub-signature-256` and `api_key` all are.
_SENSITIVE_NAME = (
    r"(?:password|passwd|secret|token|api[_-]?key|apikey|signature(?:[_-](?:256|ed25519))?"
    r"|authorization|cookie|sessionid|csrftoken|private[_-]?key|credentials?)"
)
_SENSITIVE_KEY = re.compile(rf"{_SENSITIVE_NAME}$", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def sensitive_key(key: str) -> bool:
    """Whether a field so named holds a secret (field names repeat: asked once each)."""
    return _SENSITIVE_KEY.search(key) is not None


_SHAPES = [
    # PEM private keys (the GitHub App's), whole.
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    # JWTs: header.payload.signature, each base64url; the header always starts `eyJ`.
    r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    # Wallet signatures (65-byte r,s,v and longer EIP-1271/6492 ones), Ed25519 hex.
    r"\b(?:0x)?[0-9a-fA-F]{128,}\b",
    # GitHub's X-Hub-Signature-256 value.
    r"\bsha(?:1|256)=[0-9a-fA-F]{40,64}\b",
]
_PATTERNS = re.compile(
    "|".join(
        [
            *(f"(?:{shape})" for shape in _SHAPES),
            # Our API keys: the prefix names the key and stays.
            r"(?P<api_key>\bfab_[0-9a-f]{8}_)[A-Za-z0-9_-]{8,}",
            # Authorization header schemes.
            r"(?P<scheme>\b(?:Bearer|Basic|Token|Bot)\s+)[A-Za-z0-9._~+/=-]{8,}",
            # `name=value`, `name: value`, `'name': 'value'`, `"name": "value"`, `?name=value`.
            rf"(?P<named>{_SENSITIVE_NAME}['\"]?\s*[:=]\s*['\"]?)(?:Bearer\s+|Basic\s+)?"
            r"[^\s'\"&,;}]+",
            # OAuth callbacks' query parameters.
            r"(?P<query>[?&](?:code|state|key|sig)=)[^&\s'\"]+",
        ]
    ),
    re.DOTALL | re.IGNORECASE,
)
_KEPT_GROUPS = ("api_key", "scheme", "named", "query")


def _keep_name(match: re.Match[str]) -> str:
    for group in _KEPT_GROUPS:
        kept = match.group(group)
        if kept is not None:
            return kept + REDACTED
    return REDACTED


def _secret_values() -> Iterator[str]:
    """Every secret this process holds in its settings and environment."""
    from django.conf import settings

    names = {name for name in dir(settings) if name.isupper()}
    for name in sorted(names):
        if SECRET_SETTING_NAME.search(name):
            yield from _strings(getattr(settings, name, None))
    for name, value in os.environ.items():
        if SECRET_SETTING_NAME.search(name):
            yield value
    for name in URL_SETTINGS:
        yield _url_password(getattr(settings, name, None) or os.environ.get(name, ""))
    for database in settings.DATABASES.values():
        yield str(database.get("PASSWORD") or "")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        # FIELD_ENCRYPTION_KEY lists keys; CHAIN_SIGNER_KEY may be written with or without 0x.
        for part in value.split(","):
            yield part.strip()
            yield part.strip().removeprefix("0x")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


@functools.cache
def _secret_values_pattern() -> re.Pattern[str] | None:
    """The secret values as one alternation, longest first (built on the first log line,
    once settings are loaded; `secret_values_forget` rebuilds it after settings change)."""
    values = sorted(
        {value for value in _secret_values() if len(value) >= MIN_SECRET_LENGTH},
        key=len,
        reverse=True,
    )
    if not values:
        return None
    return re.compile("|".join(re.escape(value) for value in values))


def secret_values_forget() -> None:
    _secret_values_pattern.cache_clear()


# Every pattern above needs one of these (or a long hex run): a line without any, most
# lines, skips the patterns (about 1 µs instead of 25).
_TRIGGERS = (
    "passw", "secret", "token", "key", "signature", "authoriz", "cookie", "session", "csrf",
    "credential", "eyj", "fab_", "bearer", "basic", "bot ", "-----begin", "sha1=", "sha256=",
    "code=", "state=", "sig=",
)  # fmt: skip
_LONG_HEX = re.compile(r"[0-9a-fA-F]{128}")


def _may_hold_secret(text: str) -> bool:
    lowered = text.lower()
    for trigger in _TRIGGERS:
        if trigger in lowered:
            return True
    return _LONG_HEX.search(text) is not None


def redact_text(text: str) -> str:
    """`text` with every secret value and every secret-shaped string replaced."""
    values = _secret_values_pattern()
    if values is not None:
        text = values.sub(REDACTED, text)
    if not _may_hold_secret(text):
        return text
    return _PATTERNS.sub(_keep_name, text)


def redact_value(value: Any) -> Any:
    """Strings redacted; dicts, lists and tuples walked, a sensitive key's value dropped."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if sensitive_key(str(key)) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


# Fields the log pipeline itself fills with what cannot be a secret (fabrknt/ops/logs.py).
SAFE_FIELDS = frozenset(
    {
        "timestamp", "level", "logger", "request_id", "user_id", "organization_id",
        "task_id", "task_name", "trace_id", "span_id", "status_code", "method",
    }
)  # fmt: skip


def redact_event(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the event with its secrets replaced (see the module's doc)."""
    return {
        key: value
        if key in SAFE_FIELDS
        else REDACTED
        if sensitive_key(key)
        else redact_value(value)
        for key, value in event_dict.items()
    }
