"""Audit the pinned dependencies (constraints.txt) for known vulnerabilities.

pip-audit checks every pin against its vulnerability service. Where that service cannot
answer for a package (no network, or an index that does not serve PyPI's per-version JSON,
which pip-audit reports as "not found" and would otherwise count as clean), this script asks
the index's project record (``/pypi/<name>/json``), whose ``vulnerabilities`` are those of
the project's newest release: that answers for every pin that *is* the newest release. A pin
neither could check is reported as not audited, by name, never as clean.

The outcome:

- a known vulnerability not accepted in the allow-list fails (exit 1);
- an accepted one (``.pip-audit-ignore``: id, expiry date, reason) is listed and passes
  until its expiry date, after which it fails again;
- packages that could not be audited are listed and pass, unless ``--strict`` (or
  ``MAST_AUDIT_STRICT=1``) makes them fail (exit 1);
- a malformed allow-list or requirements file is a usage error (exit 2).

docs/supply-chain.md says how to accept a vulnerability and what this machine can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REQUIREMENTS = ROOT / "constraints.txt"
DEFAULT_ALLOW_LIST = ROOT / ".pip-audit-ignore"
DEFAULT_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"

PIP_AUDIT = "pip-audit"
INDEX_RECORD = "the index's record of the newest release"


class UsageError(Exception):
    """A file this script reads is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    summary: str = ""

    def names(self) -> set[str]:
        return {self.id.upper(), *(alias.upper() for alias in self.aliases)}


@dataclass
class PackageResult:
    """What is known about one pinned package: audited (by ``source``) with its
    vulnerabilities, or not audited, with the reason."""

    name: str
    version: str
    vulns: list[Vulnerability] = field(default_factory=list)
    source: str | None = None
    skip_reason: str | None = None
    note: str = ""

    @property
    def audited(self) -> bool:
        return self.source is not None


@dataclass(frozen=True)
class Acceptance:
    id: str
    expires: date
    reason: str
    line: int


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vuln: Vulnerability
    acceptance: Acceptance | None = None


@dataclass
class Decision:
    found: list[Finding]
    accepted: list[Finding]
    expired: list[Finding]
    unaudited: list[PackageResult]
    unused: list[Acceptance]
    audited: int
    total: int
    exit_code: int


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, tuple[str, str]]:
    """``name==version`` lines of a requirements or constraints file, by canonical name."""
    pins: dict[str, tuple[str, str]] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _NAME.match(line)
        if match is None:
            raise UsageError(f"{path}:{number}: not an exact pin (name==version): {raw.strip()}")
        pins[canonical(match.group(1))] = (match.group(1), match.group(2))
    return pins


def parse_allow_list(text: str, source: str = ".pip-audit-ignore") -> list[Acceptance]:
    """One accepted vulnerability a line: ``ID  YYYY-MM-DD  reason``; a line starting with
    ``#`` is a comment.

    The id may be the advisory's own (PYSEC-…, GHSA-…) or any alias (CVE-…). The date is
    the last day the acceptance holds; the reason is required, so the file says why."""
    accepted: list[Acceptance] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise UsageError(
                f"{source}:{number}: expected 'ID YYYY-MM-DD reason', got: {raw.strip()}"
            )
        vuln_id, expiry, reason = parts
        try:
            expires = date.fromisoformat(expiry)
        except ValueError:
            raise UsageError(
                f"{source}:{number}: '{expiry}' is not an expiry date (YYYY-MM-DD)"
            ) from None
        accepted.append(Acceptance(vuln_id.upper(), expires, reason.strip(), number))
    return accepted


def _vulnerability(entry: Mapping[str, Any]) -> Vulnerability:
    return Vulnerability(
        id=str(entry["id"]),
        aliases=tuple(str(a) for a in entry.get("aliases") or ()),
        fix_versions=tuple(
            str(v) for v in entry.get("fix_versions") or entry.get("fixed_in") or ()
        ),
        summary=str(entry.get("summary") or entry.get("description") or "").strip(),
    )


def distinct(vulns: Iterable[Vulnerability]) -> list[Vulnerability]:
    """One entry per vulnerability: advisories that name each other as aliases (a PYSEC
    and a GHSA record of one CVE) are the same vulnerability, listed once."""
    kept: list[Vulnerability] = []
    seen: set[str] = set()
    for vuln in vulns:
        names = vuln.names()
        if names & seen:
            continue
        kept.append(vuln)
        seen |= names
    return kept


def results_from_pip_audit(
    report: Mapping[str, Any], pins: Mapping[str, tuple[str, str]]
) -> dict[str, PackageResult]:
    """Every pin's result from pip-audit's JSON report; a pin the report does not mention,
    or mentions with a ``skip_reason``, is not audited."""
    results = {
        key: PackageResult(name, version, skip_reason="not in pip-audit's report")
        for key, (name, version) in pins.items()
    }
    for dep in report.get("dependencies", []):
        key = canonical(str(dep.get("name", "")))
        name, version = pins.get(key, (str(dep.get("name")), str(dep.get("version", "?"))))
        if dep.get("skip_reason"):
            reason = str(dep["skip_reason"])
            if reason.startswith("Dependency not found"):
                # What pip-audit says for every package when the index does not serve
                # PyPI's per-version JSON: not audited, whatever pip-audit's summary says.
                reason = "pip-audit's service does not know this version"
            results[key] = PackageResult(name, version, skip_reason=reason)
        else:
            vulns = distinct(_vulnerability(v) for v in dep.get("vulns", []))
            results[key] = PackageResult(name, version, vulns=vulns, source=PIP_AUDIT)
    return results


