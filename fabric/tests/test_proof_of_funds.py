"""Proof of funds against a real local EVM (py-evm behind a local JSON-RPC HTTP endpoint)
holding real balances — ETH sent, USDC minted by the MockUSDC bytecode, and a second
token that also calls itself "USDC" — priced through TRACE's asset registry."""

from __future__ import annotations

import datetime as dt
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import base58
import pytest
from django.utils import timezone
from eth_account import Account
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from accounts.models import WalletKind
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import OrganizationFactory, WalletFactory
from fabrknt.chain.evm import contract_artifact
from fabrknt.chain.tests.evm_rpc import EvmRpcServer
from fabrknt.chain.tests.solana_rpc import SolanaRpc, solana_rpc_fixture  # noqa: F401
from trace.models import NATIVE_ASSET
from trace.services.pricing import asset_price_set
from trace.tests.factories import AssetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]

USDC = 10**6
ETHER = 10**18
BASE = "eip155:8453"


@dataclass
class FundsChain:
    w3: Web3
    rpc: EvmRpcServer
    usdc: Contract
    fake_usdc: Contract  # calls itself USDC; the registry does not list it

    @property
    def chain(self) -> str:
        return f"eip155:{self.w3.eth.chain_id}"

    def fund(self, wallet: str, *, ether: Decimal, usdc: Decimal, fake: Decimal) -> None:
        owner = self.w3.eth.accounts[0]
        self.w3.eth.send_transaction({"from": owner, "to": wallet, "value": int(ether * ETHER)})
        self.usdc.functions.mint(wallet, int(usdc * USDC)).transact({"from": owner})
        self.fake_usdc.functions.mint(wallet, int(fake * USDC)).transact({"from": owner})


@pytest.fixture(scope="module")
def funds_chain_module() -> Iterator[FundsChain]:
    with warnings.catch_warnings():  # eth-tester resets the filters to "default" on start
        w3 = Web3(EthereumTesterProvider())
    abi, bytecode = contract_artifact("fabric/test/MockUSDC")

    def deploy() -> Contract:
        tx = (
            w3.eth.contract(abi=abi, bytecode=bytecode)
            .constructor()
            .transact({"from": w3.eth.accounts[0]})
        )
        return w3.eth.contract(
            address=w3.eth.get_transaction_receipt(tx)["contractAddress"], abi=abi
        )

    rpc = EvmRpcServer(w3).start()
    try:
        yield FundsChain(w3=w3, rpc=rpc, usdc=deploy(), fake_usdc=deploy())
    finally:
        rpc.stop()


@pytest.fixture
def funds_chain(funds_chain_module: FundsChain, settings) -> Iterator[FundsChain]:
    """The chain (reverted after the test) as the only configured EVM chain besides Base,
    whose endpoint refuses connections; ETH at $3,000 and the real USDC at $1 today."""
    snapshot = funds_chain_module.w3.testing.snapshot()
    settings.CHAIN_RPC_URLS = {
        funds_chain_module.chain: funds_chain_module.rpc.url,
        BASE: f"http://127.0.0.1:{_closed_port()}",
    }
    settings.PROOF_OF_FUNDS_TOKENS = {}
    today = timezone.now().date()
    chain = funds_chain_module.chain
    eth = AssetFactory(chain=chain, address=NATIVE_ASSET, symbol="ETH", decimals=18)
    usdc = AssetFactory(
        chain=chain, address=funds_chain_module.usdc.address, symbol="USDC", decimals=6
    )
    asset_price_set(asset=eth, day=today - dt.timedelta(days=1), price_usd=Decimal("3000"))
    asset_price_set(asset=usdc, day=today, price_usd=Decimal("1.00"))
    funds_chain_module.rpc.reset_counts()
    yield funds_chain_module
    funds_chain_module.w3.testing.revert(snapshot)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def buyer(funds_chain: FundsChain):
    wallet = WalletFactory(address=Account.create().address)
    funds_chain.fund(
        wallet.address, ether=Decimal("2.5"), usdc=Decimal("1234.56"), fake=Decimal("500")
    )
    return wallet


