"""fabrknt.chain.evm's reads of who controls a contract, against real contracts on an
in-process EVM: `owner()`, the deployer found by binary search, and EIP-1271."""

from __future__ import annotations

from eth_account.messages import defunct_hash_message

from fabrknt.chain.evm import contract_deployer, contract_owner, eip1271_signature_valid
from fabrknt.chain.tests.control_chain import (  # noqa: F401  (fixtures)
    ControlChain,
    control_chain_fixture,
    control_chain_module_fixture,
)


def test_owner_is_what_owner_returns_and_none_without_one(control_chain: ControlChain):
    chain = control_chain
    assert contract_owner(chain.w3, chain.owned) == chain.owner.address
    assert contract_owner(chain.w3, chain.safe_owned) == chain.wallet
    assert contract_owner(chain.w3, chain.factory_made) == chain.owner.address
    assert contract_owner(chain.w3, chain.ownerless) is None  # DemoToken has no owner()
    assert contract_owner(chain.w3, chain.stranger.address) is None  # not a contract

    chain.transfer_ownership(chain.owned, chain.owner, "0x" + "0" * 40)  # renounced
    assert contract_owner(chain.w3, chain.owned) is None


def test_deployer_is_the_sender_of_the_creating_transaction(control_chain: ControlChain):
    chain = control_chain
    assert contract_deployer(chain.w3, chain.owned) == chain.deployer.address
    assert contract_deployer(chain.w3, chain.ownerless) == chain.deployer.address
    assert contract_deployer(chain.w3, chain.factory) == chain.deployer.address
    # Created inside a call to the factory: no receipt names it, so no deployer.
    assert contract_deployer(chain.w3, chain.factory_made) is None
    assert contract_deployer(chain.w3, chain.stranger.address) is None


def test_eip1271_asks_the_contract_wallet(control_chain: ControlChain):
    chain = control_chain
    message_hash = defunct_hash_message(text="hello")
    by_signer = bytes(chain.safe_signer.unsafe_sign_hash(message_hash).signature)
    by_stranger = bytes(chain.stranger.unsafe_sign_hash(message_hash).signature)

    def valid(contract: str, signature: bytes) -> bool:
        return eip1271_signature_valid(
            chain.w3, contract, message_hash=message_hash, signature=signature
        )

    assert valid(chain.wallet, by_signer) is True
    assert valid(chain.wallet, by_stranger) is False
    assert valid(chain.wallet, b"\x00" * 65) is False
    assert valid(chain.owned, by_signer) is False  # no isValidSignature: it reverts
