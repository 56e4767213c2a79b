"""Campaign rollups (trace.services.rollups): what the writes keep equals a recount from
the raw rows, after any sequence of flushes, conversions, wallet proofs, bot marking and
retention (on PostgreSQL and SQLite alike), and under concurrent flushes (PostgreSQL);
reads cost the same whatever the traffic."""

from __future__ import annotations

import datetime as dt
import random
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from trace.models import (
    NO_PREVIOUS_DATE,
    AttributionModel,
    Campaign,
    CampaignDay,
    CampaignDayBreakdown,
    CampaignDayContract,
    CampaignDayVisitor,
    CampaignDayWallet,
    CampaignDayWalletGap,
    CampaignWallet,
    Click,
    Conversion,
    ConversionSource,
    LinkProof,
    WalletLink,
)
from trace.selectors import (
    campaign_converted_wallet_count,
    campaign_converted_wallets,
    campaign_realtime_clicks,
    campaign_stats,
    project_proven_conversion_share,
    proven_share,
)
from trace.services import bots
from trace.services.attribution import Credit, attribution_apply_interactions, conversion_record
from trace.services.clicks.database import clicks_insert
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.records import click_record
from trace.services.clicks.retention import clicks_purge_expired
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import ClickInput
from trace.services.conversions import conversion_create
from trace.services.identify import identify_message, wallet_identify
from trace.services.rollups import rollups_rebuild
from trace.services.wallet_proof import ClickWalletLimit
from trace.tests.callers import member_caller
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ProjectFactory,
)

AGENTS = [f"Mozilla/5.0 (X11; Linux x86_64) Chrome/{n}.0" for n in range(130, 136)]
IPS = [f"198.51.100.{n}" for n in range(1, 9)]
REFERRERS = ["", "https://Twitter.com/x", "http://u@news.example:8080/a?b", "not a url"]
UTMS = [
    {},
    {"utm_source": "newsletter", "utm_medium": "email"},
    {"utm_source": "discord", "utm_custom": "ignored"},
    {"utm_campaign": "spring", "utm_term": "", "utm_content": "b" * 600},
]


def _snapshot() -> tuple[list, ...]:
    days = sorted(
        CampaignDay.objects.values_list(
            "campaign_id",
            "date",
            "clicks",
            "bot_clicks",
            "unique_visitors",
            "conversions",
            "converted_wallets",
            "conversion_value_usd",
            "proven_value_usd",
            "retained_clicks",
            "retained_bot_clicks",
            "retained_unique_visitors",
        )
    )
    # A day with nothing on it is the same as no row.
    days = [row for row in days if any(row[2:])]
    visitors = sorted(CampaignDayVisitor.objects.values_list("campaign_id", "date", "visitor"))
    wallets = sorted(
        CampaignDayWallet.objects.values_list(
            "campaign_id",
            "date",
            "wallet_address",
            "conversions",
            "value_usd",
            "proven_value_usd",
            "last_converted_at",
            "previous_date",
        )
    )
    breakdowns = sorted(
        CampaignDayBreakdown.objects.values_list(
            "campaign_id", "dimension", "date", "value", "clicks", "retained_clicks"
        )
    )
    all_time = sorted(
        CampaignWallet.objects.values_list(
            "campaign_id",
            "wallet_address",
            "first_date",
            "last_converted_at",
            "conversions",
            "value_usd",
            "proven_value_usd",
        )
    )
    gaps = sorted(
        CampaignDayWalletGap.objects.values_list("campaign_id", "date", "previous_date", "wallets")
    )
    contracts = sorted(
        CampaignDayContract.objects.values_list(
            "campaign_id", "date", "contract_address", "conversion_value_usd", "proven_value_usd"
        )
    )
    return days, visitors, wallets, breakdowns, all_time, gaps, contracts


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _assert_wallet_reads_are_exact(campaigns: list[Campaign], rng: random.Random) -> None:
    """For every campaign and ranges of days (all time, open at either end, ending today,
    in the past, one day): the converted wallets read from the rollups are the distinct
    wallets of the range's wallet-days, and the page's table lists (and its pager counts)
    the wallets whose latest day is in the range."""
    today = timezone.now().astimezone(dt.UTC).date()
    ranges: list[tuple[dt.date | None, dt.date | None]] = [
        (None, None),
        (None, today - dt.timedelta(days=3)),
        (today - dt.timedelta(days=2), None),
        (today - dt.timedelta(days=6), today),
    ]
    for _ in range(12):
        first = today - dt.timedelta(days=rng.randint(0, 30))
        ranges.append((first, first + dt.timedelta(days=rng.randint(0, 8))))
    for campaign in campaigns:
        days: dict[str, list[dt.date]] = {}
        for wallet, day in CampaignDayWallet.objects.filter(campaign=campaign).values_list(
            "wallet_address", "date"
        ):
            days.setdefault(wallet, []).append(day)
        for first, last in ranges:
            start = _midnight(first) if first else None
            end = _midnight(last + dt.timedelta(days=1)) if last else None

            def within(day: dt.date, first=first, last=last) -> bool:
                return (first is None or day >= first) and (last is None or day <= last)

            converted = {w for w, dates in days.items() if any(within(d) for d in dates)}
            latest = {w for w, dates in days.items() if within(max(dates))}
            stats = campaign_stats(campaign=campaign, start=start, end=end)
            assert stats.converted_wallets == len(converted), (first, last)
            listed = list(campaign_converted_wallets(campaign=campaign, start=start, end=end))
            assert {row["wallet_address"] for row in listed} == latest, (first, last)
            count = campaign_converted_wallet_count(campaign=campaign, start=start, end=end)
            assert count == len(latest), (first, last)


