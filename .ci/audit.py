"""CI's dependency audit: pip-audit over every pinned requirements file and npm audit over
the contract toolchain (package-lock.json), judged against `.ci/audit-allowlist.json`.

- A finding not on the allow-list fails the run, and so does an allow-list entry past its
  `expires` date (an accepted finding is looked at again, not forgotten).
- When an advisory source cannot be reached (no network, a registry mirror without the
  advisory API), the run says so in plain words and does not fail: the audit then proves
  nothing, and the CI log shows exactly that instead of "no known vulnerabilities".

    .venv/bin/python .ci/audit.py [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / ".ci" / "audit-allowlist.json"
REQUIREMENTS = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-bench.txt",
    "deploy/aws/requirements.txt",
)


@dataclasses.dataclass(frozen=True)
class Finding:
    ecosystem: str  # "pypi" or "npm"
    package: str
    version: str
    advisory: str  # PYSEC-…, GHSA-…, CVE-…, or npm's advisory URL
    detail: str


@dataclasses.dataclass(frozen=True)
class SourceReport:
    ecosystem: str
    reached: bool
    audited: int  # packages the source answered for
    findings: tuple[Finding, ...]
    note: str  # why it was not reached, or what it covered


def pip_report(data: dict[str, Any]) -> SourceReport:
    """pip-audit's JSON (`-f json`): {"dependencies": [{name, version, vulns: [{id,
    aliases, fix_versions, description}]} or {name, skip_reason}], "fixes": [...]}."""
    dependencies = data.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    findings = tuple(
        Finding(
            "pypi", d["name"].lower(), d["version"], vuln["id"], vuln.get("description", "")[:200]
        )
        for d in audited
        for vuln in d.get("vulns", [])
    )
    if dependencies and not audited:
        return SourceReport(
            "pypi",
            False,
            0,
            (),
            f"the vulnerability service answered for none of the {len(dependencies)} pinned "
            f"packages ({dependencies[0]['skip_reason']})",
        )
    return SourceReport("pypi", True, len(audited), findings, f"{len(audited)} packages")


def npm_report(data: dict[str, Any]) -> SourceReport:
    """npm audit's JSON (npm 7+): {"vulnerabilities": {name: {severity, via: [advisory
    objects or names], range}}, "metadata": {"dependencies": {"total": n}}}, or
    {"error": {...}} / {"message": ...} when the registry's audit endpoint fails."""
    if "vulnerabilities" not in data:
        reason = data.get("message") or data.get("error", {}).get("summary") or "no answer"
        return SourceReport("npm", False, 0, (), f"the registry's audit endpoint failed: {reason}")
    findings = []
    for name, entry in data["vulnerabilities"].items():
        for via in entry.get("via", []):
            if isinstance(via, dict):  # a name is a dependency's own finding, listed there
                findings.append(
                    Finding(
                        "npm",
                        name,
                        entry.get("range", ""),
                        via.get("url", ""),
                        via.get("title", ""),
                    )
                )
    total = data.get("metadata", {}).get("dependencies", {}).get("total", 0)
    return SourceReport("npm", True, total, tuple(findings), f"{total} packages")


def judge(
    reports: list[SourceReport], allowlist: list[dict[str, str]], today: dt.date
) -> tuple[bool, list[str]]:
    """(passed, lines to print)."""
    accepted = {(a["ecosystem"], a["package"].lower(), a["advisory"]): a for a in allowlist}
    lines, passed = [], True
    for entry in allowlist:
        if dt.date.fromisoformat(entry["expires"]) < today:
            passed = False
            lines.append(
                f"EXPIRED allow-list entry {entry['ecosystem']} {entry['package']} "
                f"{entry['advisory']} (accepted {entry['accepted']}, expired {entry['expires']}): "
                "look at it again"
            )
    for report in reports:
        if not report.reached:
            lines.append(
                f"{report.ecosystem}: NOT AUDITED: {report.note}. This run says nothing about "
                "known vulnerabilities in these dependencies."
            )
            continue
        new = [f for f in report.findings if (f.ecosystem, f.package, f.advisory) not in accepted]
        known = len(report.findings) - len(new)
        lines.append(
            f"{report.ecosystem}: audited {report.note}: {len(new)} new finding(s), "
            f"{known} accepted on the allow-list"
        )
        for finding in new:
            passed = False
            lines.append(
                f"  NEW {finding.package} {finding.version}: {finding.advisory} {finding.detail}"
            )
    return passed, lines


def _run_json(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)  # noqa: S603
    try:
        parsed: dict[str, Any] = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        parsed = {"message": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    if not parsed and done.returncode:
        parsed = {"message": " ".join(done.stderr.strip().splitlines()[-1:])}
    return parsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    pip = [str(ROOT / ".venv" / "bin" / "pip-audit"), "--no-deps", "--disable-pip"]
    for name in REQUIREMENTS:
        pip += ["-r", name]
    pip_data = _run_json([*pip, "--progress-spinner", "off", "-f", "json"])
    if "dependencies" not in pip_data:
        report = SourceReport("pypi", False, 0, (), f"pip-audit failed: {pip_data.get('message')}")
    else:
        report = pip_report(pip_data)
    reports = [report, npm_report(_run_json(["npm", "audit", "--json"]))]
    passed, lines = judge(reports, json.loads(ALLOWLIST.read_text()), args.today)
    print("\n".join(f"CI audit: {line}" for line in lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
