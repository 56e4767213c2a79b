"""`manage.py recompute_scores [--listing ID]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabric.services.suite import listing_scores_compute, recomputed_listing_ids


class Command(BaseCommand):
    help = (
        "Recompute the Fabrknt score of every listing still in play (draft to under offer), "
        "or of one, from TRACE, PULSE and verified revenue. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listing", metavar="ID", help="only this listing (any status)")

    def handle(self, *args, listing: str | None = None, **options) -> None:
        listing_ids = [listing] if listing else recomputed_listing_ids()
        for listing_id in listing_ids:
            computed = listing_scores_compute(listing_id=listing_id)
            if computed is None:
                raise CommandError(f"no listing {listing_id}")
            score = computed.fabrknt_score
            self.stdout.write(
                f"{computed.title}: Fabrknt score "
                f"{'not available' if score is None else score} "
                f"(coverage {computed.score_components['coverage']:.0%})"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(listing_ids)} listing(s) scored."))
