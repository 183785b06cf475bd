"""The validators generated ahead of time agree with jsonschema: on the examples, on
every policy example, and on many mutated manifests."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import jsonschema
import pytest
from support import REPO_ROOT

from mcplint.load import fastschema
from mcplint.load.yamlsource import parse
from mcplint.policy.catalog import load_builtin

SCHEMA = json.loads((REPO_ROOT / "schemas" / "mcp-connector.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _manifests() -> list[Any]:
    documents = [parse((REPO_ROOT / "examples" / name / "mcp-connector.yaml").read_text()).data
                 for name in ("healthy", "broken")]
    for path in sorted((REPO_ROOT / "policies").glob("MCP*.yaml")):
        examples = parse(path.read_text()).data.get("examples", {})
        for kind in ("bad", "good"):
            loaded = parse(examples.get(kind, ""))
            if not loaded.fatal and loaded.data is not None:
                documents.append(loaded.data)
    return documents


REPLACEMENTS = [None, True, "yes", 0, 1, 2.5, "", "x", [], {}, ["dcr"], ["dcr", "dcr"],
                {"a": 1}, "https://mcp.acme.com/mcp", "10.0.0.1/33", "UPPER.case", "/path",
                ["preregistered"], "oauth", "none", "static-headers", "sse"]


def _mutations(document: Any, rng: random.Random, count: int) -> list[Any]:
    pointers: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        pointers.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [index])

    walk(document, [])
    mutated = []
    for _ in range(count):
        copy_ = copy.deepcopy(document)
        path = rng.choice(pointers[1:]) if len(pointers) > 1 else []
        parent = copy_
        for token in path[:-1]:
            parent = parent[token]
        if not path:
            continue
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = rng.choice(REPLACEMENTS)
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "urll", "ip_allowlst", "client"])] = rng.choice(REPLACEMENTS)
        mutated.append(copy_)
    return mutated


def test_generated_manifest_validator_agrees_with_jsonschema() -> None:
    rng = random.Random(20261128)
    documents = _manifests()
    cases = documents + [m for d in documents for m in _mutations(d, rng, 40)]
    assert len(cases) > 2000
    disagreements = [d for d in cases if fastschema.is_valid("manifest", d) != VALIDATOR.is_valid(d)]
    assert not disagreements, json.dumps(disagreements[0], default=str)[:500]
    assert any(VALIDATOR.is_valid(d) for d in cases) and not all(VALIDATOR.is_valid(d) for d in cases)


@pytest.mark.parametrize("check", [
    pytest.param(c, id=c.validator) for r in load_builtin().rules.values() for c in r.checks
    if c.validator])
def test_generated_policy_validators_agree(check: Any) -> None:
    validator = jsonschema.Draft202012Validator(check.schema)
    samples = [None, {}, [], "S256", ["S256"], ["plain"], {"code_challenge_methods_supported": ["S256"]},
               {"code_challenge_methods_supported": "S256"}, {"resource": "x"}, {"resource": 1},
               {"authorization_servers": []}, {"authorization_servers": ["x"]}, ["code"], ["token"],
               "${A}", "Bearer ${TOKEN}", "hunter2", "${lower_ok}", "${1BAD}"]
    for sample in samples:
        assert fastschema.is_valid(check.validator, sample) == validator.is_valid(sample), sample
