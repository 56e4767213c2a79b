"""`/ws/live` in-process (channels' WebsocketCommunicator through fabrknt.asgi's
application, on this run's Redis channel layer): who may connect, who may subscribe to
what, and that a refused subscriber receives nothing of what is published."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.services.organizations import membership_remove
from accounts.services.users import user_sign_out_everywhere
from accounts.tests.clients import as_user
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from fabrknt.asgi import application
from fabrknt.live import tokens
from fabrknt.live.access import access_changed
from fabrknt.live.consumer import CLOSE_SIGNED_OUT
from fabrknt.live.publish import publish
from fabrknt.live.tokens import live_token_issue
from fabrknt.ops.tasks import publish_live

# Committed rows: channels' database_sync_to_async closes "old" connections around each
# call, which inside a test's transaction marks it broken.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ORIGIN = (b"origin", b"http://localhost:8000")
T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """An async scenario from a sync test; what it returns."""
    return async_to_sync(scenario)()


async def refused(communicator: WebsocketCommunicator) -> bool:
    """Whether the handshake was refused (a server answers it with HTTP 403)."""
    connected, _ = await communicator.connect()
    return not connected


def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def _with_session(
    cookie: bytes, origin: tuple[bytes, bytes] | None = ORIGIN
) -> WebsocketCommunicator:
    headers = [(b"cookie", cookie)]
    if origin is not None:
        headers.append(origin)
    return WebsocketCommunicator(application, "/ws/live", headers=headers)


def _with_token(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/live?token={token}")


def test_anonymous_handshake_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/live", headers=[ORIGIN])
        assert await refused(communicator)

    run(scenario)


def test_session_from_an_allowed_origin_connects_and_subscribes(member_campaign):
    user, campaign = member_campaign
    channel = f"campaign:{campaign.pk}"
    cookie = _session_cookie(user)

    async def scenario():
        communicator = _with_session(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"subscribe": channel})
        assert await communicator.receive_json_from() == {"subscribed": channel}
        await sync_to_async(publish)(channel, "click", {"clicks": 3})
        message = await communicator.receive_json_from(timeout=5)
        assert {k: message[k] for k in ("channel", "event", "data")} == {
            "channel": channel,
            "event": "click",
            "data": {"clicks": 3},
        }
        assert message["at"].endswith("+00:00")
        await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("origin", [(b"origin", b"https://evil.example"), None])
def test_session_without_an_allowed_origin_is_refused(member_campaign, origin):
    cookie = _session_cookie(member_campaign[0])

    async def scenario():
        assert await refused(_with_session(cookie, origin=origin))

    run(scenario)


def test_token_is_single_use(member_campaign):
    user, campaign = member_campaign
    token = live_token_issue(user=user).token

    async def scenario():
        first = _with_token(token)
        connected, _ = await first.connect()
        assert connected
        await first.send_json_to({"subscribe": f"campaign:{campaign.pk}"})
        assert await first.receive_json_from() == {"subscribed": f"campaign:{campaign.pk}"}
        assert await refused(_with_token(token))
        assert await refused(_with_token("not-a-token"))
        await first.disconnect()

    run(scenario)


def test_token_expires(member_campaign, monkeypatch):
    user, _ = member_campaign
    monkeypatch.setattr(tokens, "TOKEN_SECONDS", 1)
    token = live_token_issue(user=user).token
    time.sleep(1.5)

    async def scenario():
        assert await refused(_with_token(token))

    run(scenario)


def test_token_of_a_deactivated_user_is_refused(member_campaign):
    user, _ = member_campaign
    token = live_token_issue(user=user).token
    User.objects.filter(pk=user.pk).update(is_active=False)

    async def scenario():
        assert await refused(_with_token(token))

    run(scenario)


def test_member_of_another_organization_gets_not_found_and_nothing(member_campaign):
    member, campaign = member_campaign
    outsider = MembershipFactory(organization=OrganizationFactory()).user
    channels = [f"campaign:{campaign.pk}", f"project:{campaign.project_id}"]
    cookies = _session_cookie(member), _session_cookie(outsider)

    async def scenario():
        inside, outside = _with_session(cookies[0]), _with_session(cookies[1])
        assert (await inside.connect())[0] and (await outside.connect())[0]
        for channel in channels:
            await inside.send_json_to({"subscribe": channel})
            assert await inside.receive_json_from() == {"subscribed": channel}
            await outside.send_json_to({"subscribe": channel})
            assert await outside.receive_json_from() == {"error": "not_found", "channel": channel}
        for channel in channels:
            await sync_to_async(publish)(channel, "click", {"clicks": 1})
        received = [await inside.receive_json_from(timeout=5) for _ in channels]
        assert [message["channel"] for message in received] == channels
        assert await outside.receive_nothing(timeout=0.5)
        await inside.disconnect()
        await outside.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "channel",
    ["campaign:not-a-uuid", "campaign:00000000-0000-0000-0000-000000000000", "unknown:1", "x"],
)
def test_channels_that_cannot_be_seen_answer_not_found(member_campaign, channel):
    cookie = _session_cookie(member_campaign[0])

    async def scenario():
        communicator = _with_session(cookie)
        await communicator.connect()
        await communicator.send_json_to({"subscribe": channel})
        assert await communicator.receive_json_from() == {"error": "not_found", "channel": channel}
        await communicator.disconnect()

    run(scenario)


def test_ops_is_staff_only():
    staff, member = UserFactory(is_staff=True), UserFactory()
    cases = [
        (_session_cookie(member), {"error": "not_found", "channel": "ops"}),
        (_session_cookie(staff), {"subscribed": "ops"}),
    ]

    async def scenario():
        for cookie, answer in cases:
            communicator = _with_session(cookie)
            await communicator.connect()
            await communicator.send_json_to({"subscribe": "ops"})
            assert await communicator.receive_json_from() == answer
            await communicator.disconnect()

    run(scenario)


def test_ops_feed_publishes_the_telemetry_and_metrics_as_their_api_renders_them():
    staff = UserFactory(is_staff=True)
    cookie = _session_cookie(staff)

    async def scenario():
        communicator = _with_session(cookie)
        await communicator.connect()
        await communicator.send_json_to({"subscribe": "ops"})
        await communicator.receive_json_from()
        await sync_to_async(publish_live)()  # the beat task's body
        messages = {}
        for _ in range(2):
            message = await communicator.receive_json_from(timeout=5)
            messages[message["event"]] = message
        await communicator.disconnect()
        return messages

    messages = run(scenario)

    assert {message["channel"] for message in messages.values()} == {"ops"}
    telemetry = messages["telemetry"]["data"]
    assert {name: c["status"] for name, c in telemetry["components"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }
    metrics = messages["metrics"]["data"]
    api = as_user(staff).get("/api/v1/operational/metrics").json()
    assert set(metrics) == set(api)
    assert [w["minutes"] for w in metrics["windows"]] == [1, 5, 15]

    run(scenario)


def test_bad_messages_get_an_error_and_the_connection_stays(member_campaign, settings):
    user, campaign = member_campaign
    settings.LIVE_MAX_SUBSCRIPTIONS = 1
    cookie = _session_cookie(user)

    async def scenario():
        communicator = _with_session(cookie)
        await communicator.connect()
        for text in ("not json", json.dumps(["subscribe"]), json.dumps({"subscribe": 7})):
            await communicator.send_to(text_data=text)
            assert (await communicator.receive_json_from())["error"] == "invalid"
        await communicator.send_json_to({"subscribe": f"campaign:{campaign.pk}"})
        assert await communicator.receive_json_from() == {"subscribed": f"campaign:{campaign.pk}"}
        await communicator.send_json_to({"subscribe": f"project:{campaign.project_id}"})
        assert await communicator.receive_json_from() == {
            "error": "too_many_subscriptions",
            "channel": f"project:{campaign.project_id}",
        }
        await communicator.disconnect()

    run(scenario)


# --- access that ends while connected (fabrknt/live/access.py) ------------------------


def test_a_member_taken_out_loses_the_channel_at_once_and_cannot_subscribe_again(
    member_campaign,
):
    member, campaign = member_campaign
    organization = campaign.project.organization
    owner = MembershipFactory(organization=organization, role=Role.OWNER)
    stays = MembershipFactory(organization=organization).user
    channel = f"campaign:{campaign.pk}"
    cookies = _session_cookie(member), _session_cookie(stays)
    membership = member.memberships.get()

    async def scenario():
        leaving, staying = _with_session(cookies[0]), _with_session(cookies[1])
        for communicator in (leaving, staying):
            assert (await communicator.connect())[0]
            await communicator.send_json_to({"subscribe": channel})
            assert await communicator.receive_json_from() == {"subscribed": channel}
        await sync_to_async(membership_remove)(
            membership=membership, removed_by_role=Role.OWNER, actor=owner.user
        )
        assert await leaving.receive_json_from(timeout=5) == {
            "error": "not_found",
            "channel": channel,
        }
        await sync_to_async(publish)(channel, "click", {"clicks": 2})
        assert (await staying.receive_json_from(timeout=5))["data"] == {"clicks": 2}
        assert await leaving.receive_nothing(timeout=0.5)
        await leaving.send_json_to({"subscribe": channel})
        assert await leaving.receive_json_from() == {"error": "not_found", "channel": channel}
        await leaving.disconnect()
        await staying.disconnect()

    run(scenario)


def _admin_membership_post(membership, **change: str) -> dict[str, str]:
    """The organization's admin change form, its one membership row changed by `change`
    (`role`, or `DELETE`)."""
    organization = membership.organization
    row = {"id": str(membership.pk), "organization": str(organization.pk)}
    row |= {"user": str(membership.user_id), "role": membership.role, **change}
    return {
        "name": organization.name,
        "slug": organization.slug,
        "daily_request_quota": str(organization.daily_request_quota),
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **{f"memberships-0-{name}": value for name, value in row.items()},
    }


@pytest.mark.parametrize("change", [{"DELETE": "on"}, {"role": Role.VIEWER}])
def test_an_operator_changing_a_membership_in_the_admin_rechecks_the_open_connection(
    member_campaign, change
):
    # Removed in the admin: the campaign is gone (not_found). Made a viewer: it still
    # reads the campaign, so the channel stays and the next event arrives.
    member, campaign = member_campaign
    membership = member.memberships.get()
    channel = f"campaign:{campaign.pk}"
    operator = Client()
    operator.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_organization_change", args=[membership.organization_id])
    cookie, form = _session_cookie(member), _admin_membership_post(membership, **change)

    async def scenario():
        communicator = _with_session(cookie)
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"subscribe": channel})
        assert await communicator.receive_json_from() == {"subscribed": channel}
        saved = await sync_to_async(operator.post)(url, form)
        assert saved.status_code == 302
        if "DELETE" in change:
            assert await communicator.receive_json_from(timeout=5) == {
                "error": "not_found",
                "channel": channel,
            }
        else:
            await sync_to_async(publish)(channel, "click", {"clicks": 3})
            assert (await communicator.receive_json_from(timeout=5))["data"] == {"clicks": 3}
        await communicator.disconnect()

    run(scenario)
    remaining = list(membership.organization.memberships.values_list("role", flat=True))
    assert remaining == ([] if "DELETE" in change else [Role.VIEWER])


def test_signing_out_everywhere_closes_the_open_connections(member_campaign):
    member, campaign = member_campaign
    cookie = _session_cookie(member)
    token = live_token_issue(user=member).token

    async def scenario():
        by_session, by_token = _with_session(cookie), _with_token(token)
        for communicator in (by_session, by_token):
            assert (await communicator.connect())[0]
        await sync_to_async(user_sign_out_everywhere)(user=member)
        for communicator in (by_session, by_token):
            closed = await communicator.receive_output(timeout=5)
            assert closed == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}

    run(scenario)


def test_a_user_no_longer_staff_loses_ops():
    staff = UserFactory(is_staff=True)
    cookie = _session_cookie(staff)

    def unstaff():
        with transaction.atomic():
            User.objects.filter(pk=staff.pk).update(is_staff=False)
            access_changed(user_id=staff.pk)

    async def scenario():
        communicator = _with_session(cookie)
        await communicator.connect()
        await communicator.send_json_to({"subscribe": "ops"})
        assert await communicator.receive_json_from() == {"subscribed": "ops"}
        await sync_to_async(unstaff)()
        assert await communicator.receive_json_from(timeout=5) == {
            "error": "not_found",
            "channel": "ops",
        }
        await communicator.send_json_to({"subscribe": "ops"})
        assert await communicator.receive_json_from() == {"error": "not_found", "channel": "ops"}
        await communicator.disconnect()

    run(scenario)
