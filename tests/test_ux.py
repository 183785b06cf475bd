"""What a person sees (issue 16): findings that lead somewhere (order, one root cause, a
closing hint), YAML errors shown at their line, rule names that offer a did-you-mean,
colours readable on any background, report files with the usual mode."""

from __future__ import annotations

import os
import re
from pathlib import Path

from support import run_json, run_mcplint

from mcplint.findings import Location, make_finding
from mcplint.policy.catalog import load_builtin
from mcplint.results.order import WALK, arrange

GOOD = """\
version: 1
server:
  url: https://mcp.acme.com/mcp
auth:
  type: oauth
  issuer: https://auth.acme.com
  audience: https://mcp.acme.com/mcp
  registration: [dcr]
"""


def _finding(code: str, line: int, source: str = "live", severity: str | None = None):  # noqa: ANN202
    catalog = load_builtin()
    from mcplint.load.sourcemap import Span

    finding = make_finding(catalog.rules[code], f"{code} message",
                           Location("m.yaml", "/server/url", Span(line, 3, line, 9)), code,
                           source=source, manifest="m.yaml")
    return finding.with_(severity=severity) if severity else finding


def test_live_findings_lead_by_severity_then_the_clients_walk() -> None:
    rules = load_builtin().rules
    found = [_finding("MCP606", 2, severity="info"),  # token endpoint, an info
             _finding("MCP505", 3),                   # PKCE (AS metadata), an error
             _finding("MCP410", 4, severity="warning"),  # PRM, a warning
             _finding("MCP201", 9),                   # DNS, an error: the first step
             _finding("MCP007", 1, source="declared")]  # static: file order, after
    codes = [f.code for f in arrange(found, rules, live=True)]
    assert codes == ["MCP201", "MCP505", "MCP410", "MCP606", "MCP007"]
    # static findings (check) keep file:line order
    assert [f.code for f in arrange(found, rules, live=False)] == [
        "MCP007", "MCP606", "MCP505", "MCP410", "MCP201"]


def test_the_walk_covers_every_live_rule() -> None:
    live = {r.code for r in load_builtin().rules.values() if "live" in r.modes}
    walked = {code for _, codes in WALK for code in codes}
    assert live - walked <= {"MCP310"}, sorted(live - walked)  # an undeclared host: no step


def test_a_trailing_slash_is_one_root_with_the_others_under_it() -> None:
    rules = load_builtin().rules
    root = _finding("MCP102", 4, source="declared")
    found = [_finding("MCP306", 4, severity="warning"), _finding("MCP201", 9),
             _finding("MCP407", 4), root]
    arranged = arrange(found, rules, live=True)
    assert [(f.code, f.root) for f in arranged] == [
        ("MCP201", ""), ("MCP102", ""), ("MCP407", root.fingerprint),
        ("MCP306", root.fingerprint)]


