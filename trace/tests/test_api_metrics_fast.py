"""metric_days_data writes the metrics read's days without DRF's field machinery: it must
write exactly what MetricDaySerializer (the declared schema) writes, for every column."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from trace.api.metrics_serializers import MetricDaySerializer, metric_days_data
from trace.models import ActivityMetric
from trace.tests.callers import member_caller
from trace.tests.factories import ActivityMetricFactory, ProjectFactory

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def project(db):
    project = ProjectFactory(organization=OrganizationFactory())
    rows = [
        # The largest volume the column holds, a flagged day, a fraction, zeros.
        (0, Decimal("9" * 34 + ".99"), "above the daily cap", 99.25, 0.5, {"dau": 40.0}),
        (-1, Decimal("1250.10"), "", 61.5, 0.0, {}),
        (-2, Decimal("0.00"), "", 0.0, 1.0, {"nested": {"a": [1, 2]}, "x": None}),
    ]
    for offset, volume, reason, score, bots, components in rows:
        ActivityMetricFactory(
            project=project,
            date=TODAY + dt.timedelta(days=offset),
            dau=offset + 10,
            wau=20,
            mau=2**31 - 1,
            transaction_count=7,
            transaction_volume_usd=volume,
            unpriced_transfers=3,
            volume_flag_reason=reason,
            activity_score=score,
            bot_share=bots,
            score_components=components,
        )
    return project


def test_same_output_as_the_serializer(project):
    days = ActivityMetric.objects.filter(project=project).order_by("date")
    fast = metric_days_data(days)
    declared = MetricDaySerializer(days, many=True).data
    assert len(fast) == 3
    assert fast == [dict(row) for row in declared]
    # Same keys in the same order, and the same bytes once rendered.
    assert [list(row) for row in fast] == [list(row) for row in declared]
    assert JSONRenderer().render(fast) == JSONRenderer().render(declared)
    assert fast[2]["transaction_volume_usd"] == "9" * 34 + ".99"
    assert fast[2]["volume_flagged"] is True


def test_the_endpoint_answers_with_it(project):
    member = member_caller(project.organization, Role.VIEWER)
    body = member.get(f"/api/v1/metrics/{project.pk}").json()
    assert body["project_id"] == str(project.pk)
    days = ActivityMetric.objects.filter(project=project).order_by("date")
    assert body["results"] == json.loads(
        JSONRenderer().render(MetricDaySerializer(days, many=True).data)
    )
