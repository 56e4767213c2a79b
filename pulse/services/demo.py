"""PULSE demo data: three teams, their contributors and six months of activity, scored.

Everything is drawn from random generators seeded by fixed strings, so every machine gets
the same teams and people (the activity is dated relative to the day it is seeded). The
scores come from the same calculation the nightly task runs, computed as of every few days
over the six months, so the trend charts show what the pipeline would have shown; weekly
reports are built by the same service as the Monday task.

Re-running creates nothing: teams are found by name in the demo organization, a team that
has contributions keeps them, one that has snapshots keeps them, and reports are unique
per team and week.

Discord activity carries the weights the Omotenashi weighting gives (DISCORD_MIX: short
messages and reactions little, replies more, welcoming a newcomer most). When a chain is
configured and serving (SBT_CHAIN with FabrkntSBT deployed, as `make run`'s development
chain sets it up before seed_demo runs), one contributor's first-merged-pr token is
minted; without one (or before the chain is up) tokens are skipped, and a later run mints
it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_utils import to_checksum_address
from web3.exceptions import Web3Exception

from accounts.models import Organization
from pulse.models import (
    Contribution,
    Contributor,
    IdentityStatus,
    Platform,
    SBTRecord,
    SBTStatus,
    ScoreSnapshot,
    Team,
    Verification,
    WeeklyReport,
)
from pulse.services.milestones import milestones_met
from pulse.services.scores import scores_calculate
from pulse.services.weekly_reports import last_full_week, weekly_report_build

DEMO_DAYS = 182
SNAPSHOT_EVERY_DAYS = 4
REPORT_WEEKS = 8
# The demo's one minted token: this person's first merged pull request.
TOKEN_TEAM, TOKEN_PERSON, TOKEN_MILESTONE = "Basedrop core", "mika-dev", "first-merged-pr"

logger = logging.getLogger(__name__)
GITHUB_MIX = [
    ("commit", 10.0),
    ("pull_request_opened", 2.0),
    ("pull_request_merged", 1.6),
    ("review_approved", 1.6),
    ("review_changes_requested", 0.6),
    ("review_commented", 1.0),
    ("issue_opened", 0.8),
    ("issue_closed", 0.6),
    ("issue_comment", 3.0),
]
# (type, Omotenashi weight the ingest gives it, how often)
DISCORD_MIX = [
    ("message", Decimal("1.00"), 6.0),
    ("message", Decimal("0.20"), 2.0),  # very short ones
    ("reply", Decimal("1.50"), 3.0),
    ("reply", Decimal("3.00"), 1.0),  # welcoming a newcomer
    ("reaction", Decimal("0.25"), 3.0),
    ("thread_message", Decimal("1.20"), 1.0),
]


@dataclass(frozen=True)
class PersonSpec:
    login: str
    joins: int  # day (0 = six months ago) of the first contribution
    leaves: int  # day of the last one
    github_rate: float  # GitHub events a day while active
    discord_rate: float
    linked: bool  # identities linked through OAuth (else asserted by an admin)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    discord_guild_id: str
    people: tuple[PersonSpec, ...]


TEAMS = [
    TeamSpec(
        name="Basedrop core",
        discord_guild_id="1187265389000000001",
        people=(
            PersonSpec("mika-dev", 0, DEMO_DAYS, 2.2, 1.5, True),
            PersonSpec("ren-tanaka", 0, DEMO_DAYS, 1.8, 2.5, True),
            PersonSpec("sol-ops", 10, DEMO_DAYS, 1.0, 0.6, True),
            PersonSpec("aiko-review", 40, DEMO_DAYS, 1.4, 0.8, False),
            PersonSpec("jules-front", 75, DEMO_DAYS, 1.2, 0.5, True),
            PersonSpec("pat-docs", 100, DEMO_DAYS, 0.5, 1.8, False),
            PersonSpec("kai-newcomer", 150, DEMO_DAYS, 0.8, 1.2, True),
            PersonSpec("lee-contract", 20, 110, 1.0, 0.2, True),
        ),
    ),
    TeamSpec(
        name="Solstice SDK",
        discord_guild_id="",
        people=(
            PersonSpec("vera-lead", 0, DEMO_DAYS, 1.6, 0.0, True),
            PersonSpec("omar-core", 0, 125, 2.0, 0.0, True),
            PersonSpec("ines-tests", 5, 140, 1.2, 0.0, False),
            PersonSpec("dan-infra", 30, 95, 0.9, 0.0, True),
            PersonSpec("yuki-sdk", 60, DEMO_DAYS, 0.7, 0.0, False),
        ),
    ),
    TeamSpec(
        name="Nightly DAO",
        discord_guild_id="1187265389000000003",
        people=(
            PersonSpec("hana-host", 0, DEMO_DAYS, 0.3, 4.0, True),
            PersonSpec("tomo-mod", 0, DEMO_DAYS, 0.2, 3.0, True),
            PersonSpec("eli-builder", 15, DEMO_DAYS, 1.0, 1.0, False),
            PersonSpec("noa-helper", 50, DEMO_DAYS, 0.0, 2.5, True),
            PersonSpec("ravi-voter", 90, DEMO_DAYS, 0.0, 1.2, False),
            PersonSpec("sam-lurker", 120, 160, 0.0, 0.8, False),
        ),
    ),
]


@dataclass
class PulseDemo:
    teams: int = 0
    contributors: int = 0
    contributions: int = 0
    snapshots: int = 0
    reports: int = 0
    tokens: int = 0

    @property
    def created(self) -> int:
        return (
            self.teams
            + self.contributors
            + self.contributions
            + self.snapshots
            + self.reports
            + self.tokens
        )


def _wallet(seed: str) -> str:
    return to_checksum_address(
        "0x" + hashlib.sha256(f"pulse-demo:{seed}".encode()).hexdigest()[:40]
    )


def _discord_id(seed: str) -> str:
    return str(10**17 + int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))


def _team(organization: Organization, spec: TeamSpec, result: PulseDemo) -> Team:
    team, made = Team.objects.get_or_create(
        organization=organization,
        team_name=spec.name,
        defaults={"discord_guild_id": spec.discord_guild_id},
    )
    result.teams += int(made)
    return team


def _people(team: Team, spec: TeamSpec, result: PulseDemo) -> dict[str, Contributor]:
    people = {}
    for person in spec.people:
        status = IdentityStatus.LINKED if person.linked else IdentityStatus.ASSERTED
        contributor, made = Contributor.objects.get_or_create(
            team=team,
            wallet_address=_wallet(person.login),
            defaults={
                "github_login": person.login,
                "github_identity": status,
                "discord_id": _discord_id(person.login) if person.discord_rate else "",
                "discord_identity": status,
            },
        )
        result.contributors += int(made)
        people[person.login] = contributor
    return people


def _activity(
    team: Team, spec: TeamSpec, people: dict[str, Contributor], start: dt.datetime
) -> list[Contribution]:
    rng = random.Random(f"pulse-demo:{spec.name}")  # noqa: S311  (demo data, not secrets)
    rows: list[Contribution] = []
    github_kinds = [kind for kind, _ in GITHUB_MIX]
    github_weights = [w for _, w in GITHUB_MIX]
    discord_weights = [w for _, _, w in DISCORD_MIX]
    for person in spec.people:
        contributor = people[person.login]
        verification = Verification.VERIFIED
        for day in range(person.joins, person.leaves):
            moment = start + dt.timedelta(days=day)
            busy = 0.4 if moment.weekday() >= 5 else 1.0
            for _ in range(_count(rng, person.github_rate * busy)):
                rows.append(
                    _contribution(
                        team,
                        contributor,
                        Platform.GITHUB,
                        rng.choices(github_kinds, github_weights)[0],
                        Decimal("1.00"),
                        moment + dt.timedelta(seconds=rng.randrange(86400)),
                        Verification.SELF_REPORTED if rng.random() < 0.15 else verification,
                        len(rows),
                    )
                )
            for _ in range(_count(rng, person.discord_rate * (1.3 if busy < 1 else 1.0))):
                kind, weight, _ = rng.choices(DISCORD_MIX, discord_weights)[0]
                rows.append(
                    _contribution(
                        team,
                        contributor,
                        Platform.DISCORD,
                        kind,
                        weight,
                        moment + dt.timedelta(seconds=rng.randrange(86400)),
                        Verification.VERIFIED,
                        len(rows),
                    )
                )
    return rows


def _count(rng: random.Random, rate: float) -> int:
    """Events on one day: a rate's integer part, plus one more with its fraction's odds,
    sometimes a busier day."""
    if rate <= 0:
        return 0
    count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
    return count * 2 if rng.random() < 0.08 else count


def _contribution(
    team: Team,
    contributor: Contributor,
    platform: str,
    kind: str,
    weight: Decimal,
    moment: dt.datetime,
    verification: str,
    n: int,
) -> Contribution:
    return Contribution(
        team=team,
        contributor=contributor,
        platform=platform,
        source_id=f"demo:{n}",
        source_login=contributor.github_login
        if platform == Platform.GITHUB
        else contributor.discord_id,
        contribution_type=kind,
        weight=weight,
        occurred_at=moment,
        verification=verification,
        repository=f"{team.team_name.split()[0].lower()}/app"
        if platform == Platform.GITHUB
        else "",
    )


def _history(team: Team, start: dt.datetime, now: dt.datetime, result: PulseDemo) -> None:
    """Scores as of every few days over the six months, then now."""
    if ScoreSnapshot.objects.filter(team=team, contributor=None).exists():
        return
    before = ScoreSnapshot.objects.filter(team=team).count()
    moment = start + dt.timedelta(days=SNAPSHOT_EVERY_DAYS)
    while moment < now:
        scores_calculate(team=team, as_of=moment, on_calculated=_nothing)
        moment += dt.timedelta(days=SNAPSHOT_EVERY_DAYS)
    scores_calculate(team=team, as_of=now, on_calculated=_nothing)
    result.snapshots += ScoreSnapshot.objects.filter(team=team).count() - before


def _nothing(team_ids: list[object]) -> None:
    """Demo history mints nothing."""


def _reports(team: Team, result: PulseDemo) -> None:
    week = last_full_week()
    for n in range(REPORT_WEEKS):
        week_start = week - dt.timedelta(days=7 * n)
        if not WeeklyReport.objects.filter(team=team, week_start=week_start).exists():
            weekly_report_build(team=team, week_start=week_start)
            result.reports += 1


def _chain_serving() -> str | None:
    """SBT_CHAIN when it is configured, FabrkntSBT is deployed on it and its node answers
    with the contract's code; else None (and why, in the log)."""
    from fabrknt.chain.evm import ChainNotConfigured, evm_client_serving
    from pulse.services.sbt_contract import sbt_address

    chain = settings.SBT_CHAIN
    address = sbt_address(chain) if chain else None
    if not chain or not address:
        return None
    try:
        serving = bool(evm_client_serving(chain).eth.get_code(to_checksum_address(address)))
    except (ChainNotConfigured, OSError, Web3Exception) as error:
        logger.warning("PULSE demo: %s is not serving (%s): no token minted", chain, error)
        return None
    if not serving:
        logger.warning("PULSE demo: no FabrkntSBT at %s on %s: no token minted", address, chain)
    return chain if serving else None


