"""Celery's queues and their dead letters, on Redis or on SQS, for operators.

Redis has no dead-letter queue of its own. A task that failed for good (its retries
exhausted, or an error it does not retry) or hit its redelivery cap is pushed by
`fabrknt.celery.RedeliveryCappedTask`'s failure handler, as JSON, onto the broker's list
`dead_letters:<queue>`: the task's name, id, args, kwargs and the options Celery's own
`retry()` re-sends a task with (headers, retries, time limits, links...), the queue, the
reason and when.

SQS has one: each queue `<prefix><queue>` gets `<prefix><queue>-dead-letters` and a
redrive policy moving a message there after 1 + CELERY_MAX_REDELIVERIES receives (a task
that keeps killing its worker). The failure handler publishes a task that failed for good
into the same queue, so both kinds wait in one place, as Celery messages. `queues_ensure`
creates or updates them: `manage.py ensure_queues` and every worker's start.

Retrying dead letters re-sends them as they were (same id, same retry number: one more
attempt) after forgetting their redelivery count, which would dead-letter them again.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from botocore.exceptions import ClientError
from celery import Task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError
from kombu.utils.json import dumps, loads
from redis import RedisError

from fabrknt.api.errors import NotFound, Unavailable
from fabrknt.celery import app, delivery_key

logger = logging.getLogger(__name__)

SQS_DEAD_LETTERS_SUFFIX = "-dead-letters"
# SQS answers at most 10 messages a receive.
SQS_BATCH = 10
# While a retry moves a received dead letter, no other receive gets it.
SQS_MOVE_SECONDS = 60


class QueueStats(TypedDict):
    name: str
    depth: int
    dead_letter_depth: int
    in_flight: int | None
    oldest_message_age_seconds: float | None


class UnknownQueue(NotFound):
    default_detail = "No such queue."


class BrokerUnavailable(Unavailable):
    default_detail = "The broker cannot be reached."


def queue_names() -> list[str]:
    """The queues workers consume; none without a broker (tasks run in-process)."""
    if not settings.CELERY_BROKER_URL:
        return []
    names = {app.conf.task_default_queue}
    names.update(queue.name for queue in app.conf.task_queues or ())
    return sorted(names)


def on_sqs() -> bool:
    return settings.CELERY_BROKER_URL.startswith("sqs://")


def redis_dead_letters_key(queue: str) -> str:
    return f"dead_letters:{queue}"


def sqs_dead_letters_queue(queue: str) -> str:
    """The dead-letter queue's name before kombu adds CELERY_SQS_QUEUE_PREFIX."""
    return f"{queue}{SQS_DEAD_LETTERS_SUFFIX}"


@contextmanager
def _channel() -> Iterator[Any]:
    """A kombu channel on the broker: its Redis client or its boto3 SQS client carry the
    very settings the workers use."""
    try:
        with app.connection_for_write() as connection:
            yield connection.default_channel
    except (OperationalError, RedisError, ClientError, OSError) as error:
        logger.warning("Broker unreachable for queue operations: %s", error)
        raise BrokerUnavailable() from error


def queue_known(name: str) -> str:
    """`name`, when workers consume that queue; else UnknownQueue (404)."""
    if name not in queue_names():
        raise UnknownQueue()
    return name


# --- the failure handler's side -------------------------------------------------------


def dead_letter(*, task: Task, reason: str) -> None:
    """Move the message `task` is running to its queue's dead letters (from a worker).

    Without a broker there is nothing to move (the error reached the caller). A broker
    that is down loses the dead letter, logged: the worker can do nothing better."""
    request = task.request
    queue = (request.delivery_info or {}).get("routing_key") or app.conf.task_default_queue
    try:
        if on_sqs():
            _sqs_dead_letter(task, queue=queue, reason=reason)
        elif settings.CELERY_BROKER_URL:
            _redis_dead_letter(task, queue=queue, reason=reason)
    except BrokerUnavailable:
        logger.error("Task %s[%s] is lost: %s", task.name, request.id, reason)
        return
    logger.warning("Task %s[%s] dead-lettered in %s: %s", task.name, request.id, queue, reason)


