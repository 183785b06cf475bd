"""Report formats: SARIF (against the official 2.1.0 schema), GitHub annotations and step
summary, JUnit XML, Markdown with the discovery-chain diagram; several in one run."""

from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from support import REPO_ROOT, run_json, run_mcplint, valid_sarif, write_files

from mcplint.findings import FileResult, Location, make_finding
from mcplint.load.sourcemap import Span
from mcplint.policy.catalog import load_builtin
from mcplint.report import Report, writer

ANNOTATION = re.compile(r"^::(?P<level>error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),"
                        r"col=(?P<col>\d+),endLine=\d+(,endColumn=\d+)?,"
                        r"title=(?P<code>MCP\d{3}) (?P<name>[a-z0-9-]+)::(?P<message>.+)$")
SUPPRESSED = ("version: 1\nserver:\n  url: https://mcp.acme.com:8443/mcp  "
              "# mcplint: disable=MCP104 -- LB moves to 443 in Q3\nauth:\n  type: none\n"
              "hosts:\n  mcp.acme.com: {}\n")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """broken/ and healthy/ examples, one manifest suppressed inline, a baseline for another."""
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    write_files(tmp_path, {"suppressed/mcp-connector.yaml": SUPPRESSED,
                           "baselined/mcp-connector.yaml": SUPPRESSED.split("  #")[0] + "\n"
                           + SUPPRESSED.split("Q3\n", 1)[1]})
    completed = run_mcplint("check", "baselined", "--write-baseline", "baseline.json",
                            cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    return tmp_path


ALL = ("examples", "suppressed", "baselined")


def test_sarif_is_valid_and_complete(workspace: Path) -> None:
    completed = run_mcplint("check", *ALL, "--baseline", "baseline.json", "--format", "sarif",
                            cwd=workspace)
    assert completed.returncode == 1
    document = valid_sarif(completed.stdout)
    (run,) = document["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"MCP104", "MCP301", "MCP601"} <= set(rules)
    rule = rules["MCP601"]
    assert rule["helpUri"].endswith("/docs/rules/MCP601.md")
    assert rule["defaultConfiguration"]["level"] == "error"
    assert "## How to fix it" in rule["help"]["markdown"] and rule["help"]["text"]
    assert rules["MCP104"]["defaultConfiguration"]["level"] == "error"  # catalog 2
    assert run["tool"]["driver"]["properties"]["catalogVersion"] == "2"
    _, report = run_json("check", *ALL, "--baseline", "baseline.json", cwd=workspace)
    assert len(run["results"]) == len(report["findings"])
    for result, finding in zip(run["results"], report["findings"]):
        assert result["ruleId"] == finding["code"]
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"] == {"mcplint/v1": finding["fingerprint"]}
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding["file"], "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": finding["line"],
                                      "startColumn": finding["column"],
                                      "endLine": finding["end_line"],
                                      "endColumn": finding["end_column"]}
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
            finding["pointer"]
    suppressions = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]:
                    r["suppressions"][0] for r in run["results"] if "suppressions" in r}
    assert suppressions["suppressed/mcp-connector.yaml"] == {
        "kind": "inSource", "status": "accepted", "justification": "LB moves to 443 in Q3"}
    assert suppressions["baselined/mcp-connector.yaml"]["kind"] == "external"
    assert "baseline" in suppressions["baselined/mcp-connector.yaml"]["justification"]
    assert run["properties"]["baseline"]["matched"] == 1


def test_sarif_levels_follow_severity_overrides(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": SUPPRESSED.split("  #")[0] + "\n"
                           + SUPPRESSED.split("Q3\n", 1)[1],
                           ".mcplint.yaml": "severity: {MCP104: info}\n"})
    completed = run_mcplint("check", "--format", "sarif", cwd=tmp_path)
    (result,) = valid_sarif(completed.stdout)["runs"][0]["results"]
    assert result["level"] == "note"


