"""Third-party secrets at rest (team webhook secrets, Notion tokens, Stripe keys).

One place: `EncryptedTextField` stores Fernet tokens (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) made with FIELD_ENCRYPTION_KEY. The setting is a comma-separated
list of Fernet keys: the first encrypts, all of them decrypt (MultiFernet), so a key is
rotated by putting a new one first and running `rotate` over the rows at leisure.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression


@cache
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEY.split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
        ) from error


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEY":
        _fernet.cache_clear()


setting_changed.connect(_reset)


def secret_encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The plaintext of a stored token; a token no configured key opens is a configuration
    error (a key was dropped from the setting too early), never silently empty."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored secret does not open with any FIELD_ENCRYPTION_KEY key"
        ) from error


def secret_rotate(token: str) -> str:
    """The token re-encrypted with the first (current) key."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding the Fernet token of its value; Python sees the plaintext.

    The empty string stays empty (no secret set). Tokens differ on every save, so the
    column cannot be filtered on by value.
    """

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if not value:
            return value
        return secret_decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return secret_encrypt(str(value))
