"""Weekly reports: a team's week (Monday 00:00 UTC to the next Monday), stored and mailed.

A report holds, for its week:

- **top contributors**: the week's most weighted contributors (type weight × the event's
  own weight, undecayed: it is one week), with their events;
- **score changes**: the team's scores at the last calculation before the week began and
  the last one before it ended (`ScoreSnapshot`), and the difference;
- **new contributors**: whose first contribution ever fell in the week;
- **lost contributors**: who went quiet — their last contribution is now
  `PULSE_RETENTION_PERIOD_DAYS` old, a threshold crossed during this week, so each person
  is reported lost once.

Building is idempotent (one report per team and week, rebuilt in place); mailing claims
the report (`sent_at`) with a conditional update before sending, so a retried task never
mails a week twice. Mail goes through `accounts.services.notifications.notification_send`:
only to members of the team's organization who verified an address and keep the weekly
report switched on, with the unsubscribe link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Min, Q, QuerySet, Sum, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, NotificationKind
from accounts.services.notifications import notification_send
from pulse.models import (
    Contribution,
    Contributor,
    Platform,
    ScoreSnapshot,
    Team,
    Verification,
    WeeklyReport,
)
from pulse.services.scores import contribution_weights
from pulse.services.vitality import SCORE_LABELS

TOP_CONTRIBUTORS = 5
SCORES = {
    "vitality": "vitality_score",
    "developer_activity": "developer_activity_score",
    "team_retention": "team_retention_score",
    "community": "community_score",
}


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of the week `day` is in."""
    return day - dt.timedelta(days=day.weekday())


def last_full_week(now: dt.datetime | None = None) -> dt.date:
    """The Monday of the last week that is over."""
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    return week_start_of(today) - dt.timedelta(days=7)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _name(contributor: Contributor) -> str:
    return contributor.github_login or contributor.wallet_address


def _points() -> Any:
    """The ORM expression of a contribution's undecayed points (type weight × its weight)."""
    weights = contribution_weights()
    type_weight = Case(
        *(When(contribution_type=kind, then=Value(Decimal(str(w)))) for kind, w in weights.items()),
        default=Value(Decimal("1")),
        output_field=DecimalField(max_digits=12, decimal_places=4),
    )
    # As in the scores: a GitHub event's stored weight is superseded by its type's.
    event_weight = Case(
        When(platform=Platform.GITHUB, then=Value(Decimal("1"))),
        default=F("weight"),
        output_field=DecimalField(max_digits=12, decimal_places=4),
    )
    return type_weight * event_weight


