"""The baseline: today's findings recorded once, then hidden, so a repository can adopt
mcplint (or a stricter profile) without fixing everything first while new problems fail.

A finding is recognised by the manifest it was found for, the file it is in and its
fingerprint (rule code, path, JSON pointer and a hash of the value at fault, with the
path taken from the baseline's folder); never by its line, so inserting lines above it changes nothing, while
changing the value (a new URL, another allowlist) makes it a new finding. A metadata
document shared by two manifests has one entry per manifest, so which manifest came
first on the command line changes nothing. Paths are relative to the baseline's folder,
so a run from any folder matches.

The file is JSON, sorted, one entry per finding and manifest (code, pointer and message
are there for the reader):

    {"mcplint_baseline": 2,
     "findings": [{"manifest": "mcp-connector.yaml", "file": "mcp-connector.yaml",
                   "fingerprint": "3f1c…", "code": "MCP104", "pointer": "/server/url",
                   "message": "…"}]}

An entry may carry a `reason`, written by hand; reports show it as the justification, and
rewriting the baseline keeps it. `--write-baseline` on some manifests replaces the entries
of those manifests (for the rules that ran) and keeps every other entry. Files of format 1
(code, file, pointer and value hash) still load, and are rewritten as format 2 on the next
write, hiding exactly what they hid.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from mcplint.config.settings import Settings
from mcplint.errors import UsageError
from mcplint.findings import FileResult, Finding, fingerprint

FORMAT_VERSION = 2
Key = tuple[str | None, str, str]  # manifest (None: any), file, fingerprint


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Baseline:
    def __init__(self, path: Path, entries: list[dict[str, Any]]) -> None:
        self.path = path
        self.entries = entries
        self.folder = path.resolve().parent

    def relative(self, file: str) -> str:
        """A reported path, relative to the baseline's folder, with forward slashes."""
        return os.path.relpath(os.path.abspath(file), self.folder).replace(os.sep, "/")

    def key_of(self, finding: Finding, result: FileResult, code: str | None = None) -> Key:
        """The finding's fingerprint is taken from the baseline's folder, so that it matches
        from any folder, with any report root (it is the reports' fingerprint when the
        baseline is at the repository root, as it usually is). `code` replaces the
        finding's own, to look for an entry of the rule it was split from."""
        file = self.relative(finding.file or "")
        return (self.relative(finding.manifest or result.path), file,
                fingerprint(code or finding.code, file, finding.location.pointer,
                            finding.value_hash))


def _entry_key(entry: dict[str, Any]) -> Key:
    return (entry.get("manifest"), entry["file"], entry["fingerprint"])


