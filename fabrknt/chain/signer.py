"""Transactions signed by the platform's key (CHAIN_SIGNER_KEY): deployments and mints.

Nonces: every send locks the signer's `SignerNonce` row for its chain (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's write lock in the embedded demo), takes the next nonce
(`_next_nonce`), signs, sends and records the next one, so concurrent workers never sign
two transactions with one nonce, and a transaction sent by another tool with the same key
is stepped over.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from fabrknt.chain.models import SignerNonce


class TransactionReverted(Exception):
    """A transaction of ours was mined and failed (receipt status 0)."""

    def __init__(self, transaction_hash: str):
        super().__init__(f"transaction {transaction_hash} reverted")
        self.transaction_hash = transaction_hash


def signer_account() -> LocalAccount:
    key = settings.CHAIN_SIGNER_KEY
    if not key:
        raise ImproperlyConfigured("CHAIN_SIGNER_KEY is not set: nothing can be signed")
    return cast(LocalAccount, Account.from_key(key))


def signer_address() -> ChecksumAddress:
    return signer_account().address


def signer_send(*, chain: str, client: Web3, transaction_params: TxParams) -> str:
    """Signs `transaction_params` (to, data, value; gas and fees are filled in) with the
    signer key and sends it on `chain`; its hash (0x hex). Raises what the node raises
    (an estimate that reverts is web3's ContractLogicError): nothing was sent then."""
    account = signer_account()
    params: dict[str, Any] = {
        "from": account.address,
        "chainId": client.eth.chain_id,
        **transaction_params,
    }
    if "gas" not in params:
        params["gas"] = client.eth.estimate_gas(cast(TxParams, params))
    if "maxFeePerGas" not in params and "gasPrice" not in params:
        params["gasPrice"] = client.eth.gas_price
    with transaction.atomic():
        row, _ = SignerNonce.objects.get_or_create(chain=chain, address=account.address)
        row = SignerNonce.objects.select_for_update().get(pk=row.pk)
        nonce = _next_nonce(client, row)
        signed = account.sign_transaction({**params, "nonce": nonce})
        sent = HexBytes(client.eth.send_raw_transaction(signed.raw_transaction)).to_0x_hex()
        row.next_nonce = nonce + 1
        row.last_transaction_hash = sent
        row.save(update_fields=["next_nonce", "last_transaction_hash"])
    return sent


def _next_nonce(client: Web3, row: SignerNonce) -> int:
    """The recorded next nonce, or the node's pending count when that is higher (another
    tool sent with the key). A recorded nonce above the node's count stands while the node
    knows our last transaction (a load-balanced endpoint lagging behind); when it does not,
    the chain forgot it and the node's count is the truth."""
    pending = client.eth.get_transaction_count(Web3.to_checksum_address(row.address), "pending")
    if row.next_nonce <= pending or not row.last_transaction_hash:
        return pending
    try:
        client.eth.get_transaction(HexBytes(row.last_transaction_hash))
    except (TransactionNotFound, ValueError):
        return pending
    return row.next_nonce


def receipt_wait(*, client: Web3, transaction_hash: str, timeout: float | None = None) -> TxReceipt:
    """The mined receipt of a transaction; `TransactionReverted` when it failed. Raises
    web3's TimeExhausted when it is not mined within the timeout."""
    receipt = client.eth.wait_for_transaction_receipt(
        HexBytes(transaction_hash),
        timeout=settings.CHAIN_RECEIPT_TIMEOUT_SECONDS if timeout is None else timeout,
        poll_latency=0.2,
    )
    if receipt["status"] != 1:
        raise TransactionReverted(transaction_hash)
    return receipt
