"""mcplint in a real repository: a monorepo with manifests in several folders, run from a
subfolder as a CI step with `working-directory:` would. Reports name files relative to the
repository root, fingerprints do not depend on the folder, the baseline keeps what it holds,
and each manifest gets the config nearest to it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import REPO_ROOT, run_json, run_mcplint, valid_sarif, write_files

EXAMPLES = REPO_ROOT / "examples"
PRM = "public/.well-known/oauth-protected-resource.json"
ANNOTATION = re.compile(r"^::(error|warning|notice) file=([^,]+),line=\d+", re.M)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """billing/ (two manifests sharing their metadata documents), infra/docs/ and an empty
    tools/ folder to run from."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "broken", repo / "billing")
    shutil.copy(repo / "billing" / "mcp-connector.yaml",
                repo / "billing" / "staging.mcp-connector.yaml")
    shutil.copytree(EXAMPLES / "broken", repo / "infra" / "docs")
    (repo / "tools").mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def fingerprints(report: dict) -> list[tuple[str, str]]:
    return sorted((f["code"], f["fingerprint"]) for f in report["findings"])


def test_annotations_and_sarif_name_files_from_the_repository_root(monorepo: Path) -> None:
    tools = monorepo / "tools"
    completed = run_mcplint("check", "../billing", "../infra", "--format", "sarif",
                            "--output", "out.sarif", "--format", "github", cwd=tools)
    assert completed.returncode == 1, completed.stderr
    files = set(m.group(2) for m in ANNOTATION.finditer(completed.stdout))
    assert "billing/mcp-connector.yaml" in files and "infra/docs/mcp-connector.yaml" in files
    assert f"billing/{PRM}" in files and f"infra/docs/{PRM}" in files
    assert all(not f.startswith("..") for f in files), files
    sarif = valid_sarif((tools / "out.sarif").read_text())
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == monorepo.resolve().as_uri() + "/"
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in run["results"] for loc in result["locations"]}
    assert uris == files
    # the same under GitHub Actions, where the checkout is $GITHUB_WORKSPACE
    env = {"GITHUB_WORKSPACE": str(monorepo), "GITHUB_ACTIONS": "true"}
    again = run_mcplint("check", "../billing", "../infra", cwd=tools, env=env)
    assert set(m.group(2) for m in ANNOTATION.finditer(again.stdout)) == files


def test_a_shared_document_gives_one_annotation_naming_its_manifests(monorepo: Path) -> None:
    completed = run_mcplint("check", "billing", "--format", "github", cwd=monorepo)
    prm = [line for line in completed.stdout.splitlines() if f"file=billing/{PRM}," in line]
    assert len(prm) == len(set(prm)) >= 1, prm  # once, not once per manifest
    assert all("used by: billing/mcp-connector.yaml, billing/staging.mcp-connector.yaml"
               in line for line in prm), prm
    manifest_lines = [line for line in completed.stdout.splitlines()
                      if "file=billing/mcp-connector.yaml," in line]
    assert manifest_lines and not any("used by" in line for line in manifest_lines)
    sarif_report = valid_sarif(run_mcplint("check", "billing", "--format", "sarif",
                                           cwd=monorepo).stdout)
    shared = [r for r in sarif_report["runs"][0]["results"]
              if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
              == f"billing/{PRM}"]
    assert shared and all(r["properties"]["manifests"] == [
        "billing/mcp-connector.yaml", "billing/staging.mcp-connector.yaml"] for r in shared)
    fingerprints_seen = [r["partialFingerprints"]["mcplint/v1"] for r in shared]
    assert len(fingerprints_seen) == len(set(fingerprints_seen))


def test_a_fingerprint_is_the_same_from_any_folder(monorepo: Path) -> None:
    _, from_root = run_json("check", "billing", "infra", cwd=monorepo)
    _, from_tools = run_json("check", "../billing", "../infra", cwd=monorepo / "tools")
    _, from_inside = run_json("check", ".", cwd=monorepo / "infra" / "docs")
    _, reordered = run_json("check", "infra", "billing", cwd=monorepo)
    assert fingerprints(from_root) == fingerprints(from_tools) == fingerprints(reordered)
    inside = set(fingerprints(from_inside))
    assert inside and inside <= set(fingerprints(from_root))
    # text and json keep the paths as typed
    assert {f["path"] for f in from_tools["files"]} >= {"../billing/mcp-connector.yaml"}


