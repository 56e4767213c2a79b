from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from trace.models import ActivityMetric, FlagStatus, InteractionSource, WalletFlag
from trace.services.metrics import metrics_aggregate, metrics_backfill, metrics_rollup
from trace.services.scoring import ScoreInputs, activity_score_calculate
from trace.tests.factories import ContractInteractionFactory, ProjectFactory

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 31)
W1, W2, W3, W4, W5, W6, W7, W9 = (f"0x{n:040x}" for n in (1, 2, 3, 4, 5, 6, 7, 9))


def at(day_offset: int, time: str = "12:00:00") -> dt.datetime:
    day = D + dt.timedelta(days=day_offset)
    return dt.datetime.fromisoformat(f"{day.isoformat()}T{time}+00:00")


def interact(project, wallet, when, value="0.00", tx=None, log_index=-1, **fields):
    kwargs = {"transaction_hash": tx} if tx else {}
    return ContractInteractionFactory(
        project=project,
        wallet_address=wallet,
        occurred_at=when,
        value_usd=Decimal(value),
        log_index=log_index,
        **kwargs,
        **fields,
    )


@pytest.fixture
def project():
    """A hand-made month: window edges, a confirmed bot, a suspected one, a cleared one."""
    project = ProjectFactory()
    interact(project, W1, at(-40))
    interact(project, W1, at(-29, "00:00:00"))  # first second of MAU(D)'s window
    interact(project, W1, at(0, "10:00:00"), "10.00")
    interact(project, W2, at(-30, "23:59:59.999999"))  # last instant before MAU(D)'s window
    interact(project, W2, at(-7, "09:00:00"))  # just outside WAU(D)
    interact(project, W3, at(-6, "08:00:00"), "100.50")  # first day of WAU(D)
    interact(project, W3, at(-6, "09:00:00"), "0.25", tx="0xbeef")
    interact(project, W3, at(-6, "09:00:00"), "1.00", tx="0xbeef", log_index=2)  # same tx
    interact(project, W4, at(0, "11:00:00"), "999.00")  # confirmed bot: left out
    interact(project, W5, at(0), "5.00")  # suspected: counted, and makes bot_share
    interact(project, W6, at(0, "23:59:59.999999"), "2.00")  # cleared flag: a normal user
    interact(project, W7, at(1, "00:00:00"), "7.00")  # the next day
    interact(project, W9, at(-10))
    interact(project, W9, at(-2))  # retained from the previous week
    interact(ProjectFactory(), W1, at(0), "50.00")  # another project
    WalletFlag.objects.create(
        project=project, wallet_address=W4, reason="lockstep", score=0.9, status="confirmed"
    )
    WalletFlag.objects.create(project=project, wallet_address=W5, reason="lockstep", score=0.7)
    WalletFlag.objects.create(
        project=project, wallet_address=W5, reason="fresh_wallet", score=0.3, status="cleared"
    )
    WalletFlag.objects.create(
        project=project, wallet_address=W6, reason="common_funder", score=0.5, status="cleared"
    )
    # Confirmed elsewhere does not count here.
    WalletFlag.objects.create(
        project=ProjectFactory(), wallet_address=W1, reason="lockstep", score=1, status="confirmed"
    )
    return project


def day_values(project) -> dict:
    return {
        (m.date - D).days: (m.dau, m.wau, m.mau, m.transaction_count, m.transaction_volume_usd)
        for m in ActivityMetric.objects.filter(project=project)
    }


EXPECTED = {
    -7: (1, 2, 3, 1, Decimal("0.00")),
    -6: (1, 3, 4, 2, Decimal("101.75")),
    -5: (0, 3, 4, 0, Decimal("0.00")),
    -4: (0, 3, 4, 0, Decimal("0.00")),
    -3: (0, 2, 4, 0, Decimal("0.00")),  # W9 (D−10) has left the week
    -2: (1, 3, 4, 1, Decimal("0.00")),
    -1: (0, 3, 4, 0, Decimal("0.00")),
    0: (3, 5, 6, 3, Decimal("17.00")),
}


def assert_expected_rollup(project) -> None:
    written = metrics_aggregate(
        project_id=project.id, date_from=D - dt.timedelta(days=7), date_to=D
    )

    assert written == 8
    assert day_values(project) == EXPECTED
    last = ActivityMetric.objects.get(project=project, date=D)
    assert last.bot_share == 0.3333
    # stickiness 3/6 → 1, growth (6−2)/2 → 1, retention 1/2 → 0.5; × (1 − 1/3)
    assert last.activity_score == 56.67
    components = last.score_components
    assert components["stickiness"] == 0.5
    assert components["mau_30_days_ago"] == 2
    assert components["growth"] == 2.0
    assert components["wau_7_days_ago"] == 2
    assert components["retained_wallets"] == 1
    assert components["retention"] == 0.5
    assert components["bot_penalty"] == 28.33
    day_before = ActivityMetric.objects.get(project=project, date=D - dt.timedelta(days=1))
    assert (day_before.activity_score, day_before.bot_share) == (60.0, 0.0)
    assert day_before.score_components["retention"] == 1.0


