"""A real local HTTP server speaking the parts of GitHub's REST API the backfill reads.

Routes answer GitHub-shaped JSON lists, paginated with GitHub's `Link` header
(`<…?page=2>; rel="next"`), with its rate-limit headers; a route can be told to refuse
first (403/429 with `Retry-After`, or `X-RateLimit-Remaining: 0` and a reset time). The App's
token exchange checks the JWT with the App's real public key. GITHUB_API_URL points here.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest


@dataclasses.dataclass
class Refusal:
    status: int
    headers: dict[str, str]


@dataclasses.dataclass
class GitHubServer:
    url: str = ""
    # path -> pages of items
    routes: dict[str, list[list[Any]]] = dataclasses.field(default_factory=dict)
    refusals: dict[str, list[Refusal]] = dataclasses.field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, list[str]], str]] = dataclasses.field(
        default_factory=list
    )
    app_public_key: Any = None
    app_id: str = ""
    installation_tokens: dict[int, str] = dataclasses.field(default_factory=dict)
    remaining: int = 4999

    def pages(self, path: str, *pages: list[Any]) -> None:
        self.routes[path] = list(pages)

    def refuse_once(self, path: str, status: int, **headers: str) -> None:
        self.refusals.setdefault(path, []).append(Refusal(status, headers))

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.requests]


def _handler(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            for name, value in {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": str(server.remaining),
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Used": str(5000 - server.remaining),
                "X-RateLimit-Resource": "core",
                **(headers or {}),
            }.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _record(self, method: str) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            server.requests.append(
                (method, parts.path, query, self.headers.get("Authorization", ""))
            )
            return parts.path, query

        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            path, _ = self._record("POST")
            prefix, suffix = "/app/installations/", "/access_tokens"
            if not (path.startswith(prefix) and path.endswith(suffix)):
                return self._answer(404, {"message": "Not Found"})
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, server.app_public_key, algorithms=["RS256"])
            except jwt.PyJWTError as error:
                return self._answer(
                    401, {"message": f"A JSON web token could not be decoded: {error}"}
                )
            installation = int(path[len(prefix) : -len(suffix)])
            if claims.get("iss") != server.app_id or installation not in server.installation_tokens:
                return self._answer(404, {"message": "Not Found"})
            self._answer(
                201,
                {
                    "token": server.installation_tokens[installation],
                    "expires_at": "2026-12-01T00:00:00Z",
                    "permissions": {"contents": "read", "issues": "read", "pull_requests": "read"},
                    "repository_selection": "selected",
                },
            )

        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            path, query = self._record("GET")
            pending = server.refusals.get(path)
            if pending:
                refusal = pending.pop(0)
                return self._answer(
                    refusal.status, {"message": "API rate limit exceeded"}, refusal.headers
                )
            if path not in server.routes:
                return self._answer(
                    404,
                    {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
                )
            pages = server.routes[path]
            page = int(query.get("page", ["1"])[0])
            headers = {}
            if page < len(pages):
                rest = {k: v[0] for k, v in query.items() if k != "page"}
                rest["page"] = str(page + 1)
                next_query = "&".join(f"{k}={v}" for k, v in rest.items())
                last_query = "&".join(
                    f"{k}={v}" for k, v in {**rest, "page": str(len(pages))}.items()
                )
                headers["Link"] = (
                    f'<{server.url}{path}?{next_query}>; rel="next", '
                    f'<{server.url}{path}?{last_query}>; rel="last"'
                )
            self._answer(200, pages[page - 1] if pages else [], headers)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(name="github_api")
def github_api_fixture(settings) -> Iterator[GitHubServer]:
    state = GitHubServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    settings.GITHUB_API_URL = state.url
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
