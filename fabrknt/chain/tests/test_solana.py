"""fabrknt.chain.solana against a local JSON-RPC server answering as a Solana node does."""

from __future__ import annotations

import base58
import pytest

from fabrknt.chain.evm import ChainNotConfigured
from fabrknt.chain.solana import ProgramAuthority, SolanaRpcError, program_upgrade_authority
from fabrknt.chain.tests.solana_rpc import SolanaRpc, solana_rpc_fixture  # noqa: F401


def address(n: int) -> str:
    return base58.b58encode(bytes([n]) * 32).decode()


PROGRAM, PROGRAM_DATA, AUTHORITY, WALLET = address(7), address(8), address(9), address(10)


def test_an_upgradeable_programs_authority(solana_rpc: SolanaRpc):
    solana_rpc.upgradeable_program(program=PROGRAM, program_data=PROGRAM_DATA, authority=AUTHORITY)

    found = program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)

    assert found == ProgramAuthority(upgradeable=True, authority=AUTHORITY)
    assert [(r["method"], r["params"]) for r in solana_rpc.requests] == [
        ("getAccountInfo", [PROGRAM, {"encoding": "jsonParsed", "commitment": "finalized"}]),
        ("getAccountInfo", [PROGRAM_DATA, {"encoding": "jsonParsed", "commitment": "finalized"}]),
    ]


def test_an_immutable_program_has_no_authority(solana_rpc: SolanaRpc):
    solana_rpc.upgradeable_program(program=PROGRAM, program_data=PROGRAM_DATA, authority=None)

    found = program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)

    assert found == ProgramAuthority(upgradeable=True, authority=None)


def test_a_program_of_the_old_loader_is_not_upgradeable(solana_rpc: SolanaRpc):
    solana_rpc.wallet(PROGRAM)
    solana_rpc.accounts[PROGRAM].update(
        executable=True, owner="BPFLoader2111111111111111111111111111111111"
    )

    found = program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)

    assert found == ProgramAuthority(upgradeable=False, authority=None)
    assert len(solana_rpc.requests) == 1


def test_a_wallet_or_a_missing_account_is_not_a_program(solana_rpc: SolanaRpc):
    solana_rpc.wallet(WALLET)
    assert program_upgrade_authority(chain="solana:mainnet", program=WALLET) is None
    assert program_upgrade_authority(chain="solana:mainnet", program=PROGRAM) is None


def test_a_failing_endpoint_is_an_rpc_error(solana_rpc: SolanaRpc):
    solana_rpc.upgradeable_program(program=PROGRAM, program_data=PROGRAM_DATA, authority=AUTHORITY)
    solana_rpc.status = 502
    with pytest.raises(SolanaRpcError):
        program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)


def test_a_program_whose_data_account_is_missing_is_an_rpc_error(solana_rpc: SolanaRpc):
    solana_rpc.upgradeable_program(program=PROGRAM, program_data=PROGRAM_DATA, authority=AUTHORITY)
    del solana_rpc.accounts[PROGRAM_DATA]
    with pytest.raises(SolanaRpcError):
        program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)


def test_without_an_rpc_url_the_chain_is_not_configured(settings):
    settings.CHAIN_RPC_URLS = {}
    with pytest.raises(ChainNotConfigured):
        program_upgrade_authority(chain="solana:mainnet", program=PROGRAM)
