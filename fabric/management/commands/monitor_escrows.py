"""`manage.py monitor_escrows`: read our escrow contracts' new events now and move the deals
with them, printing per contract (safe to re-run; beat runs the same every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fabric.services import escrow_monitor


class Command(BaseCommand):
    help = "Follow the escrow contracts' events and update the deals (safe to re-run)."

    def handle(self, *args: object, **options: object) -> None:
        total = 0
        for chain, contract in escrow_monitor.escrow_contracts_followed():
            label = f"{contract} on {chain}"
            try:
                run = escrow_monitor.escrow_monitor_run(chain=chain, contract=contract)
            except escrow_monitor.MONITOR_SKIPPABLE as error:
                self.stdout.write(self.style.WARNING(f"{label}: skipped, {error}"))
                continue
            if run.fork_block is not None:
                self.stdout.write(
                    self.style.WARNING(
                        f"{label}: reorg, {run.rolled_back} events above block "
                        f"{run.fork_block} rolled back and re-derived"
                    )
                )
            if run.to_block is None:
                self.stdout.write(f"{label}: up to date")
            else:
                self.stdout.write(
                    f"{label}: blocks {run.from_block}..{run.to_block}, {run.stored} new events"
                )
            total += run.stored
        self.stdout.write(self.style.SUCCESS(f"{total} new escrow events"))
