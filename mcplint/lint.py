"""Checking one manifest: load, schema, documents, facts, policies, then selection and
suppressions. `verify` adds live facts to the same evaluation."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mcplint.config.settings import Settings, expand_selectors, selected_codes
from mcplint.findings import (
    FileResult,
    Finding,
    Location,
    fingerprint,
    from_root,
    make_finding,
)
from mcplint.load import documents as docs_module
from mcplint.load import schemacheck
from mcplint.load.sourcemap import FILE_START, SourceMap
from mcplint.load.sourcemap import pointer as make_pointer
from mcplint.load.yamlsource import Loaded, Problem, load_file
from mcplint.policy.catalog import Catalog, Check, Rule

if TYPE_CHECKING:
    from mcplint.policy.engine import Context
    from mcplint.results import suppressions

# The policy engine (with JMESPath), the static facts and the suppressions are imported
# where they are first used: under `verify`, that is after the manifest has gone to the
# probes, so that the probes need not wait for those imports (mcplint/live/worker.py).

class LiveProbes(Protocol):
    """Live verification plugs in here (mcplint/live/runner.py): `begin` gives it the run's
    settings and how many manifests are coming, `start` begins verifying a loaded manifest
    and returns what waits for its live facts."""

    def begin(self, settings: Settings, count: int) -> None: ...

    def start(self, display: str, manifest: dict[str, Any], declared: dict[str, Any],
              data: dict[str, Any], profile: str) -> Callable[[], dict[str, Any]]: ...


class Linter:
    """Checks manifests with one catalog and one set of settings."""

    def __init__(self, catalog: Catalog, settings: Settings, mode: str = "static",
                 live: LiveProbes | None = None) -> None:
        self.catalog = catalog
        self.settings = settings
        self.mode = mode
        self.live = live
        self._schema_tests: dict[int, Callable[[Any], bool]] = {}
        # Content read elsewhere that stands for a file's (`check -`: standard input).
        self.sources: dict[Path, bytes] = {}

    # -- findings from the stages before the policies ------------------------------------
    def _finding(self, code: str, message: str, location: Location, value: Any = None,
                 manifest: str | None = None) -> Finding:
        return make_finding(self.catalog.rules[code], message, location, value,
                            manifest=manifest)

    def _problem_finding(self, problem: Problem, file: str, manifest: str) -> Finding:
        location = Location(file, problem.pointer, problem.span, anchor=problem.pointer)
        return self._finding(problem.code, problem.message, location, problem.pointer, manifest)

    def lint(self, path: Path, display: str) -> FileResult:
        """Load, then (verify) start the live probes at once, so that they wait for their
        answers while the rest of the manifest is checked."""
        loaded, findings = self.load(path, display)
        if loaded is None:
            return self.finish(display, findings, profile=self.settings.profile_for(None),
                               texts={})
        data = loaded.data
        documents = docs_module.load(data, path)
        declared = {name: document.data for name, document in documents.documents.items()}
        profile = self.settings.profile_for(data.get("profile"))
        live_facts = (self.live.start(display, data, declared, self.catalog.data, profile)
                      if self.live is not None else None)
        findings += self._document_findings(loaded, documents, display)
        context = self._context(display, loaded, documents, declared, profile)
        # Only the rules that run for this manifest are evaluated: one that its profile or the
        # selection leaves out would cost its evaluation and then be dropped (catalog 2's
        # advice outside claude-ai fires on most healthy manifests).
        ran = self.rules_that_run(display, profile)
        rules = [r for r in self.rules_for_mode() if r.code in ran]
        if live_facts is None:
            findings += self.evaluate(context, rules)
            live = None
        else:  # what needs no live fact is judged while the probes wait
            findings += self.evaluate(context, rules, reads_live=False)
            self._prepare_live_checks(rules)
            live = context.document["live"] = live_facts()
            findings += self.evaluate(context, rules, reads_live=True)
        texts = {display: loaded.text}
        for document in documents.documents.values():
            if document.file and document.loaded:
                texts[document.file] = document.loaded.text
        result = self.finish(display, findings, profile, texts)
        result.live = live
        return result

    def load(self, path: Path, display: str) -> tuple[Loaded | None, list[Finding]]:
        """The manifest, if it loaded as a mapping of a known version; None when nothing
        more can be checked."""
        try:
            loaded = load_file(path, raw=self.sources.get(path))
        except OSError as error:  # gone or unreadable since it was found: this file only
            loaded = Loaded(problems=[Problem(
                "MCP001", f"the file cannot be read: {error.strerror or error}", FILE_START)],
                fatal=True)
        findings = [self._problem_finding(p, display, display) for p in loaded.problems]
        if loaded.fatal:
            return None, findings
        data = loaded.data
        if not isinstance(data, dict):
            what = "empty" if data is None else f"{schemacheck.type_of(data)}, not a mapping"
            findings.append(self._finding(
                "MCP004", f"the manifest is {what}; it needs at least version, server and auth",
                Location(display, "", FILE_START), data, display))
            return None, findings
        version_problem = schemacheck.version_problem(data)
        if version_problem is not None:
            span = loaded.source_map.value_span("/version")
            findings.append(self._finding("MCP004", version_problem,
                                          Location(display, "/version", span, "/version"),
                                          data.get("version"), display))
            return None, findings
        return loaded, findings

    def _document_findings(self, loaded: Loaded, documents: docs_module.DocumentsResult,
                           display: str) -> list[Finding]:
        """The schema's findings (MCP004) and those of the referenced documents."""
        data, root_map = loaded.data, loaded.source_map
        findings = [] if schemacheck.is_valid(data) else self._schema_findings(
            data, root_map, display)
        for pointer, why in documents.unreadable:
            findings.append(self._finding(
                "MCP008", why, Location(display, pointer, root_map.value_span(pointer),
                                        "/manifest" + pointer), pointer, display))
        for declared, problem in documents.problems:
            assert declared.file is not None
            findings.append(self._problem_finding(problem, declared.file, display))
        return findings

    def _schema_findings(self, data: dict[str, Any], source_map: SourceMap,
                         display: str) -> list[Finding]:
        findings = []
        for violation in schemacheck.violations(data):
            pointer = make_pointer(*violation.path)
            span = (source_map.key_span(pointer) if violation.at_key
                    else source_map.value_span(pointer))
            findings.append(self._finding(
                "MCP004", violation.message, Location(display, pointer, span, pointer),
                violation.value, display))
        return findings

    def _context(self, display: str, loaded: Loaded, result: docs_module.DocumentsResult,
                 declared: dict[str, Any], profile: str) -> Context:
        from mcplint.facts import static as static_facts
        from mcplint.policy.engine import Context, Mount

        mounts = [Mount("/manifest", display, loaded.source_map)]
        for name, document in result.documents.items():
            if document.file is None:
                mounts.append(Mount(f"/declared/{name}", display, loaded.source_map,
                                    f"/auth/{name}"))
            else:
                assert document.loaded is not None
                mounts.append(Mount(f"/declared/{name}", document.file,
                                    document.loaded.source_map))
        facts = static_facts.build(loaded.data, declared, self.catalog.data)
        document = {"manifest": loaded.data, "declared": declared, "facts": facts, "live": {},
                    "profile": profile, "data": self.catalog.data}
        return Context(document, mounts, manifest=display)

    # -- policies -----------------------------------------------------------------------
    def rules_for_mode(self) -> list[Rule]:
        return [r for r in self.catalog.rules.values()
                if r.checks and (self.mode == "live" or "static" in r.modes)]

    def evaluate(self, context: Context, rules: list[Rule],
                 reads_live: bool | None = None) -> list[Finding]:
        from mcplint.policy.engine import Evaluator

        return Evaluator(context, self.schema_test).run(rules, reads_live)

    def _prepare_live_checks(self, rules: list[Rule]) -> None:
        """Compile what the live checks will need (conditions, messages, schema tests), and
        load hashlib, which every finding needs (findings.value_hash) and which takes
        milliseconds to load OpenSSL."""
        import hashlib  # noqa: F401

        from mcplint.policy.engine import compile_checks

        compile_checks(rules, reads_live=True)
        for rule in rules:
            for check in rule.checks:
                if check.reads_live and check.schema is not None:
                    self.schema_test(check)

    def schema_test(self, check: Check) -> Callable[[Any], bool]:
        """The (cached) test of a check's JSON Schema."""
        test = self._schema_tests.get(id(check))
        if test is None:
            test = self._schema_tests[id(check)] = make_schema_test(check)
        return test

    # -- after the policies: one finding per cause, selection, suppressions --------------
    def _runs_in_mode(self, rule: Rule) -> bool:
        return self.mode == "live" or "static" in rule.modes

    def rules_that_run(self, display: str, profile: str) -> frozenset[str]:
        """The codes selected for this manifest (profile, --select/--ignore, config,
        per-file-ignores) that run in this mode."""
        selected = selected_codes(self.catalog, self.settings, profile)
        selected -= self._per_file_ignores(display)
        return frozenset(c for c in selected if self._runs_in_mode(self.catalog.rules[c]))

    def finish(self, display: str, findings: list[Finding], profile: str,
               texts: dict[str, str]) -> FileResult:
        from mcplint.results.overrides import drop_overridden

        ran = self.rules_that_run(display, profile)
        # Overriding applies only between rules that ran: a rule the profile, the selection
        # or the config leaves out never hides another's finding ("one root cause").
        findings = [f for f in findings
                    if f.code in ran and not self._ignored_in_document(f, display)]
        findings = [self._with_severity(f) for f in drop_overridden(findings, self.catalog.rules)]
        if not self.settings.no_suppress:
            findings = self._suppress(findings, texts, display, ran)
            if self.settings.suppress:
                findings = [self._config_suppressed(f) for f in findings]
        root = self.settings.report_root
        for finding in findings:  # the identity of a finding is the same from any folder
            if finding.file is not None:
                finding.fingerprint = fingerprint(finding.code, from_root(finding.file, root),
                                                  finding.location.pointer, finding.value_hash)
        from mcplint.results.order import arrange

        findings = arrange(findings, self.catalog.rules, live=self.mode == "live")
        return FileResult(display, findings, rules_run=ran)

    def _with_severity(self, finding: Finding) -> Finding:
        severity = self.settings.severity.get(finding.code)
        return finding.with_(severity=severity) if severity else finding

    def _per_file_ignores(self, path: str) -> set[str]:
        """Codes per-file-ignores leave out in `path` (a manifest, or a document it uses);
        globs are relative to the folder of the config that sets them."""
        codes: set[str] = set()
        shown = self.settings.relative(path, self.settings.rules_root)
        for glob, selectors in self.settings.per_file_ignores.items():
            if fnmatch.fnmatch(shown, glob) or fnmatch.fnmatch(Path(shown).name, glob):
                codes |= expand_selectors(self.catalog, selectors,
                                          self.settings.origin("per-file-ignores"))
        return codes

    def _ignored_in_document(self, finding: Finding, display: str) -> bool:
        """A finding in a referenced document whose path per-file-ignores names (those of
        the manifest's own path leave its rules out altogether, in finish)."""
        if not self.settings.per_file_ignores or finding.file in (None, display):
            return False
        assert finding.file is not None
        return finding.code in self._per_file_ignores(finding.file)

    def _config_suppressed(self, finding: Finding) -> Finding:
        """The config's `suppress` list: single findings, by file, pointer and code (the
        way to suppress one in a JSON document, which has no comments)."""
        if finding.suppression is not None or finding.file is None:
            return finding
        file = os.path.normpath(os.path.abspath(finding.file))
        for entry in self.settings.suppress:
            if entry.covers(finding.code, file, finding.location.pointer):
                return finding.with_(suppression={"kind": "config", "reason": entry.reason})
        return finding

    def _lookup(self, name: str) -> str | None:
        rule = self.catalog.lookup(name)
        return rule.code if rule else None

    def _suppress(self, findings: list[Finding], texts: dict[str, str], manifest: str,
                  ran: frozenset[str]) -> list[Finding]:
        """Mark suppressed findings; add MCP006 (unknown names) and MCP005 (unused)."""
        from mcplint.results import suppressions

        directives = {file: suppressions.parse(text) for file, text in texts.items()}
        about_suppressions: list[Finding] = []
        for file, found in directives.items():
            for directive, name in suppressions.resolve(found, self._lookup):
                about_suppressions.append(self._finding(
                    "MCP006", f"'{name}' in this suppression is not a rule code or name"
                    f"{self.catalog.suggest(name)} (see `mcplint rules`)",
                    Location(file, "", directive.span), name, manifest))
        former = self.catalog.split_from
        findings = [_apply(directives, f, former) for f in findings]
        for file, found in directives.items():
            for directive in found:
                for name, code in directive.codes.items():
                    if code in ran and code not in directive.used:
                        about_suppressions.append(self._finding(
                            "MCP005", f"this suppression of {code} "
                            f"({self.catalog.rules[code].name}) suppressed nothing; remove it",
                            Location(file, "", directive.span), f"{directive.kind}={name}",
                            manifest))
        # A file-wide disable may silence MCP005/MCP006 too.
        return findings + [_apply(directives, f, former) for f in about_suppressions
                           if f.code in ran]


def _apply(directives: dict[str, list[suppressions.Directive]], finding: Finding,
           former: dict[str, str]) -> Finding:
    """The finding, suppressed if a directive names its code, or the code it was split from
    (a suppression of MCP510 written for catalog 1 also covers MCP516)."""
    codes = (finding.code, former[finding.code]) if finding.code in former else (finding.code,)
    for directive in directives.get(finding.file or "", ()):
        for code in codes:
            if directive.covers(code, finding.line):
                directive.used.add(code)
                return finding.with_(suppression={"kind": "inline", "reason": directive.reason})
    return finding


def make_schema_test(check: Check) -> Callable[[Any], bool]:
    """A fast generated validator for built-in policies, jsonschema for users' policies."""
    if check.validator is not None:
        from mcplint.load import fastschema

        return fastschema.tester(check.validator)
    import jsonschema

    validator = jsonschema.Draft202012Validator(check.schema)
    return validator.is_valid  # type: ignore[no-any-return]

