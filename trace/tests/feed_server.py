"""A real local HTTP server speaking CoinGecko's `/simple/price`, for the price feed tests.

The test sets what the server answers (a JSON document, raw bytes, a status, a delay) and
reads back the requests it received; `PRICE_FEED_URL` points at it for the test.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclasses.dataclass
class FeedServer:
    url: str
    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    requests: list[tuple[str, dict[str, list[str]]]] = dataclasses.field(default_factory=list)

    def answer(self, document: object, *, status: int = 200) -> None:
        self.body, self.status = json.dumps(document).encode(), status

    def answer_raw(self, body: bytes, *, status: int = 200) -> None:
        self.body, self.status = body, status


def _handler(feed: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            parts = urlsplit(self.path)
            feed.requests.append((parts.path, parse_qs(parts.query)))
            time.sleep(feed.delay)
            self.send_response(feed.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(feed.body)))
            self.end_headers()
            self.wfile.write(feed.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


# Registered under a short name; the function's own name differs so test modules can import
# it without shadowing the fixture argument.
@pytest.fixture(name="price_feed")
def price_feed_fixture(settings) -> Iterator[FeedServer]:
    """A CoinGecko-compatible feed on a free local port, set as PRICE_FEED_URL."""
    feed = FeedServer(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(feed))
    feed.url = f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PRICE_FEED_URL = feed.url
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
