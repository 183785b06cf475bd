"""mcplint in a real repository: a monorepo with manifests in several folders, run from a
subfolder as a CI step with `working-directory:` would. Reports name files relative to the
repository root, fingerprints do not depend on the folder, the baseline keeps what it holds,
and each manifest gets the config nearest to it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import (
    REPO_ROOT,
    catalog_fixture,
    run_json,
    run_mcplint,
    valid_sarif,
    write_files,
)

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
    # infra's fixed secret is gone (MCP007, and MCP517 about the secret's auth method), the
    # rest kept
    gone = [e for e in document["findings"] if e["manifest"] == "infra/docs/mcp-connector.yaml"
            and e["code"] in ("MCP007", "MCP517")]
    assert len(gone) == 2 and len(rewritten["findings"]) == len(document["findings"]) - 2


def test_a_baseline_written_by_the_release_before_still_hides_what_it_hid(
        monorepo: Path) -> None:
    """tests/data/baseline-v1-monorepo.json was written by mcplint at 1abd880 (format 1) for
    this fixture's manifests: `mcplint check billing infra --write-baseline`."""
    shutil.copy(REPO_ROOT / "tests" / "data" / "baseline-v1-monorepo.json",
                monorepo / "baseline.json")
    # The documents as they were when it was written: examples/broken's AS metadata has since
    # dropped client_secret_post (to show MCP517), and a changed document is a new finding.
    for folder in ("billing", "infra/docs"):
        metadata = monorepo / folder / "deploy" / "openid-configuration.json"
        metadata.write_text(metadata.read_text().replace(
            '["client_secret_basic"]', '["client_secret_basic", "client_secret_post"]'))
    # What it hid stays hidden; only rules new in catalog 2 (MCP517 on examples/broken's
    # pre-registered client) can add findings.
    new_in_v2 = set(catalog_fixture(2)) - set(catalog_fixture(1))
    for args in (("infra", "billing"), ("billing", "infra"), ()):
        code, report = run_json("check", *args, "--baseline", "baseline.json", cwd=monorepo)
        assert set(active(report)) <= new_in_v2, args
        assert report["baseline"]["stale"] == 0 and report["baseline"]["matched"] == 42, args
    code, report = run_json("check", ".", "--baseline", "../baseline.json",
                            cwd=monorepo / "billing")
    assert set(active(report)) <= new_in_v2
    # the next write migrates it, and it still hides the same
    run_mcplint("check", "billing", "--write-baseline", "baseline.json", cwd=monorepo)
    document = json.loads((monorepo / "baseline.json").read_text())
    assert document["mcplint_baseline"] == 2
    code, report = run_json("check", "--baseline", "baseline.json", cwd=monorepo)
    assert code == 0 and report["baseline"] == {
        "file": "baseline.json", "matched": len(document["findings"]), "stale": 0}


def test_argument_order_changes_no_baseline_entry(monorepo: Path) -> None:
    run_mcplint("check", "billing", "infra", "--write-baseline", "one.json", cwd=monorepo)
    run_mcplint("check", "infra", "billing", "--write-baseline", "two.json", cwd=monorepo)
    assert (monorepo / "one.json").read_text() == (monorepo / "two.json").read_text()
    _, report = run_json("check", "billing/staging.mcp-connector.yaml", "--baseline", "one.json",
                         cwd=monorepo)
    assert active(report) == [] and report["baseline"]["stale"] == 0


# -- config per manifest --------------------------------------------------------------------
def codes_by_manifest(report: dict, cwd: Path, repo: Path) -> dict[str, set[str]]:
    """Active codes by manifest, named from the repository root."""
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if not finding["suppression"]:
            manifest = os.path.relpath(os.path.normpath(cwd / finding["manifest"]), repo)
            found.setdefault(manifest, set()).add(finding["code"])
    return found


def test_the_config_nearest_each_manifest_applies_from_any_folder(monorepo: Path) -> None:
    write_files(monorepo, {"infra/.mcplint.yaml": "ignore: [MCP3]\nfail-on: never\n"})
    for cwd, args in ((monorepo, ()), (monorepo, ("infra", "billing")),
                      (monorepo / "infra", (".", "../billing")),
                      (monorepo / "infra" / "docs", (".", "../../billing"))):
        code, report = run_json("check", *args, cwd=cwd)
        found = codes_by_manifest(report, cwd, monorepo)
        docs = found["infra/docs/mcp-connector.yaml"]
        assert docs and not any(c.startswith("MCP3") for c in docs), (cwd, args)
        assert "MCP301" in found["billing/mcp-connector.yaml"], (cwd, args)
        # fail-on is about the run: the config found from the current folder decides it
        assert code == (0 if "infra" in cwd.parts else 1), (cwd, args)


