"""The production ASGI server of /ws/ (fabrknt/live/serve.py) as a process of its own,
against this run's database and Redis: for the live tests, the browser test and
bench/ws.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class AsgiServer:
    process: subprocess.Popen
    port: int
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _without(environ: os._Environ[str], name: str) -> dict[str, str]:
    return {key: value for key, value in environ.items() if key != name}


def asgi_server_start(*, cwd: Path, log: Path, env: dict[str, str], workers: int = 1) -> AsgiServer:
    """uvicorn serving fabrknt.asgi on a free loopback port (with `workers` processes behind
    one socket), once it accepts connections."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fabrknt.live.serve", "--host", "127.0.0.1"]
            + ["--port", str(port)]
            + (["--workers", str(workers)] if workers > 1 else []),
            cwd=cwd,
            # Not the browser fixture's switch: the server's own checks stay on.
            env={**_without(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE"), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = AsgiServer(process=process, port=port, log=log)
    # Django's setup alone took ~40 s on the shared machine under the other sessions' load.
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
