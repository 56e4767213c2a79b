"""Issue 11's "Done when", end to end on PostgreSQL: a GitHub App delivery and a Discord
relay, both signed with real secrets and keys, become verified contributions of a
contributor who linked both identities; `calculate_scores` raises the contributor's score
and `GET /api/v1/vitality/{pulse_id}` explains it. Repeats change nothing, forgeries are
401 and store nothing, and a team's own webhook secret never writes into another team.

Celery runs eager in the tests (conftest), so each delivery is processed when its
transaction commits (django_capture_on_commit_callbacks).
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tests.clients import as_user
from accounts.tests.factories import MembershipFactory
from pulse.models import (
    Contribution,
    ContributionType,
    Contributor,
    DeliveryOutcome,
    IdentityStatus,
    Platform,
    SBTRecord,
    Team,
    Verification,
    WebhookDelivery,
)
from pulse.tests import github_support as gh
from pulse.tests.discord_relay_support import PUBLIC_KEY, linked_team, post_signed, relay
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

APP_SECRET = "app-webhook-secret-end-to-end"
INSTALLATION_ID = 957399
REPO = gh.repository("Octo-Org/Hello-World", 186853002)
ASKER, HELPER = "700000000000000101", "700000000000000102"
PR_DELIVERY = "5e4c6a30-cf7a-11ef-8b2a-9d6c2f7b1e01"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.GITHUB_WEBHOOK_SECRET = APP_SECRET
    settings.DISCORD_RELAY_PUBLIC_KEY = PUBLIC_KEY
    settings.SBT_CHAIN = ""  # milestones are evaluated after each calculation: no chain here


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


@pytest.fixture
def setup(client, team, on_commit):
    """`team` (conftest: its own webhook secret) with the App installed on REPO, our bot in
    its Discord server, and a contributor who linked GitHub and Discord through OAuth."""
    gh.app_install(
        client,
        on_commit,
        secret=APP_SECRET,
        installation_id=INSTALLATION_ID,
        repos=[gh.repository_ref(REPO["full_name"], REPO["id"])],
        team=team,
    )
    linked_team(team)
    now = timezone.now()
    person = ContributorFactory(
        team=team,
        github_login="octocat",
        github_identity=IdentityStatus.LINKED,
        github_linked_at=now,
        discord_id=HELPER,
        discord_identity=IdentityStatus.LINKED,
        discord_linked_at=now,
    )
    return team, person


def _merged_pr() -> dict:
    return gh.pull_request(repo=REPO, action="closed", author="octocat", merged=True)


def _deliver_pr(client, on_commit, **kwargs):
    return on_commit(
        gh.deliver,
        client,
        _merged_pr(),
        event="pull_request",
        secret=APP_SECRET,
        **{"delivery": PR_DELIVERY, **kwargs},
    )


def _answer(at: dt.datetime) -> dict:
    return relay(
        "reply",
        "900000000000000111",
        HELPER,
        at,
        reply_to_author_id=ASKER,
        message_id="900000000000000110",
        content_length=220,
    )


def _calculate(on_commit) -> None:
    on_commit(call_command, "calculate_scores", stdout=StringIO())


def _state(team: Team) -> dict:
    """Everything the deliveries and calculations write, to compare before and after."""
    return {
        "contributions": sorted(
            Contribution.objects.filter(team=team).values_list(
                "source_id", "contribution_type", "weight", "verification", "contributor_id"
            )
        ),
        "deliveries": WebhookDelivery.objects.count(),
    }


def _score(person: Contributor) -> Decimal:
    person.refresh_from_db()
    return person.contribution_score


def _close(a: Decimal, b: Decimal) -> bool:
    # Points decay with time (half-life 90 days): two calculations seconds apart may differ
    # by a rounding step of the stored two decimals, never more.
    return abs(a - b) <= Decimal("0.01")


def test_signed_deliveries_become_an_explained_score_and_repeats_change_nothing(
    client, setup, on_commit
):
    team, person = setup
    _calculate(on_commit)
    before = _score(person)
    assert before == 0

    # GitHub: the App's delivery of a merged pull request (only GitHub knows its secret).
    response = _deliver_pr(client, on_commit)
    assert response.status_code == 202 and response.json()["duplicate"] is False
    # Discord: our bot relays an answer to a newcomer who asked a question, signed with
    # the bot's Ed25519 key (a member_join and the question come first).
    at = timezone.now() - dt.timedelta(hours=1)
    join = relay("member_join", f"join:{team.discord_guild_id}:{ASKER}", ASKER, at)
    question = relay(
        "message", "900000000000000110", ASKER, at + dt.timedelta(minutes=1), content_length=64
    )
    for event in (join, question, _answer(at + dt.timedelta(minutes=3))):
        relayed = on_commit(post_signed, client, event)
        assert relayed.status_code == 200 and relayed.json()["outcome"] == "stored", relayed.json()

    merged = Contribution.objects.get(team=team, platform=Platform.GITHUB)
    assert (merged.contributor, merged.contribution_type, merged.verification) == (
        person,
        ContributionType.PULL_REQUEST_MERGED,
        Verification.VERIFIED,
    )
    answer = Contribution.objects.get(team=team, source_id="900000000000000111")
    assert (answer.contributor, answer.contribution_type, answer.verification) == (
        person,
        ContributionType.REPLY,
        Verification.VERIFIED,
    )
    # Omotenashi: answering a newcomer's first question counts more than a message.
    assert answer.weight > Decimal("1.00")

    _calculate(on_commit)
    after = _score(person)
    assert after > before
    person.refresh_from_db()
    assert person.verified_contribution_score == after and person.verified_share == 1
    # (first-merged-pr is met, but without SBT_CHAIN no token is claimed.)
    assert not SBTRecord.objects.exists()

    # The vitality API explains it: components per type, and how much is verified.
    member = MembershipFactory(organization=team.organization, role=Role.VIEWER).user
    vitality = as_user(member).get(f"/api/v1/vitality/{team.pulse_id}")
    assert vitality.status_code == 200
    body = vitality.json()
    team.refresh_from_db()
    assert body["vitality_score"] == float(team.vitality_score) > 0
    assert body["developer_activity_score"] > 0 and body["community_score"] > 0
    assert body["verified_share"] == 1.0
    developer = body["components"]["developer_activity"]
    assert developer["verified_share"] == 1.0
    [merged_row] = [row for row in developer["by_type"] if row["type"] == "pull_request_merged"]
    assert merged_row["events"] == merged_row["verified_events"] == 1
    community = body["components"]["community"]
    assert community["verified_share"] == 1.0
    assert "reply" in {row["type"] for row in community["by_type"]}
    assert body["calculated_at"].endswith("Z")

    # The same deliveries again (GitHub's redelivery keeps its id; our bot retries an
    # event signed anew), and the same pull request under a new delivery id: nothing new.
    state = _state(team)
    again = _deliver_pr(client, on_commit)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _deliver_pr(client, on_commit, delivery=None).status_code == 202
    repeated = on_commit(post_signed, client, _answer(at + dt.timedelta(minutes=3)))
    assert repeated.status_code == 200 and repeated.json()["outcome"] == "duplicate"
    _calculate(on_commit)
    assert _state(team)["contributions"] == state["contributions"]
    assert _close(_score(person), after)
    team.refresh_from_db()
    assert _close(Decimal(body["vitality_score"]).quantize(Decimal("0.01")), team.vitality_score)


def test_forged_signatures_are_401_and_store_nothing(client, setup, on_commit):
    team, person = setup
    state = _state(team)
    # Signed with another secret; and the App's delivery addressed to the team's URL.
    forged = _deliver_pr(client, on_commit, sign_with="not-the-app-secret")
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature"
    assert _deliver_pr(client, on_commit, team=team.pulse_id).status_code == 401
    # A relay signed with a key that is not our bot's.
    other_seed = base64.b64encode(bytes(range(33, 65))).decode()
    relayed = on_commit(post_signed, client, _answer(timezone.now()), seed=other_seed)
    assert relayed.status_code == 401
    assert _state(team) == state
    assert not Contribution.objects.exists()


def test_a_teams_own_secret_never_writes_into_another_team(client, setup, on_commit):
    team, person = setup
    other = TeamFactory(github_webhook_secret="other-team-secret")
    ContributorFactory(team=other, github_login="octocat")
    _calculate(on_commit)
    state, score = _state(team), _score(person)

    # The other team's secret, addressed to this team: refused.
    refused = on_commit(
        gh.deliver,
        client,
        _merged_pr(),
        event="pull_request",
        secret=other.github_webhook_secret,
        team=team.pulse_id,
    )
    assert refused.status_code == 401
    # Addressed to the other team, about this team's App-verified repository: recorded
    # for the other team only, and ignored there (the repository is this team's alone).
    own = on_commit(
        gh.deliver,
        client,
        _merged_pr(),
        event="pull_request",
        secret=other.github_webhook_secret,
        team=other.pulse_id,
    )
    assert own.status_code == 202
    delivery = WebhookDelivery.objects.get(team=other)
    assert delivery.outcome == DeliveryOutcome.IGNORED
    # About a repository of its own: self-reported, and the other team's only.
    elsewhere = on_commit(
        gh.deliver,
        client,
        gh.pull_request(
            repo=gh.repository("Other-Org/Tool", 186853777),
            action="closed",
            author="octocat",
            merged=True,
            pr_id=279147999,
            number=7,
        ),
        event="pull_request",
        secret=other.github_webhook_secret,
        team=other.pulse_id,
    )
    assert elsewhere.status_code == 202
    written = Contribution.objects.get(team=other)
    assert written.verification == Verification.SELF_REPORTED
    assert written.contributor.team == other

    _calculate(on_commit)
    assert _state(team)["contributions"] == state["contributions"]
    assert _close(_score(person), score)
