"""The metadata documents a manifest declares: inline mappings, or files beside it.

A file is read only if it is a regular file inside the manifest's repository (or its folder,
outside a repository), and its content is never echoed: a wrong path could point at a
secrets file. Whatever stops a document being used is one MCP008 at the manifest field.
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

from mcplint.load.yamlsource import Loaded, Problem, load_file

NAMES = ("resource_metadata", "authorization_server_metadata")


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Declared:
    """A usable document: where it comes from and how to locate things in it."""

    def __init__(self, name: str, data: dict[str, Any], file: str | None,
                 loaded: Loaded | None = None) -> None:
        self.name = name
        self.data = data
        self.file = file  # display path of its own file, None when inline
        self.loaded = loaded  # its parse, for files


class DocumentsResult:
    def __init__(self, documents: dict[str, Declared] | None = None,
                 unreadable: list[tuple[str, str]] | None = None,
                 problems: list[tuple[Declared, Problem]] | None = None) -> None:
        self.documents = {} if documents is None else documents
        self.unreadable = [] if unreadable is None else unreadable  # (manifest pointer, why)
        self.problems = [] if problems is None else problems  # in document files


def boundary(manifest: Path) -> Path:
    """The repository holding the manifest (the folder with .git), else its own folder."""
    return _boundary(manifest.resolve().parent)


@lru_cache(maxsize=1024)
def _boundary(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _read(reference: str, manifest: Path, root: Path) -> tuple[Loaded | None, Path, str | None]:
    """(parsed document, path, None) or (None, path, why it cannot be used)."""
    shown = f"'{reference}'"
    if "\x00" in reference:  # no file name can hold one; the OS refuses to look it up
        return None, manifest.parent, ("the path contains a NUL character; no file has "
                                       "such a name")
    try:
        path = (manifest.parent / reference).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        return None, manifest.parent, (f"{shown} cannot be resolved to a file (a loop of "
                                       "symbolic links?)")
    if path != root and root not in path.parents:
        scope = "the repository" if (root / ".git").exists() else "the manifest's folder"
        return None, path, (f"{shown} resolves outside {scope}; mcplint reads metadata "
                            "documents only inside it")
    try:
        info = path.stat()
    except FileNotFoundError:
        return None, path, f"{shown} does not exist"
    except OSError as error:
        return None, path, f"{shown} cannot be read: {error.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return None, path, f"{shown} is not a regular file"
    try:
        return load_file(path), path, None
    except OSError as error:
        return None, path, f"{shown} cannot be read: {error.strerror}"


def load(manifest_data: Any, manifest: Path) -> DocumentsResult:
    result = DocumentsResult()
    auth = manifest_data.get("auth") if isinstance(manifest_data, dict) else None
    if not isinstance(auth, dict):
        return result
    root = boundary(manifest)
    for name in NAMES:
        reference = auth.get(name)
        pointer = f"/auth/{name}"
        if isinstance(reference, dict):
            result.documents[name] = Declared(name, reference, None)
            continue
        if not isinstance(reference, str) or not reference:
            continue
        loaded, path, why = _read(reference, manifest, root)
        if loaded is None:
            result.unreadable.append((pointer, why or "cannot be read"))
            continue
        if loaded.fatal:
            problem = loaded.problems[-1]
            result.unreadable.append((pointer, f"'{reference}' is not usable JSON or YAML (line "
                                      f"{problem.span.line}, column {problem.span.column}: "
                                      f"{problem.message})"))
            continue
        if not isinstance(loaded.data, dict):
            result.unreadable.append((pointer, f"'{reference}' does not hold a JSON/YAML object "
                                      f"(a mapping) but {_kind(loaded.data)}"))
            continue
        declared = Declared(name, loaded.data, _display(path), loaded)
        result.documents[name] = declared
        result.problems += [(declared, p) for p in loaded.problems]
    return result


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {list: "a list", str: "a string"}.get(type(value), "a single value")
