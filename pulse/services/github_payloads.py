"""GitHub's webhook payloads (and the REST API's items) turned into activities.

Only the fields we use are read (pydantic, unknown fields ignored), in the shapes GitHub
documents for the events `push`, `pull_request`, `pull_request_review`, `issues`,
`issue_comment`, `installation` and `installation_repositories`. The source ids made here
are shared with the REST backfill (`pulse.services.github_backfill`), so an event that
arrives both ways is stored once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fabrknt.chain.wire import PayloadError, payload_errors
from pulse.models import ContributionType


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GitHubUser(_Wire):
    login: str = Field(max_length=100)
    id: int | None = None
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class GitHubRepository(_Wire):
    id: int
    full_name: str = Field(max_length=200)


class GitHubInstallationRef(_Wire):
    id: int


class GitHubInstallationAccount(_Wire):
    login: str = Field(default="", max_length=100)
    type: str = Field(default="", max_length=32)


class GitHubInstallationFull(_Wire):
    id: int
    account: GitHubInstallationAccount | None = None


class _Event(_Wire):
    repository: GitHubRepository | None = None
    installation: GitHubInstallationRef | None = None
    sender: GitHubUser | None = None


class CommitAuthor(_Wire):
    username: str | None = Field(default=None, max_length=100)
    name: str = ""


class PushCommit(_Wire):
    id: str = Field(pattern=r"^[0-9a-f]{40}$")
    timestamp: dt.datetime
    distinct: bool = True
    author: CommitAuthor
    message: str = ""


class PushEvent(_Event):
    ref: str = ""
    commits: list[PushCommit] = Field(default_factory=list, max_length=2048)


class PullRequest(_Wire):
    id: int
    number: int
    user: GitHubUser
    created_at: dt.datetime
    merged_at: dt.datetime | None = None
    merged: bool | None = None
    title: str = ""


class PullRequestEvent(_Event):
    action: str
    pull_request: PullRequest


class Review(_Wire):
    id: int
    user: GitHubUser | None = None
    state: str
    submitted_at: dt.datetime | None = None


class PullRequestReviewEvent(_Event):
    action: str
    review: Review
    pull_request: PullRequest


class Issue(_Wire):
    id: int
    number: int
    user: GitHubUser
    created_at: dt.datetime
    closed_at: dt.datetime | None = None
    title: str = ""


class IssuesEvent(_Event):
    action: str
    issue: Issue


class IssueComment(_Wire):
    id: int
    user: GitHubUser
    created_at: dt.datetime


class IssueCommentEvent(_Event):
    action: str
    issue: Issue
    comment: IssueComment


class RepositoryRef(_Wire):
    id: int
    full_name: str = Field(max_length=200)


class InstallationEvent(_Wire):
    action: str
    installation: GitHubInstallationFull
    repositories: list[RepositoryRef] | None = None


class InstallationRepositoriesEvent(_Wire):
    action: str
    installation: GitHubInstallationFull
    repositories_added: list[RepositoryRef] = Field(default_factory=list)
    repositories_removed: list[RepositoryRef] = Field(default_factory=list)


# Events whose activities are contributions (the installation events change claims).
CONTRIBUTION_EVENTS = {"push", "pull_request", "pull_request_review", "issues", "issue_comment"}
INSTALLATION_EVENTS = {"installation", "installation_repositories"}
# Review states as webhooks write them (lower case) and as the REST API does (upper case).
REVIEW_TYPES = {
    "approved": ContributionType.REVIEW_APPROVED,
    "changes_requested": ContributionType.REVIEW_CHANGES_REQUESTED,
    "commented": ContributionType.REVIEW_COMMENTED,
}


@dataclass(frozen=True)
class GitHubActivity:
    contribution_type: str
    source_id: str
    login: str  # lower case
    occurred_at: dt.datetime
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedEvent:
    """A contribution event: its repository (None when the payload names none) and what
    it holds (nothing for an action we do not count, such as a closed unmerged PR)."""

    repository: GitHubRepository | None
    installation_id: int | None
    activities: list[GitHubActivity]


def _parse(model: type[_Wire], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise PayloadError(payload_errors(error)) from error


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _human(user: GitHubUser | None) -> str | None:
    """A person's login in lower case; None for bots and missing users (not counted)."""
    if user is None or user.is_bot:
        return None
    return user.login.lower()


def commit_activity(
    *, sha: str, login: str | None, at: dt.datetime, message: str = ""
) -> GitHubActivity | None:
    if not login:
        return None
    return GitHubActivity(
        ContributionType.COMMIT,
        f"commit:{sha}",
        login.lower(),
        _aware(at),
        {"sha": sha, "message": message[:200]},
    )


def pull_request_activities(pull: PullRequest) -> list[GitHubActivity]:
    """The opening of a pull request and, when merged, its merge (credited to its author)."""
    login = _human(pull.user)
    if login is None:
        return []
    meta = {"number": pull.number, "title": pull.title[:200]}
    activities = [
        GitHubActivity(
            ContributionType.PULL_REQUEST_OPENED,
            f"pr-opened:{pull.id}",
            login,
            _aware(pull.created_at),
            meta,
        )
    ]
    if pull.merged_at is not None and pull.merged is not False:
        activities.append(
            GitHubActivity(
                ContributionType.PULL_REQUEST_MERGED,
                f"pr-merged:{pull.id}",
                login,
                _aware(pull.merged_at),
                meta,
            )
        )
    return activities


