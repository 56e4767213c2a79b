"""The image's HEALTHCHECK: exit 0 when the web process answers /healthz with 200.

The request names the first of ALLOWED_HOSTS as its Host (Django refuses any other), on
the port the container serves: HEALTHCHECK_PORT (the ASGI server's), else gunicorn's
GUNICORN_BIND, else 8000.
"""

from __future__ import annotations

import http.client
import os
import sys


def probe_target(environ: dict[str, str]) -> tuple[int, str]:
    """The local port to probe and the Host header to send."""
    port = int(
        environ.get("HEALTHCHECK_PORT")
        or environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
    )
    hosts = [h.strip() for h in environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    return port, host


def main() -> int:
    port, host = probe_target(dict(os.environ))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=4)
    try:
        connection.request("GET", "/healthz", headers={"Host": host})
        return 0 if connection.getresponse().status == 200 else 1
    except OSError:
        return 1
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
