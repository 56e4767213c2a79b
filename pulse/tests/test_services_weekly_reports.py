"""Weekly reports: what a week says, stored once per team and week, mailed once to the
members who verified an address and want it (locmem mail backend)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import NotificationSettings, Role
from accounts.tests.factories import MembershipFactory, UserFactory
from pulse.models import Contribution, ContributionType, Platform, Verification, WeeklyReport
from pulse.services.scores import scores_calculate
from pulse.services.weekly_reports import (
    last_full_week,
    weekly_report_build,
    weekly_report_mail,
    weekly_reports_run,
)
from pulse.tasks import weekly_reports
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WEEK = dt.date(2026, 6, 1)  # a Monday
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://suite.example"


def _contribute(person, moment, kind=ContributionType.COMMIT, count=1):
    for n in range(count):
        Contribution.objects.create(
            team=person.team,
            contributor=person,
            platform=Platform.GITHUB,
            source_id=f"{person.pk}:{moment.isoformat()}:{kind}:{n}",
            contribution_type=kind,
            weight=Decimal("1.00"),
            occurred_at=moment,
            verification=Verification.VERIFIED,
        )


def _team_with_a_week():
    team = TeamFactory()
    newcomer = ContributorFactory(team=team, github_login="newcomer")
    regular = ContributorFactory(team=team, github_login="regular")
    quiet = ContributorFactory(team=team, github_login="quiet")
    gone_earlier = ContributorFactory(team=team, github_login="gone-earlier")
    _contribute(regular, START - dt.timedelta(days=10))
    _contribute(quiet, START - dt.timedelta(days=27))  # 30 days old on Jun 4: lost this week
    _contribute(gone_earlier, START - dt.timedelta(days=40))  # lost a week before
    scores_calculate(as_of=START - dt.timedelta(hours=1))
    _contribute(newcomer, START + dt.timedelta(days=2), ContributionType.PULL_REQUEST_MERGED)
    _contribute(regular, START + dt.timedelta(days=3), count=3)
    scores_calculate(as_of=START + dt.timedelta(days=6))
    return team


def test_a_report_names_top_new_and_lost_contributors_and_score_changes():
    team = _team_with_a_week()
    report = weekly_report_build(team=team, week_start=WEEK)
    body = report.body
    assert body["week_start"] == "2026-06-01"
    assert body["week_end"] == "2026-06-07"
    assert body["events"] == 4
    assert [(p["name"], p["points"], p["events"]) for p in body["top_contributors"]] == [
        ("newcomer", 5.0, 1),
        ("regular", 3.0, 3),
    ]
    assert [p["name"] for p in body["new_contributors"]] == ["newcomer"]
    assert [p["name"] for p in body["lost_contributors"]] == ["quiet"]
    vitality = body["scores"]["vitality"]
    assert vitality["start"] is not None and vitality["end"] is not None
    assert vitality["change"] == round(vitality["end"] - vitality["start"], 2)
    assert body["scores"]["developer_activity"]["change"] > 0


def test_building_twice_keeps_one_report_per_team_and_week():
    team = _team_with_a_week()
    first = weekly_report_build(team=team, week_start=WEEK)
    second = weekly_report_build(team=team, week_start=WEEK)
    assert first.pk == second.pk
    assert WeeklyReport.objects.filter(team=team).count() == 1
    with pytest.raises(ValueError):
        weekly_report_build(team=team, week_start=WEEK + dt.timedelta(days=1))


def _member(team, *, email="", verified=True, wants=True, role=Role.MEMBER):
    user = UserFactory()
    MembershipFactory(organization=team.organization, user=user, role=role)
    if email:
        NotificationSettings.objects.create(
            user=user,
            email=email,
            email_verified_at=timezone.now() if verified else None,
            weekly_report=wants,
        )
    return user


def test_the_report_is_mailed_once_to_verified_members_who_opted_in():
    team = _team_with_a_week()
    _member(team, email="owner@example.com", role=Role.OWNER)
    _member(team, email="viewer@example.com", role=Role.VIEWER)
    _member(team, email="unverified@example.com", verified=False)
    _member(team, email="opted-out@example.com", wants=False)
    _member(team)  # no address at all
    report = weekly_report_build(team=team, week_start=WEEK)

    mailing = weekly_report_mail(report=report)

    assert mailing.sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@example.com", "viewer@example.com"]
    message = mail.outbox[0]
    assert message.subject == f"Fabrknt Suite: {team.team_name}: your week of Jun 1"
    assert "newcomer: 5.0 points, 1 contribution" in message.body
    assert "- Developer activity: " in message.body
    assert "Gone quiet (30 days without a contribution): quiet" in message.body
    assert f"https://suite.example/pulse/teams/{team.pulse_id}/reports/2026-06-01/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    report.refresh_from_db()
    assert report.sent_at is not None

    again = weekly_report_mail(report=report)
    assert again.sent == 0
    assert len(mail.outbox) == 2


def test_the_weekly_task_reports_every_team_for_the_last_full_week():
    team = _team_with_a_week()
    idle = TeamFactory()
    _member(team, email="owner@example.com")
    result = weekly_reports(week_start="2026-06-01")
    assert result == {"reports": 2, "mails": 1}
    assert WeeklyReport.objects.get(team=idle).body["events"] == 0
    assert weekly_reports_run(week_start=WEEK) == {"reports": 2, "mails": 0}
    assert last_full_week(dt.datetime(2026, 6, 10, tzinfo=dt.UTC)) == WEEK
