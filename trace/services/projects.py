"""Projects: the chain a product lives on and the contracts TRACE follows there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import AuditAction, Organization, User
from accounts.services.audit import audit_record
from fabrknt.chain.addresses import evm_address_normalize, solana_address_validate
from trace.models import Project

# CAIP-2: namespace:reference. We follow EVM chains (decimal chain id) and Solana.
_EIP155_CHAIN = re.compile(r"eip155:[1-9][0-9]{0,19}")
_SOLANA_CHAIN = re.compile(r"solana:[-_a-zA-Z0-9]{1,32}")
MAX_ADDRESSES = 100
EIP155 = "eip155"
SOLANA = "solana"


@dataclass(frozen=True)
class Chain:
    caip2: str
    namespace: str  # "eip155" or "solana"


def chain_parse(*, chain: str) -> Chain:
    """A supported CAIP-2 chain id, or ValidationError."""
    if isinstance(chain, str):
        if _EIP155_CHAIN.fullmatch(chain):
            return Chain(chain, EIP155)
        if _SOLANA_CHAIN.fullmatch(chain):
            return Chain(chain, SOLANA)
    raise ValidationError("Not a supported CAIP-2 chain id (eip155:<chain id> or solana:<ref>).")


def address_normalize(*, address: str, namespace: str | None = None) -> str:
    """The stored spelling of an address (EIP-55 or base58), checked against `namespace`
    (either kind when None)."""
    if not isinstance(address, str):
        raise ValidationError("Not an address.")
    if address[:2] == "0X":
        address = "0x" + address[2:]
    if namespace is None:
        namespace = EIP155 if address.startswith("0x") else SOLANA
    check = {EIP155: evm_address_normalize, SOLANA: solana_address_validate}[namespace]
    try:
        return check(address)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def addresses_normalize(*, addresses: list[str], namespace: str) -> list[str]:
    """Normalized, de-duplicated, order kept; errors name the offending index."""
    if len(addresses) > MAX_ADDRESSES:
        raise ValidationError(f"At most {MAX_ADDRESSES} addresses.")
    result: list[str] = []
    for index, address in enumerate(addresses):
        try:
            normalized = address_normalize(address=address, namespace=namespace)
        except ValidationError as error:
            raise ValidationError(f"Item {index}: {error.messages[0]}") from None
        if normalized not in result:
            result.append(normalized)
    return result


def project_create(
    *,
    organization: Organization,
    name: str,
    chain: str,
    contract_addresses: list[str],
    treasury_addresses: list[str] | None = None,
    actor: User | None = None,
) -> Project:
    try:
        parsed = chain_parse(chain=chain)
    except ValidationError as error:
        raise ValidationError({"chain": error.messages}) from None
    errors: dict[str, list[str]] = {}
    normalized: dict[str, list[str]] = {}
    for field, values in (
        ("contract_addresses", contract_addresses),
        ("treasury_addresses", treasury_addresses or []),
    ):
        try:
            normalized[field] = addresses_normalize(addresses=values, namespace=parsed.namespace)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        project = Project.objects.create(
            organization=organization,
            name=name,
            chain=parsed.caip2,
            contract_addresses=normalized["contract_addresses"],
            treasury_addresses=normalized["treasury_addresses"],
        )
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.PROJECT_CREATED,
            target=project,
            label=name,
            details={"chain": project.chain},
        )
    return project
