"""A real EVM (py-evm through eth-tester) with contracts whose control can be proven, and
the eth-account keys that control them.

- `owned`: an OwnedContract deployed by `deployer`, whose `owner()` is `owner`;
- `safe_owned`: an OwnedContract whose owner is a contract wallet (`wallet`, the EIP-1271
  OwnedWallet) that accepts signatures by `safe_signer`;
- `factory_made`: an OwnedContract (owner `owner`) created by OwnedContractFactory in a
  call `stranger` sent, so no receipt names it and it has no deployer we can find;
- `ownerless`: a DemoToken (no `owner()`) deployed by `deployer`.

Starting py-evm takes a couple of seconds, so one chain serves a test module and each test
runs between an EVM snapshot and its revert.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3
from web3.logs import DISCARD

from fabrknt.chain.evm import contract_artifact, evm_client_override


@dataclasses.dataclass
class ControlChain:
    w3: Web3
    deployer: LocalAccount
    owner: LocalAccount
    safe_signer: LocalAccount
    stranger: LocalAccount
    owned: str
    safe_owned: str
    wallet: str
    factory: str
    factory_made: str
    ownerless: str

    @property
    def chain(self) -> str:
        return f"eip155:{self.w3.eth.chain_id}"

    def transact(self, sender: LocalAccount, call) -> dict:
        tx_hash = call.transact({"from": sender.address})
        return self.w3.eth.get_transaction_receipt(tx_hash)

    def deploy(self, sender: LocalAccount, name: str, *args) -> str:
        abi, bytecode = contract_artifact(name)
        receipt = self.transact(
            sender, self.w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args)
        )
        return receipt["contractAddress"]

    def transfer_ownership(self, contract: str, sender: LocalAccount, new_owner: str) -> None:
        abi, _ = contract_artifact("control/OwnedContract")
        owned = self.w3.eth.contract(address=contract, abi=abi)
        self.transact(sender, owned.functions.transferOwnership(new_owner))


def personal_sign(account: LocalAccount, text: str) -> str:
    """What a browser wallet's personal_sign returns: EIP-191, 0x hex."""
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def _funded_account(w3: Web3) -> LocalAccount:
    account = Account.create()
    w3.provider.ethereum_tester.add_account(account.key.hex())
    w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": account.address, "value": w3.to_wei(10, "ether")}
    )
    return account


def _control_chain() -> ControlChain:
    with warnings.catch_warnings():  # eth-tester resets the filters to "default" on start
        w3 = Web3(EthereumTesterProvider())
    deployer, owner, safe_signer, stranger = (_funded_account(w3) for _ in range(4))
    chain = ControlChain(w3, deployer, owner, safe_signer, stranger, *[""] * 6)
    chain.owned = chain.deploy(deployer, "control/OwnedContract", owner.address)
    for _ in range(3):  # blocks between deployments, so finding one is a search
        w3.eth.send_transaction({"from": w3.eth.accounts[1], "to": w3.eth.accounts[2], "value": 1})
    chain.wallet = chain.deploy(deployer, "eip1271/OwnedWallet", safe_signer.address)
    chain.safe_owned = chain.deploy(deployer, "control/OwnedContract", chain.wallet)
    chain.factory = chain.deploy(deployer, "control/OwnedContractFactory")
    abi, _ = contract_artifact("control/OwnedContractFactory")
    factory = w3.eth.contract(address=chain.factory, abi=abi)
    receipt = chain.transact(stranger, factory.functions.create(owner.address))
    chain.factory_made = factory.events.Created().process_receipt(receipt, errors=DISCARD)[0][
        "args"
    ]["created"]
    chain.ownerless = chain.deploy(deployer, "trace/DemoToken", 6)
    for _ in range(5):
        w3.eth.send_transaction({"from": w3.eth.accounts[1], "to": w3.eth.accounts[2], "value": 1})
    return chain


# Registered under short names; the functions' own names differ so test modules can
# import them without shadowing the fixture arguments.
@pytest.fixture(scope="module", name="control_chain_module")
def control_chain_module_fixture() -> Iterator[ControlChain]:
    chain = _control_chain()
    with evm_client_override(chain.chain, chain.w3):
        yield chain


@pytest.fixture(name="control_chain")
def control_chain_fixture(control_chain_module: ControlChain) -> Iterator[ControlChain]:
    snapshot = control_chain_module.w3.testing.snapshot()
    yield control_chain_module
    control_chain_module.w3.testing.revert(snapshot)
