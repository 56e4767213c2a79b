"""`/api/v1/queue/`: staff see the queues and retry or purge them; nobody else does."""

from __future__ import annotations

import pytest

from accounts.tests.clients import JsonClient, as_user
from accounts.tests.factories import UserFactory
from fabrknt.ops import queues
from fabrknt.ops.tasks import ping

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.celery_worker]


@pytest.fixture
def staff() -> JsonClient:
    return as_user(UserFactory(is_staff=True))


def dead_letter_one() -> None:
    ping.push_request(id="dead-1", args=("x",), kwargs={}, is_eager=False, retries=0)
    try:
        queues.dead_letter(task=ping, reason="test")
    finally:
        ping.pop_request()


def test_staff_see_every_queue_with_its_depths(broker, staff):
    ping.apply_async(args=("waits",))
    dead_letter_one()

    answer = staff.get("/api/v1/queue/")

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "name": "default",
            "depth": 1,
            "dead_letter_depth": 1,
            "in_flight": None,
            "oldest_message_age_seconds": None,
        }
    ]


def test_the_operational_figures_carry_the_queues_and_alarm_on_a_dead_letter(broker, staff):
    before = staff.get("/api/v1/operational/metrics").json()
    dead_letter_one()
    after = staff.get("/api/v1/operational/metrics").json()

    def dead_letters(body: dict) -> tuple[int, str]:
        (queue,) = body["queues"]
        (alarm,) = [alarm for alarm in body["alarms"] if alarm["name"] == "dead_letters"]
        return queue["dead_letter_depth"], alarm["state"]

    assert dead_letters(before) == (0, "ok")
    assert dead_letters(after) == (1, "alarm")


def test_metrics_expose_the_queue_depths_and_dead_letters(broker):
    from django.test import Client
    from prometheus_client.parser import text_string_to_metric_families

    ping.apply_async(args=("waits",))
    dead_letter_one()

    text = Client().get("/metrics").content.decode()

    samples = {
        (sample.name, sample.labels.get("queue")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("fabrknt_queue_depth", "default")] == 1
    assert samples[("fabrknt_queue_dead_letters", "default")] == 1


def test_staff_retry_the_dead_letters(broker, staff):
    dead_letter_one()

    answer = staff.post("/api/v1/queue/default/retry-dead-letters")

    assert (answer.status_code, answer.json()) == (200, {"moved": 1})
    assert broker.llen("default") == 1
    assert broker.llen(queues.redis_dead_letters_key("default")) == 0


def test_staff_purge_the_waiting_messages_or_the_dead_letters(broker, staff):
    ping.apply_async(args=("waits",))
    ping.apply_async(args=("waits too",))
    dead_letter_one()

    assert staff.post("/api/v1/queue/default/purge").json() == {"purged": 2}
    answer = staff.post("/api/v1/queue/default/purge", {"dead_letters": True})
    assert (answer.status_code, answer.json()) == (200, {"purged": 1})
    assert broker.llen("default") == 0
    assert broker.llen(queues.redis_dead_letters_key("default")) == 0


@pytest.mark.parametrize("action", ["retry-dead-letters", "purge"])
def test_an_unknown_queue_is_404(broker, staff, action):
    ping.apply_async(args=("waits",))

    answer = staff.post(f"/api/v1/queue/celery/{action}")

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert broker.llen("default") == 1


def test_a_bad_purge_body_is_400_and_purges_nothing(broker, staff):
    ping.apply_async(args=("waits",))

    answer = staff.post("/api/v1/queue/default/purge", {"dead_letters": "maybe"})

    assert answer.status_code == 400
    assert "dead_letters" in answer.json()
    assert broker.llen("default") == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/queue/"),
        ("post", "/api/v1/queue/default/retry-dead-letters"),
        ("post", "/api/v1/queue/default/purge"),
    ],
)
def test_only_staff_may(broker, method, path):
    ping.apply_async(args=("waits",))
    dead_letter_one()

    member = getattr(as_user(UserFactory()), method)(path)
    anonymous = getattr(JsonClient(), method)(path)

    assert member.status_code == 403
    assert anonymous.status_code == 401
    assert broker.llen("default") == 1
    assert broker.llen(queues.redis_dead_letters_key("default")) == 1


def test_without_a_broker_there_are_no_queues(staff, settings):
    settings.CELERY_BROKER_URL = ""

    assert staff.get("/api/v1/queue/").json() == []
    assert staff.post("/api/v1/queue/default/purge").status_code == 404
