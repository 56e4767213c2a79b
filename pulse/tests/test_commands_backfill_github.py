from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command

from pulse.models import Contribution, GitHubInstallation, RepositoryClaim, Verification
from pulse.services.github_backfill import team_github_backfill
from pulse.services.github_rest import GitHubRateLimited
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamRepositoryFactory
from pulse.tests.github_server import github_api_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

REPO = "octo-org/hello-world"
SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40
SINCE = "2026-11-01"


def rest_user(login, *, bot=False):
    return {
        "login": login,
        "id": abs(hash(login)) % 10**8,
        "node_id": "MDQ6VXNlcjE=",
        "type": "Bot" if bot else "User",
        "site_admin": False,
    }


def rest_commit(sha, login, date="2026-11-10T08:00:00Z"):
    return {
        "sha": sha,
        "node_id": "C_kwDOABCD",
        "commit": {
            "author": {"name": "Someone", "email": "someone@example.com", "date": date},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": date},
            "message": "Fix all the bugs",
            "tree": {
                "sha": "9c48853fa3dc5c1c3d6f1f1cd1f2743e72652840",
                "url": "https://api.github.com/x",
            },
            "comment_count": 0,
        },
        "url": f"https://api.github.com/repos/{REPO}/commits/{sha}",
        "html_url": f"https://github.com/{REPO}/commit/{sha}",
        "author": rest_user(login) if login else None,
        "committer": rest_user("web-flow"),
        "parents": [],
    }


def rest_pull(pr_id, number, author, *, created, updated, merged=None):
    return {
        "url": f"https://api.github.com/repos/{REPO}/pulls/{number}",
        "id": pr_id,
        "node_id": "PR_kwDOABCD",
        "number": number,
        "state": "closed" if merged else "open",
        "title": f"Change {number}",
        "user": rest_user(author),
        "created_at": created,
        "updated_at": updated,
        "closed_at": merged,
        "merged_at": merged,
        "draft": False,
    }


def rest_review(review_id, reviewer, state, submitted="2026-11-12T10:00:00Z"):
    review = {
        "id": review_id,
        "node_id": "PRR_kwDOABCD",
        "user": rest_user(reviewer),
        "body": "",
        "state": state,
        "html_url": f"https://github.com/{REPO}/pull/11#pullrequestreview-{review_id}",
        "pull_request_url": f"https://api.github.com/repos/{REPO}/pulls/11",
        "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
        "author_association": "COLLABORATOR",
    }
    if submitted:
        review["submitted_at"] = submitted
    return review


def rest_issue(issue_id, number, author, *, pull=False):
    issue = {
        "id": issue_id,
        "node_id": "I_kwDOABCD",
        "number": number,
        "title": "Found a bug",
        "user": rest_user(author),
        "state": "open",
        "comments": 1,
        "created_at": "2026-11-05T09:00:00Z",
        "updated_at": "2026-11-06T09:00:00Z",
        "closed_at": None,
        "author_association": "NONE",
    }
    if pull:
        issue["pull_request"] = {
            "url": f"https://api.github.com/repos/{REPO}/pulls/{number}",
            "merged_at": None,
        }
    return issue


def rest_comment(comment_id, author, issue_number):
    return {
        "id": comment_id,
        "node_id": "IC_kwDOABCD",
        "url": f"https://api.github.com/repos/{REPO}/issues/comments/{comment_id}",
        "html_url": f"https://github.com/{REPO}/issues/{issue_number}#issuecomment-{comment_id}",
        "issue_url": f"https://api.github.com/repos/{REPO}/issues/{issue_number}",
        "user": rest_user(author),
        "created_at": "2026-11-06T10:00:00Z",
        "updated_at": "2026-11-06T10:00:00Z",
        "body": "Me too",
        "author_association": "NONE",
    }


def serve_history(github_api):
    base = f"/repos/{REPO}"
    github_api.pages(
        f"{base}/commits",
        [rest_commit(SHA1, "OctoCat"), rest_commit(SHA2, "newcomer")],
        [rest_commit(SHA3, None), rest_commit("4" * 40, "dependabot[bot]"), {"sha": "not-a-sha"}],
    )
    github_api.pages(
        f"{base}/pulls",
        [
            rest_pull(
                11,
                11,
                "octocat",
                created="2026-11-08T00:00:00Z",
                updated="2026-11-12T00:00:00Z",
                merged="2026-11-12T00:00:00Z",
            ),
            rest_pull(
                9, 9, "octocat", created="2026-09-01T00:00:00Z", updated="2026-09-02T00:00:00Z"
            ),
        ],
        [
            rest_pull(
                8, 8, "never-read", created="2026-08-01T00:00:00Z", updated="2026-08-02T00:00:00Z"
            )
        ],
    )
    github_api.pages(
        f"{base}/pulls/11/reviews",
        [
            rest_review(501, "carol", "APPROVED"),
            rest_review(502, "dave", "COMMENTED"),
            rest_review(503, "erin", "PENDING", submitted=None),
        ],
    )
    github_api.pages(
        f"{base}/issues", [rest_issue(701, 3, "frank"), rest_issue(702, 11, "octocat", pull=True)]
    )
    github_api.pages(f"{base}/issues/comments", [rest_comment(801, "grace", 3)])


@pytest.fixture
def claimed(team):
    return TeamRepositoryFactory(team=team, full_name=REPO)


