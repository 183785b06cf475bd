"""Reporters: one module per output format, all fed the same Report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import IO, Any

from mcplint.findings import SEVERITIES, FileResult, Finding, from_root
from mcplint.policy.catalog import Catalog

REPORT_VERSION = "2"  # 2: not-verified findings apart from problems

# format name -> module under mcplint.report (imported only when that format is asked for)
FORMATS = {"text": "text", "json": "jsonreport", "sarif": "sarif", "github": "github",
           "gitlab": "gitlab", "junit": "junit", "markdown": "markdown"}


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Report:
    """The outcome of one run, for every reporter."""

    def __init__(self, command: str, results: list[FileResult], catalog: Catalog,
                 color: bool = False, verbosity: int = 0, extras: dict[str, Any] | None = None,
                 fail_on: str = "error", root: Path | None = None) -> None:
        self.command = command  # check, verify or probe
        self.results = results
        self.catalog = catalog
        self.color = color
        self.verbosity = verbosity
        self.extras = {} if extras is None else extras  # e.g. the baseline's stale entries
        self.fail_on = fail_on  # what fails the run: junit reports only these as failures
        self.root = root  # github, sarif, junit and markdown name files relative to it

    def path(self, file: str) -> str:
        """A file as the CI-facing reports name it: relative to the root (text and json
        keep paths as typed)."""
        return from_root(file, self.root)

    def distinct(self) -> list[tuple[Finding, list[str]]]:
        """Each finding once, with the manifests it was found for: a metadata document
        shared by several manifests gives one annotation, not one per manifest, when the
        findings are identical (same place, code, message, severity and suppression)."""
        groups: dict[tuple[Any, ...], tuple[Finding, list[str]]] = {}
        for result in self.results:
            for finding in result.findings:
                suppression = tuple(sorted((finding.suppression or {}).items()))
                # The same place in the same file: a fingerprint alone does not tell apart
                # one problem repeated at several places of a document.
                key = (id(finding),) if finding.file is None else (
                    finding.fingerprint, finding.file, finding.line, finding.column,
                    finding.code, finding.message, finding.severity, suppression)
                groups.setdefault(key, (finding, []))[1].append(finding.manifest or result.path)
        return list(groups.values())

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def active(self) -> list[Finding]:
        """Problems and not-verified checks, without the suppressed findings."""
        return [f for f in self.findings if not f.suppressed]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.active if not f.not_verified]

    @property
    def not_verified(self) -> list[Finding]:
        """Checks that could not be made: shown apart, never counted as problems."""
        return [f for f in self.active if f.not_verified]

    def counts(self) -> dict[str, Any]:
        problems = self.problems
        return {
            "manifests": len(self.results),
            "manifests_with_findings": sum(1 for r in self.results
                                           if any(not f.suppressed and not f.not_verified
                                                  for f in r.findings)),
            "findings": len(problems),
            "not_verified": len(self.not_verified),
            "suppressed": len(self.findings) - len(self.active),
            "by_severity": {s: sum(1 for f in problems if f.severity == s) for s in SEVERITIES},
            "by_symptom": dict(Counter(f.symptom for f in problems)),
        }

    def worst(self) -> str | None:
        """The most severe problem's severity, None without problems."""
        found = {f.severity for f in self.problems}
        return next((s for s in SEVERITIES if s in found), None)

    def help_uri(self, code: str) -> str | None:
        rule = self.catalog.rules.get(code)
        if rule is None or rule.origin != "builtin":
            return None
        return str(self.catalog.data["docs_url"]).format(code=code)


SHOWN_PER_RULE = 20  # findings of one rule in one file that the formats people read show


def bounded(findings: list[Finding]) -> tuple[list[Finding], list[str]]:
    """The findings a reader is shown (the first SHOWN_PER_RULE of each rule in each file)
    and one line per (rule, file) about the rest: a served document repeating one problem
    33,000 times must not print megabytes. JSON and SARIF keep every finding."""
    seen: Counter[tuple[str, str | None]] = Counter()
    shown = []
    for finding in findings:
        key = (finding.code, finding.file)
        seen[key] += 1
        if seen[key] <= SHOWN_PER_RULE:
            shown.append(finding)
    notes = [f"{count - SHOWN_PER_RULE} more {code} finding"
             f"{'' if count - SHOWN_PER_RULE == 1 else 's'}"
             f"{f' in {file}' if file else ''} not shown (all are in --format json and sarif)"
             for (code, file), count in seen.items() if count > SHOWN_PER_RULE]
    return shown, notes


Writer = Callable[[Report, IO[str]], None]


def writer(format_name: str) -> Writer:
    module = import_module(f"mcplint.report.{FORMATS[format_name]}")
    return module.write  # type: ignore[no-any-return]
