from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from eth_account import Account

from accounts.tests.factories import OrganizationFactory
from pulse.models import (
    Contribution,
    ContributionType,
    Contributor,
    Platform,
    SBTRecord,
    SBTStatus,
    Team,
    TeamRepository,
    Verification,
)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    team_name = factory.Sequence(lambda n: f"Team {n}")


class TeamRepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamRepository

    team = factory.SubFactory(TeamFactory)
    full_name = factory.Sequence(lambda n: f"octo-org/repo-{n}")


class ContributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contributor

    team = factory.SubFactory(TeamFactory)
    wallet_address = factory.LazyFunction(lambda: Account.create().address)
    github_login = factory.Sequence(lambda n: f"dev-{n}")


class ContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contribution

    team = factory.SubFactory(TeamFactory)
    contributor = factory.SubFactory(ContributorFactory, team=factory.SelfAttribute("..team"))
    platform = Platform.GITHUB
    source_id = factory.Sequence(lambda n: f"commit:1:{n:040x}")
    source_login = factory.LazyAttribute(
        lambda o: o.contributor.github_login if o.contributor else ""
    )
    contribution_type = ContributionType.COMMIT
    weight = Decimal("1.00")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    verification = Verification.VERIFIED


class SBTRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SBTRecord

    team = factory.SubFactory(TeamFactory)
    contributor = factory.SubFactory(ContributorFactory, team=factory.SelfAttribute("..team"))
    milestone = "first-merged-pr"
    chain = "eip155:31337"
    wallet_address = factory.LazyAttribute(lambda o: o.contributor.wallet_address)


def minted_sbt(team: Team) -> SBTRecord:
    """A contributor of the team (a new EVM wallet) holding a minted token, id 7, of a new
    contract on the local chain."""
    contributor = ContributorFactory(team=team, wallet_address=Account.create().address)
    return SBTRecordFactory(
        team=team,
        contributor=contributor,
        status=SBTStatus.MINTED,
        token_address=Account.create().address,
        token_id="7",
        issued_at=timezone.now(),
    )
