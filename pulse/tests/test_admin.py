from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.utils import timezone

from pulse.models import Contribution, ContributionType, Verification
from pulse.tests.factories import (
    ContributionFactory,
    ContributorFactory,
    TeamFactory,
    TeamRepositoryFactory,
)
from pulse.tests.github_server import github_api_fixture  # noqa: F401  (the fixture)
from pulse.tests.test_commands_backfill_github import REPO, serve_history

pytestmark = pytest.mark.django_db

# serve_history's dates are written as seen from this day; the admin's backfill reads the
# last 90 days from today, so the history is moved to end as many days before today.
HISTORY_TODAY = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _shifted(value: Any, shift: dt.timedelta) -> Any:
    if isinstance(value, dict):
        return {key: _shifted(item, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [_shifted(item, shift) for item in value]
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        moved = dt.datetime.fromisoformat(value) + shift
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


class ShiftedGitHub:
    """The local GitHub API, serving pages with every timestamp moved by `shift`."""

    def __init__(self, github_api, shift: dt.timedelta) -> None:
        self.github_api = github_api
        self.shift = shift

    def pages(self, path: str, *pages: list[Any]) -> None:
        self.github_api.pages(path, *(_shifted(page, self.shift) for page in pages))


def test_the_team_list_never_shows_the_webhook_secret(admin_client, team):
    listing = admin_client.get("/admin/pulse/team/")
    change = admin_client.get(f"/admin/pulse/team/{team.pk}/change/")
    assert listing.status_code == change.status_code == 200
    assert team.pulse_id in listing.content.decode()
    assert "team-secret-1" not in change.content.decode()


def test_the_backfill_action_reads_the_teams_github_history(
    admin_client, team, github_api, django_capture_on_commit_callbacks
):
    TeamRepositoryFactory(team=team, full_name=REPO)
    other = TeamFactory()
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    serve_history(ShiftedGitHub(github_api, today - HISTORY_TODAY))
    # Pull request 9 was updated 89 days before today: inside the window, its reviews read.
    github_api.pages(f"/repos/{REPO}/pulls/9/reviews", [])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/pulse/team/", {"action": "backfill_github", "_selected_action": [str(team.pk)]}
        )
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "queued for 1 team(s)" in message
    stored = set(
        Contribution.objects.filter(team=team, verification=Verification.VERIFIED).values_list(
            "source_id", flat=True
        )
    )
    assert {"pr-merged:11", "review:501", "issue-opened:701", "issue-comment:801"} <= stored
    assert not Contribution.objects.filter(team=other).exists()
    since = [q["since"][0] for m, p, q, a in github_api.requests if p.endswith("/commits")][0]
    assert since == (today - dt.timedelta(days=90)).strftime("%Y-%m-%dT00:00:00Z")
    # Pull request 8, updated before the window, ends the listing: its reviews are not read.
    assert f"/repos/{REPO}/pulls/8/reviews" not in github_api.paths()


def test_the_recalculate_action_calculates_the_selected_teams(
    admin_client, team, django_capture_on_commit_callbacks
):
    other = TeamFactory()
    for each in (team, other):
        ContributionFactory(
            team=each,
            contributor=ContributorFactory(team=each),
            contribution_type=ContributionType.PULL_REQUEST_MERGED,
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/admin/pulse/team/",
            {"action": "recalculate_scores", "_selected_action": [str(team.pk)]},
        )
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == "Score recalculation queued for 1 team(s)."
    assert len(callbacks) >= 1
    team.refresh_from_db()
    other.refresh_from_db()
    assert team.last_calculated_at is not None and team.vitality_score > 0
    assert team.contributors.get().contribution_score > 0
    assert other.last_calculated_at is None


def test_the_recalculate_action_needs_the_change_permission(client, team, django_user_model):
    viewer = django_user_model.objects.create_user(
        username="viewer", email="viewer@example.com", password="pw-Viewer-1", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_team"))
    client.force_login(viewer)
    listing = client.get("/admin/pulse/team/")
    assert listing.status_code == 200
    assert "recalculate_scores" not in listing.content.decode()
    response = client.post(
        "/admin/pulse/team/", {"action": "recalculate_scores", "_selected_action": [str(team.pk)]}
    )
    team.refresh_from_db()
    assert response.status_code in {200, 302} and team.last_calculated_at is None
