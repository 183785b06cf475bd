"""The rule catalog: policy files compiled into rules.

Built-in policies (`policies/*.yaml`) are compiled ahead of time into
`mcplint/_generated/catalog.json` by `scripts/regen.py` (a test keeps it in sync), so a run
reads one JSON file instead of parsing dozens of YAML files and JMESPath expressions. Users'
policies (`--policies DIR`) go through the same compiler at run time.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcplint.errors import PolicyError
from mcplint.profiles import PROFILES
from mcplint.resources import GENERATED

if TYPE_CHECKING:
    from mcplint.policy import jmes

# A message's `{expression}` placeholders; `{{` and `}}` are literal braces (group 1 empty).
PLACEHOLDER = r"\{\{|\}\}|\{([^{}]+)\}"
CATALOG_VERSION = "2"  # rules say in which version they were added or last changed


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Check:
    def __init__(self, given: tuple[str, ...], message: str, when: dict[str, Any] | None = None,
                 expect: dict[str, Any] | None = None, schema: dict[str, Any] | bool | None = None,
                 validator: str | None = None, locate: str | None = None,
                 severity: str | None = None, outcome: str | None = None) -> None:
        self.given = given
        self.message = message
        self.when = when  # JMESPath ASTs
        self.expect = expect
        self.schema = schema
        self.validator = validator  # a generated fast validator for `schema` (built-ins)
        self.locate = locate
        self.severity = severity  # overrides the rule's, for this check's findings
        self.outcome = outcome  # "not-verified": its findings are not problems (None: problem)

    @cached_property
    def when_function(self) -> jmes.Compiled | None:
        from mcplint.policy import (
            jmes,  # only evaluation needs JMESPath, not every catalog user
        )

        return jmes.to_function(self.when) if self.when is not None else None

    @cached_property
    def expect_function(self) -> jmes.Compiled | None:
        from mcplint.policy import jmes

        return jmes.to_function(self.expect) if self.expect is not None else None

    @cached_property
    def reads_live(self) -> bool:
        """Whether the check looks at live facts, through its selectors, its conditions or
        its message: `verify` evaluates the others while its probes wait for answers.
        (A string "live" in a condition counts too: erring this way only costs time.)"""
        if any(glob.startswith("/live") for glob in self.given):
            return True
        placeholders = message_expressions(self.message)
        return ('"live"' in json.dumps([self.when, self.expect])
                or any(re.search(r"\blive\b", p) for p in placeholders))

    def to_json(self) -> dict[str, Any]:
        data = {"given": list(self.given), "message": self.message, "when": self.when,
                "expect": self.expect, "schema": self.schema, "validator": self.validator,
                "locate": self.locate, "severity": self.severity,
                "outcome": self.outcome}
        return {k: v for k, v in data.items() if v is not None}


def message_expressions(message: str) -> list[str]:
    """The JMESPath expressions of a message's placeholders, in order."""
    return [e for e in re.findall(PLACEHOLDER, message) if e]


class Rule:
    def __init__(self, code: str, name: str, severity: str, modes: tuple[str, ...], symptom: str,
                 profiles: tuple[str, ...], summary: str, checks: tuple[Check, ...] = (),
                 emitted_by: str | None = None, overridden_by: tuple[str, ...] = (),
                 origin: str = "builtin", added: int = 1, changed: int | None = None,
                 split_from: str | None = None, root_of: tuple[str, ...] = ()) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.modes = modes
        self.symptom = symptom
        self.profiles = profiles
        self.summary = summary
        self.checks = checks
        self.emitted_by = emitted_by
        self.overridden_by = overridden_by
        self.root_of = root_of  # rules whose findings this one's usually causes
        self.origin = origin
        self.added = added  # the catalog version that added the rule
        self.changed = changed  # the catalog version that last changed its meaning
        # The rule it was split from: that rule's suppressions and baseline entries cover
        # this one too, so an upgrade reopens nothing.
        self.split_from = split_from

    @property
    def news(self) -> str:
        """'new' or 'changed' for a rule added or changed in this catalog version, else ''."""
        current = int(CATALOG_VERSION)
        if self.added == current:
            return "new"
        return "changed" if self.changed == current else ""

    @property
    def mode_label(self) -> str:
        return "+".join("S" if m == "static" else "L" for m in self.modes)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.name, "severity": self.severity,
            "modes": list(self.modes), "symptom": self.symptom, "profiles": list(self.profiles),
            "summary": self.summary, "emitted_by": self.emitted_by,
            "overridden_by": list(self.overridden_by), "root_of": list(self.root_of),
            "checks": [c.to_json() for c in self.checks],
            "origin": self.origin, "added": self.added, "changed": self.changed,
            "split_from": self.split_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        checks = tuple(Check(given=tuple(c["given"]), message=c["message"], when=c.get("when"),
                             expect=c.get("expect"), schema=c.get("schema"),
                             validator=c.get("validator"), locate=c.get("locate"),
                             severity=c.get("severity"), outcome=c.get("outcome"))
                       for c in data["checks"])
        return cls(code=data["code"], name=data["name"], severity=data["severity"],
                   modes=tuple(data["modes"]), symptom=data["symptom"],
                   profiles=tuple(data["profiles"]), summary=data["summary"], checks=checks,
                   emitted_by=data.get("emitted_by"),
                   overridden_by=tuple(data.get("overridden_by", ())),
                   origin=data.get("origin", "builtin"), added=data.get("added", 1),
                   changed=data.get("changed"), split_from=data.get("split_from"),
                   root_of=tuple(data.get("root_of", ())))


