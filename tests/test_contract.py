"""The facts document contract (docs/contract.md) covers what the policies read.

Every member a built-in policy reads, through its `given` globs, its JMESPath (`when`,
`expect`, message placeholders) or its JSON Schema's `properties`/`required`/`items`, must
be a row of the contract (for /manifest: a member of the manifest schema). The other way
round, every member the static facts and the policies' live examples hold must be documented,
with a type the contract allows, so the contract cannot drift from the code either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jmespath import parser
from support import REPO_ROOT

from mcplint.policy.catalog import load_builtin, message_expressions

CONTRACT = REPO_ROOT / "docs" / "contract.md"
MANIFEST_SCHEMA = json.loads((REPO_ROOT / "schemas" / "mcp-connector.schema.json").read_text())
ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+?) \| .+ \|$")
SHAPE = re.compile(r"\{(\w+)\}")
# The envelope JMESPath sees: `this` is the selected value, the rest the document's members.
TOP = ("manifest", "declared", "facts", "live", "profile", "data")
# Third-party documents: members beyond the contract's pass through as written or served.
OPEN_SHAPES = {"prm", "asm"}

Path_ = tuple[str, ...]


def tokens(pointer: str) -> Path_:
    return tuple(pointer.strip("/").split("/")) if pointer.strip("/") else ()


# -- the contract ---------------------------------------------------------------------------
def contract_rows(text: str) -> dict[str, str]:
    """member -> type, from every table row of the page."""
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match and match.group(1) != "member":
            rows[match.group(1)] = match.group(2).strip()
    return rows


def documented(text: str) -> dict[Path_, str]:
    """Every documented member with its type, shapes expanded where they are used."""
    rows = contract_rows(text)
    shapes: dict[str, dict[Path_, str]] = {}
    for member, kind in rows.items():
        shape = SHAPE.fullmatch(member.split("/")[0])
        if shape:
            shapes.setdefault(shape.group(1), {})[tokens(member)[1:]] = kind

    def expand(prefix: Path_, kind: str, depth: int = 0) -> Iterator[tuple[Path_, str]]:
        yield prefix, kind
        used = SHAPE.fullmatch(kind)
        if used:
            assert depth < 5, f"shapes nest too deep at {prefix}"
            assert used.group(1) in shapes, f"{'/'.join(prefix)}: no shape {kind} on the page"
            for inner, inner_kind in shapes[used.group(1)].items():
                if inner:
                    yield from expand(prefix + inner, inner_kind, depth + 1)

    members: dict[Path_, str] = {}
    for member, kind in rows.items():
        if member.startswith("/"):
            members.update(expand(tokens(member), kind))
    return members


def _matches(read: Path_, member: Path_) -> bool:
    if member and member[-1] == "**":
        head = member[:-1]
        return len(read) >= len(head) and _matches(read[:len(head)], head)
    if len(read) != len(member):
        return False
    # `*` documents any key or index; a read of one item (`/0`) is a read of `*`.
    return all(m in ("*", r) for r, m in zip(read, member))


def in_manifest_schema(read: Path_, schema: Any = MANIFEST_SCHEMA) -> bool:
    """Whether the manifest schema defines the member at `read` (below /manifest)."""
    if not read:
        return True
    if not isinstance(schema, dict):
        return False
    if "$ref" in schema:
        return in_manifest_schema(read, MANIFEST_SCHEMA["$defs"][schema["$ref"].split("/")[-1]])
    branches = [schema[k] for k in ("then", "else") if k in schema]
    branches += [b for k in ("allOf", "anyOf", "oneOf") for b in schema.get(k, [])]
    if any(in_manifest_schema(read, b) for b in branches):
        return True
    head, rest = read[0], read[1:]
    properties = schema.get("properties", {})
    if head in properties:
        return in_manifest_schema(rest, properties[head])
    for pattern, inner in schema.get("patternProperties", {}).items():
        if head == "*" or re.search(pattern, head):
            return in_manifest_schema(rest, inner)
    if isinstance(schema.get("additionalProperties"), dict):
        return in_manifest_schema(rest, schema["additionalProperties"])
    if isinstance(schema.get("items"), dict) and (head == "*" or head.isdigit()):
        return in_manifest_schema(rest, schema["items"])
    return False


def undocumented(reads: set[Path_], members: dict[Path_, str]) -> list[str]:
    """The reads the contract does not list (a read of a member reads its parents too)."""
    missing = []
    for read in sorted({r[:n] for r in reads for n in range(1, len(r) + 1)}):
        if read[:1] == ("manifest",):
            ok = in_manifest_schema(read[1:])
        else:
            ok = any(_matches(read, member) for member in members)
        if not ok:
            missing.append("/" + "/".join(read))
    return missing


# -- what a policy reads ----------------------------------------------------------------------
_SAME_CONTEXT = {"comparator", "and_expression", "or_expression", "not_expression",
                 "multi_select_list", "multi_select_dict", "key_val_pair", "literal",
                 "raw_string"}


def jmes_reads(node: dict[str, Any], this: Path_, base: Path_ | None,
               reads: set[Path_]) -> Path_ | None:
    """Record in `reads` each document member `node` reads, where `base` is the member the
    current value is (None: a computed value, (): the envelope); return the member `node`
    evaluates to, or None."""
    kind, children = node["type"], node.get("children", [])
    if kind == "field":
        if base is None:
            return None
        name = node["value"]
        if base == () and name == "key":  # the selected member's name (engine.Evaluator)
            return None
        path = (this if name == "this" else (name,)) if base == () else base + (name,)
        if path:
            reads.add(path)
        return path
    if kind in ("current", "identity"):  # `@`
        return base
    if kind == "subexpression":
        value = base
        for child in children:
            value = jmes_reads(child, this, value, reads)
        return value
    if kind == "index_expression":
        left = jmes_reads(children[0], this, base, reads)
        index = children[1]
        if left is None:
            return None
        path = left + (str(index["value"]) if index["type"] == "index" else "*",)
        reads.add(path)
        return path
    if kind in ("projection", "filter_projection"):
        left = jmes_reads(children[0], this, base, reads)
        items = left + ("*",) if left is not None else None
        for child in children[1:]:
            jmes_reads(child, this, items, reads)
        return None
    if kind == "flatten":
        return jmes_reads(children[0], this, base, reads)
    if kind == "pipe":
        left = jmes_reads(children[0], this, base, reads)
        return jmes_reads(children[1], this, left, reads)
    if kind == "function_expression":
        first = None
        for position, child in enumerate(children):
            if child["type"] == "expref":  # evaluated against each item of the first argument
                items = first + ("*",) if first is not None else None
                jmes_reads(child["children"][0], this, items, reads)
            else:
                value = jmes_reads(child, this, base, reads)
                first = value if position == 0 else first
        return None
    if kind in _SAME_CONTEXT:
        for child in children:
            jmes_reads(child, this, base, reads)
        return None
    raise AssertionError(f"the contract test does not know JMESPath node {kind!r}: teach it")


def schema_reads(schema: Any, at: Path_, reads: set[Path_]) -> None:
    if not isinstance(schema, dict):
        return
    for name, inner in schema.get("properties", {}).items():
        reads.add(at + (name,))
        schema_reads(inner, at + (name,), reads)
    for name in schema.get("required", []):
        reads.add(at + (name,))
    for key in ("items", "contains", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema_reads(schema[key], at + ("*",), reads)
    for key in ("allOf", "anyOf", "oneOf"):
        for inner in schema.get(key, []):
            schema_reads(inner, at, reads)
    for key in ("not", "if", "then", "else"):
        schema_reads(schema.get(key), at, reads)


def check_reads(check: dict[str, Any]) -> set[Path_]:
    """Every member one check (as written in a policy file) reads."""
    reads: set[Path_] = set()
    given = check["given"] if isinstance(check["given"], list) else [check["given"]]
    expressions = [check[k] for k in ("when", "expect") if k in check]
    expressions += message_expressions(check["message"])
    for glob in given:
        this = tokens(glob)
        reads.add(this)
        for expression in expressions:
            jmes_reads(parser.Parser().parse(expression).parsed, this, (), reads)
        if "schema" in check:
            schema_reads(check["schema"], this, reads)
    return reads


def policy_files() -> list[Path]:
    return sorted((REPO_ROOT / "policies").glob("*.yaml"))


def policy_reads(policy: dict[str, Any]) -> set[Path_]:
    return set().union(*(check_reads(c) for c in policy.get("checks", [])))


# -- the tests ----------------------------------------------------------------------------------
MEMBERS = documented(CONTRACT.read_text())


def test_the_contract_page_parses() -> None:
    assert (("facts", "server", "scheme") in MEMBERS
            and ("live", "prm", "document", "resource") in MEMBERS), "shapes are expanded"
    assert len(MEMBERS) > 200


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: p.stem)
def test_a_builtin_policy_reads_only_documented_members(path: Path) -> None:
    policy = yaml.safe_load(path.read_text())
    missing = undocumented(policy_reads(policy), MEMBERS)
    assert not missing, f"{policy['code']} reads members docs/contract.md does not list: {missing}"


def test_every_policy_file_was_read() -> None:
    assert {p.stem.split("-")[0] for p in policy_files()} == set(load_builtin().rules)


def test_an_undocumented_member_fails_naming_it() -> None:
    policy = {"code": "ACME001", "checks": [
        {"given": "/facts/server", "when": "this.valid && this.porcelain",
         "expect": "contains(live.mcp.post.gossip || `[]`, 'x') || manifest.auth.nickname",
         "message": "{this.host} {facts.hosts[0].rumour}"},
        {"given": ["/live/prm/document", "/facts/made_up/*"],
         "schema": {"properties": {"resource": {"type": "string"}, "vibes": {}}},
         "message": "bad"},
    ]}
    assert undocumented(policy_reads(policy), MEMBERS) == [
        "/facts/hosts/0/rumour", "/facts/made_up", "/facts/made_up/*",
        "/facts/made_up/*/resource", "/facts/made_up/*/vibes", "/facts/server/porcelain", "/live/mcp/post/gossip", "/live/prm/document/vibes",
        "/manifest/auth/nickname",
    ]


def test_reads_are_found_in_every_part_of_a_check() -> None:
    check = {"given": "/live/dns/*", "when": "this.answered",
             "expect": "length(this.system.a || `[]`) > `0` && profile == 'local'",
             "message": "{this.host}: {join(', ', this.a)}", "schema": {"required": ["aaaa"]}}
    assert check_reads(check) == {
        ("live", "dns", "*"), ("live", "dns", "*", "answered"), ("live", "dns", "*", "system"),
        ("live", "dns", "*", "system", "a"), ("profile",), ("live", "dns", "*", "host"),
        ("live", "dns", "*", "a"), ("live", "dns", "*", "aaaa")}


# -- the other way round: what the code produces is documented, with its type ----------------
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string",
               type(None): "null", list: "array", dict: "object"}


def _type_allowed(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    words = {w for w in re.split(r",\s*|\s+or\s+", kind)}
    words = {"object" if SHAPE.fullmatch(w) else w for w in words}
    observed = _JSON_TYPES[type(value)]
    return observed in words or (observed == "integer" and "number" in words)


def produced_members(value: Any, at: Path_) -> Iterator[tuple[Path_, Any]]:
    yield at, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from produced_members(item, at + (key,))
    elif isinstance(value, list):
        for item in value:
            yield from produced_members(item, at + ("*",))


def _check_produced(document: Any, root: Path_, problems: set[str]) -> None:
    open_prefixes = [m for m, kind in MEMBERS.items()
                     if SHAPE.fullmatch(kind) and SHAPE.fullmatch(kind).group(1) in OPEN_SHAPES]
    for at, value in produced_members(document, root):
        if any(at[:len(p)] == p and len(at) > len(p) + 1 for p in open_prefixes):
            continue  # below a third-party document's own members
        kinds = [kind for member, kind in MEMBERS.items() if _matches(at, member)]
        name = "/" + "/".join(at)
        # A third-party document's member holds what its author wrote: the type documented is
        # the RFC's, and MCP520 reports a member of another type (its examples have one).
        in_document = any(at[:len(p)] == p and len(at) == len(p) + 1 for p in open_prefixes)
        if not kinds:
            if not in_document:
                problems.add(f"{name} is not documented")
        elif not in_document and not any(_type_allowed(value, kind) for kind in kinds):
            problems.add(f"{name} is {_JSON_TYPES[type(value)]}, documented as {kinds}")


def _example_manifests() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest, declared) of the bundled examples and the policies' inline examples."""
    from mcplint.load import documents

    for path in sorted((REPO_ROOT / "examples").glob("*/mcp-connector.yaml")):
        manifest = yaml.safe_load(path.read_text())
        loaded = documents.load(manifest, path)
        yield manifest, {n: d.data for n, d in loaded.documents.items()}
    for path in policy_files():
        examples = yaml.safe_load(path.read_text()).get("examples", {})
        for key in ("bad", "good"):
            try:
                manifest = yaml.safe_load(examples.get(key, ""))
            except yaml.YAMLError:
                continue  # MCP001's example does not parse, by design
            auth = manifest.get("auth") if isinstance(manifest, dict) else None
            if isinstance(auth, dict):
                yield manifest, {n: auth[n] for n in ("resource_metadata",
                                                      "authorization_server_metadata")
                                 if isinstance(auth.get(n), dict)}


