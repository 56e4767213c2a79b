"""`make run`'s development chain: runs a command with a local EVM beside it.

    python -m fabrknt.chain.devchain -- COMMAND [ARGS...]

With CHAIN_RPC_URLS set, it starts nothing and runs COMMAND as it is. Otherwise it starts
ganache (the pinned npm package: deterministic accounts, chain id 1337) on
127.0.0.1:DEVCHAIN_PORT (8546), its state kept in DEVCHAIN_DB_PATH (`.devchain/`) so
tokens minted in one `make run` are there in the next; funds the platform's signer
(CHAIN_SIGNER_KEY, the development key by default) from ganache's first account; deploys
our contracts with `manage.py deploy_contracts`; and runs COMMAND with CHAIN_RPC_URLS and
SBT_CHAIN pointing at it (and ESCROW_CONFIRMATIONS 0 unless set). Ganache stops when
COMMAND exits, or when this process is interrupted or terminated. Without node and
`npm ci`'s node_modules, COMMAND runs without a chain (and says so).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from eth_account import Account

ROOT = Path(__file__).resolve().parents[2]
GANACHE = ROOT / "node_modules" / ".bin" / "ganache"
CHAIN_ID = 1337
CHAIN = f"eip155:{CHAIN_ID}"
# The development default of fabrknt.settings (eth-tester's first key); never a real chain.
DEVELOPMENT_SIGNER_KEY = "0x" + "0" * 63 + "1"
SIGNER_FUNDING_WEI = 100 * 10**18
STARTUP_SECONDS = 60


def rpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(  # noqa: S310  (our own local node's URL)
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def ganache_command(*, host: str, port: int) -> list[str]:
    return [
        str(GANACHE),
        "--wallet.deterministic",
        f"--chain.chainId={CHAIN_ID}",
        f"--server.host={host}",
        f"--server.port={port}",
        f"--database.dbPath={os.environ.get('DEVCHAIN_DB_PATH') or ROOT / '.devchain'}",
        "--logging.quiet",
    ]


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ganache exited with status {process.returncode}")
        try:
            if int(rpc(url, "eth_chainId"), 16) == CHAIN_ID:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"ganache did not answer at {url} within {STARTUP_SECONDS} s")


def fund_signer(url: str, signer_key: str) -> str:
    """Gives the signer ether from ganache's first (unlocked) account when it has little;
    the signer's address."""
    signer: str = Account.from_key(signer_key).address
    if int(rpc(url, "eth_getBalance", signer, "latest"), 16) < SIGNER_FUNDING_WEI // 10:
        source = rpc(url, "eth_accounts")[0]
        rpc(
            url,
            "eth_sendTransaction",
            {"from": source, "to": signer, "value": hex(SIGNER_FUNDING_WEI)},
        )
    return signer


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        print("usage: python -m fabrknt.chain.devchain -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if os.environ.get("CHAIN_RPC_URLS"):
        return subprocess.call(command)  # noqa: S603  (the Makefile's own command)
    if not GANACHE.exists():
        print(
            "devchain: node_modules/.bin/ganache is missing (npm ci): running without a "
            "chain, so no tokens are minted",
            file=sys.stderr,
        )
        return subprocess.call(command)  # noqa: S603
    host = "127.0.0.1"
    port = int(os.environ.get("DEVCHAIN_PORT", "8546"))
    if port_in_use(host, port):
        print(f"devchain: {host}:{port} is in use (set DEVCHAIN_PORT)", file=sys.stderr)
        return 1
    url = f"http://{host}:{port}"
    chain = subprocess.Popen(ganache_command(host=host, port=port))  # noqa: S603
    # SIGTERM (a supervisor, `kill`) ends us through the `finally` below, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        wait_until_serving(url, chain)
        signer = fund_signer(url, os.environ.get("CHAIN_SIGNER_KEY") or DEVELOPMENT_SIGNER_KEY)
        env = {**os.environ, "CHAIN_RPC_URLS": f"{CHAIN}={url}", "SBT_CHAIN": CHAIN}
        # Ganache mines a block per transaction and never reorganises: a deal is final at
        # once (else the escrow monitor would wait for six more transactions).
        env.setdefault("ESCROW_CONFIRMATIONS", "0")
        print(f"devchain: ganache at {url} ({CHAIN}); signer {signer}", file=sys.stderr)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "deploy_contracts", "--chain", CHAIN], env=env, check=True)  # noqa: S603
        return run_command(command, env)
    except KeyboardInterrupt:
        return 130
    finally:
        stop(chain)


# Ctrl-C and SIGTERM: held back while the command starts (see run_command).
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Runs the command in a process group of its own, so that when we are interrupted or
    terminated all of it ends (runserver's autoreloader runs the server in a child that
    would outlive its parent). A stop signal that arrives while the command is being
    started waits until its process is known, so that its group is stopped too."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            start_new_session=True,
            # The command itself takes the signals as usual.
            preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, mask),  # noqa: PLW1509
        )
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a held signal arrives here
            return process.wait()
        except KeyboardInterrupt:
            stop_group(process)
            raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
