"""`manage.py seed_demo [--wallet ADDRESS]`: the demo organization, its TRACE, PULSE and
FABRIC data.

Safe to re-run: a second run finds everything in place and creates nothing.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services.demo import (
    DEMO_BUYER_ADDRESS,
    DEMO_BUYER_USERNAME,
    DEMO_USERNAME,
    DEMO_WALLET_ADDRESS,
    DemoWalletError,
    demo_accounts_ensure,
)
from fabric.services.demo import fabric_demo_seed
from pulse.services.demo import pulse_demo_seed
from trace.services.demo import trace_demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo organization, its staff user and TRACE, PULSE and FABRIC demo data "
        "(idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wallet",
            metavar="ADDRESS",
            help="your own EVM or Solana address: becomes an operator and demo organization owner",
        )

    def handle(self, *args, wallet: str | None = None, **options) -> None:
        if settings.PRODUCTION:
            # The demo wallet's private key is public (Hardhat/Anvil account #0).
            raise CommandError("seed_demo makes a staff user with a public key: not in production")
        started = time.monotonic()
        try:
            accounts = demo_accounts_ensure(extra_wallet=wallet)
        except DemoWalletError as error:
            raise CommandError(str(error)) from error
        trace = trace_demo_seed(organization=accounts.organization, reviewer=accounts.user)
        pulse = pulse_demo_seed(organization=accounts.organization)
        fabric = fabric_demo_seed(organization=accounts.organization, seller=accounts.user)
        deals = fabric.deals
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Organization “{accounts.organization.name}”: {accounts.created} account rows, "
            f"{trace.projects} projects, {trace.campaigns} campaigns, {trace.clicks} clicks, "
            f"{trace.wallet_links} wallet links, {trace.interactions} interactions, "
            f"{trace.conversions} conversions, {trace.asset_prices} asset prices, "
            f"{trace.wallet_flags} wallet flags, {trace.metric_days} metric days; "
            f"{pulse.teams} PULSE teams, {pulse.contributors} contributors, "
            f"{pulse.contributions} contributions, {pulse.snapshots} score snapshots, "
            f"{pulse.reports} weekly reports, {pulse.tokens} minted tokens; "
            f"{fabric.listings} FABRIC listings, {fabric.assets} listing assets, "
            f"{fabric.revenue_records} demo revenue records, {fabric.verified_contracts} "
            f"contracts recorded as control-verified, {deals.nda_signatures} NDA signatures, "
            f"{deals.offers} offers, {deals.messages} messages, {deals.documents} data-room "
            f"documents, {deals.images} listing images, {deals.escrows} escrow deals "
            f"({elapsed:.1f} s)."
        )
        if accounts.created + trace.created + pulse.created + fabric.created == 0:
            self.stdout.write("Demo data was already in place; nothing new was created.")
        self.stdout.write(
            f"Demo operator “{DEMO_USERNAME}” signs in with the wallet {DEMO_WALLET_ADDRESS} "
            "(Hardhat/Anvil development account #0: import its published key into a browser "
            "wallet for a local demo only). To use your own wallet instead: "
            "manage.py seed_demo --wallet 0xYOUR_ADDRESS"
        )
        self.stdout.write(
            f"Demo buyer “{DEMO_BUYER_USERNAME}” signs in with the wallet {DEMO_BUYER_ADDRESS} "
            "(Hardhat/Anvil development account #1): it signed Solstice Lend's NDA, made "
            "offers on it and wrote to the seller."
        )
        if wallet:
            self.stdout.write(f"{wallet} is an operator and owner of the demo organization.")
