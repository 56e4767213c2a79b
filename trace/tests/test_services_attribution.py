from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from trace.models import AttributionModel, Conversion, ConversionCredit, ConversionSource
from trace.services.attribution import (
    Credit,
    attribution_apply_interactions,
    conversion_record,
    credits_split,
)
from trace.services.identify import wallet_identify
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ConversionFactory,
    ProjectFactory,
    WalletLinkFactory,
    evm_address,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def project():
    return ProjectFactory()


@pytest.fixture
def wallet() -> str:
    return evm_address()


def _campaign(project, **kwargs):
    return CampaignFactory(project=project, **kwargs)


def _touch(campaign, wallet, days_ago, **click):
    link = WalletLinkFactory(
        click=ClickFactory(campaign=campaign, occurred_at=_days_ago(days_ago), **click),
        wallet_address=wallet,
    )
    return link.click


def _interaction(project, wallet, *, value="300.00", days_ago=0, **kwargs):
    return ContractInteractionFactory(
        project=project,
        wallet_address=wallet,
        value_usd=Decimal(value),
        occurred_at=_days_ago(days_ago),
        **kwargs,
    )


def _credits(conversion):
    return sorted(
        (credit.campaign_id, credit.click_id, credit.share, credit.value_usd)
        for credit in conversion.credits.all()
    )


def test_last_click_credits_latest_touch(project, wallet):
    early, late = _campaign(project), _campaign(project)
    _touch(early, wallet, 10)
    last = _touch(late, wallet, 2)
    interaction = _interaction(project, wallet, event_type="swap")

    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 1

    conversion = Conversion.objects.get()
    assert (conversion.campaign_id, conversion.click_id) == (late.pk, last.pk)
    assert (conversion.source, conversion.event_type) == (ConversionSource.CHAIN, "swap")
    assert conversion.value_usd == Decimal("300.00")
    assert conversion.transaction_hash == interaction.transaction_hash
    assert _credits(conversion) == [(late.pk, last.pk, Decimal("1.000000"), Decimal("300.00"))]


def test_first_click_credits_earliest_touch(project, wallet):
    early = _campaign(project)
    late = _campaign(project, attribution_model=AttributionModel.FIRST_CLICK)
    first = _touch(early, wallet, 10)
    _touch(late, wallet, 2)
    interaction = _interaction(project, wallet)

    attribution_apply_interactions(interaction_ids=[interaction.pk])

    conversion = Conversion.objects.get()
    assert (conversion.campaign_id, conversion.click_id) == (early.pk, first.pk)
    assert _credits(conversion) == [(early.pk, first.pk, Decimal("1.000000"), Decimal("300.00"))]
    assert conversion.event_type == "transaction"


def test_linear_splits_value_exactly(project, wallet):
    a = _campaign(project)
    b = _campaign(project, attribution_model=AttributionModel.LINEAR)
    clicks = [_touch(a, wallet, 9), _touch(a, wallet, 5), _touch(b, wallet, 1)]
    interaction = _interaction(project, wallet, value="100.00")

    attribution_apply_interactions(interaction_ids=[interaction.pk])

    conversion = Conversion.objects.get()
    assert (conversion.campaign_id, conversion.click_id) == (b.pk, clicks[2].pk)
    assert _credits(conversion) == sorted(
        [
            (a.pk, clicks[0].pk, Decimal("0.333333"), Decimal("33.33")),
            (a.pk, clicks[1].pk, Decimal("0.333333"), Decimal("33.33")),
            (b.pk, clicks[2].pk, Decimal("0.333334"), Decimal("33.34")),
        ]
    )


def test_credits_split_linear_single_touch_is_whole(project):
    click = ClickFactory()
    assert credits_split(touches=[click], model="linear", value_usd=Decimal("9.99"))[0].share == 1


def test_touches_outside_window_bots_other_contracts_and_later_clicks_do_not_count(project, wallet):
    windowed = _campaign(project, attribution_window_days=7)
    other_contract = _campaign(project, target_contract=evm_address())
    _touch(windowed, wallet, 11)  # 8 days before the transaction: outside its 7-day window
    _touch(other_contract, wallet, 1)  # targets another contract
    _touch(_campaign(project), wallet, 1, is_bot=True, bot_reason="user_agent:slackbot")
    later = _campaign(project)
    interaction = _interaction(project, wallet, days_ago=3)
    _touch(later, wallet, 1)  # clicked after the transaction

    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 0
    assert Conversion.objects.count() == 0
    assert ConversionCredit.objects.count() == 0


def test_other_organizations_campaign_is_not_credited(project, wallet):
    stranger = CampaignFactory(target_contract=project.contract_addresses[0])
    _touch(stranger, wallet, 1)
    interaction = _interaction(project, wallet)
    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 0
    assert Conversion.objects.count() == 0


def test_contract_and_wallet_match_case_insensitively_and_are_idempotent(project, wallet):
    campaign = _campaign(project, target_contract=project.contract_addresses[0].lower())
    _touch(campaign, wallet, 1)
    interaction = _interaction(
        project, wallet.lower(), contract_address=project.contract_addresses[0].upper()
    )
    twin = _interaction(  # a second log of the same transaction and event type
        project,
        wallet,
        transaction_hash=interaction.transaction_hash,
        log_index=7,
    )
    assert attribution_apply_interactions(interaction_ids=[interaction.pk, twin.pk]) == 1
    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 0
    conversion = Conversion.objects.get()
    assert conversion.wallet_address == wallet  # stored EIP-55
    assert ConversionCredit.objects.count() == 1


