"""Live progress on a terminal (issue 16): `verify` under a pseudo-terminal, against a
deployment whose discovery documents answer slowly and concurrently: every progress line
is written whole (no request line of one thread inside another's), and the requests in
flight are shown with how long they have been waited for; nothing is written when stderr
is not a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

import yaml
from livestack import Proxy, Slow, Stack
from livestack.env import child_env, venv_script
from support import run_mcplint

from mcplint.live.progress import ERASE

SLOW = 2.5  # seconds each slow document takes: several status redraws while they wait
REQUEST = re.compile(r"  (GET|POST|HEAD) https://\S+ -> \S.* \(\d+ ms, [A-Za-z0-9 ,/.-]+\)")
WAITING = re.compile(r"  waiting \d+ s( \(and \d+ more\))? for [A-Za-z0-9 ,/.-]+: (GET|POST|HEAD) "
                     r"https://\S+")  # cut to the terminal's width: the URL's end goes
HEADER = re.compile(r"mcplint: verifying \S+ against the live endpoints")


def _slow_site(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A host whose PRM and both AS metadata candidates answer after SLOW seconds."""
    name = "slowdocs"
    host = f"{name}.{stack.catalog.custom_suffix}"
    base = f"https://{host}"
    metadata = {"issuer": base, "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token", "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"]}
    stack.static_site(name, {
        "/mcp": Proxy("mcp", issuer=base),
        "/.well-known/oauth-protected-resource/mcp": Slow(SLOW, {
            "resource": f"{base}/mcp", "authorization_servers": [base]}),
        "/.well-known/oauth-authorization-server": Slow(SLOW, metadata),
        "/.well-known/openid-configuration": Slow(SLOW, metadata),
    })
    manifest = {"version": 1, "server": {"url": f"{base}/mcp"},
                "auth": {"type": "oauth", "issuer": base, "audience": f"{base}/mcp",
                         "registration": ["dcr"]},
                "hosts": {host: {}}}
    return host, manifest


def _run_on_pty(args: list[str], timeout: float = 90) -> tuple[int, str, str]:
    """Run mcplint with stderr on a pseudo-terminal (120 columns); (code, stdout, tty)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([venv_script("mcplint"), *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=slave, env=child_env())
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(master)
    stdout, _ = process.communicate(timeout=10)
    return process.returncode, stdout.decode(), b"".join(chunks).decode()


def test_progress_lines_are_whole_and_show_the_requests_in_flight(livestack: Stack,
                                                                  tmp_path: Path) -> None:
    host, manifest = _slow_site(livestack)
    path = tmp_path / "mcp-connector.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    code, stdout, tty = _run_on_pty(["verify", str(path), "--timeout", "8",
                                     *livestack.cli_args(hosts=(host,))])
    assert code in (0, 1), stdout + tty
    segments = [part for line in tty.replace("\r\n", "\n").split("\n")
                for part in line.split(ERASE) if part]
    requests = [s for s in segments if REQUEST.fullmatch(s)]
    waiting = [s for s in segments if WAITING.fullmatch(s)]
    others = [s for s in segments if not (REQUEST.fullmatch(s) or WAITING.fullmatch(s)
                                          or HEADER.fullmatch(s))]
    assert others == [], others  # every piece is one whole line of one kind
    assert all(s.count("https://") == 1 for s in requests + waiting), segments
    slow_urls = {f"https://{host}/.well-known/oauth-protected-resource/mcp",
                 f"https://{host}/.well-known/oauth-authorization-server",
                 f"https://{host}/.well-known/openid-configuration"}
    finished = {s.split()[1] for s in requests}
    assert slow_urls <= finished, finished
    # while the slow documents were awaited, the status line said so, with its duration
    assert any("(and " in s for s in waiting), waiting
    assert any(int(s.split()[1]) >= 2 for s in waiting), waiting
    assert "\n" not in "".join(waiting)  # the status line is rewritten, never stacked
    # the report itself went to stdout, untouched by progress
    assert ERASE not in stdout and "waiting" not in stdout


def test_no_progress_when_stderr_is_not_a_terminal(livestack: Stack, tmp_path: Path) -> None:
    path = livestack.write_manifest("healthy", tmp_path)
    completed = run_mcplint("verify", str(path), *livestack.cli_args("healthy"))
    assert completed.returncode == 0
    assert completed.stderr == ""


def test_probe_prints_its_target_and_steps_first(livestack: Stack) -> None:
    url = f"https://{livestack.host('mcp')}/mcp"
    code, stdout, tty = _run_on_pty(["probe", url, "--timeout", "8",
                                     *livestack.cli_args("healthy")])
    assert code == 0, stdout + tty
    first, second = [p for p in tty.replace("\r\n", "\n").split("\n") if p][:2]
    assert first.replace(ERASE, "") == f"mcplint probe {url}"
    assert second.replace(ERASE, "").startswith(
        "  steps: Public DNS, Reachability and TLS, Redirects")
    assert REQUEST.search(tty)  # then the requests, as they end
