"""Inline suppressions, MCP005 (unused) and MCP006 (unknown), and --no-suppress."""

from __future__ import annotations

from pathlib import Path

from support import lint_folder, run_json, write_files

BASE = "version: 1\nserver:\n{comment}  url: https://mcp.acme.com:8443/mcp{trailing}\nauth:\n  type: none\nhosts:\n  mcp.acme.com: {{}}\n"


def text(comment: str = "", trailing: str = "") -> str:
    return BASE.format(comment=comment, trailing=trailing)


def active(findings: list) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in findings if not f.suppressed]


def test_unsuppressed(tmp_path: Path) -> None:
    assert active(lint_folder(tmp_path, text())) == [("MCP104", 3)]


def test_trailing_and_preceding_comments(tmp_path: Path) -> None:
    trailing = lint_folder(tmp_path, text(trailing="  # mcplint: disable=MCP104 -- LB move (OPS-1)"))
    assert active(trailing) == []
    (finding,) = trailing
    assert finding.suppression == {"kind": "inline", "reason": "LB move (OPS-1)"}
    above = lint_folder(tmp_path, text(comment="  # mcplint: disable=url-nonstandard-port\n"))
    assert active(above) == []


def test_suppression_two_lines_above_does_not_apply(tmp_path: Path) -> None:
    manifest = ("version: 1\n# mcplint: disable=MCP104 -- too far\nserver:\n"
                "  url: https://mcp.acme.com:8443/mcp\nauth:\n  type: none\nhosts:\n  mcp.acme.com: {}\n")
    assert active(lint_folder(tmp_path, manifest)) == [("MCP005", 2), ("MCP104", 4)]


def test_file_wide_suppression(tmp_path: Path) -> None:
    manifest = "# mcplint: disable-file=MCP104,MCP310 -- staging\n" + text()
    findings = lint_folder(tmp_path, manifest)
    # MCP310 ran and suppressed nothing: that code of the directive is unused.
    assert active(findings) == [("MCP005", 1)]
    assert "MCP310 (undeclared-host)" in findings[0].message or any(
        "MCP310" in f.message for f in findings if f.code == "MCP005")


def test_unknown_rule_in_suppression(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, text(trailing="  # mcplint: disable=MCP1O4"))
    assert active(findings) == [("MCP104", 3), ("MCP006", 3)]  # by column


def test_suppressing_a_live_rule_is_not_unused_in_check(tmp_path: Path) -> None:
    manifest = text(trailing="  # mcplint: disable=MCP104,MCP401 -- no challenge yet")
    assert active(lint_folder(tmp_path, manifest)) == []


def test_unused_only_counts_selected_rules(tmp_path: Path) -> None:
    manifest = text(trailing="  # mcplint: disable=MCP104")
    assert active(lint_folder(tmp_path, manifest, ignore=("MCP104",))) == []


def test_mcp005_can_itself_be_silenced_file_wide(tmp_path: Path) -> None:
    manifest = "# mcplint: disable-file=MCP005\n" + text(comment="  # mcplint: disable=MCP102\n")
    assert active(lint_folder(tmp_path, manifest)) == [("MCP104", 5)]


def test_no_suppress_audit_run(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": text(trailing="  # mcplint: disable=MCP104 -- ok")})
    _, report = run_json("check", "--fail-on", "warning", cwd=tmp_path)
    assert report["summary"]["suppressed"] == 1 and report["summary"]["findings"] == 0
    assert report["findings"][0]["suppression"] == {"kind": "inline", "reason": "ok"}
    code, report = run_json("check", "--fail-on", "warning", "--no-suppress", cwd=tmp_path)
    assert code == 1 and [f["code"] for f in report["findings"]] == ["MCP104"]
    assert report["findings"][0]["suppression"] is None


def test_directive_inside_a_string_is_not_a_comment(tmp_path: Path) -> None:
    manifest = text().replace("version: 1\n", "version: 1\nname: 'x#mcplint: disable=MCP104'\n")
    assert active(lint_folder(tmp_path, manifest)) == [("MCP104", 4)]
