"""The providers' address lists follow the projects: project_create and
project_addresses_update queue `trace.sync_provider_addresses` after commit, which tells a
local server speaking Alchemy's and Helius' documented management APIs
(fabrknt/chain/tests/provider_server.py, where the shapes are cited)."""

from __future__ import annotations

import base58
import pytest
from celery.signals import task_prerun
from nacl.signing import SigningKey

from accounts.tests.factories import OrganizationFactory
from fabrknt.celery import app as celery_app
from fabrknt.chain import provider_api
from fabrknt.chain.tests.provider_server import (
    ALCHEMY_TOKEN,
    HELIUS_KEY,
    HELIUS_WEBHOOK,
    ProviderServer,
    providers_fixture,  # noqa: F401  (fixture)
)
from trace.models import AddressSyncStatus, Project, ProviderAddressSync
from trace.services.indexer import projects_indexable
from trace.services.projects import project_addresses_update, project_archive, project_create
from trace.services.provider_sync import provider_addresses_sync
from trace.tasks import SYNC_PROVIDER_MAX_RETRIES, sync_provider_addresses
from trace.tests.factories import ProjectFactory, evm_address

pytestmark = pytest.mark.django_db

ETH, BASE, SOLANA = "eip155:1", "eip155:8453", "solana:mainnet"


def solana_address() -> str:
    return base58.b58encode(bytes(SigningKey.generate().verify_key)).decode()


@pytest.fixture
def create(django_capture_on_commit_callbacks):
    """project_create, committed: its sync runs as the worker would run it."""
    organization = OrganizationFactory()

    def create(chain: str, contracts: list[str], treasuries: list[str] | None = None) -> Project:
        with django_capture_on_commit_callbacks(execute=True):
            return project_create(
                organization=organization,
                name="Project",
                chain=chain,
                contract_addresses=contracts,
                treasury_addresses=treasuries,
            )

    return create


@pytest.fixture
def update(django_capture_on_commit_callbacks):
    def update(project: Project, contracts: list[str], treasuries: list[str] | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return project_addresses_update(
                project=project, contract_addresses=contracts, treasury_addresses=treasuries or []
            )

    return update


@pytest.fixture
def tasks_run():
    runs: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **_):
        runs.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


