"""`python deploy/make_secrets.py DIR`: the secrets production settings require, one file
each in DIR, made once (an existing file is kept). docker-compose.yml's `secrets` service
runs it on a volume that the other services read through `NAME_FILE` (deploy/entrypoint.py),
so every container of the local stack shares the same keys without a key in the repository.
"""

from __future__ import annotations

import base64
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

MAKERS: dict[str, Callable[[], str]] = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    # Ed25519 seed, base64 (fabrknt/settings.py).
    "CERTIFICATE_SIGNING_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    # Fernet key: url-safe base64 of 32 bytes.
    "FIELD_ENCRYPTION_KEY": lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def make_secrets(directory: Path) -> list[str]:
    """Writes the missing secrets; returns the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in MAKERS.items():
        path = directory / name.lower()
        if not path.exists():
            path.write_text(make())
            path.chmod(0o640)
            written.append(name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_secrets.py DIR")
    print("made:", ", ".join(make_secrets(Path(sys.argv[1]))) or "nothing (all present)")