def _assert_contract_share_is_exact(project, contract: str) -> None:
    """A certificate's verified-contract proven share from the rollups equals the sums of
    the raw conversions on that contract (credited, or wholly their campaign's)."""
    today = timezone.now().astimezone(dt.UTC).date()
    start, end = _midnight(today - dt.timedelta(days=40)), _midnight(today + dt.timedelta(days=1))
    total = proven = Decimal("0")
    for conversion in Conversion.objects.filter(
        campaign__project=project, contract_address=contract
    ):
        credits = list(conversion.credits.all()) or [conversion]
        for credit in credits:
            total += credit.value_usd
            if WalletLink.objects.filter(
                click_id=credit.click_id,
                wallet_address=conversion.wallet_address,
                proof=LinkProof.PROVEN,
            ).exists():
                proven += credit.value_usd
    share = project_proven_conversion_share(
        project_id=project.pk, start=start, end=end, contract_addresses=[contract]
    )
    assert share == proven_share(proven=proven, total=total)


def _record(campaign: Campaign, rng: random.Random, now: float, click_id: str) -> dict:
    occurred = now - rng.uniform(0, 25) * 86400
    click = ClickInput(
        campaign_id=str(campaign.pk),
        click_id=click_id,
        user_agent=rng.choice(AGENTS),
        ip_address=rng.choice(IPS),
        bot_reason=rng.choice(["head_request", "user_agent:bot", ""])
        if rng.random() < 0.15
        else "",
        occurred_at=occurred,
        referrer=rng.choice(REFERRERS),
        utm_params=rng.choice(UTMS),
        during_pause=rng.random() < 0.1,
    )
    return click_record(click, now, time.strftime("%Y%m%d", time.gmtime(now)))


