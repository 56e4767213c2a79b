"""Soulbound tokens for milestones: claimed in the database, then minted on SBT_CHAIN.

One token per contributor and milestone, however many requests, tasks and retries:

1. `sbt_claim` inserts the `SBTRecord` (unique on contributor and milestone) before any
   transaction exists; a second claim finds the first.
2. `sbt_mint` locks the record (SELECT ... FOR UPDATE): only a `claimed` (or `failed`)
   record without a transaction sends one, and the record becomes `sent` with its hash
   in the same database transaction; a concurrent task waits, then sees `sent`.
3. The contract mints a claim once (`tokenOfClaim`), so a transaction sent by a task that
   died before recording it cannot be followed by a second token: the retry finds the
   token on chain instead of sending.
4. The receipt is checked and the token id read from its Transfer event.
"""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception
from web3.logs import DISCARD
from web3.types import TxReceipt

from accounts.services.wallets import wallet_address_parse
from fabrknt.api.errors import InvalidInput, Unavailable
from fabrknt.chain.evm import ChainNotConfigured, evm_client, evm_client_serving
from fabrknt.chain.signer import TransactionReverted, receipt_wait, signer_send
from pulse.cache import sbt_metadata_changed
from pulse.models import Contributor, Milestone, SBTRecord, SBTStatus, Team, WalletNamespace
from pulse.services.milestones import RULES, milestones_met
from pulse.services.sbt_contract import sbt_address, sbt_contract

logger = logging.getLogger("pulse.sbt")


class SbtUnavailable(Unavailable):
    code = "sbt_unavailable"
    default_detail = "Soulbound tokens are not set up: no SBT_CHAIN or no contract deployed on it."


class MintPending(Exception):
    """The mint transaction is not mined yet: the task tries again later."""


@dataclasses.dataclass(frozen=True)
class SbtClaim:
    record: SBTRecord
    created: bool


def sbt_claim_key(record: SBTRecord) -> bytes:
    """The contract's claim for this record: one per contributor and milestone."""
    return bytes(Web3.keccak(text=f"fabrknt-pulse-sbt:{record.contributor_id}:{record.milestone}"))


def sbt_request(*, team: Team, wallet_address: str, milestone: str) -> SbtClaim:
    """`POST /api/v1/mint-sbt`: the existing record on a repeat; else a new claim (its mint
    queued) when the contributor has met the milestone; InvalidInput otherwise."""
    if milestone not in Milestone.values:
        choices = ", ".join(Milestone.values)
        raise InvalidInput(fields={"milestone": [f"Choose one of: {choices}."]})
    parsed = wallet_address_parse(address=wallet_address)
    if parsed is None:
        raise InvalidInput(fields={"wallet_address": ["Enter a valid wallet address."]})
    if parsed.namespace != WalletNamespace.EVM:
        raise InvalidInput(
            fields={"wallet_address": ["Soulbound tokens are minted to EVM wallets only."]},
            code="evm_wallet_required",
        )
    contributor = team.contributors.filter(wallet_address=parsed.address).first()
    if contributor is None:
        raise InvalidInput(
            fields={"wallet_address": ["This wallet is not a contributor of the team."]},
            code="not_a_contributor",
        )
    existing = SBTRecord.objects.filter(contributor=contributor, milestone=milestone).first()
    if existing is not None:
        return SbtClaim(existing, created=False)
    if milestone not in milestones_met(contributor):
        raise InvalidInput(
            f"The milestone is not met yet: {RULES[milestone].description}",
            code="milestone_not_met",
        )
    return sbt_claim(contributor=contributor, milestone=milestone)


def sbt_claim(*, contributor: Contributor, milestone: str) -> SbtClaim:
    """The contributor's record for the milestone, created (and its mint queued) the
    first time. The caller has checked the milestone is met."""
    chain = settings.SBT_CHAIN
    token_address = sbt_address(chain) if chain else None
    if not token_address:
        raise SbtUnavailable()
    try:
        with transaction.atomic():
            record, created = SBTRecord.objects.get_or_create(
                contributor=contributor,
                milestone=milestone,
                defaults={
                    "team_id": contributor.team_id,
                    "chain": chain,
                    "wallet_address": contributor.wallet_address,
                    "token_address": token_address,
                },
            )
    except IntegrityError:  # a concurrent claim won: its record is the one
        record, created = SBTRecord.objects.get(contributor=contributor, milestone=milestone), False
    if created:
        _mint_enqueue(record)
    return SbtClaim(record, created)


def sbt_retry(*, record: SBTRecord) -> bool:
    """Queues the mint of a failed record again, or follows a sent one to its receipt (the
    admin's retry); False for a record already minted."""
    SBTRecord.objects.filter(pk=record.pk, status=SBTStatus.FAILED).update(
        status=SBTStatus.CLAIMED, tx_hash=""
    )
    pending = SBTRecord.objects.filter(pk=record.pk).exclude(status=SBTStatus.MINTED).exists()
    if pending:
        _mint_enqueue(record)
    return pending


def _mint_enqueue(record: SBTRecord) -> None:
    from pulse.sbt_tasks import sbt_mint_task

    record_id = str(record.pk)
    transaction.on_commit(lambda: sbt_mint_task.delay(record_id), robust=True)


