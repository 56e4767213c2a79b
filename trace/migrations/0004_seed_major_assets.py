"""Seed the asset registry with the major assets of the chains TRACE supports.

Addresses are the issuers' and the chains' published contracts (EIP-55; Solana mints in
base58): Circle's native USDC, Tether's USDT (on Base the bridged USDT, on Optimism both
the bridged USDT and Tether's USDT0), MakerDAO's DAI and each chain's wrapped coin. Prices
come from the CoinGecko ids given; wrapped coins are redeemable 1:1, so they take their
coin's id. Public testnets need no rows: `trace.services.pricing` values them at 0.
"""

from django.db import migrations

NATIVE = "native"

# (chain, address, symbol, decimals, CoinGecko id)
ASSETS = [
    # Ethereum
    ("eip155:1", NATIVE, "ETH", 18, "ethereum"),
    ("eip155:1", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USDC", 6, "usd-coin"),
    ("eip155:1", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "USDT", 6, "tether"),
    ("eip155:1", "0x6B175474E89094C44Da98b954EedeAC495271d0F", "DAI", 18, "dai"),
    ("eip155:1", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "WETH", 18, "ethereum"),
    # Base
    ("eip155:8453", NATIVE, "ETH", 18, "ethereum"),
    ("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USDC", 6, "usd-coin"),
    ("eip155:8453", "0xfde4C96c8593536E31F229EA8f37b2ADa2699bb2", "USDT", 6, "tether"),
    ("eip155:8453", "0x50c5725949A6F0c72E6C4a641F24049A917DB0Cb", "DAI", 18, "dai"),
    ("eip155:8453", "0x4200000000000000000000000000000000000006", "WETH", 18, "ethereum"),
    # OP Mainnet
    ("eip155:10", NATIVE, "ETH", 18, "ethereum"),
    ("eip155:10", "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", "USDC", 6, "usd-coin"),
    ("eip155:10", "0x94b008aA00579c1307B0EF2c499aD98a8ce58e58", "USDT", 6, "tether"),
    ("eip155:10", "0x01bFF41798a0BcF287b996046Ca68b395DbC1071", "USDT0", 6, "tether"),
    ("eip155:10", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", "DAI", 18, "dai"),
    ("eip155:10", "0x4200000000000000000000000000000000000006", "WETH", 18, "ethereum"),
    # Arbitrum One
    ("eip155:42161", NATIVE, "ETH", 18, "ethereum"),
    ("eip155:42161", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", "USDC", 6, "usd-coin"),
    ("eip155:42161", "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", "USDT", 6, "tether"),
    ("eip155:42161", "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1", "DAI", 18, "dai"),
    ("eip155:42161", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", "WETH", 18, "ethereum"),
    # Polygon PoS (the coin is POL, formerly MATIC)
    ("eip155:137", NATIVE, "POL", 18, "polygon-ecosystem-token"),
    ("eip155:137", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", "USDC", 6, "usd-coin"),
    ("eip155:137", "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", "USDT", 6, "tether"),
    ("eip155:137", "0x8f3Cf7ad23Cd3CaDbD9735AFf958023239c6A063", "DAI", 18, "dai"),
    ("eip155:137", "0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270", "WPOL", 18, "polygon-ecosystem-token"),
    ("eip155:137", "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619", "WETH", 18, "ethereum"),
    # Solana
    ("solana:mainnet", NATIVE, "SOL", 9, "solana"),
    ("solana:mainnet", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "USDC", 6, "usd-coin"),
    ("solana:mainnet", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", "USDT", 6, "tether"),
]


def seed(apps, schema_editor):
    Asset = apps.get_model("trace", "Asset")
    for chain, address, symbol, decimals, price_source in ASSETS:
        Asset.objects.get_or_create(
            chain=chain,
            address=address,
            defaults={
                "symbol": symbol,
                "decimals": decimals,
                "price_source": price_source,
                "enabled": True,
            },
        )


def unseed(apps, schema_editor):
    Asset = apps.get_model("trace", "Asset")
    for chain, address, *_ in ASSETS:
        Asset.objects.filter(chain=chain, address=address, prices__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("trace", "0003_asset_registry")]

    operations = [migrations.RunPython(seed, unseed)]
