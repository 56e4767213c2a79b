"""PULSE's cached reads (pulse/cache.py): a team's vitality dashboard and the public
metadata and badge of its tokens. Read, write through the real path (the score
calculation, a mint's receipt, a rename), read again shows the write; the second read is
the cache's; another organization still gets 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from pulse.models import SBTStatus
from pulse.services.sbt import _record_minted
from pulse.services.scores import scores_calculate
from pulse.tests.factories import (
    ContributionFactory,
    ContributorFactory,
    SBTRecordFactory,
    TeamFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TOKEN = "0x" + "ab" * 20


def _member(team) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=team.organization, role=Role.VIEWER).user)
    return client


def _page(client: Client, team) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/pulse/teams/{team.pulse_id}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_dashboard_is_cached_until_the_next_calculation():
    team = TeamFactory()
    first_person = ContributorFactory(team=team, github_login="ada-early")
    ContributionFactory(team=team, contributor=first_person)
    scores_calculate()
    client = _member(team)
    cold, page = _page(client, team)
    warm, again = _page(client, team)
    assert "ada-early" in page
    assert warm < cold  # the trend and the leaderboard come from the cache
    later = ContributorFactory(team=team, github_login="grace-later")
    ContributionFactory(team=team, contributor=later)

    scores_calculate()  # bulk and raw SQL updates: no model signal

    _, after = _page(client, team)
    assert "grace-later" in after


def test_another_organization_still_gets_404_after_a_members_cached_read():
    team = TeamFactory()
    scores_calculate()
    assert _page(_member(team), team)[0] > 0
    stranger = Client()
    stranger.force_login(MembershipFactory(role=Role.OWNER).user)
    assert stranger.get(f"/pulse/teams/{team.pulse_id}/").status_code == 404
    assert Client().get(f"/pulse/teams/{team.pulse_id}/").status_code in (302, 404)


def test_token_metadata_404_until_minted_then_cached_then_renamed():
    record = SBTRecordFactory(token_address=TOKEN, status=SBTStatus.SENT)
    path = f"/api/v1/sbt/{record.chain}/{TOKEN}/7"
    image = f"/pulse/sbt/{record.chain}/{TOKEN}/7/image.svg"
    anyone = Client()
    assert anyone.get(path).status_code == 404  # cached as "none" too

    _record_minted(record, token_id=7, tx_hash="0x" + "1" * 64)  # the mint task's receipt

    response = anyone.get(path)
    assert response.status_code == 200
    assert response.json()["attributes"][1]["value"] == record.team.team_name
    assert response["Cache-Control"] == "public, max-age=3600, s-maxage=3600"
    with CaptureQueriesContext(connection) as warm:
        assert anyone.get(path).json() == response.json()
    assert len(warm) == 0

    record.team.team_name = "Renamed Guild"
    record.team.save(update_fields=["team_name"])

    assert anyone.get(path).json()["attributes"][1]["value"] == "Renamed Guild"
    badge = anyone.get(image)
    assert badge.status_code == 200
    assert "Renamed Guild" in badge.content.decode()


def test_an_ingested_events_last_active_shows_on_the_cached_leaderboard():
    import datetime as dt

    from django.utils import timezone

    from pulse.services.github_ingest import _last_active_update

    team = TeamFactory()
    person = ContributorFactory(team=team, github_login="ada-early")
    ContributionFactory(team=team, contributor=person)
    scores_calculate()
    client = _member(team)
    _page(client, team)
    when = timezone.now() - dt.timedelta(hours=2)
    event = ContributionFactory(team=team, contributor=person, occurred_at=when)

    _last_active_update(team=team, source_ids=[event.source_id])  # a webhook's queryset update

    _, after = _page(client, team)
    assert when.isoformat(timespec="seconds")[:16] in after  # <time datetime="…">
