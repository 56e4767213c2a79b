"""`manage.py seed_demo`: deterministic, idempotent demo data, and the newcomer's wallet."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import base58
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min
from django.test import Client

from accounts.models import Membership, Organization, Role, User, Wallet
from accounts.services.demo import (
    DEMO_ORGANIZATION_SLUG,
    DEMO_WALLET_ADDRESS,
    demo_accounts_ensure,
)
from accounts.tests.factories import MembershipFactory, WalletFactory
from trace.models import (
    ActivityMetric,
    AssetPrice,
    Campaign,
    Click,
    ContractInteraction,
    Conversion,
    FlagStatus,
    LandingDomain,
    Project,
    WalletFlag,
    WalletLink,
)
from trace.services.demo import trace_demo_seed

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
MODELS = [
    Organization,
    User,
    Wallet,
    Membership,
    Project,
    Campaign,
    Click,
    WalletLink,
    ContractInteraction,
    Conversion,
    WalletFlag,
    AssetPrice,
    ActivityMetric,
    LandingDomain,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.usefixtures("without_redis")  # its /t/ visits stay out of the shared stream
def test_trace_demo_data_is_deterministic_and_rich():
    accounts = demo_accounts_ensure()

    summary = trace_demo_seed(organization=accounts.organization, reviewer=accounts.user, now=NOW)

    assert (summary.projects, summary.campaigns, summary.asset_prices) == (2, 4, 360)
    assert (summary.clicks, summary.wallet_links, summary.interactions) == (2971, 155, 9737)
    assert summary.wallet_flags == 10
    assert summary.metric_days == 180
    assert summary.landing_domains == 2
    assert summary.conversions == Conversion.objects.count() > 300
    proofs = dict(WalletLink.objects.values_list("proof").annotate(n=Count("id")))
    assert proofs == {"proven": 94, "claimed": 61}  # of the 155 links, about 60% proven
    assert sorted(Project.objects.values_list("name", "chain")) == [
        ("Basedrop DEX", "eip155:8453"),
        ("Solstice Lend", "solana:mainnet"),
    ]
    # 90 days of traffic ending at NOW, none in the future.
    span = Click.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    assert span["first"].date() == dt.date(2025, 12, 2)
    assert span["last"] <= NOW
    assert ContractInteraction.objects.filter(occurred_at__gt=NOW).count() == 0
    assert sorted(
        AssetPrice.objects.values_list("asset__chain", "asset__address")
        .annotate(n=Count("id"))
        .order_by()
    ) == [
        ("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 90),  # USDC
        ("eip155:8453", "native", 90),  # ETH
        ("solana:mainnet", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 90),  # USDC
        ("solana:mainnet", "native", 90),  # SOL
    ]
    # Every demo transfer is of a registered asset, priced from these prices.
    assert set(ContractInteraction.objects.values_list("chain", "asset", "asset_address")) == {
        ("eip155:8453", "ETH", "native"),
        ("eip155:8453", "USDC", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
        ("solana:mainnet", "SOL", "native"),
        ("solana:mainnet", "USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"),
    }
    assert not ContractInteraction.objects.exclude(unpriced_reason="").exists()
    # Every conversion is one of the seeded transactions of a wallet a click identified.
    assert not Conversion.objects.exclude(
        transaction_hash__in=ContractInteraction.objects.values("transaction_hash")
    ).exists()
    assert not Conversion.objects.exclude(
        wallet_address__in=WalletLink.objects.values("wallet_address")
    ).exists()
    assert dict(WalletFlag.objects.values_list("status").annotate(n=Count("id"))) == {
        FlagStatus.CONFIRMED: 4,
        FlagStatus.SUSPECTED: 4,
        FlagStatus.CLEARED: 2,
    }
    # Metrics came from the rollup service: growing MAU, suspected bots visible.
    base = Project.objects.get(name="Basedrop DEX")
    metrics = ActivityMetric.objects.filter(project=base).order_by("date")
    assert metrics.count() == 90
    assert metrics.last().mau > 3 * metrics[10].mau
    assert metrics.filter(bot_share__gt=0).exists()
    # The demo's own landing domains are verified: its tracking links redirect.
    assert sorted(LandingDomain.objects.values_list("domain", "verified_at")) == [
        ("basedrop.example", NOW),
        ("solstice.example", NOW),
    ]
    for campaign in Campaign.objects.all():
        response = Client().get(f"/t/{campaign.pk}", HTTP_USER_AGENT="Mozilla/5.0 Chrome/156.0")
        assert response.status_code == 302
        assert response["Location"].startswith(campaign.landing_url + "?fab_click=")
    # A re-run, even days later, adds nothing.
    before = _counts()
    again = trace_demo_seed(
        organization=accounts.organization, now=NOW + dt.timedelta(days=3, hours=2)
    )
    assert again.created == 0
    assert _counts() == before


def test_seed_demo_twice_creates_nothing_new():
    first_out, second_out = StringIO(), StringIO()
    call_command("seed_demo", stdout=first_out)
    after_first = _counts()

    call_command("seed_demo", stdout=second_out)

    assert _counts() == after_first
    assert after_first["Organization"] == 1
    assert after_first["Campaign"] == 4
    assert after_first["Click"] > 2000
    assert "nothing new was created" in second_out.getvalue()
    assert "nothing new" not in first_out.getvalue()
    assert DEMO_WALLET_ADDRESS in first_out.getvalue()
    organization = Organization.objects.get(slug=DEMO_ORGANIZATION_SLUG)
    assert organization.name == "Fabrknt Demo"
    demo = User.objects.get(username="demo")
    assert (demo.is_staff, demo.is_superuser) == (True, True)
    assert demo.wallets.get().address == DEMO_WALLET_ADDRESS
    assert Membership.objects.get(organization=organization, user=demo).role == Role.OWNER


def test_demo_accounts_make_a_new_wallet_a_staff_owner():
    address = "0x52908400098527886e0f7030069857d2e4169ee7"  # EIP-55 test vector, lowercased

    accounts = demo_accounts_ensure(extra_wallet=address)

    wallet = Wallet.objects.get(address="0x52908400098527886E0F7030069857D2E4169EE7")
    assert (wallet.namespace, wallet.chain) == ("eip155", "eip155:1")
    assert (wallet.user.is_staff, wallet.user.is_superuser) == (True, True)
    membership = Membership.objects.get(organization=accounts.organization, user=wallet.user)
    assert membership.role == Role.OWNER
    # organization, demo user, demo wallet, demo membership, user, wallet, membership
    assert accounts.created == 7
    assert demo_accounts_ensure(extra_wallet=address).created == 0


def test_demo_accounts_promote_an_existing_wallets_user():
    address = base58.b58encode(bytes(range(1, 33))).decode()
    wallet = WalletFactory(namespace="solana", chain="solana:mainnet", address=address)
    organization = demo_accounts_ensure().organization
    MembershipFactory(organization=organization, user=wallet.user, role=Role.VIEWER)
    users = User.objects.count()

    demo_accounts_ensure(extra_wallet=wallet.address)

    wallet.user.refresh_from_db()
    assert (wallet.user.is_staff, wallet.user.is_superuser) == (True, True)
    assert Membership.objects.get(organization=organization, user=wallet.user).role == Role.OWNER
    assert User.objects.count() == users


@pytest.mark.parametrize("wallet", ["0x123", "not-an-address", "0x" + "g" * 40, "1" * 50])
def test_seed_demo_refuses_a_bad_wallet_and_stores_nothing(wallet):
    with pytest.raises(CommandError, match="neither an EVM nor a Solana address"):
        call_command("seed_demo", wallet=wallet, stdout=StringIO())

    assert all(count == 0 for count in _counts().values())


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        call_command("seed_demo", stdout=StringIO())

    assert all(count == 0 for count in _counts().values())
