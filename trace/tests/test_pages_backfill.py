"""The project page's history panel: a backfill's progress, done or failed with its
reason, and the form that starts one (members with write access only; CSRF enforced)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import Backfill, BackfillStatus, ContractInteraction, Project
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
    settings.INDEXER_MAX_BLOCK_RANGE = 3
    settings.INDEXER_BACKFILL_BLOCKS_PER_RUN = 4
    settings.CHAIN_RPC_URLS = {}


def signed_in(project: Project, role: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(MembershipFactory(organization=project.organization, role=role).user)
    return client


def page(client: Client, project: Project) -> str:
    response = client.get(f"/trace/projects/{project.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def status_text(html: str) -> str:
    match = re.search(r'data-testid="backfill-status">(.*?)</p>', html, re.S)
    assert match, "no backfill status"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def post_backfill(client: Client, project: Project, data: dict):
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page(client, project))
    token_value = token.group(1) if token else client.cookies["csrftoken"].value
    return client.post(
        f"/trace/projects/{project.pk}/backfill/", {**data, "csrfmiddlewaretoken": token_value}
    )


def backfill(project: Project, **fields) -> Backfill:
    defaults = {"contracts": project.contract_addresses, "from_block": 10, "to_block": 109}
    return Backfill.objects.create(project=project, **{**defaults, **fields})


def test_a_running_backfill_shows_its_progress_and_no_form_for_another():
    project = ProjectFactory()
    backfill(project, next_block=52)  # blocks 10..51 read: 42 of 100

    html = page(signed_in(project, Role.ADMIN), project)

    assert status_text(html) == "Backfilling from block 10: 42% (block 51 of 109)"
    assert '<progress class="backfill__bar" max="100" value="42">' in html
    assert 'data-testid="backfill-form"' not in html


def test_a_done_and_a_failed_backfill_say_so():
    done_project, failed_project = ProjectFactory(), ProjectFactory()
    backfill(
        done_project,
        next_block=110,
        status=BackfillStatus.DONE,
        stored=17,
        finished_at=timezone.now(),
    )
    backfill(
        failed_project,
        next_block=30,
        status=BackfillStatus.FAILED,
        error="chain not configured: eip155:8453",
    )

    assert status_text(page(signed_in(done_project, Role.VIEWER), done_project)).startswith(
        "Done Backfilled blocks 10–109: 17 interactions added, "
    )
    assert status_text(page(signed_in(failed_project, Role.VIEWER), failed_project)) == (
        "Failed Backfill from block 10 stopped at block 30 of 109: "
        "chain not configured: eip155:8453"
    )


def test_a_viewer_sees_no_form_and_a_forged_post_is_refused():
    project = ProjectFactory()
    viewer = signed_in(project, Role.VIEWER)

    assert 'data-testid="backfill-form"' not in page(viewer, project)
    response = post_backfill(viewer, project, {"from_block": "0"})

    assert response.status_code == 403
    assert not Backfill.objects.exists()


def test_a_post_without_the_csrf_token_is_refused():
    project = ProjectFactory()
    member = signed_in(project, Role.MEMBER)

    response = member.post(f"/trace/projects/{project.pk}/backfill/", {"from_block": "0"})

    assert response.status_code == 403
    assert not Backfill.objects.exists()


def test_another_organizations_project_is_404():
    mine, theirs = ProjectFactory(), ProjectFactory()
    member = signed_in(mine, Role.ADMIN)
    page(member, mine)  # the CSRF cookie

    response = member.post(
        f"/trace/projects/{theirs.pk}/backfill/",
        {"csrfmiddlewaretoken": member.cookies["csrftoken"].value},
    )

    assert response.status_code == 404
    assert not Backfill.objects.exists()


def test_a_member_starts_a_backfill_and_the_page_follows_it_to_done(
    demo_chain: DemoChain, demo_rpc, django_capture_on_commit_callbacks
):
    sent = [demo_chain.swap(1, eth="1"), demo_chain.mint(2, count=2), demo_chain.swap(3)]
    head = demo_chain.w3.eth.block_number
    project = ProjectFactory(
        chain=demo_chain.chain,
        contract_addresses=[demo_chain.dapp.address],
        last_indexed_block=head,
    )
    member = signed_in(project, Role.MEMBER)
    assert 'data-testid="backfill-form"' in page(member, project)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post_backfill(member, project, {"contract": demo_chain.dapp.address})

    assert response.status_code == 302
    assert response["Location"] == f"/trace/projects/{project.pk}/"
    started = Backfill.objects.get()
    assert (started.from_block, started.to_block) == (demo_chain.deployment_block, head)
    assert status_text(page(member, project)) == (
        f"Backfilling from block {started.from_block}: 0% "
        f"(starting, {head - started.from_block + 1} blocks to read)"
    )
    for callback in queued:  # the first run, queued after the commit; it queues the rest
        callback()
    assert status_text(page(member, project)).startswith(
        f"Done Backfilled blocks {started.from_block}–{head}: 5 interactions added"
    )
    assert ContractInteraction.objects.filter(project=project).count() == 5
    assert set(ContractInteraction.objects.values_list("transaction_hash", flat=True)) == set(sent)


def test_a_refusal_is_shown_on_the_form_with_its_code(demo_chain: DemoChain, demo_rpc):
    demo_chain.swap(1)
    project = ProjectFactory(chain=demo_chain.chain, contract_addresses=[demo_chain.dapp.address])
    member = signed_in(project, Role.MEMBER)
    demo_rpc.historical_state = False

    response = post_backfill(member, project, {"from_block": ""})

    assert response.status_code == 400
    html = response.content.decode()
    assert "does not serve historical state" in html
    assert "(from_block_required)" in html
    assert not Backfill.objects.exists()


def test_a_bad_from_block_is_a_form_error():
    project = ProjectFactory()
    member = signed_in(project, Role.MEMBER)

    response = post_backfill(member, project, {"from_block": "-5"})

    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()
    assert not Backfill.objects.exists()


def test_a_solana_project_has_no_history_panel():
    project = ProjectFactory(chain="solana:mainnet", contract_addresses=[])

    assert 'data-testid="backfill"' not in page(signed_in(project, Role.ADMIN), project)
