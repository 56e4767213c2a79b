"""Pydantic building blocks for providers' JSON: hex quantities, hashes, addresses.

Payloads are validated with pydantic (the same models describe them in the OpenAPI schema)
and then turned into plain dataclasses; every refusal becomes a `PayloadError` whose
`errors` have DRF's field-error shape, so a view can answer 400 as API.md asks.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    WithJsonSchema,
)

from fabrknt.api.errors import InvalidInput
from fabrknt.chain.addresses import evm_address_normalize, solana_address_validate

# Providers add fields over time; unknown ones are ignored, known ones are checked.
WIRE_CONFIG = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
MAX_ERRORS = 20
NON_FIELD = "non_field_errors"  # DRF's key for errors of no one field

_HEX_QUANTITY = re.compile(r"^0x[0-9a-fA-F]{0,64}$")
_HEX_DATA = re.compile(r"^0x[0-9a-fA-F]*$")
# ABI-encoded data (an ERC-1155 log's amounts) is longer than a quantity, but bounded.
MAX_HEX_DATA_DIGITS = 16_384
_HASH32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SOLANA_SIGNATURE = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{64,90}$")


class PayloadError(InvalidInput, ValueError):
    """A provider payload that is not valid JSON or not of the documented shape."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("The payload is not of the provider's documented shape.", fields=errors)
        self.errors = errors


class WireModel(BaseModel):
    model_config = WIRE_CONFIG


def _hex_quantity(value: Any) -> int:
    # "0x" alone is how Alchemy writes a zero raw value (ERC-721 transfers).
    if isinstance(value, str) and _HEX_QUANTITY.match(value):
        return int(value[2:] or "0", 16)
    raise ValueError("Expected a 0x-prefixed hex quantity.")


def _hex_data(value: Any) -> str:
    if isinstance(value, str) and len(value) <= MAX_HEX_DATA_DIGITS + 2 and _HEX_DATA.match(value):
        return value.lower()
    raise ValueError("Expected 0x-prefixed hex data.")


def _text(value: str) -> str:
    # What a database column can hold: no control characters (PostgreSQL refuses NUL), no
    # lone surrogates (not UTF-8).
    if value.isprintable() and _utf8(value) == value:
        return value
    raise ValueError("Expected printable text.")


def _utf8(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def _hash32(value: Any) -> str:
    if isinstance(value, str) and _HASH32.match(value):
        return value.lower()
    raise ValueError("Expected a 0x-prefixed 32-byte hex hash.")


def solana_signature_readable(value: object) -> bool:
    """Whether a value is written as a Solana transaction signature (base58)."""
    return isinstance(value, str) and bool(_SOLANA_SIGNATURE.match(value))


def _solana_signature(value: Any) -> str:
    if solana_signature_readable(value):
        return str(value)
    raise ValueError("Expected a base58 transaction signature.")


# The JSON schemas describe the wire format (what the provider sends), for OpenAPI.
HexQuantity = Annotated[
    int,
    BeforeValidator(_hex_quantity),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{0,64}$", "example": "0xdf34a3"}),
]
HexData = Annotated[
    str,
    BeforeValidator(_hex_data),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]*$"}),
]
Hash32 = Annotated[
    str,
    BeforeValidator(_hash32),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}),
]
EvmAddress = Annotated[
    str,
    AfterValidator(evm_address_normalize),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
]
SolanaAddress = Annotated[
    str,
    AfterValidator(solana_address_validate),
    WithJsonSchema({"type": "string", "description": "base58, 32 bytes"}),
]
SolanaSignature = Annotated[
    str,
    BeforeValidator(_solana_signature),
    WithJsonSchema({"type": "string", "description": "base58 transaction signature"}),
]
JsonNumber = Annotated[Decimal, WithJsonSchema({"type": "number"})]
Text = Annotated[str, AfterValidator(_text)]


def json_body_parse(body: bytes) -> Any:
    """The JSON document in a raw body; floats become `Decimal` so no amount is rounded."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(body, parse_float=Decimal, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as error:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise PayloadError({"detail": f"Malformed JSON body: {error}"}) from error


def payload_errors(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors in DRF's shape: {"event.activity.0.hash": ["..."]}."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False)[:MAX_ERRORS]:
        field = ".".join(str(part) for part in item["loc"]) or NON_FIELD
        errors.setdefault(field, []).append(item["msg"])
    return errors


@dataclasses.dataclass(frozen=True)
class UnparsedItem:
    """An item of a delivery that is not of the documented shape: where it was, why, and
    the item as received (JSON-safe), so the rest of the delivery can still be stored."""

    index: int
    reason: str
    item: Any


def unparsed_item(index: int, item: Any, error: ValidationError) -> UnparsedItem:
    """The item with its field errors as one line: "hash: Expected ...; blockNum: ..."."""
    reason = "; ".join(
        " ".join(messages) if field == NON_FIELD else f"{field}: {' '.join(messages)}"
        for field, messages in payload_errors(error).items()
    )
    return UnparsedItem(index=index, reason=reason, item=_storable(item))


def _storable(value: Any) -> Any:
    """A JSON value as a database can keep it: amounts (parsed as Decimal) as their exact
    text, strings without NUL and lone surrogates."""
    if isinstance(value, str):
        return _utf8(value.replace("\x00", ""))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value
