"""An organization's data as one JSON document, produced piece by piece for streaming.

Accounts writes the organization, its members and its keys' metadata (never a secret);
each product adds its own sections through `ORGANIZATION_EXPORT_SECTIONS` (name → dotted
path of a function of the organization id yielding JSON-ready dicts), so accounts never
reads another product's tables.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import ApiKey, Membership, Organization

EXPORT_FORMAT = "fabrknt-organization-export/1"
_CHUNK = 500

Rows = Callable[[uuid.UUID], Iterable[dict[str, Any]]]


def export_rows(
    queryset: QuerySet[Model], *fields: str, **renamed: str
) -> Iterator[dict[str, Any]]:
    """A section's rows: `fields` (and `renamed`, as name=field) of each object, oldest
    first, read in chunks so that the export streams."""
    rows = queryset.order_by("created_at", "id").values(*fields, *renamed.values())
    for row in rows.iterator(chunk_size=_CHUNK):
        for name, field in renamed.items():
            row[name] = row.pop(field)
        yield row


def _dump(value: object) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def organization_members_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    memberships = (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .prefetch_related("user__wallets")
        .order_by("created_at", "id")
    )
    for membership in memberships.iterator(chunk_size=_CHUNK):
        yield {
            "user_id": membership.user_id,
            "role": membership.role,
            "joined_at": membership.created_at,
            "wallets": [
                {"chain": wallet.chain, "address": wallet.address, "kind": wallet.kind}
                for wallet in membership.user.wallets.all()
            ],
        }


def organization_api_keys_export(organization_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    return export_rows(
        ApiKey.objects.filter(organization_id=organization_id),
        *("id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"),
        created_by="created_by_id",
    )


def _sections() -> dict[str, Rows]:
    sections: dict[str, Rows] = {
        "members": organization_members_export,
        "api_keys": organization_api_keys_export,
    }
    for name, path in settings.ORGANIZATION_EXPORT_SECTIONS.items():
        sections[name] = import_string(path)
    return sections


def organization_export_chunks(*, organization: Organization) -> Iterator[str]:
    """The export's JSON text in pieces: one row at a time, so memory stays flat."""
    head = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "organization": {
            "id": organization.pk,
            "name": organization.name,
            "slug": organization.slug,
            "created_at": organization.created_at,
            "daily_request_quota": organization.daily_request_quota,
        },
    }
    yield _dump(head)[:-1]  # the object stays open for the sections
    for name, rows in _sections().items():
        yield f", {_dump(name)}: ["
        for index, row in enumerate(rows(organization.pk)):
            yield ("" if index == 0 else ", ") + _dump(row)
        yield "]"
    yield "}\n"