def result_from_project_record(result: PackageResult, record: Mapping[str, Any]) -> PackageResult:
    """Audit a pin with the index's project record: its ``vulnerabilities`` are the newest
    release's, so they answer only for a pin that is that release."""
    newest = str(record.get("info", {}).get("version", ""))
    if _same_version(newest, result.version):
        vulns = distinct(
            _vulnerability(v) for v in record.get("vulnerabilities") or [] if not v.get("withdrawn")
        )
        return PackageResult(result.name, result.version, vulns=vulns, source=INDEX_RECORD)
    return PackageResult(
        result.name,
        result.version,
        skip_reason=f"{result.skip_reason}; the index's record answers only for the newest release",
        note=f"newest {newest}",
    )


def _same_version(a: str, b: str) -> bool:
    try:
        from packaging.version import Version

        return Version(a) == Version(b)
    except Exception:
        return a == b


def decide(
    results: Iterable[PackageResult],
    allow: Sequence[Acceptance],
    today: date,
    strict: bool = False,
) -> Decision:
    """Sort every vulnerability into found (fails), accepted (passes) or expired (an
    acceptance past its date: fails), and list what was not audited (fails when strict)."""
    by_name: dict[str, list[Acceptance]] = {}
    for acceptance in allow:
        by_name.setdefault(acceptance.id, []).append(acceptance)
    found: list[Finding] = []
    accepted: list[Finding] = []
    expired: list[Finding] = []
    unaudited: list[PackageResult] = []
    used: set[int] = set()
    results = list(results)
    for result in results:
        if not result.audited:
            unaudited.append(result)
            continue
        for vuln in result.vulns:
            matches = [a for name in sorted(vuln.names()) for a in by_name.get(name, [])]
            current = [a for a in matches if a.expires >= today]
            used.update(a.line for a in matches)
            if current:
                accepted.append(Finding(result.name, result.version, vuln, current[0]))
            elif matches:
                expired.append(Finding(result.name, result.version, vuln, matches[0]))
            else:
                found.append(Finding(result.name, result.version, vuln))
    # Whether an acceptance is still needed is known only when every package was audited.
    unused = [] if unaudited else [a for a in allow if a.line not in used]
    failed = bool(found or expired or (strict and unaudited))
    return Decision(
        found=found,
        accepted=accepted,
        expired=expired,
        unaudited=unaudited,
        unused=unused,
        audited=sum(1 for r in results if r.audited),
        total=len(results),
        exit_code=1 if failed else 0,
    )


def report_lines(decision: Decision, strict: bool) -> list[str]:
    """What the audit prints, most important first."""
    lines: list[str] = []
    for finding in decision.found:
        lines.append(f"VULNERABLE {_describe(finding)}")
    for finding in decision.expired:
        if (acceptance := finding.acceptance) is not None:
            lines.append(
                f"VULNERABLE {_describe(finding)} — its acceptance (line {acceptance.line})"
                f" expired on {acceptance.expires.isoformat()}"
            )
    for finding in decision.accepted:
        if (acceptance := finding.acceptance) is not None:
            lines.append(
                f"accepted until {acceptance.expires.isoformat()} ({acceptance.reason}):"
                f" {_describe(finding)}"
            )
    if decision.unaudited:
        label = "NOT AUDITED (fails: --strict)" if strict else "NOT AUDITED"
        reasons: dict[str, list[str]] = {}
        for result in decision.unaudited:
            note = f" ({result.note})" if result.note else ""
            reasons.setdefault(result.skip_reason or "unknown reason", []).append(
                f"{result.name}=={result.version}{note}"
            )
        for reason, names in reasons.items():
            lines.append(f"{label}: {len(names)} package(s), {reason}: {', '.join(names)}")
    for acceptance in decision.unused:
        lines.append(
            f"note: allow-list line {acceptance.line} ({acceptance.id}) matches no vulnerability"
            " found; remove it when it is no longer needed"
        )
    verdict = "FAILED" if decision.exit_code else "passed"
    lines.append(
        f"audit {verdict}: {decision.total} pinned packages, {decision.audited} audited,"
        f" {len(decision.unaudited)} not audited; {len(decision.found) + len(decision.expired)}"
        f" vulnerable, {len(decision.accepted)} accepted"
    )
    return lines


def _describe(finding: Finding) -> str:
    vuln = finding.vuln
    aliases = f" ({', '.join(vuln.aliases)})" if vuln.aliases else ""
    fix = f"; fixed in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else "; no fix yet"
    return f"{finding.package}=={finding.version}: {vuln.id}{aliases}{fix}"


