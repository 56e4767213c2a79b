"""The project pages (trace.pages.projects): create, edit, archive, recompute, and what the
project page says about ingest. Every form: valid, invalid (a message, nothing stored), a
viewer's forged POST (403, nothing stored), another organization's project (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from trace.models import ContractInteraction, InteractionSource, Project
from trace.tests.factories import (
    ActivityMetricFactory,
    ContractInteractionFactory,
    ProjectFactory,
    evm_address,
)

pytestmark = pytest.mark.django_db

SOLANA_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


@pytest.fixture
def membership(client):
    membership = MembershipFactory(role=Role.MEMBER)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def viewer(client):
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def tasks_run():
    runs: list[tuple[str, dict]] = []

    def record(sender=None, kwargs=None, **_):
        runs.append((sender.name, dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


def _create(client, organization, **fields):
    data = {
        "organization": str(organization.pk),
        "name": "Basedrop",
        "chain": "eip155:8453",
        "contract_addresses": "",
        "treasury_addresses": "",
        **fields,
    }
    return client.post("/trace/projects/new", data)


# --- create -----------------------------------------------------------------------------


def test_the_dashboard_empty_state_links_to_the_create_page(client, membership):
    response = client.get("/trace/")

    assert 'href="/trace/projects/new"' in response.text
    assert "Create a project" in response.text


def test_the_create_page_offers_chains_by_name_with_their_caip2_ids(client, membership):
    response = client.get("/trace/projects/new")

    assert response.status_code == 200
    for label in ["Ethereum — eip155:1", "Base — eip155:8453", "Arbitrum One — eip155:42161",
                  "Optimism — eip155:10", "Polygon — eip155:137", "Solana — solana:mainnet",
                  "Base Sepolia — eip155:84532", "Solana Devnet — solana:devnet"]:  # fmt: skip
        assert label in response.text
    assert f'<option value="{membership.organization_id}" selected>' in response.text


def test_a_member_creates_a_project_and_lands_on_its_page(client, membership):
    contract = evm_address()

    response = _create(client, membership.organization, contract_addresses=f"{contract.lower()}\n")

    project = Project.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/trace/projects/{project.pk}/"
    assert (project.organization, project.name, project.chain) == (
        membership.organization,
        "Basedrop",
        "eip155:8453",
    )
    assert project.contract_addresses == [contract]  # stored checksummed
    page = client.get(response["Location"])
    assert "Basedrop is ready." in page.text
    assert AuditEvent.objects.filter(action=AuditAction.PROJECT_CREATED).count() == 1


def test_a_solana_project_takes_base58_program_ids(client, membership):
    response = _create(
        client, membership.organization, chain="solana:mainnet", contract_addresses=SOLANA_PROGRAM
    )

    assert response.status_code == 303
    assert Project.objects.get().contract_addresses == [SOLANA_PROGRAM]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"contract_addresses": "0x1234"}, "contract_addresses", "Item 0:"),
        ({"treasury_addresses": "0x" + "1" * 40 + " nope"}, "treasury_addresses", "Item 1:"),
        ({"chain": "solana:mainnet", "contract_addresses": "0x" + "1" * 40}, "contract_addresses",
         "Item 0:"),
        ({"chain": "eip155:999999"}, "chain", "Select a valid choice"),
        ({"name": ""}, "name", "This field is required."),
    ],
)  # fmt: skip
def test_bad_input_is_shown_on_its_field_and_nothing_is_stored(
    client, membership, fields, field, message
):
    response = _create(client, membership.organization, **fields)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_errors"' in response.text and message in response.text
    assert not Project.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.PROJECT_CREATED).exists()


def test_a_viewers_forged_create_is_refused_and_stores_nothing(client, viewer):
    page = client.get("/trace/projects/new")
    response = _create(client, viewer.organization)

    assert "You can look, not create" in page.text
    assert response.status_code == 403
    assert not Project.objects.exists()


def test_creating_in_another_organization_is_a_404(client, membership):
    response = _create(client, OrganizationFactory())

    assert response.status_code == 404
    assert not Project.objects.exists()


# --- edit -------------------------------------------------------------------------------


def test_a_member_edits_name_and_addresses_but_not_the_chain(client, membership):
    project = ProjectFactory(organization=membership.organization, name="Old")
    contract, treasury = evm_address(), evm_address()

    page = client.get(f"/trace/projects/{project.pk}/edit")
    response = client.post(
        f"/trace/projects/{project.pk}/edit",
        {
            "name": "New",
            "contract_addresses": contract.lower(),
            "treasury_addresses": treasury,
            "chain": "eip155:1",  # not a field of the form: ignored
        },
    )

    assert page.status_code == 200 and "Base" in page.text and "fixed once created" in page.text
    assert response.status_code == 303
    project.refresh_from_db()
    assert (project.name, project.chain) == ("New", "eip155:8453")
    assert (project.contract_addresses, project.treasury_addresses) == ([contract], [treasury])
    event = AuditEvent.objects.get(action=AuditAction.PROJECT_UPDATED)
    assert event.details == {"changed": ["name", "contract_addresses", "treasury_addresses"]}


def test_a_bad_address_on_edit_is_shown_and_nothing_changes(client, membership):
    project = ProjectFactory(organization=membership.organization, name="Old")
    before = project.contract_addresses

    response = client.post(
        f"/trace/projects/{project.pk}/edit",
        {"name": "New", "contract_addresses": "0xnothex", "treasury_addresses": ""},
    )

    assert response.status_code == 400
    assert "Item 0:" in " ".join(response.context["form"].errors["contract_addresses"])
    project.refresh_from_db()
    assert (project.name, project.contract_addresses) == ("Old", before)
    assert not AuditEvent.objects.filter(action=AuditAction.PROJECT_UPDATED).exists()


@pytest.mark.parametrize("action", ["edit", "archive", "recompute"])
def test_a_viewers_forged_post_is_refused_and_changes_nothing(client, viewer, action):
    project = ProjectFactory(organization=viewer.organization, name="Old")

    response = client.post(
        f"/trace/projects/{project.pk}/{action}",
        {"name": "New", "contract_addresses": "", "treasury_addresses": ""},
    )

    assert response.status_code == 403
    project.refresh_from_db()
    assert (project.name, project.archived_at, project.metrics_recompute_requested_at) == (
        "Old",
        None,
        None,
    )


@pytest.mark.parametrize("action", ["edit", "archive", "recompute"])
def test_another_organizations_project_is_a_404(client, membership, action):
    project = ProjectFactory(name="Theirs")

    page = client.get(f"/trace/projects/{project.pk}/{action}")
    response = client.post(f"/trace/projects/{project.pk}/{action}", {"name": "Mine"})

    assert response.status_code == 404
    assert page.status_code in {404, 405}  # recompute is POST only
    project.refresh_from_db()
    assert (project.name, project.archived_at) == ("Theirs", None)


# --- archive ----------------------------------------------------------------------------


def test_a_member_archives_after_a_confirm_step_and_the_project_leaves_the_lists(
    client, membership
):
    project = ProjectFactory(organization=membership.organization, name="Gone")
    ContractInteractionFactory(project=project)

    confirm = client.get(f"/trace/projects/{project.pk}/archive")
    response = client.post(f"/trace/projects/{project.pk}/archive")

    assert "Archive this project?" in confirm.text
    assert response.status_code == 303 and response["Location"] == "/trace/"
    project.refresh_from_db()
    assert project.archived_at is not None
    assert ContractInteraction.objects.filter(project=project).count() == 1  # nothing erased
    dashboard = client.get("/trace/")
    assert "Gone was archived" in dashboard.text
    assert f"/trace/projects/{project.pk}/" not in dashboard.text
    # Its page still opens, and says it is archived.
    assert "archived" in client.get(f"/trace/projects/{project.pk}/").text


# --- recompute --------------------------------------------------------------------------


def test_a_member_asks_for_a_recompute_once_a_minute(
    client, membership, tasks_run, django_capture_on_commit_callbacks
):
    project = ProjectFactory(organization=membership.organization)
    today = timezone.now().date()

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/trace/projects/{project.pk}/recompute")
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = client.post(f"/trace/projects/{project.pk}/recompute", follow=True)

    assert first.status_code == 303
    assert tasks_run == [
        (
            "trace.aggregate_metrics",
            {
                "project_id": str(project.pk),
                "date_from": (today - dt.timedelta(days=89)).isoformat(),
                "date_to": today.isoformat(),
            },
        )
    ]
    assert second_callbacks == []  # nothing queued the second time
    assert "less than a minute ago" in second.text

    Project.objects.filter(pk=project.pk).update(
        metrics_recompute_requested_at=timezone.now() - dt.timedelta(seconds=61)
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/trace/projects/{project.pk}/recompute")
    assert len(tasks_run) == 2


# --- the project page -------------------------------------------------------------------


def _page(client, project):
    response = client.get(f"/trace/projects/{project.pk}/")
    assert response.status_code == 200
    return response.text


def test_ingest_state_in_words(client, membership, settings):
    project = ProjectFactory(organization=membership.organization, chain="eip155:8453")
    settings.CHAIN_RPC_URLS = {}
    assert "indexer not configured" in _page(client, project)

    settings.CHAIN_RPC_URLS = {"eip155:8453": "http://127.0.0.1:1"}
    assert "waiting for the first block" in _page(client, project)

    Project.objects.filter(pk=project.pk).update(
        last_indexed_block=1234, last_indexed_at=timezone.now() - dt.timedelta(minutes=2)
    )
    text = _page(client, project)
    assert "indexed up to block 1234" in text
    assert "2\xa0minutes ago" in text
    assert "Webhook:</strong>\n      \n      nothing received yet" in text


def test_the_latest_webhook_delivery_is_named_with_its_age(client, membership):
    project = ProjectFactory(organization=membership.organization)
    ContractInteractionFactory(project=project, source=InteractionSource.INDEXER)
    delivered = ContractInteractionFactory(project=project, source=InteractionSource.ALCHEMY)
    type(delivered).objects.filter(pk=delivered.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )

    text = _page(client, project)

    assert "last received" in text and "5\xa0minutes ago" in text
    assert "(Alchemy webhook)" in text


def test_a_solana_project_says_it_has_no_chain_indexer(client, membership):
    project = ProjectFactory(
        organization=membership.organization,
        chain="solana:mainnet",
        contract_addresses=[SOLANA_PROGRAM],
    )

    text = _page(client, project)

    assert "none for Solana: its activity arrives by the provider" in text
    assert f'href="https://solscan.io/account/{SOLANA_PROGRAM}"' in text


def test_addresses_and_transactions_link_to_the_explorer(client, membership):
    treasury = evm_address()
    project = ProjectFactory(
        organization=membership.organization, chain="eip155:1", treasury_addresses=[treasury]
    )
    interaction = ContractInteractionFactory(project=project)

    text = _page(client, project)

    assert f'href="https://etherscan.io/address/{project.contract_addresses[0]}"' in text
    assert f'href="https://etherscan.io/address/{treasury}"' in text
    assert f'href="https://etherscan.io/tx/{interaction.transaction_hash}"' in text
    assert f'href="https://etherscan.io/address/{interaction.wallet_address}"' in text


def test_metrics_computed_over_no_activity_are_not_shown_as_zeros(client, membership):
    project = ProjectFactory(organization=membership.organization)
    assert "No metrics yet" in _page(client, project)

    ActivityMetricFactory(project=project, date=timezone.localdate() - dt.timedelta(days=1))
    text = _page(client, project)

    assert "No on-chain activity recorded yet" in text
    assert 'data-testid="activity-score"' not in text


def test_members_see_write_controls_and_viewers_do_not(client, membership):
    project = ProjectFactory(organization=membership.organization)
    text = _page(client, project)
    assert "Edit project" in text and "Recompute metrics" in text and "Verify control" in text

    viewer = MembershipFactory(organization=membership.organization, role=Role.VIEWER).user
    client.force_login(viewer)
    text = _page(client, project)
    assert "Edit project" not in text and "Recompute metrics" not in text
    assert "Verify control" not in text


def test_a_signed_in_stranger_gets_a_404_for_the_create_pages_project(client):
    client.force_login(UserFactory())
    assert client.get(f"/trace/projects/{ProjectFactory().pk}/edit").status_code == 404
