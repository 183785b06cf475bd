"""The logic of the GitHub Action (action.yml), in one script its steps call.

    run.py install   install this checkout of mcplint (the action's own version) into a
                     virtualenv under $RUNNER_TEMP, and export its path as $MCPLINT
    run.py run       run `mcplint check` (or verify) with the action's inputs (INPUT_*
                     variables): annotations in the log, the Markdown report in
                     $GITHUB_STEP_SUMMARY, a SARIF file for upload-sarif; the step's
                     outputs (sarif-file, exit-code) in $GITHUB_OUTPUT; mcplint's exit code

Only the standard library: it runs before mcplint is installed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ACTION = Path(__file__).resolve().parent.parent  # the action's checkout: mcplint's source
COMMANDS = ("check", "verify")


def install() -> int:
    target = Path(os.environ.get("RUNNER_TEMP") or "/tmp") / "mcplint-action-venv"
    venv.create(target, with_pip=True, clear=True)
    python = target / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(ACTION)], check=True)
    script = python.with_name("mcplint.exe" if os.name == "nt" else "mcplint")
    _append("GITHUB_ENV", f"MCPLINT={script}")
    version = subprocess.run([str(script), "--version"], check=True, text=True,
                             capture_output=True).stdout.strip()
    print(f"installed {version}")
    return 0


def command_line() -> list[str]:
    """mcplint's arguments from the action's inputs."""
    command = os.environ.get("INPUT_COMMAND") or "check"
    if command not in COMMANDS:
        raise SystemExit(f"mcplint action: command is '{command}'; allowed: check, verify")
    sarif = os.environ.get("INPUT_SARIF_FILE") or "mcplint.sarif"
    argv = [os.environ.get("MCPLINT") or "mcplint", command,
            *shlex.split(os.environ.get("INPUT_PATHS") or ""),
            "--format", "sarif", "--output", sarif, "--format", "github"]
    for name, option in (("INPUT_PROFILE", "--profile"), ("INPUT_FAIL_ON", "--fail-on")):
        if os.environ.get(name):
            argv += [option, os.environ[name]]
    return argv + shlex.split(os.environ.get("INPUT_ARGS") or "")


def run() -> int:
    argv = command_line()
    print("+ " + shlex.join(argv), flush=True)
    code = subprocess.run(argv, check=False).returncode
    sarif = os.environ.get("INPUT_SARIF_FILE") or "mcplint.sarif"
    _append("GITHUB_OUTPUT", f"sarif-file={sarif if Path(sarif).is_file() else ''}")
    _append("GITHUB_OUTPUT", f"exit-code={code}")
    return code


def _append(variable: str, line: str) -> None:
    """A line for one of the runner's files ($GITHUB_ENV, $GITHUB_OUTPUT), when set."""
    name = os.environ.get(variable)
    if name:
        with open(name, "a", encoding="utf-8") as file:
            file.write(line + "\n")


if __name__ == "__main__":
    steps = {"install": install, "run": run}
    if len(sys.argv) != 2 or sys.argv[1] not in steps:
        raise SystemExit("usage: run.py install|run")
    sys.exit(steps[sys.argv[1]]())
