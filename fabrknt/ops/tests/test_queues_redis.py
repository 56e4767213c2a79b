"""Dead letters on Redis: a real worker dead-letters a task that exhausted its retries,
and retrying the dead letters runs it again; queue depth and purge on the broker."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from fabrknt.celery import delivery_key
from fabrknt.ops import queues
from fabrknt.ops.tasks import ping
from fabrknt.ops.tests.queue_tasks import fixed_key, flaky, ran_key
from fabrknt.ops.tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.celery_worker]


def dead_letters(client: redis.Redis) -> list[dict]:
    return [
        json.loads(raw) for raw in client.lrange(queues.redis_dead_letters_key("default"), 0, -1)
    ]


def stats() -> dict:
    (default,) = queues.queue_stats()
    return default


def test_a_task_that_exhausts_its_retries_is_dead_lettered_and_retried(broker, tmp_path):
    token = uuid.uuid4().hex
    log = tmp_path / "worker.log"
    with celery_worker(log, env={}) as worker:
        sent = flaky.apply_async(args=(token,))

        wait_for(lambda: stats()["dead_letter_depth"] == 1, worker, log)

        (entry,) = dead_letters(broker)
        assert {k: entry[k] for k in ("task", "id", "args", "kwargs", "queue")} == {
            "task": "ops_test.flaky",
            "id": sent.id,
            "args": [token],
            "kwargs": {},
            "queue": "default",
        }
        assert entry["reason"] == f"RuntimeError after 1 retries: broken {token}"
        assert entry["failed_at"]
        assert entry["options"]["task_id"] == sent.id
        assert entry["options"]["retries"] == 1
        assert entry["options"]["queue"] == "default"
        assert stats() == {
            "name": "default",
            "depth": 0,
            "dead_letter_depth": 1,
            "in_flight": None,
            "oldest_message_age_seconds": None,
        }
        assert cache.get(ran_key(token)) is None
        assert f"Task ops_test.flaky[{sent.id}] dead-lettered in default" in log.read_text()

        cache.set(fixed_key(token), 1, 300)  # the cause is mended
        assert queues.retry_dead_letters("default") == 1

        # Re-sent as it was: same id, its retry number kept (one more attempt).
        assert wait_for(lambda: cache.get(ran_key(token)), worker, log) == {"retries": 1}
        assert stats()["dead_letter_depth"] == 0
        assert wait_for(
            lambda: f"ops_test.flaky[{sent.id}] succeeded" in log.read_text(), worker, log
        )


def test_a_task_past_its_redelivery_cap_is_dead_lettered_and_retried(broker, tmp_path):
    token, task_id = uuid.uuid4().hex, str(uuid.uuid4())
    # As if delivered 1 + CELERY_MAX_REDELIVERIES times, each killing its worker.
    cache.set(delivery_key(task_id, 0), 1 + settings.CELERY_MAX_REDELIVERIES, 600)
    log = tmp_path / "worker.log"
    with celery_worker(log, env={}) as worker:
        ping.apply_async(args=(token,), task_id=task_id)

        wait_for(lambda: stats()["dead_letter_depth"] == 1, worker, log)
        (entry,) = dead_letters(broker)
        assert (entry["task"], entry["id"], entry["args"]) == ("ops.ping", task_id, [token])
        assert entry["reason"] == (
            f"delivered {2 + settings.CELERY_MAX_REDELIVERIES} times, the cap is 1 + "
            f"{settings.CELERY_MAX_REDELIVERIES} redeliveries"
        )

        # Retrying forgets the count, else the cap would dead-letter it again at once.
        assert queues.retry_dead_letters("default") == 1
        assert wait_for(lambda: cache.get(f"ops:ping:{token}"), worker, log)["hostname"]
        assert stats()["dead_letter_depth"] == 0


def test_purge_drops_the_waiting_messages_or_the_dead_letters(broker):
    for _ in range(3):
        ping.apply_async(args=("nobody-runs-these",))
    ping.push_request(id="dead-1", args=("x",), kwargs={}, is_eager=False, retries=0)
    try:
        queues.dead_letter(task=ping, reason="test")
    finally:
        ping.pop_request()
    assert (stats()["depth"], stats()["dead_letter_depth"]) == (3, 1)

    assert queues.purge("default") == 3
    assert (stats()["depth"], stats()["dead_letter_depth"]) == (0, 1)
    assert queues.purge("default", dead_letters=True) == 1
    assert (stats()["depth"], stats()["dead_letter_depth"]) == (0, 0)
    assert queues.retry_dead_letters("default") == 0


def test_an_unknown_queue_is_refused(broker):
    with pytest.raises(queues.UnknownQueue):
        queues.purge("celery")
    with pytest.raises(queues.UnknownQueue):
        queues.retry_dead_letters("nope")
    assert broker.dbsize() == 0


def test_dead_letters_keep_the_newest_up_to_the_cap(broker, settings, caplog):
    settings.CELERY_DEAD_LETTERS_MAX = 2
    for number in range(3):
        ping.push_request(id=f"dead-{number}", args=("x",), kwargs={}, is_eager=False, retries=0)
        try:
            queues.dead_letter(task=ping, reason="test")
        finally:
            ping.pop_request()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert [entry["id"] for entry in dead_letters(client)] == ["dead-2", "dead-1"]
    assert "the oldest was dropped" in caplog.text
