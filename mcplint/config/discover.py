"""Which manifests to check: the paths given, or every manifest below the current folder."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mcplint.errors import UsageError


class NoManifest(UsageError):
    """No manifest where some were expected: exit 2, unless the run allows none (the
    pre-commit hooks, in a repository that has none yet)."""

MANIFEST_GLOBS = ("mcp-connector.yaml", "mcp-connector.yml",
                  "*.mcp-connector.yaml", "*.mcp-connector.yml")


# Set by CI systems to the checkout: the folder their annotations and code scanning resolve
# paths against, even when a step runs in a subfolder.
ROOT_VARIABLES = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")


def report_root(given: str | None = None) -> Path:
    """The one folder reports name files relative to (and fingerprints hash paths from):
    --root, else the CI system's checkout, else the repository's top level (the nearest
    folder with `.git`, found without starting git), else the current folder."""
    if given:
        return Path(given).resolve()
    for variable in ROOT_VARIABLES:
        if os.environ.get(variable):
            return Path(os.environ[variable]).resolve()
    here = Path.cwd().resolve()
    return next((folder for folder in (here, *here.parents) if (folder / ".git").exists()),
                here)


def is_manifest_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, g) for g in MANIFEST_GLOBS)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in relative.parts[:-1])


def _git_files(folder: Path) -> list[Path] | None:
    """Tracked and untracked-but-not-ignored files, as git sees them; None outside git."""
    import subprocess

    try:
        completed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=folder, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    names = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [Path(n) for n in names if n]


def _walk(folder: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(current, name).relative_to(folder)


def find_manifests(folder: Path) -> list[Path]:
    """Manifests below `folder`, skipping hidden folders and what .gitignore ignores."""
    candidates = _git_files(folder)
    if candidates is None:
        candidates = list(_walk(folder))
    found = {folder / c for c in candidates if is_manifest_name(c.name) and not _hidden(c)}
    return sorted(p for p in found if p.is_file())


def printable(name: str) -> str:
    """A file name as reports show it: bytes that are not UTF-8 (which the OS hands over as
    lone surrogates) become \\xNN, so that every report can be encoded."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name decodes to
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return printable(str(path))
    return printable(str(path) if relative.startswith("..") else relative)


def excluded(path: str, globs: Iterable[str]) -> bool:
    """Whether a glob matches the path, a folder it is in, or (for a glob without a slash,
    as in .gitignore) any one of its parts."""
    parts = path.split("/")
    for glob in globs:
        glob = glob.rstrip("/")
        if fnmatch.fnmatch(path, glob) or fnmatch.fnmatch(path, glob + "/*"):
            return True
        if "/" not in glob and any(fnmatch.fnmatch(part, glob) for part in parts):
            return True
    return False


def select(paths: Iterable[str], exclude: tuple[str, ...] = (), force_exclude: bool = False,
           relative: Callable[[str], str] = os.path.normpath,
           must_exist: bool = True) -> list[tuple[Path, str]]:
    """(path, display name) of each manifest to check; a usage error when none is found.
    `relative` turns a display name into the path the exclude globs are matched against
    (the config's globs are relative to the config's folder)."""
    given = list(paths)
    chosen: list[tuple[Path, str]] = []
    for text in given or ["."]:
        path = Path(text)
        if text == "-":
            raise UsageError("'-' (standard input) is for `check - --stdin-filename PATH` alone")
        if path.is_dir():
            for found in find_manifests(path):
                shown = _display(found)
                if not excluded(relative(shown), exclude):
                    chosen.append((found, shown))
        elif path.is_file() or not must_exist:  # not must_exist: standard input, named as a file
            shown = printable(text) if given else _display(path)
            if not (force_exclude and excluded(relative(shown), exclude)):
                chosen.append((path, shown))
        elif path.exists():  # reading a FIFO would wait forever, /dev/zero never ends
            raise UsageError(f"{printable(text)}: not a regular file or folder (a device, FIFO "
                             "or socket is never read as a manifest)")
        else:
            raise UsageError(f"{printable(text)}: no such file or folder")
    if not chosen and not (given and force_exclude):
        where = ", ".join(map(printable, given)) if given else "the current folder"
        raise NoManifest(f"no manifest found in {where} (looked for "
                         f"{', '.join(MANIFEST_GLOBS)}, skipping hidden and git-ignored paths)")
    return chosen
