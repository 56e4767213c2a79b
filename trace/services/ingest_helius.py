"""Helius deliveries into `ContractInteraction`: a row for each thing a transaction moved
(its position in the transaction as `fabrknt.chain.helius` names it), for each project on
the delivery's chain that watches it.

Whose a transfer is: a sale's or a swap's legs belong to every project the transaction
touches (its program ran, or one of its addresses took part); a plain transfer belongs to
a project when one of its sides is the project's address, or it moves the project's token
or compressed NFT. A call of a project's program that moved nothing to or from it is
still the project's activity: one `transaction` row, worth 0, not what the caller paid
others (fees, rent, tips are nobody's revenue here).

The user of a row is the counterparty: the sender of what the project received, the
recipient of what it paid, the swapper, the buyer; never one of the project's own
addresses. A transfer between two of the project's own addresses is not user activity and
is not stored. Amounts are exact where the payload gives integers (lamports, raw token
amounts), scaled by the asset registry's decimals over the payload's; values are priced by
asset identity (`native` for SOL, SPL tokens by mint), so a mint the registry does not
list is stored unpriced.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from fabrknt.chain.helius import HeliusDelivery, HeliusTransaction, HeliusTransfer
from trace.models import NATIVE_ASSET, InteractionSource, Project
from trace.services.ingest import (
    AddressBook,
    IngestResult,
    InteractionRow,
    RejectedItem,
    interactions_store,
    rejected_activities_record,
)
from trace.services.pricing import PriceBook, amount_from_base_units

NATIVE_LABEL = "SOL"
NON_FUNGIBLE_LABEL = "NFT"
# A call of a project's program that moved nothing to or from the project.
CALL_POSITION = "transaction"


def helius_delivery_ingest(*, delivery: HeliusDelivery, chain: str) -> IngestResult:
    """Store what the delivery's transactions moved for the projects on `chain` that watch
    them, and keep the items that could not be read with their reason."""
    for delivery_id, items in groupby(delivery.rejected, key=lambda item: item.delivery_id):
        rejected_activities_record(
            source=InteractionSource.HELIUS,
            delivery_id=delivery_id,
            chain=chain,
            rejected=[RejectedItem(index=i.index, reason=i.reason, item=i.item) for i in items],
        )
    book = AddressBook(chain)
    prices = PriceBook()
    rows = [
        row
        for tx in delivery.transactions
        if not tx.failed  # a failed transaction moved nothing but its fee
        for project in book.watching(tx.accounts)
        for row in _project_rows(tx, project, book, prices, chain=chain)
    ]
    return interactions_store(rows=rows, received=delivery.received)


def _project_rows(
    tx: HeliusTransaction, project: Project, book: AddressBook, prices: PriceBook, *, chain: str
) -> list[InteractionRow]:
    own = book.addresses[project.id]
    program = next((p for p in tx.programs if p in book.contracts[project.id]), "")
    rows = [
        row
        for transfer in tx.transfers
        if (row := _transfer_row(tx, transfer, project, own, program, prices, chain)) is not None
    ]
    if rows or not program or tx.fee_payer in own:
        return rows
    return [
        InteractionRow(
            project_id=project.id,
            chain=chain,
            transaction_hash=tx.signature,
            log_index=-1,
            transfer_position=CALL_POSITION,
            block_number=tx.slot,
            wallet_address=tx.fee_payer,
            from_address=tx.fee_payer,
            to_address=program,
            contract_address=program,
            event_type=tx.type,
            asset=NATIVE_LABEL,
            asset_address=NATIVE_ASSET,
            occurred_at=tx.occurred_at,
            source=InteractionSource.HELIUS,
        )
    ]


def _transfer_row(
    tx: HeliusTransaction,
    transfer: HeliusTransfer,
    project: Project,
    own: set[str],
    program: str,
    prices: PriceBook,
    chain: str,
) -> InteractionRow | None:
    sides = [a for a in (transfer.from_account, transfer.to_account) if a]
    touched = [a for a in sides if a in own]
    subject = transfer.subject if transfer.subject in own else None
    if not (tx.is_event or touched or subject):
        return None  # others' transfer in a transaction that calls or names the project
    wallet = next((a for a in (transfer.actor, *sides, tx.fee_payer) if a and a not in own), None)
    if wallet is None:
        return None  # between the project's own addresses
    contract = next((a for a in (*touched, program, subject, *tx.accounts) if a and a in own), "")
    asset_address, label, amount = _moved(transfer, prices, chain)
    valuation = prices.valuation(
        chain=chain, address=asset_address, amount=amount, day=tx.occurred_at.date()
    )
    return InteractionRow(
        project_id=project.id,
        chain=chain,
        transaction_hash=tx.signature,
        log_index=-1,
        transfer_position=transfer.position,
        block_number=tx.slot,
        wallet_address=wallet,
        from_address=transfer.from_account or "",
        to_address=transfer.to_account or "",
        contract_address=contract,
        event_type=transfer.event_type or tx.type,
        asset=label,
        asset_address=asset_address,
        amount=amount,
        value_usd=valuation.value_usd,
        unpriced_reason=valuation.unpriced_reason,
        occurred_at=tx.occurred_at,
        source=InteractionSource.HELIUS,
    )


def _moved(transfer: HeliusTransfer, prices: PriceBook, chain: str) -> tuple[str, str, Decimal]:
    """(asset address, display label, amount) of a transfer: SOL is `native`, a token its
    mint, an NFT nothing fungible; the registry's decimals win over the payload's."""
    if not transfer.fungible:
        return "", NON_FUNGIBLE_LABEL, transfer.amount
    address = transfer.mint or NATIVE_ASSET
    asset = prices.asset(chain=chain, address=address)
    label = NATIVE_LABEL if transfer.mint is None else (asset.symbol if asset else "")
    if transfer.raw_amount is None or transfer.raw_decimals is None:
        return address, label, transfer.amount
    decimals = asset.decimals if asset is not None else transfer.raw_decimals
    return address, label, amount_from_base_units(transfer.raw_amount, decimals)