def run_pip_audit(
    requirements: Path, service: str, timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report of the pinned requirements, or None and why not."""
    command = [
        sys.executable, "-m", "pip_audit",
        "--requirement", str(requirements),
        "--no-deps", "--disable-pip",  # every line is an exact pin: nothing to resolve
        "--format", "json",
        "--vulnerability-service", service,
        "--progress-spinner", "off",
        "--timeout", str(int(timeout)),
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            command, capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"pip-audit did not run ({error})"
    if done.returncode in (0, 1) and done.stdout.strip().startswith("{"):
        try:
            return json.loads(done.stdout), ""
        except json.JSONDecodeError:
            pass
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    if "No module named pip_audit" in done.stderr:
        last = "pip-audit is not installed (scripts/setup.sh dev installs it)"
    return None, f"pip-audit could not query the '{service}' service: {last[:300]}"


class IndexUnreachable(Exception):
    """The index's project records could not be reached at all (no network, no DNS)."""


def fetch_project_record(url: str, timeout: float) -> dict[str, Any] | str:
    """The index's JSON record of a project, or why the index had none; raises
    IndexUnreachable when the index itself cannot be reached."""
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or None
    context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310 - https URL of the package index
            record = json.load(answer)
    except urllib.error.HTTPError as error:
        return f"the index's record answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        raise IndexUnreachable(str(getattr(error, "reason", error))) from error
    except ValueError:
        return "the index's record is not JSON"
    return record if isinstance(record, dict) else "the index's record is not a JSON object"


def fill_from_project_records(
    results: dict[str, PackageResult], url_template: str, timeout: float
) -> None:
    """Audit what pip-audit could not with the index's project records: one request first,
    and the rest in parallel only when that one reached the index."""
    missing = [key for key, result in results.items() if not result.audited]

    def one(key: str) -> PackageResult:
        result = results[key]
        record = fetch_project_record(url_template.format(name=key), timeout)
        if isinstance(record, str):
            return PackageResult(
                result.name, result.version, skip_reason=f"{result.skip_reason}; {record}"
            )
        return result_from_project_record(result, record)

    try:
        if missing:
            results[missing[0]] = one(missing[0])
        with ThreadPoolExecutor(max_workers=8) as pool:
            for key, result in zip(missing[1:], pool.map(one, missing[1:]), strict=True):
                results[key] = result
    except IndexUnreachable as error:
        for key in missing:
            if not results[key].audited:
                result = results[key]
                results[key] = PackageResult(
                    result.name,
                    result.version,
                    skip_reason=f"{result.skip_reason}; the index's records are unreachable"
                    f" ({error})",
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=DEFAULT_REQUIREMENTS)
    parser.add_argument("--ignore-file", type=Path, default=DEFAULT_ALLOW_LIST)
    parser.add_argument(
        "--report", type=Path, help="read this pip-audit JSON report instead of running pip-audit"
    )
    parser.add_argument("--service", default=os.environ.get("MAST_AUDIT_SERVICE", "pypi"))
    parser.add_argument(
        "--no-fallback", action="store_true", help="do not ask the index's project records"
    )
    parser.add_argument(
        "--project-json",
        default=os.environ.get("MAST_AUDIT_PROJECT_JSON", DEFAULT_PROJECT_JSON),
        help="URL of a project's JSON record, with {name}",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=os.environ.get("MAST_AUDIT_STRICT", "") not in ("", "0"),
        help="fail when a package could not be audited",
    )
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        pins = read_pins(args.requirements)
        allow = (
            parse_allow_list(args.ignore_file.read_text(encoding="utf-8"), str(args.ignore_file))
            if args.ignore_file.exists()
            else []
        )
    except (UsageError, OSError) as error:
        print(f"audit: {error}", file=sys.stderr)
        return 2

    if args.report is not None:
        report: dict[str, Any] | None = json.loads(args.report.read_text(encoding="utf-8"))
        why = ""
    else:
        print(
            f"audit: pip-audit ({args.service}) over {len(pins)} pins in {args.requirements.name}"
        )
        report, why = run_pip_audit(args.requirements, args.service, args.timeout)
    if report is None:
        results = {
            key: PackageResult(name, version, skip_reason=why)
            for key, (name, version) in pins.items()
        }
    else:
        results = results_from_pip_audit(report, pins)
    if not args.no_fallback and any(not r.audited for r in results.values()):
        fill_from_project_records(results, args.project_json, args.timeout)

    today = args.today or datetime.now(UTC).date()
    decision = decide(results.values(), allow, today, strict=args.strict)
    by_source: dict[str, int] = {}
    for result in results.values():
        if result.source:
            by_source[result.source] = by_source.get(result.source, 0) + 1
    if by_source:
        print("audit: audited by " + ", ".join(f"{s}: {n}" for s, n in by_source.items()))
    for line in report_lines(decision, args.strict):
        print(line)
    return decision.exit_code


if __name__ == "__main__":
    sys.exit(main())
