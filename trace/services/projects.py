"""Projects: the chain a product lives on and the contracts TRACE follows there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditAction, Organization, User
from accounts.services.audit import audit_record
from fabrknt.api.errors import Conflict, InvalidInput
from fabrknt.chain.addresses import evm_address_normalize, solana_address_validate
from trace.cache import certificates_changed, projects_changed
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


class ChainFixed(InvalidInput):
    code = "chain_fixed"
    default_detail = (
        "A project's chain is fixed once it is created: its data and the providers' "
        "webhooks belong to that chain. Create another project for another chain."
    )


def project_update(
    *,
    project: Project,
    actor: User | None,
    name: str | None = None,
    chain: str | None = None,
    contract_addresses: list[str] | None = None,
    treasury_addresses: list[str] | None = None,
) -> Project:
    """Rename a project and/or replace its addresses (None leaves a field as it is); the
    chain stays (naming another one is refused). Nothing is stored unless every field is
    valid."""
    if chain is not None and chain != project.chain:
        raise ChainFixed()
    if name is not None and not name.strip():
        raise ValidationError({"name": ["Enter a name."]})
    with transaction.atomic():
        changed: list[str] = []
        if name is not None and name != project.name:
            Project.objects.filter(pk=project.pk).update(name=name)
            project.name = name
            certificates_changed()  # the certificates' file names carry it
            projects_changed([project.pk])  # and the dashboard shows it
            changed.append("name")
        if contract_addresses is not None or treasury_addresses is not None:
            before = {field: getattr(project, field) for field in ADDRESS_FIELDS}
            project_addresses_update(
                project=project,
                contract_addresses=_given_or(contract_addresses, before["contract_addresses"]),
                treasury_addresses=_given_or(treasury_addresses, before["treasury_addresses"]),
            )
            changed += [f for f in ADDRESS_FIELDS if getattr(project, f) != before[f]]
        if changed:
            audit_record(
                organization_id=project.organization_id,
                actor=actor,
                action=AuditAction.PROJECT_UPDATED,
                target=project,
                label=project.name,
                details={"changed": changed},
            )
    return project


def _given_or(value: list[str] | None, current: list[str]) -> list[str]:
    return current if value is None else value


def project_archive(*, project: Project, actor: User | None) -> Project:
    """Hide a project from lists; its data, campaigns and certificates stay. The indexer
    stops reading it and the providers' webhooks stop watching its addresses (unless a
    live project watches them too). Archiving an archived project changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        if Project.objects.filter(pk=project.pk, archived_at__isnull=True).update(archived_at=now):
            project.archived_at = now
            projects_changed([project.pk])  # off the dashboard
            audit_record(
                organization_id=project.organization_id,
                actor=actor,
                action=AuditAction.PROJECT_ARCHIVED,
                target=project,
                label=project.name,
            )
            provider_sync_schedule(project=project)
    return project


# A member's recompute covers the days the admin's does; one request a minute per project
# (a recompute reads up to 90 days of interactions).
METRICS_RECOMPUTE_DAYS = 90
METRICS_RECOMPUTE_INTERVAL = timedelta(minutes=1)


class RecomputeTooSoon(Conflict):
    code = "recompute_too_soon"


def project_metrics_recompute_schedule(*, project_ids: list[str]) -> tuple[date, date]:
    """Queue the metrics rollup of the last METRICS_RECOMPUTE_DAYS days for these projects,
    once the caller's transaction commits; the days covered."""
    from trace.tasks import aggregate_metrics  # tasks import services, not the reverse

    today = timezone.now().date()
    date_from = today - timedelta(days=METRICS_RECOMPUTE_DAYS - 1)
    for project_id in project_ids:
        transaction.on_commit(
            partial(
                aggregate_metrics.delay,
                project_id=str(project_id),
                date_from=date_from.isoformat(),
                date_to=today.isoformat(),
            ),
            robust=True,
        )
    return date_from, today


def project_metrics_recompute_request(*, project: Project) -> tuple[date, date]:
    """A member's "recompute now": refused (409) within a minute of the last request; the
    claim is a conditional update, so two clicks at once queue one recompute."""
    now = timezone.now()
    recent = Q(metrics_recompute_requested_at__gt=now - METRICS_RECOMPUTE_INTERVAL)
    with transaction.atomic():
        claimed = (
            Project.objects.filter(pk=project.pk)
            .exclude(recent)
            .update(metrics_recompute_requested_at=now)
        )
        if not claimed:
            raise RecomputeTooSoon(
                "A recompute was asked for less than a minute ago; it is queued or running."
            )
        project.metrics_recompute_requested_at = now
        return project_metrics_recompute_schedule(project_ids=[str(project.pk)])
