"""The pre-commit hooks, run by the real `pre-commit` on a temporary git repository.

pre-commit installs the hook from a snapshot of this working tree (so uncommitted changes
are what is tested) into its own virtualenv, offline: pip sees only the wheelhouse
`scripts/test-all` builds in .cache/wheelhouse before the network goes away. The hook
environment is built once per session and reused by every scenario.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from livestack.env import REPO_ROOT, child_env, venv_script
from support import write_files

WHEELHOUSE = REPO_ROOT / ".cache" / "wheelhouse"
EXAMPLES = REPO_ROOT / "examples"
PRM = "public/.well-known/oauth-protected-resource.json"


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.email=test@example.invalid", "-c", "user.name=test",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree (tracked and untracked, not ignored) as a one-commit repository."""
    snapshot = tmp_path_factory.mktemp("hook-source")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO_ROOT)
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "-m", "snapshot", cwd=snapshot)
    return snapshot


@pytest.fixture(scope="session")
def precommit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's environment: its own home, pip offline on the wheelhouse only."""
    wheels = list(WHEELHOUSE.glob("*.whl"))
    assert wheels, (f"no wheels in {WHEELHOUSE}: scripts/test-all builds it (pre-commit "
                    "installs the hook offline from there)")
    return child_env({
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "PIP_CONFIG_FILE": os.devnull,  # no index or constraints from the machine's config
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELHOUSE),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "PATH": f"{Path(venv_script('pre-commit')).parent}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    })


@pytest.fixture
def repo(tmp_path: Path, hook_source: Path) -> Iterator[Path]:
    """A git repository with a healthy connector and a pre-commit config using our hooks,
    committed."""
    rev = _git("rev-parse", "HEAD", cwd=hook_source).strip()
    shutil.copytree(EXAMPLES / "healthy", tmp_path / "connectors" / "docs")
    write_files(tmp_path, {
        "README.md": "# Our connectors\n",
        ".pre-commit-config.yaml": (f"repos:\n  - repo: {hook_source}\n    rev: {rev}\n"
                                    "    hooks:\n      - id: mcplint\n      - id: mcplint-files\n")})
    _git("init", "-q", cwd=tmp_path)
    _git("add", "-A", cwd=tmp_path)
    _git("commit", "-q", "-m", "healthy connector", cwd=tmp_path)
    yield tmp_path


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_script("pre-commit"), *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def outcome(completed: subprocess.CompletedProcess[str], hook_name: str) -> str:
    """Passed, Failed or Skipped, from pre-commit's status line for the hook."""
    for line in completed.stdout.splitlines():
        if line.startswith(hook_name + "..."):
            return line.rsplit(".", 1)[-1].split(")")[-1].strip()
    raise AssertionError(f"no status line for {hook_name}:\n{completed.stdout}\n{completed.stderr}")


def break_manifest(repo: Path) -> Path:
    manifest = repo / "connectors" / "docs" / "mcp-connector.yaml"
    manifest.write_text(manifest.read_text().replace("url: https://mcp.acme.com/mcp",
                                                     "url: https://mcp.acme.com/mcp/"))
    return manifest


def test_try_repo_fails_a_broken_manifest_with_located_findings(
        repo: Path, hook_source: Path, precommit_env: dict[str, str]) -> None:
    """`pre-commit try-repo`, as a hook author tries a hook: on the staged change."""
    _git("add", str(break_manifest(repo)), cwd=repo)
    failed = pre_commit(repo, precommit_env, "try-repo", str(hook_source), "mcplint")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert outcome(failed, "mcplint") == "Failed"
    assert re.search(r"^connectors/docs/mcp-connector\.yaml:\d+:\d+: MCP102 warning "
                     r"url-not-canonical: ", failed.stdout, re.M), failed.stdout
    assert "MCP407 error prm-resource-mismatch" in failed.stdout  # the PRM no longer matches


def test_a_broken_manifest_fails_the_commit_and_a_healthy_one_passes(
        repo: Path, precommit_env: dict[str, str]) -> None:
    """The hooks installed as git's pre-commit hook stop `git commit`, or let it through."""
    pre_commit(repo, precommit_env, "install").check_returncode()
    before = _git("rev-parse", "HEAD", cwd=repo)
    _git("add", str(break_manifest(repo)), cwd=repo)
    commit = subprocess.run(["git", "commit", "-m", "move the endpoint"], cwd=repo,
                            env=precommit_env, capture_output=True, text=True, timeout=240,
                            check=False)
    assert commit.returncode == 1, commit.stdout + commit.stderr
    assert re.search(r"^connectors/docs/mcp-connector\.yaml:\d+:\d+: MCP102 warning",
                     commit.stderr, re.M), commit.stderr  # git hooks write to stderr
    assert f"connectors/docs/{PRM}:2:3: MCP407 error" in commit.stderr
    assert _git("rev-parse", "HEAD", cwd=repo) == before  # nothing was committed
    manifest = repo / "connectors" / "docs" / "mcp-connector.yaml"
    manifest.write_text((EXAMPLES / "healthy" / "mcp-connector.yaml").read_text()
                        + "# reviewed by the platform team\n")
    _git("add", str(manifest), cwd=repo)
    commit = subprocess.run(["git", "commit", "-m", "review note"], cwd=repo,
                            env=precommit_env, capture_output=True, text=True, timeout=240,
                            check=False)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert re.search(r"^mcplint\.+Passed$", commit.stderr, re.M), commit.stderr


def test_a_change_to_a_referenced_document_reruns_the_check(
        repo: Path, precommit_env: dict[str, str]) -> None:
    prm = repo / "connectors" / "docs" / PRM
    prm.write_text(prm.read_text().replace('"resource": "https://mcp.acme.com/mcp"',
                                           '"resource": "https://mcp.acme.com"'))
    _git("add", str(prm), cwd=repo)  # only the JSON document changes, not the manifest
    completed = pre_commit(repo, precommit_env, "run", "mcplint")
    assert outcome(completed, "mcplint") == "Failed", completed.stdout
    assert f"connectors/docs/{PRM}:2:" in completed.stdout and "MCP407" in completed.stdout
    _git("checkout", "--", ".", cwd=repo)
    _git("reset", "-q", cwd=repo)
    (repo / "README.md").write_text("# Our connectors, reviewed\n")
    _git("add", "README.md", cwd=repo)
    skipped = pre_commit(repo, precommit_env, "run", "mcplint")
    assert skipped.returncode == 0 and outcome(skipped, "mcplint") == "Skipped"


def test_an_excluded_manifest_is_not_checked(repo: Path, precommit_env: dict[str, str]) -> None:
    write_files(repo, {".mcplint.yaml": "exclude: [legacy]\n",
                       "legacy/old/mcp-connector.yaml": "version: 1\nserver: [\n"})
    _git("add", "-A", cwd=repo)
    for hook in ("mcplint", "mcplint-files"):
        completed = pre_commit(repo, precommit_env, "run", hook)
        assert completed.returncode == 0, (hook, completed.stdout + completed.stderr)
    # the same broken file outside the excluded folder fails both hooks
    write_files(repo, {"connectors/old/mcp-connector.yaml": "version: 1\nserver: [\n"})
    _git("add", "-A", cwd=repo)
    for hook in ("mcplint", "mcplint-files"):
        completed = pre_commit(repo, precommit_env, "run", hook)
        assert completed.returncode == 1, (hook, completed.stdout)
        assert "connectors/old/mcp-connector.yaml:3:1: MCP001" in completed.stdout
        assert "legacy/" not in completed.stdout


def test_the_hooks_file_matches_the_spec() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"mcplint", "mcplint-files", "mcplint-verify"}
    # --allow-no-manifest since issue 15: a repository without manifests passes the hooks
    assert hooks["mcplint"]["entry"] == "mcplint check --allow-no-manifest"
    assert hooks["mcplint"]["pass_filenames"] is False
    assert set(hooks["mcplint"]["types_or"]) == {"yaml", "json"}
    assert hooks["mcplint-files"]["entry"] == "mcplint check --force-exclude"
    assert hooks["mcplint-files"]["pass_filenames"] is True
    assert hooks["mcplint-verify"]["entry"] == "mcplint verify --allow-no-manifest"
    assert hooks["mcplint-verify"]["stages"] == ["manual"]


def test_a_repository_without_manifests_passes_the_hook(
        tmp_path: Path, hook_source: Path, precommit_env: dict[str, str]) -> None:
    rev = _git("rev-parse", "HEAD", cwd=hook_source).strip()
    write_files(tmp_path, {
        "README.md": "# Not a connector yet\n", "ci/settings.yaml": "stage: build\n",
        ".pre-commit-config.yaml": (f"repos:\n  - repo: {hook_source}\n    rev: {rev}\n"
                                    "    hooks:\n      - id: mcplint\n")})
    _git("init", "-q", cwd=tmp_path)
    _git("add", "-A", cwd=tmp_path)
    completed = pre_commit(tmp_path, precommit_env, "run", "--all-files", "--verbose")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outcome(completed, "mcplint") == "Passed"
    assert "no manifest found in the current folder" in completed.stdout
    assert "nothing to check" in completed.stdout
    from support import run_mcplint

    direct = run_mcplint("check", cwd=tmp_path)  # a CI job without the flag still fails
    assert direct.returncode == 2 and "no manifest found" in direct.stderr
