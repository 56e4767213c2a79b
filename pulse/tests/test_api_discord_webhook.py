"""POST /api/v1/discord/webhook: relays signed with our bot's real Ed25519 key."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from pulse.discord.signature import relay_sign
from pulse.models import Contribution, Verification, WebhookDelivery
from pulse.tests.discord_relay_support import (
    CHANNEL,
    GUILD,
    PUBLIC_KEY,
    SEED,
    URL,
    linked_team,
    post_signed,
    relay,
)
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ASKER, HELPER, LURKER = "700000000000000001", "700000000000000002", "700000000000000003"
T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def relay_key(settings):
    settings.DISCORD_RELAY_PUBLIC_KEY = PUBLIC_KEY


def nothing_stored() -> bool:
    return not Contribution.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_message_is_stored_once_as_a_verified_contribution(client):
    team = linked_team(TeamFactory())
    helper = ContributorFactory(team=team, discord_id=HELPER)
    payload = relay("message", "900000000000000001", HELPER, T0, content_length=140)

    response = post_signed(client, payload)
    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "stored", "detail": "message weighted 1.00"}
    contribution = Contribution.objects.get()
    assert (
        contribution.team,
        contribution.contributor,
        contribution.platform,
        contribution.source_id,
        contribution.source_login,
        contribution.contribution_type,
        contribution.weight,
        contribution.verification,
        contribution.occurred_at,
    ) == (
        team,
        helper,
        "discord",
        "900000000000000001",
        HELPER,
        "message",
        Decimal("1.00"),
        Verification.VERIFIED,
        T0,
    )
    assert contribution.metadata == {"channel_id": CHANNEL, "content_length": 140}
    helper.refresh_from_db()
    assert helper.last_active_at == T0

    # The bot retries after a timeout: same event, signed anew. Nothing changes.
    again = post_signed(client, payload)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert Contribution.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.team, delivery.delivery_id, delivery.outcome) == (
        "discord",
        team,
        "900000000000000001",
        "processed",
    )


def test_welcoming_a_newcomer_and_an_acknowledged_answer(client):
    linked_team(TeamFactory())
    post_signed(client, relay("member_join", f"join:{GUILD}:{ASKER}", ASKER, T0))
    post_signed(
        client,
        relay(
            "message", "900000000000000010", ASKER, T0 + dt.timedelta(minutes=1), content_length=64
        ),
    )
    answer = relay(
        "reply",
        "900000000000000011",
        HELPER,
        T0 + dt.timedelta(minutes=3),
        reply_to_author_id=ASKER,
        message_id="900000000000000010",
        content_length=220,
    )
    assert post_signed(client, answer).json()["detail"] == "reply weighted 2.00"
    thanks = relay(
        "reaction",
        "reaction:900000000000000011:700000000000000001:👍",
        ASKER,
        T0 + dt.timedelta(minutes=5),
        reply_to_author_id=HELPER,
        message_id="900000000000000011",
    )
    response = post_signed(client, thanks)
    assert response.json()["detail"] == (
        # The asker's second activity of the day: 0.9.
        "reaction weighted 0.90; acknowledged answer 900000000000000011"
    )
    weights = dict(Contribution.objects.values_list("contribution_type", "weight"))
    assert weights == {
        "member_join": Decimal("1.00"),
        "message": Decimal("1.00"),
        "reply": Decimal("4.00"),  # 2 for the welcome, × 2 once the asker reacted
        "reaction": Decimal("0.90"),
    }
    assert Contribution.objects.get(contribution_type="reply").metadata["acknowledged_by"] == ASKER
    # The same reaction again (a retry) doubles nothing.
    assert post_signed(client, thanks).json()["outcome"] == "duplicate"
    assert Contribution.objects.get(contribution_type="reply").weight == Decimal("4.00")
    # Unclaimed: nobody has linked these Discord ids yet; they wait under source_login.
    assert not Contribution.objects.filter(contributor__isnull=False).exists()


def test_floods_short_messages_and_self_replies_count_little(client):
    linked_team(TeamFactory())
    # An established member (no join seen, three messages already): no newcomer bonus.
    for n in range(3):
        post_signed(
            client,
            relay(
                "message",
                f"90000000000000010{n}",
                ASKER,
                T0 - dt.timedelta(days=3, minutes=n),
                content_length=80,
            ),
        )
    details = [
        post_signed(
            client,
            relay(
                "message",
                f"90000000000000020{n}",
                LURKER,
                T0 + dt.timedelta(seconds=3 * n),
                content_length=2,
            ),
        ).json()["detail"]
        for n in range(4)
    ]
    # First short one 0.2; then short and flooding: 0.2 × 0.2 × 0.9^n, at least 0.01.
    assert details == [
        "message weighted 0.20",
        "message weighted 0.04",
        "message weighted 0.03",
        "message weighted 0.03",
    ]
    self_reply = relay(
        "reply",
        "900000000000000300",
        ASKER,
        T0 + dt.timedelta(hours=1),
        reply_to_author_id=ASKER,
        message_id="900000000000000100",
        content_length=90,
    )
    assert post_signed(client, self_reply).json()["detail"] == "reply weighted 0.10"
    answer = relay(
        "reply",
        "900000000000000301",
        HELPER,
        T0 + dt.timedelta(hours=2),
        reply_to_author_id=ASKER,
        message_id="900000000000000100",
        content_length=90,
    )
    assert post_signed(client, answer).json()["detail"] == "reply weighted 1.00"


@pytest.mark.parametrize(
    "tamper",
    ["forged_key", "wrong_body", "stale", "future", "no_signature", "bad_hex", "bad_timestamp"],
)
def test_forged_or_stale_signatures_are_401_and_store_nothing(client, tamper):
    linked_team(TeamFactory())
    payload = relay("message", "900000000000000001", HELPER, T0, content_length=10)
    body = json.dumps(payload).encode()
    now = time.time()
    seed = SEED
    if tamper == "forged_key":
        seed = base64.b64encode(bytes([9]) * 32).decode()
    headers = {}
    timestamp = str(
        int(now - 301 if tamper == "stale" else now + 301 if tamper == "future" else now)
    )
    headers["X-Signature-Timestamp"] = timestamp
    headers["X-Signature-Ed25519"] = relay_sign(seed_base64=seed, timestamp=timestamp, body=body)
    if tamper == "wrong_body":
        body = body.replace(b"10", b"99")
    if tamper == "no_signature":
        del headers["X-Signature-Ed25519"]
    if tamper == "bad_hex":
        headers["X-Signature-Ed25519"] = "zz" * 64
    if tamper == "bad_timestamp":
        headers["X-Signature-Timestamp"] = "yesterday"
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert nothing_stored()


def test_a_signature_just_inside_five_minutes_is_taken(client):
    linked_team(TeamFactory())
    payload = relay("message", "900000000000000001", HELPER, T0, content_length=10)
    response = post_signed(client, payload, now=time.time() - 290)
    assert response.status_code == 200
    assert response.json()["outcome"] == "stored"


def test_a_guild_not_linked_through_the_install_link_is_ignored(client):
    typed_only = TeamFactory(discord_guild_id=GUILD)  # claimed, never installed
    lapsed = TeamFactory(
        discord_guild_id="811111111111111112",
        discord_guild_verified_at=timezone.now(),
        discord_guild_lapsed_at=timezone.now(),
    )
    for guild in (GUILD, lapsed.discord_guild_id, "899999999999999999"):
        response = post_signed(
            client, relay("message", "900000000000000001", HELPER, T0, guild=guild)
        )
        assert response.status_code == 200
        assert response.json() == {
            "outcome": "ignored",
            "detail": "This Discord server is linked to no team.",
        }
    assert nothing_stored()
    assert typed_only.contributions.count() == 0


def test_relays_of_one_id_in_two_teams_stay_apart(client):
    first = linked_team(TeamFactory())
    second = linked_team(TeamFactory(), guild="811111111111111113")
    post_signed(client, relay("message", "900000000000000001", HELPER, T0))
    post_signed(
        client, relay("message", "900000000000000001", HELPER, T0, guild="811111111111111113")
    )
    assert first.contributions.count() == 1
    assert second.contributions.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        json.dumps({"type": "message"}).encode(),
        json.dumps(relay("shout", "1", HELPER, T0)).encode(),
        json.dumps(relay("message", "1", "alice", T0)).encode(),
        json.dumps(
            {**relay("message", "1", HELPER, T0), "created_at": "2026-11-30T09:00:00"}
        ).encode(),
        json.dumps(relay("message", "1", HELPER, T0, content_length=-1)).encode(),
        json.dumps(relay("message", "\u0000", HELPER, T0)).encode(),
    ],
)
def test_malformed_relays_are_400_and_store_nothing(client, payload):
    linked_team(TeamFactory())
    response = post_signed(client, payload)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert nothing_stored()


def test_without_the_public_key_the_relay_is_unavailable(client, settings):
    settings.DISCORD_RELAY_PUBLIC_KEY = ""
    linked_team(TeamFactory())
    response = post_signed(client, relay("message", "900000000000000001", HELPER, T0))
    assert response.status_code == 503
    assert nothing_stored()