def _top_contributors(team: Team, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    top = (
        Contribution.objects.filter(
            team=team, contributor__isnull=False, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("contributor_id")
        .annotate(
            points=Sum(_points(), output_field=DecimalField(max_digits=16, decimal_places=4)),
            events=Count("id"),
            verified_events=Count("id", filter=Q(verification=Verification.VERIFIED)),
        )
        .order_by("-points", "contributor_id")[:TOP_CONTRIBUTORS]
    )
    rows = list(top)
    people = Contributor.objects.in_bulk([row["contributor_id"] for row in rows])
    return [
        {
            "contributor_id": str(row["contributor_id"]),
            "name": _name(people[row["contributor_id"]]),
            "wallet_address": people[row["contributor_id"]].wallet_address,
            "points": round(float(row["points"] or 0), 2),
            "events": row["events"],
            "verified_events": row["verified_events"],
        }
        for row in rows
    ]


def _people(queryset: QuerySet[Contributor], moment: str) -> list[dict[str, Any]]:
    return [
        {
            "contributor_id": str(person.pk),
            "name": _name(person),
            "wallet_address": person.wallet_address,
            moment: getattr(person, moment).isoformat(),
        }
        for person in queryset.order_by(moment, "wallet_address")
    ]


def _score_at(team: Team, moment: dt.datetime) -> ScoreSnapshot | None:
    return (
        ScoreSnapshot.objects.filter(team=team, contributor=None, calculated_at__lt=moment)
        .order_by("-calculated_at", "-id")
        .first()
    )


def _score_changes(team: Team, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    before, after = _score_at(team, start), _score_at(team, end)
    changes: dict[str, Any] = {}
    for name, field in SCORES.items():
        old = None if before is None else getattr(before, field)
        new = None if after is None else getattr(after, field)
        changes[name] = {
            "start": None if old is None else float(old),
            "end": None if new is None else float(new),
            "change": None if old is None or new is None else round(float(new - old), 2),
        }
    return changes


def weekly_report_body(*, team: Team, week_start: dt.date) -> dict[str, Any]:
    """What the report of that week says (computed, not stored)."""
    start = _midnight(week_start)
    end = start + dt.timedelta(days=7)
    quiet = dt.timedelta(days=settings.PULSE_RETENTION_PERIOD_DAYS)
    contributors = Contributor.objects.filter(team=team)
    first_seen = contributors.annotate(first_at=Min("contributions__occurred_at"))
    last_seen = contributors.annotate(
        last_at=Max("contributions__occurred_at", filter=Q(contributions__occurred_at__lt=end))
    )
    week = Contribution.objects.filter(team=team, occurred_at__gte=start, occurred_at__lt=end)
    totals = week.aggregate(
        events=Count("id"), verified_events=Count("id", filter=Q(verification="verified"))
    )
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + dt.timedelta(days=6)).isoformat(),
        "events": totals["events"],
        "verified_events": totals["verified_events"],
        "top_contributors": _top_contributors(team, start, end),
        "scores": _score_changes(team, start, end),
        "new_contributors": _people(
            first_seen.filter(first_at__gte=start, first_at__lt=end), "first_at"
        ),
        "lost_contributors": _people(
            last_seen.filter(last_at__gte=start - quiet, last_at__lt=end - quiet), "last_at"
        ),
        "quiet_days": settings.PULSE_RETENTION_PERIOD_DAYS,
    }


def weekly_report_build(*, team: Team, week_start: dt.date) -> WeeklyReport:
    """The team's report of the week starting that Monday, built (or rebuilt) and stored."""
    if week_start.weekday() != 0:
        raise ValueError("a report's week starts on a Monday")
    body = weekly_report_body(team=team, week_start=week_start)
    with transaction.atomic():
        report, created = WeeklyReport.objects.get_or_create(
            team=team, week_start=week_start, defaults={"body": body}
        )
        if not created and report.body != body:
            report.body = body
            report.save(update_fields=["body"])
    return report


@dataclass(frozen=True)
class Mailing:
    report: WeeklyReport
    sent: int  # mails sent; 0 when the report had been mailed already


def _report_url(report: WeeklyReport) -> str:
    path = reverse(
        "pulse_dashboard:report", args=[report.team.pulse_id, report.week_start.isoformat()]
    )
    return f"{settings.PUBLIC_BASE_URL}{path}"


def weekly_report_mail(*, report: WeeklyReport) -> Mailing:
    """Mail the report to the organization's members who want it (once per report)."""
    claimed = WeeklyReport.objects.filter(pk=report.pk, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return Mailing(report=report, sent=0)
    team = report.team
    scores = [
        {"label": SCORE_LABELS[name], **change}
        for name, change in report.body.get("scores", {}).items()
        if name in SCORE_LABELS
    ]
    body = render_to_string(
        "pulse/dashboard/email/weekly_report.txt",
        {
            "team": team,
            "report": report,
            "body": report.body,
            "scores": scores,
            "url": _report_url(report),
        },
    )
    subject = f"{team.team_name}: your week of {report.week_start:%b %-d}"
    members = Membership.objects.filter(
        organization_id=team.organization_id, organization__deleted_at__isnull=True
    ).select_related("user")
    sent = sum(
        notification_send(
            user=membership.user, kind=NotificationKind.WEEKLY_REPORT, subject=subject, body=body
        )
        for membership in members.order_by("created_at", "id")
    )
    return Mailing(report=report, sent=sent)


def weekly_reports_run(*, week_start: dt.date | None = None) -> dict[str, int]:
    """Beat, weekly: every team's report of the last full week, built and mailed."""
    week_start = week_start or last_full_week()
    built = mailed = 0
    for team in Team.objects.select_related("organization").filter(
        organization__deleted_at__isnull=True
    ):
        report = weekly_report_build(team=team, week_start=week_start)
        built += 1
        mailed += weekly_report_mail(report=report).sent
    return {"reports": built, "mails": mailed}
