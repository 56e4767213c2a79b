from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from pulse.models import Contribution, Verification
from pulse.tests.factories import TeamFactory, TeamRepositoryFactory
from pulse.tests.github_server import github_api_fixture  # noqa: F401  (the fixture)
from pulse.tests.test_commands_backfill_github import REPO, serve_history

pytestmark = pytest.mark.django_db


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
    serve_history(github_api)
    github_api.pages(f"/repos/{REPO}/pulls/9/reviews", [])  # within 90 days, depending on today
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
    assert since.endswith("T00:00:00Z")
