"""Helpers shared by the tests: run the installed `mcplint` as a user would, lint text
in-process, and read the catalog fixture (tests/data/catalog-v*.json)."""

from __future__ import annotations

import json
import re
import resource
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from livestack.env import REPO_ROOT, child_env, venv_script

DATA = REPO_ROOT / "tests" / "data"
CATALOG_VERSION = 2  # the catalog fixture the built-in policies must match
MARKER = re.compile(r"#\s*<-\s*([A-Z]+[0-9]{3})")
MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB of address space for each mcplint child


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_mcplint(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with the network guard, in bounded memory."""
    return subprocess.run(
        [venv_script("mcplint"), *args], cwd=cwd, env=child_env(env), capture_output=True,
        text=True, timeout=timeout, preexec_fn=_limit_memory, check=False)


def run_json(*args: str, cwd: Path | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    completed = run_mcplint(*args, "--format", "json", cwd=cwd, **kwargs)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def marked_lines(text: str, code: str) -> set[int]:
    """Lines of an example marked `# <- CODE`."""
    return {number for number, line in enumerate(text.splitlines(), start=1)
            if (m := MARKER.search(line)) and m.group(1) == code}


def catalog_fixture(version: int = CATALOG_VERSION) -> dict[str, dict[str, Any]]:
    """The rule catalog's public interface as the requirements state it: code -> {code, name,
    severity, modes, profiles, symptom}. Written by hand, never generated from the policies."""
    rules = json.loads((DATA / f"catalog-v{version}.json").read_text(encoding="utf-8"))["rules"]
    return {rule["code"]: rule for rule in rules}


class GivenLiveFacts:
    """Live verification replaced by given live facts (lint.LiveProbes)."""

    def __init__(self, live: Mapping[str, Any]) -> None:
        self.live = live

    def begin(self, *_: Any) -> None:
        pass

    def start(self, *_: Any) -> Callable[[], dict[str, Any]]:
        return lambda: dict(self.live)


def lint_folder(folder: Path, manifest: str, files: Mapping[str, str] | None = None,
                live: Mapping[str, Any] | None = None, **settings: Any) -> list[Any]:
    """Write a manifest (and files beside it) and check it in-process; the findings.
    With `live` facts (as `mcplint verify` gathers them), the live rules judge them too."""
    import os

    from mcplint.config.settings import Settings
    from mcplint.lint import Linter
    from mcplint.policy.catalog import load_builtin

    write_files(folder, {"mcp-connector.yaml": manifest, **(files or {})})
    previous = Path.cwd()
    os.chdir(folder)  # paths are displayed relative to the current folder
    try:
        linter = Linter(load_builtin(), Settings(**settings),
                        mode="static" if live is None else "live",
                        live=None if live is None else GivenLiveFacts(live))
        result = linter.lint(Path("mcp-connector.yaml"), "mcp-connector.yaml")
    finally:
        os.chdir(previous)
    return result.findings


def valid_sarif(text: str) -> dict[str, Any]:
    """Parse a SARIF report and validate it against the official 2.1.0 schema (OASIS sarif-spec,
    sarif-2.1/schema/, kept in tests/data)."""
    import jsonschema

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    document = json.loads(text)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return document  # type: ignore[no-any-return]


class ScriptedServer:
    """Answers every request of a connection with `answer(connection)`, on loopback."""

    def __init__(self, answer: Callable[[socket.socket], bool | None]) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            try:
                while connection.recv(65536):
                    self.requests += 1
                    if self.answer(connection) is False:
                        return
            except OSError:
                return

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.sock.close()
