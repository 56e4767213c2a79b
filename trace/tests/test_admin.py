"""TRACE back office: changelists with data, read-only ingested rows, actions that call
services and tasks, and a campaign list whose query count does not grow with its rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from trace.models import (
    NATIVE_ASSET,
    ActivityMetric,
    Asset,
    AssetPrice,
    CampaignDay,
    Click,
    ContractInteraction,
    Conversion,
    FlagStatus,
    PriceSource,
    WalletFlag,
    WalletLink,
)
from trace.tests.factories import (
    ActivityMetricFactory,
    AssetPriceFactory,
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ConversionFactory,
    ProjectFactory,
    WalletLinkFactory,
)
from trace.tests.feed_server import price_feed_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

MODELS = [
    "project",
    "campaign",
    "campaignday",
    "click",
    "walletlink",
    "conversion",
    "contractinteraction",
    "activitymetric",
    "walletflag",
    "asset",
    "assetprice",
    "growthcertificate",
]
READ_ONLY = [
    (Click, "click"),
    (WalletLink, "walletlink"),
    (Conversion, "conversion"),
    (ContractInteraction, "contractinteraction"),
    (ActivityMetric, "activitymetric"),
]


def _flag(project, wallet: str, status: str = FlagStatus.SUSPECTED) -> WalletFlag:
    return WalletFlag.objects.create(
        project=project, wallet_address=wallet, reason="lockstep", score=0.8, status=status
    )


@pytest.fixture
def data():
    campaign = CampaignFactory(budget_usd=Decimal("1000.00"))
    ClickFactory.create_batch(2, campaign=campaign)
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="user_agent:curl")
    ConversionFactory.create_batch(2, click__campaign=campaign, value_usd=Decimal("100.00"))
    WalletLinkFactory(click__campaign=campaign)
    ContractInteractionFactory(project=campaign.project)
    ActivityMetricFactory(project=campaign.project, dau=5, wau=9, mau=14)
    AssetPriceFactory()
    _flag(campaign.project, "0x" + "1" * 40)
    return campaign


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load_with_data(admin_client, data, model):
    response = admin_client.get(f"/admin/trace/{model}/")

    assert response.status_code == 200
    if model != "growthcertificate":
        assert response.context["cl"].result_count >= 1


def test_date_hierarchy_drills_down_into_clicks(admin_client, data):
    today = timezone.now().date()

    response = admin_client.get(
        f"/admin/trace/click/?occurred_at__year={today.year}&occurred_at__month={today.month}"
        f"&occurred_at__day={today.day}"
    )

    assert response.status_code == 200
    # 2 human + 1 bot + 2 conversion clicks + 1 wallet-link click, all made today.
    assert response.context["cl"].result_count == 6


def test_campaign_changelist_shows_stats_and_roi(admin_client, data):
    response = admin_client.get("/admin/trace/campaign/")

    html = response.content.decode()
    # 2 + the 2 conversions' + the wallet link's click are human; the bot click is not.
    assert '<td class="field-clicks">5</td>' in html
    assert '<td class="field-conversions">2</td>' in html
    assert '<td class="field-conversion_value">200.00</td>' in html
    assert '<td class="field-roi">-80.0%</td>' in html


def test_campaign_changelist_sorts_by_roi(admin_client):
    low = CampaignFactory(name="low", budget_usd=Decimal("1000.00"))
    high = CampaignFactory(name="high", budget_usd=Decimal("100.00"))
    ConversionFactory(click__campaign=high, value_usd=Decimal("300.00"))
    roi_column = 7  # name, project, budget, clicks, conversions, value, ROI (1-based + box)

    response = admin_client.get(f"/admin/trace/campaign/?o=-{roi_column}")

    assert [c.name for c in response.context["cl"].result_list] == [high.name, low.name]


def test_campaign_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    for _ in range(12):
        campaign = CampaignFactory()
        ClickFactory(campaign=campaign)
        ConversionFactory(click__campaign=campaign)

    # Session, user, counts, the page with every stat in one SELECT, the project filter.
    with django_assert_max_num_queries(9):
        response = admin_client.get("/admin/trace/campaign/")

    assert response.context["cl"].result_count == 12


@pytest.mark.parametrize(("model", "name"), READ_ONLY)
def test_ingested_rows_are_read_only(admin_client, data, model, name):
    row = model.objects.first()
    before = model.objects.count()

    assert admin_client.get(f"/admin/trace/{name}/add/").status_code == 403
    assert admin_client.post(f"/admin/trace/{name}/{row.pk}/change/", {}).status_code == 403
    assert (
        admin_client.post(f"/admin/trace/{name}/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    view = admin_client.get(f"/admin/trace/{name}/{row.pk}/change/")

    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert model.objects.count() == before
    assert model.objects.filter(pk=row.pk).exists()


def test_rebuild_rollups_action_recounts_the_selected_campaigns(admin_client, data):
    campaign = data
    CampaignDay.objects.update(clicks=0, conversions=0)

    response = admin_client.post(
        "/admin/trace/campaign/", {"action": "rebuild_rollups", "_selected_action": [campaign.pk]}
    )

    assert response.status_code == 302
    days = CampaignDay.objects.filter(campaign=campaign)
    clicks = Click.objects.filter(campaign=campaign)
    assert sum(day.clicks for day in days) == clicks.filter(is_bot=False).count() == 5
    assert sum(day.bot_clicks for day in days) == 1
    assert sum(day.conversions for day in days) == 2
    assert admin_client.get("/admin/trace/campaignday/").status_code == 200


def test_confirm_and_clear_actions_review_flags(admin_client, admin_user):
    project = ProjectFactory()
    first, second = _flag(project, "0x" + "a" * 40), _flag(project, "0x" + "b" * 40)
    untouched = _flag(project, "0x" + "c" * 40)

    response = admin_client.post(
        "/admin/trace/walletflag/", {"action": "confirm", "_selected_action": [first.pk, second.pk]}
    )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (FlagStatus.CONFIRMED, FlagStatus.CONFIRMED)
    assert first.reviewed_by == admin_user
    assert first.reviewed_at is not None

    admin_client.post(
        "/admin/trace/walletflag/", {"action": "clear", "_selected_action": [first.pk]}
    )

    first.refresh_from_db()
    untouched.refresh_from_db()
    assert first.status == FlagStatus.CLEARED
    assert (untouched.status, untouched.reviewed_by) == (FlagStatus.SUSPECTED, None)


def test_wallet_flags_are_never_added_deleted_or_edited_by_hand(admin_client):
    flag = _flag(ProjectFactory(), "0x" + "d" * 40)

    assert admin_client.get("/admin/trace/walletflag/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/trace/walletflag/{flag.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    admin_client.post(f"/admin/trace/walletflag/{flag.pk}/change/", {"status": "confirmed"})

    flag.refresh_from_db()
    assert flag.status == FlagStatus.SUSPECTED
    assert WalletFlag.objects.count() == 1


@pytest.fixture
def tasks_run():
    runs: list[tuple[str, dict]] = []

    def record(sender=None, kwargs=None, **_):
        runs.append((sender.name, dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


def test_reindex_action_runs_the_index_task_after_commit(
    admin_client, tasks_run, django_capture_on_commit_callbacks
):
    project = ProjectFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/admin/trace/project/", {"action": "reindex", "_selected_action": [project.pk]}
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert tasks_run == [("trace.index_project", {"project_id": str(project.pk)})]


def test_recompute_action_rolls_up_the_last_90_days(
    admin_client, tasks_run, django_capture_on_commit_callbacks
):
    project = ProjectFactory()
    today = timezone.now().date()
    yesterday_noon = timezone.now().replace(hour=12, minute=0) - dt.timedelta(days=1)
    for wallet in ["0x" + "1" * 40, "0x" + "2" * 40, "0x" + "2" * 40]:
        ContractInteractionFactory(
            project=project, wallet_address=wallet, occurred_at=yesterday_noon
        )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/trace/project/",
            {"action": "recompute_metrics", "_selected_action": [project.pk]},
        )

    assert tasks_run == [
        (
            "trace.aggregate_metrics",
            {
                "project_id": str(project.pk),
                "date_from": (today - dt.timedelta(days=89)).isoformat(),
                "date_to": today.isoformat(),
            },
        )
    ]
    metric = ActivityMetric.objects.get(project=project, date=yesterday_noon.date())
    assert (metric.dau, metric.wau, metric.mau, metric.transaction_count) == (2, 2, 2, 3)


def _eth() -> Asset:
    return Asset.objects.get(chain="eip155:1", address=NATIVE_ASSET)


def test_asset_list_shows_the_latest_price_its_day_and_staleness(admin_client):
    today = timezone.now().date()
    AssetPriceFactory(asset=_eth(), day=today - dt.timedelta(days=3), price_usd=Decimal("2900"))
    AssetPriceFactory(asset=_eth(), day=today, price_usd=Decimal("3125.5"))
    usdc = Asset.objects.get(chain="eip155:1", symbol="USDC")
    AssetPriceFactory(
        asset=usdc,
        day=today - dt.timedelta(days=2),
        price_usd=Decimal("1"),
        fetched_at=timezone.now() - dt.timedelta(days=2),
    )

    response = admin_client.get("/admin/trace/asset/?chain=eip155%3A1")

    rows = {
        asset.symbol: (asset.latest_price_usd, asset.latest_price_day)
        for asset in response.context["cl"].result_list
    }
    assert rows["ETH"] == (Decimal("3125.5"), today)
    assert rows["USDC"] == (Decimal("1"), today - dt.timedelta(days=2))
    assert rows["DAI"] == (None, None)
    html = response.content.decode()
    assert html.count('<td class="field-stale"><img src="/static/admin/img/icon-yes.svg"') == 4
    stale = admin_client.get("/admin/trace/asset/?chain=eip155%3A1&price=stale")
    assert sorted(a.symbol for a in stale.context["cl"].result_list) == [
        "DAI",
        "USDC",
        "USDT",
        "WETH",
    ]


def test_asset_list_costs_the_same_queries_for_more_assets(
    admin_client, django_assert_max_num_queries
):
    AssetPriceFactory(asset=_eth())
    with django_assert_max_num_queries(8):
        assert admin_client.get("/admin/trace/asset/").status_code == 200


def test_an_added_asset_is_stored_in_canonical_form(admin_client):
    response = admin_client.post(
        "/admin/trace/asset/add/",
        {
            "chain": "eip155:8453",
            "address": "0x532f27101965dd16442e59d40670faf5ebb142e4",
            "symbol": "BRETT",
            "decimals": "18",
            "price_source": "based-brett",
            "enabled": "on",
        },
    )

    assert response.status_code == 302
    assert Asset.objects.get(symbol="BRETT").address == (
        "0x532f27101965dd16442E59d40670FaF5eBB142E4"  # EIP-55
    )


def test_an_operator_adds_a_price_of_their_own(admin_client):
    day = timezone.now().date()

    response = admin_client.post(
        "/admin/trace/assetprice/add/",
        {"asset": _eth().pk, "day": day.isoformat(), "price_usd": "3125.50"},
    )

    assert response.status_code == 302
    price = AssetPrice.objects.get()
    assert (price.asset, price.day, price.price_usd, price.source) == (
        _eth(),
        day,
        Decimal("3125.50"),
        PriceSource.ADMIN,
    )
    assert timezone.now() - price.fetched_at < dt.timedelta(minutes=1)


def test_an_operator_corrects_a_feed_price_which_becomes_theirs(admin_client):
    price = AssetPriceFactory(
        asset=_eth(),
        price_usd=Decimal("3000.00"),
        source=PriceSource.FEED,
        fetched_at=timezone.now() - dt.timedelta(hours=5),
    )

    response = admin_client.post(
        f"/admin/trace/assetprice/{price.pk}/change/", {"price_usd": "3125.50"}
    )

    assert response.status_code == 302
    price.refresh_from_db()
    assert (price.price_usd, price.source) == (Decimal("3125.50"), PriceSource.ADMIN)
    assert timezone.now() - price.fetched_at < dt.timedelta(minutes=1)
    assert AssetPrice.objects.count() == 1


def test_a_negative_price_is_refused_and_stores_nothing(admin_client):
    response = admin_client.post(
        "/admin/trace/assetprice/add/",
        {"asset": _eth().pk, "day": timezone.now().date().isoformat(), "price_usd": "-1"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert AssetPrice.objects.count() == 0


def test_prices_are_not_deleted(admin_client):
    price = AssetPriceFactory(asset=_eth())

    response = admin_client.post(f"/admin/trace/assetprice/{price.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert AssetPrice.objects.count() == 1


def test_fetch_prices_now_calls_the_feed_for_the_selected_assets(admin_client, price_feed):
    price_feed.answer({"ethereum": {"usd": 2612.35, "last_updated_at": 1748860000}})

    response = admin_client.post(
        "/admin/trace/asset/",
        {"action": "fetch_prices_now", "_selected_action": [_eth().pk]},
        follow=True,
    )

    assert price_feed.requests[0][1]["ids"] == ["ethereum"]
    assert list(AssetPrice.objects.values_list("asset", "price_usd")) == [
        (_eth().pk, Decimal("2612.35"))
    ]
    assert "1 price(s) stored." in [str(m) for m in response.context["messages"]]


def test_fetch_prices_now_reports_a_feed_that_is_down(admin_client, price_feed):
    price_feed.answer_raw(b"oops", status=503)

    response = admin_client.post(
        "/admin/trace/asset/",
        {"action": "fetch_prices_now", "_selected_action": [_eth().pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["Nothing fetched: answered HTTP 503"]
    assert AssetPrice.objects.count() == 0


@pytest.mark.postgres  # exact decimals: SQLite keeps 15 digits
def test_campaign_list_shows_sums_beyond_a_single_column(admin_client):
    campaign = CampaignFactory(budget_usd=Decimal("0.01"))
    ConversionFactory.create_batch(
        3, click__campaign=campaign, value_usd=Decimal("999999999999999999.99")
    )
    for ordering in ("", "?o=4", "?o=5"):  # by value, by ROI
        response = admin_client.get(f"/admin/trace/campaign/{ordering}")
        assert response.status_code == 200
        assert "2999999999999999999.97" in response.text
