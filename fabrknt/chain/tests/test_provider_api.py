"""The webhook management clients against a local server speaking Alchemy's and Helius'
documented APIs (fabrknt/chain/tests/provider_server.py cites the shapes): the limits the
providers document, and which failures are worth retrying."""

from __future__ import annotations

import pytest

from fabrknt.chain.provider_api import (
    HELIUS_MAX_ADDRESSES,
    ProviderApiError,
    alchemy_webhook_addresses_update,
    alchemy_webhook_id,
    helius_webhook_addresses_replace,
    helius_webhook_id,
)
from fabrknt.chain.tests.provider_server import (
    HELIUS_WEBHOOK,
    ProviderServer,
    providers_fixture,  # noqa: F401  (fixture)
)


def _hex(n: int) -> str:
    return f"0x{n:040x}"


def test_alchemy_lists_longer_than_500_go_in_several_requests(providers: ProviderServer):
    add = [_hex(n) for n in range(1, 601)]
    remove = [_hex(n) for n in range(1001, 1004)]

    alchemy_webhook_addresses_update(webhook_id="wh_eth_mainnet", add=add, remove=remove)

    assert [request.body for request in providers.requests] == [
        {
            "webhook_id": "wh_eth_mainnet",
            "addresses_to_add": add[:500],
            "addresses_to_remove": remove,
        },
        {"webhook_id": "wh_eth_mainnet", "addresses_to_add": add[500:], "addresses_to_remove": []},
    ]
    assert providers.alchemy["wh_eth_mainnet"] == set(add)


@pytest.mark.parametrize(
    ("status", "transient"), [(400, False), (404, False), (429, True), (500, True), (503, True)]
)
def test_which_alchemy_answers_are_worth_retrying(providers: ProviderServer, status, transient):
    providers.fail_next = [status]

    with pytest.raises(ProviderApiError) as failed:
        alchemy_webhook_addresses_update(webhook_id="wh_eth_mainnet", add=[_hex(1)], remove=[])

    assert str(failed.value) == f"Alchemy answered HTTP {status}: Webhooks service unavailable"
    assert failed.value.transient is transient


def test_an_unknown_alchemy_webhook_is_not_retried(providers: ProviderServer):
    with pytest.raises(ProviderApiError) as failed:
        alchemy_webhook_addresses_update(webhook_id="wh_gone", add=[_hex(1)], remove=[])

    assert str(failed.value) == "Alchemy answered HTTP 404: Webhook not found"
    assert failed.value.transient is False


def test_an_unreachable_provider_is_transient(providers: ProviderServer, settings):
    settings.HELIUS_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens

    with pytest.raises(ProviderApiError) as failed:
        helius_webhook_addresses_replace(webhook_id=HELIUS_WEBHOOK, addresses=[])

    assert str(failed.value) == "Helius unreachable: ConnectionError"
    assert failed.value.transient is True


def test_helius_refuses_a_wrong_key_with_its_error_shape(providers: ProviderServer, settings):
    settings.HELIUS_API_KEY = "wrong"

    with pytest.raises(ProviderApiError) as failed:
        helius_webhook_addresses_replace(webhook_id=HELIUS_WEBHOOK, addresses=[])

    assert str(failed.value) == "Helius answered HTTP 401: invalid api key provided"
    assert failed.value.transient is False
    assert providers.sent("PUT") == []


def test_more_addresses_than_a_helius_webhook_holds_are_refused_before_sending(
    providers: ProviderServer,
):
    too_many = [str(n) for n in range(HELIUS_MAX_ADDRESSES + 1)]

    with pytest.raises(ProviderApiError) as failed:
        helius_webhook_addresses_replace(webhook_id=HELIUS_WEBHOOK, addresses=too_many)

    assert failed.value.transient is False
    assert providers.requests == []


def test_sync_is_off_until_its_settings_are_set(settings):
    settings.ALCHEMY_NOTIFY_TOKEN, settings.ALCHEMY_WEBHOOK_IDS = "token", {"eip155:1": "wh_a"}
    settings.HELIUS_API_KEY, settings.HELIUS_WEBHOOK_ID = "key", ""

    assert alchemy_webhook_id("eip155:1") == "wh_a"
    assert alchemy_webhook_id("eip155:8453") is None
    assert helius_webhook_id() is None
    settings.ALCHEMY_NOTIFY_TOKEN = ""
    assert alchemy_webhook_id("eip155:1") is None
