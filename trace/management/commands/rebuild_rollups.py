"""`manage.py rebuild_rollups [--campaign ID]`."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from trace.models import Campaign
from trace.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recount the campaigns' daily rollups (clicks, unique visitors, conversions, "
        "converted wallets, value) from the raw rows and what click retention kept. "
        "One campaign per transaction; safe to re-run, and while clicks keep coming."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", help="only this campaign (id)")

    def handle(self, *args, campaign=None, **options) -> None:
        campaigns = Campaign.objects.order_by("pk")
        if campaign is not None:
            try:
                campaigns = campaigns.filter(pk=uuid.UUID(campaign))
            except ValueError as error:
                raise CommandError(f"not a campaign id: {campaign}") from error
            if not campaigns.exists():
                raise CommandError(f"no campaign {campaign}")
        ids = list(campaigns.values_list("pk", flat=True))
        days = 0
        for campaign_id in tqdm(ids, desc="campaigns", disable=len(ids) < 2):
            days += rollups_rebuild(campaign_ids=[campaign_id]).days
        self.stdout.write(f"rebuilt {len(ids)} campaign(s), {days} day(s)")
