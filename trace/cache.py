"""What TRACE's cached reads depend on, and the writes that retire them
(fabrknt/readcache.py; README, "Read cache").

- `trace:certificates`: the public certificate reads (`/verify/<id>`, its `.json`,
  `GET /api/v1/certificates/<id>`). A certificate never changes once issued; its project's
  name (the download's file name) does: `project_update` calls `certificates_changed`
  after a rename (a queryset update), and a deleted certificate arrives through the
  receiver.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.utils.text import slugify

from fabrknt.readcache import cached, changed
from trace.models import GrowthCertificate
from trace.services.certificates import JsonObject, certificate_document

CERTIFICATES = "trace:certificates"


def certificates_changed() -> None:
    changed(CERTIFICATES)


@dataclass(frozen=True)
class PublicCertificate:
    """A certificate as anyone reads it by its id."""

    document: JsonObject
    canonical_json: str
    filename: str


def certificate_filename(certificate: GrowthCertificate) -> str:
    name = slugify(certificate.project.name) or "project"
    return f"certificate-{name}-{certificate.period_from}-{certificate.period_to}.json"


def _read(certificate_id: uuid.UUID | str) -> PublicCertificate | None:
    certificate = (
        GrowthCertificate.objects.select_related("project").filter(pk=certificate_id).first()
    )
    if certificate is None:
        return None
    return PublicCertificate(
        document=certificate_document(certificate),
        canonical_json=certificate.canonical_json,
        filename=certificate_filename(certificate),
    )


def public_certificate(certificate_id: uuid.UUID | str) -> PublicCertificate | None:
    """The certificate of that id, or None: the same for anyone, cached."""
    return cached(
        "trace:certificate",
        scopes=[CERTIFICATES],
        parts=(str(certificate_id),),
        build=lambda: _read(certificate_id),
    )


def _certificate_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    certificates_changed()


def connect() -> None:
    """Called by TraceConfig.ready()."""
    for event, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(
            _certificate_saved,
            sender=GrowthCertificate,
            dispatch_uid=f"readcache-certificate-{event}",
        )
