"""A real EVM (py-evm through eth-tester) with FabrkntEscrow and the assets of a deal.

Two escrows are deployed from the committed bytecode: `escrow`, whose arbiter is
`arbiter`, and `open_escrow`, without an arbiter; both charge FEE_BPS to `fee_recipient`.
The buyer holds test USDC, the seller an ERC-721 token and two contracts it owns
(Ownable and Ownable2Step). Every transaction of a deal is built by
`fabric.chain.escrow` and sent from the party's (eth-tester, unlocked) account, so the
tests run the module and the bytecode together.

Starting py-evm takes a couple of seconds, so one chain serves a test module and each test
runs between an EVM snapshot and its revert.
"""

from __future__ import annotations

import ast
import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils import function_signature_to_4byte_selector
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.types import TxReceipt

from fabric.chain.escrow import (
    AssetKind,
    DealCreated,
    DealTerms,
    EscrowEvent,
    TransactionRequest,
    create_deal_transaction,
    deal_ref,
    escrow_contract,
    receipt_events,
)
from fabrknt.chain.evm import REVERTED, ZERO_ADDRESS, contract_artifact

FEE_BPS = 250  # 2.5%
USDC = 10**6
ETHER = 10**18
NFT_ID = 42
DAY = 24 * 3600


def error_selector(signature: str) -> str:
    return "0x" + function_signature_to_4byte_selector(signature).hex()