def test_rollup_exact_values(project):
    assert_expected_rollup(project)


@pytest.mark.postgres
def test_rollup_exact_values_on_postgres(project):
    assert connection.vendor == "postgresql"
    assert_expected_rollup(project)


def test_rerun_is_idempotent_and_picks_up_changes(project):
    metrics_aggregate(project_id=project.id, date_from=D - dt.timedelta(days=7), date_to=D)
    metrics_aggregate(project_id=project.id, date_from=D - dt.timedelta(days=7), date_to=D)
    assert ActivityMetric.objects.filter(project=project).count() == 8
    assert day_values(project) == EXPECTED

    # An operator confirms W5: the re-run drops it and the bot share with it.
    WalletFlag.objects.filter(wallet_address=W5, status=FlagStatus.SUSPECTED).update(
        status=FlagStatus.CONFIRMED
    )
    metrics_aggregate(project_id=project.id, date_from=D, date_to=D)
    last = ActivityMetric.objects.get(project=project, date=D)
    assert (last.dau, last.wau, last.mau, last.transaction_volume_usd) == (
        2,
        4,
        5,
        Decimal("12.00"),
    )
    assert last.bot_share == 0.0
    assert ActivityMetric.objects.filter(project=project).count() == 8


def test_days_without_any_activity_are_written_as_zero():
    project = ProjectFactory()
    assert metrics_aggregate(project_id=project.id, date_from=D, date_to=D) == 1
    metric = ActivityMetric.objects.get(project=project)
    assert (metric.dau, metric.mau, metric.activity_score) == (0, 0, 0.0)


def test_reversed_range_is_refused_and_writes_nothing(project):
    with pytest.raises(ValueError):
        metrics_aggregate(project_id=project.id, date_from=D, date_to=D - dt.timedelta(days=1))
    assert ActivityMetric.objects.count() == 0


def test_backfill_chunks_and_reports_progress(project, settings):
    steps = []
    result = metrics_backfill(
        project_id=project.id,
        date_from=D - dt.timedelta(days=199),
        date_to=D,
        on_start=lambda total: steps.append(("start", total)),
        on_step=lambda: steps.append("step"),
    )
    assert (result.written, result.failed) == (200, {})
    assert steps == [("start", 2), "step", "step"]
    assert day_values(project)[0] == EXPECTED[0]
    assert ActivityMetric.objects.filter(project=project).count() == 200


def test_score_components_formula():
    score = activity_score_calculate(
        inputs=ScoreInputs(
            dau=10,
            wau=40,
            mau=100,
            mau_30_days_ago=80,
            wau_7_days_ago=50,
            retained=20,
            bot_share=0.1,
        )
    )
    # stickiness 0.1 → 0.2; growth 0.25 → 0.625; retention 0.4
    assert score.components["stickiness_points"] == 0.2
    assert score.components["growth_points"] == 0.625
    assert score.components["retention_points"] == 0.4
    assert score.value == round((40 * 0.2 + 30 * 0.625 + 30 * 0.4) * 0.9, 2) == 34.88


def test_score_is_zero_without_monthly_users_and_growth_from_nothing_is_full():
    empty = activity_score_calculate(
        inputs=ScoreInputs(
            dau=0, wau=0, mau=0, mau_30_days_ago=5, wau_7_days_ago=0, retained=0, bot_share=0
        )
    )
    assert empty.value == 0.0
    assert empty.components["growth_points"] == 0.0
    new = activity_score_calculate(
        inputs=ScoreInputs(
            dau=1, wau=1, mau=2, mau_30_days_ago=0, wau_7_days_ago=0, retained=0, bot_share=0
        )
    )
    assert new.components["growth"] is None
    assert new.value == 40 * 1 + 30 * 1  # stickiness 0.5 earns full marks


@pytest.mark.parametrize("vendor", ["any", "postgresql"])
def test_a_transfer_both_chain_sources_stored_counts_once(vendor):
    if vendor == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    project = ProjectFactory()
    # One contract call carrying 0.5 ETH ($1,500): Alchemy's external transfer (no log) and
    # the indexer's row for its Swap log; plus a second log of the same tx (no value) and a
    # token transfer Alchemy alone saw, in another transaction.
    alchemy = interact(project, W1, at(0), "1500.00", tx="0xab", log_index=-1)
    alchemy.source = InteractionSource.ALCHEMY
    alchemy.save(update_fields=["source"])
    interact(project, W1, at(0), "1500.00", tx="0xab", log_index=3)
    interact(project, W1, at(0), "0.00", tx="0xab", log_index=4)
    interact(project, W2, at(0), "20.00", tx="0xcd", log_index=1)

    metrics_aggregate(project_id=project.id, date_from=D, date_to=D)

    day = ActivityMetric.objects.get(project=project, date=D)
    assert (day.transaction_count, day.transaction_volume_usd) == (2, Decimal("1520.00"))