def test_junit_one_case_per_manifest_and_rule(workspace: Path) -> None:
    completed = run_mcplint("check", *ALL, "--baseline", "baseline.json", "--format", "junit",
                            cwd=workspace)
    root = ET.fromstring(completed.stdout)
    _, report = run_json("check", *ALL, "--baseline", "baseline.json", cwd=workspace)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {f["path"] for f in report["files"]}
    for file in report["files"]:
        names = [c.get("name").split()[0] for c in suites[file["path"]].iter("testcase")]
        assert names == sorted(file["rules_run"])  # one case per rule, none twice
        assert suites[file["path"]].get("tests") == str(len(names))
    broken = suites["examples/broken/mcp-connector.yaml"]
    failed = {c.get("name").split()[0] for c in broken.iter("testcase")
              if c.find("failure") is not None}
    errors = {f["code"] for f in report["findings"] if f["severity"] == "error"
              and f["manifest"] == "examples/broken/mcp-connector.yaml"}
    assert failed == errors  # warnings are listed, not failed, at the default --fail-on
    assert broken.get("failures") == str(len(errors))
    mcp301 = next(c for c in broken.iter("testcase") if c.get("name").startswith("MCP301"))
    assert "examples/broken/mcp-connector.yaml:29:7" in mcp301.find("failure").text
    quiet = [c for c in suites["suppressed/mcp-connector.yaml"].iter("testcase")
             if c.get("name").startswith("MCP104")]
    assert quiet[0].find("failure") is None
    assert "suppressed: LB moves to 443 in Q3" in quiet[0].find("system-out").text
    strict = run_mcplint("check", *ALL, "--format", "junit", "--fail-on", "warning",
                         "--baseline", "baseline.json", cwd=workspace)
    assert int(ET.fromstring(strict.stdout).get("failures")) > int(root.get("failures"))


def test_github_annotations_have_file_line_and_column(workspace: Path) -> None:
    completed = run_mcplint("check", "examples", "suppressed", "--format", "github",
                            cwd=workspace)
    _, report = run_json("check", "examples", "suppressed", cwd=workspace)
    commands = [line for line in completed.stdout.splitlines() if line.startswith("::")]
    active = [f for f in report["findings"] if not f["suppression"]]
    assert len(commands) == len(active)
    levels = {"error": "error", "warning": "warning", "info": "notice"}
    for command, finding in zip(commands, active):
        match = ANNOTATION.match(command)
        assert match, command
        assert (match["file"], int(match["line"]), int(match["col"])) == (
            finding["file"], finding["line"], finding["column"])
        assert match["level"] == levels[finding["severity"]]
        assert match["code"] == finding["code"]
    assert "Found 15 problems" in completed.stdout


def test_github_is_chosen_under_actions_and_fills_the_step_summary(workspace: Path) -> None:
    summary = workspace / "step-summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    completed = run_mcplint("check", "examples", cwd=workspace, env=env)
    assert completed.returncode == 1
    assert completed.stdout.startswith("::")
    text = summary.read_text()
    assert text.startswith("earlier step\n## ❌ mcplint check: 15 problems")  # appended
    assert "[MCP301](" in text
    explicit = run_mcplint("check", "examples", "--format", "text", cwd=workspace, env=env)
    assert not explicit.stdout.startswith("::")


def test_github_escapes_messages_and_properties() -> None:
    from mcplint.report.github import command

    rule = load_builtin().rules["MCP104"]
    finding = make_finding(rule, "100% broken\nsecond line", Location("a,b:c.yaml", "/x",
                                                                       Span(2, 3, 4, 5)), 1)
    # A line break inside a message is shown, escaped (issue 10: a message is one line;
    # only the evidence's own line break is the command's %0A).
    assert command(finding) == ("::error file=a%2Cb%3Ac.yaml,line=2,col=3,endLine=4,"
                                "title=MCP104 url-nonstandard-port::100%25 broken\\nsecond line")


