"""Growth certificates: a project's metrics for a period, signed so anyone can check them.

A certificate names who it is about: the project, its `organization` ({id, name}) and the
`contracts` it watches, each with `control_verified` (whether the organization proved
control of it: `trace.services.contract_control`). It carries the metrics twice:
- `metrics`: from everything the project watches (its contracts and treasury addresses),
  as the daily metrics show them;
- `verified_metrics`: the same figures from the control-verified contracts only, computed
  by the same rollup restricted to them; null when no contract is verified, rather than
  zeros that would look measured.

Each of them attests, for its period [from, to]:
- `dau`, `wau`, `mau`, `activity_score` and `bot_share` of the period's LAST day (they are
  already windows ending that day);
- `transaction_count` and `transaction_volume_usd` SUMMED over the whole period, with
  `unpriced_transfers` (transfers of assets the registry cannot price, valued 0) and
  `volume_flagged_days` (days whose volume is above the daily sanity cap; it is included
  as summed, and flagged);
- `proven_conversion_share`: of the value of the conversions of the project's campaigns
  that occurred in the period, the share credited through clicks whose link to the
  converting wallet is proven (signed by the wallet); null when they have no value.
The rollups for the period are recomputed first, so the certificate reflects the data as
of its issue, not the last nightly run.

Asking again for the same period and the same data returns the stored certificate: what a
certificate attests (everything but its id, issued_at and valid_until) has a canonical
hash, the SHA-256 of its RFC 8785 bytes, stored with it; a new certificate is signed only
when that changed (the numbers, the contracts, their verification, a name...), when the
stored one has expired, or when the signing key is another.

The signature is Ed25519 (PyNaCl) over the certificate's canonical JSON, RFC 8785 (JCS,
the `rfc8785` package): UTF-8, object keys sorted by their UTF-16 code units, no spaces,
strings and numbers serialised as ECMAScript does (so `JSON.stringify` with sorted keys, or
any JCS library in any language, reproduces the bytes). Numbers that are whole are stored
as integers (30, not 30.0), which is also how JCS writes them.

Certificates of format version 1 (issued before RFC 8785) were signed over Python's
`json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`; they are checked
over those bytes, so certificates already handed out stay verifiable. Version 2 and later
are checked over JCS only. The version is inside the signed bytes, so it cannot be changed
to pick the other rendering.

The key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from rfc8785 import CanonicalizationError
from rfc8785 import dumps as jcs_dumps

from accounts.models import AuditAction, User
from accounts.services.audit import audit_record
from fabrknt.api.errors import InvalidInput
from trace.models import ActivityMetric, GrowthCertificate, Project
from trace.selectors import project_proven_conversion_share
from trace.services.contract_control import project_contracts_status
from trace.services.metrics import EARLIEST_DATE, LATEST_DATE, metrics_rollup, metrics_save

ALGORITHM = "ed25519"
VALIDITY = dt.timedelta(days=90)
DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366
ISSUER = "Fabrknt Suite"
# 2: signed over RFC 8785 canonical JSON. 1: over sorted, compact `json.dumps` (legacy).
FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1

# A certificate, its document or a part of one, as JSON (API.md describes the fields).
JsonObject = dict[str, Any]


class PublicKeyListing(TypedDict):
    key_id: str
    algorithm: str
    public_key: str  # base64


class PeriodSummary(TypedDict):
    """A certificate's `metrics` (or `verified_metrics`)."""

    dau: int
    wau: int
    mau: int
    transaction_count: int
    transaction_volume_usd: str
    unpriced_transfers: int
    volume_flagged_days: int
    activity_score: int | float
    bot_share: int | float
    proven_conversion_share: int | float | None


class CertificatePeriodError(InvalidInput):
    """The requested period cannot be certified."""

    code = "invalid_period"


@dataclass(frozen=True)
class CertificateCheck:
    valid: bool
    reason: str


# --- keys -----------------------------------------------------------------------------


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def _signing_key() -> SigningKey:
    return SigningKey(base64.b64decode(settings.CERTIFICATE_SIGNING_KEY))


def certificate_public_keys() -> dict[str, bytes]:
    """Every key a certificate of ours may be signed with: {key_id: raw public key}.

    The current signing key first, then retired ones from CERTIFICATE_PUBLIC_KEYS.
    """
    current = bytes(_signing_key().verify_key)
    keys = {key_id_of(current): current}
    for encoded in settings.CERTIFICATE_PUBLIC_KEYS:
        raw = base64.b64decode(encoded)
        keys.setdefault(key_id_of(raw), raw)
    return keys


def certificate_keys_list() -> list[PublicKeyListing]:
    return [
        {"key_id": key_id, "algorithm": ALGORITHM, "public_key": base64.b64encode(raw).decode()}
        for key_id, raw in certificate_public_keys().items()
    ]


