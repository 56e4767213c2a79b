"""Celery on SQS, against moto's SQS-compatible server started here: a real worker runs a
task; a task that keeps killing its worker lands in the native dead-letter queue after
1 + CELERY_MAX_REDELIVERIES receives, one that exhausts its retries is put there by the
failure handler, and retry-dead-letters (redrive) runs both."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from fabrknt.celery import app
from fabrknt.ops import queues
from fabrknt.ops.tasks import ping
from fabrknt.ops.tests.conftest import MAX_REDELIVERIES
from fabrknt.ops.tests.queue_tasks import crash, fixed_key, flaky, ran_key
from fabrknt.ops.tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.redis]  # the worker and the test meet in the shared cache


def stats() -> dict:
    (default,) = queues.queue_stats()
    return default


def queue_attributes(name: str) -> dict:
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel.sqs()
        url = client.get_queue_url(QueueName=channel.canonical_queue_name(name))["QueueUrl"]
        return client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def dead_letter_reasons() -> dict[str, str]:
    """The reasons the failure handler gave, by task id (a peek: nothing is taken)."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel.sqs()
        name = channel.canonical_queue_name(queues.sqs_dead_letters_queue("default"))
        messages = client.receive_message(
            QueueUrl=client.get_queue_url(QueueName=name)["QueueUrl"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
    return {
        queues.sqs_message_headers(message["Body"])["id"]: message["MessageAttributes"]["reason"][
            "StringValue"
        ]
        for message in messages
        if "MessageAttributes" in message
    }


@pytest.mark.celery_worker
def test_a_worker_on_sqs_runs_tasks_dead_letters_and_redrives_them(sqs, tmp_path):
    log = tmp_path / "worker.log"
    # prefork: a task that kills its pool process leaves the worker standing
    with celery_worker(log, env=sqs, pool="prefork") as worker:
        token = uuid.uuid4().hex
        ping.apply_async(args=(token,))
        assert wait_for(lambda: cache.get(f"ops:ping:{token}"), worker, log)["hostname"]

        # The worker's start gave the queue its dead-letter queue and redrive policy.
        attributes = queue_attributes("default")
        dead = queue_attributes(queues.sqs_dead_letters_queue("default"))
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": dead["QueueArn"],
            "maxReceiveCount": 1 + MAX_REDELIVERIES,
        }
        assert attributes["VisibilityTimeout"] == str(3 * 60 * 60)
        assert dead["MessageRetentionPeriod"] == str(14 * 24 * 60 * 60)

        # Killing its worker at every delivery: SQS moves it after 2 receives.
        crashing = uuid.uuid4().hex
        crashed = crash.apply_async(args=(crashing,))
        wait_for(lambda: stats()["dead_letter_depth"] == 1, worker, log)
        assert log.read_text().count(f"ops_test.crash[{crashed.id}] received") == 2
        assert cache.get(ran_key(crashing)) is None

        # Failing for good after its retry: the failure handler puts it there.
        failing = uuid.uuid4().hex
        failed = flaky.apply_async(args=(failing,))
        wait_for(lambda: stats()["dead_letter_depth"] == 2, worker, log)
        assert f"Task ops_test.flaky[{failed.id}] dead-lettered in default" in log.read_text()
        assert dead_letter_reasons() == {
            failed.id: f"RuntimeError after 1 retries: broken {failing}"
        }
        assert stats()["depth"] == 0

        cache.set(fixed_key(crashing), 1, 300)
        cache.set(fixed_key(failing), 1, 300)
        assert queues.retry_dead_letters("default") == 2

        assert wait_for(lambda: cache.get(ran_key(crashing)), worker, log) == {"retries": 0}
        assert wait_for(lambda: cache.get(ran_key(failing)), worker, log) == {"retries": 1}
        wait_for(lambda: stats()["dead_letter_depth"] == 0, worker, log)


def test_queue_depth_and_purge_on_sqs(sqs):
    queues.queues_ensure()
    for _ in range(3):
        ping.apply_async(args=("nobody-runs-these",))

    assert stats() == {
        "name": "default",
        "depth": 3,
        "dead_letter_depth": 0,
        "in_flight": 0,
        "oldest_message_age_seconds": None,
    }
    assert queues.purge("default") == 3
    assert stats()["depth"] == 0
    assert queues.retry_dead_letters("default") == 0


def test_ensure_queues_creates_then_updates(sqs):
    out = StringIO()
    call_command("ensure_queues", stdout=out)
    call_command("ensure_queues", stdout=out)  # again: the same queues, brought up to date

    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].endswith("default: dead-letter queue and redrive set")
    assert json.loads(queue_attributes("default")["RedrivePolicy"])["maxReceiveCount"] == 2


def test_ensure_queues_has_nothing_to_do_on_redis():
    out = StringIO()
    call_command("ensure_queues", stdout=out)
    assert out.getvalue() == "The broker is not SQS: Redis needs no queues made in advance.\n"