def _proof(client: JsonClient, wallet: str, query: str = ""):
    return client.get(f"/api/v1/proof-of-funds/{wallet}{query}")


def test_real_balances_valued_by_asset_identity(funds_chain, buyer, settings):
    settings.PROOF_OF_FUNDS_TOKENS = {
        funds_chain.chain: [funds_chain.usdc.address, funds_chain.fake_usdc.address.lower()]
    }

    response = _proof(as_user(buyer.user), buyer.address.lower(), "?amount_usd=8000.00")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["wallet"] == buyer.address  # EIP-55 whatever the case asked
    assert body["balances"] == [
        {
            "chain": funds_chain.chain,
            "asset": "native",
            "symbol": "ETH",
            "amount": "2.5",
            "usd": "7500.00",
            "note": "",
        },
        {
            "chain": funds_chain.chain,
            "asset": funds_chain.usdc.address,
            "symbol": "USDC",
            "amount": "1234.56",
            "usd": "1234.56",
            "note": "",
        },
        {
            "chain": funds_chain.chain,
            "asset": funds_chain.fake_usdc.address,
            "symbol": "",
            "amount": "500",  # its decimals read from the token: 6
            "usd": None,
            "note": "not in the asset registry",
        },
    ]
    assert body["unavailable"] == [
        {"chain": BASE, "reason": "the endpoint failed (ConnectionError)"}
    ]
    assert body["total_usd"] == "8734.56"
    assert body["amount_usd"] == "8000.00"
    assert body["sufficient"] is True
    assert body["notes"] == [
        f"{funds_chain.fake_usdc.address} on {funds_chain.chain} is not counted: "
        "not in the asset registry.",
        f"{BASE} did not answer: the endpoint failed (ConnectionError).",
    ]
    assert dt.datetime.fromisoformat(body["checked_at"]) <= timezone.now()
    # The native and both token balances in one batch (web3 asks eth_chainId on its own),
    # then the unregistered token's decimals.
    assert funds_chain.rpc.calls["eth_getBalance"] == 1
    assert funds_chain.rpc.calls["eth_call"] == 3
    assert funds_chain.rpc.http_requests < sum(funds_chain.rpc.calls.values())


def test_without_configured_tokens_the_registrys_tokens_are_read(funds_chain, buyer):
    body = _proof(as_user(buyer.user), buyer.address, "?amount_usd=9000").json()

    assert [(b["asset"], b["usd"]) for b in body["balances"]] == [
        ("native", "7500.00"),
        (funds_chain.usdc.address, "1234.56"),
    ]
    assert body["total_usd"] == "8734.56"
    assert body["sufficient"] is False
    assert (funds_chain.rpc.calls["eth_getBalance"], funds_chain.rpc.calls["eth_call"]) == (1, 1)


def test_without_an_amount_sufficient_is_null(funds_chain, buyer):
    body = _proof(as_user(buyer.user), buyer.address).json()
    assert body["amount_usd"] is None
    assert body["sufficient"] is None


def test_the_answer_is_cached_briefly_per_wallet(funds_chain, buyer, settings):
    client = as_user(buyer.user)
    first = _proof(client, buyer.address, "?amount_usd=1").json()
    funds_chain.fund(buyer.address, ether=Decimal("1"), usdc=Decimal("0"), fake=Decimal("0"))

    again = _proof(client, buyer.address, "?amount_usd=100000").json()

    assert again["checked_at"] == first["checked_at"]
    assert again["total_usd"] == "8734.56"
    assert (first["sufficient"], again["sufficient"]) == (True, False)
    assert funds_chain.rpc.calls["eth_getBalance"] == 1

    settings.PROOF_OF_FUNDS_CACHE_SECONDS = 0
    from django.core.cache import cache

    cache.clear()
    fresh = _proof(client, buyer.address).json()
    assert fresh["total_usd"] == "11734.56"  # 3.5 ETH now