def review_activity(review: Review, pull_number: int) -> GitHubActivity | None:
    contribution_type = REVIEW_TYPES.get(review.state.lower())
    login = _human(review.user)
    if contribution_type is None or login is None or review.submitted_at is None:
        return None
    return GitHubActivity(
        contribution_type,
        f"review:{review.id}",
        login,
        _aware(review.submitted_at),
        {"number": pull_number},
    )


def issue_opened_activity(issue: Issue) -> GitHubActivity | None:
    login = _human(issue.user)
    if login is None:
        return None
    meta = {"number": issue.number, "title": issue.title[:200]}
    return GitHubActivity(
        ContributionType.ISSUE_OPENED,
        f"issue-opened:{issue.id}",
        login,
        _aware(issue.created_at),
        meta,
    )


def issue_comment_activity(comment: IssueComment, issue_number: int) -> GitHubActivity | None:
    login = _human(comment.user)
    if login is None:
        return None
    return GitHubActivity(
        ContributionType.ISSUE_COMMENT,
        f"issue-comment:{comment.id}",
        login,
        _aware(comment.created_at),
        {"number": issue_number},
    )


def contribution_event_parse(event: str, payload: Any) -> ParsedEvent:
    """The activities of one contribution event's payload; PayloadError when it is not of
    GitHub's documented shape."""
    parsed: _Event
    activities: Sequence[GitHubActivity | None] = []
    if event == "push":
        parsed = push = _parse(PushEvent, payload)
        activities = [
            commit_activity(sha=c.id, login=c.author.username, at=c.timestamp, message=c.message)
            for c in push.commits
        ]
    elif event == "pull_request":
        parsed = pr = _parse(PullRequestEvent, payload)
        if pr.action == "opened":
            activities = pull_request_activities(pr.pull_request)[:1]
        elif pr.action == "closed" and pr.pull_request.merged_at is not None:
            activities = pull_request_activities(pr.pull_request)[1:]
    elif event == "pull_request_review":
        parsed = review = _parse(PullRequestReviewEvent, payload)
        if review.action == "submitted":
            activities = [review_activity(review.review, review.pull_request.number)]
    elif event == "issues":
        parsed = issues = _parse(IssuesEvent, payload)
        if issues.action == "opened":
            activities = [issue_opened_activity(issues.issue)]
        elif issues.action == "closed":
            activities = [_issue_closed(issues)]
    elif event == "issue_comment":
        parsed = comment = _parse(IssueCommentEvent, payload)
        if comment.action == "created":
            activities = [issue_comment_activity(comment.comment, comment.issue.number)]
    else:
        raise ValueError(f"not a contribution event: {event}")
    return ParsedEvent(
        repository=parsed.repository,
        installation_id=parsed.installation.id if parsed.installation else None,
        activities=[activity for activity in activities if activity is not None],
    )


def _issue_closed(event: IssuesEvent) -> GitHubActivity | None:
    # Whoever closed it: the event's sender.
    login = _human(event.sender)
    if login is None:
        return None
    at = event.issue.closed_at or event.issue.created_at
    meta = {"number": event.issue.number, "title": event.issue.title[:200]}
    return GitHubActivity(
        ContributionType.ISSUE_CLOSED, f"issue-closed:{event.issue.id}", login, _aware(at), meta
    )


def installation_event_parse(payload: Any) -> InstallationEvent:
    parsed: InstallationEvent = _parse(InstallationEvent, payload)
    return parsed


def installation_repositories_event_parse(payload: Any) -> InstallationRepositoriesEvent:
    parsed: InstallationRepositoriesEvent = _parse(InstallationRepositoriesEvent, payload)
    return parsed


# --- the REST API's list items (the backfill) ---------------------------------------------


class RestCommitSignature(_Wire):
    date: dt.datetime


class RestCommitDetail(_Wire):
    author: RestCommitSignature
    message: str = ""


class RestCommit(_Wire):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    commit: RestCommitDetail
    # The GitHub account GitHub matched to the commit's author; null when none.
    author: GitHubUser | None = None


class RestPull(PullRequest):
    updated_at: dt.datetime


class RestIssue(Issue):
    updated_at: dt.datetime
    # Present when the "issue" is a pull request (the issues list includes them).
    pull_request: dict[str, Any] | None = None


class RestIssueComment(IssueComment):
    issue_url: str = ""

    @property
    def issue_number(self) -> int:
        tail = self.issue_url.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else 0


def rest_item_parse(model: type[_Wire], item: Any) -> Any | None:
    """One REST list item, or None when it is not of the documented shape (skipped)."""
    try:
        return model.model_validate(item)
    except ValidationError:
        return None


def rest_commit_activity(commit: RestCommit) -> GitHubActivity | None:
    login = _human(commit.author)
    return commit_activity(
        sha=commit.sha, login=login, at=commit.commit.author.date, message=commit.commit.message
    )