class _World:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        project = ProjectFactory()
        self.contract = project.contract_addresses[0]
        self.project = project
        self.campaigns = [
            CampaignFactory(project=project, attribution_model=model, attribution_window_days=w)
            for model, w in (
                (AttributionModel.LAST_CLICK, 3),
                (AttributionModel.LINEAR, 7),
                (AttributionModel.FIRST_CLICK, 12),
            )
        ]
        self.accounts = [Account.create() for _ in range(6)]
        self.click_ids: list[str] = []
        self.now = time.time()

    def flush(self) -> None:
        records = []
        for _ in range(self.rng.randint(1, 40)):
            if self.click_ids and self.rng.random() < 0.1:
                click_id = self.rng.choice(self.click_ids)  # a replay: stored once
            else:
                click_id = f"c{len(self.click_ids)}"
                self.click_ids.append(click_id)
            records.append(_record(self.rng.choice(self.campaigns), self.rng, self.now, click_id))
        clicks_insert(records)

    def _human_click(self) -> Click | None:
        clicks = list(Click.objects.filter(is_bot=False).order_by("pk")[:300])
        return self.rng.choice(clicks) if clicks else None

    def identify(self) -> None:
        click = self._human_click()
        if click is None:
            return
        account = self.rng.choice(self.accounts)
        proof = {}
        if self.rng.random() < 0.5:
            message = identify_message(click=click, wallet_address=account.address).message
            signature = account.sign_message(encode_defunct(text=message)).signature
            proof = {"message": message, "signature": signature.to_0x_hex()}
        try:
            wallet_identify(click=click, wallet_address=account.address, **proof)
        except ClickWalletLimit:
            pass

    def api_conversion(self) -> None:
        click = self._human_click()
        if click is None:
            return
        conversion_create(
            click=click,
            wallet_address=self.rng.choice(self.accounts).address,
            transaction_hash=f"0x{self.rng.getrandbits(256):064x}",
            value_usd=Decimal(self.rng.randint(0, 100000)) / 100,
        )

    def chain_conversion(self) -> None:
        click = self._human_click()
        if click is None or not click.wallet_links.exists():
            return
        link = self.rng.choice(list(click.wallet_links.all()))
        interaction = ContractInteractionFactory(
            project=self.project,
            wallet_address=link.wallet_address,
            contract_address=self.contract,
            value_usd=Decimal(self.rng.randint(1, 50000)) / 100,
            occurred_at=click.occurred_at + dt.timedelta(hours=self.rng.uniform(0, 60)),
        )
        attribution_apply_interactions(interaction_ids=[interaction.pk])

    def mark_bots(self) -> None:
        bots._mark_clicks(Click.objects.filter(user_agent=self.rng.choice(AGENTS)), "test")

    def retention(self) -> None:
        clicks_purge_expired(now=timezone.now())

    def step(self) -> None:
        action = self.rng.choices(
            [
                self.flush,
                self.identify,
                self.api_conversion,
                self.chain_conversion,
                self.mark_bots,
                self.retention,
            ],
            weights=[8, 5, 3, 4, 1, 1],
        )[0]
        action()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_equals_what_the_writes_kept_after_a_random_sequence(seed, settings):
    settings.CLICK_RETENTION_DAYS = 10
    world = _World(seed)
    for _ in range(70):
        world.step()
    kept = _snapshot()
    assert kept[0], "the sequence stored something"
    dimensions = {row[1] for row in kept[3]}
    assert {"referrer", "utm_source", "utm_content", "bot_reason", "paused"} <= dimensions
    assert any(row[5] for row in kept[3]), "retention retained breakdowns"

    rollups_rebuild()

    assert _snapshot() == kept
    _assert_wallet_reads_are_exact(world.campaigns, world.rng)
    _assert_contract_share_is_exact(world.project, world.contract)
    # And the totals read are those of the raw rows and what retention kept.
    for campaign in world.campaigns:
        stats = campaign_stats(campaign=campaign)
        raw = Click.objects.filter(campaign=campaign, is_bot=False).count()
        retained = sum(
            CampaignDay.objects.filter(campaign=campaign).values_list("retained_clicks", flat=True)
        )
        assert stats.clicks == raw + retained
        # Every human click has one referrer row (its host or ""), every bot one reason.
        day_totals = CampaignDay.objects.filter(campaign=campaign).aggregate(bots=Sum("bot_clicks"))
        by = {
            dimension: total
            for dimension, total in CampaignDayBreakdown.objects.filter(campaign=campaign)
            .values_list("dimension")
            .annotate(Sum("clicks"))
        }
        assert by.get("referrer", 0) == stats.clicks
        assert by.get("bot_reason", 0) == (day_totals["bots"] or 0)


