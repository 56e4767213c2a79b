"""The Notion reader against a local server serving Notion-shaped responses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from fabrknt.api.errors import InvalidInput
from pulse import tasks
from pulse.models import Contribution, NotionConnection, Verification
from pulse.services.notion import notion_connect, notion_pages_read
from pulse.tests.factories import ContributorFactory, TeamFactory
from pulse.tests.notion_server import TOKEN, database, page

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ALICE = "9188c6a5-7381-452f-b3dc-d4865aa89bdf"
BOB = "c2f20311-9e54-4d11-8c79-7398424ae41e"
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def page_id(n: int) -> str:
    return f"be633bf1-dfa0-436d-b259-{n:012d}"


def test_connecting_checks_the_token_and_stores_it_encrypted(notion_server):
    team = TeamFactory()
    connection_row = notion_connect(team=team, access_token=f"  {TOKEN} ")
    assert connection_row.workspace_name == "Builders HQ"
    assert NotionConnection.objects.get(team=team).access_token == TOKEN
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM pulse_notionconnection")
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored and stored.startswith("gAAAAA")  # a Fernet token

    with pytest.raises(InvalidInput) as refused:
        notion_connect(team=TeamFactory(), access_token="ntn_wrong")
    assert refused.value.fields == {"access_token": ["Notion does not accept this token."]}
    assert NotionConnection.objects.count() == 1


def test_the_reader_records_page_edits_once_and_moves_its_cursor(notion_server):
    team = TeamFactory()
    alice = ContributorFactory(team=team, notion_user_id=ALICE)
    notion_connect(team=team, access_token=TOKEN)
    notion_server.items = [
        page(page_id(n), f"2026-11-{10 + n:02d}T08:{n:02d}:00.000Z", ALICE if n % 2 else BOB)
        for n in range(1, 151)
        if 10 + n <= 29
    ] + [
        page(page_id(900), "2026-09-01T08:00:00.000Z", ALICE),  # before the 30 days looked back
        database("a1d8501e-1ac1-43e9-a6bd-ea9fe6c8822b", "2026-11-29T08:00:00.000Z"),
    ]
    result = notion_pages_read(team_id=team.pk, now=NOW)
    assert (result.read, result.stored, result.error) == (19, 19, "")
    search = notion_server.requests[0]
    assert search == {
        "filter": {"property": "object", "value": "page"},
        "sort": {"timestamp": "last_edited_time", "direction": "descending"},
        "page_size": 100,
    }
    edits = Contribution.objects.filter(team=team, platform="notion")
    assert edits.count() == 19
    first = edits.get(source_id=f"{page_id(1)}:2026-11-11T08:01:00+00:00")
    assert (first.source_login, first.contributor, first.contribution_type, first.weight) == (
        ALICE,
        alice,
        "page_edit",
        Decimal("1.00"),
    )
    assert first.verification == Verification.VERIFIED
    assert first.metadata["url"].startswith("https://www.notion.so/Roadmap-")
    assert edits.filter(contributor=alice).count() == 10
    assert edits.filter(contributor__isnull=True, source_login=BOB).count() == 9  # waiting
    alice.refresh_from_db()
    assert alice.last_active_at == dt.datetime(2026, 11, 29, 8, 19, tzinfo=dt.UTC)
    state = NotionConnection.objects.get(team=team)
    assert state.last_edited_cursor == dt.datetime(2026, 11, 29, 8, 19, tzinfo=dt.UTC)

    # The next run reads only what was edited since: one page edited again.
    notion_server.requests.clear()
    notion_server.items[0] = page(page_id(1), "2026-11-30T11:00:00.000Z", BOB)
    again = notion_pages_read(team_id=team.pk, now=NOW)
    assert (again.read, again.stored) == (1, 1)
    assert edits.count() == 20
    # And a repeat of the same run stores nothing.
    NotionConnection.objects.filter(team=team).update(last_edited_cursor=None)
    assert notion_pages_read(team_id=team.pk, now=NOW).stored == 0
    assert edits.count() == 20


def test_pagination_follows_next_cursor(notion_server):
    team = TeamFactory()
    notion_connect(team=team, access_token=TOKEN)
    base = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    notion_server.items = [
        page(page_id(n), (base + dt.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:00.000Z"), BOB)
        for n in range(250)
    ]
    result = notion_pages_read(team_id=team.pk, now=NOW)
    assert (result.read, result.stored) == (250, 250)
    assert [r.get("start_cursor") for r in notion_server.requests] == [None, "100", "200"]


def test_rate_limits_and_refusals_store_nothing_and_are_kept_for_the_admin(notion_server):
    team = TeamFactory()
    notion_connect(team=team, access_token=TOKEN)
    notion_server.items = [page(page_id(1), "2026-11-29T08:00:00.000Z", BOB)]
    notion_server.fail_next = [429]
    limited = notion_pages_read(team_id=team.pk, now=NOW)
    assert (limited.stored, limited.retry_after) == (0, 7)
    assert NotionConnection.objects.get(team=team).last_error == "Notion's rate limit"
    assert not Contribution.objects.exists()
    NotionConnection.objects.filter(team=team).update(access_token="ntn_revoked")
    refused = notion_pages_read(team_id=team.pk, now=NOW)
    assert refused.error == "Notion answered 401: API token is invalid."
    assert not Contribution.objects.exists()


def test_the_periodic_task_reads_every_connected_workspace(notion_server):
    first, second = TeamFactory(), TeamFactory()
    TeamFactory()  # not connected
    for team in (first, second):
        notion_connect(team=team, access_token=TOKEN)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)  # the task reads "now"
    notion_server.items = [page(page_id(1), yesterday.strftime("%Y-%m-%dT%H:%M:00.000Z"), BOB)]
    assert tasks.read_notion.delay().get() == 2
    assert Contribution.objects.filter(platform="notion").count() == 2