# -- the baseline ---------------------------------------------------------------------------
def active(report: dict) -> list[str]:
    return sorted(f["code"] for f in report["findings"] if not f["suppression"])


def test_rewriting_for_one_manifest_keeps_the_others(monorepo: Path) -> None:
    run_mcplint("check", "--write-baseline", "baseline.json", cwd=monorepo)
    document = json.loads((monorepo / "baseline.json").read_text())
    for entry in document["findings"]:
        entry["reason"] = f"accepted for {entry['manifest']} (OPS-77)"
    (monorepo / "baseline.json").write_text(json.dumps(document))
    # rewritten from infra/ for its one manifest, as a team would after fixing its own
    manifest = monorepo / "infra" / "docs" / "mcp-connector.yaml"
    manifest.write_text(re.sub(r"\n *client_secret: .*", "", manifest.read_text()))
    completed = run_mcplint("check", ".", "--write-baseline", "../baseline.json",
                            cwd=monorepo / "infra")
    assert completed.returncode == 0, completed.stdout
    assert "kept" in completed.stderr  # billing's entries
    code, report = run_json("check", "--baseline", "baseline.json", cwd=monorepo)
    assert code == 0 and active(report) == [] and report["baseline"]["stale"] == 0
    reasons = {f["suppression"]["reason"] for f in report["findings"]}
    assert reasons == {f"accepted for {m} (OPS-77)" for m in (
        "billing/mcp-connector.yaml", "billing/staging.mcp-connector.yaml",
        "infra/docs/mcp-connector.yaml")}
    rewritten = json.loads((monorepo / "baseline.json").read_text())
    secrets = [e["manifest"] for e in rewritten["findings"] if e["code"] == "MCP007"]
    assert secrets == ["billing/mcp-connector.yaml", "billing/staging.mcp-connector.yaml"]
    assert len(rewritten["findings"]) == 41  # infra's fixed secret is gone, the rest kept


def test_a_baseline_written_by_the_release_before_still_hides_what_it_hid(
        monorepo: Path) -> None:
    """tests/data/baseline-v1-monorepo.json was written by mcplint at 1abd880 (format 1) for
    this fixture's manifests: `mcplint check billing infra --write-baseline`."""
    shutil.copy(REPO_ROOT / "tests" / "data" / "baseline-v1-monorepo.json",
                monorepo / "baseline.json")
    for args in (("infra", "billing"), ("billing", "infra"), ()):
        code, report = run_json("check", *args, "--baseline", "baseline.json", cwd=monorepo)
        assert code == 0 and active(report) == [] and report["baseline"]["stale"] == 0, args
        assert report["baseline"]["matched"] == 42
    code, report = run_json("check", ".", "--baseline", "../baseline.json",
                            cwd=monorepo / "billing")
    assert code == 0 and active(report) == []
    # the next write migrates it, and it still hides the same
    run_mcplint("check", "billing", "--write-baseline", "baseline.json", cwd=monorepo)
    document = json.loads((monorepo / "baseline.json").read_text())
    assert document["mcplint_baseline"] == 2 and len(document["findings"]) == 42
    code, report = run_json("check", "--baseline", "baseline.json", cwd=monorepo)
    assert code == 0 and report["baseline"] == {"file": "baseline.json", "matched": 42,
                                                "stale": 0}


def test_argument_order_changes_no_baseline_entry(monorepo: Path) -> None:
    run_mcplint("check", "billing", "infra", "--write-baseline", "one.json", cwd=monorepo)
    run_mcplint("check", "infra", "billing", "--write-baseline", "two.json", cwd=monorepo)
    assert (monorepo / "one.json").read_text() == (monorepo / "two.json").read_text()
    _, report = run_json("check", "billing/staging.mcp-connector.yaml", "--baseline", "one.json",
                         cwd=monorepo)
    assert active(report) == [] and report["baseline"]["stale"] == 0