def test_an_unpriced_native_coin_is_left_out_of_the_total(funds_chain, buyer):
    AssetFactory(chain=funds_chain.chain, address=NATIVE_ASSET).prices.all().delete()

    body = _proof(as_user(buyer.user), buyer.address).json()

    assert body["balances"][0]["usd"] is None
    assert body["balances"][0]["note"] == "no price in the asset registry"
    assert body["total_usd"] == "1234.56"


def test_a_contract_wallet_is_read_on_its_own_chain_only(funds_chain):
    wallet = WalletFactory(
        kind=WalletKind.CONTRACT, chain=funds_chain.chain, address=Account.create().address
    )
    funds_chain.fund(wallet.address, ether=Decimal("1"), usdc=Decimal("0"), fake=Decimal("0"))

    body = _proof(as_user(wallet.user), wallet.address).json()

    assert [b["usd"] for b in body["balances"]] == ["3000.00"]
    assert body["unavailable"] == []  # Base is not its chain


def test_sol_on_solana(solana_rpc: SolanaRpc, settings):
    settings.CHAIN_RPC_URLS = {"solana:mainnet": solana_rpc.url}
    address = base58.b58encode(bytes([21]) * 32).decode()
    solana_rpc.wallet(address)  # 5 SOL
    sol = AssetFactory(chain="solana:mainnet", address=NATIVE_ASSET, symbol="SOL", decimals=9)
    asset_price_set(asset=sol, day=timezone.now().date(), price_usd=Decimal("150.25"))
    wallet = WalletFactory(namespace="solana", chain="solana:mainnet", address=address)

    body = _proof(as_user(wallet.user), address, "?amount_usd=751.25").json()

    assert body["balances"] == [
        {
            "chain": "solana:mainnet",
            "asset": "native",
            "symbol": "SOL",
            "amount": "5",
            "usd": "751.25",
            "note": "",
        }
    ]
    assert body["sufficient"] is True
    assert [r["method"] for r in solana_rpc.requests] == ["getBalance"]


def test_only_the_callers_own_wallets(funds_chain, buyer):
    stranger = WalletFactory()
    refused = _proof(as_user(stranger.user), buyer.address)
    assert refused.status_code == 403
    assert refused.json()["code"] == "wallet_not_proven"
    assert funds_chain.rpc.http_requests == 0  # nothing was read for them

    assert _proof(JsonClient(), buyer.address).status_code == 401
    organization = OrganizationFactory()
    key = api_key_issue(organization=organization, name="k", scopes=["read", "write"]).key
    assert _proof(as_key(key), buyer.address).status_code in (401, 403)


@pytest.mark.parametrize(
    ("wallet", "query", "field"),
    [
        ("0x123", "", "wallet"),
        ("not-an-address", "", "wallet"),
        ("0x52908400098527886E0F7030069857D2E4169EE7".lower()[:-1] + "X", "", "wallet"),
        ("VALID", "?amount_usd=abc", "amount_usd"),
        ("VALID", "?amount_usd=-1", "amount_usd"),
        ("VALID", "?amount_usd=12.345", "amount_usd"),
        ("VALID", "?amount_usd=1e400", "amount_usd"),
    ],
)
def test_bad_input_is_400(funds_chain, buyer, wallet, query, field):
    wallet = buyer.address if wallet == "VALID" else wallet
    response = _proof(as_user(buyer.user), wallet, query)
    assert response.status_code == 400
    assert field in response.json()
    assert funds_chain.rpc.http_requests == 0


def test_without_a_configured_chain_it_is_503(buyer, settings):
    settings.CHAIN_RPC_URLS = {"solana:mainnet": "http://127.0.0.1:9"}  # not for EVM wallets

    response = _proof(as_user(buyer.user), buyer.address, "?amount_usd=1")

    assert response.status_code == 503
    assert response.json()["code"] == "chain_not_configured"
