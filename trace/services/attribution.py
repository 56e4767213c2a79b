"""Attribution: which clicks (and so campaigns) a conversion is credited to.

Touches of a chain conversion are the clicks its wallet was identified on (WalletLink) for
campaigns of the interaction's organization whose target contract is the one the wallet
used (case-insensitive; on the campaign project's chain when it has one), made before the
transaction and within that campaign's window (default 30 days). Bot clicks never count.

The model is the one of the campaign of the latest touch, the campaign that owns the
conversion under the default:
- last_click: all credit to the latest touch;
- first_click: all credit to the earliest touch in the window (which may belong to
  another campaign: that campaign then owns the conversion);
- linear: equal shares for every touch (the latest 100 at most), cents summing exactly to
  the value.
Credits are ConversionCredit rows; ROI sums their values. An API conversion names its
click, so it credits that click fully.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Q, Sum
from eth_utils import is_hex_address, to_checksum_address

from trace.models import (
    AttributionModel,
    Click,
    ContractInteraction,
    Conversion,
    ConversionCredit,
    ConversionSource,
    WalletLink,
)
from trace.services.rollups import campaign_days_conversion_add

CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")
MAX_LINEAR_TOUCHES = 100
DEFAULT_EVENT_TYPE = "transaction"
# Event types that name how value moved (the indexer's value row, Alchemy's categories),
# not what the user did: a conversion is named by an event of its transaction if any.
TRANSFER_KINDS = frozenset(
    {DEFAULT_EVENT_TYPE, "external", "internal", "token", "erc20", "erc721", "erc1155"}
)


@dataclass(frozen=True)
class Credit:
    click: Click
    share: Decimal
    value_usd: Decimal


def wallet_key(address: str) -> str:
    """EVM addresses compare case-insensitively; base58 ones are case-sensitive."""
    return address.lower() if address[:2].lower() == "0x" else address


def canonical_address(address: str) -> str:
    """EIP-55 for EVM addresses, as given otherwise."""
    if address[:2].lower() == "0x" and is_hex_address("0x" + address[2:].lower()):
        return to_checksum_address("0x" + address[2:].lower())
    return address


def _spellings(address: str) -> set[str]:
    if address[:2].lower() != "0x":
        return {address}  # base58 is case-sensitive: another case is another wallet
    return {address, address.lower(), canonical_address(address)}


def credits_split(*, touches: list[Click], model: str, value_usd: Decimal) -> list[Credit]:
    """Credits for touches in time order under one attribution model."""
    if model == AttributionModel.FIRST_CLICK:
        return [Credit(touches[0], Decimal(1), value_usd)]
    if model != AttributionModel.LINEAR or len(touches) == 1:
        return [Credit(touches[-1], Decimal(1), value_usd)]
    touches = touches[-MAX_LINEAR_TOUCHES:]
    count = len(touches)
    share = (Decimal(1) / count).quantize(SHARE_PLACES, ROUND_DOWN)
    part = (value_usd / count).quantize(CENT, ROUND_DOWN)
    credits = [Credit(click, share, part) for click in touches[:-1]]
    # The latest touch takes the rounding remainders, so shares sum to 1 and values exactly.
    credits.append(
        Credit(touches[-1], Decimal(1) - share * (count - 1), value_usd - part * (count - 1))
    )
    return credits


def conversion_record(
    *,
    credits: list[Credit],
    wallet_address: str,
    transaction_hash: str,
    event_type: str,
    value_usd: Decimal,
    contract_address: str,
    occurred_at: dt.datetime,
    source: str,
    owner: Click,
) -> tuple[Conversion, bool]:
    """The conversion of (the owner's organization, transaction_hash, event_type), created
    with its credits the first time; (existing, False) on a repeat. Another organization's
    conversion of the same transaction is never returned: each tenant has its own."""
    with transaction.atomic():
        conversion, created = Conversion.objects.get_or_create(
            organization_id=owner.campaign.organization_id,
            transaction_hash=transaction_hash,
            event_type=event_type,
            defaults={
                "campaign_id": owner.campaign_id,
                "click": owner,
                "wallet_address": wallet_address,
                "value_usd": value_usd,
                "contract_address": contract_address,
                "source": source,
                "occurred_at": occurred_at,
            },
        )
        if created:
            ConversionCredit.objects.bulk_create(
                ConversionCredit(
                    conversion=conversion,
                    campaign_id=credit.click.campaign_id,
                    click=credit.click,
                    share=credit.share,
                    value_usd=credit.value_usd,
                )
                for credit in credits
            )
            campaign_days_conversion_add(conversion)
    return conversion, created


def _transaction_totals(
    interactions: list[ContractInteraction],
) -> dict[tuple[object, str, str], Decimal]:
    """(project, transaction, wallet) -> the value of all that wallet's stored transfers of
    that transaction for that project: one aggregate query."""
    rows = (
        ContractInteraction.objects.filter(
            project_id__in={i.project_id for i in interactions},
            transaction_hash__in={i.transaction_hash for i in interactions},
        )
        .values_list("project_id", "transaction_hash", "wallet_address")
        .annotate(total=Sum("value_usd"))
    )
    return {(project, tx, wallet): total for project, tx, wallet, total in rows}


def _touches(links: list[WalletLink], interaction: ContractInteraction) -> list[Click]:
    contract = interaction.contract_address.lower()
    touches: dict[int, Click] = {}
    for link in links:
        campaign, click = link.campaign, link.click
        if (
            not contract
            or campaign.target_contract.lower() != contract
            or campaign.organization_id != interaction.project.organization_id
            or (campaign.project is not None and campaign.project.chain != interaction.chain)
            or click.is_bot
            or not (
                click.occurred_at
                <= interaction.occurred_at
                <= click.occurred_at + dt.timedelta(days=campaign.attribution_window_days)
            )
        ):
            continue
        click.campaign = campaign  # already loaded: the model choice reads it
        touches[click.pk] = click
    return sorted(touches.values(), key=lambda click: (click.occurred_at, click.pk))


def attribution_apply_interactions(*, interaction_ids: list[int]) -> int:
    """Conversions for new on-chain interactions of identified wallets; returns how many
    were created. A transaction converts once per organization: the first of its
    interactions that reaches here makes that organization's conversion, worth what all of
    the wallet's transfers of that transaction stored for the project so far add up to
    (a call's value and its token transfers are separate rows), and named by its first
    event; later ones leave it as it is. Another organization watching the same
    transaction gets its own."""
    interactions = list(
        ContractInteraction.objects.filter(pk__in=interaction_ids)
        .exclude(contract_address="")
        .select_related("project")
        .order_by("occurred_at", "pk")
    )
    if not interactions:
        return 0
    spellings: set[str] = set()
    for interaction in interactions:
        spellings |= _spellings(interaction.wallet_address)
    links_by_wallet: dict[str, list[WalletLink]] = defaultdict(list)
    links = (
        WalletLink.objects.filter(wallet_address__in=spellings)
        .exclude(campaign__target_contract="")
        .select_related("click", "campaign", "campaign__project")
    )
    for link in links:
        links_by_wallet[wallet_key(link.wallet_address)].append(link)
    converted = set(
        Conversion.objects.filter(
            source=ConversionSource.CHAIN,
            transaction_hash__in={interaction.transaction_hash for interaction in interactions},
            organization_id__in={
                interaction.project.organization_id for interaction in interactions
            },
        ).values_list("organization_id", "transaction_hash")
    )
    totals = _transaction_totals(interactions)
    named: dict[tuple[object, str], str] = {}
    for interaction in interactions:
        if interaction.event_type and interaction.event_type not in TRANSFER_KINDS:
            named.setdefault(
                (interaction.project_id, interaction.transaction_hash), interaction.event_type
            )
    created = 0
    for interaction in interactions:
        key = (interaction.project.organization_id, interaction.transaction_hash)
        if key in converted:
            continue
        touches = _touches(links_by_wallet[wallet_key(interaction.wallet_address)], interaction)
        if not touches:
            continue
        model = touches[-1].campaign.attribution_model
        tx = (interaction.project_id, interaction.transaction_hash)
        value_usd = totals.get((*tx, interaction.wallet_address), interaction.value_usd)
        credits = credits_split(touches=touches, model=model, value_usd=value_usd)
        owner = touches[0] if model == AttributionModel.FIRST_CLICK else touches[-1]
        _conversion, was_created = conversion_record(
            credits=credits,
            wallet_address=canonical_address(interaction.wallet_address),
            transaction_hash=interaction.transaction_hash,
            event_type=named.get(tx) or interaction.event_type or DEFAULT_EVENT_TYPE,
            value_usd=value_usd,
            contract_address=interaction.contract_address,
            occurred_at=interaction.occurred_at,
            source=ConversionSource.CHAIN,
            owner=owner,
        )
        converted.add(key)
        created += was_created
    return created


def attribution_apply_wallet_link(*, link: WalletLink) -> int:
    """A wallet identified after it already transacted: attribute those transactions too
    (the ones within the campaign's window after the click)."""
    campaign, click = link.campaign, link.click
    if not campaign.target_contract:
        return 0
    window_end = click.occurred_at + dt.timedelta(days=campaign.attribution_window_days)
    interaction_ids = list(
        ContractInteraction.objects.filter(
            Q(wallet_address__in=_spellings(link.wallet_address)),
            project__organization_id=campaign.organization_id,
            contract_address__iexact=campaign.target_contract,
            occurred_at__gte=click.occurred_at,
            occurred_at__lte=window_end,
        ).values_list("pk", flat=True)
    )
    return attribution_apply_interactions(interaction_ids=interaction_ids)
