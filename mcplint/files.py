"""Writing the files a user asked for (reports, baselines, --record) so that no reader,
and no run that is interrupted, ever sees half of one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: Path, render: Callable[[IO[str]], None]) -> None:
    """Write via a temporary file in the same folder, so readers never see half a report.
    The folder is created if needed (`--output reports/mcplint.sarif` in a fresh CI job)."""
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False,
                                         prefix=f".{path.name}.", suffix=".tmp")
    try:
        with handle:
            # mkstemp's 600 would make a report unreadable to the rest of a CI job: the
            # file gets the mode any new file gets (666 less the umask, e.g. 644).
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            render(handle)
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (os.umask can
    only be read by setting it, which would race with threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
