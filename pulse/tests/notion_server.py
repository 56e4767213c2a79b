"""A local server answering as Notion's API does (https://developers.notion.com/reference):
`GET /v1/users/me` (the integration's bot user, naming its workspace) and `POST /v1/search`
(pages and databases, filtered by object, sorted by last_edited_time, paginated with
`start_cursor`/`next_cursor`/`has_more`), errors as Notion's error objects."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "ntn_4211589632aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"


def page(page_id: str, edited: str, editor: str, *, title: str = "Roadmap") -> dict[str, Any]:
    """A page object as Notion returns it (trimmed properties)."""
    return {
        "object": "page",
        "id": page_id,
        "created_time": "2026-10-01T09:00:00.000Z",
        "last_edited_time": edited,
        "created_by": {"object": "user", "id": editor},
        "last_edited_by": {"object": "user", "id": editor},
        "cover": None,
        "icon": {"type": "emoji", "emoji": "🗺️"},
        "parent": {"type": "workspace", "workspace": True},
        "archived": False,
        "in_trash": False,
        "properties": {
            "title": {
                "id": "title",
                "type": "title",
                "title": [
                    {
                        "type": "text",
                        "text": {"content": title, "link": None},
                        "plain_text": title,
                        "href": None,
                    }
                ],
            }
        },
        "url": f"https://www.notion.so/{title}-{page_id.replace('-', '')}",
        "public_url": None,
    }


def database(database_id: str, edited: str) -> dict[str, Any]:
    return {
        "object": "database",
        "id": database_id,
        "last_edited_time": edited,
        "title": [],
        "properties": {},
    }


@dataclass
class Notion:
    url: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    # Statuses to answer the next searches with (429 with Retry-After, 401...).
    fail_next: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    notion: Notion

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        data = json.dumps({**body, "request_id": str(uuid.uuid4())}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, **headers: str) -> None:
        body = {"object": "error", "status": status, "code": code, "message": message}
        self._json(status, body, headers)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "unauthorized", "API token is invalid.")
            return False
        if not self.headers.get("Notion-Version"):
            self._error(400, "missing_version", "Notion-Version header failed validation.")
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorized():
            return
        if self.path == "/v1/users/me":
            self._json(
                200,
                {
                    "object": "user",
                    "id": "16d84278-ab0e-484c-9bdd-b35da3bd8905",
                    "name": "Fabrknt PULSE",
                    "avatar_url": None,
                    "type": "bot",
                    "bot": {
                        "owner": {"type": "workspace", "workspace": True},
                        "workspace_name": "Builders HQ",
                    },
                },
            )
        else:
            self._error(404, "object_not_found", "Could not find object.")

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.notion.requests.append(body)
        if not self._authorized():
            return
        if self.path != "/v1/search":
            self._error(404, "object_not_found", "Could not find object.")
            return
        if self.notion.fail_next:
            status = self.notion.fail_next.pop(0)
            if status == 429:
                self._error(
                    429, "rate_limited", "You have been rate limited.", **{"Retry-After": "7"}
                )
            else:
                self._error(status, "internal_server_error", "Unexpected error.")
            return
        wanted = (body.get("filter") or {}).get("value")
        items = [i for i in self.notion.items if wanted is None or i["object"] == wanted]
        sort = body.get("sort") or {}
        items.sort(
            key=lambda i: i["last_edited_time"], reverse=sort.get("direction") == "descending"
        )
        start = int(body.get("start_cursor") or 0)
        size = min(int(body.get("page_size") or 100), 100)
        chunk = items[start : start + size]
        more = start + size < len(items)
        self._json(
            200,
            {
                "object": "list",
                "results": chunk,
                "next_cursor": str(start + size) if more else None,
                "has_more": more,
                "type": "page_or_database",
                "page_or_database": {},
            },
        )


@contextmanager
def notion_serving() -> Iterator[Notion]:
    """The local Notion, running while the block runs (point NOTION_API_URL at its url)."""
    notion = Notion()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"notion": notion}))
    notion.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield notion
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def notion_server(settings) -> Iterator[Notion]:
    with notion_serving() as notion:
        settings.NOTION_API_URL = notion.url
        yield notion
