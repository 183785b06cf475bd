"""Findings: what a rule found, and exactly where."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcplint.load.sourcemap import Span

if TYPE_CHECKING:
    from mcplint.policy.catalog import Rule

SEVERITIES = ("error", "warning", "info")  # most severe first
# What a claude.ai user sees when a rule of each symptom fails.
SYMPTOMS = {
    "reach": "Couldn't reach the MCP server",
    "auth": "Authorization with the MCP server failed",
    "none": "No connection error (hygiene or risk)",
}
# The manifest itself could not be read or is not a manifest (syntax, duplicate key, unsafe
# YAML, schema): nothing else about it means much until it is fixed, so the summaries name it.
INVALID_MANIFEST = frozenset({"MCP001", "MCP002", "MCP003", "MCP004"})
INVALID_MANIFEST_TEXT = "Invalid manifest"


def summary_group(finding: Finding) -> str:
    """What a summary calls the finding: the symptom the user would see, or the manifest
    being invalid."""
    return INVALID_MANIFEST_TEXT if finding.code in INVALID_MANIFEST else SYMPTOMS[finding.symptom]


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Location:
    """A place in a file; `file` is None for findings about a URL with no manifest (probe)."""

    def __init__(self, file: str | None, pointer: str, span: Span | None, anchor: str = "") -> None:
        self.file = file
        self.pointer = pointer
        self.span = span
        self.anchor = anchor  # the pointer in the evaluated document, for "one root cause" grouping


class Finding:
    def __init__(self, code: str, name: str, severity: str, symptom: str, message: str,
                 location: Location, source: str = "declared",
                 evidence: dict[str, Any] | None = None, fingerprint: str = "",
                 manifest: str | None = None, related: tuple[tuple[Location, str], ...] = (),
                 suppression: dict[str, str] | None = None, value_hash: str = "",
                 outcome: str = "problem", root: str = "") -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.symptom = symptom
        self.message = message
        self.location = location
        self.source = source  # declared (static) or live
        self.evidence = evidence
        self.fingerprint = fingerprint
        self.manifest = manifest
        self.related = related
        self.suppression = suppression  # {"kind": "inline"|"baseline", "reason": ...}
        self.value_hash = value_hash  # of the value at fault; the baseline re-keys findings with it
        # "problem", or "not-verified": a check that could not be made (no client the
        # authorization server knows); shown apart, never failing a run.
        self.outcome = outcome
        self.root = root  # the fingerprint of the finding whose cause this one shares

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.span.line if self.location.span else None

    @property
    def column(self) -> int | None:
        return self.location.span.column if self.location.span else None

    @property
    def not_verified(self) -> bool:
        return self.outcome == "not-verified"

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple[Any, ...]:
        return (self.file or "", self.line or 0, self.column or 0, self.code, self.message)

    def with_(self, **changes: Any) -> Finding:
        return Finding(**{**vars(self), **changes})


def severity_rank(severity: str) -> int:
    """0 for error, 1 warning, 2 info: lower is more severe."""
    return SEVERITIES.index(severity)


def fails(finding: Finding, threshold: str) -> bool:
    """Whether the finding fails the run at --fail-on `threshold`: a problem, not suppressed,
    at least that severe (a check that could not be verified never fails one)."""
    return (not finding.suppressed and not finding.not_verified
            and at_least(finding.severity, threshold))


def at_least(severity: str, threshold: str) -> bool:
    return threshold != "never" and severity_rank(severity) <= severity_rank(threshold)


def value_hash(value: Any) -> str:
    """A short hash of a finding's value: what makes it this finding, wherever it moves."""
    import hashlib  # OpenSSL's load is measurable at start-up; only findings need it

    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def from_root(file: str, root: Path | None) -> str:
    """A reported path as reports name it: relative to the repository root (forward
    slashes), so that annotations and fingerprints mean the same from any folder; a file
    outside the root keeps its absolute path. Without a root, the path as given; a URL
    (what `probe` reports on) as it is."""
    if "://" in file:
        return file
    if root is None:
        return os.path.normpath(file).replace(os.sep, "/")
    absolute = os.path.abspath(file)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if relative.startswith("..") else relative.replace(os.sep, "/")


def fingerprint(code: str, file: str | None, pointer: str, hashed_value: str) -> str:
    """Stable across edits elsewhere in the file: code, file (relative to the repository
    root, see from_root), pointer and the value's hash, never the line."""
    import hashlib

    key = f"{code}\0{file or ''}\0{pointer}\0{hashed_value}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def make_finding(rule: Rule, message: str, location: Location, value: Any, *,
                 source: str = "declared", evidence: dict[str, Any] | None = None,
                 manifest: str | None = None,
                 related: tuple[tuple[Location, str], ...] = ()) -> Finding:
    hashed = value_hash(value)
    return Finding(
        code=rule.code, name=rule.name, severity=rule.severity, symptom=rule.symptom,
        message=message, location=location, source=source, evidence=evidence,
        fingerprint=fingerprint(rule.code, location.file, location.pointer, hashed),
        manifest=manifest, related=related, value_hash=hashed,
    )


class FileResult:
    """Everything one manifest produced."""

    def __init__(self, path: str, findings: list[Finding] | None = None,
                 rules_run: frozenset[str] = frozenset(),
                 live: dict[str, Any] | None = None) -> None:
        self.path = path
        self.findings = [] if findings is None else findings
        self.rules_run = rules_run
        self.live = live  # the live facts, after `verify`