def _redis_dead_letter(task: Task, *, queue: str, reason: str) -> None:
    signature = task.signature_from_request(task.request, queue=queue)
    entry = {
        "task": task.name,
        "id": task.request.id,
        "args": list(signature.args),
        "kwargs": dict(signature.kwargs),
        "options": signature.options,
        "queue": queue,
        "reason": reason,
        "failed_at": timezone.now().isoformat(),
    }
    key, cap = redis_dead_letters_key(queue), settings.CELERY_DEAD_LETTERS_MAX
    with _channel() as channel:
        kept, _ = (
            channel.client.pipeline().lpush(key, dumps(entry)).ltrim(key, 0, cap - 1).execute()
        )
    if kept > cap:
        logger.error("Dead letters of %s past %s: the oldest was dropped", queue, cap)


def _sqs_dead_letter(task: Task, *, queue: str, reason: str) -> None:
    # Published by Celery itself, the body is what the redrive policy would have moved.
    signature = task.signature_from_request(task.request, queue=sqs_dead_letters_queue(queue))
    attributes = {
        "reason": {"DataType": "String", "StringValue": reason},
        "failed_at": {"DataType": "String", "StringValue": timezone.now().isoformat()},
    }
    try:
        signature.apply_async(message_attributes=attributes, add_to_parent=False)
    except (OperationalError, ClientError, OSError) as error:
        raise BrokerUnavailable() from error


# --- what operators read and do -------------------------------------------------------


def queue_stats() -> list[QueueStats]:
    """Every queue's waiting messages and dead letters. `in_flight`: received by a worker
    and not yet acknowledged (SQS only). The oldest message's age is not known from either
    broker's queue (SQS reports it to CloudWatch as ApproximateAgeOfOldestMessage): null."""
    names = queue_names()
    if not names:
        return []
    with _channel() as channel:
        if on_sqs():
            return [_sqs_stats(channel, name) for name in names]
        client = channel.client
        return [
            {
                "name": name,
                "depth": client.llen(name),
                "dead_letter_depth": client.llen(redis_dead_letters_key(name)),
                "in_flight": None,
                "oldest_message_age_seconds": None,
            }
            for name in names
        ]


def retry_dead_letters(name: str) -> int:
    """Send the queue's dead letters back to it, oldest first; how many were moved.

    Only those there when it starts: one that fails again meanwhile waits for the next."""
    queue_known(name)
    with _channel() as channel:
        if on_sqs():
            return _sqs_retry(channel, name)
        return _redis_retry(channel.client, name)


def purge(name: str, *, dead_letters: bool = False) -> int:
    """Drop the queue's waiting messages (or its dead letters); how many were dropped."""
    queue_known(name)
    with _channel() as channel:
        if on_sqs():
            return _sqs_purge(channel, sqs_dead_letters_queue(name) if dead_letters else name)
        if not dead_letters:
            return int(channel.queue_purge(name) or 0)
        with channel.client.pipeline() as pipe:  # MULTI: nothing lands between the two
            length, _ = (
                pipe.llen(redis_dead_letters_key(name))
                .delete(redis_dead_letters_key(name))
                .execute()
            )
        return int(length)


def _forget_deliveries(task_id: str, retries: int | None) -> None:
    cache.delete(delivery_key(task_id, retries))


def _redis_retry(client: Any, name: str) -> int:
    key, moved = redis_dead_letters_key(name), 0
    for _ in range(client.llen(key)):
        raw = client.lindex(key, -1)  # LPUSHed: the oldest is last
        if raw is None:
            break
        entry = loads(raw)
        _forget_deliveries(entry["id"], entry["options"].get("retries"))
        app.signature(
            entry["task"], args=entry["args"], kwargs=entry["kwargs"], options=entry["options"]
        ).apply_async()
        # Sent at least once; 0 when a concurrent retry removed it first (and counts it).
        moved += client.lrem(key, -1, raw)
    return moved


# --- SQS --------------------------------------------------------------------------------


