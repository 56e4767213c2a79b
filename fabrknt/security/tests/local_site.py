"""A real HTTP server on 127.0.0.1 and a fake DNS, for tests of outgoing fetches
(fabrknt.security.public_fetch and what uses it), with their fixtures: a conftest imports
`local_site` and `fake_dns` to offer them.

The server answers each path as its `Route` says and records every request (path and
Host header) and every connection, so a test can show that a refused fetch never
connected. The fake DNS answers the names a test gives (and nothing else: a test never
sends a query to a real resolver); numeric hosts and localhost go to the real resolver.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: the body ends when the connection closes
    hang: bool = False  # never answer (until the test ends)
    drip_seconds: float = 0.0  # send the body a byte at a time, this far apart


class LocalSite:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self.released = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                site.requests.append((self.path, self.headers.get("Host", "")))
                route = site.routes.get(self.path, Route(status=404, body=b"not found"))
                if route.hang:
                    site.released.wait(timeout=30)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.content_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if not route.drip_seconds:
                    self.wfile.write(route.body)
                    return
                for index in range(len(route.body)):
                    if site.released.wait(timeout=route.drip_seconds):
                        return
                    self.wfile.write(route.body[index : index + 1])
                    self.wfile.flush()

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address) -> bool:
                site.connections += 1
                return True

            def handle_error(self, request, client_address) -> None:
                pass  # a client that gave up (the timeout tests) is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class FakeDns:
    """socket.getaddrinfo for the names in `answers` (name -> addresses, or a list of
    such lists: one per lookup, the last one repeating)."""

    def __init__(self, real_getaddrinfo) -> None:
        self.real = real_getaddrinfo
        self.answers: dict[str, list] = {}
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            if name == "localhost" or _numeric(name):
                return self.real(host, port, family, type, proto, flags)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.lookups.append(name)
        answers = self.answers[name]
        if answers and isinstance(answers[0], list):
            addresses = answers[min(self.lookups.count(name), len(answers)) - 1]
        else:
            addresses = answers
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in addresses
        ]


def _numeric(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
    except OSError:
        return False
    return True


@pytest.fixture
def local_site():
    """A real HTTP server on 127.0.0.1, stopped after the test."""
    site = LocalSite().start()
    yield site
    site.stop()


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDns:
    """Names resolve only as the test says; nothing reaches a real resolver."""
    dns = FakeDns(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns
