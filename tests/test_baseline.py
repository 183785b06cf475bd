"""The baseline: recorded findings stay hidden after unrelated edits, and come back when
the value at fault changes; stale entries are counted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from support import REPO_ROOT, run_json, run_mcplint, write_files

BROKEN = REPO_ROOT / "examples" / "broken"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    shutil.copytree(BROKEN, tmp_path / "broken")
    return tmp_path


def active(report: dict) -> list[str]:
    return sorted(f["code"] for f in report["findings"] if not f["suppression"])


def test_write_then_hide(broken: Path) -> None:
    code, before = run_json("check", "broken", cwd=broken)
    assert code == 1 and active(before)
    completed = run_mcplint("check", "broken", "--write-baseline", "baseline.json", cwd=broken)
    assert completed.returncode == 0, completed.stdout  # recorded findings are hidden at once
    assert f"recorded {len(before['findings'])} findings in baseline.json" in completed.stderr
    code, after = run_json("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert code == 0 and active(after) == []
    assert {f["suppression"]["kind"] for f in after["findings"]} == {"baseline"}
    assert after["baseline"] == {"file": "baseline.json", "matched": len(before["findings"]),
                                 "stale": 0}
    schema = json.loads(run_mcplint("schema", "report").stdout)
    jsonschema.Draft202012Validator(schema).validate(after)
    # the fingerprints in reports are the same, with or without a baseline
    assert ([f["fingerprint"] for f in after["findings"]]
            == [f["fingerprint"] for f in before["findings"]])


def test_file_format_is_stable_and_line_free(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "one.json", cwd=broken)
    run_mcplint("check", "broken", "--write-baseline", "two.json", cwd=broken)
    one = (broken / "one.json").read_text()
    assert one == (broken / "two.json").read_text()
    document = json.loads(one)
    assert document["mcplint_baseline"] == 2  # format 2: keyed by manifest, file, fingerprint
    entry = next(e for e in document["findings"] if e["code"] == "MCP601")
    assert entry["file"] == "broken/mcp-connector.yaml"
    assert entry["pointer"] == "/auth/audience"
    assert entry["manifest"] == "broken/mcp-connector.yaml"
    assert set(entry) == {"code", "file", "pointer", "fingerprint", "manifest", "message"}
    assert '"line"' not in one


def test_survives_lines_inserted_above(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "baseline.json", cwd=broken)
    manifest = broken / "broken" / "mcp-connector.yaml"
    manifest.write_text("# owned by the billing team\n# reviewed 2025-01\n\n" + manifest.read_text())
    prm = broken / "broken" / "public" / ".well-known" / "oauth-protected-resource.json"
    prm.write_text("\n\n" + prm.read_text())
    code, report = run_json("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert code == 0 and active(report) == []
    assert report["baseline"]["stale"] == 0
    assert min(f["line"] for f in report["findings"] if f["file"].endswith(".yaml")) > 3


def test_a_changed_value_is_a_new_finding(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "baseline.json", cwd=broken)
    manifest = broken / "broken" / "mcp-connector.yaml"
    text = manifest.read_text()
    assert "audience: https://mcp.billing.acme.com/mcp/" in text
    manifest.write_text(text.replace("audience: https://mcp.billing.acme.com/mcp/",
                                     "audience: https://mcp.billing.acme.com/mcp//"))
    code, report = run_json("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert code == 1 and active(report) == ["MCP601"]
    assert report["baseline"]["stale"] == 1  # the old MCP601 entry matches nothing now
    completed = run_mcplint("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert "1 baseline entry no longer matches" in completed.stdout


def test_matches_from_another_folder(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "baseline.json", cwd=broken)
    code, report = run_json("check", ".", "--baseline", "../baseline.json", cwd=broken / "broken")
    assert code == 0 and active(report) == [] and report["baseline"]["stale"] == 0


def test_stale_counts_only_what_was_checked(broken: Path) -> None:
    shutil.copytree(BROKEN, broken / "other")
    run_mcplint("check", "broken", "other", "--write-baseline", "baseline.json", cwd=broken)
    _, report = run_json("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert report["baseline"]["stale"] == 0  # other/ was not checked: its entries are not stale
    _, report = run_json("check", "broken", "--select", "MCP1", "--baseline", "baseline.json",
                         cwd=broken)
    assert report["baseline"]["stale"] == 0  # rules that did not run are not stale either


def test_config_baseline_and_no_suppress(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "ci/baseline.json", cwd=broken)
    write_files(broken, {".mcplint.yaml": "baseline: ci/baseline.json\n"})
    assert run_mcplint("check", "broken", cwd=broken).returncode == 0
    assert run_mcplint("check", cwd=broken / "broken").returncode == 0  # from below
    code, report = run_json("check", "broken", "--no-suppress", cwd=broken)
    assert code == 1 and "baseline" not in report


def test_a_reason_written_in_the_file_is_reported(broken: Path) -> None:
    run_mcplint("check", "broken", "--write-baseline", "baseline.json", cwd=broken)
    document = json.loads((broken / "baseline.json").read_text())
    for entry in document["findings"]:
        entry["reason"] = "migrating in Q3 (OPS-77)"
    (broken / "baseline.json").write_text(json.dumps(document))
    _, report = run_json("check", "broken", "--baseline", "baseline.json", cwd=broken)
    assert {f["suppression"]["reason"] for f in report["findings"]} == {"migrating in Q3 (OPS-77)"}


def test_inline_suppressions_are_not_recorded(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": (
        "version: 1\nserver:\n  url: https://mcp.acme.com:8443/mcp  # mcplint: disable=MCP104 -- LB\n"
        "auth:\n  type: none\nhosts:\n  mcp.acme.com: {}\n")})
    run_mcplint("check", "--write-baseline", "b.json", cwd=tmp_path)
    assert json.loads((tmp_path / "b.json").read_text())["findings"] == []


@pytest.mark.parametrize(("content", "expected"), [
    (None, "mcplint: error: --baseline: nothing.json does not exist (record one with "
           "--write-baseline FILE)\n"),
    ("[]", "mcplint: error: nothing.json: not a baseline file of format 1 or 2"),
    ("{", "mcplint: error: nothing.json: not a baseline file ("),
    ('{"mcplint_baseline": 1, "findings": [{"code": "MCP104"}]}',
     "mcplint: error: nothing.json: findings[0] needs code, file, pointer and value strings\n"),
    ('{"mcplint_baseline": 2, "findings": [{"code": "MCP104", "file": "x.yaml"}]}',
     "mcplint: error: nothing.json: findings[0] needs code, file and fingerprint strings\n"),
])
def test_bad_baseline_files(broken: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (broken / "nothing.json").write_text(content)
    completed = run_mcplint("check", "broken", "--baseline", "nothing.json", cwd=broken)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    assert completed.stderr.startswith(expected), completed.stderr
