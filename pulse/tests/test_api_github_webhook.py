from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from fabrknt.api.errors import Conflict, InvalidInput
from pulse.models import (
    Contribution,
    DeliveryOutcome,
    GitHubInstallation,
    RepositoryClaim,
    TeamRepository,
    Verification,
    WebhookDelivery,
)
from pulse.services.github_app import (
    github_app_install_url,
    github_install_state_read,
    github_installation_link,
)
from pulse.tests import github_support as gh
from pulse.tests.factories import ContributorFactory, TeamFactory, TeamRepositoryFactory

pytestmark = pytest.mark.django_db

APP_SECRET = "app-webhook-secret"
SHA1, SHA2, SHA3 = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture(autouse=True)
def _app_secret(settings):
    settings.GITHUB_WEBHOOK_SECRET = APP_SECRET


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the queued processing task as the commit would (tasks are eager in tests)."""

    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


def deliver_to_team(client, team, payload, event, **kwargs):
    return gh.deliver(
        client,
        payload,
        event=event,
        secret=team.github_webhook_secret,
        team=team.pulse_id,
        **kwargs,
    )


def test_a_team_push_becomes_self_reported_contributions(client, team, on_commit):
    contributor = ContributorFactory(team=team, github_login="octocat")
    repo = gh.repository("Octo-Org/Hello-World")
    payload = gh.push(repo=repo, commits=[(SHA1, "OctoCat"), (SHA2, "newcomer"), (SHA3, None)])
    response = on_commit(deliver_to_team, client, team, payload, "push")
    assert response.status_code == 202
    assert response.json()["duplicate"] is False
    rows = {c.source_id: c for c in Contribution.objects.all()}
    assert set(rows) == {f"commit:{SHA1}", f"commit:{SHA2}"}
    mine, waiting = rows[f"commit:{SHA1}"], rows[f"commit:{SHA2}"]
    assert mine.contributor == contributor and mine.team == team
    assert mine.verification == Verification.SELF_REPORTED
    assert mine.contribution_type == "commit" and str(mine.weight) == "1.00"
    assert mine.repository == "octo-org/hello-world"
    assert mine.occurred_at == dt.datetime(2026, 11, 20, 1, 15, 30, tzinfo=dt.UTC)
    assert waiting.contributor is None and waiting.source_login == "newcomer"
    contributor.refresh_from_db()
    assert contributor.last_active_at == mine.occurred_at
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.team, delivery.outcome) == (
        "github_repository",
        team,
        DeliveryOutcome.PROCESSED,
    )
    claim = TeamRepository.objects.get()
    assert (claim.team, claim.full_name, claim.claim) == (
        team,
        "octo-org/hello-world",
        RepositoryClaim.WEBHOOK,
    )
    assert claim.github_repository_id == repo["id"]


def test_a_repeated_delivery_changes_nothing(client, team, on_commit):
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    first = on_commit(
        deliver_to_team,
        client,
        team,
        payload,
        "push",
        delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958",
    )
    assert first.status_code == 202
    before = list(Contribution.objects.values())
    again = on_commit(
        deliver_to_team,
        client,
        team,
        payload,
        "push",
        delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958",
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert list(Contribution.objects.values()) == before
    assert WebhookDelivery.objects.count() == 1
    # Another delivery of the same commits (a re-push) stores them once too.
    on_commit(deliver_to_team, client, team, payload, "push")
    assert Contribution.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "no-signature", "sha1", "body-changed"],
)
def test_a_forged_delivery_is_401_and_stores_nothing(client, team, tamper, on_commit):
    import json

    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    body = json.dumps(payload).encode()
    signature = gh.signature(body, team.github_webhook_secret)
    headers = {"HTTP_X_GITHUB_EVENT": "push", "HTTP_X_GITHUB_DELIVERY": "d-1"}
    if tamper == "wrong-secret":
        headers["HTTP_X_HUB_SIGNATURE_256"] = gh.signature(body, "not-the-secret")
    elif tamper == "sha1":
        headers["HTTP_X_HUB_SIGNATURE"] = "sha1=" + signature[7:47]
    elif tamper == "body-changed":
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        body = body.replace(b"octocat", b"mallory")
    response = on_commit(
        client.post,
        f"/api/v1/github/webhook?team={team.pulse_id}",
        data=body,
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not WebhookDelivery.objects.exists() and not Contribution.objects.exists()
    assert not TeamRepository.objects.exists()


def test_a_teams_secret_never_writes_into_another_team(client, team, on_commit):
    other = TeamFactory(github_webhook_secret="other-secret")
    ContributorFactory(team=other, github_login="octocat")
    TeamRepositoryFactory(team=other, full_name="octo-org/hello-world")
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    # Signed with this team's secret but addressed to the other team: refused.
    forged = on_commit(
        gh.deliver,
        client,
        payload,
        event="push",
        secret=team.github_webhook_secret,
        team=other.pulse_id,
    )
    assert forged.status_code == 401
    assert not Contribution.objects.exists()
    # Addressed to this team: written to this team only, even for the other's repository.
    on_commit(deliver_to_team, client, team, payload, "push")
    assert list(Contribution.objects.values_list("team_id", flat=True)) == [team.id]
    # Signed with the App's secret but addressed to a team: refused (only that team's secret).
    assert (
        on_commit(
            gh.deliver, client, payload, event="push", secret=APP_SECRET, team=other.pulse_id
        ).status_code
        == 401
    )
    assert not Contribution.objects.filter(team=other).exists()


def test_unknown_team_and_unconfigured_app(client, settings, on_commit):
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    assert (
        on_commit(
            gh.deliver, client, payload, event="push", secret="x", team="pt_unknown"
        ).status_code
        == 401
    )
    assert (
        on_commit(gh.deliver, client, payload, event="push", secret="x", team="../etc").status_code
        == 401
    )
    settings.GITHUB_WEBHOOK_SECRET = ""
    response = on_commit(gh.deliver, client, payload, event="push", secret="")
    assert response.status_code == 503
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"a": NaN}', b'{"zen": "\\u0000"}', b""],
)
def test_a_signed_but_malformed_body_is_400_and_stores_nothing(client, team, body):
    response = client.post(
        f"/api/v1/github/webhook?team={team.pulse_id}",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_GITHUB_DELIVERY="d-1",
        HTTP_X_HUB_SIGNATURE_256=gh.signature(body, team.github_webhook_secret),
    )
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_missing_event_headers_are_400(client, team):
    body = b"{}"
    response = client.post(
        f"/api/v1/github/webhook?team={team.pulse_id}",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=gh.signature(body, team.github_webhook_secret),
    )
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_a_payload_not_of_githubs_shape_is_recorded_as_failed(client, team, on_commit):
    response = on_commit(
        deliver_to_team, client, team, {"commits": [{"id": "nope"}], "repository": {}}, "push"
    )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == DeliveryOutcome.FAILED
    assert "documented shape" in delivery.detail
    assert not Contribution.objects.exists()


def test_every_counted_event_type(client, team, on_commit):
    repo = gh.repository()
    deliveries = [
        (
            "ping",
            {
                "zen": "Design for failure.",
                "hook_id": 12345678,
                "hook": {"type": "Repository", "id": 12345678, "active": True, "events": ["*"]},
                "repository": repo,
                "sender": gh.user("octocat"),
            },
        ),
        (
            "pull_request",
            gh.pull_request(repo=repo, action="opened", author="alice", pr_id=11, number=1),
        ),
        (
            "pull_request",
            gh.pull_request(
                repo=repo, action="closed", author="alice", pr_id=11, number=1, merged=True
            ),
        ),
        (
            "pull_request",
            gh.pull_request(
                repo=repo, action="closed", author="bob", pr_id=12, number=2, merged=False
            ),
        ),
        (
            "pull_request",
            gh.pull_request(repo=repo, action="edited", author="bob", pr_id=13, number=3),
        ),
        (
            "pull_request_review",
            gh.pull_request_review(repo=repo, reviewer="carol", state="approved", review_id=21),
        ),
        (
            "pull_request_review",
            gh.pull_request_review(
                repo=repo, reviewer="carol", state="changes_requested", review_id=22
            ),
        ),
        (
            "pull_request_review",
            gh.pull_request_review(repo=repo, reviewer="dave", state="commented", review_id=23),
        ),
        (
            "pull_request_review",
            gh.pull_request_review(
                repo=repo, reviewer="dave", state="approved", review_id=24, action="dismissed"
            ),
        ),
        ("issues", gh.issues(repo=repo, action="opened", author="erin", issue_id=31)),
        (
            "issues",
            gh.issues(repo=repo, action="closed", author="erin", sender="frank", issue_id=31),
        ),
        ("issues", gh.issues(repo=repo, action="labeled", author="erin", issue_id=31)),
        ("issue_comment", gh.issue_comment(repo=repo, commenter="grace", comment_id=41)),
        (
            "issue_comment",
            gh.issue_comment(repo=repo, commenter="grace", comment_id=41, action="edited"),
        ),
        ("issue_comment", gh.issue_comment(repo=repo, commenter="dependabot[bot]", comment_id=42)),
        ("star", {"action": "created", "repository": repo, "sender": gh.user("x")}),
    ]
    for event, payload in deliveries:
        assert on_commit(deliver_to_team, client, team, payload, event).status_code == 202
    got = sorted(
        Contribution.objects.values_list("source_id", "contribution_type", "source_login", "weight")
    )
    assert [(s, t, login, str(w)) for s, t, login, w in got] == [
        ("issue-closed:31", "issue_closed", "frank", "1.50"),
        ("issue-comment:41", "issue_comment", "grace", "0.50"),
        ("issue-opened:31", "issue_opened", "erin", "1.50"),
        ("pr-merged:11", "pull_request_merged", "alice", "5.00"),
        ("pr-opened:11", "pull_request_opened", "alice", "2.00"),
        ("review:21", "review_approved", "carol", "4.00"),
        ("review:22", "review_changes_requested", "carol", "4.00"),
        ("review:23", "review_commented", "dave", "3.00"),
    ]
    outcomes = dict(
        WebhookDelivery.objects.filter(event__in=["ping", "star"]).values_list("event", "outcome")
    )
    assert outcomes == {"ping": "processed", "star": "ignored"}


def test_operator_weights_apply_to_new_contributions(client, team, on_commit):
    from pulse.models import ContributionWeight

    ContributionWeight.objects.filter(contribution_type="commit").update(weight="0.25")
    on_commit(
        deliver_to_team,
        client,
        team,
        gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")]),
        "push",
    )
    assert str(Contribution.objects.get().weight) == "0.25"


# --- the App ------------------------------------------------------------------------------


def _install(client, on_commit, **kwargs):
    gh.app_install(client, on_commit, secret=APP_SECRET, **kwargs)


def test_the_app_links_repositories_and_other_claims_lapse(client, team, on_commit):
    other = TeamFactory(github_webhook_secret="other-secret")
    TeamRepositoryFactory(team=other, full_name="octo-org/hello-world")
    _install(
        client,
        on_commit,
        installation_id=957387,
        repos=[gh.repository_ref("Octo-Org/Hello-World", 186853002)],
        team=team,
    )
    mine = TeamRepository.objects.get(team=team)
    assert (mine.claim, mine.lapsed_at, mine.github_repository_id) == (
        RepositoryClaim.APP,
        None,
        186853002,
    )
    assert mine.installation_id == 957387 and mine.verified_at is not None
    assert TeamRepository.objects.get(team=other).lapsed_at is not None
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    on_commit(gh.deliver, client, payload, event="push", secret=APP_SECRET)
    row = Contribution.objects.get()
    assert (row.team, row.verification) == (team, Verification.VERIFIED)
    # The lapsed team's own webhook no longer writes for that repository.
    on_commit(
        gh.deliver,
        client,
        gh.push(repo=gh.repository(), commits=[(SHA2, "octocat")]),
        event="push",
        secret="other-secret",
        team=other.pulse_id,
    )
    assert not Contribution.objects.filter(team=other).exists()
    assert WebhookDelivery.objects.filter(team=other).get().outcome == DeliveryOutcome.IGNORED
    # And a new claim on it by yet another team lapses at once.
    third = TeamFactory()
    from pulse.services.teams import team_repositories_claim

    (claim,) = team_repositories_claim(team=third, full_names=["octo-org/hello-world"])
    assert claim.lapsed_at is not None


def test_app_events_for_unlinked_repositories_are_ignored(client, on_commit):
    on_commit(
        gh.deliver,
        client,
        gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")]),
        event="push",
        secret=APP_SECRET,
    )
    assert not Contribution.objects.exists()
    assert WebhookDelivery.objects.get().outcome == DeliveryOutcome.IGNORED


def test_a_verified_delivery_confirms_self_reported_rows(client, team, on_commit):
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    on_commit(deliver_to_team, client, team, payload, "push")
    assert Contribution.objects.get().verification == Verification.SELF_REPORTED
    _install(
        client,
        on_commit,
        installation_id=957388,
        repos=[gh.repository_ref("octo-org/hello-world", 186853002)],
        team=team,
    )
    on_commit(gh.deliver, client, payload, event="push", secret=APP_SECRET)
    assert Contribution.objects.get().verification == Verification.VERIFIED


def test_installation_events_from_a_team_webhook_are_ignored(client, team, on_commit):
    payload = gh.installation(
        action="created", installation_id=1, repositories=[gh.repository_ref("a/b", 2)]
    )
    on_commit(deliver_to_team, client, team, payload, "installation")
    assert not GitHubInstallation.objects.exists()


def test_installation_repositories_added_and_removed(client, team, on_commit):
    _install(client, on_commit, installation_id=42, repos=[], team=team)
    added = gh.installation_repositories(
        action="added", installation_id=42, added=[gh.repository_ref("Codertocat/Space", 186853007)]
    )
    on_commit(gh.deliver, client, added, event="installation_repositories", secret=APP_SECRET)
    claim = TeamRepository.objects.get(team=team)
    assert (claim.full_name, claim.claim, claim.lapsed_at) == ("codertocat/space", "app", None)
    removed = gh.installation_repositories(
        action="removed",
        installation_id=42,
        removed=[gh.repository_ref("Codertocat/Space", 186853007)],
    )
    on_commit(gh.deliver, client, removed, event="installation_repositories", secret=APP_SECRET)
    claim.refresh_from_db()
    assert claim.lapsed_at is not None
    assert GitHubInstallation.objects.get().covered_repositories == []


def test_installation_deleted_lapses_its_claims(client, team, on_commit):
    _install(
        client, on_commit, installation_id=43, repos=[gh.repository_ref("a-org/x", 5)], team=team
    )
    on_commit(
        gh.deliver,
        client,
        gh.installation(action="deleted", installation_id=43, repositories=[]),
        event="installation",
        secret=APP_SECRET,
    )
    assert TeamRepository.objects.get().lapsed_at is not None
    assert GitHubInstallation.objects.get().removed_at is not None


# --- linking an installation to a team (the setup URL's signed state) --------------------------


def test_install_state_round_trip_and_refusals(team, settings):
    settings.GITHUB_APP_SLUG = "fabrknt-pulse"
    user, stranger = UserFactory(), UserFactory()
    url = github_app_install_url(team=team, user=user)
    assert url.startswith("https://github.com/apps/fabrknt-pulse/installations/new?state=")
    state = url.split("state=")[1]
    from urllib.parse import unquote

    state = unquote(state)
    got, issued = github_install_state_read(state=state, user=user)
    assert got == team and abs((timezone.now() - issued).total_seconds()) < 5
    with pytest.raises(InvalidInput):
        github_install_state_read(state=state, user=stranger)
    with pytest.raises(InvalidInput):
        github_install_state_read(state=state + "x", user=user)
    settings.GITHUB_INSTALL_STATE_MAX_AGE_SECONDS = -1
    with pytest.raises(InvalidInput):
        github_install_state_read(state=state, user=user)
    settings.GITHUB_APP_SLUG = ""
    assert github_app_install_url(team=team, user=user) is None


def test_linking_waits_for_githubs_event_and_refuses_older_or_taken_installations(
    client, team, on_commit
):
    with pytest.raises(Conflict) as pending:
        github_installation_link(team=team, installation_id=77, state_issued_at=timezone.now())
    assert pending.value.code == "installation_pending"
    _install(client, on_commit, installation_id=77, repos=[])
    # An installation made before the install link was issued is someone else's.
    with pytest.raises(Conflict):
        github_installation_link(
            team=team, installation_id=77, state_issued_at=timezone.now() + dt.timedelta(hours=1)
        )
    github_installation_link(
        team=team, installation_id=77, state_issued_at=timezone.now() - dt.timedelta(minutes=1)
    )
    other = TeamFactory()
    with pytest.raises(Conflict):
        github_installation_link(
            team=other, installation_id=77, state_issued_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert GitHubInstallation.objects.get().team == team


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["repository"].update(full_name="../../etc"),
        lambda p: p["commits"][0].update(timestamp="0001-01-01T00:00:00+01:00"),
        lambda p: p["commits"][0].update(timestamp="9999-12-31T23:59:59-12:00"),
        lambda p: p["commits"][0].update(timestamp="1999-12-31T23:59:59Z"),
        lambda p: p["commits"][0]["author"].update(username="x" * 101),
        lambda p: p.update(commits="not a list"),
    ],
)
def test_odd_but_signed_payloads_never_crash_the_processing(client, team, on_commit, change):
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    change(payload)
    assert on_commit(deliver_to_team, client, team, payload, "push").status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome in {"failed", "ignored", "processed"}
    assert not Contribution.objects.exists()


def test_the_answer_comes_before_the_processing(client, team, django_capture_on_commit_callbacks):
    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = deliver_to_team(client, team, payload, "push")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == DeliveryOutcome.RECEIVED and delivery.payload == payload
    assert not Contribution.objects.exists()
    assert len(queued) == 1
    queued[0]()  # the worker's turn
    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.PROCESSED
    assert Contribution.objects.count() == 1
    # Processing twice (a redelivered task) changes nothing.
    from pulse.tasks import github_delivery_process

    assert github_delivery_process(delivery.pk) is None


def test_lost_tasks_are_queued_again(client, team, django_capture_on_commit_callbacks):
    from pulse.tasks import github_deliveries_requeue

    payload = gh.push(repo=gh.repository(), commits=[(SHA1, "octocat")])
    with django_capture_on_commit_callbacks(execute=False):
        deliver_to_team(client, team, payload, "push")  # its task is lost: never run
    WebhookDelivery.objects.update(received_at=timezone.now() - dt.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert github_deliveries_requeue() == 1
    assert WebhookDelivery.objects.get().outcome == DeliveryOutcome.PROCESSED
    assert Contribution.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert github_deliveries_requeue() == 0
