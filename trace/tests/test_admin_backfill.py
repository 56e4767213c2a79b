"""Backfills in the back office: the list operators watch, the project action that starts
one from the deployment block, the action that queues a stalled one's next run."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages

from accounts.tests.factories import UserFactory
from trace.models import Backfill, BackfillStatus, ContractInteraction
from trace.tests.chain_support import (  # noqa: F401  (fixtures)
    DemoChain,
    demo_chain_fixture,
    demo_chain_module_fixture,
    demo_rpc_fixture,
)
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _indexer_settings(settings):
    settings.INDEXER_CONFIRMATIONS = 0
    settings.CHAIN_RPC_URLS = {}


def test_the_list_shows_each_backfills_progress(admin_client, django_assert_max_num_queries):
    for next_block in (10, 52, 110):
        project = ProjectFactory()
        Backfill.objects.create(
            project=project, contracts=[], from_block=10, to_block=109, next_block=next_block
        )

    with django_assert_max_num_queries(8):  # one SELECT for the rows and their projects
        response = admin_client.get("/admin/trace/backfill/")

    assert response.status_code == 200
    html = response.content.decode()
    assert [f'<td class="field-percent">{p}%</td>' in html for p in (0, 42, 100)] == [True] * 3
    assert admin_client.get("/admin/trace/backfill/add/").status_code == 403


def test_the_project_action_starts_a_backfill_or_says_why_not(
    admin_client, demo_chain: DemoChain, demo_rpc, django_capture_on_commit_callbacks
):
    demo_chain.swap(1, eth="1")
    ready = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    elsewhere = ProjectFactory(chain="eip155:8453")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/trace/project/",
            {"action": "backfill_from_deployment", "_selected_action": [ready.pk, elsewhere.pk]},
        )

    assert response.status_code == 302
    started = Backfill.objects.get()
    assert (started.project_id, started.from_block, started.status) == (
        ready.pk,
        demo_chain.deployment_block,
        BackfillStatus.DONE,
    )
    assert ContractInteraction.objects.filter(project=ready).count() == 2  # event + value
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("(chain_not_configured)" in note and elsewhere.name in note for note in notes)


def test_queue_next_run_resumes_a_running_backfill(
    admin_client, demo_chain: DemoChain, demo_rpc, django_capture_on_commit_callbacks
):
    demo_chain.swap(1, eth="1")
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    stalled = Backfill.objects.create(
        project=project,
        contracts=project.contract_addresses,
        from_block=0,
        to_block=demo_chain.w3.eth.block_number,
        next_block=0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/trace/backfill/",
            {"action": "queue_next_run", "_selected_action": [stalled.pk]},
        )

    stalled.refresh_from_db()
    assert stalled.status == BackfillStatus.DONE
    assert ContractInteraction.objects.filter(project=project).count() == 2  # event + value


def test_staff_who_may_only_view_cannot_queue_a_run(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_backfill"))
    client.force_login(staff)
    project = ProjectFactory()
    backfill = Backfill.objects.create(
        project=project, contracts=[], from_block=0, to_block=9, next_block=0
    )

    response = client.get("/admin/trace/backfill/")
    client.post(
        "/admin/trace/backfill/", {"action": "queue_next_run", "_selected_action": [backfill.pk]}
    )

    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action left to offer
    backfill.refresh_from_db()
    assert (backfill.status, backfill.next_block) == ("running", 0)
