from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pulse.models import ContributionWeight, RepositoryClaim, Team, TeamRepository
from pulse.tests.factories import ContributorFactory, TeamFactory, TeamRepositoryFactory

pytestmark = pytest.mark.django_db


def test_webhook_secret_is_encrypted_at_rest():
    team = TeamFactory(github_webhook_secret="s3cret-value")
    with connection.cursor() as cursor:
        cursor.execute("SELECT github_webhook_secret FROM pulse_team WHERE id = %s", [team.id])
        (stored,) = cursor.fetchone()
    assert "s3cret-value" not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert Team.objects.get(id=team.id).github_webhook_secret == "s3cret-value"


def test_empty_secret_stays_empty():
    team = TeamFactory()
    assert Team.objects.get(id=team.id).github_webhook_secret == ""


def test_pulse_ids_are_long_and_distinct():
    first, second = TeamFactory(), TeamFactory()
    assert first.pulse_id != second.pulse_id
    assert first.pulse_id.startswith("pt_") and len(first.pulse_id) == 25


def test_one_team_alone_holds_a_repository_through_the_app():
    TeamRepositoryFactory(full_name="octo/repo", claim=RepositoryClaim.APP)
    TeamRepositoryFactory(full_name="octo/repo", claim=RepositoryClaim.WEBHOOK)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamRepositoryFactory(full_name="octo/repo", claim=RepositoryClaim.APP)
    TeamRepositoryFactory(
        full_name="octo/repo", claim=RepositoryClaim.APP, lapsed_at=timezone.now()
    )
    assert TeamRepository.objects.filter(full_name="octo/repo").count() == 3


def test_repository_names_are_lower_case():
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamRepositoryFactory(full_name="Octo/Repo")


def test_contributor_unique_per_team_wallet_and_login():
    contributor = ContributorFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContributorFactory(team=contributor.team, wallet_address=contributor.wallet_address)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContributorFactory(team=contributor.team, github_login=contributor.github_login)
    ContributorFactory(wallet_address=contributor.wallet_address)  # another team: fine


def test_default_weights_are_seeded():
    weights = dict(ContributionWeight.objects.values_list("contribution_type", "weight"))
    assert weights["pull_request_merged"] > weights["commit"] > weights["issue_comment"]
    assert weights["review_approved"] > weights["commit"]
