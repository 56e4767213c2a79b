"""GitHub-shaped payloads and signed deliveries for the PULSE tests.

The payloads follow GitHub's documented webhook shapes (docs.github.com, "Webhook events
and payloads"; the examples in octokit/webhooks), trimmed to a realistic subset of their
fields: what GitHub sends includes these, with these types.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import uuid
from typing import Any

_ids = itertools.count(1_000_001)


def user(login: str, *, bot: bool = False) -> dict[str, Any]:
    number = next(_ids)
    return {
        "login": login,
        "id": number,
        "node_id": f"MDQ6VXNlcj{number}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "Bot" if bot else "User",
        "site_admin": False,
    }


def repository(
    full_name: str = "Octo-Org/Hello-World", repository_id: int = 186853002
) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": repository_id,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner),
        "html_url": f"https://github.com/{full_name}",
        "default_branch": "main",
    }


def push(
    *, repo: dict[str, Any], commits: list[tuple[str, str | None]], sender: str = "octocat"
) -> dict[str, Any]:
    """commits: (sha, author's GitHub username or None when GitHub matched no account)."""
    items = [
        {
            "id": sha,
            "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
            "distinct": True,
            "message": f"Change {sha[:7]}",
            "timestamp": "2026-11-20T10:15:30+09:00",
            "url": f"https://github.com/{repo['full_name']}/commit/{sha}",
            "author": {
                "name": "Someone",
                "email": "someone@example.com",
                **({"username": login} if login else {}),
            },
            "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
            "added": [],
            "removed": [],
            "modified": ["README.md"],
        }
        for sha, login in commits
    ]
    head = commits[-1][0] if commits else "0" * 40
    return {
        "ref": "refs/heads/main",
        "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": commits[-1][0] if commits else "0" * 40,
        "repository": repo,
        "pusher": {"name": sender, "email": f"{sender}@example.com"},
        "sender": user(sender),
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": f"https://github.com/{repo['full_name']}/compare/6113728f27ae...{head[:12]}",
        "commits": items,
        "head_commit": items[-1] if items else None,
    }


def pull_request_object(
    *, author: str, pr_id: int, number: int, merged: bool = False
) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/octo-org/hello-world/pulls/{number}",
        "id": pr_id,
        "node_id": "PR_kwDOABCD",
        "html_url": f"https://github.com/octo-org/hello-world/pull/{number}",
        "number": number,
        "state": "closed" if merged else "open",
        "locked": False,
        "title": f"Feature {number}",
        "user": user(author),
        "body": "Adds a feature.",
        "created_at": "2026-11-18T08:00:00Z",
        "updated_at": "2026-11-19T09:00:00Z",
        "closed_at": "2026-11-19T09:00:00Z" if merged else None,
        "merged_at": "2026-11-19T09:00:00Z" if merged else None,
        "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6" if merged else None,
        "draft": False,
        "merged": merged,
        "merged_by": user("maintainer") if merged else None,
        "commits": 1,
        "additions": 10,
        "deletions": 2,
        "changed_files": 1,
    }


def pull_request(
    *,
    repo: dict[str, Any],
    action: str,
    author: str,
    pr_id: int = 279147437,
    number: int = 2,
    merged: bool = False,
) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": pull_request_object(
            author=author, pr_id=pr_id, number=number, merged=merged
        ),
        "repository": repo,
        "sender": user(author),
    }


def pull_request_review(
    *,
    repo: dict[str, Any],
    reviewer: str,
    state: str,
    review_id: int = 237895671,
    action: str = "submitted",
) -> dict[str, Any]:
    return {
        "action": action,
        "review": {
            "id": review_id,
            "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3MjM3ODk1Njcx",
            "user": user(reviewer),
            "body": None,
            "commit_id": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "submitted_at": "2026-11-19T08:30:00Z",
            "state": state,
            "html_url": f"https://github.com/{repo['full_name']}/pull/2#pullrequestreview-{review_id}",
            "author_association": "MEMBER",
        },
        "pull_request": pull_request_object(author="someone-else", pr_id=279147437, number=2),
        "repository": repo,
        "sender": user(reviewer),
    }


def issue_object(
    *, author: str, issue_id: int, number: int, closed: bool = False
) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/octo-org/hello-world/issues/{number}",
        "id": issue_id,
        "node_id": "MDU6SXNzdWU0NDQ1MDAwNDE=",
        "number": number,
        "title": "Spelling error in the README file",
        "user": user(author),
        "labels": [],
        "state": "closed" if closed else "open",
        "locked": False,
        "comments": 0,
        "created_at": "2026-11-17T12:00:00Z",
        "updated_at": "2026-11-17T12:00:00Z",
        "closed_at": "2026-11-21T12:00:00Z" if closed else None,
        "author_association": "NONE",
        "body": "It looks like you accidently spelled 'commit' with two 't's.",
    }


