"""The score's recompute: queued after the commit by `scores_stale`, run by the real Celery
task (eager), daily for every listing in play, and by `manage.py recompute_scores`."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from fabric.models import Listing, ListingStatus
from fabric.services.suite import scores_stale
from fabric.tasks import recompute_all_listing_scores, recompute_listing_scores
from fabric.tests.factories import ListingFactory
from fabrknt.celery import app

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_scores_stale_recomputes_after_the_commit(django_capture_on_commit_callbacks):
    listing = ListingFactory(revenue_verified=Decimal("1000.00"))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            scores_stale(listing)
    assert Listing.objects.get(pk=listing.pk).score_computed_at is None  # not before
    for callback in callbacks:
        callback()

    stored = Listing.objects.get(pk=listing.pk)
    assert stored.fabrknt_score == Decimal("6.25")  # 0.25 × 25 points for $1k
    assert stored.score_computed_at is not None


def test_the_task_recomputes_one_listing():
    listing = ListingFactory(revenue_verified=Decimal("1000000.00"))

    result = recompute_listing_scores.delay(str(listing.pk))

    assert result.get() == 25.0
    assert Listing.objects.get(pk=listing.pk).fabrknt_score == Decimal("25.00")
    assert recompute_listing_scores.delay("not-a-uuid").get() is None


def test_the_daily_task_covers_listings_in_play_only():
    live = [
        ListingFactory(status=status, revenue_verified=Decimal("1000.00"))
        for status in (ListingStatus.DRAFT, ListingStatus.PUBLISHED, ListingStatus.UNDER_OFFER)
    ]
    sold = ListingFactory(status=ListingStatus.SOLD, revenue_verified=Decimal("1000.00"))

    assert recompute_all_listing_scores.delay().get() == 3

    assert all(Listing.objects.get(pk=x.pk).fabrknt_score == Decimal("6.25") for x in live)
    assert Listing.objects.get(pk=sold.pk).score_computed_at is None


def test_beat_runs_the_daily_recompute():
    entry = app.conf.beat_schedule["fabric-recompute-all-listing-scores"]

    assert entry["task"] == "fabric.recompute_all_listing_scores"
    assert entry["task"] in app.tasks
    assert "fabric.recompute_listing_scores" in app.tasks


def test_the_command_recomputes_all_or_one():
    listing = ListingFactory(title="Basedrop", revenue_verified=Decimal("10000.00"))
    out = StringIO()

    call_command("recompute_scores", stdout=out)
    assert "Basedrop: Fabrknt score 12.50 (coverage 25%)" in out.getvalue()
    call_command("recompute_scores", "--listing", str(listing.pk), stdout=out)
    assert "1 listing(s) scored." in out.getvalue()
    with pytest.raises(CommandError):
        call_command("recompute_scores", "--listing", "nope")
