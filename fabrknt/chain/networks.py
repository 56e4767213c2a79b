"""The chains we name to people: a human name for each CAIP-2 id, and its block explorer.

One table for the whole suite: the project form's chain picker, chain labels on pages and
the explorer links of addresses and transactions all read it. A chain missing here still
works everywhere (CAIP-2 is what is stored); it is shown by its id, without links.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Network:
    caip2: str
    name: str
    # The explorer's address page is `{explorer}/address/{address}` (EVM) or
    # `{explorer}/account/{address}` (Solscan), its transaction page `{explorer}/tx/{hash}`;
    # `query` is appended to both (Solscan picks its cluster with it).
    explorer: str
    testnet: bool = False
    query: str = ""

    @property
    def is_solana(self) -> bool:
        return self.caip2.startswith("solana:")

    def address_url(self, address: str) -> str:
        page = "account" if self.is_solana else "address"
        return f"{self.explorer}/{page}/{quote(address, safe='')}{self.query}"

    def transaction_url(self, transaction_hash: str) -> str:
        return f"{self.explorer}/tx/{quote(transaction_hash, safe='')}{self.query}"


# Mainnets first, each followed by its testnet: the order of the chain picker.
NETWORKS: tuple[Network, ...] = (
    Network("eip155:1", "Ethereum", "https://etherscan.io"),
    Network("eip155:11155111", "Ethereum Sepolia", "https://sepolia.etherscan.io", testnet=True),
    Network("eip155:8453", "Base", "https://basescan.org"),
    Network("eip155:84532", "Base Sepolia", "https://sepolia.basescan.org", testnet=True),
    Network("eip155:42161", "Arbitrum One", "https://arbiscan.io"),
    Network("eip155:421614", "Arbitrum Sepolia", "https://sepolia.arbiscan.io", testnet=True),
    Network("eip155:10", "Optimism", "https://optimistic.etherscan.io"),
    Network(
        "eip155:11155420",
        "Optimism Sepolia",
        "https://sepolia-optimism.etherscan.io",
        testnet=True,
    ),
    Network("eip155:137", "Polygon", "https://polygonscan.com"),
    Network("eip155:80002", "Polygon Amoy", "https://amoy.polygonscan.com", testnet=True),
    Network("solana:mainnet", "Solana", "https://solscan.io"),
    Network(
        "solana:devnet",
        "Solana Devnet",
        "https://solscan.io",
        testnet=True,
        query="?cluster=devnet",
    ),
)

_BY_CAIP2 = {network.caip2: network for network in NETWORKS}


def network_of(chain: str) -> Network | None:
    """The named network of a CAIP-2 id, or None for a chain we have no name for."""
    return _BY_CAIP2.get(chain)


def chain_name(chain: str) -> str:
    """A person's name for the chain ("Base"), else its CAIP-2 id."""
    network = network_of(chain)
    return network.name if network else chain
