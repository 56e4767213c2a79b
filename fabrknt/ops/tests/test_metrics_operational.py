"""`operational_metrics()`: windows of whole minutes, percentiles interpolated in their
bucket, the hour's series and the alarms, from known minute buckets in the real Redis."""

from __future__ import annotations

import pytest

from fabrknt.ops.alarms import ALARM, ALARMS, INSUFFICIENT_DATA, OK, alarm_state
from fabrknt.ops.metrics.families import LATENCY_BUCKETS
from fabrknt.ops.metrics.operational import latency_percentile, operational_metrics
from fabrknt.ops.metrics.store import (
    BACKLOG,
    CLICKS,
    ERRORS,
    REQUESTS,
    default_backend,
    latency_field,
)
from trace.services.clicks.stream import stream_keys

pytestmark = pytest.mark.redis

NOW = 1_800_000_030.0  # 30 s into minute 30,000,000
LAST = 29_999_999  # the last whole minute at NOW


def minute(requests_by_bucket: dict[int, int], **fields: int) -> dict[str, float]:
    counted = {latency_field(bucket): count for bucket, count in requests_by_bucket.items()}
    return {REQUESTS: sum(requests_by_bucket.values()), **counted, **fields}


@pytest.fixture
def recorded(shared_metrics):
    minutes = {
        LAST + 1: minute({0: 1000}, **{ERRORS: 1000}),  # in progress: never counted
        LAST: minute({0: 30, 3: 29, 8: 1}, **{ERRORS: 1, CLICKS: 120, BACKLOG: 40}),
        **{LAST - n: minute({2: 10}, **{BACKLOG: 10}) for n in range(1, 5)},
        **{LAST - n: minute({1: 6}) for n in range(5, 15)},
        LAST - 30: minute({5: 100}),
        LAST - 60: minute({5: 7}),  # an hour and a minute ago: out of the series
    }
    default_backend().apply({}, minutes)
    shared_metrics.xadd(stream_keys()[0], {"d": "[]"})  # one entry waiting now


def test_windows_are_the_last_whole_minutes(recorded):
    metrics = operational_metrics(now=NOW)

    one, five, fifteen = metrics.windows
    assert (one.minutes, one.requests, one.server_errors, one.clicks) == (1, 60, 1, 120)
    assert (one.request_rate, one.error_rate, one.click_ingest_rate) == (1.0, 0.016667, 2.0)
    assert (one.latency_p50_ms, one.latency_p99_ms) == (5.0, 350.0)
    assert (five.minutes, five.requests, five.server_errors, five.clicks) == (5, 100, 1, 120)
    assert (five.request_rate, five.error_rate, five.click_ingest_rate) == (0.3333, 0.01, 0.4)
    assert (five.latency_p50_ms, five.latency_p99_ms) == (17.5, 50.0)
    assert (fifteen.requests, fifteen.request_rate, fifteen.error_rate) == (160, 0.1778, 0.00625)
    assert (fifteen.latency_p50_ms, fifteen.latency_p99_ms) == (9.167, 49.483)
    assert metrics.complete_until.timestamp() == (LAST + 1) * 60
    assert metrics.click_backlog == 1


def test_the_series_is_the_last_hour_minute_by_minute(recorded):
    series = operational_metrics(now=NOW).series

    assert len(series) == 60
    assert series[0].minute.timestamp() == (LAST - 59) * 60
    assert (series[-1].requests, series[-1].server_errors, series[-1].click_backlog) == (60, 1, 40)
    assert (series[-1].latency_p50_ms, series[-1].latency_p99_ms) == (5.0, 350.0)
    assert (series[-2].requests, series[-2].click_backlog, series[-2].latency_p50_ms) == (
        10,
        10,
        17.5,
    )
    assert (series[-31].requests, series[-31].latency_p50_ms) == (100, 87.5)
    quiet = series[-20]  # nothing recorded: no figures rather than zeros
    assert (quiet.requests, quiet.latency_p50_ms, quiet.click_backlog) == (0, None, None)
    assert sum(point.requests for point in series) == 260


def test_alarms_are_judged_over_their_period(recorded):
    states = {state.name: state for state in operational_metrics(now=NOW).alarms}

    assert states["http_5xx_rate"].state == ALARM  # 1 in 100 over five minutes > 0.1 %
    assert states["http_5xx_rate"].value == 0.01
    assert states["http_latency_p99"].state == OK  # 50 ms <= 100 ms
    assert states["http_latency_p99"].value == 0.05


def test_no_requests_give_no_figures_and_insufficient_data(shared_metrics):
    metrics = operational_metrics(now=NOW)

    assert all(window.requests == 0 for window in metrics.windows)
    assert all(window.latency_p99_ms is None for window in metrics.windows)
    assert all(window.error_rate is None for window in metrics.windows)
    from_requests = {"http_5xx_rate", "http_latency_p99"}
    assert {s.state for s in metrics.alarms if s.name in from_requests} == {INSUFFICIENT_DATA}


def test_percentiles_interpolate_inside_their_bucket():
    counts = [0.0] * (len(LATENCY_BUCKETS) + 1)
    assert latency_percentile(counts, 0.5) is None
    counts[5] = 4  # four in (0.075, 0.1]
    assert latency_percentile(counts, 0.5) == pytest.approx(0.0875)
    assert latency_percentile(counts, 1.0) == pytest.approx(0.1)
    counts[-1] = 96  # past the last bound: the last bound is all that is known
    assert latency_percentile(counts, 0.99) == LATENCY_BUCKETS[-1]
    assert latency_percentile(counts, 0.01) == pytest.approx(0.08125)  # rank 1 of 4


def test_the_alarm_list_names_every_threshold_of_the_design():
    by_name = {alarm.name: alarm for alarm in ALARMS}
    assert set(by_name) == {
        "http_5xx_rate",
        "http_latency_p99",
        "queue_oldest_message_age",
        "dead_letters",
        "backup_age",
    }
    assert (by_name["http_5xx_rate"].threshold, by_name["http_latency_p99"].threshold) == (
        0.001,
        0.1,
    )
    assert by_name["backup_age"].threshold == 3600
    assert alarm_state(by_name["dead_letters"], 0).state == OK
    assert alarm_state(by_name["dead_letters"], 1).state == ALARM