@pytest.mark.django_db
def test_the_command_rebuilds_one_campaign_or_all(campaign):
    ClickFactory.create_batch(3, campaign=campaign, visitor_hash="v" * 64)
    kept = _snapshot()
    CampaignDay.objects.update(clicks=0, unique_visitors=0)
    CampaignDayVisitor.objects.all().delete()

    call_command("rebuild_rollups", "--campaign", str(campaign.pk))

    assert _snapshot() == kept
    day = CampaignDay.objects.get(campaign=campaign)
    assert (day.clicks, day.unique_visitors) == (3, 1)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_concurrent_flushes_count_exactly(redis_client):
    campaigns = CampaignFactory.create_batch(2)
    rng = random.Random(7)
    now = time.time()
    inputs = [
        ClickInput(
            campaign_id=str(rng.choice(campaigns).pk),
            click_id=f"k{n}",
            user_agent=rng.choice(AGENTS),
            ip_address=rng.choice(IPS),
            bot_reason="head_request" if rng.random() < 0.1 else "",
            occurred_at=now - rng.uniform(0, 3) * 86400,
            referrer=rng.choice(REFERRERS),
            utm_params=rng.choice(UTMS),
            during_pause=rng.random() < 0.1,
        )
        for n in range(3000)
    ]
    # Through the stream, in small entries, so every worker gets some of each visitor.
    for start in range(0, len(inputs), 7):
        clicks_store(clicks=inputs[start : start + 7])
    # And the same clicks again straight into the database, racing the flushes: replays.
    replays = [click_record(click, now, "") for click in inputs[::5]]

    def closing(work):
        def run():
            try:
                return work()
            finally:
                connection.close()  # this thread's

        return run

    jobs = [
        closing(lambda n=n: clicks_flush(batch_size=60, consumer=f"worker-{n}")) for n in range(4)
    ]
    jobs += [
        closing(lambda part=part: [clicks_insert([r]) for r in replays[part::2]])
        for part in range(2)
    ]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()  # re-raises a worker's error here
    assert Click.objects.count() == len(inputs)
    kept = _snapshot()

    rollups_rebuild()

    assert _snapshot() == kept
    for campaign in campaigns:
        stats = campaign_stats(campaign=campaign)
        human = Click.objects.filter(campaign=campaign, is_bot=False)
        assert stats.clicks == human.count()
        # Visitor hashes are per day: distinct hashes are the sum of the daily ones.
        assert stats.unique_clicks == human.values("visitor_hash").distinct().count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_conversions_of_the_same_wallets_count_exactly():
    """Four writers record conversions of the same three wallets on two campaigns over a
    week, in random order (some credited to both campaigns): each wallet's days, previous
    days, all-time row and the per-contract figures equal a rebuild, and the reads are
    exact."""
    project = ProjectFactory()
    contract = project.contract_addresses[0]
    campaigns = CampaignFactory.create_batch(2, project=project)
    clicks = [ClickFactory(campaign=campaign) for campaign in campaigns for _ in range(3)]
    wallets = [Account.create().address for _ in range(3)]
    rng = random.Random(11)
    now = timezone.now()
    work = []
    for n in range(120):
        value = Decimal(rng.randint(0, 10000)) / 100
        first, second = rng.choice(clicks[:3]), rng.choice(clicks[3:])
        credits = (
            [Credit(first, Decimal("0.5"), value / 2), Credit(second, Decimal("0.5"), value / 2)]
            if rng.random() < 0.3
            else [Credit(rng.choice(clicks), Decimal(1), value)]
        )
        at = now - dt.timedelta(days=rng.randint(0, 6), hours=rng.uniform(0, 23))
        work.append((credits, rng.choice(wallets), f"0x{n:064x}", value, at))
    # A proven link of one click to one wallet, so some value is proven.
    WalletLink.objects.create(
        click=clicks[0],
        campaign=campaigns[0],
        wallet_address=wallets[0],
        identified_at=now,
        proof=LinkProof.PROVEN,
        proven_at=now,
    )

    def writer(part: int) -> None:
        try:
            for credits, wallet, tx, value, at in work[part::4]:
                conversion_record(
                    credits=credits,
                    wallet_address=wallet,
                    transaction_hash=tx,
                    event_type="purchase",
                    value_usd=value,
                    contract_address=contract,
                    occurred_at=at,
                    source=ConversionSource.API,
                    owner=credits[0].click,
                )
        finally:
            connection.close()  # this thread's

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(writer, part) for part in range(4)]:
            future.result()  # re-raises a writer's error here
    kept = _snapshot()
    assert len(kept[4]) == 6  # three wallets on each campaign
    assert any(row[2] != NO_PREVIOUS_DATE for row in kept[5]), "wallets came back"

    rollups_rebuild()

    assert _snapshot() == kept
    _assert_wallet_reads_are_exact(campaigns, rng)
    _assert_contract_share_is_exact(project, contract)