def test_extend_keeps_the_config_it_names(monorepo: Path) -> None:
    write_files(monorepo, {".mcplint.yaml": "severity: {url-not-canonical: info}\n",
                           "infra/.mcplint.yml": "ignore: [MCP3]\n"})
    _, report = run_json("check", cwd=monorepo)
    severities = {(f["manifest"], f["code"]): f["severity"] for f in report["findings"]}
    assert severities[("billing/mcp-connector.yaml", "MCP102")] == "info"
    assert severities[("infra/docs/mcp-connector.yaml", "MCP102")] == "warning"  # replaced
    write_files(monorepo, {"infra/.mcplint.yml": "extend: ../.mcplint.yaml\nignore: [MCP3]\n"})
    _, report = run_json("check", cwd=monorepo)
    severities = {(f["manifest"], f["code"]): f["severity"] for f in report["findings"]}
    assert severities[("infra/docs/mcp-connector.yaml", "MCP102")] == "info"
    assert not any(c.startswith("MCP3") for m, c in severities if m.startswith("infra/"))


@pytest.mark.parametrize(("files", "expected"), [
    ({"infra/.mcplint.yaml": "ignore: [MCP3]\n", "infra/.mcplint.yml": "ignore: [MCP4]\n"},
     "mcplint: error: infra/.mcplint.yaml and infra/.mcplint.yml: two config files in one "
     "folder; keep one\n"),
    ({"infra/.mcplint.yaml": "extend: ../../elsewhere.yaml\n"},
     "mcplint: error: infra/.mcplint.yaml:1: extend: ../../elsewhere.yaml is outside the "
     "repository; allowed: a config file inside it\n"),
    ({"infra/.mcplint.yaml": "extend: .mcplint.yaml\n"},
     "mcplint: error: infra/.mcplint.yaml:1: extend: .mcplint.yaml extends this file again "
     "(a cycle)\n"),
    ({".mcplint.yaml": "suppress:\n  - {file: a.json, code: MCP9999, reason: why}\n"},
     "mcplint: error: .mcplint.yaml:2: suppress[0]: 'MCP9999' is not a rule code or name "
     "(see `mcplint rules`)\n"),
])
def test_config_file_mistakes(monorepo: Path, files: dict[str, str], expected: str) -> None:
    write_files(monorepo, files)
    completed = run_mcplint("check", cwd=monorepo)
    assert completed.returncode == 2 and completed.stderr == expected, completed.stderr


def test_per_file_ignores_and_suppress_reach_into_documents(monorepo: Path) -> None:
    write_files(monorepo, {".mcplint.yaml": (
        f"per-file-ignores:\n  'billing/{PRM}': [MCP407]\n"
        "suppress:\n"
        "  - file: infra/docs/deploy/openid-configuration.json\n"
        "    pointer: /code_challenge_methods_supported\n"
        "    code: pkce-s256-not-advertised\n"
        "    reason: the AS moves to S256 in Q3 (SEC-12)\n")})
    _, report = run_json("check", cwd=monorepo)
    in_prm = {(f["manifest"], f["code"]) for f in report["findings"] if f["file"].endswith(PRM)}
    assert ("infra/docs/mcp-connector.yaml", "MCP407") in in_prm
    assert not any(m.startswith("billing/") and c == "MCP407" for m, c in in_prm)
    # the manifest's own MCP407 rule still ran: only the document's findings are ignored
    assert "MCP407" in next(f for f in report["files"]
                            if f["path"] == "billing/mcp-connector.yaml")["rules_run"]
    pkce = [f for f in report["findings"] if f["code"] == "MCP505"]
    assert {f["manifest"]: f["suppression"] for f in pkce} == {
        "billing/mcp-connector.yaml": None, "billing/staging.mcp-connector.yaml": None,
        "infra/docs/mcp-connector.yaml": {"kind": "config",
                                          "reason": "the AS moves to S256 in Q3 (SEC-12)"}}
    sarif = valid_sarif(run_mcplint("check", "--format", "sarif", cwd=monorepo).stdout)
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert [r["suppressions"][0]["justification"] for r in suppressed] == [
        "the AS moves to S256 in Q3 (SEC-12)"]


def test_shared_findings_are_merged_only_when_identical() -> None:
    from mcplint.findings import FileResult, Location, make_finding
    from mcplint.policy.catalog import load_builtin
    from mcplint.report import Report

    catalog = load_builtin()
    rule = catalog.rules["MCP407"]

    def found(manifest: str, **changes: object) -> object:
        finding = make_finding(rule, "resource mismatch", Location("prm.json", "/resource", None),
                               "https://x", manifest=manifest)
        return finding.with_(**changes)

    results = [FileResult("a.yaml", [found("a.yaml")]), FileResult("b.yaml", [found("b.yaml")]),
               FileResult("c.yaml", [found("c.yaml", severity="warning")]),
               FileResult("d.yaml", [found("d.yaml", suppression={"kind": "inline",
                                                                  "reason": "x"})])]
    distinct = Report("check", results, catalog).distinct()
    assert [manifests for _, manifests in distinct] == [["a.yaml", "b.yaml"], ["c.yaml"],
                                                        ["d.yaml"]]
