"""Notion: a team connects its workspace with an internal integration's token (stored
encrypted, `NotionConnection.access_token`); a periodic reader records page edits as
contributions.

The reader asks Notion's search for pages, most recently edited first (`POST /v1/search`,
`filter: {property: "object", value: "page"}`, `sort: {timestamp: "last_edited_time",
direction: "descending"}`, 100 a page, `start_cursor` while `has_more`), and stops at the
first page edited before its cursor (`last_edited_cursor`; on the first run,
NOTION_INITIAL_LOOKBACK_DAYS back). Each page's last edit becomes one contribution, unique
per team on `<page id>:<last_edited_time>`, by the Notion user in `last_edited_by.id`,
attached to the contributor with that `notion_user_id` (or waiting, unclaimed). Notion
keeps only the last edit of a page, so several edits between two runs count once: the
reader measures pages kept alive, not keystrokes. Rows are written with one multi-row
insert that skips those already stored, so a run repeated, or overlapping another, stores
nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fabrknt.api.errors import Conflict, InvalidInput, Unavailable
from pulse.cache import teams_changed
from pulse.models import (
    Contribution,
    ContributionType,
    Contributor,
    NotionConnection,
    Platform,
    Team,
    Verification,
)
from pulse.services.contributors import contributions_attach

logger = logging.getLogger(__name__)
PAGE_SIZE = 100
_NOTION_ID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


class NotionError(Exception):
    """Notion refused or did not answer; `retry_after` when it asked us to slow down."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _notion(token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    try:
        response = requests.request(
            method,
            f"{settings.NOTION_API_URL}{path}",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Notion-Version": settings.NOTION_API_VERSION,
            },
            timeout=settings.OAUTH_HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise NotionError(f"Notion did not answer: {error}") from error
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After", "")
        raise NotionError(
            "Notion's rate limit", retry_after=int(retry_after) if retry_after.isdigit() else 60
        )
    if response.status_code >= 400:
        message = payload.get("message") if isinstance(payload, dict) else None
        raise NotionError(f"Notion answered {response.status_code}: {message or 'no detail'}")
    return payload


# --- connecting -------------------------------------------------------------------------


def notion_connect(*, team: Team, access_token: str) -> NotionConnection:
    """Check the token with Notion (the integration's own bot user names the workspace),
    then store it, encrypted. Reconnecting keeps the reader's cursor."""
    token = access_token.strip() if isinstance(access_token, str) else ""
    if not token or len(token) > 200 or not token.isprintable():
        raise InvalidInput(fields={"access_token": ["Paste the integration's secret."]})
    try:
        me = _notion(token, "GET", "/v1/users/me")
    except NotionError as error:
        if "answered 4" in str(error):
            raise InvalidInput(
                fields={"access_token": ["Notion does not accept this token."]}
            ) from error
        raise Unavailable(
            "Notion did not answer: try again.", code="provider_unavailable"
        ) from error
    bot = me.get("bot") if isinstance(me, dict) else None
    workspace = bot.get("workspace_name") if isinstance(bot, dict) else None
    connection, _ = NotionConnection.objects.update_or_create(
        team=team,
        defaults={
            "access_token": token,
            "workspace_name": str(workspace or "")[:200],
            "last_error": "",
        },
    )
    return connection


def notion_disconnect(*, team: Team) -> bool:
    deleted, _ = NotionConnection.objects.filter(team=team).delete()
    return bool(deleted)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotionPageEdit:
    page_id: str
    edited_at: dt.datetime
    editor_id: str
    url: str


def _edit_of(page: Any) -> NotionPageEdit | None:
    """A search result as a page edit; anything else (a database, a malformed item, an
    edit by no user) is skipped."""
    if not isinstance(page, dict) or page.get("object") != "page":
        return None
    editor = page.get("last_edited_by")
    edited = parse_datetime(str(page.get("last_edited_time") or ""))
    page_id = page.get("id")
    if not isinstance(editor, dict) or not isinstance(page_id, str) or edited is None:
        return None
    editor_id = editor.get("id")
    if not isinstance(editor_id, str) or not editor_id or len(editor_id) > 64 or len(page_id) > 64:
        return None
    url = page.get("url")
    return NotionPageEdit(page_id, edited, editor_id, url if isinstance(url, str) else "")


def _recent_edits(token: str, since: dt.datetime) -> Iterator[NotionPageEdit]:
    """Pages edited after `since`, newest first."""
    start_cursor: str | None = None
    while True:
        body: dict[str, Any] = {
            "filter": {"property": "object", "value": "page"},
            "sort": {"timestamp": "last_edited_time", "direction": "descending"},
            "page_size": PAGE_SIZE,
        }
        if start_cursor:
            body["start_cursor"] = start_cursor
        answer = _notion(token, "POST", "/v1/search", body)
        results = answer.get("results") if isinstance(answer, dict) else None
        for item in results if isinstance(results, list) else []:
            edit = _edit_of(item)
            if edit is None:
                continue
            if edit.edited_at <= since:
                return
            yield edit
        if not answer.get("has_more") or not answer.get("next_cursor"):
            return
        start_cursor = str(answer["next_cursor"])


