"""scripts/audit_dependencies.py as the test command runs it, fed a pip-audit report made
here (``--report``) and kept off the network (``--no-fallback``): its exit code and what it
prints for a clean audit, a vulnerability, an accepted one, an unreachable service and a
malformed allow-list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit_dependencies.py"


def _audit(tmp_path: Path, report: dict | None, allow: str = "", *extra: str):
    (tmp_path / "constraints.txt").write_text("jinja2==3.1.4\nsix==1.17.0\n")
    (tmp_path / "ignore").write_text(allow)
    args = [
        sys.executable,
        str(SCRIPT),
        "--requirements",
        str(tmp_path / "constraints.txt"),
        "--ignore-file",
        str(tmp_path / "ignore"),
        "--no-fallback",
        "--today",
        "2026-12-01",
        *extra,
    ]
    if report is not None:
        (tmp_path / "report.json").write_text(json.dumps(report))
        args += ["--report", str(tmp_path / "report.json")]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


CLEAN = {
    "dependencies": [
        {"name": "jinja2", "version": "3.1.4", "vulns": []},
        {"name": "six", "version": "1.17.0", "vulns": []},
    ]
}
VULNERABLE = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.4",
            "vulns": [
                {
                    "id": "GHSA-q2x7-8rv6-6q7h",
                    "aliases": ["CVE-2024-56326"],
                    "fix_versions": ["3.1.5"],
                    "description": "sandbox breakout",
                }
            ],
        },
        {"name": "six", "version": "1.17.0", "vulns": []},
    ]
}
UNREACHABLE = {
    "dependencies": [
        {"name": "jinja2", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "six", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]
}


def test_clean(tmp_path):
    done = _audit(tmp_path, CLEAN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit passed: 2 pinned packages, 2 audited, 0 not audited" in done.stdout


def test_vulnerable_fails(tmp_path):
    done = _audit(tmp_path, VULNERABLE)
    assert done.returncode == 1
    assert "VULNERABLE jinja2==3.1.4: GHSA-q2x7-8rv6-6q7h (CVE-2024-56326); fixed in 3.1.5" in (
        done.stdout
    )
    assert "audit FAILED" in done.stdout


def test_accepted_by_alias_passes(tmp_path):
    allow = "# accepted\nCVE-2024-56326 2026-12-31 MAST renders no user templates (security)\n"
    done = _audit(tmp_path, VULNERABLE, allow)
    assert done.returncode == 0, done.stdout
    assert "accepted until 2026-12-31 (MAST renders no user templates (security))" in done.stdout


def test_expired_acceptance_fails(tmp_path):
    done = _audit(tmp_path, VULNERABLE, "CVE-2024-56326 2026-11-30 until the release\n")
    assert done.returncode == 1
    assert "expired on 2026-11-30" in done.stdout


def test_unreachable_service_is_said_and_does_not_fail_unless_strict(tmp_path):
    done = _audit(tmp_path, UNREACHABLE)
    assert done.returncode == 0
    assert "NOT AUDITED: 2 package(s), pip-audit's service does not know this version" in (
        done.stdout
    )
    assert "0 audited, 2 not audited" in done.stdout
    assert _audit(tmp_path, UNREACHABLE, "", "--strict").returncode == 1


def test_pip_audit_that_cannot_run_leaves_everything_not_audited(tmp_path):
    done = _audit(tmp_path, None, "", "--service", "no-such-service")
    assert done.returncode == 0
    assert "NOT AUDITED: 2 package(s), pip-audit " in done.stdout


def test_malformed_allow_list_is_a_usage_error(tmp_path):
    done = _audit(tmp_path, CLEAN, "GHSA-q2x7-8rv6-6q7h no-date reason\n")
    assert done.returncode == 2
    assert "ignore:1: 'no-date' is not an expiry date" in done.stderr