def _token(organization: Organization, result: PulseDemo) -> None:
    """One minted token, when a chain serves (see the module's docstring)."""
    from pulse.services.sbt import MINT_FATAL, MINT_RETRYABLE, sbt_claim, sbt_mint

    contributor = Contributor.objects.filter(
        team__organization=organization,
        team__team_name=TOKEN_TEAM,
        wallet_address=_wallet(TOKEN_PERSON),
    ).first()
    if contributor is None or TOKEN_MILESTONE not in milestones_met(contributor):
        return
    held = SBTRecord.objects.filter(contributor=contributor, milestone=TOKEN_MILESTONE).first()
    if held is not None and held.status == SBTStatus.MINTED:
        return
    if _chain_serving() is None:
        return
    claim = held or sbt_claim(contributor=contributor, milestone=TOKEN_MILESTONE).record
    try:
        record = sbt_mint(record_id=str(claim.pk))  # followed to its receipt
    except (*MINT_RETRYABLE, *MINT_FATAL) as error:
        logger.warning("PULSE demo: token %s not minted yet: %s", claim.pk, error)
        return
    result.tokens += int(record.status == SBTStatus.MINTED)


def pulse_demo_teams(*, organization: Organization) -> dict[str, Team]:
    """The demo organization's PULSE demo teams by name (FABRIC's demo lists them)."""
    names = [spec.name for spec in TEAMS]
    teams = Team.objects.filter(organization=organization, team_name__in=names)
    return {team.team_name: team for team in teams}


def pulse_demo_seed(*, organization: Organization) -> PulseDemo:
    """The demo organization's PULSE teams, people, activity, scores and reports."""
    result = PulseDemo()
    now = timezone.now()
    start = (now - dt.timedelta(days=DEMO_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    for spec in TEAMS:
        with transaction.atomic():
            team = _team(organization, spec, result)
            people = _people(team, spec, result)
            if not Contribution.objects.filter(team=team).exists():
                rows = _activity(team, spec, people, start)
                Contribution.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
                result.contributions += len(rows)
        _history(team, start, now, result)
        _reports(team, result)
    _token(organization, result)
    return result