def issues(
    *,
    repo: dict[str, Any],
    action: str,
    author: str,
    sender: str | None = None,
    issue_id: int = 444500041,
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": issue_object(
            author=author, issue_id=issue_id, number=1, closed=action == "closed"
        ),
        "repository": repo,
        "sender": user(sender or author),
    }


def issue_comment(
    *, repo: dict[str, Any], commenter: str, comment_id: int = 492700400, action: str = "created"
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": issue_object(author="someone", issue_id=444500041, number=1),
        "comment": {
            "url": f"https://api.github.com/repos/{repo['full_name']}/issues/comments/{comment_id}",
            "id": comment_id,
            "node_id": "MDEyOklzc3VlQ29tbWVudDQ5MjcwMDQwMA==",
            "user": user(commenter),
            "created_at": "2026-11-17T13:00:00Z",
            "updated_at": "2026-11-17T13:00:00Z",
            "author_association": "NONE",
            "body": "You are totally right! I'll get this fixed right away.",
        },
        "repository": repo,
        "sender": user(commenter),
    }


def installation_object(installation_id: int, account: str = "Octo-Org") -> dict[str, Any]:
    return {
        "id": installation_id,
        "account": {**user(account), "type": "Organization"},
        "repository_selection": "selected",
        "access_tokens_url": f"https://api.github.com/app/installations/{installation_id}/access_tokens",
        "repositories_url": "https://api.github.com/installation/repositories",
        "html_url": f"https://github.com/settings/installations/{installation_id}",
        "app_id": 29310,
        "target_id": 21031067,
        "target_type": "Organization",
        "permissions": {
            "contents": "read",
            "issues": "read",
            "metadata": "read",
            "pull_requests": "read",
        },
        "events": ["issue_comment", "issues", "pull_request", "pull_request_review", "push"],
        "created_at": 1763600000,
        "updated_at": 1763600000,
        "single_file_name": None,
        "suspended_at": None,
        "suspended_by": None,
    }


def repository_ref(full_name: str, repository_id: int) -> dict[str, Any]:
    return {
        "id": repository_id,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDc=",
        "name": full_name.split("/")[1],
        "full_name": full_name,
        "private": False,
    }


def installation(
    *, action: str, installation_id: int, repositories: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "action": action,
        "installation": installation_object(installation_id),
        "repositories": repositories,
        "requester": None,
        "sender": user("octo-admin"),
    }


def installation_repositories(
    *,
    action: str,
    installation_id: int,
    added: list[dict[str, Any]] = (),
    removed: list[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "action": action,
        "installation": installation_object(installation_id),
        "repository_selection": "selected",
        "repositories_added": list(added),
        "repositories_removed": list(removed),
        "requester": None,
        "sender": user("octo-admin"),
    }


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    client,
    payload: dict[str, Any],
    *,
    event: str,
    secret: str,
    team: str | None = None,
    delivery: str | None = None,
    sign_with: str | None = None,
):
    """POST a delivery as GitHub does: raw JSON body, signed, with its event and id."""
    body = json.dumps(payload).encode()
    path = "/api/v1/github/webhook" + (f"?team={team}" if team else "")
    return client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT=event,
        HTTP_X_GITHUB_DELIVERY=delivery or str(uuid.uuid4()),
        HTTP_X_HUB_SIGNATURE_256=signature(body, sign_with or secret),
        HTTP_USER_AGENT="GitHub-Hookshot/a5788b1",
    )


def app_install(client, on_commit, *, secret, installation_id, repos, team=None):
    """The App installed on `repos`: GitHub's `installation` event signed with the App's
    `secret` (its processing run by `on_commit`) and, with `team`, the installation linked
    to that team as the App's setup URL does."""
    import datetime as dt

    from django.utils import timezone

    from pulse.services.github_app import github_installation_link

    payload = installation(action="created", installation_id=installation_id, repositories=repos)
    response = on_commit(deliver, client, payload, event="installation", secret=secret)
    assert response.status_code == 202, response.content
    if team is not None:
        github_installation_link(
            team=team,
            installation_id=installation_id,
            state_issued_at=timezone.now() - dt.timedelta(minutes=1),
        )
