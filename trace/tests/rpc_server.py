"""A real local JSON-RPC endpoint over HTTP in front of a real EVM (py-evm through
eth-tester), for code that reaches a chain through `CHAIN_RPC_URLS` and web3's
HTTPProvider, batches included (EthereumTesterProvider itself does not take batches).

The test mines blocks at the times it wants (`mine_at`) and reads back the HTTP requests
the endpoint received, to count round trips.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3


@dataclasses.dataclass
class RpcServer:
    url: str
    w3: Web3
    requests: list[Any] = dataclasses.field(default_factory=list)

    def mine_at(self, timestamp: int) -> int:
        """Mine a block with this timestamp (later than the last block's); its number."""
        self.w3.testing.timeTravel(timestamp)
        self.w3.testing.mine()
        return self.w3.eth.block_number

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
        try:
            result = self.w3.manager.request_blocking(call["method"], call.get("params", []))
        except Exception as error:  # noqa: BLE001  (the node's error, answered as JSON-RPC's)
            return {**reply, "error": {"code": -32000, "message": str(error)}}
        return {**reply, "result": _wire(result)}


def _wire(value: Any) -> Any:
    """web3's Python values as JSON-RPC writes them: quantities and bytes in hex."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    return [_wire(item) for item in value]


def _handler(server: RpcServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            document = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.requests.append(document)
            if isinstance(document, list):
                body = json.dumps([server.answer(call) for call in document]).encode()
            else:
                body = json.dumps(server.answer(document)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


@pytest.fixture(name="evm_rpc")
def evm_rpc_fixture() -> Iterator[RpcServer]:
    """A fresh in-process chain behind a JSON-RPC endpoint on a free local port."""
    rpc = RpcServer(url="", w3=Web3(EthereumTesterProvider()))
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rpc))
    rpc.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield rpc
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
