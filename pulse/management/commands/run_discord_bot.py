"""`manage.py run_discord_bot`: our Discord bot, relaying the activity of the servers it
was installed in (through a team's install link) to DISCORD_RELAY_URL.

Needs DISCORD_BOT_TOKEN, DISCORD_RELAY_SIGNING_KEY and DISCORD_RELAY_URL (by default
PUBLIC_BASE_URL + /api/v1/discord/webhook); no database: it can run on a host of its own.
`--print-public-key` prints the DISCORD_RELAY_PUBLIC_KEY that goes with the signing key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pulse.discord.bot import RelayBot, RelaySender
from pulse.discord.signature import relay_public_key_of


class Command(BaseCommand):
    help = "Run the PULSE Discord bot (relays server activity, signed, to the web tier)."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--print-public-key",
            action="store_true",
            help="print the DISCORD_RELAY_PUBLIC_KEY of DISCORD_RELAY_SIGNING_KEY and exit",
        )

    def handle(self, *args, print_public_key: bool = False, **options) -> None:
        seed = settings.DISCORD_RELAY_SIGNING_KEY
        if not seed:
            raise CommandError("Set DISCORD_RELAY_SIGNING_KEY (a base64 Ed25519 seed).")
        if print_public_key:
            self.stdout.write(relay_public_key_of(seed))
            return
        missing = [
            name
            for name in ("DISCORD_BOT_TOKEN", "DISCORD_RELAY_URL")
            if not getattr(settings, name)
        ]
        if missing:
            raise CommandError(f"Set {', '.join(missing)} to run the bot.")
        bot = RelayBot(sender=RelaySender(url=settings.DISCORD_RELAY_URL, seed_base64=seed))
        self.stdout.write(f"Relaying to {settings.DISCORD_RELAY_URL}")
        bot.run(settings.DISCORD_BOT_TOKEN, log_handler=None)
