"""The bot's relay end to end: discord.py objects → the bot's handlers → a signed POST over
HTTP → the real webhook (live server) → contributions in PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from pulse.discord.bot import (
    RelayBot,
    RelaySender,
    relay_event_of_member_join,
    relay_event_of_message,
    relay_event_of_reaction,
)
from pulse.models import Contribution, WebhookDelivery
from pulse.tests.discord_objects import GUILD_ID, SENT_AT, Server, user
from pulse.tests.discord_relay_support import PUBLIC_KEY, SEED, linked_team
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEWCOMER = user(701, "newcomer")
HELPER = user(702, "helper")


def test_the_bot_relays_a_welcome_and_its_acknowledgement(live_server, settings):
    settings.DISCORD_RELAY_PUBLIC_KEY = PUBLIC_KEY
    team = linked_team(TeamFactory(), guild=str(GUILD_ID))
    helper = ContributorFactory(team=team, discord_id="702")
    server = Server()
    bot = RelayBot(
        sender=RelaySender(url=f"{live_server.url}/api/v1/discord/webhook", seed_base64=SEED)
    )
    question = server.message(author=NEWCOMER, content="Hi! Where do I start?")
    answer = server.reply(
        question,
        author=HELPER,
        content="Welcome! The README's first section, then ask away.",
        at=SENT_AT + dt.timedelta(minutes=2),
    )
    thanks = server.reaction(answer, "🙏")

    def bot_event(name: str):
        return {
            "member_join": lambda: relay_event_of_member_join(
                server.member(NEWCOMER, joined_at=SENT_AT - dt.timedelta(minutes=5)), now=SENT_AT
            ),
            "question": lambda: relay_event_of_message(question),
            "answer": lambda: relay_event_of_message(answer),
            "thanks": lambda: relay_event_of_reaction(
                thanks,
                server.member(NEWCOMER, joined_at=SENT_AT),
                now=SENT_AT + dt.timedelta(minutes=4),
            ),
        }[name]()

    async def run() -> list[int | None]:
        try:
            statuses = [
                await bot.relay(event)
                for event in (
                    bot_event("member_join"),
                    bot_event("question"),
                    bot_event("answer"),
                    bot_event("thanks"),
                )
            ]
            # Discord delivers the message again (a gateway resume): the handler relays it,
            # the webhook stores it once.
            await bot.on_message(answer)
        finally:
            await bot.close()
        return statuses

    assert asyncio.run(run()) == [200, 200, 200, 200]
    rows = {
        c.contribution_type: (c.source_login, c.weight, c.contributor_id)
        for c in Contribution.objects.filter(team=team)
    }
    assert rows == {
        "member_join": ("701", Decimal("1.00"), None),
        "message": ("701", Decimal("1.00"), None),
        # A welcome (× 2) acknowledged by the newcomer's reaction (× 2), for the helper.
        "reply": ("702", Decimal("4.00"), helper.pk),
        "reaction": ("701", Decimal("0.90"), None),
    }
    assert WebhookDelivery.objects.filter(team=team).count() == 4
