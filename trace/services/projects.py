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
from trace.services.backfill import contracts_backfill_schedule
from trace.services.provider_sync import provider_sync_schedule

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


ADDRESS_FIELDS = ("contract_addresses", "treasury_addresses")


def project_addresses_normalize(
    *, chain: str, contract_addresses: object, treasury_addresses: object
) -> dict[str, list[str]]:
    """Both address lists of a project on `chain`, normalized; a ValidationError names the
    field (and item) at fault."""
    namespace = chain_parse(chain=chain).namespace
    errors: dict[str, list[str]] = {}
    normalized: dict[str, list[str]] = {}
    lists = (contract_addresses, treasury_addresses)
    for field, values in zip(ADDRESS_FIELDS, lists, strict=True):
        if not isinstance(values, list):
            errors[field] = ["Enter a list of addresses."]
            continue
        try:
            normalized[field] = addresses_normalize(addresses=values, namespace=namespace)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return normalized


def project_create(
    *,
    organization: Organization,
    name: str,
    chain: str,
    contract_addresses: list[str],
    treasury_addresses: list[str] | None = None,
    actor: User | None = None,
) -> Project:
    """A new project; the providers' webhooks are told to watch its addresses once it is
    committed."""
    try:
        parsed = chain_parse(chain=chain)
    except ValidationError as error:
        raise ValidationError({"chain": error.messages}) from None
    normalized = project_addresses_normalize(
        chain=parsed.caip2,
        contract_addresses=contract_addresses,
        treasury_addresses=treasury_addresses or [],
    )
    with transaction.atomic():
        project = Project.objects.create(
            organization=organization, name=name, chain=parsed.caip2, **normalized
        )
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.PROJECT_CREATED,
            target=project,
            label=name,
            details={"chain": project.chain},
        )
        provider_sync_schedule(project=project)
        contracts_backfill_schedule(project=project, contracts=project.contract_addresses)
    return project


def project_addresses_update(
    *, project: Project, contract_addresses: object, treasury_addresses: object
) -> Project:
    """Replace a project's contract and treasury addresses. When they change, the
    providers' webhooks are told once the change is committed; the same lists again
    change nothing."""
    normalized = project_addresses_normalize(
        chain=project.chain,
        contract_addresses=contract_addresses,
        treasury_addresses=treasury_addresses,
    )
    with transaction.atomic():
        stored = Project.objects.select_for_update().only(*ADDRESS_FIELDS).get(pk=project.pk)
        if any(getattr(stored, field) != normalized[field] for field in ADDRESS_FIELDS):
            Project.objects.filter(pk=project.pk).update(**normalized)
            provider_sync_schedule(project=project)
            added = [
                address
                for address in normalized["contract_addresses"]
                if address not in stored.contract_addresses
            ]
            contracts_backfill_schedule(project=project, contracts=added)
    for field, addresses in normalized.items():
        setattr(project, field, addresses)
    return project
