"""A real local HTTP server speaking the two webhook management APIs the address sync uses,
with state, so tests read back what each provider's webhook watches.

Shapes from the providers' documentation (see fabrknt/chain/provider_api.py):

- Alchemy Notify, https://www.alchemy.com/docs/data/webhooks/webhooks-api-endpoints/
  update-webhook-addresses: `PATCH /api/update-webhook-addresses`, header `X-Alchemy-Token`,
  body `{webhook_id, addresses_to_add, addresses_to_remove}` (each list at most 500);
  200 `{}`, 400 invalid input, 401 without the token, 404 unknown webhook.
- Helius, https://www.helius.dev/docs/api-reference/webhooks/get-webhook and
  update-webhook: `GET` and `PUT /v0/webhooks/{webhookID}?api-key=`, the webhook object
  (`webhookID`, `wallet`, `webhookURL`, `transactionTypes`, `accountAddresses`,
  `webhookType`, `authHeader`, `txnStatus`, `encoding`); errors `{"error": "..."}`.

A test can queue failures (`fail_next`: statuses answered before any real handling) and
slow every answer down (`delay`).
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

import pytest

ALCHEMY_TOKEN = "alch-notify-token-for-tests"
HELIUS_KEY = "helius-api-key-for-tests"
HELIUS_WEBHOOK = "5f0c6b3e-2d4a-4c1e-9a7b-3e8f1d2c4b5a"
ALCHEMY_WEBHOOKS = {"eip155:1": "wh_eth_mainnet", "eip155:8453": "wh_base_mainnet"}


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclasses.dataclass
class ProviderServer:
    url: str = ""
    # Address Activity webhooks by id: the addresses each watches, as Alchemy keeps them
    # (lower case hex).
    alchemy: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    helius: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    requests: list[Request] = dataclasses.field(default_factory=list)
    fail_next: list[int] = dataclasses.field(default_factory=list)
    delay: float = 0.0

    def sent(self, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if method is None or r.method == method]


def _error(status: int, message: str, key: str) -> tuple[int, Any]:
    return status, {key: message}


def _alchemy_patch(server: ProviderServer, request: Request) -> tuple[int, Any]:
    if request.headers.get("x-alchemy-token") != ALCHEMY_TOKEN:
        return _error(401, "Unauthenticated", "message")
    body = request.body
    lists = ("addresses_to_add", "addresses_to_remove")
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("webhook_id"), str)
        or not all(isinstance(body.get(name), list) for name in lists)
        or any(len(body[name]) > 500 for name in lists)
    ):
        return _error(400, "Invalid input", "message")
    watched = server.alchemy.get(body["webhook_id"])
    if watched is None:
        return _error(404, "Webhook not found", "message")
    watched.update(address.lower() for address in body["addresses_to_add"])
    watched.difference_update(address.lower() for address in body["addresses_to_remove"])
    return 200, {}


def _helius(server: ProviderServer, request: Request, webhook_id: str) -> tuple[int, Any]:
    if request.query.get("api-key") != [HELIUS_KEY]:
        return _error(401, "invalid api key provided", "error")
    webhook = server.helius.get(webhook_id)
    if webhook is None:
        return _error(404, "webhook not found", "error")
    if request.method == "PUT":
        if not isinstance(request.body, dict) or not isinstance(
            request.body.get("accountAddresses"), list
        ):
            return _error(400, "invalid request body", "error")
        webhook.update(request.body)
    return 200, webhook


def _answer(server: ProviderServer, request: Request) -> tuple[int, Any]:
    if server.fail_next:
        return server.fail_next.pop(0), {"message": "Webhooks service unavailable"}
    if request.method == "PATCH" and request.path == "/api/update-webhook-addresses":
        return _alchemy_patch(server, request)
    if request.method in ("GET", "PUT") and request.path.startswith("/v0/webhooks/"):
        return _helius(server, request, request.path.removeprefix("/v0/webhooks/"))
    return 404, {"message": "no such endpoint"}


def _handler(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            server.requests.append(request)
            time.sleep(server.delay)
            status, document = _answer(server, request)
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_PATCH = _serve  # noqa: N815  (http.server's names)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


@pytest.fixture(name="providers")
def providers_fixture(settings) -> Iterator[ProviderServer]:
    """Alchemy's and Helius' management APIs on a free local port, configured in settings:
    an Address Activity webhook for Ethereum and one for Base, and a Helius webhook."""
    state = ProviderServer(
        alchemy={webhook_id: set() for webhook_id in ALCHEMY_WEBHOOKS.values()},
        helius={
            HELIUS_WEBHOOK: {
                "webhookID": HELIUS_WEBHOOK,
                "wallet": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
                "webhookURL": "https://platform.example/api/v1/webhooks/helius",
                "transactionTypes": ["ANY"],
                "accountAddresses": [],
                "webhookType": "enhanced",
                "authHeader": "helius-delivery-secret",
                "txnStatus": "all",
                "encoding": "jsonParsed",
            }
        },
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    settings.ALCHEMY_NOTIFY_API_URL = state.url
    settings.ALCHEMY_NOTIFY_TOKEN = ALCHEMY_TOKEN
    settings.ALCHEMY_WEBHOOK_IDS = dict(ALCHEMY_WEBHOOKS)
    settings.HELIUS_API_URL = state.url
    settings.HELIUS_API_KEY = HELIUS_KEY
    settings.HELIUS_WEBHOOK_ID = HELIUS_WEBHOOK
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
