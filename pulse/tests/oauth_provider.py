"""A local server that speaks GitHub's and Discord's OAuth web flows as they document them,
for tests: the consent screen (answered at once with a redirect, as if the person clicked
"Authorize"), the token endpoint (codes single use, bound to the client, its secret and
the redirect URI) and the "who am I" endpoint.

GitHub: GET /login/oauth/authorize, POST /login/oauth/access_token (errors are 200 with
`error`, as GitHub answers them), GET /user (the API's base is the same server).
Discord: GET /oauth2/authorize, POST /api/oauth2/token (client id and secret by HTTP
Basic; for the `bot` scope the answer carries the `guild` and the redirect `guild_id`
and `permissions`), GET /api/users/@me.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

GITHUB_CLIENT = ("Iv1.8a61f9b3a7aba766", "github-secret-3f9a")
DISCORD_CLIENT = ("1234567890123456789", "discord-secret-7c21")


@dataclass
class Provider:
    """What the fake providers know: who is "signed in" at each, the guild a bot install
    picks, and every request they got."""

    url: str = ""
    github_user: dict[str, Any] = field(
        default_factory=lambda: {"login": "Octo-Dev", "id": 583231, "type": "User"}
    )
    discord_user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "700000000000000002",
            "username": "helper",
            "discriminator": "0",
            "global_name": "Helpful Helper",
            "avatar": None,
        }
    )
    guild: dict[str, Any] = field(
        default_factory=lambda: {"id": "811111111111111111", "name": "Builders", "owner_id": "1"}
    )
    # "deny": the consent screen answers as when the person clicks "Cancel".
    consent: str = "allow"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.provider.requests.append(("GET", parts.path))
        if parts.path in {"/login/oauth/authorize", "/oauth2/authorize"}:
            self._authorize(parts.path, query)
        elif parts.path in {"/user", "/api/users/@me"}:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            grant = self.provider.tokens.get(token)
            if grant is None:
                self._json(401, {"message": "Bad credentials"})
            else:
                self._json(200, grant["user"])
        else:
            self._json(404, {"message": "Not Found"})

    def _authorize(self, path: str, query: dict[str, str]) -> None:
        github = path.startswith("/login")
        expected_client = (GITHUB_CLIENT if github else DISCORD_CLIENT)[0]
        if query.get("client_id") != expected_client or "redirect_uri" not in query:
            self._json(400, {"error": "invalid_client"})
            return
        back: dict[str, str] = {"state": query.get("state", "")}
        if self.provider.consent == "deny":
            back["error"] = "access_denied"
            back["error_description"] = (
                "The resource owner or authorization server denied the request."
            )
        else:
            code = secrets.token_hex(10)
            bot = "bot" in query.get("scope", "").split()
            self.provider.codes[code] = {
                "github": github,
                "redirect_uri": query["redirect_uri"],
                "bot": bot,
            }
            back["code"] = code
            if bot:
                back["guild_id"] = self.provider.guild["id"]
                back["permissions"] = query.get("permissions", "0")
        self._redirect(f"{query['redirect_uri']}?{urlencode(back)}")

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self.provider.requests.append(("POST", parts.path))
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if parts.path == "/login/oauth/access_token":
            self._github_token(form)
        elif parts.path == "/api/oauth2/token":
            self._discord_token(form)
        else:
            self._json(404, {"message": "Not Found"})

    def _take_code(self, code: str, *, github: bool, redirect_uri: str) -> dict[str, Any] | None:
        grant = self.provider.codes.pop(code, None)
        if grant is None or grant["github"] != github or grant["redirect_uri"] != redirect_uri:
            return None
        return grant

    def _github_token(self, form: dict[str, str]) -> None:
        if (form.get("client_id"), form.get("client_secret")) != GITHUB_CLIENT:
            self._json(
                200,
                {
                    "error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed are incorrect.",
                },
            )
            return
        grant = self._take_code(
            form.get("code", ""), github=True, redirect_uri=form.get("redirect_uri", "")
        )
        if grant is None:
            self._json(
                200,
                {
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                },
            )
            return
        token = "gho_" + secrets.token_hex(18)
        self.provider.tokens[token] = {"user": self.provider.github_user}
        self._json(200, {"access_token": token, "token_type": "bearer", "scope": ""})

    def _discord_token(self, form: dict[str, str]) -> None:
        basic = self.headers.get("Authorization", "").removeprefix("Basic ")
        try:
            client = tuple(base64.b64decode(basic).decode().split(":", 1))
        except ValueError:
            client = ()
        if client != DISCORD_CLIENT:
            self._json(401, {"error": "invalid_client"})
            return
        grant = None
        if form.get("grant_type") == "authorization_code":
            grant = self._take_code(
                form.get("code", ""), github=False, redirect_uri=form.get("redirect_uri", "")
            )
        if grant is None:
            self._json(
                400, {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}
            )
            return
        token = secrets.token_hex(15)
        self.provider.tokens[token] = {"user": self.provider.discord_user}
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 604800,
            "refresh_token": secrets.token_hex(15),
            "scope": "bot applications.commands" if grant["bot"] else "identify",
        }
        if grant["bot"]:
            body["guild"] = self.provider.guild
        self._json(200, body)


@pytest.fixture
def oauth_provider(settings) -> Iterator[Provider]:
    """The fake GitHub and Discord, with the settings pointed at them."""
    provider = Provider()
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GITHUB_URL = settings.GITHUB_API_URL = provider.url
    settings.DISCORD_BASE_URL = provider.url
    settings.GITHUB_OAUTH_CLIENT_ID, settings.GITHUB_OAUTH_CLIENT_SECRET = GITHUB_CLIENT
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = DISCORD_CLIENT
    yield provider
    server.shutdown()
    server.server_close()
