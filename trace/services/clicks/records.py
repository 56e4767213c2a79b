"""The stored form of a click: the stream payload, and the values of its row."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import lru_cache
from typing import NotRequired, TypedDict

from django.conf import settings

from trace.services.clicks.validation import ClickInput, ip_for_storage


class ClickRecord(TypedDict):
    """The stored form of a click: one-letter keys, as it sits in the stream as JSON."""

    c: str  # click id
    k: str  # campaign id
    t: float  # when, in Unix seconds
    i: str  # the IP as stored (ip_for_storage)
    v: str  # visitor hash, "" when unknown
    u: str  # user agent
    r: str  # referrer
    m: dict[str, str]  # UTM parameters
    b: str  # bot reason, "" for a person
    p: NotRequired[int]  # 1 when its campaign was paused; absent in older entries
    d: NotRequired[str]  # the day (YYYYMMDD) whose counters count it; unused by the flush


@lru_cache(maxsize=4)
def _daily_salt(day: str) -> bytes:
    # Derived, not stored: every web process agrees on it without coordination, and a
    # day's hashes cannot be linked to another day's without the SECRET_KEY.
    return hmac.new(settings.SECRET_KEY.encode(), f"visitor-salt:{day}".encode(), "sha256").digest()


def visitor_hash(*, day: str, campaign_id: str, ip: str, user_agent: str) -> str:
    """sha256(daily salt, campaign, IP, user agent); "" when neither IP nor agent is known."""
    if not ip and not user_agent:
        return ""
    digest = hashlib.sha256(_daily_salt(day))
    digest.update(f"|{campaign_id}|{ip}|{user_agent}".encode())
    return digest.hexdigest()


def click_record(click: ClickInput, now: float, today: str) -> ClickRecord:
    """The stored form of a click (the stream payload and the row's values)."""
    occurred = click.occurred_at or now
    day = time.strftime("%Y%m%d", time.gmtime(occurred)) if click.occurred_at else today
    return {
        "c": click.click_id,
        "k": click.campaign_id,
        "t": occurred,
        "i": ip_for_storage(click.ip_address),
        "v": visitor_hash(
            day=day, campaign_id=click.campaign_id, ip=click.ip_address, user_agent=click.user_agent
        ),
        "u": click.user_agent,
        "r": click.referrer,
        "m": click.utm_params,
        "b": click.bot_reason,
        "p": int(click.during_pause),
        "d": day,
    }
