"""The ASGI server of /ws/: `python -m fabrknt.live.serve --host H --port P [uvicorn options]`.

uvicorn with the options /ws/live is measured and deployed with, held here once for the
containers (deploy/docker-compose.yml), the AWS task (deploy/aws) and the tests and
benchmarks (fabrknt/live/tests/server.py): the websockets-sansio protocol on uvloop, so
that /ws/live writes each event's frame straight to the sockets (fabrknt/live/direct.py),
no per-message compression (a few hundred bytes of JSON cost more CPU to compress than
they save), no lifespan, no access log (README, "Live updates").
"""

from __future__ import annotations

import sys

from uvicorn.main import main as uvicorn

APPLICATION = "fabrknt.asgi:application"
OPTIONS = [
    *("--ws", "websockets-sansio", "--ws-per-message-deflate", "false"),
    *("--loop", "uvloop", "--lifespan", "off", "--no-access-log"),
]


def serve(argv: list[str]) -> None:
    """Runs uvicorn (never returns: it exits when the server stops)."""
    uvicorn.main(args=[APPLICATION, *OPTIONS, *argv], prog_name="uvicorn")


if __name__ == "__main__":
    serve(sys.argv[1:])
