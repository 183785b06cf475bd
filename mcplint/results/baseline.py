"""The baseline: today's findings recorded once, then hidden, so a repository can adopt
mcplint (or a stricter profile) without fixing everything first while new problems fail.

A finding is recognised by its rule code, its file, the JSON pointer of the value at fault
and a hash of that value; never by its line, so inserting lines above it changes nothing,
while changing the value (a new URL, another allowlist) makes it a new finding. Files are
recorded relative to the baseline's folder, so a run from any folder matches.

The file is JSON, sorted, one entry per finding (the message is there for the reader only):

    {"mcplint_baseline": 1,
     "findings": [{"code": "MCP104", "file": "mcp-connector.yaml", "pointer": "/server/url",
                   "value": "3f1c…", "manifest": "mcp-connector.yaml", "message": "…"}]}

An entry may carry a `reason`, written by hand; reports show it as the justification.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

from mcplint.config.settings import Settings
from mcplint.errors import UsageError
from mcplint.findings import FileResult, Finding

FORMAT_VERSION = 1
Key = tuple[str, str, str, str]  # code, file (relative to the baseline), pointer, value hash


class Baseline:
    def __init__(self, path: Path, entries: list[dict[str, Any]]) -> None:
        self.path = path
        self.entries = entries

    @cached_property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def relative(self, file: str | None) -> str:
        """A reported path, relative to the baseline's folder, with forward slashes."""
        if not file:
            return ""
        return os.path.relpath(os.path.abspath(file), self.folder).replace(os.sep, "/")

    def key_of(self, finding: Finding) -> Key:
        return (finding.code, self.relative(finding.file), finding.location.pointer,
                finding.value_hash)


def _entry_key(entry: dict[str, Any]) -> Key:
    return (entry["code"], entry["file"], entry["pointer"], entry["value"])


def use(results: list[FileResult], settings: Settings, write_to: str | None,
        former: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Write the baseline (--write-baseline) and/or apply one (--baseline or the config's);
    the report's `baseline` summary, or None when no baseline is involved."""
    if write_to:
        baseline = write(Path(write_to), results)
        print(f"mcplint: recorded {len(baseline.entries)} findings in {write_to}", file=sys.stderr)
    elif settings.baseline is None or settings.no_suppress:
        return None
    else:
        baseline = read(settings.baseline, settings.origin("baseline"))
    # An audit run (--no-suppress) shows everything; a baseline it writes is still written.
    return None if settings.no_suppress else apply(baseline, results, former or {})


def write(path: Path, results: list[FileResult]) -> Baseline:
    """Record every finding not suppressed inline."""
    from mcplint.files import write_atomically

    baseline = Baseline(path, [])
    for result in results:
        for finding in result.findings:
            if finding.suppression and finding.suppression.get("kind") == "inline":
                continue
            code, file, pointer, value = baseline.key_of(finding)
            baseline.entries.append({
                "code": code, "file": file, "pointer": pointer, "value": value,
                "manifest": baseline.relative(finding.manifest or result.path),
                "message": finding.message})
    baseline.entries.sort(key=lambda e: (e["file"], e["pointer"], e["code"], e["value"]))
    document = {"mcplint_baseline": FORMAT_VERSION, "findings": baseline.entries}
    write_atomically(path, lambda out: out.write(json.dumps(document, indent=2) + "\n"))
    return baseline


def read(path: Path, origin: str) -> Baseline:
    """A baseline file, or a UsageError naming it and what a baseline file holds."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{origin}: {path} does not exist (record one with "
                         "--write-baseline FILE)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: not a baseline file ({error}); record one with "
                         "--write-baseline FILE") from None
    findings = document.get("findings") if isinstance(document, dict) else None
    if (not isinstance(document, dict) or document.get("mcplint_baseline") != FORMAT_VERSION
            or not isinstance(findings, list)):
        raise UsageError(f"{path}: not a baseline file of format {FORMAT_VERSION} (an object "
                         "with mcplint_baseline: 1 and a findings list); record one with "
                         "--write-baseline FILE")
    for index, entry in enumerate(findings):
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str)
                                                for k in ("code", "file", "pointer", "value"))):
            raise UsageError(f"{path}: findings[{index}] needs code, file, pointer and value "
                             "strings")
    return Baseline(path, findings)


def apply(baseline: Baseline, results: list[FileResult],
          former: dict[str, str] | None = None) -> dict[str, Any]:
    """Mark the findings the baseline records as suppressed; count what matched, and the
    entries of the manifests and rules checked now that matched nothing (stale).

    `former` maps a code to the one it was split from (MCP516 -> MCP510): an entry of the
    older code also hides the newer code's finding at the same place, with the same value,
    even when it already hid its own (one catalog 1 finding became two)."""
    former = former or {}
    remaining = Counter(_entry_key(e) for e in baseline.entries)
    reasons = {_entry_key(e): e["reason"] for e in baseline.entries
               if isinstance(e.get("reason"), str)}
    default_reason = f"recorded in the baseline {baseline.path}"
    matched = 0
    used: set[Key] = set()

    def hide(finding: Finding, key: Key) -> Finding:
        nonlocal matched
        matched += 1
        used.add(key)
        return finding.with_(suppression={"kind": "baseline",
                                          "reason": reasons.get(key, default_reason)})

    for result in results:  # exact entries first, so that they are not taken by former codes
        kept = []
        for finding in result.findings:
            key = baseline.key_of(finding)
            if finding.suppression is None and remaining[key] > 0:
                remaining[key] -= 1
                finding = hide(finding, key)
            kept.append(finding)
        result.findings = kept
    for result in results:
        kept = []
        for finding in result.findings:
            if finding.suppression is None and finding.code in former:
                key = (former[finding.code], *baseline.key_of(finding)[1:])
                if remaining[key] > 0 or key in used:
                    remaining[key] = max(remaining[key] - 1, 0)
                    finding = hide(finding, key)
            kept.append(finding)
        result.findings = kept
    checked = {(baseline.relative(r.path), code) for r in results for code in r.rules_run}
    stale = 0
    for entry in baseline.entries:
        key = _entry_key(entry)
        if remaining[key] > 0 and (entry.get("manifest"), entry["code"]) in checked:
            remaining[key] -= 1  # duplicates are separate entries: count each once
            stale += 1
    return {"file": str(baseline.path), "matched": matched, "stale": stale}
