"""Solana JSON-RPC reads, from `settings.CHAIN_RPC_URLS` (e.g. `solana:mainnet=https://…`).

Only what the platform needs: a wallet's SOL (`getBalance`), and who may upgrade a program.
An upgradeable program (owned by the BPF upgradeable loader) is an account pointing at its
ProgramData account, which holds the upgrade authority; `getAccountInfo` with `jsonParsed`
decodes both:

    program:     {"parsed": {"type": "program", "info": {"programData": "<address>"}}, ...}
    programData: {"parsed": {"type": "programData",
                             "info": {"authority": "<address>" | null, "slot": n, ...}}, ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from fabrknt.chain.evm import ChainNotConfigured

RPC_TIMEOUT_SECONDS = 15
BPF_UPGRADEABLE_LOADER = "BPFLoaderUpgradeab1e11111111111111111111111"


class SolanaRpcError(Exception):
    """The endpoint failed or answered something that is not a JSON-RPC result."""


@dataclass(frozen=True)
class ProgramAuthority:
    """What the chain says about a program's upgrades. `authority` is None when nobody can
    upgrade it: `upgradeable` False (another loader) or the authority was removed."""

    upgradeable: bool
    authority: str | None


def solana_rpc_url(chain: str) -> str:
    url: str = settings.CHAIN_RPC_URLS.get(chain, "")
    if not url:
        raise ChainNotConfigured(chain)
    return url


def _solana_rpc(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    """The `result` object of one JSON-RPC call; SolanaRpcError when there is none."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    try:
        response = requests.post(url, json=request, timeout=RPC_TIMEOUT_SECONDS)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SolanaRpcError(f"{method} failed: {type(error).__name__}") from error
    if not isinstance(body, dict) or "error" in body or not isinstance(body.get("result"), dict):
        raise SolanaRpcError(f"{method} answered an error: {str(body)[:200]}")
    result: dict[str, Any] = body["result"]
    return result


def solana_account_info(*, url: str, address: str) -> dict[str, Any] | None:
    """`getAccountInfo` (jsonParsed, finalized) of an address: its `value`, None if the
    account does not exist."""
    result = _solana_rpc(
        url, "getAccountInfo", [address, {"encoding": "jsonParsed", "commitment": "finalized"}]
    )
    value = result.get("value")
    return value if isinstance(value, dict) else None


def solana_balance(*, url: str, address: str) -> int:
    """`getBalance` (finalized) of an address, in lamports."""
    value = _solana_rpc(url, "getBalance", [address, {"commitment": "finalized"}]).get("value")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SolanaRpcError(f"getBalance answered {value!r}")
    return value


def _parsed(account: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    data = account.get("data") if account else None
    parsed = data.get("parsed") if isinstance(data, dict) else None
    if not isinstance(parsed, dict) or parsed.get("type") != kind:
        return None
    info = parsed.get("info")
    return info if isinstance(info, dict) else None


def program_upgrade_authority(*, chain: str, program: str) -> ProgramAuthority | None:
    """Who may upgrade `program`; None when the address is not a program."""
    url = solana_rpc_url(chain)
    account = solana_account_info(url=url, address=program)
    if account is None or not account.get("executable"):
        return None
    if account.get("owner") != BPF_UPGRADEABLE_LOADER:
        return ProgramAuthority(upgradeable=False, authority=None)
    program_info = _parsed(account, "program")
    program_data = program_info.get("programData") if program_info else None
    if not isinstance(program_data, str):
        raise SolanaRpcError("the program account does not name its ProgramData account")
    data_info = _parsed(solana_account_info(url=url, address=program_data), "programData")
    if data_info is None:
        raise SolanaRpcError("the ProgramData account could not be read")
    authority = data_info.get("authority")
    return ProgramAuthority(
        upgradeable=True, authority=authority if isinstance(authority, str) else None
    )
