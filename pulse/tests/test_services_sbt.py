"""Minting milestone tokens on a real EVM (py-evm): claimed in the database, minted once,
read back from the chain (ownerOf, locked), however often the mint runs."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from web3 import Web3

from fabrknt.api.errors import InvalidInput
from fabrknt.chain.evm import evm_client_override
from fabrknt.chain.models import SignerNonce
from fabrknt.chain.signer import signer_address
from fabrknt.chain.tests.evm_rpc import EvmRpcServer
from pulse.models import ContributionType, Platform, SBTRecord, SBTStatus
from pulse.sbt_tasks import sbt_mint_task
from pulse.services.milestones import evaluate_team, milestones_met
from pulse.services.sbt import SbtUnavailable, sbt_claim_key, sbt_mint, sbt_request
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = pytest.mark.django_db


def merged_pr(contributor, **extra):
    return ContributionFactory(
        team=contributor.team,
        contributor=contributor,
        contribution_type=ContributionType.PULL_REQUEST_MERGED,
        **extra,
    )


@pytest.fixture
def deployed(sbt_chain):
    return sbt_chain.deploy()


def test_a_met_milestone_mints_one_locked_token(
    sbt_chain, deployed, django_capture_on_commit_callbacks
):
    contributor = ContributorFactory()
    merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        claim = sbt_request(
            team=contributor.team,
            wallet_address=contributor.wallet_address.lower(),
            milestone="first-merged-pr",
        )
    queued = [c for c in callbacks if c.__module__ != "fabrknt.readcache"]  # not its bumps
    assert claim.created and len(queued) == 1
    record = SBTRecord.objects.get()
    assert record.status == SBTStatus.MINTED
    assert record.chain == sbt_chain.chain and record.token_address == deployed.address
    assert record.token_id == "1" and record.issued_at is not None
    receipt = sbt_chain.w3.eth.get_transaction_receipt(record.tx_hash)
    assert receipt["status"] == 1 and receipt["from"] == signer_address()
    assert deployed.functions.ownerOf(1).call() == contributor.wallet_address
    assert deployed.functions.locked(1).call() is True
    assert deployed.functions.tokenOfClaim(sbt_claim_key(record)).call() == 1

    # A repeat answers the record and sends nothing.
    head = sbt_chain.w3.eth.block_number
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = sbt_request(
            team=contributor.team,
            wallet_address=contributor.wallet_address,
            milestone="first-merged-pr",
        )
    assert not again.created and again.record.pk == record.pk and callbacks == []
    # And a mint task run again (a retry, a duplicate message) sends nothing either.
    assert sbt_mint_task(str(record.pk)) == SBTStatus.MINTED
    assert sbt_chain.w3.eth.block_number == head
    assert deployed.functions.balanceOf(contributor.wallet_address).call() == 1


@pytest.mark.parametrize(
    ("wallet", "code"),
    [
        ("So11111111111111111111111111111111111111112", "evm_wallet_required"),
        ("0x1234", "invalid"),
        ("0x000000000000000000000000000000000000dEaD", "not_a_contributor"),
    ],
)
def test_refusals_store_nothing(sbt_chain, deployed, wallet, code):
    contributor = ContributorFactory()
    merged_pr(contributor)
    with pytest.raises(InvalidInput) as refused:
        sbt_request(team=contributor.team, wallet_address=wallet, milestone="first-merged-pr")
    assert refused.value.code == code
    assert not SBTRecord.objects.exists()


def test_an_unmet_milestone_is_refused(sbt_chain, deployed):
    contributor = ContributorFactory()
    ContributionFactory.create_batch(
        9,
        team=contributor.team,
        contributor=contributor,
        contribution_type=ContributionType.REVIEW_APPROVED,
    )
    with pytest.raises(InvalidInput) as refused:
        sbt_request(
            team=contributor.team,
            wallet_address=contributor.wallet_address,
            milestone="ten-reviews",
        )
    assert refused.value.code == "milestone_not_met"
    assert "Ten pull request reviews" in refused.value.detail
    assert not SBTRecord.objects.exists()
    assert sbt_chain.w3.eth.get_transaction_count(signer_address()) == 2  # the deployment's


def test_without_a_contract_nothing_is_claimed(sbt_chain):
    contributor = ContributorFactory()
    merged_pr(contributor)
    with pytest.raises(SbtUnavailable):
        sbt_request(
            team=contributor.team,
            wallet_address=contributor.wallet_address,
            milestone="first-merged-pr",
        )
    assert not SBTRecord.objects.exists()


def test_milestone_rules():
    team = TeamFactory()
    now = timezone.now()
    busy, helper, newcomer = ContributorFactory.create_batch(3, team=team)
    merged_pr(busy)
    for n in range(100):
        ContributionFactory(team=team, contributor=busy, occurred_at=now - dt.timedelta(days=2 * n))
    for kind in [ContributionType.REVIEW_APPROVED] * 5 + [ContributionType.REVIEW_COMMENTED] * 5:
        ContributionFactory(team=team, contributor=busy, contribution_type=kind)
    for months_ago in range(6):
        ContributionFactory(
            team=team,
            contributor=helper,
            contribution_type=ContributionType.ISSUE_COMMENT,
            occurred_at=now - dt.timedelta(days=31 * months_ago),
        )
    for n in range(20):
        ContributionFactory(
            team=team,
            contributor=helper,
            platform=Platform.DISCORD,
            source_id=f"discord-{n}",
            contribution_type=ContributionType.REPLY,
            weight=0 if n == 0 else 1,  # one self-reply: weighs nothing, counts nothing
        )
    ContributionFactory.create_batch(99, team=team, contributor=newcomer)
    assert set(milestones_met(busy)) == {
        "first-merged-pr",
        "ten-reviews",
        "hundred-commits",
        "six-months-active",
    }
    assert milestones_met(helper) == ["six-months-active"]
    ContributionFactory(
        team=team,
        contributor=helper,
        platform=Platform.DISCORD,
        source_id="discord-20",
        contribution_type=ContributionType.REPLY,
    )
    assert set(milestones_met(helper)) == {"six-months-active", "community-helper"}
    assert milestones_met(newcomer) == []


def test_evaluate_team_claims_what_is_first_met(
    sbt_chain, deployed, django_capture_on_commit_callbacks
):
    team = TeamFactory()
    first, second = ContributorFactory.create_batch(2, team=team)
    solana = ContributorFactory(
        team=team,
        wallet_address="So11111111111111111111111111111111111111112",
        wallet_namespace="solana",
    )
    for contributor in (first, second, solana):
        merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        claimed = evaluate_team(team)
    assert {record.contributor_id for record in claimed} == {first.pk, second.pk}
    assert set(SBTRecord.objects.values_list("status", flat=True)) == {SBTStatus.MINTED}
    assert {
        deployed.functions.ownerOf(int(record.token_id)).call()
        for record in SBTRecord.objects.all()
    } == {first.wallet_address, second.wallet_address}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert evaluate_team(team) == []
    assert callbacks == []


def test_a_mint_sent_but_never_recorded_is_found_not_sent_again(sbt_chain, deployed):
    contributor = ContributorFactory()
    merged_pr(contributor)
    record = SBTRecord.objects.create(
        team=contributor.team,
        contributor=contributor,
        milestone="first-merged-pr",
        chain=sbt_chain.chain,
        wallet_address=contributor.wallet_address,
        token_address=deployed.address,
    )
    # An earlier attempt's transaction was mined, but its worker died before recording it.
    lost = deployed.functions.mint(contributor.wallet_address, sbt_claim_key(record)).transact(
        {"from": signer_address()}
    )
    minted = sbt_mint(record_id=str(record.pk))
    assert minted.status == SBTStatus.MINTED
    assert minted.token_id == "1" and minted.tx_hash == lost.to_0x_hex()
    assert deployed.functions.balanceOf(contributor.wallet_address).call() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_mint_tasks_mint_one_token(sbt_chain):
    server = EvmRpcServer(sbt_chain.w3).start()
    try:
        with evm_client_override(sbt_chain.chain, server.client()):
            sbt = sbt_chain.deploy()
            contributor = ContributorFactory()
            merged_pr(contributor)
            record = SBTRecord.objects.create(
                team=contributor.team,
                contributor=contributor,
                milestone="first-merged-pr",
                chain=sbt_chain.chain,
                wallet_address=contributor.wallet_address,
                token_address=sbt.address,
            )
            start = threading.Barrier(4)
            results: list[str] = []

            def run() -> None:
                start.wait()
                try:
                    results.append(sbt_mint_task(str(record.pk)))
                finally:
                    connection.close()

            threads = [threading.Thread(target=run) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
    finally:
        server.stop()
    assert results == [SBTStatus.MINTED] * 4
    record.refresh_from_db()
    assert record.status == SBTStatus.MINTED and record.attempts == 1
    assert sbt.functions.balanceOf(contributor.wallet_address).call() == 1
    assert sbt.functions.ownerOf(1).call() == contributor.wallet_address
    assert sbt.functions.locked(1).call() is True
    assert server.calls["eth_sendRawTransaction"] == 3  # creation, base URI, one mint
    assert SignerNonce.objects.get().next_nonce == 3
    assert Web3.to_checksum_address(record.wallet_address) == contributor.wallet_address


def test_admin_retry_queues_a_failed_mint_again(
    sbt_chain, deployed, admin_client, django_capture_on_commit_callbacks
):
    contributor = ContributorFactory()
    merged_pr(contributor)
    record = SBTRecord.objects.create(
        team=contributor.team,
        contributor=contributor,
        milestone="first-merged-pr",
        chain=sbt_chain.chain,
        wallet_address=contributor.wallet_address,
        token_address=deployed.address,
        status=SBTStatus.FAILED,
        last_error="the endpoint failed",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/pulse/sbtrecord/",
            {"action": "retry_mint", "_selected_action": [str(record.pk)]},
        )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == SBTStatus.MINTED and record.last_error == ""
    assert deployed.functions.ownerOf(int(record.token_id)).call() == contributor.wallet_address


def test_an_endpoint_serving_another_chain_gets_no_mint(sbt_chain, deployed):
    contributor = ContributorFactory()
    merged_pr(contributor)
    record = SBTRecord.objects.create(
        team=contributor.team,
        contributor=contributor,
        milestone="first-merged-pr",
        chain="eip155:8453",  # Base, but the endpoint configured for it is the test chain
        wallet_address=contributor.wallet_address,
        token_address=deployed.address,
    )
    head = sbt_chain.w3.eth.block_number
    with evm_client_override("eip155:8453", sbt_chain.w3):
        assert sbt_mint_task(str(record.pk)) == "failed"
    record.refresh_from_db()
    assert record.status == SBTStatus.FAILED
    assert "serves chain id" in record.last_error
    assert sbt_chain.w3.eth.block_number == head


# --- After a score calculation (pulse.services.scores.scores_calculated) ----------------


def test_a_milestone_first_met_is_minted_after_calculate_scores(
    sbt_chain, deployed, django_capture_on_commit_callbacks
):
    contributor = ContributorFactory()
    merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("calculate_scores", stdout=StringIO())
    record = SBTRecord.objects.get()
    assert (record.contributor_id, record.milestone) == (contributor.pk, "first-merged-pr")
    assert record.status == SBTStatus.MINTED and record.chain == sbt_chain.chain
    assert deployed.functions.ownerOf(int(record.token_id)).call() == contributor.wallet_address
    # The next calculation claims nothing again.
    head = sbt_chain.w3.eth.block_number
    with django_capture_on_commit_callbacks(execute=True):
        call_command("calculate_scores", "--team", contributor.team.pulse_id, stdout=StringIO())
    assert SBTRecord.objects.count() == 1 and sbt_chain.w3.eth.block_number == head


def test_calculate_scores_without_an_sbt_chain_claims_nothing(
    settings, django_capture_on_commit_callbacks
):
    settings.SBT_CHAIN = ""
    contributor = ContributorFactory()
    merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("calculate_scores", stdout=StringIO())
    contributor.refresh_from_db()
    contributor.team.refresh_from_db()
    assert contributor.contribution_score > 0 and contributor.team.last_calculated_at
    assert not SBTRecord.objects.exists()


def test_a_chain_without_the_contract_claims_nothing(sbt_chain, django_capture_on_commit_callbacks):
    contributor = ContributorFactory()
    merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("calculate_scores", stdout=StringIO())
    assert not SBTRecord.objects.exists()


def test_a_failing_evaluation_never_undoes_the_calculation(
    monkeypatch, settings, django_capture_on_commit_callbacks, caplog
):
    def broken(team):
        raise RuntimeError("node down")

    monkeypatch.setattr("pulse.services.milestones.evaluate_team", broken)
    contributor = ContributorFactory()
    merged_pr(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("calculate_scores", stdout=StringIO())
    contributor.refresh_from_db()
    assert contributor.contribution_score > 0
    assert "not evaluated" in caplog.text
