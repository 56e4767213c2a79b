"""The committed contract artifacts are what the sources compile to.

`contracts/build.js --check` recompiles every contract with the pinned solc (and the
pinned OpenZeppelin sources) and fails naming each artifact that differs. It needs node
and the npm packages (`make test` runs `npm ci` first); without them it is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_committed_artifacts_are_fresh() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the artifacts cannot be recompiled here")
    if not (ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("node_modules is missing: run `npm ci` (make test does)")
    result = subprocess.run(
        [node, "contracts/build.js", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "artifacts up to date" in result.stdout
