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
            render(handle)
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
