"""`POST /api/v1/escrow/init` and `GET /api/v1/escrow/{id}`: who may open a deal, what it
is priced at (wei from the stored price quotes), the transactions it returns, repeats, and
who may read it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from eth_account import Account
from web3 import Web3

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import MembershipFactory, UserFactory
from fabric.chain.escrow import AssetKind, deal_ref, escrow_abi
from fabric.models import EscrowStatus, EscrowTransaction, Listing, Visibility
from fabric.tests.escrow_world import deal_world, escrow_deployed, nda_signed
from trace.models import AssetPrice
from trace.tests.factories import asset_price

pytestmark = pytest.mark.django_db

DEV_CHAIN = "eip155:1337"  # priced as ETH outside production
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SELLER_WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
NFT = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
ETH_PRICE = "2500.00"


@pytest.fixture(autouse=True)
def _prices(settings):
    settings.ESCROW_FEE_BPS = 250
    settings.ESCROW_DEADLINE_DAYS = 30
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    asset_price("eip155:1", "native", yesterday, ETH_PRICE)
    asset_price(DEV_CHAIN, TOKEN, yesterday, "1.00", symbol="USDC", decimals=6, price_source="")
    escrow_deployed(DEV_CHAIN, ESCROW)


@pytest.fixture
def world():
    return deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET)


def _body(world, **overrides) -> dict:
    body = {
        "listing_id": str(world.listing.pk),
        "buyer_wallet": world.buyer_wallet.lower(),
        "amount_usd": "200000.00",
        "offer_id": str(world.offer.pk) if world.offer else None,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def _init(user, body):
    return as_user(user).post("/api/v1/escrow/init", body)


def _decoded(data: str) -> tuple[str, dict]:
    function, args = Web3().eth.contract(abi=escrow_abi()).decode_function_input(data)
    return function.fn_name, args


def test_opens_a_native_deal_for_the_accepted_offer(world):
    before = timezone.now()
    response = _init(world.buyer, _body(world))
    assert response.status_code == 201, response.json()
    body = response.json()
    escrow = EscrowTransaction.objects.get()
    wei = 80 * 10**18  # $200,000 at $2,500 an ETH
    assert body["id"] == str(escrow.pk)
    assert body["status"] == "pending"
    assert body["chain"] == DEV_CHAIN
    assert body["escrow_contract_address"] == ESCROW
    assert (body["amount_usd"], body["amount"], body["payment_token"]) == (
        "200000.00",
        str(wei),
        None,
    )
    assert "approve" not in body
    deposit = body["deposit"]
    assert deposit["to"] == ESCROW
    assert deposit["from"] == world.buyer_wallet  # EIP-55
    assert deposit["value"] == hex(wei)
    name, args = _decoded(deposit["data"])
    assert name == "createDealAndDeposit"
    terms = args["terms"]
    deadline = int(escrow.deadline.timestamp())
    assert terms == {
        "ref": deal_ref(str(escrow.pk)),
        "buyer": world.buyer_wallet,
        "seller": SELLER_WALLET,
        "paymentToken": "0x" + "0" * 40,
        "amount": wei,
        "assetKind": 0,
        "assetContract": "0x" + "0" * 40,
        "tokenId": 0,
        "deadline": deadline,
    }
    assert escrow.deal_ref == "0x" + deal_ref(str(escrow.pk)).hex()
    assert (escrow.offer, escrow.buyer, escrow.status) == (world.offer, world.buyer, "pending")
    assert (escrow.amount_units, escrow.fee_bps, escrow.seller_wallet) == (
        str(wei),
        250,
        SELLER_WALLET,
    )
    expected_deadline = before + dt.timedelta(days=30)
    assert abs((escrow.deadline - expected_deadline).total_seconds()) < 5


def test_an_erc20_deal_returns_the_allowance_first(world):
    response = _init(world.buyer, _body(world, asset=TOKEN.lower()))
    assert response.status_code == 201, response.json()
    body = response.json()
    units = 200_000 * 10**6  # USDC's 6 decimals, at $1.00
    assert (body["amount"], body["payment_token"]) == (str(units), TOKEN)
    approve = body["approve"]
    assert (approve["to"], approve["from"], approve["value"]) == (TOKEN, world.buyer_wallet, "0x0")
    allowance = (
        Web3()
        .eth.contract(
            abi=[
                {
                    "type": "function",
                    "name": "approve",
                    "inputs": [
                        {"name": "spender", "type": "address"},
                        {"name": "value", "type": "uint256"},
                    ],
                    "outputs": [{"name": "", "type": "bool"}],
                    "stateMutability": "nonpayable",
                }
            ]
        )
        .decode_function_input(approve["data"])[1]
    )
    assert allowance == {"spender": ESCROW, "value": units}
    assert body["deposit"]["value"] == "0x0"
    _, args = _decoded(body["deposit"]["data"])
    assert (args["terms"]["paymentToken"], args["terms"]["amount"]) == (TOKEN, units)


def test_a_swap_escrows_the_sellers_token(world):
    swap = {"type": "erc721", "address": NFT.lower(), "token_id": "42"}
    response = _init(world.buyer, _body(world, swap_asset=swap))
    assert response.status_code == 201, response.json()
    _, args = _decoded(response.json()["deposit"]["data"])
    terms = args["terms"]
    assert (terms["assetKind"], terms["assetContract"], terms["tokenId"]) == (
        int(AssetKind.ERC721),
        NFT,
        42,
    )
    assert EscrowTransaction.objects.get().swap_asset == {
        "type": "erc721",
        "address": NFT,
        "token_id": "42",
    }


def test_a_repeat_for_the_same_offer_returns_the_pending_deal(world):
    first = _init(world.buyer, _body(world))
    again = _init(world.buyer, _body(world))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert EscrowTransaction.objects.count() == 1


def test_without_an_offer_the_asking_price_only():
    world = deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET, offer_amount=None)
    refused = _init(world.buyer, _body(world, amount_usd="200000.00"))
    assert refused.status_code == 400
    assert refused.json()["amount_usd"] == ["Must be 250000.00, the listing's asking price."]
    assert not EscrowTransaction.objects.exists()
    response = _init(world.buyer, _body(world, amount_usd="250000.00"))
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == str(100 * 10**18)
    repeat = _init(world.buyer, _body(world, amount_usd="250000.00"))
    assert (repeat.status_code, repeat.json()["id"]) == (200, response.json()["id"])


def test_the_amount_must_be_the_offers(world):
    response = _init(world.buyer, _body(world, amount_usd="150000.00"))
    assert response.status_code == 400
    assert response.json()["amount_usd"] == ["Must be 200000.00, the accepted offer's amount."]
    assert not EscrowTransaction.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"chain": "eip155:8453"}, "chain"),  # no escrow deployed there
        ({"chain": "solana:mainnet"}, "chain"),
        ({"asset": "0x" + "12" * 20}, "asset"),  # not in the asset registry
        ({"asset": "usdc"}, "asset"),
        ({"buyer_wallet": "0x" + "34" * 20}, "buyer_wallet"),  # not the caller's signed one
        ({"buyer_wallet": "not-an-address"}, "buyer_wallet"),
        ({"swap_asset": {"type": "erc1155", "address": NFT}}, "swap_asset"),
        ({"swap_asset": {"type": "erc721", "address": NFT, "token_id": "-1"}}, "swap_asset"),
        ({"swap_asset": {"type": "ownable", "address": NFT, "token_id": "7"}}, "swap_asset"),
        ({"amount_usd": "-5"}, "amount_usd"),
        ({"listing_id": "nope"}, "listing_id"),
    ],
)
def test_invalid_requests_store_nothing(world, overrides, field):
    response = _init(world.buyer, _body(world, **overrides))
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not EscrowTransaction.objects.exists()


def test_an_offer_of_another_buyer_is_refused(world):
    other = deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET)
    response = _init(world.buyer, _body(world, offer_id=str(other.offer.pk)))
    assert response.status_code == 400
    assert response.json()["offer_id"] == ["Not an accepted offer of yours on this listing."]
    assert not EscrowTransaction.objects.exists()


def test_a_seller_without_a_wallet_is_a_conflict(world):
    Listing.objects.filter(pk=world.listing.pk).update(seller_wallet="")
    response = _init(world.buyer, _body(world))
    assert response.status_code == 409
    assert "has not set the wallet the escrow pays" in response.json()["detail"]
    assert not EscrowTransaction.objects.exists()


def test_a_sold_listing_opens_no_escrow(world):
    Listing.objects.filter(pk=world.listing.pk).update(status="sold")
    response = _init(world.buyer, _body(world))
    assert response.status_code == 409
    assert not EscrowTransaction.objects.exists()


def test_gating(world):
    stranger = UserFactory()  # has not signed the NDA: sees the teaser, not the deal
    assert _init(stranger, _body(world)).status_code == 403
    Listing.objects.filter(pk=world.listing.pk).update(visibility=Visibility.PRIVATE)
    assert _init(stranger, _body(world)).status_code == 404
    assert _init(world.seller, _body(world)).status_code == 403  # the seller's own listing
    key = api_key_issue(organization=world.listing.organization, name="k", scopes=["write"]).key
    assert as_key(key).post("/api/v1/escrow/init", _body(world)).status_code == 403
    assert not EscrowTransaction.objects.exists()


def test_a_revoked_or_outdated_nda_grants_nothing(world):
    Listing.objects.filter(pk=world.listing.pk).update(nda_version=2, nda_text="New terms.")
    response = _init(world.buyer, _body(world))
    assert response.status_code == 403
    world.listing.refresh_from_db()
    nda_signed(world.listing, world.buyer, Account.create())  # another wallet signs v2
    response = _init(world.buyer, _body(world))
    assert response.status_code == 400  # the offer's wallet signed v1 only
    assert "buyer_wallet" in response.json()
    assert not EscrowTransaction.objects.exists()


def test_development_chain_priced_as_eth_only_outside_production(world, settings):
    settings.PRODUCTION = True
    response = _init(world.buyer, _body(world))
    assert response.status_code == 400
    assert "cannot be priced" in response.json()["asset"][0]
    assert not EscrowTransaction.objects.exists()


# ---- GET ---------------------------------------------------------------------------------


def test_the_buyer_and_the_sellers_members_read_the_deal(world):
    opened = _init(world.buyer, _body(world)).json()
    viewer = UserFactory()
    MembershipFactory(organization=world.listing.organization, user=viewer, role=Role.VIEWER)
    for reader in (world.buyer, world.seller, viewer):
        response = as_user(reader).get(f"/api/v1/escrow/{opened['id']}")
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["status"], body["deal_id"]) == (opened["id"], "pending", None)
        assert body["transactions"] == []
        label = "Open the deal and deposit the payment"
        assert body["next_steps"] == [{**opened["deposit"], "party": "buyer", "label": label}]
        assert body["listing_id"] == str(world.listing.pk)
        assert body["offer_id"] == str(world.offer.pk)


def test_others_get_404(world):
    opened = _init(world.buyer, _body(world)).json()
    other = deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET)
    for stranger in (other.seller, other.buyer, UserFactory()):
        response = as_user(stranger).get(f"/api/v1/escrow/{opened['id']}")
        assert response.status_code == 404
    assert as_user(world.buyer).get("/api/v1/escrow/not-a-uuid").status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert as_user(world.buyer).get(f"/api/v1/escrow/{unknown}").status_code == 404


def test_unauthenticated_is_401(world):
    client = JsonClient()
    assert client.post("/api/v1/escrow/init", _body(world)).status_code == 401
    assert EscrowTransaction.objects.filter(status=EscrowStatus.PENDING).count() == 0


def test_a_stale_price_quotes_nothing(world):
    AssetPrice.objects.filter(asset__chain="eip155:1", asset__address="native").update(
        day=timezone.now().date() - dt.timedelta(days=3),
        fetched_at=timezone.now() - dt.timedelta(days=3),
    )
    response = _init(world.buyer, _body(world))
    assert response.status_code == 400
    assert response.json()["asset"] == [
        f"This asset cannot be priced on {DEV_CHAIN}: its latest price is older than a day."
    ]
    assert not EscrowTransaction.objects.exists()
