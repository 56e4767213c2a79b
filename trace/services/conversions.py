"""Conversions reported through the API: the caller names the click, so it gets the credit.

Only a `write` key or a member may report one (the `ingest` key sits in public pages), and
no conversion may claim more than CONVERSION_VALUE_MAX_USD.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import base58
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from trace.models import Click, Conversion, ConversionSource
from trace.services.attribution import DEFAULT_EVENT_TYPE, Credit, conversion_record
from trace.services.identify import click_namespace
from trace.services.projects import EIP155, SOLANA, address_normalize

_EVM_TX = re.compile(r"0[xX][0-9a-fA-F]{64}")
_SOLANA_SIGNATURE_BYTES = 64


def transaction_hash_normalize(*, transaction_hash: str, namespace: str | None) -> str:
    """A lower-case 0x EVM hash or a base58 Solana signature, per `namespace`."""
    if namespace in (None, EIP155) and _EVM_TX.fullmatch(transaction_hash):
        return "0x" + transaction_hash[2:].lower()
    if namespace in (None, SOLANA) and 64 <= len(transaction_hash) <= 88:
        try:
            raw = base58.b58decode(transaction_hash)
        except ValueError:
            raw = b""
        if len(raw) == _SOLANA_SIGNATURE_BYTES:
            return transaction_hash
    raise ValidationError("Not a transaction hash (0x + 64 hex, or a base58 signature).")


def conversion_create(
    *,
    click: Click,
    wallet_address: str,
    transaction_hash: str,
    value_usd: Decimal = Decimal("0.00"),
    contract_address: str = "",
    event_type: str = "",
) -> tuple[Conversion, bool]:
    """(conversion, created); a repeat of (transaction_hash, event_type) in the click's
    organization returns the stored one. Other organizations' conversions of the same
    transaction are theirs: they neither block this one nor show through."""
    namespace = click_namespace(click)
    errors: dict[str, list[str]] = {}
    normalized: dict[str, str] = {}
    check: Callable[[], str]
    for name, check in (
        ("wallet_address", lambda: address_normalize(address=wallet_address, namespace=namespace)),
        (
            "transaction_hash",
            lambda: transaction_hash_normalize(
                transaction_hash=transaction_hash, namespace=namespace
            ),
        ),
        (
            "contract_address",
            lambda: (
                contract_address
                and address_normalize(address=contract_address, namespace=namespace)
            ),
        ),
    ):
        try:
            normalized[name] = check()
        except ValidationError as error:
            errors[name] = error.messages
    if value_usd < 0:
        errors["value_usd"] = ["Must be zero or more."]
    elif value_usd > settings.CONVERSION_VALUE_MAX_USD:
        errors["value_usd"] = [f"At most {settings.CONVERSION_VALUE_MAX_USD} (the maximum)."]
    if errors:
        raise ValidationError(errors)
    conversion, created = conversion_record(
        credits=[Credit(click, Decimal(1), value_usd)],
        wallet_address=normalized["wallet_address"],
        transaction_hash=normalized["transaction_hash"],
        event_type=event_type or DEFAULT_EVENT_TYPE,
        value_usd=value_usd,
        contract_address=normalized["contract_address"] or "",
        occurred_at=timezone.now(),
        source=ConversionSource.API,
        owner=click,
    )
    return conversion, created