def use(results: list[FileResult], settings: Settings, write_to: str | None,
        former: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Write the baseline (--write-baseline) and/or apply one (--baseline or the config's);
    the report's `baseline` summary, or None when no baseline is involved."""
    if write_to:
        baseline, added, kept = write(Path(write_to), results)
        others = f" (kept {kept} of manifests or rules not checked now)" if kept else ""
        print(f"mcplint: recorded {added} findings in {write_to}{others}", file=sys.stderr)
    elif settings.baseline is None or settings.no_suppress:
        return None
    else:
        baseline = read(settings.baseline, settings.origin("baseline"))
    # An audit run (--no-suppress) shows everything; a baseline it writes is still written.
    return None if settings.no_suppress else apply(baseline, results, former or {})


def _checked(baseline: Baseline, results: list[FileResult]) -> set[tuple[str, str]]:
    """(manifest, code) of what this run judged: its entries are due now."""
    return {(baseline.relative(r.path), code) for r in results for code in r.rules_run}


def write(path: Path, results: list[FileResult]) -> tuple[Baseline, int, int]:
    """Record every finding not suppressed otherwise, replacing the entries of what was
    checked and keeping the rest (and every reason written by hand); the baseline, how many
    entries this run recorded and how many it kept."""
    from mcplint.files import write_atomically

    old = read(path, "--write-baseline") if path.exists() else Baseline(path, [])
    baseline = Baseline(path, [])
    for result in results:
        for finding in result.findings:
            if finding.suppression:  # inline, or the config's suppress list
                continue
            manifest, file, print_ = baseline.key_of(finding, result)
            baseline.entries.append({
                "manifest": manifest, "file": file, "fingerprint": print_,
                "code": finding.code, "pointer": finding.location.pointer,
                "message": finding.message})
    added = len(baseline.entries)
    reasons = {_entry_key(e): e["reason"] for e in old.entries if isinstance(e.get("reason"), str)}
    recorded = {(key[1], key[2]) for key in map(_entry_key, baseline.entries)}
    for entry in baseline.entries:
        key = _entry_key(entry)
        reason = reasons.get(key) or reasons.get((None, key[1], key[2]))
        if reason:
            entry["reason"] = reason
    checked = _checked(baseline, results)
    # An entry without a manifest is replaced only by the same finding recorded now.
    kept = [e for e in old.entries if (e.get("manifest"), e["code"]) not in checked
            and not (e.get("manifest") is None and (e["file"], e["fingerprint"]) in recorded)]
    baseline.entries += kept
    baseline.entries.sort(key=lambda e: (e.get("manifest") or "", e["file"], e["pointer"],
                                         e["code"], e["fingerprint"]))
    document = {"mcplint_baseline": FORMAT_VERSION, "findings": baseline.entries}
    write_atomically(path, lambda out: out.write(json.dumps(document, indent=2) + "\n"))
    return baseline, added, len(kept)


def read(path: Path, origin: str) -> Baseline:
    """A baseline file (format 1 entries migrated), or a UsageError naming it and what a
    baseline file holds."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{origin}: {path} does not exist (record one with "
                         "--write-baseline FILE)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: not a baseline file ({error}); record one with "
                         "--write-baseline FILE") from None
    findings = document.get("findings") if isinstance(document, dict) else None
    version = document.get("mcplint_baseline") if isinstance(document, dict) else None
    if version not in (1, FORMAT_VERSION) or not isinstance(findings, list):
        raise UsageError(f"{path}: not a baseline file of format 1 or {FORMAT_VERSION} (an "
                         f"object with mcplint_baseline: {FORMAT_VERSION} and a findings list); "
                         "record one with --write-baseline FILE")
    needed = ("code", "file", "pointer", "value") if version == 1 else ("code", "file",
                                                                        "fingerprint")
    for index, entry in enumerate(findings):
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in needed)
                and isinstance(entry.get("manifest", ""), str)):
            raise UsageError(f"{path}: findings[{index}] needs {', '.join(needed[:-1])} and "
                             f"{needed[-1]} strings")
    baseline = Baseline(path, findings)
    if version == 1:
        baseline.entries = [_migrated(entry) for entry in findings]
    return baseline


def _migrated(entry: dict[str, Any]) -> dict[str, Any]:
    """A format 1 entry (code, file, pointer, value hash) in format 2: the same key, hashed,
    so it hides exactly what it hid."""
    migrated = {"manifest": entry.get("manifest"), "file": entry["file"],
                "fingerprint": fingerprint(entry["code"], entry["file"], entry["pointer"],
                                           entry["value"]),
                "code": entry["code"], "pointer": entry["pointer"],
                "message": entry.get("message", "")}
    if isinstance(entry.get("reason"), str):
        migrated["reason"] = entry["reason"]
    return migrated


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

    def keys(finding: Finding, result: FileResult, code: str) -> tuple[Key, Key]:
        exact = baseline.key_of(finding, result, code)
        # An entry without a manifest (written by hand) matches in any manifest.
        return exact, (None, exact[1], exact[2])

    for result in results:  # exact entries first, so that they are not taken by former codes
        kept = []
        for finding in result.findings:
            for key in keys(finding, result, finding.code):
                if finding.suppression is None and remaining[key] > 0:
                    remaining[key] -= 1
                    finding = hide(finding, key)
            kept.append(finding)
        result.findings = kept
    for result in results:
        kept = []
        for finding in result.findings:
            if finding.suppression is None and finding.code in former:
                for key in keys(finding, result, former[finding.code]):
                    if finding.suppression is None and (remaining[key] > 0 or key in used):
                        remaining[key] = max(remaining[key] - 1, 0)
                        finding = hide(finding, key)
            kept.append(finding)
        result.findings = kept
    checked = _checked(baseline, results)
    stale = 0
    for entry in baseline.entries:
        key = _entry_key(entry)
        if remaining[key] > 0 and (entry.get("manifest"), entry["code"]) in checked:
            remaining[key] -= 1  # duplicates are separate entries: count each once
            stale += 1
    return {"file": str(baseline.path), "matched": matched, "stale": stale}
