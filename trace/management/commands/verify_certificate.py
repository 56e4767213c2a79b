"""`manage.py verify_certificate FILE [--public-key BASE64]`: check a certificate offline.

Needs no database and no network: the signature is checked against the key named by the
document's key_id in our key set (CERTIFICATE_SIGNING_KEY's public key and
CERTIFICATE_PUBLIC_KEYS), or against --public-key. Exits 0 when valid, 1 otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trace.services.certificates import certificate_check, key_id_of


class Command(BaseCommand):
    help = "Verify a growth certificate file offline (signature and validity period)."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--public-key", help="base64 raw Ed25519 public key to check with")

    def handle(self, *args, file, public_key=None, **options) -> None:
        try:
            document = json.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"INVALID: cannot read {file}: {error.strerror}") from error
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"INVALID: {file} is not JSON: {error}") from error
        keys = None
        if public_key:
            try:
                raw = base64.b64decode(public_key, validate=True)
            except (binascii.Error, ValueError) as error:
                raise CommandError("--public-key is not base64") from error
            if len(raw) != 32:
                raise CommandError("--public-key must be a raw 32-byte Ed25519 key")
            keys = {key_id_of(raw): raw}
        check = certificate_check(document, public_keys=keys)
        if not check.valid:
            raise CommandError(f"INVALID: {check.reason}")
        self.stdout.write(self.style.SUCCESS(f"VALID: {check.reason}"))