def test_backfill_reads_history_verified_and_confirms_self_reported_rows(
    team, claimed, github_api, settings
):
    settings.GITHUB_TOKEN = "ghp_backfill_token"
    contributor = ContributorFactory(team=team, github_login="octocat")
    reported = ContributionFactory(
        team=team,
        contributor=contributor,
        source_id=f"commit:{SHA1}",
        verification=Verification.SELF_REPORTED,
    )
    serve_history(github_api)
    out = io.StringIO()
    call_command("backfill_github", "--team", team.pulse_id, "--since", SINCE, stdout=out)
    rows = dict(Contribution.objects.values_list("source_id", "verification"))
    assert rows == {
        f"commit:{SHA1}": "verified",
        f"commit:{SHA2}": "verified",
        "pr-opened:11": "verified",
        "pr-merged:11": "verified",
        "review:501": "verified",
        "review:502": "verified",
        "issue-opened:701": "verified",
        "issue-comment:801": "verified",
    }
    reported.refresh_from_db()
    assert reported.verification == Verification.VERIFIED
    assert set(
        Contribution.objects.filter(contributor=contributor).values_list("source_id", flat=True)
    ) == {
        f"commit:{SHA1}",
        "pr-opened:11",
        "pr-merged:11",
    }
    output = out.getvalue()
    assert f"{REPO} commits: 2 read, 1 new, 1 confirmed" in output
    assert "1 repositories: 7 new contributions, 1 confirmed, 1 items skipped" in output
    # Pagination followed, the token sent, the query GitHub documents.
    commit_calls = [(q, auth) for m, p, q, auth in github_api.requests if p.endswith("/commits")]
    assert [q.get("page") for q, _ in commit_calls] == [None, ["2"]]
    assert commit_calls[0][0]["since"] == ["2026-11-01T00:00:00Z"]
    assert {auth for _, _, _, auth in github_api.requests} == {"Bearer ghp_backfill_token"}
    # Pull requests are read newest update first and stop at the first older than --since.
    assert f"/repos/{REPO}/pulls/9/reviews" not in github_api.paths()
    assert [q.get("page") for m, p, q, a in github_api.requests if p.endswith("/pulls")] == [None]
    # A re-run stores nothing twice.
    before = Contribution.objects.count()
    out = io.StringIO()
    call_command("backfill_github", "--team", team.pulse_id, "--since", SINCE, stdout=out)
    assert Contribution.objects.count() == before
    assert "0 new contributions, 0 confirmed" in out.getvalue()


def test_backfill_skips_lapsed_claims(team, github_api):
    from django.utils import timezone

    TeamRepositoryFactory(team=team, full_name=REPO, lapsed_at=timezone.now())
    totals = team_github_backfill(team=team, since=_since())
    assert totals.repositories == 0 and github_api.requests == []


def _since():
    import datetime as dt

    return dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "status, headers, waited",
    [
        (403, {"Retry-After": "7"}, 7),
        (429, {"Retry-After": "3"}, 3),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "{soon}"}, None),
    ],
)
def test_backfill_waits_out_rate_limits(team, claimed, github_api, status, headers, waited):
    import time

    serve_history(github_api)
    soon = int(time.time()) + 30
    github_api.refuse_once(
        f"/repos/{REPO}/commits", status, **{k: v.format(soon=soon) for k, v in headers.items()}
    )
    sleeps: list[float] = []
    totals = team_github_backfill(team=team, since=_since(), sleep=sleeps.append)
    assert totals.created == 8
    if waited is not None:
        assert sleeps == [waited]
    else:
        assert len(sleeps) == 1 and 25 <= sleeps[0] <= 32


def test_backfill_waits_before_the_next_call_when_the_limit_is_used_up(
    team, claimed, github_api, settings
):
    settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = 4000
    serve_history(github_api)
    github_api.remaining = 0
    sleeps: list[float] = []
    team_github_backfill(team=team, since=_since(), sleep=sleeps.append)
    assert len(sleeps) == len(github_api.requests) and all(0 < s <= 3601 for s in sleeps)


def test_backfill_stops_when_the_limit_resets_too_late(team, claimed, github_api, settings):
    import time

    settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = 60
    github_api.refuse_once(
        f"/repos/{REPO}/commits",
        403,
        **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3000)},
    )
    with pytest.raises(GitHubRateLimited):
        team_github_backfill(team=team, since=_since(), sleep=lambda s: None)
    with pytest.raises(CommandError, match="rate limit"):
        github_api.refuse_once(
            f"/repos/{REPO}/commits",
            403,
            **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3000)},
        )
        call_command(
            "backfill_github", "--team", team.pulse_id, "--since", SINCE, stdout=io.StringIO()
        )
    assert not Contribution.objects.exists()


def test_backfill_uses_the_apps_installation_token(team, github_api, settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.GITHUB_APP_ID = "29310"
    settings.GITHUB_APP_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings.GITHUB_TOKEN = "ghp_not_this_one"
    github_api.app_public_key = key.public_key()
    github_api.app_id = "29310"
    github_api.installation_tokens[957387] = "ghs_installation_token"
    installation = GitHubInstallation.objects.create(installation_id=957387, team=team)
    TeamRepositoryFactory(
        team=team, full_name=REPO, claim=RepositoryClaim.APP, installation=installation
    )
    serve_history(github_api)
    team_github_backfill(team=team, since=_since())
    token_call, *reads = github_api.requests
    assert token_call[:2] == ("POST", "/app/installations/957387/access_tokens")
    assert {auth for _, _, _, auth in reads} == {"Bearer ghs_installation_token"}
    assert Contribution.objects.count() == 8


def test_command_refusals(team):
    with pytest.raises(CommandError, match="No team"):
        call_command("backfill_github", "--team", "pt_nope", "--since", SINCE)
    with pytest.raises(CommandError, match="not a date"):
        call_command("backfill_github", "--team", team.pulse_id, "--since", "yesterday")
