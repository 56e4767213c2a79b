"""Pydantic building blocks for providers' JSON: hex quantities, hashes, addresses.

Payloads are validated with pydantic (the same models describe them in the OpenAPI schema)
and then turned into plain dataclasses; every refusal becomes a `PayloadError` whose
`errors` have DRF's field-error shape, so a view can answer 400 as API.md asks.
"""

from __future__ import annotations

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

_HEX_QUANTITY = re.compile(r"^0x[0-9a-fA-F]{0,64}$")
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
        field = ".".join(str(part) for part in item["loc"]) or "non_field_errors"
        errors.setdefault(field, []).append(item["msg"])
    return errors