@pytest.mark.postgres
@pytest.mark.django_db
def test_campaign_detail_reads_the_same_queries_with_10_or_1000_clicks(organization):
    caller = member_caller(organization)
    counts = []
    for clicks in (10, 1000):
        campaign = CampaignFactory(project=ProjectFactory(organization=organization))
        records = [
            _record(campaign, random.Random(n), time.time(), f"q{clicks}-{n}")
            for n in range(clicks)
        ]
        clicks_insert(records)
        caller.get(f"/api/v1/campaigns/{campaign.pk}")  # the caller's lookups, cached after
        with CaptureQueriesContext(connection) as queries:
            response = caller.get(f"/api/v1/campaigns/{campaign.pk}")
        assert response.status_code == 200
        assert response.json()["stats"]["clicks"] == campaign_stats(campaign=campaign).clicks
        counts.append(len(queries.captured_queries))
        # Nothing reads raw clicks or conversions, nor a row per wallet: the cost is the
        # days', not the clicks' or the converting wallets'.
        for query in queries.captured_queries:
            for table in ("trace_click", "trace_conversion", "trace_campaigndaywallet"):
                assert f'"{table}"' not in query["sql"], query["sql"]
            assert "DISTINCT" not in query["sql"], query["sql"]
    assert counts[0] == counts[1]


@pytest.mark.postgres
@pytest.mark.django_db
def test_campaign_page_reads_the_same_queries_with_10_or_1000_clicks(client, organization):
    """The campaign page (breakdowns, click quality, converted wallets) reads the rollups:
    no statement touches the raw clicks or conversions, and their number is the same."""
    from accounts.tests.factories import MembershipFactory

    membership = MembershipFactory(organization=organization)
    client.force_login(membership.user)
    counts = []
    for clicks in (10, 1000):
        campaign = CampaignFactory(project=ProjectFactory(organization=organization))
        rng = random.Random(clicks)
        now = time.time()
        clicks_insert([_record(campaign, rng, now, f"p{clicks}-{n}") for n in range(clicks)])
        click = Click.objects.filter(campaign=campaign, is_bot=False).first()
        conversion_create(
            click=click,
            wallet_address=Account.create().address,
            transaction_hash=f"0x{clicks:064x}",
            value_usd=Decimal("12.50"),
        )
        url = f"/trace/campaigns/{campaign.pk}/"
        client.get(url)  # the caller's lookups, cached after
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-testid="referrers-table"' in page
        assert 'data-testid="wallets-table"' in page
        counts.append(len(queries.captured_queries))
        for query in queries.captured_queries:
            assert '"trace_click"' not in query["sql"], query["sql"]
            assert '"trace_conversion"' not in query["sql"], query["sql"]
            assert '"trace_conversioncredit"' not in query["sql"], query["sql"]
            # Converted wallets: sums of day rows and a page sought from CampaignWallet.
            assert '"trace_campaigndaywallet"' not in query["sql"], query["sql"]
            assert "COUNT(DISTINCT" not in query["sql"].upper(), query["sql"]
    assert counts[0] == counts[1]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_campaign_detail_counts_accepted_clicks_from_the_flush_on(redis_client, organization):
    """Clicks accepted into the stream are in campaign detail once flushed (every 5 s),
    exactly; until then only Redis's counters of the acceptance day have them (counting
    replays too), and campaign detail does not add those (see README, Rollups)."""
    caller = member_caller(organization)
    campaign = CampaignFactory(project=ProjectFactory(organization=organization))
    clicks = [
        ClickInput(campaign_id=str(campaign.pk), click_id=f"s{n}", user_agent=AGENTS[0])
        for n in range(5)
    ]
    clicks_store(clicks=clicks)
    clicks_store(clicks=clicks[:2])  # replays: counted by Redis, stored once
    url = f"/api/v1/campaigns/{campaign.pk}"
    assert caller.get(url).json()["stats"]["clicks"] == 0
    assert (
        campaign_realtime_clicks(
            campaign_id=str(campaign.pk), day=dt.datetime.now(dt.UTC).date()
        ).clicks
        == 7
    )

    clicks_flush(batch_size=100, consumer="test")

    assert caller.get(url).json()["stats"]["clicks"] == 5
