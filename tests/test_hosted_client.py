"""The hosted client as data (policies/data/hosted-client.yaml): every fact there has a
source and a date, every header mcplint sends is one the file describes for that kind of
request, and --user-agent replaces the agent of every request."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from livestack import Stack
from livestack.env import REPO_ROOT
from support import run_mcplint

from mcplint import __version__

DATA_FILE = REPO_ROOT / "policies" / "data" / "hosted-client.yaml"
DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
# Which kind of request (hosted-client.yaml `requests`) each probe step is.
KINDS = {"mcp-discover": "mcp", "mcp-post": "mcp", "invalid-token": "mcp",
         "prm": "discovery", "as-metadata": "discovery",
         "registration": "registration", "registration-delete": "registration",
         "token-refresh": "token"}
FAST = ["--timeout", "4", "--deadline", "30"]


def unsourced(node: Any, path: str = "") -> list[str]:
    """Where a fact (a mapping with `value`) or an observation lacks a source or a date."""
    problems = []
    if isinstance(node, dict):
        if "value" in node:
            sources = node.get("sources")
            if not isinstance(sources, list) or not sources:
                problems.append(f"{path}: no sources")
            for index, source in enumerate(sources or []):
                problems += _observation(source, f"{path}/sources/{index}")
        for key, value in node.items():
            if key != "sources":
                problems += unsourced(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            problems += unsourced(item, f"{path}/{index}")
    return problems


def _observation(entry: Any, path: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{path}: not a mapping"]
    problems = []
    if not isinstance(entry.get("source"), str) or not entry["source"].strip():
        problems.append(f"{path}: no source")
    if not DATE.match(str(entry.get("seen", ""))):
        problems.append(f"{path}: no date (seen: YYYY-MM or YYYY-MM-DD)")
    return problems


def client() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text())
    return data


def test_every_fact_has_a_source_and_a_date() -> None:
    data = client()
    problems = unsourced(data)
    for index, entry in enumerate(data["first_contacts"]):
        problems += _observation(entry, f"/first_contacts/{index}")
    assert not problems, problems
    # Every kind of request says what it sends, each as a sourced fact.
    for kind, request in data["requests"].items():
        assert "value" in request["user_agent"], kind


def test_the_check_finds_a_fact_without_a_source_or_a_date() -> None:
    data = client()
    broken = copy.deepcopy(data)
    del broken["requests"]["discovery"]["accept"]["sources"]
    broken["budget_seconds"]["token"]["sources"][0]["seen"] = "recently"
    assert unsourced(broken) == ["/requests/discovery/accept: no sources",
                                 "/budget_seconds/token/sources/0: no date (seen: YYYY-MM or YYYY-MM-DD)"]


def _described(data: dict[str, Any], kind: str) -> set[str]:
    request = data["requests"][kind]
    names = {"user-agent", "accept", *(h.lower() for h in request["headers"]["value"])}
    for contact in data["contacts"].values():  # the first contacts' protocol headers
        if kind == "mcp" and "headers" in contact:
            names |= {h.lower() for h in contact["headers"]["value"]}
    return names | {h.lower() for h in data["mcplint_headers"]}


def _requests(stack: Stack, folder: Path, scenario: str, *args: str) -> list[dict[str, Any]]:
    path = stack.write_manifest(scenario, folder)
    record = folder / "record.json"
    completed = run_mcplint("verify", str(path), "--record", str(record), *FAST, *args,
                            *stack.cli_args(scenario))
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    requests: list[dict[str, Any]] = json.loads(record.read_text())["verifications"][0]["requests"]
    return requests


@pytest.mark.parametrize("scenario", ["healthy", "open-healthy"])
def test_every_header_sent_is_described(livestack: Stack, tmp_path: Path, scenario: str) -> None:
    data = client()
    requests = _requests(livestack, tmp_path, scenario, "--probe-registration")
    steps = {r["step"] for r in requests}
    assert {"mcp-discover", "mcp-post"} <= steps
    if scenario == "healthy":  # every kind of request the probes make
        assert set(KINDS) <= steps, steps
    for request in requests:
        kind = KINDS[request["step"]]  # a step no kind describes fails here
        sent = {name.lower(): value for name, value in request["request"]["headers"]}
        assert set(sent) <= _described(data, kind), (request["step"], sorted(sent))
        described = data["requests"][kind]
        assert sent["user-agent"] == described["user_agent"]["value"].format(version=__version__)
        assert sent["accept"] == described["accept"]["value"]
        for name, value in described["headers"]["value"].items():
            assert sent[name.lower()] == value, (request["step"], name)
    discover = next(r for r in requests if r["step"] == "mcp-discover")
    sent = {name.lower(): value for name, value in discover["request"]["headers"]}
    assert sent["mcp-protocol-version"] == "2026-07-28"
    assert sent["mcp-method"] == "server/discover"
    post = next(r for r in requests if r["step"] == "mcp-post")
    assert "mcp-method" not in {name.lower() for name, _ in post["request"]["headers"]}


def test_user_agent_replaces_every_agent(livestack: Stack, tmp_path: Path) -> None:
    requests = _requests(livestack, tmp_path, "healthy", "--user-agent", "acme-check/1")
    assert len({r["step"] for r in requests}) >= 5
    for request in requests:
        agents = [v for n, v in request["request"]["headers"] if n.lower() == "user-agent"]
        assert agents == ["acme-check/1"], request["step"]


def test_the_discovery_agent_meets_the_bot_rule_keyed_on_it(livestack: Stack,
                                                            tmp_path: Path) -> None:
    """The bot-management variant blocks only the discovery calls' agent: mcplint sees it
    because its discovery requests carry that agent; with another agent they pass."""
    path = livestack.write_manifest("edge-bot-discovery", tmp_path)
    args = ["verify", str(path), "--format", "json", *FAST,
            *livestack.cli_args("edge-bot-discovery")]
    report = json.loads(run_mcplint(*args).stdout)
    (finding,) = [f for f in report["findings"] if f["code"] == "MCP307"]
    assert "/.well-known/oauth-protected-resource" in finding["evidence"]["url"]
    other = json.loads(run_mcplint(*args, "--user-agent", "acme-check/1").stdout)
    assert "MCP307" not in {f["code"] for f in other["findings"]}
