"""fabrknt.chain.evm: chain ids, native assets, clients and known events."""

from __future__ import annotations

import pytest

from fabrknt.chain.evm import (
    ChainNotConfigured,
    evm_chain_id,
    evm_client,
    known_event_names,
    native_asset,
)


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
