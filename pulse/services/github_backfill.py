"""A team's GitHub history through the REST API: commits, pull requests (opened, merged)
and their reviews, issues opened and issue comments since a date, for each repository the
team claims (not lapsed).

What the API returns is GitHub's own record, so it is stored verified, with the same source
ids as the webhook: a re-run, or an event that also arrived by webhook, is stored once, and
self-reported rows it finds are confirmed (verified). Issue closings are not backfilled
(the issue list does not say who closed an issue).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings

from pulse.models import Team, TeamRepository, Verification
from pulse.services.github_ingest import github_activities_record
from pulse.services.github_payloads import (
    GitHubActivity,
    RestCommit,
    RestIssue,
    RestIssueComment,
    RestPull,
    Review,
    issue_comment_activity,
    issue_opened_activity,
    pull_request_activities,
    rest_commit_activity,
    rest_item_parse,
    review_activity,
)
from pulse.services.github_rest import GitHubClient, Sleep, github_app_configured

Progress = Callable[[str], None]


@dataclass
class BackfillTotals:
    repositories: int = 0
    created: int = 0
    confirmed: int = 0
    skipped: int = 0  # items not of the documented shape
    requests: int = 0
    per_repository: dict[str, dict[str, int]] = field(default_factory=dict)


def team_github_backfill(
    *,
    team: Team,
    since: dt.datetime,
    progress: Progress = lambda message: None,
    sleep: Sleep = time.sleep,
) -> BackfillTotals:
    """Read and store the team's GitHub activity since `since` (see the module)."""
    totals = BackfillTotals()
    claims = (
        TeamRepository.objects.filter(team=team, lapsed_at__isnull=True)
        .select_related("installation")
        .order_by("full_name")
    )
    clients: dict[int | None, GitHubClient] = {}
    for claim in claims:
        client = _client_for(claim, clients, sleep=sleep, progress=progress)
        counts = _repository_backfill(
            team=team, claim=claim, since=since, client=client, progress=progress
        )
        totals.per_repository[claim.full_name] = counts
        totals.repositories += 1
        totals.created += counts["created"]
        totals.confirmed += counts["confirmed"]
        totals.skipped += counts["skipped"]
    totals.requests = sum(client.requests for client in clients.values())
    return totals


def _client_for(
    claim: TeamRepository,
    clients: dict[int | None, GitHubClient],
    *,
    sleep: Sleep,
    progress: Progress,
) -> GitHubClient:
    """The installation's token for a repository the App covers (when the App's key is
    set), else GITHUB_TOKEN (else no token: public repositories at GitHub's low limit)."""
    installation = claim.installation
    key = (
        installation.installation_id
        if installation and installation.removed_at is None and github_app_configured()
        else None
    )
    if key not in clients:
        if key is not None:
            clients[key] = GitHubClient.for_installation(
                installation_id=key, sleep=sleep, progress=progress
            )
        else:
            if not settings.GITHUB_TOKEN:
                progress(
                    "no GITHUB_TOKEN: reading public data only, at GitHub's unauthenticated limit"
                )
            clients[key] = GitHubClient(token=settings.GITHUB_TOKEN, sleep=sleep, progress=progress)
    return clients[key]


def _repository_backfill(
    *,
    team: Team,
    claim: TeamRepository,
    since: dt.datetime,
    client: GitHubClient,
    progress: Progress,
) -> dict[str, int]:
    counts = {"created": 0, "confirmed": 0, "skipped": 0}
    base = f"/repos/{claim.full_name}"
    iso = since.strftime("%Y-%m-%dT%H:%M:%SZ")

    def store(kind: str, activities: Iterable[GitHubActivity | None], skipped: int) -> None:
        kept = [a for a in activities if a is not None and a.occurred_at >= since]
        result = github_activities_record(
            team=team,
            repository=claim.full_name,
            activities=kept,
            verification=Verification.VERIFIED,
        )
        counts["created"] += result.created
        counts["confirmed"] += result.confirmed
        counts["skipped"] += skipped
        progress(
            f"{claim.full_name} {kind}: {len(kept)} read, {result.created} new, "
            f"{result.confirmed} confirmed"
        )

    for page in client.pages(f"{base}/commits", {"since": iso}):
        commits, skipped = _parsed(RestCommit, page)
        store("commits", (rest_commit_activity(c) for c in commits), skipped)

    for page in client.pages(
        f"{base}/pulls", {"state": "all", "sort": "updated", "direction": "desc"}
    ):
        pulls, skipped = _parsed(RestPull, page)
        recent = [pull for pull in pulls if pull.updated_at >= since]
        activities: list[GitHubActivity | None] = [
            a for pull in recent for a in pull_request_activities(pull)
        ]
        for pull in recent:
            for review_page in client.pages(f"{base}/pulls/{pull.number}/reviews"):
                reviews, review_skipped = _parsed(Review, review_page)
                skipped += review_skipped
                activities += [review_activity(review, pull.number) for review in reviews]
        store("pull requests and reviews", activities, skipped)
        if len(recent) < len(pulls):
            break  # sorted by last update: the rest are older than `since`

    for page in client.pages(f"{base}/issues", {"state": "all", "since": iso}):
        issues, skipped = _parsed(RestIssue, page)
        store(
            "issues", (issue_opened_activity(i) for i in issues if i.pull_request is None), skipped
        )

    for page in client.pages(f"{base}/issues/comments", {"since": iso}):
        comments, skipped = _parsed(RestIssueComment, page)
        store(
            "issue comments", (issue_comment_activity(c, c.issue_number) for c in comments), skipped
        )
    return counts


def _parsed(model: Any, page: list[Any]) -> tuple[list[Any], int]:
    items = [rest_item_parse(model, item) for item in page]
    kept = [item for item in items if item is not None]
    return kept, len(items) - len(kept)


def team_github_backfills_schedule(*, team_ids: list[str], days: int) -> dt.datetime:
    """Queue a backfill of each team's last `days` days (after the commit); the date from."""
    from django.db import transaction

    from pulse.tasks import backfill_github  # tasks import services, not the reverse

    since = dt.datetime.combine(
        dt.datetime.now(tz=dt.UTC).date() - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC
    )
    for team_id in team_ids:
        transaction.on_commit(
            partial(backfill_github.delay, team_id, since.isoformat()), robust=True
        )
    return since
