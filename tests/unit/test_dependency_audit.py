"""The dependency audit's pure logic (scripts/audit_dependencies.py): the allow-list, reading
pip-audit's report and the index's project record, and the decision between found, accepted,
expired and not audited. No network: reports and records are made here."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_audit():
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", ROOT / "scripts" / "audit_dependencies.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


audit = _load_audit()
TODAY = date(2026, 12, 1)
PINS = {"jinja2": ("jinja2", "3.1.4"), "six": ("six", "1.17.0"), "idna": ("idna", "3.10")}


def _report(*deps):
    return {"dependencies": list(deps), "fixes": []}


def _vuln(vid, *aliases, fix=("9.9",)):
    return {"id": vid, "aliases": list(aliases), "fix_versions": list(fix), "description": "x"}


def test_allow_list_parses_id_expiry_and_reason():
    text = (
        "# accepted vulnerabilities\n"
        "\n"
        "GHSA-aaaa-bbbb-cccc  2027-01-31  only the offline CLI parses it; see issue #12\n"
        "  cve-2024-0001 2026-12-01 fix needs pandas 3\n"
    )
    accepted = audit.parse_allow_list(text)
    assert [(a.id, a.expires, a.line) for a in accepted] == [
        ("GHSA-AAAA-BBBB-CCCC", date(2027, 1, 31), 3),
        ("CVE-2024-0001", date(2026, 12, 1), 4),
    ]
    assert accepted[0].reason == "only the offline CLI parses it; see issue #12"


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("GHSA-aaaa-bbbb-cccc 2027-01-31", "expected 'ID YYYY-MM-DD reason'"),
        ("GHSA-aaaa-bbbb-cccc", "expected 'ID YYYY-MM-DD reason'"),
        ("GHSA-aaaa-bbbb-cccc 31/01/2027 a reason", "not an expiry date"),
        ("GHSA-aaaa-bbbb-cccc never a reason", "not an expiry date"),
    ],
)
def test_allow_list_refuses_a_line_without_expiry_or_reason(line, complaint):
    with pytest.raises(audit.UsageError, match=re.escape(complaint)) as error:
        audit.parse_allow_list("# header\n" + line, ".pip-audit-ignore")
    assert ".pip-audit-ignore:2:" in str(error.value)


def test_the_shipped_allow_list_parses():
    audit.parse_allow_list((ROOT / ".pip-audit-ignore").read_text(encoding="utf-8"))


def test_pip_audit_report_found_clean_and_not_found():
    report = _report(
        {"name": "Jinja2", "version": "3.1.4", "vulns": [_vuln("GHSA-1", "CVE-1")]},
        {"name": "six", "version": "1.17.0", "vulns": []},
        {"name": "idna", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    )
    results = audit.results_from_pip_audit(report, PINS)
    assert results["jinja2"].audited and results["jinja2"].vulns[0].id == "GHSA-1"
    assert results["six"].audited and results["six"].vulns == []
    # pip-audit says "No known vulnerabilities found" for this; the audit says not audited.
    assert not results["idna"].audited
    assert "does not know this version" in results["idna"].skip_reason


def test_a_pin_missing_from_the_report_is_not_audited():
    results = audit.results_from_pip_audit(_report(), PINS)
    assert not any(r.audited for r in results.values())


def test_aliases_of_one_vulnerability_count_once():
    report = _report(
        {
            "name": "jinja2",
            "version": "3.1.4",
            "vulns": [_vuln("PYSEC-1", "CVE-1", "GHSA-1"), _vuln("GHSA-1", "CVE-1", "PYSEC-1")],
        }
    )
    assert len(audit.results_from_pip_audit(report, PINS)["jinja2"].vulns) == 1


def test_project_record_answers_only_for_the_newest_release():
    pending = audit.PackageResult("jinja2", "3.1.4", skip_reason="service down")
    record = {
        "info": {"version": "3.1.4"},
        "vulnerabilities": [
            {"id": "PYSEC-2", "aliases": ["CVE-2"], "fixed_in": ["3.1.5"], "withdrawn": None},
            {"id": "PYSEC-3", "aliases": [], "fixed_in": [], "withdrawn": "2025-01-01"},
        ],
    }
    newest = audit.result_from_project_record(pending, record)
    assert newest.audited
    assert [(v.id, v.fix_versions) for v in newest.vulns] == [("PYSEC-2", ("3.1.5",))]

    older = audit.result_from_project_record(pending, {**record, "info": {"version": "3.2.0"}})
    assert not older.audited
    assert "service down" in older.skip_reason and older.note == "newest 3.2.0"


def _results(*vulns_for_jinja, unaudited=False):
    results = [
        audit.PackageResult(
            "jinja2",
            "3.1.4",
            vulns=[audit.Vulnerability(v, (f"CVE-{v}",)) for v in vulns_for_jinja],
            source=audit.PIP_AUDIT,
        ),
        audit.PackageResult("six", "1.17.0", source=audit.PIP_AUDIT),
    ]
    if unaudited:
        results.append(audit.PackageResult("idna", "3.10", skip_reason="service unreachable"))
    return results


def _allow(*lines):
    return audit.parse_allow_list("\n".join(lines))


def test_decision_clean():
    decision = audit.decide(_results(), [], TODAY)
    assert decision.exit_code == 0
    assert (decision.audited, decision.total) == (2, 2)


def test_decision_found_fails():
    decision = audit.decide(_results("GHSA-1"), [], TODAY)
    assert decision.exit_code == 1
    assert [f.vuln.id for f in decision.found] == ["GHSA-1"]
    lines = audit.report_lines(decision, strict=False)
    assert any(line.startswith("VULNERABLE jinja2==3.1.4: GHSA-1") for line in lines)


def test_decision_accepted_passes_by_id_or_alias_until_its_last_day():
    allow = _allow("GHSA-1 2026-12-01 not reachable from MAST", "cve-ghsa-2 2027-01-01 waits")
    decision = audit.decide(_results("GHSA-1", "GHSA-2"), allow, TODAY)
    assert decision.exit_code == 0
    assert [f.vuln.id for f in decision.accepted] == ["GHSA-1", "GHSA-2"]
    assert decision.found == [] and decision.expired == []


def test_decision_expired_acceptance_fails():
    allow = _allow("GHSA-1 2026-11-30 was fine until yesterday")
    decision = audit.decide(_results("GHSA-1"), allow, TODAY)
    assert decision.exit_code == 1
    assert [f.vuln.id for f in decision.expired] == ["GHSA-1"]
    lines = audit.report_lines(decision, strict=False)
    assert any("expired on 2026-11-30" in line for line in lines)


def test_decision_unaudited_passes_unless_strict_and_is_named():
    relaxed = audit.decide(_results(unaudited=True), [], TODAY)
    assert relaxed.exit_code == 0
    assert [r.name for r in relaxed.unaudited] == ["idna"]
    lines = audit.report_lines(relaxed, strict=False)
    assert any(line.startswith("NOT AUDITED") and "idna==3.10" in line for line in lines)
    assert "1 not audited" in lines[-1]

    assert audit.decide(_results(unaudited=True), [], TODAY, strict=True).exit_code == 1


def test_decision_found_fails_even_when_others_were_not_audited():
    assert audit.decide(_results("GHSA-1", unaudited=True), [], TODAY).exit_code == 1


def test_unused_acceptance_is_noted_only_when_everything_was_audited():
    allow = _allow("GHSA-9 2027-01-01 fixed upstream since")
    assert [a.id for a in audit.decide(_results(), allow, TODAY).unused] == ["GHSA-9"]
    assert audit.decide(_results(unaudited=True), allow, TODAY).unused == []


def test_read_pins_wants_exact_versions(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("# pins\nJinja2==3.1.4\nsix==1.17.0  # comment\n")
    assert audit.read_pins(good) == {"jinja2": ("Jinja2", "3.1.4"), "six": ("six", "1.17.0")}
    bad = tmp_path / "bad.txt"
    bad.write_text("six>=1.16\n")
    with pytest.raises(audit.UsageError, match="not an exact pin"):
        audit.read_pins(bad)


def _requirement_names(requirements):
    names = (re.split(r"[\s\[<>=!~;]", r.strip(), maxsplit=1)[0] for r in requirements)
    return {audit.canonical(name) for name in names}


def test_constraints_pin_every_runtime_dev_and_tool_requirement():
    """A dependency added to pyproject.toml without `scripts/lock.sh` would install unpinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tools = [
        line
        for line in (ROOT / "requirements" / "supply-chain.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    wanted = _requirement_names(
        [*project["dependencies"], *project["optional-dependencies"]["dev"], *tools]
    )
    pinned = set(audit.read_pins(ROOT / "constraints.txt"))
    assert wanted - pinned == set(), "run scripts/lock.sh and commit constraints.txt"
