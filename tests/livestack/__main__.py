"""Run the stack by hand: ``cd tests && python -m livestack [SCENARIO]``.

Prints the ports and mcplint's options for the scenario (default: healthy), then
keeps the stack up until Ctrl-C. Useful to poke at a scenario with curl, e.g.
``curl --cacert CA --connect-to mcp.mcplint-stack.com:443:127.0.0.1:PORT https://mcp.mcplint-stack.com/mcp``.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import tempfile
from pathlib import Path

from .catalog import STATIC_KEY, STATIC_KEY_ENV
from .stack import Stack


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m livestack", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="healthy")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="livestack-") as directory:
        stack = Stack(Path(directory))
        if options.list:
            for scenario in stack.scenarios.values():
                print(f"{scenario.id:32} {' '.join(scenario.rules) or '-':16} {scenario.summary}")
            stack.stop()
            return 0
        with stack:
            scenario = stack.scenario(options.scenario)
            print(f"stack in {directory}; ports: {stack.ports}")
            print(f"scenario {scenario.id}: {scenario.summary}")
            command = "mcplint verify " + shlex.join(stack.cli_args(scenario))
            if scenario.auth == "static-headers":  # the API key reaches the server only when sent
                command = (f"{STATIC_KEY_ENV}={STATIC_KEY} {command} --send-credentials "
                           f"--credential-env {STATIC_KEY_ENV}")
            print(command)
            print("Ctrl-C stops the stack.", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
