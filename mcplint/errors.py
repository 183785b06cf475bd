"""The errors any layer may raise, and the exit codes the command line ends with.

Only `cli.py` turns them into an exit: each error carries the one line the user reads.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # no finding at or above --fail-on
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad options, config or policy, or an internal error: one line on stderr
    NO_NETWORK = 3  # verify/probe: no resolver answered; this machine's network is at fault
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class UsageError(ValueError):
    """Bad options or configuration: exit code 2, with this one-line message."""


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the problem."""