def sbt_mint(*, record_id: str) -> SBTRecord:
    """Sends the record's mint unless one is sent or done, then follows it to its receipt.
    Raises MintPending while not mined, and what the chain's client raises when the
    endpoint fails (the task retries both)."""
    record = _mint_send(record_id)
    if record.status == SBTStatus.MINTED:
        return record
    client = evm_client(record.chain)
    try:
        receipt = receipt_wait(client=client, transaction_hash=record.tx_hash)
    except TimeExhausted as error:
        raise MintPending(record.tx_hash) from error
    except TransactionReverted:
        return _mint_reverted(record, client)
    return _minted(record, client, receipt)


def _mint_send(record_id: str) -> SBTRecord:
    with transaction.atomic():
        record = (
            SBTRecord.objects.select_for_update().select_related("contributor").get(pk=record_id)
        )
        if record.status == SBTStatus.MINTED or (
            record.status == SBTStatus.SENT and record.tx_hash
        ):
            return record
        # Checked against the endpoint's chain id: a misconfigured URL never gets a mint.
        client = evm_client_serving(record.chain)
        sbt = sbt_contract(client, record.token_address)
        claim = sbt_claim_key(record)
        if sbt.functions.tokenOfClaim(claim).call():
            # A transaction of an earlier attempt minted it and was never recorded.
            return _minted_found(record, sbt, claim)
        data = sbt.encode_abi("mint", args=[Web3.to_checksum_address(record.wallet_address), claim])
        record.tx_hash = signer_send(
            chain=record.chain,
            client=client,
            transaction_params={"to": sbt.address, "data": data},
        )
        record.status = SBTStatus.SENT
        record.attempts += 1
        record.last_error = ""
        record.save(update_fields=["tx_hash", "status", "attempts", "last_error"])
    return record


def _minted(record: SBTRecord, client: Web3, receipt: TxReceipt) -> SBTRecord:
    sbt = sbt_contract(client, record.token_address)
    transfers = sbt.events.Transfer().process_receipt(receipt, errors=DISCARD)
    (transfer,) = [event for event in transfers if event["address"] == sbt.address]
    return _record_minted(record, token_id=transfer["args"]["tokenId"], tx_hash=record.tx_hash)


def _mint_reverted(record: SBTRecord, client: Web3) -> SBTRecord:
    sbt = sbt_contract(client, record.token_address)
    claim = sbt_claim_key(record)
    if sbt.functions.tokenOfClaim(claim).call():  # another transaction of ours minted it
        return _minted_found(record, sbt, claim)
    SBTRecord.objects.filter(pk=record.pk, status=SBTStatus.SENT).update(
        status=SBTStatus.FAILED, last_error=f"transaction {record.tx_hash} reverted"
    )
    logger.error("SBT mint %s reverted: %s", record.pk, record.tx_hash)
    record.refresh_from_db()
    return record


def _minted_found(record: SBTRecord, sbt: Contract, claim: bytes) -> SBTRecord:
    """Records a token the chain already holds for this claim, with its minting
    transaction (the Transfer from the zero address of that token id)."""
    token_id = sbt.functions.tokenOfClaim(claim).call()
    logs = sbt.events.Transfer().get_logs(
        argument_filters={"tokenId": token_id}, from_block=_deployment_block(record)
    )
    mints = [log for log in logs if int(log["args"]["from"], 16) == 0]
    tx_hash = mints[-1]["transactionHash"].to_0x_hex() if mints else record.tx_hash
    return _record_minted(record, token_id=token_id, tx_hash=tx_hash)


def _deployment_block(record: SBTRecord) -> int:
    from fabrknt.chain.models import DeployedContract

    deployed = DeployedContract.objects.filter(
        chain=record.chain, address=record.token_address
    ).first()
    return deployed.block_number if deployed else 0


def _record_minted(record: SBTRecord, *, token_id: int, tx_hash: str) -> SBTRecord:
    SBTRecord.objects.filter(pk=record.pk).exclude(status=SBTStatus.MINTED).update(
        status=SBTStatus.MINTED,
        token_id=str(token_id),
        tx_hash=tx_hash,
        issued_at=timezone.now(),
        last_error="",
    )
    sbt_metadata_changed()  # its metadata and badge are public from now on
    record.refresh_from_db()
    return record


def sbt_mint_failed(*, record_id: str, error: str) -> None:
    """The task gave up (not retryable, or out of retries): the record says why, and an
    operator may retry it from the admin. A record already sent stays `sent` (its
    transaction may still be mined; a retry finds it)."""
    SBTRecord.objects.filter(pk=record_id, status=SBTStatus.CLAIMED).update(
        status=SBTStatus.FAILED, last_error=error[:500]
    )
    SBTRecord.objects.filter(pk=record_id).exclude(status=SBTStatus.MINTED).update(
        last_error=error[:500]
    )


# What makes the task try again later rather than give up.
# (The endpoint failing, a node refusing the transaction, an estimate that reverts: a
# concurrent mint of the same claim is then found on chain by the retry.)
MINT_RETRYABLE: tuple[type[Exception], ...] = (
    MintPending,
    OSError,
    TimeExhausted,
    Web3Exception,
    ContractLogicError,
)
# (ChainMismatch, an endpoint serving another chain, is a ChainNotConfigured.)
MINT_FATAL: tuple[type[Exception], ...] = (ChainNotConfigured,)
