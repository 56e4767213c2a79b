"""CI's dependency audit (.ci/audit.py): findings judged against the dated allow-list, with
reports shaped as pip-audit's and npm audit's JSON; an unreachable advisory source said
plainly, never taken for a clean audit."""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
assert _spec is not None and _spec.loader is not None
audit = importlib.util.module_from_spec(_spec)
sys.modules["ci_audit"] = audit  # dataclasses look their module up
_spec.loader.exec_module(audit)

TODAY = dt.date(2026, 11, 30)

PIP = {  # pip-audit -f json
    "dependencies": [
        {
            "name": "Flask",
            "version": "0.5",
            "vulns": [
                {
                    "id": "PYSEC-2019-179",
                    "fix_versions": ["1.0"],
                    "aliases": ["CVE-2019-1010083"],
                    "description": "The Pallets Project Flask before 1.0 is affected by: "
                    "unexpected memory usage.",
                }
            ],
        },
        {"name": "django", "version": "5.2.14", "vulns": []},
        {
            "name": "private-pkg",
            "skip_reason": "Dependency not found on PyPI and could not be audited: "
            "private-pkg (1.0)",
        },
    ],
    "fixes": [],
}
NPM = {  # npm audit --json (npm 7+)
    "auditReportVersion": 2,
    "vulnerabilities": {
        "minimist": {
            "name": "minimist",
            "severity": "critical",
            "isDirect": False,
            "via": [
                {
                    "source": 1096097,
                    "name": "minimist",
                    "dependency": "minimist",
                    "title": "Prototype Pollution in minimist",
                    "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
                    "severity": "critical",
                    "range": "<0.2.4",
                }
            ],
            "effects": ["mkdirp"],
            "range": "<0.2.4",
            "fixAvailable": True,
        },
        "mkdirp": {
            "name": "mkdirp",
            "severity": "critical",
            "via": ["minimist"],
            "range": "0.4.1 - 0.5.1",
        },
    },
    "metadata": {"dependencies": {"prod": 1, "dev": 300, "total": 301}},
}
NPM_UNREACHABLE = {
    "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
    "method": "POST",
}


def accepted(ecosystem: str, package: str, advisory: str, *, expires: str = "2027-02-28") -> dict:
    return {
        "ecosystem": ecosystem,
        "package": package,
        "advisory": advisory,
        "accepted": "2026-11-30",
        "expires": expires,
        "reason": "test",
    }


def test_new_findings_fail_and_name_the_package_and_advisory():
    reports = [audit.pip_report(PIP), audit.npm_report(NPM)]

    passed, lines = audit.judge(reports, [], TODAY)

    assert not passed
    assert "pypi: audited 2 packages: 1 new finding(s), 0 accepted on the allow-list" in lines
    assert "npm: audited 301 packages: 1 new finding(s), 0 accepted on the allow-list" in lines
    assert any(line.startswith("  NEW flask 0.5: PYSEC-2019-179") for line in lines)
    assert any(
        "NEW minimist <0.2.4: https://github.com/advisories/GHSA-xvch-5gv4-984h" in line
        for line in lines
    )


def test_findings_on_the_allow_list_pass_until_the_entry_expires():
    reports = [audit.pip_report(PIP), audit.npm_report(NPM)]
    allowlist = [
        accepted("pypi", "Flask", "PYSEC-2019-179"),
        accepted("npm", "minimist", "https://github.com/advisories/GHSA-xvch-5gv4-984h"),
    ]

    assert audit.judge(reports, allowlist, TODAY)[0]
    passed, lines = audit.judge(reports, allowlist, dt.date(2027, 3, 1))

    assert not passed
    assert sum("EXPIRED allow-list entry" in line for line in lines) == 2


def test_an_unreachable_source_is_said_plainly_and_not_taken_for_a_clean_audit():
    unreachable_pip = {"dependencies": [PIP["dependencies"][2]], "fixes": []}

    passed, lines = audit.judge(
        [audit.pip_report(unreachable_pip), audit.npm_report(NPM_UNREACHABLE)], [], TODAY
    )

    assert passed  # nothing found is not the same as nothing there: the lines say which
    assert lines[0].startswith(
        "pypi: NOT AUDITED: the vulnerability service answered for none of the 1"
    )
    assert lines[1].startswith("npm: NOT AUDITED: the registry's audit endpoint failed: 405")
    assert all("says nothing about known vulnerabilities" in line for line in lines)


def test_the_allow_list_in_the_repository_is_well_formed():
    import json

    for entry in json.loads((ROOT / ".ci" / "audit-allowlist.json").read_text()):
        assert set(entry) == {"ecosystem", "package", "advisory", "accepted", "expires", "reason"}
        assert entry["ecosystem"] in {"pypi", "npm"} and entry["reason"].strip()
        assert dt.date.fromisoformat(entry["accepted"]) <= dt.date.fromisoformat(entry["expires"])


def test_the_script_reports_both_sources_on_this_machine():
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "audit.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )

    lines = done.stdout.splitlines()
    for ecosystem in ("pypi", "npm"):
        (line,) = [line for line in lines if line.startswith(f"CI audit: {ecosystem}: ")]
        assert "NOT AUDITED" in line or "audited" in line
    assert done.returncode == (1 if "NEW " in done.stdout or "EXPIRED" in done.stdout else 0)