def compile_policy(policy: dict[str, Any], origin: str) -> Rule:
    """A rule from a policy document that already satisfies schemas/policy.schema.json."""
    from mcplint.policy import jmes

    checks = []
    for index, check in enumerate(policy.get("checks", [])):
        given = check["given"]
        try:
            checks.append(Check(
                given=tuple([given] if isinstance(given, str) else given),
                message=check["message"],
                when=jmes.compile_expression(check["when"]) if "when" in check else None,
                expect=jmes.compile_expression(check["expect"]) if "expect" in check else None,
                schema=check.get("schema"),
                locate=check.get("locate"),
                severity=check.get("severity"),
                outcome=check.get("outcome") if check.get("outcome") != "problem" else None,
            ))
        except jmes.ExpressionError as error:
            raise PolicyError(f"{origin}: checks[{index}]: {error}") from None
    return Rule(
        code=policy["code"], name=policy["name"], severity=policy["severity"],
        modes=tuple(m for m in ("static", "live") if m in policy["modes"]),
        symptom=policy["symptom"], profiles=tuple(policy.get("profiles", PROFILES)),
        summary=policy["summary"].strip(), checks=tuple(checks),
        emitted_by=policy.get("emitted-by"), overridden_by=tuple(policy.get("overridden-by", ())),
        origin=origin, added=policy.get("added", 1), changed=policy.get("changed"),
        split_from=policy.get("split-from"), root_of=tuple(policy.get("root-of", ())),
    )


class Catalog:
    """Rules by code and name, the data files policies use, and (lazily) documentation."""

    def __init__(self, rules: dict[str, Rule], data: dict[str, Any],
                 user_docs: dict[str, dict[str, Any]] | None = None) -> None:
        self.rules = rules
        self.data = data
        self.user_docs = {} if user_docs is None else user_docs

    @cached_property
    def by_name(self) -> dict[str, Rule]:
        return {rule.name: rule for rule in self.rules.values()}

    @cached_property
    def split_from(self) -> dict[str, str]:
        """Code -> the code it was split from (MCP516 -> MCP510): suppressions and baseline
        entries of the older code cover the newer one too."""
        return {code: rule.split_from for code, rule in self.rules.items() if rule.split_from}

    def lookup(self, code_or_name: str) -> Rule | None:
        """A rule by code, name or bare number (`407` for MCP407)."""
        key = code_or_name.strip()
        if key.isdigit():
            key = f"MCP{key}"
        return self.rules.get(key.upper()) or self.by_name.get(key.lower())

    def suggest(self, unknown: str) -> str:
        """' (did you mean 'MCP407'?)' for a near miss of a code or a name, else ''."""
        import difflib

        key = unknown.strip()
        if key[-1:].isdigit():  # meant a code: a near miss in the letters only (MPC407);
            # any other number is as near to a dozen codes, so no guess is better
            digits = re.sub(r"^\D*", "", key)
            hint = [code for code in self.rules if code.endswith(digits) and len(digits) >= 3][:1]
        else:
            hint = difflib.get_close_matches(key.lower(), list(self.by_name), n=1)
        return f" (did you mean '{hint[0]}'?)" if hint else ""

    def add(self, rule: Rule) -> None:
        """Add a user rule; codes and names must stay unique."""
        clash = self.rules.get(rule.code) or self.by_name.get(rule.name)
        if clash is not None:
            raise PolicyError(f"{rule.origin}: {rule.code} {rule.name} clashes with "
                              f"{clash.code} {clash.name} from {clash.origin}")
        self.rules[rule.code] = rule
        self.__dict__.pop("by_name", None)
        self.__dict__.pop("split_from", None)

    @cached_property
    def builtin_docs(self) -> dict[str, dict[str, Any]]:
        """Docs and examples of the built-in rules (`check` never needs them)."""
        return json.loads(_generated("docs.json"))  # type: ignore[no-any-return]

    def documentation(self, code: str) -> dict[str, Any]:
        """{"docs": {what, why, fix, sources}, "examples": {...}} of a rule."""
        return self.user_docs.get(code) or self.builtin_docs.get(code, {})




def _generated(name: str) -> str:
    return (GENERATED / name).read_text(encoding="utf-8")


def load_builtin() -> Catalog:
    compiled = json.loads(_generated("catalog.json"))
    rules = {r["code"]: Rule.from_json(r) for r in compiled["rules"]}
    return Catalog(rules=rules, data=compiled["data"])


def load_policy_dir(catalog: Catalog, directory: Path) -> None:
    """Add the users' policies in `directory` (their codes must not start with MCP)."""
    from mcplint.policy import (
        files as policyfiles,  # only users with their own policies pay for validation
    )

    if not directory.is_dir():
        raise PolicyError(f"{directory}: not a folder of policy files")
    for path in sorted(directory.glob("*.y*ml")):
        policy, docs = policyfiles.read_policy(path)
        if policy["code"].startswith("MCP"):
            raise PolicyError(f"{path}: code {policy['code']} starts with MCP, which is "
                              "reserved for mcplint's own rules; choose another prefix")
        rule = compile_policy(policy, str(path))
        catalog.add(rule)
        catalog.user_docs[rule.code] = docs
