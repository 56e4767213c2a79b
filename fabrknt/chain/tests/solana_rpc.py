"""A real local HTTP server speaking Solana's JSON-RPC `getAccountInfo` (jsonParsed) and
`getBalance`, for the tests that read a program's upgrade authority or a wallet's SOL.

The test registers accounts (an upgradeable program and its ProgramData account, as
`upgradeable_program` builds them) and reads back the requests the server received;
`CHAIN_RPC_URLS["solana:mainnet"]` points at it. The answers have the exact shape a
Solana node returns: `result.context` and `result.value` with `data.parsed`, `program`
and `space` for accounts the node can decode.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fabrknt.chain.solana import BPF_UPGRADEABLE_LOADER

SLOT = 312_456_789
PROGRAM_SPACE = 36  # a Program account: a 4-byte tag and the ProgramData address
PROGRAMDATA_METADATA_SPACE = 45  # tag, slot, an optional authority
# `rentEpoch` of rent-exempt accounts since rent collection ended: u64::MAX.
RENT_EPOCH = 18446744073709551615


@dataclasses.dataclass
class SolanaRpc:
    url: str
    accounts: dict[str, dict] = dataclasses.field(default_factory=dict)
    requests: list[dict] = dataclasses.field(default_factory=list)
    status: int = 200

    def upgradeable_program(
        self,
        *,
        program: str,
        program_data: str,
        authority: str | None,
        last_deployed: int = 290_000_000,
    ) -> None:
        """A program deployed with the upgradeable loader, as `getAccountInfo` shows it."""
        self.accounts[program] = {
            "data": {
                "parsed": {"info": {"programData": program_data}, "type": "program"},
                "program": "bpf-upgradeable-loader",
                "space": PROGRAM_SPACE,
            },
            "executable": True,
            "lamports": 1141440,
            "owner": BPF_UPGRADEABLE_LOADER,
            "rentEpoch": RENT_EPOCH,
            "space": PROGRAM_SPACE,
        }
        elf = "f0VMRgIBAQAAAAAAAAAAAAMA9wABAAAA"  # the start of the program's ELF, base64
        space = PROGRAMDATA_METADATA_SPACE + 24
        self.accounts[program_data] = {
            "data": {
                "parsed": {
                    "info": {
                        "authority": authority,
                        "data": [elf, "base64"],
                        "slot": last_deployed,
                    },
                    "type": "programData",
                },
                "program": "bpf-upgradeable-loader",
                "space": space,
            },
            "executable": False,
            "lamports": 2_895_602_160,
            "owner": BPF_UPGRADEABLE_LOADER,
            "rentEpoch": RENT_EPOCH,
            "space": space,
        }

    def wallet(self, address: str) -> None:
        """An ordinary account: system-owned, not executable, no parsable data."""
        self.accounts[address] = {
            "data": ["", "base64"],
            "executable": False,
            "lamports": 5_000_000_000,
            "owner": "11111111111111111111111111111111",
            "rentEpoch": RENT_EPOCH,
            "space": 0,
        }


def _handler(rpc: SolanaRpc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            rpc.requests.append(request)
            method = request.get("method")
            if method in ("getAccountInfo", "getBalance"):
                account = rpc.accounts.get(request["params"][0])
                if method == "getBalance":  # a missing account holds 0 lamports
                    account = account["lamports"] if account else 0
                answer = {
                    "jsonrpc": "2.0",
                    "result": {
                        "context": {"apiVersion": "2.2.14", "slot": SLOT},
                        "value": account,
                    },
                    "id": request["id"],
                }
            else:
                answer = {
                    "jsonrpc": "2.0",
                    "error": {"code": -32601, "message": "Method not found"},
                    "id": request.get("id"),
                }
            body = json.dumps(answer).encode()
            self.send_response(rpc.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet test output

    return Handler


# Registered under a short name; the function's own name differs so test modules can import
# it without shadowing the fixture argument.
@pytest.fixture(name="solana_rpc")
def solana_rpc_fixture(settings) -> Iterator[SolanaRpc]:
    """A Solana JSON-RPC endpoint on a free local port, set for solana:mainnet."""
    rpc = SolanaRpc(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rpc))
    rpc.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CHAIN_RPC_URLS = {**settings.CHAIN_RPC_URLS, "solana:mainnet": rpc.url}
    try:
        yield rpc
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