def test_unpriced_transfers_are_counted_per_day_once_per_transaction_and_source():
    project = ProjectFactory()
    # Two unpriced logs of one transaction from the indexer, one of them from Alchemy too:
    # the sources are not added up, as for volume.
    for log_index, source in ((1, "indexer"), (2, "indexer"), (7, "alchemy")):
        interact(project, W1, at(0), tx="0xa1", log_index=log_index, source=source,
                 unpriced_reason="unknown_asset")  # fmt: skip
    interact(project, W2, at(0), "5.00", tx="0xa2", unpriced_reason="")
    interact(project, W2, at(0), tx="0xa3", unpriced_reason="not_fungible")
    interact(project, W3, at(-1), tx="0xa4", unpriced_reason="over_cap")

    metrics_aggregate(project_id=project.id, date_from=D - dt.timedelta(days=1), date_to=D)

    assert list(
        ActivityMetric.objects.filter(project=project).values_list(
            "date", "transaction_count", "transaction_volume_usd", "unpriced_transfers"
        )
    ) == [(D - dt.timedelta(days=1), 1, Decimal("0.00"), 1), (D, 3, Decimal("5.00"), 3)]


def test_a_day_above_the_volume_cap_is_stored_flagged_not_cut(project, settings):
    settings.METRICS_DAILY_VOLUME_CAP_USD = 100

    metrics_aggregate(project_id=project.id, date_from=D - dt.timedelta(days=7), date_to=D)

    assert day_values(project) == EXPECTED
    assert list(
        ActivityMetric.objects.filter(project=project)
        .exclude(volume_flag_reason="")
        .values_list("date", "transaction_volume_usd", "volume_flag_reason")
    ) == [
        (
            D - dt.timedelta(days=6),
            Decimal("101.75"),
            "volume above the daily cap of 100 USD (METRICS_DAILY_VOLUME_CAP_USD)",
        )
    ]


@pytest.mark.postgres
def test_money_sums_are_exact_numeric_beyond_64_bit_cents():
    """Regression (issue 7): CAST(... AS BIGINT) cents overflowed past 92 quadrillion."""
    project = ProjectFactory()
    for cents, wallet in (("01", W1), ("02", W2), ("03", W3)):
        interact(project, wallet, at(0), f"{10**21 - 1}.{cents}")

    metrics_aggregate(project_id=project.id, date_from=D, date_to=D)

    metric = ActivityMetric.objects.get(project=project)
    assert (metric.transaction_count, metric.transaction_volume_usd) == (
        3,
        Decimal("2999999999999999999997.06"),
    )
    assert metric.volume_flagged


# --- restricted to some contracts (the verified metrics of certificates) ---------------


def test_the_rollup_restricted_to_contracts_reads_only_their_interactions():
    verified, other = "0x" + "aB" * 20, "0x" + "cd" * 20
    project = ProjectFactory(contract_addresses=[verified, other])
    # Stored spellings vary in case: compared as addresses, not as strings.
    interact(project, W1, at(0), "10.00", contract_address=verified.lower())
    interact(project, W2, at(0), "20.00", contract_address=verified.upper().replace("0X", "0x"))
    interact(project, W3, at(0), "40.00", contract_address=other)
    interact(project, W4, at(-1), "80.00", contract_address=other)

    def figures(**restriction) -> list[tuple]:
        days = metrics_rollup(project_id=project.id, date_from=D - dt.timedelta(days=1),
                              date_to=D, **restriction)  # fmt: skip
        return [(m.date, m.dau, m.wau, m.mau, m.transaction_count, m.transaction_volume_usd)
                for m in days]  # fmt: skip

    assert figures(contract_addresses=[verified]) == [
        (D - dt.timedelta(days=1), 0, 0, 0, 0, Decimal("0.00")),
        (D, 2, 2, 2, 2, Decimal("30.00")),
    ]
    assert figures() == [
        (D - dt.timedelta(days=1), 1, 1, 1, 1, Decimal("80.00")),
        (D, 3, 4, 4, 3, Decimal("70.00")),
    ]
    assert figures(contract_addresses=[]) == [
        (D - dt.timedelta(days=1), 0, 0, 0, 0, Decimal("0.00")),
        (D, 0, 0, 0, 0, Decimal("0.00")),
    ]
    assert ActivityMetric.objects.count() == 0  # computed, never stored
