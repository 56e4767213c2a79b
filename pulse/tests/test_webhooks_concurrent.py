"""A GitHub delivery or a Discord relay delivered 20 times at once (GitHub redelivering,
our bot retrying, while the first attempt is still in flight) is one delivery and one set
of contributions: real concurrent requests to a live server, each on its own database
connection, signed as the provider tests sign them."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from fabrknt.tests.concurrency import DELIVERIES, post_at_once
from pulse.discord.signature import relay_headers
from pulse.models import Contribution, DeliveryOutcome, WebhookDelivery
from pulse.tests import discord_relay_support as discord
from pulse.tests import github_support as gh
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHA1, SHA2 = "a" * 40, "b" * 40


def test_a_github_delivery_sent_20_times_at_once_is_processed_once(live_server):
    team = TeamFactory(github_webhook_secret="team-secret-1")
    ContributorFactory(team=team, github_login="octocat")
    body = json.dumps(
        gh.push(repo=gh.repository(), commits=[(SHA1, "octocat"), (SHA2, "octocat")])
    ).encode()

    answers = post_at_once(
        f"{live_server.url}/api/v1/github/webhook?team={team.pulse_id}",
        body=body,
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": gh.signature(body, team.github_webhook_secret),
            "User-Agent": "GitHub-Hookshot/a5788b1",
        },
    )

    # One attempt recorded it (202); the others found it (200, duplicate).
    assert [(status, receipt.get("duplicate")) for status, receipt in answers] == [(200, True)] * (
        DELIVERIES - 1
    ) + [(202, False)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == DeliveryOutcome.PROCESSED
    assert sorted(Contribution.objects.values_list("source_id", flat=True)) == [
        f"commit:{SHA1}",
        f"commit:{SHA2}",
    ]


def test_a_discord_relay_sent_20_times_at_once_is_stored_once(live_server, settings):
    settings.DISCORD_RELAY_PUBLIC_KEY = discord.PUBLIC_KEY
    team = discord.linked_team(TeamFactory())
    helper = ContributorFactory(team=team, discord_id="700000000000000002")
    at = dt.datetime.now(tz=dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    body = json.dumps(
        discord.relay("message", "900000000000000001", helper.discord_id, at, content_length=140)
    ).encode()
    headers = relay_headers(seed_base64=discord.SEED, body=body, now=time.time())

    answers = post_at_once(f"{live_server.url}{discord.URL}", body=body, headers=headers)

    assert sorted(receipt.get("outcome", "") for _, receipt in answers) == ["duplicate"] * (
        DELIVERIES - 1
    ) + ["stored"]
    assert {status for status, _ in answers} == {200}
    assert WebhookDelivery.objects.count() == 1
    contribution = Contribution.objects.get()
    assert (contribution.source_id, contribution.contributor) == ("900000000000000001", helper)