def test_identify_after_the_transaction_attributes_it(project, wallet):
    campaign = _campaign(project)
    click = ClickFactory(campaign=campaign, occurred_at=_days_ago(3))
    _interaction(project, wallet, days_ago=1, value="50.00")
    _interaction(project, wallet, days_ago=5, value="70.00")  # before the click

    link, created = wallet_identify(click=click, wallet_address=wallet.lower())

    assert created is True
    assert link.wallet_address == wallet
    conversion = Conversion.objects.get()
    assert (conversion.campaign_id, conversion.value_usd) == (campaign.pk, Decimal("50.00"))


def test_unknown_or_empty_ids_create_nothing(db):
    assert attribution_apply_interactions(interaction_ids=[]) == 0
    assert attribution_apply_interactions(interaction_ids=[987654]) == 0
    assert Conversion.objects.count() == 0


def test_a_transaction_converts_once_whichever_source_stores_it_first(project, wallet):
    campaign = _campaign(project)
    _touch(campaign, wallet, 2)
    alchemy = _interaction(
        project, wallet, value="1500.00", event_type="external", log_index=-1, source="alchemy"
    )
    # The indexer's row of the call's event: its value is the `external` transfer that
    # Alchemy stored first (the indexer keys it the same, so stores it once).
    indexer = _interaction(
        project,
        wallet,
        value="0.00",
        event_type="Swap",
        log_index=3,
        transaction_hash=alchemy.transaction_hash,
    )

    assert attribution_apply_interactions(interaction_ids=[alchemy.pk]) == 1
    assert attribution_apply_interactions(interaction_ids=[indexer.pk]) == 0
    # Both in one batch too (a wallet identified after the fact).
    Conversion.objects.all().delete()
    assert attribution_apply_interactions(interaction_ids=[indexer.pk, alchemy.pk]) == 1

    conversion = Conversion.objects.get()
    assert (conversion.transaction_hash, conversion.value_usd, conversion.event_type) == (
        alchemy.transaction_hash,
        Decimal("1500.00"),
        "Swap",  # named by its event, not by the transfer's category
    )


# --- each organization has its own conversion of a transaction --------------------------


def test_two_organizations_watching_one_transaction_each_get_their_conversion(wallet):
    """One transaction touches A's contract (log 0) and B's (log 1); the wallet came
    through a campaign of each. Neither tenant's conversion blocks or becomes the other's."""
    ours, theirs = ProjectFactory(), ProjectFactory()
    touches = {p.organization_id: _touch(_campaign(p), wallet, 2) for p in (ours, theirs)}
    tx = "0x" + "5e" * 32
    interactions = [
        _interaction(project, wallet, value=value, transaction_hash=tx, log_index=index)
        for index, (project, value) in enumerate(((ours, "100.00"), (theirs, "250.00")))
    ]

    assert attribution_apply_interactions(interaction_ids=[interactions[0].pk]) == 1
    assert attribution_apply_interactions(interaction_ids=[interactions[1].pk]) == 1
    _assert_one_conversion_each(touches, tx)
    # Both in one batch too, and a repeat changes nothing.
    Conversion.objects.all().delete()
    assert attribution_apply_interactions(interaction_ids=[i.pk for i in interactions]) == 2
    assert attribution_apply_interactions(interaction_ids=[i.pk for i in interactions]) == 0
    _assert_one_conversion_each(touches, tx)


def _assert_one_conversion_each(touches: dict, tx: str) -> None:
    conversions = Conversion.objects.filter(transaction_hash=tx).order_by("value_usd")
    assert [(c.campaign_id, c.click_id, c.value_usd) for c in conversions] == [
        (click.campaign_id, click.pk, value)
        for click, value in zip(touches.values(), (Decimal("100.00"), Decimal("250.00")))
    ]
    assert {c.organization_id for c in conversions} == set(touches)


def test_conversion_record_never_returns_another_organizations_row(wallet):
    theirs = ConversionFactory(transaction_hash="0x" + "77" * 32, event_type="transaction")
    click = ClickFactory()
    conversion, created = conversion_record(
        credits=[Credit(click, Decimal(1), Decimal("5.00"))],
        wallet_address=wallet,
        transaction_hash="0x" + "77" * 32,
        event_type="transaction",
        value_usd=Decimal("5.00"),
        contract_address="",
        occurred_at=NOW,
        source=ConversionSource.CHAIN,
        owner=click,
    )
    assert created is True
    assert conversion.pk != theirs.pk
    assert (conversion.campaign_id, conversion.value_usd) == (click.campaign_id, Decimal("5.00"))
    again, created_again = conversion_record(
        credits=[Credit(click, Decimal(1), Decimal("9.00"))],
        wallet_address=wallet,
        transaction_hash="0x" + "77" * 32,
        event_type="transaction",
        value_usd=Decimal("9.00"),
        contract_address="",
        occurred_at=NOW,
        source=ConversionSource.CHAIN,
        owner=click,
    )
    assert (again.pk, created_again) == (conversion.pk, False)
    assert Conversion.objects.count() == 2


def test_a_conversion_is_worth_all_the_wallets_transfers_of_its_transaction(project, wallet):
    """A call paying 0.5 ETH and 200 USDC is two rows (issue 8: each transfer its own
    row); the conversion is worth both, not whichever row came first."""
    campaign = _campaign(project)
    _touch(campaign, wallet, 2)
    paid = _interaction(project, wallet, value="1500.00", event_type="external", log_index=-1)
    token = _interaction(
        project,
        wallet,
        value="200.00",
        event_type="token",
        log_index=7,
        transaction_hash=paid.transaction_hash,
    )

    assert attribution_apply_interactions(interaction_ids=[paid.pk, token.pk]) == 1

    assert Conversion.objects.get().value_usd == Decimal("1700.00")