def revert_data(error: BaseException) -> bytes:
    """The revert data of a refused call: web3's ContractLogicError carries it as hex;
    eth-tester's TransactionFailed as the repr of bytes in its message."""
    data = getattr(error, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    message = str(error.args[0])
    prefix = "execution reverted: "
    assert message.startswith(prefix), message
    value = ast.literal_eval(message.removeprefix(prefix))
    assert isinstance(value, bytes), message
    return value


@dataclasses.dataclass
class EscrowChain:
    w3: Web3
    escrow: Contract
    open_escrow: Contract
    usdc: Contract
    nft: Contract
    ownable: Contract
    ownable2step: Contract
    gas: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        return list(self.w3.eth.accounts)

    @property
    def owner(self) -> str:
        return self.accounts[0]

    @property
    def arbiter(self) -> str:
        return self.accounts[1]

    @property
    def buyer(self) -> str:
        return self.accounts[2]

    @property
    def seller(self) -> str:
        return self.accounts[3]

    @property
    def fee_recipient(self) -> str:
        return self.accounts[4]

    @property
    def stranger(self) -> str:
        return self.accounts[5]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def time_travel(self, seconds: int) -> None:
        self.w3.provider.ethereum_tester.time_travel(self.now() + seconds)  # type: ignore[attr-defined]

    def deploy(self, name: str, *args: Any, sender: str | None = None) -> Contract:
        abi, bytecode = contract_artifact(name)
        tx = (
            self.w3.eth.contract(abi=abi, bytecode=bytecode)
            .constructor(*args)
            .transact({"from": sender or self.owner})
        )
        address = self.w3.eth.get_transaction_receipt(tx)["contractAddress"]
        return self.w3.eth.contract(address=address, abi=abi)

    def send(self, request: TransactionRequest) -> TxReceipt:
        """Sends a built transaction as its party's wallet would; records its gas by step."""
        tx = self.w3.eth.send_transaction(request.as_params())  # type: ignore[arg-type]
        receipt = self.w3.eth.get_transaction_receipt(tx)
        assert receipt["status"] == 1
        self.gas.setdefault(request.step, []).append(receipt["gasUsed"])
        return receipt

    def events(self, request: TransactionRequest) -> list[EscrowEvent]:
        """Sends a transaction to an escrow; the deal events it emitted."""
        return receipt_events(self.send(request), escrow=request.to)

    def call(self, function: Any, sender: str, value: int = 0) -> TxReceipt:
        tx = function.transact({"from": sender, "value": value})
        return self.w3.eth.get_transaction_receipt(tx)

    def reverts(self, request: TransactionRequest, error: str) -> None:
        """The transaction is refused with the custom `error` (a Solidity signature)."""
        block = self.w3.eth.block_number
        with pytest.raises(REVERTED) as caught:
            self.w3.eth.send_transaction(request.as_params())  # type: ignore[arg-type]
        assert revert_data(caught.value).hex().startswith(error_selector(error)[2:])
        assert self.w3.eth.block_number == block  # nothing was mined

    def balance(self, token: Contract | None, who: str) -> int:
        if token is None:
            return int(self.w3.eth.get_balance(who))
        return int(token.functions.balanceOf(who).call())

    def terms(
        self,
        *,
        token: Contract | None = None,
        amount: int | None = None,
        kind: AssetKind = AssetKind.NONE,
        asset: Contract | None = None,
        token_id: int = 0,
        deadline_in: int = 7 * DAY,
        reference: str = "deal-1",
        buyer: str | None = None,
        seller: str | None = None,
    ) -> DealTerms:
        if amount is None:
            amount = 1_000 * USDC if token is not None else 2 * ETHER
        return DealTerms(
            ref=deal_ref(reference),
            buyer=buyer or self.buyer,
            seller=seller or self.seller,
            payment_token=token.address if token is not None else None,
            amount=amount,
            deadline=self.now() + deadline_in,
            asset_kind=kind,
            asset_contract=asset.address if asset is not None else None,
            token_id=token_id,
        )

    def create(
        self, terms: DealTerms, *, escrow: Contract | None = None, sender: str | None = None
    ) -> tuple[int, list[EscrowEvent]]:
        escrow = escrow or self.escrow
        receipt = self.send(
            create_deal_transaction(
                escrow=escrow.address, terms=terms, sender=sender or terms.buyer
            )
        )
        events = receipt_events(receipt, escrow=escrow.address)
        created = events[0]
        assert isinstance(created, DealCreated)
        return created.deal_id, events


@pytest.fixture(scope="module", name="escrow_chain_module")
def escrow_chain_module_fixture() -> Iterator[EscrowChain]:
    with warnings.catch_warnings():  # eth-tester resets the filters to "default" on start
        w3 = Web3(EthereumTesterProvider())
    accounts = w3.eth.accounts
    owner, arbiter, buyer, seller, fee_recipient = accounts[:5]

    def deploy(name: str, *args: Any) -> Contract:
        abi, bytecode = contract_artifact(name)
        tx = (
            w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args).transact({"from": owner})
        )
        address = w3.eth.get_transaction_receipt(tx)["contractAddress"]
        return w3.eth.contract(address=address, abi=abi)

    escrow = deploy("fabric/FabrkntEscrow", owner, arbiter, fee_recipient, FEE_BPS)
    open_escrow = deploy("fabric/FabrkntEscrow", owner, ZERO_ADDRESS, fee_recipient, FEE_BPS)
    usdc = deploy("fabric/test/MockUSDC")
    nft = deploy("fabric/test/MockNFT")
    ownable = deploy("fabric/test/MockOwnable", seller)
    ownable2step = deploy("fabric/test/MockOwnable2Step", seller)
    usdc.functions.mint(buyer, 1_000_000 * USDC).transact({"from": owner})
    nft.functions.mint(seller, NFT_ID).transact({"from": owner})
    yield EscrowChain(
        w3=w3,
        escrow=escrow_contract(w3, escrow.address),
        open_escrow=escrow_contract(w3, open_escrow.address),
        usdc=usdc,
        nft=nft,
        ownable=ownable,
        ownable2step=ownable2step,
    )


@pytest.fixture(name="escrow_chain")
def escrow_chain_fixture(escrow_chain_module: EscrowChain) -> Iterator[EscrowChain]:
    snapshot = escrow_chain_module.w3.testing.snapshot()
    yield escrow_chain_module
    escrow_chain_module.w3.testing.revert(snapshot)
