"""`make run`'s development chain against a real ganache (the pinned npm package): it
starts, funds the signer, deploys our contracts, hands the command CHAIN_RPC_URLS,
SBT_CHAIN and ESCROW_CONFIRMATIONS (0), a token mints on it, and ganache stops with the
command. Needs node and node_modules (`make test` runs `npm ci`); skipped without them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from fabrknt.chain.devchain import GANACHE, port_in_use

pytestmark = pytest.mark.skipif(
    not GANACHE.exists(), reason="node_modules/.bin/ganache is missing: run `npm ci`"
)

# Run by the command the devchain hands its environment: asks for a token on the chain it
# was given, as the API does, and reads it back from the chain.
MINT_SCRIPT = textwrap.dedent(
    """
    import os, django
    django.setup()
    from django.db import transaction
    from web3 import Web3
    from fabrknt.chain.evm import evm_client
    from pulse.models import ContributionType, SBTRecord
    from pulse.services.sbt import sbt_request
    from pulse.services.sbt_contract import sbt_contract
    from pulse.tests.factories import ContributionFactory, ContributorFactory

    env = os.environ
    print("ENV", env["CHAIN_RPC_URLS"], env["SBT_CHAIN"], env["ESCROW_CONFIRMATIONS"])
    contributor = ContributorFactory()
    ContributionFactory(
        team=contributor.team,
        contributor=contributor,
        contribution_type=ContributionType.PULL_REQUEST_MERGED,
    )
    with transaction.atomic():  # the mint task runs in-process once this commits
        sbt_request(
            team=contributor.team,
            wallet_address=contributor.wallet_address,
            milestone="first-merged-pr",
        )
    record = SBTRecord.objects.get()
    sbt = sbt_contract(evm_client(record.chain), record.token_address)
    token = int(record.token_id)
    owned = sbt.functions.ownerOf(token).call() == contributor.wallet_address
    print("MINTED", record.status, owned, sbt.functions.locked(token).call())
    """
)


def _running_in_group(group: int) -> list[int]:
    """Processes of that process group still running (zombies not yet reaped by the
    container's init count as ended)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            running.append(int(stat.parent.name))
    return running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CHAIN_RPC_URLS"}
    }
    env.update(
        DJANGO_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DEVCHAIN_PORT=str(port),
        DEVCHAIN_DB_PATH=str(tmp_path / "devchain"),
        PUBLIC_BASE_URL="https://suite.example",
        PYTHONPATH=str(settings.BASE_DIR),
        DJANGO_SETTINGS_MODULE="fabrknt.settings",
    )
    return env


def _devchain(env: dict[str, str], *command: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fabrknt.chain.devchain", "--", *command],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def test_starts_deploys_mints_and_stops(tmp_path):
    port = _free_port()
    env = _env(tmp_path, port)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    script = tmp_path / "mint.py"
    script.write_text(MINT_SCRIPT)
    process = _devchain(env, sys.executable, str(script))
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    url = f"http://127.0.0.1:{port}"
    assert f"ENV eip155:1337={url} eip155:1337 0" in output
    assert "fabric/FabrkntEscrow deployed on eip155:1337 at 0x" in output
    assert "pulse/FabrkntSBT deployed on eip155:1337 at 0x" in output
    assert "MINTED minted True True" in output
    assert not port_in_use("127.0.0.1", port)  # ganache stopped with the command

    # Again on the same chain state: the contract is kept, not deployed twice; and a
    # terminated run (a supervisor's SIGTERM) stops ganache too.
    # The command runs in a process group of its own, all of which ends with us.
    again = _devchain(env, "sh", "-c", "echo READY $$; sleep 120 & wait")
    lines = []
    while not lines or not lines[-1].startswith("READY "):
        line = again.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    assert any("pulse/FabrkntSBT already deployed on eip155:1337" in line for line in lines)
    assert port_in_use("127.0.0.1", port)
    group = int(lines[-1].split()[1])
    again.send_signal(signal.SIGTERM)
    again.communicate(timeout=60)
    assert again.returncode != 0
    assert not port_in_use("127.0.0.1", port)
    assert _running_in_group(group) == []  # the shell and its sleeping child are gone


def test_with_chain_rpc_urls_it_starts_nothing(tmp_path):
    port = _free_port()
    env = {**_env(tmp_path, port), "CHAIN_RPC_URLS": "eip155:8453=https://base.example"}
    process = _devchain(
        env, sys.executable, "-c", "import os; print('URLS', os.environ['CHAIN_RPC_URLS'])"
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert output.strip() == "URLS eip155:8453=https://base.example"
    assert not port_in_use("127.0.0.1", port)
