"""Progress of the live requests on a terminal (stderr), for a person watching a slow run.

Each finished request is one line, written whole with a single write(2): the probing
threads, and the two processes `verify` runs (mcplint/live/worker.py), share the
terminal, and a line written in pieces would let another's land in the middle. Below the
finished lines, one status line says what is still being waited for and for how long; it
is rewritten in place (carriage return, erase line) each second and cut to the
terminal's width, since a wrapped line could not be rewritten. Nothing of this is
written when stderr is not a terminal (LiveOptions.progress).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from mcplint.escape import visible  # what servers sent must not steer the terminal

ERASE = "\r\x1b[K"  # back to the line's start, erase to its end
TICK_SECONDS = 1.0  # how often the status line is redrawn
SHOW_AFTER_SECONDS = 0.5  # a request that answers sooner never shows in the status line


class Progress:
    """The requests in flight and the lines written so far, for one process."""

    def __init__(self, fd: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        self._fd = fd
        self._clock = clock
        self._lock = threading.Lock()
        self._flight: dict[int, tuple[str, float]] = {}  # token -> (what, since)
        self._next = 0
        self._status = False  # whether a status line is on the screen
        self._ticker: threading.Thread | None = None

    def line(self, text: str) -> None:
        """Write one whole line (above the status line, which is redrawn under it)."""
        with self._lock:
            self._write(ERASE + visible(text) + "\n" + self._status_text())

    def begin(self, what: str) -> int:
        """A request is on its way; `what` names it (what it is for, method and URL)."""
        with self._lock:
            self._next += 1
            self._flight[self._next] = (visible(what), self._clock())
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="mcplint-progress",
                                                daemon=True)
                self._ticker.start()
            return self._next

    def end(self, token: int, text: str) -> None:
        """The request is done: its line, whole, and the status line of those left."""
        with self._lock:
            self._flight.pop(token, None)
            self._write(ERASE + visible(text) + "\n" + self._status_text())

    def _tick(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            with self._lock:
                if not self._flight:
                    self._ticker = None
                    if self._status:
                        self._write(ERASE)
                    return
                self._write(ERASE + self._status_text())

    def _status_text(self) -> str:
        """'  waiting 12 s (and 2 more) for token endpoint: POST https://auth.acme.com/token',
        or ''; cut to the terminal's width, the URL's end first."""
        now = self._clock()
        waiting = sorted((since, what) for what, since in self._flight.values()
                         if now - since >= SHOW_AFTER_SECONDS)
        self._status = bool(waiting)
        if not waiting:
            return ""
        since, what = waiting[0]  # the longest wait leads
        more = f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else ""
        text = f"  waiting {now - since:.0f} s{more} for {what}"
        try:
            columns = os.get_terminal_size(self._fd).columns
        except OSError:
            columns = 0
        width = (columns or 80) - 1  # a terminal that tells no size (0): the usual 80
        return text if len(text) <= width else text[: max(width - 1, 0)] + "…"

    def _write(self, text: str) -> None:
        if not text:
            return
        data = text.encode("utf-8", "replace")
        try:
            while data:  # one write(2) in practice; the loop only finishes a partial one
                data = data[os.write(self._fd, data):]
        except OSError:  # the terminal went away: progress is not worth failing for
            pass


_SHARED: list[Progress] = []


def shared() -> Progress:
    """The process's one Progress (every verification's threads write to it)."""
    if not _SHARED:
        _SHARED.append(Progress())
    return _SHARED[0]
