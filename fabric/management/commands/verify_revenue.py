"""`manage.py verify_revenue [--listing ID]`."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabric.models import Listing
from fabric.services.revenue import listings_to_verify, revenue_verify


class Command(BaseCommand):
    help = (
        "Measure listings' revenue over the trailing 30 and 90 days from TRACE's indexed "
        "transfers to their treasuries and from connected Stripe accounts; store the records "
        "and update each listing's verified revenue. Safe to re-run (same day, same rows)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listing", metavar="ID", help="only this listing (its id)")

    def handle(self, *args, listing: str | None = None, **options) -> None:
        if listing is not None:
            try:
                listing_ids = [Listing.objects.get(pk=uuid.UUID(listing)).pk]
            except (ValueError, Listing.DoesNotExist):
                raise CommandError(f"no listing with id {listing}") from None
        else:
            listing_ids = listings_to_verify()
        for listing_id in listing_ids:
            records = revenue_verify(listing_id=listing_id)
            verified = Listing.objects.values_list("revenue_verified", flat=True).get(pk=listing_id)
            sources = sorted({record.source for record in records}) or ["nothing measured"]
            self.stdout.write(
                f"{listing_id}: {len(records)} record(s) ({', '.join(sources)}); "
                f"verified revenue (30 days): {verified if verified is not None else 'none'}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(listing_ids)} listing(s) verified"))