def test_text_ends_with_a_hint_to_explain_the_leading_finding(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(
        GOOD.replace("mcp.acme.com/mcp\nauth", "mcp.acme.com/mcp/\nauth"))
    completed = run_mcplint("check", cwd=tmp_path)
    lines = completed.stdout.splitlines()
    # a warning (MCP102) and notes (MCP310, info): the hint names the warning
    assert "MCP102 warning" in lines[0] and "MCP310 info" in completed.stdout
    assert lines[-1] == "What a rule checks and how to fix it: mcplint explain MCP102"


def test_json_names_the_root_cause(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(
        GOOD.replace("url: https://mcp.acme.com/mcp\n", "url: https://mcp.acme.com/mcp/\n")
        .replace("audience: https://mcp.acme.com/mcp", "audience: https://mcp.acme.com/mcp/"))
    _, report = run_json("check", cwd=tmp_path)
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code["MCP601"]["caused_by"] == by_code["MCP102"]["fingerprint"]
    assert by_code["MCP102"]["caused_by"] is None
    completed = run_mcplint("check", cwd=tmp_path)
    lines = completed.stdout.splitlines()
    root = next(i for i, line in enumerate(lines) if " MCP102 " in line)
    assert " MCP601 " in lines[root + 1] and lines[root + 1].startswith("mcp-connector.yaml:")
    assert lines[root + 1].endswith("(same cause as MCP102 above)")


def test_yaml_errors_show_the_line_and_a_caret(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(
        'version: 1\nserver:\n  url: "https://mcp.acme.com/mcp\n  transport: http\n')
    completed = run_mcplint("check", cwd=tmp_path)
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("mcp-connector.yaml:3:8: MCP001 error yaml-invalid: ")
    assert "starts at line 3, column 8" in lines[0]
    assert lines[1] == '    3 |   url: "https://mcp.acme.com/mcp'
    assert lines[2] == "      |        ^"
    assert "  Invalid manifest: 1  (MCP001)" in lines
    assert "hygiene" not in completed.stdout


def test_invalid_manifest_is_named_in_the_summaries(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(GOOD + "extra: 1\n")
    completed = run_mcplint("check", cwd=tmp_path)
    assert "  Invalid manifest: 1  (MCP004)" in completed.stdout.splitlines()
    markdown = run_mcplint("check", "--format", "markdown", cwd=tmp_path).stdout
    assert "| Invalid manifest | 1 | MCP004 |" in markdown


def test_rule_names_offer_a_did_you_mean_everywhere(tmp_path: Path) -> None:
    explain = run_mcplint("explain", "prm-resource-mismatc")
    assert explain.returncode == 2
    assert "(did you mean 'prm-resource-mismatch'?)" in explain.stderr
    assert "(did you mean 'MCP407'?)" in run_mcplint("explain", "MPC407").stderr
    (tmp_path / "mcp-connector.yaml").write_text(GOOD)
    select = run_mcplint("check", "--select", "url-not-htps", cwd=tmp_path)
    assert select.returncode == 2 and "(did you mean 'url-not-https'?)" in select.stderr
    (tmp_path / ".mcplint.yaml").write_text("severity:\n  prm-resourse-mismatch: warning\n")
    config = run_mcplint("check", cwd=tmp_path)
    assert config.returncode == 2
    assert "(did you mean 'prm-resource-mismatch'?)" in config.stderr
    (tmp_path / ".mcplint.yaml").unlink()
    (tmp_path / "mcp-connector.yaml").write_text(
        GOOD.replace("type: oauth", "type: oauth  # mcplint: disable=url-not-htps -- test"))
    _, report = run_json("check", cwd=tmp_path)
    (unknown,) = [f for f in report["findings"] if f["code"] == "MCP006"]
    assert "(did you mean 'url-not-https'?)" in unknown["message"]


def test_explain_takes_a_bare_number() -> None:
    completed = run_mcplint("explain", "407")
    assert completed.returncode == 0
    assert completed.stdout.startswith("MCP407 prm-resource-mismatch\n")


def test_colours_avoid_blue(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(
        GOOD.replace("mcp.acme.com/mcp\nauth", "mcp.acme.com/mcp/\nauth"))
    completed = run_mcplint("check", "--color", "always", cwd=tmp_path)
    assert "MCP310" in completed.stdout and "\x1b[" in completed.stdout  # an info, coloured
    # 34 is blue, 94 bright blue: dark on a dark background
    assert not re.search(r"\x1b\[(?:[0-9;]*;)?(?:34|94)m", completed.stdout), completed.stdout


def test_output_files_get_the_usual_mode(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(GOOD)
    old = os.umask(0o022)
    try:
        completed = run_mcplint("check", "--format", "json", "--output", "out/report.json",
                                cwd=tmp_path)
    finally:
        os.umask(old)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out" / "report.json").stat().st_mode & 0o777 == 0o644


def _not_verified_report():  # noqa: ANN202
    from mcplint.findings import FileResult
    from mcplint.report import Report

    catalog = load_builtin()
    found = _finding("MCP606", 7, severity="info").with_(outcome="not-verified")
    problem = _finding("MCP305", 4)
    return Report("verify", [FileResult("m.yaml", [problem, found], frozenset({"MCP606"}))],
                  catalog)


def test_not_verified_findings_are_valid_sarif_and_json_report() -> None:
    import io
    import json

    import jsonschema
    from support import REPO_ROOT, valid_sarif

    from mcplint.report import writer

    def render(name: str) -> str:
        out = io.StringIO()
        writer(name)(_not_verified_report(), out)
        return out.getvalue()

    results = valid_sarif(render("sarif"))["runs"][0]["results"]
    assert [(r["ruleId"], r.get("kind", "fail"), r["level"]) for r in results] == [
        ("MCP305", "fail", "error"), ("MCP606", "open", "none")]
    document = json.loads(render("json"))
    schema = json.loads((REPO_ROOT / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["summary"]["findings"] == 1 and document["summary"]["not_verified"] == 1
    (file,) = document["files"]
    assert (file["findings"], file["not_verified"]) == (1, 1)
    assert [f["outcome"] for f in document["findings"]] == ["problem", "not-verified"]


def test_not_verified_never_fails_a_run_whatever_fail_on() -> None:
    from mcplint.commands.run import exit_code

    report = _not_verified_report()
    only = [r.__class__(r.path, [f for f in r.findings if f.not_verified], r.rules_run)
            for r in report.results]
    for fail_on in ("error", "warning", "info"):
        assert exit_code(only, fail_on) == 0
    assert exit_code(report.results, "error") == 1  # the problem beside it still fails
