"""fabrknt.chain: addresses, webhook signatures, and Alchemy/Helius payloads into values."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from eth_account import Account

from fabrknt.chain.addresses import (
    address_key,
    address_normalize,
    chain_namespace,
    evm_address_normalize,
    solana_address_validate,
)
from fabrknt.chain.alchemy import NETWORK_CHAINS, alchemy_payload_parse
from fabrknt.chain.evm import (
    ChainNotConfigured,
    evm_chain_id,
    evm_client,
    known_event_names,
    native_asset,
)
from fabrknt.chain.helius import helius_payload_parse
from fabrknt.chain.signatures import hmac_sha256_hex_valid, shared_secret_valid
from fabrknt.chain.wire import PayloadError, json_body_parse
from trace.tests.test_webhooks_alchemy import DELIVERY as ALCHEMY_DELIVERY
from trace.tests.test_webhooks_helius import DELIVERY as HELIUS_DELIVERY

CHECKSUMMED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_evm_addresses_in_any_case_come_back_checksummed():
    assert evm_address_normalize(CHECKSUMMED.lower()) == CHECKSUMMED
    assert evm_address_normalize("0x" + CHECKSUMMED[2:].upper()) == CHECKSUMMED
    assert evm_address_normalize(CHECKSUMMED) == CHECKSUMMED
    account = Account.create()
    assert evm_address_normalize(account.address.lower()) == account.address


@pytest.mark.parametrize(
    "bad",
    ["", "0x", "0x123", CHECKSUMMED[2:], CHECKSUMMED + "00", "0x" + "g" * 40,
     "0x" + CHECKSUMMED[2:].swapcase(), None, 123],
)  # fmt: skip
def test_bad_evm_addresses_are_refused(bad):
    with pytest.raises(ValueError):
        evm_address_normalize(bad)


def test_solana_addresses_are_base58_of_32_bytes():
    assert solana_address_validate("11111111111111111111111111111111") == (
        "11111111111111111111111111111111"
    )
    assert solana_address_validate("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    for bad in ["", "0OIl" * 10, "1" * 31, "z" * 44, CHECKSUMMED]:
        with pytest.raises(ValueError):
            solana_address_validate(bad)


def test_address_normalize_follows_the_chain_namespace():
    assert address_normalize(chain="eip155:8453", address=CHECKSUMMED.lower()) == CHECKSUMMED
    solana = "So11111111111111111111111111111111111111112"
    assert address_normalize(chain="solana:mainnet", address=solana) == solana
    assert chain_namespace("eip155:1") == "eip155"
    for chain in ["cosmos:hub-4", "eip155", "", "EIP155:1"]:
        with pytest.raises(ValueError):
            address_normalize(chain=chain, address=CHECKSUMMED)
    assert address_key(CHECKSUMMED) == CHECKSUMMED.lower()
    assert address_key(solana) == solana


def test_hmac_signature_check():
    body = b'{"webhookId":"wh_1"}'
    good = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert hmac_sha256_hex_valid(secret="key", body=body, signature=good)
    assert hmac_sha256_hex_valid(secret="key", body=body, signature=good.upper())
    assert not hmac_sha256_hex_valid(secret="key", body=body + b" ", signature=good)
    assert not hmac_sha256_hex_valid(secret="other", body=body, signature=good)
    assert not hmac_sha256_hex_valid(secret="", body=body, signature=good)
    assert not hmac_sha256_hex_valid(secret="key", body=body, signature=None)


def test_shared_secret_check():
    assert shared_secret_valid(secret="s3cret", given="s3cret")
    assert not shared_secret_valid(secret="s3cret", given="s3cre")
    assert not shared_secret_valid(secret="s3cret", given=None)
    assert not shared_secret_valid(secret="", given="")


def test_alchemy_delivery_into_values():
    event = alchemy_payload_parse(json_body_parse(_json(ALCHEMY_DELIVERY)))

    assert (event.webhook_id, event.event_id, event.network, event.chain) == (
        "wh_k63lg72rxda78gce",
        "whevt_vq499kv7elmlbp2v",
        "ETH_MAINNET",
        "eip155:1",
    )
    eth, usdc, nft = event.activities
    assert (eth.amount, eth.asset, eth.log_index, eth.token_address) == (
        Decimal("1.5"), "ETH", -1, None,
    )  # fmt: skip
    assert (usdc.amount, usdc.log_index, usdc.block_number) == (
        Decimal("293.092129"), 110, 14628004,
    )  # fmt: skip
    # no decimals and no value: an NFT moves, no fungible amount
    assert (nft.amount, nft.asset, nft.log_index) == (Decimal(0), "", 3)


def test_alchemy_value_is_the_fallback_when_raw_amounts_are_missing():
    payload = _json_copy(ALCHEMY_DELIVERY)
    del payload["event"]["activity"][0]["rawContract"]
    event = alchemy_payload_parse(json_body_parse(_json(payload)))
    # parsed from the JSON text as a Decimal, never through a float
    assert event.activities[0].amount == Decimal("1.5")


def test_alchemy_created_at_may_be_epoch_milliseconds():
    payload = _json_copy(ALCHEMY_DELIVERY)
    payload["createdAt"] = 1701388800000
    assert alchemy_payload_parse(payload).created_at.isoformat() == "2023-12-01T00:00:00+00:00"


def test_alchemy_networks_map_to_caip2():
    assert NETWORK_CHAINS["BASE_MAINNET"] == "eip155:8453"
    assert NETWORK_CHAINS["ETH_SEPOLIA"] == "eip155:11155111"
    assert NETWORK_CHAINS["ARB_MAINNET"] == "eip155:42161"
    assert NETWORK_CHAINS["OPT_MAINNET"] == "eip155:10"
    assert NETWORK_CHAINS["MATIC_MAINNET"] == "eip155:137"
    assert NETWORK_CHAINS["BASE_SEPOLIA"] == "eip155:84532"


def test_helius_delivery_into_values():
    swap, transfer, _, failed = helius_payload_parse(json_body_parse(_json(HELIUS_DELIVERY)))

    assert swap.type == "SWAP"
    assert swap.occurred_at.isoformat() == "2025-09-09T13:39:10+00:00"
    assert [t.amount for t in swap.native_transfers] == [Decimal("0.25")]
    assert transfer.native_transfers[0].asset == "SOL"
    assert (swap.failed, failed.failed) == (False, True)


def test_payload_errors_have_drf_shape():
    with pytest.raises(PayloadError) as raised:
        alchemy_payload_parse({"type": "ADDRESS_ACTIVITY"})
    assert raised.value.errors == {
        "webhookId": ["Field required"],
        "id": ["Field required"],
        "createdAt": ["Field required"],
        "event": ["Field required"],
    }


def test_evm_helpers(settings):
    settings.CHAIN_RPC_URLS = {"eip155:8453": "http://127.0.0.1:1"}
    assert evm_chain_id("eip155:8453") == 8453
    assert native_asset("eip155:137") == "POL"
    assert native_asset("eip155:8453") == "ETH"
    assert evm_client("eip155:8453").provider.endpoint_uri == "http://127.0.0.1:1"
    with pytest.raises(ChainNotConfigured):
        evm_client("eip155:1")
    with pytest.raises(ValueError):
        evm_chain_id("solana:mainnet")
    names = known_event_names()
    assert names["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"] == (
        "Transfer"
    )
    assert {"Swap", "Mint"} <= set(names.values())


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


def _json_copy(payload):
    return json.loads(json.dumps(payload))
