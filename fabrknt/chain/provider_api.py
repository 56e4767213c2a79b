"""The providers' webhook management APIs: which addresses Alchemy and Helius watch for us.

Alchemy Notify API, one Address Activity webhook per network
(https://www.alchemy.com/docs/data/webhooks/webhooks-api-endpoints/update-webhook-addresses):

    PATCH {ALCHEMY_NOTIFY_API_URL}/api/update-webhook-addresses
    X-Alchemy-Token: <ALCHEMY_NOTIFY_TOKEN>
    {"webhook_id": "wh_…", "addresses_to_add": [...], "addresses_to_remove": [...]}

at most 500 addresses in each list, idempotent (sending it again has the same result);
answers 200 `{}`, or 400 (invalid input), 401 (token), 404 (webhook) or 503.

Helius (https://www.helius.dev/docs/api-reference/webhooks/update-webhook, and the
helius-sdk's `editWebhook`, which does the same) edits a webhook by replacing it whole:

    GET {HELIUS_API_URL}/v0/webhooks/{webhookID}?api-key=<HELIUS_API_KEY>
        -> {"webhookID", "wallet", "webhookURL", "transactionTypes", "accountAddresses",
            "webhookType", "authHeader", ...}
    PUT {HELIUS_API_URL}/v0/webhooks/{webhookID}?api-key=<HELIUS_API_KEY>
        with that body, less `webhookID` and `wallet`, and the new `accountAddresses`

at most 100,000 addresses a webhook; errors answer `{"error": "..."}`.

The URLs come from settings only, never from users. Every failure is a
`ProviderApiError`; `transient` says whether trying again later can help (the provider
unreachable, slow, rate limiting or failing on its side) or not (a refused token, an
unknown webhook, a refused body).
"""

from __future__ import annotations

import json
from typing import Any

import requests
from django.conf import settings

# (connect, read) seconds: a sync holds its network's lock while it waits.
TIMEOUT_SECONDS = (3.05, 10)
ALCHEMY_MAX_ADDRESSES_PER_LIST = 500
HELIUS_MAX_ADDRESSES = 100_000
# A Helius webhook with 100,000 base58 addresses is about 4.5 MB of JSON.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# A provider says what went wrong in a few words; more is not kept.
ERROR_DETAIL_CHARS = 200


class ProviderApiError(Exception):
    """A provider refused or failed a webhook management call."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def alchemy_webhook_id(chain: str) -> str | None:
    """The Alchemy webhook that watches `chain`'s addresses; None when sync is off for it."""
    if not settings.ALCHEMY_NOTIFY_TOKEN:
        return None
    webhook_id: str | None = settings.ALCHEMY_WEBHOOK_IDS.get(chain) or None
    return webhook_id


def helius_webhook_id() -> str | None:
    """The Helius webhook that watches the Solana projects; None when sync is off."""
    if not (settings.HELIUS_API_KEY and settings.HELIUS_WEBHOOK_ID):
        return None
    webhook_id: str = settings.HELIUS_WEBHOOK_ID
    return webhook_id


def alchemy_webhook_addresses_update(*, webhook_id: str, add: list[str], remove: list[str]) -> None:
    """Add and remove addresses of an Alchemy Address Activity webhook, in as many PATCH
    requests as the per-list limit asks."""
    url = settings.ALCHEMY_NOTIFY_API_URL.rstrip("/") + "/api/update-webhook-addresses"
    headers = {"X-Alchemy-Token": settings.ALCHEMY_NOTIFY_TOKEN}
    step = ALCHEMY_MAX_ADDRESSES_PER_LIST
    for start in range(0, max(len(add), len(remove)), step):
        body = {
            "webhook_id": webhook_id,
            "addresses_to_add": add[start : start + step],
            "addresses_to_remove": remove[start : start + step],
        }
        _call("Alchemy", "PATCH", url, headers=headers, json=body)


def helius_webhook_addresses_replace(*, webhook_id: str, addresses: list[str]) -> bool:
    """Make `addresses` the whole list a Helius webhook watches, keeping the rest of its
    configuration as it is. False when it already watched exactly those: nothing sent."""
    if len(addresses) > HELIUS_MAX_ADDRESSES:
        raise ProviderApiError(
            f"{len(addresses)} addresses; a Helius webhook watches at most {HELIUS_MAX_ADDRESSES}",
            transient=False,
        )
    url = f"{settings.HELIUS_API_URL.rstrip('/')}/v0/webhooks/{webhook_id}"
    params = {"api-key": settings.HELIUS_API_KEY}
    webhook = _call("Helius", "GET", url, params=params)
    current = webhook.get("accountAddresses") if isinstance(webhook, dict) else None
    if not isinstance(current, list) or not all(isinstance(item, str) for item in current):
        raise ProviderApiError(
            "Helius answered something that is not a webhook with accountAddresses",
            transient=False,
        )
    if set(current) == set(addresses):
        return False
    edit = {key: value for key, value in webhook.items() if key not in ("webhookID", "wallet")}
    _call("Helius", "PUT", url, params=params, json={**edit, "accountAddresses": addresses})
    return True


def _call(provider: str, method: str, url: str, **kwargs: Any) -> Any:
    """The JSON answer of one request (None when empty); ProviderApiError otherwise."""
    try:
        with requests.request(
            method, url, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True, **kwargs
        ) as response:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as error:
        raise ProviderApiError(
            f"{provider} unreachable: {type(error).__name__}", transient=True
        ) from error
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProviderApiError(
            f"{provider} answered more than {MAX_RESPONSE_BYTES} bytes", transient=False
        )
    if not 200 <= status < 300:
        raise ProviderApiError(
            f"{provider} answered HTTP {status}{_error_detail(body)}",
            transient=status == 429 or status >= 500,
        )
    if not body.strip():
        return None
    try:
        # Plain json: a Helius webhook is sent back as it came, numbers included.
        return json.loads(body)
    except ValueError as error:
        raise ProviderApiError(
            f"{provider} answered something that is not JSON", transient=False
        ) from error


def _error_detail(body: bytes) -> str:
    """`: <the provider's message>` from an error answer's `message` or `error`, if any."""
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if isinstance(document, dict):
        for key in ("message", "error"):
            detail = document.get(key)
            if isinstance(detail, str) and detail:
                return ": " + detail[:ERROR_DETAIL_CHARS]
    return ""
