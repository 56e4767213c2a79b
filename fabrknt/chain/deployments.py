"""Deploying our contracts (`manage.py deploy_contracts --chain CAIP2`) and finding them.

Apps register what they deploy (`deployable_register` in their AppConfig.ready): the
artifact's name, its constructor arguments, and a `configure` step run after a deployment
and on every later run (e.g. the SBT's base URI follows PUBLIC_BASE_URL). A run keeps the
recorded contract when the same bytecode is recorded on that chain and still has code
there (a development chain restarted from scratch has lost it), unless forced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from web3 import Web3

from fabrknt.chain.evm import contract_artifact, evm_client_serving, has_code
from fabrknt.chain.models import DeployedContract
from fabrknt.chain.signer import receipt_wait, signer_address, signer_send


@dataclasses.dataclass(frozen=True)
class Deployable:
    name: str  # the artifact, "folder/Contract" (contracts/folder/build/Contract_sol_Contract.*)
    constructor_args: Callable[[str], list[Any]]  # chain -> arguments
    # (chain, client, address): brings a deployed contract's settings up to date.
    configure: Callable[[str, Web3, str], None] | None = None


@dataclasses.dataclass(frozen=True)
class Deployment:
    contract: DeployedContract
    deployed: bool  # False: the recorded deployment was kept


_DEPLOYABLES: dict[str, Deployable] = {}


def deployable_register(deployable: Deployable) -> None:
    _DEPLOYABLES[deployable.name] = deployable


def deployables() -> list[Deployable]:
    return [_DEPLOYABLES[name] for name in sorted(_DEPLOYABLES)]


def bytecode_hash(bytecode: str) -> str:
    return Web3.keccak(hexstr=bytecode).to_0x_hex()


def deployed_contract(*, chain: str, name: str) -> DeployedContract | None:
    """The contract in use: the newest deployment of `name` on `chain`, or None."""
    return DeployedContract.objects.filter(chain=chain, name=name).first()


def contract_deploy(*, chain: str, deployable: Deployable, force: bool = False) -> Deployment:
    """Deploys `deployable` on `chain` with the signer key unless the same bytecode is
    recorded there and still has code (or `force`), then runs its `configure` step."""
    client = evm_client_serving(chain)
    abi, bytecode = contract_artifact(deployable.name)
    code_hash = bytecode_hash(bytecode)
    recorded = DeployedContract.objects.filter(
        chain=chain, name=deployable.name, bytecode_hash=code_hash
    ).first()
    if recorded is not None and not force and has_code(client, recorded.address):
        result = Deployment(contract=recorded, deployed=False)
    else:
        args = deployable.constructor_args(chain)
        constructor = client.eth.contract(abi=abi, bytecode=bytecode).constructor(*args)
        transaction_hash = signer_send(
            chain=chain, client=client, transaction_params={"data": constructor.data_in_transaction}
        )
        receipt = receipt_wait(client=client, transaction_hash=transaction_hash)
        address = receipt["contractAddress"]
        assert address is not None  # a mined creation has one
        contract, _ = DeployedContract.objects.update_or_create(
            chain=chain,
            address=address,
            defaults={
                "name": deployable.name,
                "bytecode_hash": code_hash,
                "constructor_args": args,
                "transaction_hash": transaction_hash,
                "deployer": signer_address(),
                "block_number": receipt["blockNumber"],
                "deployed_at": timezone.now(),
            },
        )
        result = Deployment(contract=contract, deployed=True)
    if deployable.configure is not None:
        deployable.configure(chain, client, result.contract.address)
    return result