def test_several_formats_in_one_run(workspace: Path) -> None:
    completed = run_mcplint(
        "check", *ALL, "--baseline", "baseline.json",
        "--format", "sarif", "--output", "out/report.sarif",
        "--format", "junit", "--output", "out/junit.xml",
        "--format", "markdown", "--output", "out/report.md",
        "--format", "json", "--output", "out/report.json",
        "--format", "text", cwd=workspace / ".." / workspace.name)
    assert completed.returncode == 1, completed.stderr
    assert "Found 15 problems" in completed.stdout  # the one format without a file
    out = workspace / "out"
    report = json.loads((out / "report.json").read_text())
    sarif = valid_sarif((out / "report.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == len(report["findings"])
    assert ET.parse(out / "junit.xml").getroot().tag == "testsuites"
    assert (out / "report.md").read_text().startswith("## ❌ mcplint check")
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.json", "report.md",
                                                      "report.sarif"]  # no temporary files


def test_healthy_reports(workspace: Path) -> None:
    for name in ("sarif", "junit", "markdown", "github"):
        completed = run_mcplint("check", "examples/healthy", "--format", name, cwd=workspace)
        assert completed.returncode == 0, completed.stderr
    markdown = run_mcplint("check", "examples/healthy", "--format", "markdown", cwd=workspace)
    assert markdown.stdout == "## ✅ mcplint check: no problems in 1 manifest\n\n"
    sarif = run_mcplint("check", "examples/healthy", "--format", "sarif", cwd=workspace)
    assert valid_sarif(sarif.stdout)["runs"][0]["results"] == []


# -- in-process: live results (the shape `verify` gives) and URL-located findings ----------
REQUESTS = [
    {"id": "1", "step": "mcp-post", "method": "POST", "url": "https://mcp.acme.com/mcp",
     "host": "mcp.acme.com", "status": 401, "error": None, "elapsed_ms": 41.2},
    {"id": "2", "step": "prm", "method": "GET",
     "url": "https://mcp.acme.com/.well-known/oauth-protected-resource/mcp",
     "host": "mcp.acme.com", "status": 200, "error": None, "elapsed_ms": 12.0},
    {"id": "3", "step": "as-metadata", "method": "GET",
     "url": "https://auth.acme.com/.well-known/oauth-authorization-server",
     "host": "auth.acme.com", "status": 403, "error": None, "elapsed_ms": 30.5},
    {"id": "4", "step": "registration", "method": "POST", "url": "https://auth.acme.com/register",
     "host": "auth.acme.com", "status": None, "error": "connection reset; <b>#1</b>",
     "elapsed_ms": 5.0},
]


def live_report(live: dict[str, Any] | None, file: str | None = "mcp-connector.yaml") -> Report:
    catalog = load_builtin()
    evidence = {"url": REQUESTS[2]["url"], "method": "GET", "status": 403}
    finding = make_finding(catalog.rules["MCP307"], "auth.acme.com answered 403 | <script>",
                           Location(file, "/auth/issuer", Span(6, 11, 6, 32) if file else None),
                           "x", source="live", evidence=evidence, manifest=file)
    result = FileResult(file or REQUESTS[0]["url"], [finding], frozenset({"MCP307", "MCP101"}),
                        live=live)
    return Report("verify", [result], catalog)


def render(format_name: str, report: Report) -> str:
    out = io.StringIO()
    writer(format_name)(report, out)
    return out.getvalue()


def test_markdown_diagram_of_the_discovery_chain() -> None:
    # Issue 16 changed the diagram: human step labels, each host created at its first
    # request (the client learns of it only then), the note names the finding's message.
    prm = {"found": True, "document": {"authorization_servers": ["https://auth.acme.com"]}}
    text = render("markdown", live_report({"requests": REQUESTS, "prm": prm}))
    diagram = text.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()
    assert diagram[:3] == ["sequenceDiagram", "    participant C as Hosted client",
                           "    create participant H1 as mcp.acme.com"]
    assert "    C->>H1: POST /mcp (first contact, initialize of 2025-11-25)" in diagram
    assert "    H1-->>C: 401, 41 ms" in diagram
    # the step the finding's evidence points at is marked, and so is the one that failed
    marked = diagram.index("        C->>H2: GET /.well-known/oauth-authorization-server "
                           "(authorization server metadata)")
    assert diagram[marked - 2].startswith("    rect ")
    assert diagram[marked - 1] == "        create participant H2 as auth.acme.com"
    assert diagram[marked + 1] == "        H2--xC: 403, 30 ms"
    assert diagram[marked + 2] == ("        Note over C,H2: ❌ MCP307: auth.acme.com answered "
                                   "403 | #60;script#62;")
    assert diagram[marked + 3] == "    end"
    reset = [line for line in diagram if line.startswith("        H2--xC: connection reset")]
    assert reset == ["        H2--xC: connection reset#59; #60;b#62;#35;1#60;/b#62;, 5 ms"]
    assert sum(1 for line in diagram if line.startswith("    rect ")) == 2
    # Shown literally, in a code span (issue 10), with the pipe escaped for the table.
    assert "\\| <script>`" in text
    assert "<script>" not in re.sub(r"(`+)(?:(?!\1).)+?\1", "", text)


def test_no_diagram_without_live_results() -> None:
    assert "mermaid" not in render("markdown", live_report(None))
    assert "mermaid" not in render("markdown", live_report({"requests": []}))


def test_url_located_findings_in_every_format() -> None:
    """probe's findings have no file: located at the URL."""
    report = live_report({"requests": REQUESTS}, file=None)
    sarif = valid_sarif(render("sarif", report))
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": REQUESTS[2]["url"]}}
    assert result["properties"]["evidence"]["status"] == 403
    github = render("github", report).splitlines()[0]
    assert github.startswith("::error title=MCP307 edge-block::https://auth.acme.com/")
    assert "evidence: GET https://auth.acme.com/.well-known/oauth-authorization-server -> 403" \
        in github.replace("%0A", "\n")
    junit = ET.fromstring(render("junit", report))
    assert [c.get("name") for c in junit.iter("testcase")] == ["MCP101 url-not-https",
                                                               "MCP307 edge-block"]
    assert render("markdown", report).count("rect ") == 2
