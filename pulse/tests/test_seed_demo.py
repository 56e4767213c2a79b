"""PULSE demo data: living teams (six months of activity with Omotenashi-weighted Discord
activity, a scored history, weekly reports), nothing new on a second run, and one minted
token once a chain serves (none before)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from fabrknt.chain.models import DeployedContract
from pulse.models import (
    Contribution,
    Contributor,
    Platform,
    SBTRecord,
    SBTStatus,
    ScoreSnapshot,
    Team,
    WeeklyReport,
)
from pulse.services.demo import (
    DEMO_DAYS,
    REPORT_WEEKS,
    SNAPSHOT_EVERY_DAYS,
    TEAMS,
    TOKEN_PERSON,
    PulseDemo,
    _token,
    _wallet,
)
from pulse.services.sbt_contract import SBT_CONTRACT
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MODELS = [Team, Contributor, Contribution, ScoreSnapshot, WeeklyReport, SBTRecord]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_makes_living_teams_and_a_second_run_creates_nothing(sbt_chain, settings):
    settings.SBT_CHAIN = ""  # seed_demo before the development chain is up
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = _counts()
    assert counts["Team"] == len(TEAMS)
    assert counts["Contributor"] == sum(len(spec.people) for spec in TEAMS)
    assert counts["Contribution"] > 3000
    assert counts["WeeklyReport"] == len(TEAMS) * REPORT_WEEKS
    assert f"{len(TEAMS)} PULSE teams" in first.getvalue()
    for team in Team.objects.all():
        team_snapshots = ScoreSnapshot.objects.filter(team=team, contributor=None)
        assert team_snapshots.count() >= DEMO_DAYS // SNAPSHOT_EVERY_DAYS
        assert team.last_calculated_at is not None
        assert 0 < team.vitality_score <= 100
        assert team.verified_share is not None
    discord_teams = Team.objects.exclude(discord_guild_id="")
    assert all(team.score_components["community"]["measured"] for team in discord_teams)
    # Discord activity carries the Omotenashi weights: short messages little, helping more.
    weights = set(
        Contribution.objects.filter(platform=Platform.DISCORD).values_list("weight", flat=True)
    )
    assert min(weights) < Decimal("1.00") < max(weights)
    assert counts["SBTRecord"] == 0  # no chain: no token
    # Someone left Solstice SDK: its retention is below the healthy Basedrop core's.
    solstice = Team.objects.get(team_name="Solstice SDK")
    basedrop = Team.objects.get(team_name="Basedrop core")
    assert solstice.team_retention_score < basedrop.team_retention_score

    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert _counts() == counts
    assert "nothing new was created" in second.getvalue()

    # The chain is up (SBT_CHAIN, FabrkntSBT deployed): the next run mints one token.
    deployed = sbt_chain.deploy()
    settings.SBT_CHAIN = sbt_chain.chain
    third = StringIO()
    call_command("seed_demo", stdout=third)
    assert "1 minted tokens" in third.getvalue()
    record = SBTRecord.objects.get()
    assert (record.milestone, record.status, record.wallet_address) == (
        "first-merged-pr",
        SBTStatus.MINTED,
        _wallet(TOKEN_PERSON),
    )
    assert deployed.functions.ownerOf(int(record.token_id)).call() == _wallet(TOKEN_PERSON)
    head = sbt_chain.w3.eth.block_number
    fourth = StringIO()
    call_command("seed_demo", stdout=fourth)
    assert "nothing new was created" in fourth.getvalue()
    assert SBTRecord.objects.count() == 1 and sbt_chain.w3.eth.block_number == head


def test_a_configured_chain_that_does_not_answer_mints_nothing(settings):
    chain = "eip155:1337"
    settings.SBT_CHAIN = chain
    settings.CHAIN_RPC_URLS = {chain: "http://127.0.0.1:9"}  # nothing listens there
    DeployedContract.objects.create(
        chain=chain,
        name=SBT_CONTRACT,
        address="0x" + "5" * 40,
        bytecode_hash="0x" + "0" * 64,
        transaction_hash="0x" + "1" * 64,
        deployer="0x" + "2" * 40,
        block_number=1,
    )
    team = TeamFactory(team_name="Basedrop core")
    person = ContributorFactory(team=team, wallet_address=_wallet(TOKEN_PERSON))
    ContributionFactory(
        team=team,
        contributor=person,
        contribution_type="pull_request_merged",
        occurred_at=dt.datetime.now(tz=dt.UTC),
    )
    result = PulseDemo()
    _token(team.organization, result)
    assert result.tokens == 0 and not SBTRecord.objects.exists()
