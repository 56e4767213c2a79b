"""The revenue verifier: on-chain from transfers TRACE indexed (delivered through the real,
signed Alchemy webhook), Stripe from a local server answering as Stripe's API does, the
records, the listing's verified revenue, the command, the task, and the Stripe key API."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from eth_utils import to_checksum_address

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import as_key, as_user
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from fabric import tasks
from fabric.models import (
    AssetType,
    Listing,
    RevenueRecord,
    StripeConnection,
    Visibility,
)
from fabric.services.revenue import period_end_of, revenue_verify, stripe_connect
from fabric.tests.factories import ListingAssetFactory, ListingFactory
from fabric.tests.stripe_server import (
    KEY,
    KEY_WITHOUT_CHARGES,
    Stripe,
    charge,
    stripe_server_fixture,  # noqa: F401
)
from fabrknt.api.errors import InvalidInput
from trace.models import NATIVE_ASSET, ContractInteraction
from trace.tests.factories import ContractVerificationFactory, ProjectFactory, asset_price

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]

SIGNING_KEY = "whsec_3cGF8LrRh5ymTuhaKjmOL2Vp"
DAPP = to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")
TREASURY = to_checksum_address("0xbe3f4b43db5eb49d1f48f53443b9abce45da3b79")
WALLET = to_checksum_address("0x503828976d22510aad0201ac7ec88293211d23da")
WALLET_2 = to_checksum_address("0x1635d18f20c9a6e302931faf61643fed57fbcce3")
USDC = to_checksum_address("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")  # Circle's
UNLISTED_TOKEN = to_checksum_address("0x" + "de" * 20)
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
NOW = timezone.now()


def tx_hash(name: str) -> str:
    return "0x" + hashlib.sha256(name.encode()).hexdigest()


def _topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


def eth_to_dapp(name: str, block: int, eth: str = "0.01") -> dict:
    """A user's call paying the dapp (Alchemy's `external` transfer)."""
    wei = int(Decimal(eth) * 10**18)
    return {
        "fromAddress": WALLET.lower(),
        "toAddress": DAPP.lower(),
        "blockNum": hex(block),
        "hash": tx_hash(name),
        "value": float(eth),
        "erc721TokenId": None,
        "erc1155Metadata": None,
        "asset": "ETH",
        "category": "external",
        "rawContract": {"rawValue": hex(wei), "address": None, "decimals": 18},
        "typeTraceAddress": None,
    }


def token_to_treasury(
    name: str, block: int, amount: int, *, token: str = USDC, sender: str = WALLET
) -> dict:
    """A token transfer to the treasury (USDC: 6 decimals), from its log."""
    data = "0x" + amount.to_bytes(32, "big").hex()
    return {
        "fromAddress": sender.lower(),
        "toAddress": TREASURY.lower(),
        "blockNum": hex(block),
        "hash": tx_hash(name),
        "value": amount / 10**6,
        "erc721TokenId": None,
        "erc1155Metadata": None,
        "asset": "USDC",
        "category": "token",
        "rawContract": {"rawValue": data, "address": token.lower(), "decimals": 6},
        "typeTraceAddress": None,
        "log": {
            "address": token.lower(),
            "topics": [TRANSFER_TOPIC, _topic(sender), _topic(TREASURY)],
            "data": data,
            "blockNumber": hex(block),
            "transactionHash": tx_hash(name),
            "transactionIndex": "0x1",
            "blockHash": "0x" + hashlib.sha256(str(block).encode()).hexdigest(),
            "logIndex": "0x5",
            "removed": False,
        },
    }


def deliver(client, activities: list[dict], *, days_ago: int) -> None:
    """A signed Alchemy Address Activity delivery (no RPC for the chain: TRACE dates the
    transfers at the delivery)."""
    body = json.dumps(
        {
            "webhookId": "wh_k63lg72rxda78gce",
            "id": f"whevt_{days_ago}",
            "createdAt": (NOW - dt.timedelta(days=days_ago)).isoformat().replace("+00:00", "Z"),
            "type": "ADDRESS_ACTIVITY",
            "event": {"network": "ETH_MAINNET", "activity": activities},
        }
    ).encode()
    signature = hmac.new(SIGNING_KEY.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/v1/webhooks/alchemy",
        data=body,
        content_type="application/json",
        headers={"X-Alchemy-Signature": signature},
    )
    assert response.status_code == 200, response.content


@pytest.fixture(name="listing")
def listing_fixture(settings) -> Listing:
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = SIGNING_KEY
    settings.CHAIN_RPC_URLS = {}
    organization = OrganizationFactory(name="Seller Labs")
    project = ProjectFactory(
        organization=organization,
        chain="eip155:1",
        contract_addresses=[DAPP],
        treasury_addresses=[TREASURY],
    )
    ContractVerificationFactory(project=project, contract_address=DAPP)
    listing = ListingFactory(
        organization=organization,
        trace_project=project,
        title="Seller's DEX",
        blockchain="eip155:1",
        visibility=Visibility.PUBLIC,
    )
    ListingAssetFactory(
        listing=listing,
        asset_type=AssetType.TREASURY,
        chain="eip155:1",
        asset_identifier=TREASURY.lower(),
    )
    day = (NOW - dt.timedelta(days=200)).date()
    asset_price("eip155:1", NATIVE_ASSET, day, "2500.00")
    asset_price("eip155:1", USDC, day, "1.00")
    return listing


@pytest.fixture(name="indexed")
def indexed_fixture(client, listing):
    """Fees to the treasury as TRACE stores them."""
    deliver(
        client,
        [
            # A mint through the verified dapp whose USDC fee goes to the treasury: counted.
            eth_to_dapp("A", 100),
            token_to_treasury("A", 100, 30_000_000),
            # USDC sent straight to the treasury, no contract of the project involved.
            token_to_treasury("B", 101, 100_000_000, sender=WALLET_2),
            # A fee in a token the registry does not list: kept as evidence, not counted.
            eth_to_dapp("C", 102),
            token_to_treasury("C", 102, 5_000_000, token=UNLISTED_TOKEN),
        ],
        days_ago=10,
    )
    deliver(client, [eth_to_dapp("D", 90), token_to_treasury("D", 90, 200_000_000)], days_ago=45)
    deliver(client, [eth_to_dapp("E", 50), token_to_treasury("E", 50, 999_000_000)], days_ago=100)
    assert ContractInteraction.objects.count() == 9


def _records(listing) -> dict[tuple[str, int], RevenueRecord]:
    return {(r.source, r.window_days): r for r in RevenueRecord.objects.filter(listing=listing)}


def test_onchain_fees_that_reached_the_treasury(listing, indexed):
    records = revenue_verify(listing_id=listing.pk, now=NOW)

    assert len(records) == 2
    by_window = _records(listing)
    thirty, ninety = by_window[("onchain", 30)], by_window[("onchain", 90)]
    assert (thirty.fees_usd, thirty.revenue_usd) == (Decimal("30.00"), Decimal("30.00"))
    assert (ninety.fees_usd, ninety.revenue_usd) == (Decimal("230.00"), Decimal("230.00"))
    assert thirty.period_end == period_end_of(NOW)
    assert thirty.period_start == period_end_of(NOW) - dt.timedelta(days=30)
    assert thirty.evidence == {
        "trace_project": str(listing.trace_project_id),
        "treasuries": [{"chain": "eip155:1", "address": TREASURY}],
        "not_watched": [],
        "transfers": 2,
        "unpriced_transfers": 1,
        "transactions_count": 2,
        "transactions": [
            {"chain": "eip155:1", "hash": tx_hash("A")},
            {"chain": "eip155:1", "hash": tx_hash("C")},
        ],
        "usd_by_asset": {f"eip155:1/{USDC}": "30.00"},
    }
    assert [t["hash"] for t in ninety.evidence["transactions"]] == [
        tx_hash("D"),
        tx_hash("A"),
        tx_hash("C"),
    ]
    listing.refresh_from_db()
    assert listing.revenue_verified == Decimal("30.00")
    assert listing.revenue_verified_at == NOW


def test_without_verified_control_nothing_counts(listing, indexed):
    listing.trace_project.contract_verifications.all().delete()

    revenue_verify(listing_id=listing.pk, now=NOW)

    assert _records(listing)[("onchain", 30)].revenue_usd == Decimal("0.00")
    assert _records(listing)[("onchain", 30)].evidence["transfers"] == 0


def test_a_treasury_the_project_does_not_watch_is_named(listing, indexed):
    other = "0x" + "ab" * 20
    ListingAssetFactory(
        listing=listing, asset_type=AssetType.TREASURY, chain="eip155:1", asset_identifier=other
    )
    revenue_verify(listing_id=listing.pk, now=NOW)
    assert _records(listing)[("onchain", 30)].evidence["not_watched"] == [
        {"chain": "eip155:1", "address": other}
    ]


def test_a_rerun_the_same_day_rewrites_the_same_records(listing, indexed, client):
    first = {key: r.pk for key, r in _records_after(listing).items()}
    deliver(client, [eth_to_dapp("F", 103), token_to_treasury("F", 103, 12_000_000)], days_ago=3)

    # Later the same UTC day (an hour after NOW, or the day's last instant when the suite
    # runs after 23:00, whose hour later is tomorrow).
    end_of_day = NOW.replace(hour=23, minute=59, second=59, microsecond=999999)
    revenue_verify(listing_id=listing.pk, now=min(NOW + dt.timedelta(hours=1), end_of_day))

    again = _records(listing)
    assert {key: r.pk for key, r in again.items()} == first
    assert RevenueRecord.objects.count() == 2
    assert again[("onchain", 30)].revenue_usd == Decimal("42.00")
    # The next day's run is a new period.
    revenue_verify(listing_id=listing.pk, now=NOW + dt.timedelta(days=1))
    assert RevenueRecord.objects.count() == 4


def _records_after(listing) -> dict[tuple[str, int], RevenueRecord]:
    revenue_verify(listing_id=listing.pk, now=NOW)
    return _records(listing)


def _ts(days_ago: float) -> int:
    return int((period_end_of(NOW) - dt.timedelta(days=days_ago)).timestamp())


@pytest.fixture(name="stripe_charges")
def stripe_charges_fixture(stripe_server: Stripe) -> Stripe:
    stripe_server.charges += [
        charge("ch_3Paid120", _ts(5), 12000),
        charge("ch_3Refunded", _ts(6), 5000, refunded_amount=5000),
        charge("ch_3PartRefund", _ts(7), 8000, refunded_amount=3000),
        charge("ch_3Declined", _ts(8), 9900, paid=False),
        charge("ch_3Euros", _ts(9), 4000, currency="eur"),
        *[charge(f"ch_3Old{n:03d}", _ts(40 + n / 10), 100) for n in range(150)],
        charge("ch_3TooOld", _ts(120), 77700),
        charge("ch_3Today", _ts(-0.5), 55500),  # after the period's end
    ]
    return stripe_server


def test_stripe_charges_paged_refunds_excluded(listing, stripe_charges):
    listing.assets.all().delete()
    connection, created = stripe_connect(listing=listing, api_key=KEY, actor=None)
    assert created
    stripe_charges.requests.clear()

    revenue_verify(listing_id=listing.pk, now=NOW)

    records = _records(listing)
    assert set(records) == {("stripe", 30), ("stripe", 90)}
    thirty, ninety = records[("stripe", 30)], records[("stripe", 90)]
    assert (thirty.fees_usd, thirty.revenue_usd) == (Decimal("170.00"), Decimal("170.00"))
    assert ninety.revenue_usd == Decimal("320.00")
    assert thirty.evidence == {
        "charges_counted": 3,
        "charges_refunded": 1,
        "charges_not_paid": 1,
        "charge_ids": ["ch_3Paid120", "ch_3PartRefund", "ch_3Euros"],
        "amount_by_currency": {"eur": 4000, "usd": 17000},
        "not_in_usd": ["eur"],
    }
    assert ninety.evidence["charges_counted"] == 153
    # Two pages of 100, the second after the first page's last charge.
    assert [r["path"] for r in stripe_charges.requests] == ["/v1/charges", "/v1/charges"]
    first, second = (r["query"] for r in stripe_charges.requests)
    assert first == {
        "created[gte]": [str(_ts(90))],
        "created[lt]": [str(_ts(0))],
        "limit": ["100"],
    }
    assert second["starting_after"] == ["ch_3Old094"]  # the 100th, newest first
    listing.refresh_from_db()
    assert listing.revenue_verified == Decimal("170.00")
    connection.refresh_from_db()
    assert connection.last_checked_at == NOW
    assert connection.last_error == ""


def test_both_sources_add_up(listing, indexed, stripe_charges):
    stripe_connect(listing=listing, api_key=KEY, actor=None)
    revenue_verify(listing_id=listing.pk, now=NOW)
    listing.refresh_from_db()
    assert listing.revenue_verified == Decimal("200.00")


def test_a_key_stripe_stops_accepting_keeps_the_last_figures(listing, stripe_charges):
    listing.assets.all().delete()
    stripe_connect(listing=listing, api_key=KEY, actor=None)
    revenue_verify(listing_id=listing.pk, now=NOW)
    StripeConnection.objects.update(api_key="rk_test_" + "x" * 40)

    revenue_verify(listing_id=listing.pk, now=NOW + dt.timedelta(days=1))

    assert RevenueRecord.objects.count() == 2  # nothing new measured
    connection = StripeConnection.objects.get()
    assert connection.last_error == "Stripe does not accept this key."
    listing.refresh_from_db()
    assert listing.revenue_verified == Decimal("170.00")  # yesterday's, still fresh


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sk_live_51PqRsTuVwXyZaBcDeFgHiJkLmNoPq0123456789", "Use a restricted key"),
        ("pk_test_51PqRsTuVwXyZaBcDeFgHiJkLmNoPq0123456789", "Use a restricted key"),
        ("not a key", "Use a restricted key"),
        ("rk_test_51PqRsTuVwXyZaBcDeFgHiJkLmNoPqUNKNOWNkey", "Stripe does not accept this key."),
        (KEY_WITHOUT_CHARGES, "This key may not read charges"),
    ],
)
def test_a_bad_key_is_refused_and_nothing_stored(listing, stripe_server, key, message):
    with pytest.raises(InvalidInput) as refused:
        stripe_connect(listing=listing, api_key=key, actor=None)
    assert message in refused.value.fields["api_key"][0]
    assert not StripeConnection.objects.exists()
    assert len(stripe_server.requests) == (0 if message.startswith("Use") else 1)


def test_the_command_and_the_task(listing, indexed, stripe_charges):
    stripe_connect(listing=listing, api_key=KEY, actor=None)
    ListingFactory(organization=listing.organization, title="Empty")  # nothing to measure
    out = StringIO()
    call_command("verify_revenue", "--listing", str(listing.pk), stdout=out)
    assert f"{listing.pk}: 4 record(s) (onchain, stripe)" in out.getvalue()
    assert "verified revenue (30 days): 200.00" in out.getvalue()

    assert tasks.verify_revenue.delay().get() == 1
    assert RevenueRecord.objects.count() == 4

    with pytest.raises(Exception, match="no listing with id nope"):
        call_command("verify_revenue", "--listing", "nope")


# --- the Stripe key API -----------------------------------------------------------------


def _member(listing, role=Role.MEMBER):
    return MembershipFactory(organization=listing.organization, role=role).user


def test_api_connect_and_disconnect(listing, stripe_server):
    client = as_user(_member(listing))
    url = f"/api/v1/listings/{listing.pk}/stripe"

    created = client.post(url, {"api_key": KEY})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["connected"] is True
    assert body["account_label"] == f"test mode key …{KEY[-4:]}"
    assert KEY not in json.dumps(body)
    assert StripeConnection.objects.get().api_key == KEY  # decrypted on read

    again = client.post(url, {"api_key": KEY})
    assert again.status_code == 200
    assert StripeConnection.objects.count() == 1

    assert client.delete(url).status_code == 204
    assert not StripeConnection.objects.exists()
    assert client.delete(url).status_code == 404


def test_api_refusals_store_nothing(listing, stripe_server):
    url = f"/api/v1/listings/{listing.pk}/stripe"
    assert as_user(_member(listing)).post(url, {"api_key": "sk_live_x"}).status_code == 400
    assert as_user(_member(listing)).post(url, {}).status_code == 400
    assert as_user(_member(listing, Role.VIEWER)).post(url, {"api_key": KEY}).status_code == 403
    stranger = MembershipFactory(role=Role.OWNER).user
    assert as_user(stranger).post(url, {"api_key": KEY}).status_code == 404
    assert (
        as_user(stranger).post("/api/v1/listings/nope/stripe", {"api_key": KEY}).status_code == 404
    )
    read_key = api_key_issue(organization=listing.organization, name="r", scopes=["read"]).key
    assert as_key(read_key).post(url, {"api_key": KEY}).status_code == 403
    assert not StripeConnection.objects.exists()
    assert stripe_server.requests == []


def test_the_stored_key_is_encrypted(listing, stripe_server):
    from django.db import connection

    stripe_connect(listing=listing, api_key=KEY, actor=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM fabric_stripeconnection")
        (stored,) = cursor.fetchone()
    assert KEY not in stored


# --- the admin ----------------------------------------------------------------------------


def test_admin_shows_evidence_never_the_key(listing, indexed, stripe_server, admin_client):
    stripe_connect(listing=listing, api_key=KEY, actor=None)
    records = revenue_verify(listing_id=listing.pk, now=NOW)
    connection = StripeConnection.objects.get()

    record_page = admin_client.get(f"/admin/fabric/revenuerecord/{records[0].pk}/change/")
    assert record_page.status_code == 200
    assert tx_hash("A") in record_page.content.decode()
    for url in (
        "/admin/fabric/stripeconnection/",
        f"/admin/fabric/stripeconnection/{connection.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert KEY not in page.content.decode()
    assert admin_client.get("/admin/fabric/revenuerecord/").status_code == 200


def test_admin_verify_again(listing, indexed, admin_client, django_capture_on_commit_callbacks):
    record = revenue_verify(listing_id=listing.pk, now=NOW - dt.timedelta(days=1))[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/fabric/revenuerecord/",
            {"action": "verify_again", "_selected_action": [str(record.pk)]},
        )
    assert response.status_code == 302
    assert RevenueRecord.objects.filter(period_end=period_end_of(timezone.now())).count() == 2
