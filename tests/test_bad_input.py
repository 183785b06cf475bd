"""Bad input as a user meets it: each ends in a located finding (or a one-line error),
never a traceback, within bounded time and memory (each child runs with 1 GiB of address
space and a timeout)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support import run_mcplint

BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
       for i in range(8)]
) + "\n"


def _write(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


CASES = {
    "billion-laughs": (BOMB, "MCP003", 6),  # where the expansion passes the limit
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00", "MCP001", 1),
    "deep-flow": ("[" * 10_000 + "]" * 10_000, "MCP003", 1),
    "deep-block": ("".join("  " * i + "k:\n" for i in range(10_000)), "MCP003", 1),
    "python-tag": ("version: 1\nname: !!python/object/apply:os.system ['touch PWNED']\n"
                   "server: {url: 'https://mcp.acme.com/mcp'}\nauth: {type: none}\n", "MCP003", 2),
    "empty": ("", "MCP004", 1),
    "list": ("- version: 1\n- server: {}\n", "MCP004", 1),
    "scalar": ("just a string\n", "MCP004", 1),
    "syntax": ("version: 1\nserver:\n  url: [https://x\n", "MCP001", 3),
    "unknown-version": ("version: 2\nserver: {urll: x}\n", "MCP004", 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_located_finding(tmp_path: Path, case: str) -> None:
    content, code, line = CASES[case]
    _write(tmp_path / "mcp-connector.yaml", content)
    started = time.monotonic()
    completed = run_mcplint("check", "mcp-connector.yaml", "--format", "json", cwd=tmp_path,
                            timeout=30)
    elapsed = time.monotonic() - started
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr == ""
    report = json.loads(completed.stdout)
    codes = [(f["code"], f["line"]) for f in report["findings"]]
    assert (code, line) in codes, codes
    assert all(f["line"] and f["column"] for f in report["findings"])
    assert elapsed < 10, f"{case} took {elapsed:.1f} s"
    assert not (tmp_path / "PWNED").exists()


def test_unknown_version_is_a_single_finding(tmp_path: Path) -> None:
    _write(tmp_path / "mcp-connector.yaml", "version: 2\nserver: {urll: x}\n")
    completed = run_mcplint("check", "mcp-connector.yaml", cwd=tmp_path)
    assert completed.returncode == 1
    lines = [l for l in completed.stdout.splitlines() if l.startswith("mcp-connector.yaml:")]
    assert lines == ["mcp-connector.yaml:1:10: MCP004 error manifest-schema: version 2 is not a "
                     "manifest format this mcplint knows (it knows version 1); nothing else in "
                     "this file was checked"]


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "mcp-connector.yaml"
    with path.open("wb") as handle:
        handle.write(b"version: 1\n" + b"# padding\n" * (50 * 1024 * 1024 // 10))
    completed = run_mcplint("check", str(path), cwd=tmp_path, timeout=30)
    assert completed.returncode == 1 and completed.stderr == ""
    assert "MCP003 error yaml-unsafe: the file is 50.0 MiB, over the 1.0 MiB limit" in completed.stdout


def test_huge_referenced_document_is_one_mcp008(tmp_path: Path) -> None:
    (tmp_path / "prm.json").write_bytes(b"[" * 3_000_000)
    _write(tmp_path / "mcp-connector.yaml",
           "version: 1\nserver: {url: 'https://mcp.acme.com/mcp'}\n"
           "auth:\n  type: oauth\n  issuer: https://auth.acme.com\n"
           "  audience: https://mcp.acme.com/mcp\n  registration: [dcr]\n"
           "  resource_metadata: ./prm.json\n")
    completed = run_mcplint("check", "mcp-connector.yaml", "--format", "json", cwd=tmp_path)
    findings = json.loads(completed.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings if f["code"] == "MCP008"] == [("MCP008", 8)]


def test_directory_named_like_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mcp-connector.yaml").mkdir()
    completed = run_mcplint("check", "x", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.startswith("mcplint: error: no manifest found in x")
    assert len(completed.stderr.splitlines()) == 1


def test_unreadable_file_is_a_clean_error(tmp_path: Path) -> None:
    completed = run_mcplint("check", "missing.yaml", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr == "mcplint: error: missing.yaml: no such file or folder\n"
