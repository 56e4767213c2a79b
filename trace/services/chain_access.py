"""The JSON-RPC client a request needs now (proving control of a contract, starting a
backfill): the chain layer's failures as 503 refusals with a stable code, never a 500."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import Web3Exception

from fabrknt.api.errors import Unavailable
from fabrknt.chain.evm import ChainMismatch, ChainNotConfigured, evm_client_serving


class ChainUnreadable(Unavailable):
    """The chain a request reads cannot be read (no RPC configured, or it failed)."""

    code = "chain_unavailable"


def evm_client_for_request(*, chain: str, purpose: str) -> Web3:
    """The checked client of `chain`; `purpose` ends the not-configured message ("so
    <purpose>.")."""
    try:
        return evm_client_serving(chain)
    except ChainMismatch as error:
        raise ChainUnreadable(
            f"The RPC endpoint of {chain} serves chain id {error.served}.", code="chain_mismatch"
        ) from None
    except ChainNotConfigured:
        raise ChainUnreadable(
            f"Chain not configured: {chain} has no RPC endpoint here (CHAIN_RPC_URLS), so "
            f"{purpose}.",
            code="chain_not_configured",
        ) from None
    except (Web3Exception, OSError) as error:
        raise chain_failed(error) from None


def chain_failed(error: Exception) -> ChainUnreadable:
    """The refusal for an endpoint that failed mid-request (web3's or requests' error)."""
    return ChainUnreadable(f"The chain's RPC failed: {type(error).__name__}.")
