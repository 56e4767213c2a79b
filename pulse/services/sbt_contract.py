"""PULSE's soulbound token contract (contracts/pulse/FabrkntSBT.sol) on SBT_CHAIN: how it is
deployed and configured (registered with `deploy_contracts`), and its chain calls."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from web3 import Web3
from web3.contract import Contract

from fabrknt.chain.deployments import Deployable, deployed_contract
from fabrknt.chain.evm import contract_artifact
from fabrknt.chain.signer import receipt_wait, signer_address, signer_send

SBT_CONTRACT = "pulse/FabrkntSBT"
SBT_NAME = "Fabrknt PULSE Milestones"
SBT_SYMBOL = "PULSE"


def sbt_base_uri(*, chain: str, address: str) -> str:
    """The prefix of the contract's tokenURI: our metadata endpoint, tokenURI = it + id."""
    path: str = reverse(
        "pulse-sbt-metadata", kwargs={"chain": chain, "address": address, "token_id": 0}
    )
    base: str = settings.PUBLIC_BASE_URL
    return base + path.removesuffix("0")


def sbt_contract(client: Web3, address: str) -> Contract:
    abi, _ = contract_artifact(SBT_CONTRACT)
    return client.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def sbt_address(chain: str) -> str | None:
    """The FabrkntSBT in use on `chain`, or None when `deploy_contracts` has not run."""
    contract = deployed_contract(chain=chain, name=SBT_CONTRACT)
    return contract.address if contract else None


def _constructor_args(chain: str) -> list[Any]:
    # The base URI names the contract's address, known once deployed: `_configure` sets it.
    return [SBT_NAME, SBT_SYMBOL, "", signer_address()]


def _configure(chain: str, client: Web3, address: str) -> None:
    """Points the token URIs at PUBLIC_BASE_URL (again, when it changed)."""
    contract = sbt_contract(client, address)
    wanted = sbt_base_uri(chain=chain, address=address)
    if contract.functions.baseURI().call() == wanted:
        return
    data = contract.encode_abi("setBaseURI", args=[wanted])
    sent = signer_send(chain=chain, client=client, transaction_params={"to": address, "data": data})
    receipt_wait(client=client, transaction_hash=sent)


SBT_DEPLOYABLE = Deployable(
    name=SBT_CONTRACT, constructor_args=_constructor_args, configure=_configure
)
