"""Clicks into the database: one statement per batch, skipping click ids already stored.

A click id is unique per organization. The stored form of a click names its campaign
only; the insert takes the organization from the campaign's row in the same statement,
so the hot path carries nothing more and a click can never land in another tenant. The
same statement (on PostgreSQL; the same transaction on SQLite) adds the clicks it
inserted to their campaigns' daily rollups (trace.services.rollups).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from trace.cache import campaigns_figures_changed
from trace.models import Campaign, Click
from trace.services.clicks.records import ClickRecord
from trace.services.rollups import (
    InsertedClick,
    campaign_days_clicks_add,
    clicks_insert_with_rollup_sql,
)

_COLUMNS = (
    "click_id",
    "campaign_id",
    "occurred_at",
    "ip_address",
    "visitor_hash",
    "user_agent",
    "referrer",
    "utm_params",
    "is_bot",
    "bot_reason",
    "during_pause",
)
_STAGING = "trace_click_staging"
# Up to this many clicks are inserted from their values; more go through COPY.
VALUES_INSERT_MAX = 20


def _row(record: ClickRecord) -> tuple[Any, ...]:
    return (
        record["c"],
        record["k"],
        datetime.fromtimestamp(record["t"], tz=UTC),
        record["i"],
        record["v"],
        record["u"],
        record["r"],
        record["m"],  # a dict; the PostgreSQL path sends it as JSON text
        bool(record["b"]),
        record["b"][:64],
        bool(record.get("p")),
    )


def clicks_insert(records: Sequence[ClickRecord]) -> int:
    """Insert records in one statement, skipping click ids their organization already
    stored (and clicks of campaigns that no longer exist); rows inserted. Their campaigns'
    cached figures are retired (trace/cache.py)."""
    if not records:
        return 0
    rows = [_row(record) for record in records]
    with transaction.atomic():
        if connection.vendor != "postgresql":
            inserted = _insert_portable(rows)
        elif len(rows) <= VALUES_INSERT_MAX:
            inserted = _insert_postgresql_values(rows)
        else:
            inserted = _insert_postgresql(rows)
        if inserted:
            campaigns_figures_changed({record["k"] for record in records})
    return inserted


def _insert_postgresql_values(rows: list[tuple[Any, ...]]) -> int:
    # A few clicks (the database fallback of single clicks and tracking-link visits): one
    # INSERT of the values themselves; a staging table would cost three more statements.
    table = connection.ops.quote_name(Click._meta.db_table)
    campaigns = connection.ops.quote_name(Campaign._meta.db_table)
    columns = ", ".join(_COLUMNS)
    staged = ", ".join(f"v.{column}" for column in _COLUMNS)
    row_sql = (
        "(%s, %s::uuid, %s::timestamptz, %s, %s, %s, %s, %s::jsonb, %s::boolean, %s, %s::boolean)"
    )
    params = [value for row in rows for value in (*row[:7], json.dumps(row[7]), *row[8:])]
    with connection.cursor() as cursor:
        # Only constants and quoted table names are interpolated; values are parameters.
        cursor.execute(
            clicks_insert_with_rollup_sql(
                f"INSERT INTO {table} ({columns}, organization_id) "  # noqa: S608
                f"SELECT {staged}, c.organization_id "
                f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v ({columns}) "
                f"JOIN {campaigns} c ON c.id = v.campaign_id "
                "ON CONFLICT (organization_id, click_id) DO NOTHING"
            ),
            params,
        )
        inserted: int = cursor.fetchone()[0]
        return inserted


def _insert_postgresql(rows: list[tuple[Any, ...]]) -> int:
    # COPY into a session-local staging table (psycopg formats rows in C), then one
    # INSERT ... SELECT ... ON CONFLICT (organization_id, click_id) DO NOTHING for the
    # whole batch, joined to the campaigns for their organization.
    table = connection.ops.quote_name(Click._meta.db_table)
    campaigns = connection.ops.quote_name(Campaign._meta.db_table)
    columns = ", ".join(_COLUMNS)
    staged = ", ".join(f"s.{column}" for column in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (click_id varchar(64), "
            "campaign_id uuid, occurred_at timestamptz, ip_address varchar(45), "
            "visitor_hash varchar(64), user_agent varchar(512), referrer varchar(2048), "
            "utm_params jsonb, is_bot boolean, bot_reason varchar(64), during_pause boolean)"
        )
        cursor.execute(f"TRUNCATE {_STAGING}")
        with cursor.copy(f"COPY {_STAGING} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:7], json.dumps(row[7]), *row[8:]))
        # Only constants and quoted table names are interpolated; values came by COPY.
        cursor.execute(
            clicks_insert_with_rollup_sql(
                f"INSERT INTO {table} ({columns}, organization_id) "  # noqa: S608
                f"SELECT {staged}, c.organization_id FROM {_STAGING} s "
                f"JOIN {campaigns} c ON c.id = s.campaign_id "
                "ON CONFLICT (organization_id, click_id) DO NOTHING"
            )
        )
        inserted: int = cursor.fetchone()[0]
        return inserted


def _insert_portable(rows: list[tuple[Any, ...]]) -> int:
    organizations = dict(
        Campaign.objects.filter(pk__in={row[1] for row in rows}).values_list(
            "pk", "organization_id"
        )
    )
    clicks = []
    for row in rows:
        organization_id = organizations.get(uuid.UUID(row[1]))
        if organization_id is not None:  # else its campaign is gone
            clicks.append(
                Click(organization_id=organization_id, **dict(zip(_COLUMNS, row, strict=True)))
            )
    stored = set(
        Click.objects.filter(click_id__in=[click.click_id for click in clicks]).values_list(
            "organization_id", "click_id"
        )
    )
    fresh: dict[tuple[uuid.UUID, str], Click] = {}
    for click in clicks:
        key = (click.organization_id, click.click_id)
        if key not in stored:
            fresh.setdefault(key, click)
    # The click ids were checked above, in this transaction: SQLite has one writer.
    Click.objects.bulk_create(fresh.values())
    campaign_days_clicks_add(
        [
            InsertedClick(
                click.campaign_id,
                click.occurred_at,
                click.is_bot,
                click.visitor_hash,
                click.referrer,
                click.utm_params or {},
                click.bot_reason,
                bool(click.during_pause),
            )
            for click in fresh.values()
        ]
    )
    return len(fresh)
