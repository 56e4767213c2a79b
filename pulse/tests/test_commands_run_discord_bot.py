"""`manage.py run_discord_bot`: refuses to start without its settings; prints the public
half of its signing key."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from pulse.tests.discord_relay_support import PUBLIC_KEY, SEED


def test_prints_the_public_key_of_the_signing_seed(settings):
    settings.DISCORD_RELAY_SIGNING_KEY = SEED
    out = io.StringIO()
    call_command("run_discord_bot", "--print-public-key", stdout=out)
    assert out.getvalue().strip() == PUBLIC_KEY


def test_refuses_to_start_without_its_settings(settings):
    settings.DISCORD_RELAY_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="Set DISCORD_RELAY_SIGNING_KEY"):
        call_command("run_discord_bot")
    settings.DISCORD_RELAY_SIGNING_KEY = SEED
    settings.DISCORD_BOT_TOKEN = ""
    settings.DISCORD_RELAY_URL = ""
    with pytest.raises(CommandError, match="Set DISCORD_BOT_TOKEN, DISCORD_RELAY_URL"):
        call_command("run_discord_bot")
