"""The back office and the providers' address lists: editing a project's addresses goes
through project_addresses_update, the sync rows are listed, and "re-sync now" needs its
own permission. The providers are a local server (fabrknt/chain/tests/provider_server.py)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import OrganizationFactory, UserFactory
from fabrknt.chain.tests.provider_server import (
    ProviderServer,
    providers_fixture,  # noqa: F401  (fixture)
)
from trace.models import AddressSyncStatus, Project, ProviderAddressSync
from trace.tests.factories import ProjectFactory, evm_address

pytestmark = pytest.mark.django_db

PROJECTS = "/admin/trace/project/"
SYNCS = "/admin/trace/provideraddresssync/"


def _form(project: Project, **changes) -> dict:
    data = {
        "organization": str(project.organization_id),
        "name": project.name,
        "chain": project.chain,
        "contract_addresses": json.dumps(project.contract_addresses),
        "treasury_addresses": json.dumps(project.treasury_addresses),
        "last_indexed_block": "",
    }
    return {**data, **changes}


def test_adding_a_project_in_the_admin_syncs_its_addresses(
    admin_client, providers: ProviderServer, django_capture_on_commit_callbacks
):
    organization, contract = OrganizationFactory(), evm_address()
    draft = Project(organization=organization, name="Drop", chain="eip155:1")
    draft.contract_addresses, draft.treasury_addresses = [contract.lower()], []

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{PROJECTS}add/", _form(draft))

    assert response.status_code == 302
    project = Project.objects.get(name="Drop")
    assert project.contract_addresses == [contract]  # normalized as the API does
    assert [r.body for r in providers.requests] == [
        {"webhook_id": "wh_eth_mainnet", "addresses_to_add": [contract], "addresses_to_remove": []}
    ]
    assert ProviderAddressSync.objects.get(project=project).status == AddressSyncStatus.SYNCED


def test_editing_addresses_in_the_admin_adds_and_removes_them(
    admin_client, providers: ProviderServer, django_capture_on_commit_callbacks
):
    old, new = evm_address(), evm_address()
    project = ProjectFactory(chain="eip155:1", contract_addresses=[old])
    ProviderAddressSync.objects.create(
        project=project,
        provider="alchemy",
        status="synced",
        synced_at=project.created_at,
        synced_addresses=[old],
    )
    providers.alchemy["wh_eth_mainnet"].add(old.lower())

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{PROJECTS}{project.pk}/change/",
            # The chain is read-only once created: a posted one is ignored.
            _form(
                project, name="Renamed", chain="eip155:8453", contract_addresses=json.dumps([new])
            ),
        )

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.chain, project.contract_addresses) == (
        "Renamed",
        "eip155:1",
        [new],
    )
    assert [r.body for r in providers.requests] == [
        {"webhook_id": "wh_eth_mainnet", "addresses_to_add": [new], "addresses_to_remove": [old]}
    ]
    assert providers.alchemy["wh_eth_mainnet"] == {new.lower()}


def test_a_rename_alone_sends_nothing(
    admin_client, providers: ProviderServer, django_capture_on_commit_callbacks
):
    project = ProjectFactory(chain="eip155:1")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        admin_client.post(f"{PROJECTS}{project.pk}/change/", _form(project, name="Renamed"))

    # One callback only, run: the read cache's, retiring the pages that show the name
    # (trace/cache.py). No provider sync was scheduled, and nothing was sent.
    assert len(callbacks) == 1
    assert providers.requests == []
    assert Project.objects.get(pk=project.pk).name == "Renamed"


@pytest.mark.parametrize(
    ("addresses", "error"),
    [
        (json.dumps(["0x1234"]), "Item 0: Enter a valid EVM address"),
        (json.dumps("0x" + "1" * 40), "Enter a list of addresses."),
    ],
)
def test_invalid_addresses_in_the_admin_are_refused_and_nothing_is_sent(
    admin_client, providers: ProviderServer, django_capture_on_commit_callbacks, addresses, error
):
    project = ProjectFactory(chain="eip155:1")
    before = project.contract_addresses

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{PROJECTS}{project.pk}/change/", _form(project, contract_addresses=addresses)
        )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Project.objects.get(pk=project.pk).contract_addresses == before
    assert providers.requests == []
    assert not ProviderAddressSync.objects.exists()


def test_resync_now_tells_the_provider_again(
    admin_client, providers: ProviderServer, django_capture_on_commit_callbacks
):
    address = evm_address()
    project = ProjectFactory(chain="eip155:1", contract_addresses=[address])  # never synced

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            PROJECTS, {"action": "resync_provider_addresses", "_selected_action": [project.pk]}
        )

    assert response.status_code == 302
    assert providers.alchemy["wh_eth_mainnet"] == {address.lower()}
    state = ProviderAddressSync.objects.get(project=project)
    assert (state.status, state.synced_addresses) == (AddressSyncStatus.SYNCED, [address])

    # And from the sync rows' own list.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(SYNCS, {"action": "resync_now", "_selected_action": [state.pk]})

    assert len(providers.requests) == 2
    assert admin_client.get(SYNCS).status_code == 200


def test_resync_needs_its_permission(client, providers: ProviderServer):
    project = ProjectFactory(chain="eip155:1")
    operator = UserFactory(is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_project", "change_project"])
    )
    client.force_login(operator)

    assert 'value="resync_provider_addresses"' not in client.get(PROJECTS).content.decode()
    client.post(PROJECTS, {"action": "resync_provider_addresses", "_selected_action": [project.pk]})

    assert providers.requests == []
    assert not ProviderAddressSync.objects.exists()

    operator.user_permissions.add(Permission.objects.get(codename="resync_provideraddresssync"))
    assert 'value="resync_provider_addresses"' in client.get(PROJECTS).content.decode()