def test_static_facts_are_documented_with_their_types() -> None:
    from mcplint.facts import static

    data = load_builtin().data
    problems: set[str] = set()
    count = 0
    for manifest, declared in _example_manifests():
        _check_produced(static.build(manifest, declared, data), ("facts",), problems)
        count += 1
    assert count > 50
    assert not problems, sorted(problems)


def test_live_examples_are_documented_with_their_types() -> None:
    problems: set[str] = set()
    for path in policy_files():
        examples = yaml.safe_load(path.read_text()).get("examples", {})
        for key in ("live-bad", "live-good"):
            if key in examples:
                found: set[str] = set()
                _check_produced(examples[key]["facts"], ("live",), found)
                problems |= {f"{path.stem} {key}: {p}" for p in found}
    assert not problems, sorted(problems)


# -- docs/manifest.md names every field of the manifest schema --------------------------------
def schema_fields(schema: Any, at: str = "") -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        yield from schema_fields(MANIFEST_SCHEMA["$defs"][schema["$ref"].split("/")[-1]], at)
    for key in ("allOf", "anyOf", "oneOf"):
        for inner in schema.get(key, []):
            yield from schema_fields(inner, at)
    for key in ("then", "else"):
        yield from schema_fields(schema.get(key), at)
    for name, inner in schema.get("properties", {}).items():
        yield at + name
        yield from schema_fields(inner, at + name + ".")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from schema_fields(schema["additionalProperties"], at + "<name>.")
    if isinstance(schema.get("items"), dict):
        yield from schema_fields(schema["items"], at)


def test_manifest_reference_names_every_schema_field() -> None:
    page = (REPO_ROOT / "docs" / "manifest.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", page, flags=re.M))
    fields = set(schema_fields(MANIFEST_SCHEMA))
    assert len(fields) > 20
    assert fields <= rows, sorted(fields - rows)