def _sqs_url(channel: Any, name: str) -> str | None:
    try:
        answer = channel.sqs().get_queue_url(QueueName=channel.canonical_queue_name(name))
    except ClientError as error:
        if "NonExistentQueue" in error.response["Error"]["Code"]:
            return None
        raise
    return answer["QueueUrl"]


def _sqs_counts(channel: Any, url: str | None) -> dict[str, int]:
    if url is None:
        return {"waiting": 0, "in_flight": 0}
    attributes = channel.sqs().get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    return {
        "waiting": int(attributes["ApproximateNumberOfMessages"])
        + int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


def _sqs_stats(channel: Any, name: str) -> QueueStats:
    counts = _sqs_counts(channel, _sqs_url(channel, name))
    dead = _sqs_counts(channel, _sqs_url(channel, sqs_dead_letters_queue(name)))
    return {
        "name": name,
        "depth": counts["waiting"],
        "dead_letter_depth": dead["waiting"] + dead["in_flight"],
        "in_flight": counts["in_flight"],
        "oldest_message_age_seconds": None,
    }


def _sqs_purge(channel: Any, name: str) -> int:
    # Not kombu's queue_purge: it adds the count up once per attempt to see it change.
    url = _sqs_url(channel, name)
    if url is None:
        return 0
    counts = _sqs_counts(channel, url)
    channel.sqs().purge_queue(QueueUrl=url)
    return counts["waiting"] + counts["in_flight"]


def sqs_message_headers(body: str) -> dict[str, Any]:
    """The Celery headers inside an SQS body (kombu's JSON, base64-encoded by default)."""
    try:
        message = json.loads(body)
    except ValueError:
        try:
            message = json.loads(base64.b64decode(body))
        except (ValueError, binascii.Error):
            return {}
    return message.get("headers") or {} if isinstance(message, dict) else {}


def _sqs_retry(channel: Any, name: str) -> int:
    source, dead = _sqs_url(channel, name), _sqs_url(channel, sqs_dead_letters_queue(name))
    if source is None or dead is None:
        return 0
    client, moved = channel.sqs(), 0
    remaining = _sqs_counts(channel, dead)["waiting"]
    while moved < remaining:
        received = client.receive_message(
            QueueUrl=dead,
            MaxNumberOfMessages=min(SQS_BATCH, remaining - moved),
            VisibilityTimeout=SQS_MOVE_SECONDS,
            WaitTimeSeconds=1,  # long polling asks every SQS server, not a sample
        ).get("Messages", [])
        if not received:
            break
        for message in received:
            headers = sqs_message_headers(message["Body"])
            if "id" in headers:
                _forget_deliveries(headers["id"], headers.get("retries"))
            client.send_message(QueueUrl=source, MessageBody=message["Body"])
            client.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def queues_ensure() -> list[str]:
    """On SQS: every queue with its dead-letter queue, redrive policy and visibility
    timeout, created or brought up to date (idempotent); the queues' URLs. Nothing to do
    on Redis."""
    if not on_sqs():
        return []
    urls = []
    with _channel() as channel:
        client = channel.sqs()
        for name in queue_names():
            dead = _sqs_create(
                channel,
                sqs_dead_letters_queue(name),
                {"MessageRetentionPeriod": str(settings.CELERY_SQS_DEAD_LETTER_RETENTION_SECONDS)},
            )
            arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
            policy = {
                "deadLetterTargetArn": arn["Attributes"]["QueueArn"],
                "maxReceiveCount": 1 + settings.CELERY_MAX_REDELIVERIES,
            }
            visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
            attributes = {"VisibilityTimeout": str(visibility), "RedrivePolicy": json.dumps(policy)}
            urls.append(_sqs_create(channel, name, attributes))
    return urls


def _sqs_create(channel: Any, name: str, attributes: dict[str, str]) -> str:
    client = channel.sqs()
    url = _sqs_url(channel, name)
    if url is None:
        url = client.create_queue(
            QueueName=channel.canonical_queue_name(name), Attributes=attributes
        )["QueueUrl"]
        logger.info("Created SQS queue %s", url)
    else:  # kombu may have created it first, with only a visibility timeout
        client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url