@pytest.fixture
def eager_retries():
    """Eager tasks that retry in place, as a worker would later: Celery runs an eager
    retry only when the task's errors are not propagated to the caller."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


def _state(project: Project) -> ProviderAddressSync:
    return ProviderAddressSync.objects.get(project=project)


# --- Alchemy ----------------------------------------------------------------------------


def test_creating_a_project_on_ethereum_adds_its_addresses_to_that_networks_webhook(
    providers: ProviderServer, create
):
    contract, treasury = evm_address(), evm_address()

    project = create(ETH, [contract.lower()], [treasury])

    [request] = providers.requests
    assert (request.method, request.path) == ("PATCH", "/api/update-webhook-addresses")
    assert request.headers["x-alchemy-token"] == ALCHEMY_TOKEN
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "webhook_id": "wh_eth_mainnet",
        "addresses_to_add": [contract, treasury],  # EIP-55, as stored
        "addresses_to_remove": [],
    }
    assert providers.alchemy == {
        "wh_eth_mainnet": {contract.lower(), treasury.lower()},
        "wh_base_mainnet": set(),
    }
    state = _state(project)
    assert (state.provider, state.status, state.attempts, state.retrying) == (
        "alchemy",
        AddressSyncStatus.SYNCED,
        1,
        False,
    )
    assert state.synced_addresses == [contract, treasury]
    assert state.synced_at == state.last_attempt_at
    assert state.last_error == ""


def test_changing_addresses_adds_the_new_and_removes_the_old(
    providers: ProviderServer, create, update
):
    a, b, c = evm_address(), evm_address(), evm_address()
    project = create(ETH, [a, b])

    update(project, [b], [c])

    assert providers.sent()[-1].body == {
        "webhook_id": "wh_eth_mainnet",
        "addresses_to_add": [b, c],
        "addresses_to_remove": [a],
    }
    assert providers.alchemy["wh_eth_mainnet"] == {b.lower(), c.lower()}
    project.refresh_from_db()
    assert (project.contract_addresses, project.treasury_addresses) == ([b], [c])
    assert _state(project).synced_addresses == [b, c]


def test_an_address_another_project_of_the_network_watches_is_not_removed(
    providers: ProviderServer, create, update
):
    shared, own, other = evm_address(), evm_address(), evm_address()
    leaving = create(ETH, [shared, own])
    staying = create(ETH, [], [shared])
    create(BASE, [own])  # another network's webhook does not keep `own` on Ethereum's

    update(leaving, [other])

    assert providers.sent()[-1].body == {
        "webhook_id": "wh_eth_mainnet",
        "addresses_to_add": [other],
        "addresses_to_remove": [own],
    }
    assert providers.alchemy["wh_eth_mainnet"] == {shared.lower(), other.lower()}

    # The last project to watch it takes it off.
    update(staying, [])
    assert providers.sent()[-1].body == {
        "webhook_id": "wh_eth_mainnet",
        "addresses_to_add": [],
        "addresses_to_remove": [shared],
    }
    assert providers.alchemy == {
        "wh_eth_mainnet": {other.lower()},
        "wh_base_mainnet": {own.lower()},
    }


def test_syncing_again_changes_nothing(providers: ProviderServer, create, update):
    a = evm_address()
    project = create(ETH, [a])
    update(project, [a])  # the same list: no change, nothing queued
    assert len(providers.requests) == 1

    assert sync_provider_addresses.delay(str(project.pk), "alchemy").get() == "synced"

    first, again = providers.requests
    assert again.body == first.body  # Alchemy documents the PATCH as idempotent
    assert providers.alchemy["wh_eth_mainnet"] == {a.lower()}
    assert _state(project).synced_addresses == [a]


def test_a_project_without_addresses_sends_nothing(providers: ProviderServer, create):
    project = create(ETH, [])

    assert providers.requests == []
    assert _state(project).status == AddressSyncStatus.SYNCED


# --- Helius -----------------------------------------------------------------------------


def test_helius_gets_the_union_of_every_solana_projects_addresses_and_keeps_the_rest(
    providers: ProviderServer, create, update
):
    a, b, c = solana_address(), solana_address(), solana_address()
    create(SOLANA, [a], [b])
    create(ETH, [evm_address()])  # Alchemy's, not Helius'

    second = create(SOLANA, [b, c])

    put = providers.sent("PUT")[-1]
    assert put.path == f"/v0/webhooks/{HELIUS_WEBHOOK}"
    assert put.query == {"api-key": [HELIUS_KEY]}
    assert put.body == {
        "webhookURL": "https://platform.example/api/v1/webhooks/helius",
        "transactionTypes": ["ANY"],
        "accountAddresses": sorted([a, b, c]),
        "webhookType": "enhanced",
        "authHeader": "helius-delivery-secret",
        "txnStatus": "all",
        "encoding": "jsonParsed",
    }
    assert [(r.method, r.path) for r in providers.sent() if r.path.startswith("/v0")] == [
        ("GET", f"/v0/webhooks/{HELIUS_WEBHOOK}"),
        ("PUT", f"/v0/webhooks/{HELIUS_WEBHOOK}"),
    ] * 2
    assert _state(second).status == AddressSyncStatus.SYNCED

    # b stays: the first project still watches it.
    update(second, [])
    assert providers.helius[HELIUS_WEBHOOK]["accountAddresses"] == sorted([a, b])
    assert providers.helius[HELIUS_WEBHOOK]["webhookID"] == HELIUS_WEBHOOK


def test_helius_is_not_written_when_it_already_watches_exactly_those(
    providers: ProviderServer, create
):
    project = create(SOLANA, [solana_address()])
    puts = len(providers.sent("PUT"))

    assert sync_provider_addresses.delay(str(project.pk), "helius").get() == "synced"

    assert len(providers.sent("PUT")) == puts == 1
    assert providers.requests[-1].method == "GET"


# --- failures and retries ---------------------------------------------------------------


def test_a_provider_failure_is_recorded_and_marked_for_retry(providers: ProviderServer, create):
    project = create(ETH, [], [])  # synced, nothing sent
    Project.objects.filter(pk=project.pk).update(contract_addresses=[evm_address()])
    providers.fail_next = [503]

    state = provider_addresses_sync(project_id=str(project.pk), provider="alchemy", may_retry=True)

    assert (state.status, state.retrying, state.attempts) == (AddressSyncStatus.FAILED, True, 2)
    assert state.last_error == "Alchemy answered HTTP 503: Webhooks service unavailable"
    assert state.synced_addresses == []  # nothing confirmed: a later removal still knows


def test_a_5xx_is_retried_by_the_task_until_it_goes_through(
    providers: ProviderServer, create, eager_retries
):
    providers.fail_next = [503, 502]
    a = evm_address()

    project = create(ETH, [a])  # the eager task retries at once, the countdown aside

    assert [r.method for r in providers.requests] == ["PATCH"] * 3
    state = _state(project)
    assert (state.status, state.attempts, state.retrying) == (AddressSyncStatus.SYNCED, 3, False)
    assert providers.alchemy["wh_eth_mainnet"] == {a.lower()}


def test_retries_are_bounded(providers: ProviderServer, create, eager_retries):
    providers.fail_next = [500] * 50

    project = create(ETH, [evm_address()])

    assert len(providers.requests) == SYNC_PROVIDER_MAX_RETRIES + 1
    state = _state(project)
    assert (state.status, state.retrying) == (AddressSyncStatus.FAILED, False)
    assert state.attempts == SYNC_PROVIDER_MAX_RETRIES + 1


def test_a_timeout_is_a_transient_failure(providers: ProviderServer, create, monkeypatch):
    project = create(SOLANA, [])
    monkeypatch.setattr(provider_api, "TIMEOUT_SECONDS", (1, 0.2))
    providers.delay = 0.5

    state = provider_addresses_sync(project_id=str(project.pk), provider="helius", may_retry=True)

    assert (state.status, state.retrying) == (AddressSyncStatus.FAILED, True)
    assert state.last_error == "Helius unreachable: ReadTimeout"


def test_a_refused_token_is_not_retried(providers: ProviderServer, create, settings):
    settings.ALCHEMY_NOTIFY_TOKEN = "revoked"

    project = create(ETH, [evm_address()])

    assert len(providers.requests) == 1
    state = _state(project)
    assert (state.status, state.retrying, state.attempts) == (AddressSyncStatus.FAILED, False, 1)
    assert state.last_error == "Alchemy answered HTTP 401: Unauthenticated"
    assert providers.alchemy["wh_eth_mainnet"] == set()


# --- not configured ---------------------------------------------------------------------


ALCHEMY_OFF = "ALCHEMY_NOTIFY_TOKEN or ALCHEMY_WEBHOOK_IDS[eip155:1] is not set"
HELIUS_OFF = "HELIUS_API_KEY or HELIUS_WEBHOOK_ID is not set"


@pytest.mark.parametrize(
    ("chain", "setting", "reason"),
    [
        (ETH, "ALCHEMY_NOTIFY_TOKEN", ALCHEMY_OFF),
        (ETH, "ALCHEMY_WEBHOOK_IDS", ALCHEMY_OFF),
        (SOLANA, "HELIUS_API_KEY", HELIUS_OFF),
        (SOLANA, "HELIUS_WEBHOOK_ID", HELIUS_OFF),
    ],
)
def test_without_settings_sync_is_not_configured_and_nothing_is_sent(
    providers: ProviderServer, create, tasks_run, settings, chain, setting, reason
):
    setattr(settings, setting, type(getattr(settings, setting))())
    address = evm_address() if chain == ETH else solana_address()

    project = create(chain, [address])

    assert providers.requests == []
    assert [name for name, _ in tasks_run if name == "trace.sync_provider_addresses"] == []
    state = _state(project)
    assert (state.status, state.last_error, state.attempts) == (
        AddressSyncStatus.NOT_CONFIGURED,
        reason,
        0,
    )


def test_a_network_without_a_webhook_is_not_configured(providers: ProviderServer, create):
    project = create("eip155:10", [evm_address()])

    assert providers.requests == []
    assert _state(project).status == AddressSyncStatus.NOT_CONFIGURED


def test_a_solana_chain_helius_does_not_deliver_is_not_configured(providers, create):
    project = create("solana:devnet", [solana_address()])

    assert providers.requests == []
    assert _state(project).last_error == "the Helius webhook delivers solana:mainnet only"


def test_a_project_deleted_before_its_sync_is_skipped(providers: ProviderServer, create):
    project = create(ETH, [])
    project_id = str(project.pk)
    project.delete()

    assert sync_provider_addresses.delay(project_id, "alchemy").get() == "gone"
    assert providers.requests == []


# --- project_addresses_update -----------------------------------------------------------


def test_invalid_addresses_are_refused_and_nothing_is_stored_or_sent(
    providers: ProviderServer, create, update
):
    from django.core.exceptions import ValidationError

    a = evm_address()
    project = create(ETH, [a])

    with pytest.raises(ValidationError) as refused:
        update(project, ["0xnot-an-address"])

    assert refused.value.message_dict == {
        "contract_addresses": ["Item 0: Enter a valid EVM address (0x followed by 40 hex digits)."]
    }
    project.refresh_from_db()
    assert project.contract_addresses == [a]
    assert len(providers.requests) == 1


# --- syncs of one webhook take turns ----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_waits_for_the_one_in_flight_so_no_change_is_undone(providers: ProviderServer):
    """Helius replaces the list whole: a sync that computed its list before another
    project's change, and answers late, must not put the older list back."""
    import threading
    import time

    from django.db import connection

    a, b, c = solana_address(), solana_address(), solana_address()
    first = ProjectFactory(chain=SOLANA, contract_addresses=[a])
    second = ProjectFactory(chain=SOLANA, contract_addresses=[b])
    for project in (first, second):
        ProviderAddressSync.objects.create(project=project, provider="helius")

    def sync(project: Project) -> None:
        try:
            provider_addresses_sync(project_id=str(project.pk), provider="helius", may_retry=False)
        finally:
            connection.close()

    providers.delay = 1.0  # the first sync's GET is slow to answer ...
    slow = threading.Thread(target=sync, args=(first,))
    slow.start()
    while not providers.requests:
        time.sleep(0.01)
    providers.delay = 0.0  # ... and meanwhile the second project gains an address
    Project.objects.filter(pk=second.pk).update(contract_addresses=[b, c])
    fast = threading.Thread(target=sync, args=(second,))
    fast.start()
    slow.join()
    fast.join()

    assert providers.helius[HELIUS_WEBHOOK]["accountAddresses"] == sorted([a, b, c])
    assert set(ProviderAddressSync.objects.values_list("status", flat=True)) == {"synced"}


def test_an_archived_project_stops_being_watched_unless_a_live_one_shares_it(
    providers: ProviderServer, create, django_capture_on_commit_callbacks
):
    shared, own = evm_address(), evm_address()
    archived = create(ETH, [shared, own])
    create(ETH, [shared])
    sol_own, sol_kept = solana_address(), solana_address()
    archived_sol = create(SOLANA, [sol_own])
    create(SOLANA, [sol_kept])

    with django_capture_on_commit_callbacks(execute=True):
        project_archive(project=archived, actor=None)
        project_archive(project=archived_sol, actor=None)

    assert providers.alchemy["wh_eth_mainnet"] == {shared.lower()}
    assert providers.helius[HELIUS_WEBHOOK]["accountAddresses"] == [sol_kept]
    assert _state(archived).synced_addresses == []
    assert projects_indexable() == [
        p.pk for p in Project.objects.filter(chain=ETH, archived_at__isnull=True)
    ]