# --- issuing --------------------------------------------------------------------------


def canonical_json(certificate: JsonObject) -> bytes:
    """The RFC 8785 (JCS) bytes of a certificate: what its signature covers.

    CanonicalizationError (a ValueError) for what JSON cannot carry exactly: integers
    beyond 2**53, NaN and infinities, keys that are not strings.
    """
    return jcs_dumps(certificate)


def _legacy_canonical_json(certificate: JsonObject) -> bytes:
    """What certificates of format version 1 were signed over."""
    return json.dumps(
        certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def signed_bytes(certificate: JsonObject) -> bytes:
    """The bytes a certificate's signature covers, by its format version."""
    if certificate.get("version") == LEGACY_FORMAT_VERSION:
        return _legacy_canonical_json(certificate)
    return canonical_json(certificate)


def _json_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def certificate_period(
    *, date_from: dt.date | None, date_to: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The period to certify: by default the last 30 full days (ending yesterday)."""
    date_to = date_to or today - dt.timedelta(days=1)
    date_from = date_from or date_to - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if date_from > date_to:
        raise CertificatePeriodError("`from` must not be after `to`.")
    if date_from < EARLIEST_DATE or date_to > LATEST_DATE:
        raise CertificatePeriodError(f"A period lies between {EARLIEST_DATE} and {LATEST_DATE}.")
    if date_to > today:
        raise CertificatePeriodError("A certificate cannot cover days in the future.")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise CertificatePeriodError(f"A certificate covers at most {MAX_PERIOD_DAYS} days.")
    return date_from, date_to


def _period_summary(days: list[ActivityMetric], proven_share: Decimal | None) -> PeriodSummary:
    """A period's figures from its daily metrics (one per day, oldest first): the last
    day's windows and score, the period's sums; and the share of the period's conversion
    value that came through proven wallet links."""
    last = days[-1]  # the rollup yields every day of the period, the last one included
    # A period's sum may exceed the default 28 significant digits: never round it.
    with decimal.localcontext(prec=100):
        volume = sum((day.transaction_volume_usd for day in days), Decimal(0))
        volume = volume.quantize(Decimal("0.01"))
    return {
        "dau": last.dau,
        "wau": last.wau,
        "mau": last.mau,
        "transaction_count": sum(day.transaction_count for day in days),
        "transaction_volume_usd": str(volume),
        "unpriced_transfers": sum(day.unpriced_transfers for day in days),
        "volume_flagged_days": sum(1 for day in days if day.volume_flag_reason),
        "activity_score": _json_number(last.activity_score),
        "bot_share": _json_number(last.bot_share),
        "proven_conversion_share": None
        if proven_share is None
        else _json_number(float(proven_share)),
    }


def _certificate_subject(project: Project, date_from: dt.date, date_to: dt.date) -> JsonObject:
    """What a certificate attests, without its id and times: who, which contracts, and the
    figures (the project's stored rollups are refreshed on the way)."""
    days = metrics_rollup(project_id=project.id, date_from=date_from, date_to=date_to)
    metrics_save(metrics=days)
    contracts = project_contracts_status(project=project)
    verified = [contract.address for contract in contracts if contract.control_verified]
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    verified_metrics = None
    if verified:
        verified_days = metrics_rollup(
            project_id=project.id,
            date_from=date_from,
            date_to=date_to,
            contract_addresses=verified,
        )
        verified_share = project_proven_conversion_share(
            project_id=project.id, start=start, end=end, contract_addresses=verified
        )
        verified_metrics = _period_summary(verified_days, verified_share)
    organization = project.organization
    return {
        "version": FORMAT_VERSION,
        "issuer": ISSUER,
        "project_id": str(project.id),
        "project_name": project.name,
        "chain": project.chain,
        "organization": {"id": str(organization.id), "name": organization.name},
        "contracts": [
            {
                "chain": contract.chain,
                "address": contract.address,
                "control_verified": contract.control_verified,
            }
            for contract in contracts
        ],
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat()},
        "metrics": _period_summary(
            days, project_proven_conversion_share(project_id=project.id, start=start, end=end)
        ),
        "verified_metrics": verified_metrics,
    }


def certificate_content_hash(subject: JsonObject) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of what a certificate attests: the certificate
    without its id, issued_at and valid_until."""
    return hashlib.sha256(canonical_json(subject)).hexdigest()


def certificate_issue(
    *,
    project_id: UUID,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
    actor: User | None = None,
) -> GrowthCertificate:
    """A project's signed certificate for a period: the stored one when it attests the same
    data and is still valid, else a new one, recomputed, signed and stored (and recorded in
    the organization's audit log, by `actor`: None for a key or the platform)."""
    now = (now or timezone.now()).replace(microsecond=0)
    date_from, date_to = certificate_period(
        date_from=date_from, date_to=date_to, today=now.astimezone(dt.UTC).date()
    )
    project = Project.objects.select_related("organization").get(pk=project_id)
    subject = _certificate_subject(project, date_from, date_to)
    content_hash = certificate_content_hash(subject)
    signing_key = _signing_key()
    key_id = key_id_of(bytes(signing_key.verify_key))
    with transaction.atomic():
        # One issuer per project at a time: of two first requests for the same data, the
        # second finds the first's certificate instead of signing another.
        Project.objects.select_for_update().values_list("pk", flat=True).get(pk=project.pk)
        stored = (
            GrowthCertificate.objects.filter(
                project=project,
                period_from=date_from,
                period_to=date_to,
                content_hash=content_hash,
                key_id=key_id,
                valid_until__gt=now,
            )
            .order_by("-issued_at")
            .first()
        )
        if stored is not None:
            return stored
        certificate = _certificate_sign(
            project=project,
            period=(date_from, date_to),
            subject=subject,
            content_hash=content_hash,
            signing_key=signing_key,
            now=now,
        )
        audit_record(
            organization_id=project.organization_id,
            actor=actor,
            action=AuditAction.CERTIFICATE_ISSUED,
            target=certificate,
            label=f"{project.name}, {date_from.isoformat()} to {date_to.isoformat()}",
            details={"project_id": str(project.pk)},
        )
        return certificate


def _certificate_sign(
    *,
    project: Project,
    period: tuple[dt.date, dt.date],
    subject: JsonObject,
    content_hash: str,
    signing_key: SigningKey,
    now: dt.datetime,
) -> GrowthCertificate:
    certificate_id = uuid.uuid4()
    valid_until = now + VALIDITY
    certificate = {
        "certificate_id": str(certificate_id),
        **subject,
        "issued_at": _timestamp(now),
        "valid_until": _timestamp(valid_until),
    }
    signed = canonical_json(certificate)
    signature = signing_key.sign(signed).signature
    return GrowthCertificate.objects.create(
        id=certificate_id,
        project=project,
        period_from=period[0],
        period_to=period[1],
        payload=certificate,
        canonical_json=signed.decode("utf-8"),
        signature=base64.b64encode(signature).decode(),
        key_id=key_id_of(bytes(signing_key.verify_key)),
        content_hash=content_hash,
        issued_at=now,
        valid_until=valid_until,
    )


def certificate_document(certificate: GrowthCertificate) -> JsonObject:
    """The answer a client keeps: the certificate exactly as signed, and its signature."""
    return {
        "certificate": json.loads(certificate.canonical_json),
        "signature": certificate.signature,
        "algorithm": ALGORITHM,
        "key_id": certificate.key_id,
    }


# --- verifying ------------------------------------------------------------------------


def _parse_timestamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def certificate_check(
    document: object,
    *,
    public_keys: dict[str, bytes] | None = None,
    now: dt.datetime | None = None,
) -> CertificateCheck:
    """Check a certificate document offline: signature, key and validity period."""
    if not isinstance(document, dict) or not isinstance(document.get("certificate"), dict):
        return CertificateCheck(False, "not a certificate document (no `certificate` object)")
    if document.get("algorithm") != ALGORITHM:
        return CertificateCheck(False, f"unsupported algorithm {document.get('algorithm')!r}")
    keys = certificate_public_keys() if public_keys is None else public_keys
    key_id = document.get("key_id")
    if not isinstance(key_id, str) or key_id not in keys:
        return CertificateCheck(False, f"unknown key id {key_id!r}")
    try:
        signature = base64.b64decode(document.get("signature") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        return CertificateCheck(False, "the signature is not base64")
    certificate = document["certificate"]
    try:
        signed = signed_bytes(certificate)
    except CanonicalizationError as error:
        return CertificateCheck(False, f"the certificate is not canonical JSON (RFC 8785): {error}")
    try:
        VerifyKey(keys[key_id]).verify(signed, signature)
    except (BadSignatureError, ValueError):
        return CertificateCheck(False, "the signature does not match the certificate")
    issued_at = _parse_timestamp(certificate.get("issued_at"))
    valid_until = _parse_timestamp(certificate.get("valid_until"))
    if issued_at is None or valid_until is None:
        return CertificateCheck(False, "the certificate has no valid issued_at/valid_until")
    now = now or timezone.now()
    if now < issued_at:
        return CertificateCheck(False, f"not valid before {certificate['issued_at']}")
    if now > valid_until:
        return CertificateCheck(False, f"expired on {certificate['valid_until']}")
    return CertificateCheck(
        True, f"signed by key {key_id}, valid until {certificate['valid_until']}"
    )


def certificate_verify(document: object) -> bool:
    return certificate_check(document).valid
