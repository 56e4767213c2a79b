"""`trace.purge_expired_clicks`: raw clicks past CLICK_RETENTION_DAYS go; campaign
totals, conversions and their evidence, and daily metrics stay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from trace.models import (
    ActivityMetric,
    CampaignDay,
    Click,
    Conversion,
    IdentifyNonce,
    LinkProof,
    WalletLink,
)
from trace.selectors import campaign_stats
from trace.services.clicks.retention import clicks_purge_expired
from trace.tasks import purge_expired_clicks
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    WalletLinkFactory,
)

pytestmark = pytest.mark.django_db


def _at(days_ago: int, hour: int = 12) -> dt.datetime:
    day = timezone.now().date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.CLICK_RETENTION_DAYS = 10


def test_expired_clicks_are_rolled_up_and_deleted_and_conversions_keep_their_evidence():
    campaign = CampaignFactory(attribution_window_days=7)
    old = {
        "linked": ClickFactory(campaign=campaign, occurred_at=_at(20, 9), visitor_hash="v1"),
        "again": ClickFactory(campaign=campaign, occurred_at=_at(20, 10), visitor_hash="v1"),
        "bot": ClickFactory(
            campaign=campaign, occurred_at=_at(20, 11), visitor_hash="b", is_bot=True
        ),
        "converted": ClickFactory(
            campaign=campaign,
            occurred_at=_at(20, 12),
            visitor_hash="v2",
            referrer="https://t.co/",
            utm_params={"utm_source": "x"},
        ),
    }
    unlinked_link = WalletLinkFactory(click=old["linked"])
    IdentifyNonce.objects.create(
        value="n1",
        click=old["linked"],
        wallet_address=unlinked_link.wallet_address,
        message="m",
        issued_at=_at(20),
        expires_at=_at(20, 13),
    )
    conversion = ConversionFactory(click=old["converted"], value_usd=Decimal("250.00"))
    proven = WalletLinkFactory(
        click=old["converted"],
        wallet_address=conversion.wallet_address,
        proof=LinkProof.PROVEN,
        proven_at=_at(20, 13),
    )
    recent = ClickFactory.create_batch(2, campaign=campaign, occurred_at=_at(5))
    metric = ActivityMetricFactory(project=campaign.project, dau=7)
    before = campaign_stats(campaign=campaign)
    # 3 old and 2 recent human clicks; visitors v1 and v2 (the recent ones have no hash)
    assert (before.clicks, before.unique_clicks) == (5, 2)

    result = purge_expired_clicks.delay().get()

    assert result == {"deleted": 3, "erased": 1, "days": 1}
    assert campaign_stats(campaign=campaign) == before
    assert set(Click.objects.values_list("pk", flat=True)) == {
        old["converted"].pk,
        *(click.pk for click in recent),
    }
    kept = Click.objects.get(pk=old["converted"].pk)
    assert kept.details_erased
    assert (kept.ip_address, kept.visitor_hash, kept.user_agent, kept.referrer) == ("",) * 4
    assert kept.utm_params == {}
    assert (kept.click_id, kept.occurred_at) == (old["converted"].click_id, _at(20, 12))
    rollup = CampaignDay.objects.get(campaign=campaign, date=_at(20).date())
    # What the deleted rows counted (and the day's visitors) moved to `retained_*`.
    retained = (rollup.retained_clicks, rollup.retained_bot_clicks, rollup.retained_unique_visitors)
    assert retained == (2, 1, 2)
    assert (rollup.clicks, rollup.bot_clicks, rollup.unique_visitors) == (3, 1, 2)
    # The conversion and its proven link are as they were; the other link went with its click.
    assert Conversion.objects.get().click_id == kept.pk
    assert list(WalletLink.objects.values_list("pk", flat=True)) == [proven.pk]
    assert IdentifyNonce.objects.count() == 0
    assert ActivityMetric.objects.get().dau == metric.dau
    for click in recent:
        click.refresh_from_db()
        assert (click.details_erased, click.ip_address) == (False, "203.0.113.0")

    # Nothing is left to do: a second run changes nothing.
    assert purge_expired_clicks.delay().get() == {"deleted": 0, "erased": 0, "days": 0}
    assert campaign_stats(campaign=campaign) == before
    rollup.refresh_from_db()
    retained = (rollup.retained_clicks, rollup.retained_bot_clicks, rollup.retained_unique_visitors)
    assert retained == (2, 1, 2)


def test_a_campaigns_longer_attribution_window_keeps_its_clicks():
    short = CampaignFactory(attribution_window_days=7)
    long = CampaignFactory(attribution_window_days=30)
    ClickFactory(campaign=short, occurred_at=_at(20))
    within_window = ClickFactory(campaign=long, occurred_at=_at(20))
    past_window = ClickFactory(campaign=long, occurred_at=_at(31))

    assert purge_expired_clicks.delay().get() == {"deleted": 2, "erased": 0, "days": 2}

    assert list(Click.objects.values_list("pk", flat=True)) == [within_window.pk]
    assert past_window.pk not in Click.objects.values_list("pk", flat=True)
    assert campaign_stats(campaign=long).clicks == 2
    assert campaign_stats(campaign=short).clicks == 1


def test_the_first_day_within_retention_is_kept_whole():
    campaign = CampaignFactory(attribution_window_days=1)
    ClickFactory(campaign=campaign, occurred_at=_at(11, 23))
    first_kept_day = [
        ClickFactory(campaign=campaign, occurred_at=_at(10, 0)),
        ClickFactory(campaign=campaign, occurred_at=_at(10, 23)),
    ]

    assert clicks_purge_expired().deleted == 1

    assert set(Click.objects.values_list("pk", flat=True)) == {c.pk for c in first_kept_day}


def test_a_run_handles_a_batch_of_campaign_days_and_queues_the_rest():
    campaign = CampaignFactory(attribution_window_days=1)
    for days_ago in (30, 20, 15):
        ClickFactory(campaign=campaign, occurred_at=_at(days_ago))

    first = clicks_purge_expired(max_days=2)

    assert (first.deleted, first.days, first.more) == (2, 2, True)
    purged = CampaignDay.objects.filter(retained_clicks__gt=0).order_by("date")
    assert list(purged.values_list("date", flat=True)) == [
        _at(30).date(),
        _at(20).date(),
    ]
    # The task queues another run while days are left; eager here, so it runs at once.
    assert purge_expired_clicks.delay().get()["days"] == 1
    assert Click.objects.count() == 0
    assert campaign_stats(campaign=campaign).clicks == 3
