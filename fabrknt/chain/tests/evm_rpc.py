"""A real local HTTP JSON-RPC endpoint in front of an in-process chain (py-evm through
eth-tester), for the tests and the benchmark that count round trips.

web3's `EthereumTesterProvider` answers in-process and cannot batch; behind this server
the same chain is read with `Web3.HTTPProvider`, as a remote node is. The server follows
JSON-RPC 2.0 (https://www.jsonrpc.org/specification): a request object gets a response
object; a batch (§6, an array of request objects) gets an array of response objects, one
per request, matched by `id`. Quantities are hex strings, as the Ethereum JSON-RPC API
specifies. It counts what it received (HTTP requests, and calls per method), can wait
before each answer (a remote endpoint's latency), and can act as a node without
historical state: geth, pruning, answers a read of old state with error -32000 "missing
trie node <hash> (path )" (go-ethereum issues 16471 and 17133 show the message).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from web3 import Web3
from web3.providers.eth_tester.main import EthereumTesterProvider

MISSING_TRIE_NODE = {
    "code": -32000,
    "message": "missing trie node 1a3bddc494098bac19ef26e6506812caa12ca5cf036a13ef0eabde38beab5d21 "
    "(path )",
}
BLOOM_BYTES = 256


@dataclasses.dataclass
class EvmRpcServer:
    """The endpoint of `chain` (a Web3 on an EthereumTesterProvider); `url` once started."""

    chain: Web3
    latency: float = 0.0
    historical_state: bool = True
    # Answer a call asked before from memory (the benchmark, over a chain that no longer
    # changes): py-evm takes milliseconds a read that a node serves in microseconds.
    memoize: bool = False
    url: str = ""
    http_requests: int = 0
    calls: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    _server: ThreadingHTTPServer | None = dataclasses.field(default=None, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _memory: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict, repr=False)

    def start(self) -> EvmRpcServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def client(self, *, timeout: float = 15) -> Web3:
        """A client of this endpoint, as `evm_client` builds one for a configured URL."""
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": timeout}))

    def mine_at(self, timestamp: int) -> int:
        """Mine a block with this timestamp (later than the last block's); its number."""
        testing = self.chain.testing  # type: ignore[attr-defined]  # eth-tester's module
        testing.timeTravel(timestamp)
        testing.mine()
        return self.chain.eth.block_number

    def reset_counts(self) -> None:
        with self._lock:
            self.http_requests = 0
            self.calls.clear()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method", ""), request.get("params") or []
        key = json.dumps([method, params])
        with self._lock:
            self.calls[method] += 1
            body = self._memory.get(key) if self.memoize else None
            if body is None:
                response = self._refusal(method, params) or self._call(method, params)
                body = (
                    {"error": response["error"]}
                    if "error" in response
                    else {"result": _wire(response["result"])}
                )
                self._memory[key] = body
        return {"jsonrpc": "2.0", "id": request.get("id"), **body}

    def _call(self, method: str, params: list[Any]) -> dict[str, Any]:
        provider = self.chain.provider
        assert isinstance(provider, EthereumTesterProvider)
        # The provider's own request path (eth-tester's middleware included) without the
        # client's middleware: JSON-RPC in, JSON-RPC out.
        call = provider.request_func(self.chain, type(self.chain.middleware_onion)([]))
        response: dict[str, Any] = dict(call(method, params))
        return response

    def _refusal(self, method: str, params: list[Any]) -> dict[str, Any] | None:
        if self.historical_state or method != "eth_getCode" or len(params) < 2:
            return None
        block = params[1]
        if block in ("latest", "pending", "safe", "finalized"):
            return None
        if int(block, 16) == self.chain.eth.block_number:  # the head's state is kept
            return None
        return {"error": MISSING_TRIE_NODE}


def _handler(server: EvmRpcServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle's algorithm the body would wait
        # for the client's delayed ACK (40 ms on Linux), a latency no real node adds.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with server._lock:
                server.http_requests += 1
            time.sleep(server.latency)
            if isinstance(body, list):
                answer: object = [server.answer(request) for request in body]
            else:
                answer = server.answer(body)
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


def _wire(value: Any, key: str = "") -> Any:
    """eth-tester's answer as a node sends it: integers as hex quantities, the bloom as
    its 256 bytes."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if key == "logsBloom":
            return "0x" + value.to_bytes(BLOOM_BYTES, "big").hex()
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {name: _wire(item, name) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item, key) for item in value]
    raise TypeError(f"no JSON-RPC form for {type(value).__name__}")