@dataclass(frozen=True)
class NotionReadResult:
    read: int
    stored: int
    error: str = ""
    retry_after: int | None = None


def notion_pages_read(
    *, team_id: uuid.UUID | str, now: dt.datetime | None = None
) -> NotionReadResult:
    """Read the team's workspace since the cursor and store its page edits."""
    connection = NotionConnection.objects.filter(team_id=team_id).first()
    if connection is None:
        return NotionReadResult(0, 0, "not connected")
    now = now or timezone.now()
    since = connection.last_edited_cursor or now - dt.timedelta(
        days=settings.NOTION_INITIAL_LOOKBACK_DAYS
    )
    try:
        edits = list(_recent_edits(connection.access_token, since))
    except NotionError as error:
        NotionConnection.objects.filter(pk=connection.pk).update(
            last_polled_at=now, last_error=str(error)[:500]
        )
        logger.warning("Notion read of team %s stopped: %s", team_id, error)
        return NotionReadResult(0, 0, str(error), error.retry_after)
    stored = _store(connection.team_id, edits)
    cursor = max((edit.edited_at for edit in edits), default=connection.last_edited_cursor)
    NotionConnection.objects.filter(pk=connection.pk).update(
        last_polled_at=now, last_error="", last_edited_cursor=cursor
    )
    return NotionReadResult(len(edits), stored)


def _store(team_id: uuid.UUID, edits: list[NotionPageEdit]) -> int:
    if not edits:
        return 0
    editors = {edit.editor_id for edit in edits}
    contributors = dict(
        Contributor.objects.filter(team_id=team_id, notion_user_id__in=editors).values_list(
            "notion_user_id", "pk"
        )
    )
    rows = [
        Contribution(
            team_id=team_id,
            contributor_id=contributors.get(edit.editor_id),
            platform=Platform.NOTION,
            source_id=f"{edit.page_id}:{edit.edited_at.isoformat()}",
            source_login=edit.editor_id,
            contribution_type=ContributionType.PAGE_EDIT,
            weight=Decimal("1.00"),
            metadata={"page_id": edit.page_id, "url": edit.url[:300]},
            occurred_at=edit.edited_at,
            verification=Verification.VERIFIED,  # read from Notion by us, not reported
        )
        for edit in edits
    ]
    with transaction.atomic():
        before = Contribution.objects.filter(team_id=team_id, platform=Platform.NOTION).count()
        Contribution.objects.bulk_create(rows, ignore_conflicts=True)
        stored = (
            Contribution.objects.filter(team_id=team_id, platform=Platform.NOTION).count() - before
        )
    for contributor_id in set(contributors.values()):
        latest = max(e.edited_at for e in edits if contributors.get(e.editor_id) == contributor_id)
        Contributor.objects.filter(pk=contributor_id, last_active_at__lt=latest).update(
            last_active_at=latest
        )
        Contributor.objects.filter(pk=contributor_id, last_active_at__isnull=True).update(
            last_active_at=latest
        )
    teams_changed([team_id])  # the leaderboard's "last active"
    return stored


def notion_connections_due() -> list[str]:
    """The teams whose workspace the periodic reader reads (all connected ones)."""
    return [str(team_id) for team_id in NotionConnection.objects.values_list("team_id", flat=True)]


# --- people -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotionEditor:
    """A Notion user whose edits wait for a contributor."""

    notion_user_id: str
    edits: int


def notion_unclaimed_editors(*, team: Team) -> list[NotionEditor]:
    rows = (
        Contribution.objects.filter(team=team, platform=Platform.NOTION, contributor__isnull=True)
        .values("source_login")
        .annotate(edits=Count("id"))
        .order_by("-edits", "source_login")
    )
    return [NotionEditor(row["source_login"], row["edits"]) for row in rows]


def contributor_notion_user_set(
    *, team: Team, contributor_id: uuid.UUID | str, notion_user_id: str
) -> int:
    """The contributor is this Notion user: their waiting edits are attached (returns how
    many). A Notion user belongs to one contributor of a team."""
    value = notion_user_id.strip() if isinstance(notion_user_id, str) else ""
    if not _NOTION_ID.fullmatch(value):
        raise InvalidInput(fields={"notion_user_id": ["A Notion user id (a UUID)."]})
    contributor = Contributor.objects.filter(team=team, pk=contributor_id).first()
    if contributor is None:
        raise InvalidInput(fields={"contributor": ["Not a contributor of this team."]})
    with transaction.atomic():
        if (
            Contributor.objects.filter(team=team, notion_user_id=value)
            .exclude(pk=contributor.pk)
            .exists()
        ):
            raise Conflict("Another contributor of this team is that Notion user.")
        contributor.notion_user_id = value
        contributor.save(update_fields=["notion_user_id"])
        return contributions_attach(contributor=contributor)
