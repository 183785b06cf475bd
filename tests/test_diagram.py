"""The Markdown report's Mermaid diagram is the hosted client's walk (issue 16): requests
in the dependency order of the discovery chain (not the order answers came back in),
human labels, each host only from the step where the client learns of it, a failing
note naming what was expected and what came back; and every diagram of the live
scenarios parses with Mermaid's own parser (tests/mermaid, pinned, installed by
tests/livestack/install.sh)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from livestack import Stack
from support import REPO_ROOT, run_mcplint

from mcplint.facts import steps
from mcplint.findings import FileResult
from mcplint.report.markdown import sequence_diagram

MERMAID = REPO_ROOT / "tests" / "mermaid"
ARROW = re.compile(r"^\s*C->>(H\d+): (GET|POST) \S+ \((?P<label>[^)]*)\)$")
CREATE = re.compile(r"^\s*create participant (H\d+) as (\S+)$")
# One scenario failing at each step of the walk, and the healthy one.
SCENARIOS = ("healthy", "redirect-cross-host", "edge-cloudflare-block", "endpoint-404",
             "challenge-none", "prm-missing", "prm-resource-slash", "prm-html",
             "prm-issuer-slash", "as-missing", "as-no-s256", "as-issuer-slash", "token-500",
             "token-invalid-request", "tls-wrong-cert", "dns-nxdomain")
FAST = ["--timeout", "4", "--deadline", "30"]


def mermaid_errors(diagrams: list[str]) -> list[str | None]:
    """Mermaid's parser on each diagram: None when accepted, else its error."""
    node = shutil.which("node")
    assert node, "node is not installed: run tests/livestack/install.sh"
    assert (MERMAID / "node_modules" / "mermaid").is_dir(), \
        "mermaid is not installed: run tests/livestack/install.sh"
    completed = subprocess.run([node, "parse.mjs"], cwd=MERMAID, input=json.dumps(diagrams),
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def diagram_of(markdown: str) -> str:
    block = markdown.split("```mermaid\n", 1)[1]
    return block.split("\n```", 1)[0]


def walk(diagram: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(the step labels in arrow order, (alias, host) of each participant as created)."""
    labels, created = [], []
    for line in diagram.splitlines():
        if (arrow := ARROW.match(line)) is not None:
            labels.append(arrow["label"])
        elif (create := CREATE.match(line)) is not None:
            created.append((create[1], create[2]))
    return labels, created


def test_walk_order_is_the_dependency_order_not_the_completion_order() -> None:
    """Requests as verify records them, in the order their answers came back (the AS
    metadata, asked for at once from the manifest's issuer, before the PRM)."""
    def request(number: int, step: str, url: str, started: float) -> dict[str, object]:
        host = url.split("/")[2]
        return {"id": number, "step": step, "method": "GET", "url": url, "host": host,
                "status": 200, "error": None, "started_ms": started, "elapsed_ms": 5.0}

    requests = [
        request(2, "as-metadata", "https://auth.acme.com/.well-known/oauth-authorization-server", 1),
        request(1, "mcp-post", "https://mcp.acme.com/mcp", 0),
        request(5, "token-refresh", "https://auth.acme.com/token", 40),
        request(4, "invalid-token", "https://mcp.acme.com/mcp", 20),
        request(3, "prm", "https://mcp.acme.com/.well-known/oauth-protected-resource/mcp", 30),
    ]
    live = {"requests": requests,
            "prm": {"found": True, "document": {"authorization_servers": ["https://auth.acme.com"]}},
            "as": {"found": True, "document": {"token_endpoint": "https://auth.acme.com/token"}}}
    result = FileResult("m.yaml", live=live)
    labels, created = walk("\n".join(sequence_diagram(result)))
    assert labels == [steps.label(s) for s in ("mcp-post", "prm", "as-metadata",
                                               "token-refresh", "invalid-token")]
    assert labels[1] == "protected resource metadata"
    # the AS host joins only at the AS metadata step, after the PRM named it
    assert created == [("H1", "mcp.acme.com"), ("H2", "auth.acme.com")]


@pytest.fixture(scope="module")
def diagrams(livestack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """verify --format markdown of each scenario: its diagram."""
    found = {}
    for scenario in SCENARIOS:
        folder = tmp_path_factory.mktemp(scenario)
        path = folder / "mcp-connector.yaml"
        path.write_text(yaml.safe_dump(livestack.manifest(scenario), sort_keys=False))
        completed = run_mcplint("verify", str(path), "--format", "markdown", *FAST,
                                *livestack.cli_args(scenario), timeout=120)
        assert completed.returncode in (0, 1), completed.stderr
        found[scenario] = diagram_of(completed.stdout)
    return found


EXTRA = "not part of the client's walk"


def test_live_diagrams_follow_the_chains_dependency_order(livestack: Stack,
                                                         diagrams: dict[str, str]) -> None:
    known = list(steps.LABELS.values())
    for scenario, diagram in diagrams.items():
        walked, _, extra = diagram.partition(EXTRA)
        for part in (walked, extra):  # mcplint's own requests, if any, come apart, after
            labels, _ = walk(part)
            assert all(label in known for label in labels), (scenario, labels)
            ranks = [known.index(label) for label in labels]
            assert ranks == sorted(ranks), (scenario, labels)
        labels, created = walk(walked)
        assert labels[0].startswith("first contact"), (scenario, labels)  # either generation
        # the client knows the MCP server's host; any other joins only after an answer
        # (the protected resource metadata, the AS metadata) has named it
        assert created[0][1] == livestack.scenario(scenario).mcp_host, (scenario, created)
        lines = walked.splitlines()
        for number, line in enumerate(lines):
            if (create := CREATE.match(line)) and create[1] != "H1":
                before = "\n".join(lines[:number])
                assert re.search(r"\((protected resource|authorization server) metadata\)\n"
                                 r"\s*H\d+--(>>|x)C: 200", before), (scenario, diagram)
    # a walk that stops at the first contact: the manifest's issuer is mcplint's, apart
    assert EXTRA in diagrams["redirect-cross-host"]
    assert "auth." not in diagrams["redirect-cross-host"].partition(EXTRA)[0]
    assert EXTRA not in diagrams["healthy"]


def test_the_failing_note_names_what_was_expected_and_what_came_back(
        livestack: Stack, diagrams: dict[str, str]) -> None:
    notes = [line for line in diagrams["prm-resource-slash"].splitlines() if "Note over" in line]
    (note,) = notes
    url = livestack.scenario("prm-resource-slash").server_url
    assert "MCP407" in note and f"{url}/#34;" in note and f"{url}#34;" in note, note
    assert all("Note over" not in line for line in diagrams["healthy"].splitlines())


def test_every_diagram_parses_with_mermaids_own_parser(diagrams: dict[str, str]) -> None:
    names = list(diagrams)
    errors = mermaid_errors([diagrams[name] for name in names])
    assert {n: e for n, e in zip(names, errors) if e} == {}
    # the parser does reject what is not a diagram: the check is not vacuous
    assert mermaid_errors(["sequenceDiagram\n    C->>: x\n"])[0]


def test_hostile_text_still_parses() -> None:
    """What servers sent (errors, hosts) is escaped: the diagram stays a diagram."""
    hostile = "reset; <b>#1</b> | `x` {y} \"q\" %% end\nNote over C: z"
    requests = [{"id": 1, "step": "mcp-post", "method": "POST", "url": "https://mcp.acme.com/mcp",
                 "host": "mcp.acme.com", "status": None, "error": hostile, "started_ms": 0,
                 "elapsed_ms": 3}]
    diagram = "\n".join(sequence_diagram(FileResult("m.yaml", live={"requests": requests})))
    assert mermaid_errors([diagram_of(diagram + "\n")]) == [None], diagram


def test_mermaid_is_pinned() -> None:
    package = json.loads((MERMAID / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["dependencies"]["mermaid"])
    lock = json.loads((MERMAID / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/mermaid"]["version"] == package["dependencies"]["mermaid"]
    assert Path(MERMAID / "parse.mjs").is_file()
