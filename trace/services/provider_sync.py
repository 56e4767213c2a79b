"""The providers' address lists: Alchemy and Helius deliver only the activity of the
addresses their webhooks watch, so those lists follow the projects' addresses.

Every change of a project's addresses (`project_create`, `project_addresses_update`, an
operator's re-sync) marks the project's sync pending and, once committed, queues
`trace.sync_provider_addresses`, which calls `provider_addresses_sync` and retries
transient failures with backoff. Each sync reads the addresses as they are when it runs,
so a retry or a second run sends what is current and changes nothing more.

- Alchemy (EVM): one Address Activity webhook per network, `ALCHEMY_WEBHOOK_IDS[chain]`,
  shared by every project of that network. A sync adds the project's addresses and removes
  those it watched before and no longer does — unless another project of the network
  still watches them.
- Helius (Solana): one webhook, `HELIUS_WEBHOOK_ID`, for the projects of the chain its
  deliveries are stored under (`HELIUS_CHAIN`: mainnet, the cluster of a webhook URL
  without `?cluster=`). Helius replaces a webhook's list whole, so a sync sets it to every
  such project's addresses, and sends nothing when the webhook already watches exactly
  those.

The provider calls are in `fabrknt.chain.provider_api` (with the providers' documentation).
Syncs of one webhook take turns: each holds the row locks of that webhook's sync rows while
it reads the addresses and calls the provider. Without that, two syncs could each compute
a list before the other's change is committed and the later call would undo the earlier.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from fabrknt.chain.addresses import address_key, chain_namespace
from fabrknt.chain.helius import HELIUS_CLUSTERS
from fabrknt.chain.provider_api import (
    ProviderApiError,
    alchemy_webhook_addresses_update,
    alchemy_webhook_id,
    helius_webhook_addresses_replace,
    helius_webhook_id,
)
from trace.models import AddressProvider, AddressSyncStatus, Project, ProviderAddressSync

HELIUS_CHAIN = HELIUS_CLUSTERS["mainnet"]

logger = logging.getLogger(__name__)

PROVIDER_OF_NAMESPACE = {"eip155": AddressProvider.ALCHEMY, "solana": AddressProvider.HELIUS}


def project_address_provider(*, project: Project) -> AddressProvider | None:
    """The provider whose webhooks deliver the activity of the project's chain."""
    try:
        return PROVIDER_OF_NAMESPACE.get(chain_namespace(project.chain))
    except ValueError:
        return None


def provider_sync_schedule(*, project: Project) -> ProviderAddressSync | None:
    """Mark the project's sync pending and queue it for after the commit; or record that
    sync is not configured for its chain (nothing queued). None for a chain no provider
    serves."""
    provider = project_address_provider(project=project)
    if provider is None:
        return None
    _, not_configured = _webhook_of(provider, project.chain)
    state, _ = ProviderAddressSync.objects.update_or_create(
        project=project,
        provider=provider,
        defaults={
            "status": AddressSyncStatus.NOT_CONFIGURED
            if not_configured
            else AddressSyncStatus.PENDING,
            "last_error": not_configured,
            "attempts": 0,
            "retrying": False,
            "requested_at": timezone.now(),
        },
    )
    if not not_configured:
        from trace.tasks import sync_provider_addresses  # tasks import services, not the reverse

        project_id, name = str(project.pk), provider.value
        # robust: the project is saved whatever the queue does; its sync stays pending.
        transaction.on_commit(lambda: sync_provider_addresses.delay(project_id, name), robust=True)
    return state


def provider_addresses_sync(
    *, project_id: str, provider: str, may_retry: bool
) -> ProviderAddressSync | None:
    """Bring the provider's webhook in line with the project's addresses now, and record
    the outcome: synced; failed (`retrying` when the failure is transient and `may_retry`);
    or not configured. None when the project is gone."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return None
    webhook_id, not_configured = _webhook_of(AddressProvider(provider), project.chain)
    with transaction.atomic():
        # Ordered, so two syncs of one webhook never wait on each other's rows crosswise.
        rows = list(
            ProviderAddressSync.objects.select_for_update(of=("self",))
            .filter(provider=provider, project__chain=project.chain)
            .order_by("pk")
        )
        state = next((row for row in rows if row.project_id == project.pk), None)
        if state is None:
            return None
        if webhook_id is None:
            return _record(
                state, status=AddressSyncStatus.NOT_CONFIGURED, last_error=not_configured
            )
        project.refresh_from_db(fields=["contract_addresses", "treasury_addresses"])
        now = timezone.now()
        try:
            if provider == AddressProvider.ALCHEMY:
                _alchemy_sync(project, state, webhook_id)
            else:
                _helius_sync(webhook_id)
        except ProviderApiError as error:
            logger.warning("%s address sync of project %s failed: %s", provider, project_id, error)
            return _record(
                state,
                status=AddressSyncStatus.FAILED,
                attempts=state.attempts + 1,
                last_attempt_at=now,
                last_error=str(error)[:500],
                retrying=error.transient and may_retry,
            )
        return _record(
            state,
            status=AddressSyncStatus.SYNCED,
            synced_addresses=_watched(project),  # [] once archived
            attempts=state.attempts + 1,
            last_attempt_at=now,
            synced_at=now,
            last_error="",
            retrying=False,
        )


def _webhook_of(provider: AddressProvider, chain: str) -> tuple[str | None, str]:
    """(the webhook that watches `chain` for the provider, "") or (None, why sync is off)."""
    if provider == AddressProvider.ALCHEMY:
        webhook_id = alchemy_webhook_id(chain)
        missing = f"ALCHEMY_NOTIFY_TOKEN or ALCHEMY_WEBHOOK_IDS[{chain}] is not set"
    elif chain != HELIUS_CHAIN:
        return None, f"the Helius webhook delivers {HELIUS_CHAIN} only"
    else:
        webhook_id = helius_webhook_id()
        missing = "HELIUS_API_KEY or HELIUS_WEBHOOK_ID is not set"
    return webhook_id, "" if webhook_id else missing


def _watched(project: Project) -> list[str]:
    """The addresses a project has the providers watch: none once it is archived."""
    if project.archived_at is not None:
        return []
    return list(dict.fromkeys([*project.contract_addresses, *project.treasury_addresses]))


def _alchemy_sync(project: Project, state: ProviderAddressSync, webhook_id: str) -> None:
    # An archived project watches nothing: its addresses go unless a live one keeps them.
    wanted = _watched(project)
    others = Project.objects.live().filter(chain=project.chain).exclude(pk=project.pk)
    kept = {address_key(address) for address in wanted} | {
        address_key(address)
        for other in others.only("contract_addresses", "treasury_addresses", "archived_at")
        for address in _watched(other)
    }
    dropped = [address for address in state.synced_addresses if address_key(address) not in kept]
    if wanted or dropped:
        alchemy_webhook_addresses_update(webhook_id=webhook_id, add=wanted, remove=dropped)


def _helius_sync(webhook_id: str) -> None:
    projects = (
        Project.objects.live()
        .filter(chain=HELIUS_CHAIN)
        .only("contract_addresses", "treasury_addresses", "archived_at")
    )
    everyone = sorted({address for project in projects for address in _watched(project)})
    helius_webhook_addresses_replace(webhook_id=webhook_id, addresses=everyone)


def _record(state: ProviderAddressSync, **fields: object) -> ProviderAddressSync:
    for name, value in fields.items():
        setattr(state, name, value)
    state.save(update_fields=list(fields))
    return state
