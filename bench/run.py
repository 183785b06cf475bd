#!/usr/bin/env python3
"""mcplint's benchmark: everything side by side, in one run.

    .venv/bin/python bench/run.py            # all measurements
    .venv/bin/python bench/run.py --quick    # fewer repetitions

(.venv is the one `scripts/test-all` installs: the latency measurement starts the live test
stack, whose peers need the test extras, nginx, dnsmasq and oidc-provider.)

It builds its own virtual environment (bench/.venv) with mcplint installed from this
checkout *as a user gets it* (a wheel, bytecode compiled at install, as pip does for
yamllint and check-jsonschema), then measures:

1. cold `mcplint check` of examples/healthy against `yamllint` and `check-jsonschema`
   (with schemas/mcp-connector.schema.json) on the same file: median wall time of
   repeated runs, each a new process; targets: <= 1.5x yamllint, < 0.5x check-jsonschema;
2. one `mcplint check` over 1,000 generated manifests (with their metadata documents):
   wall time and peak memory; target: < 2 s;
3. `mcplint verify` of the healthy live test stack (loopback only) with 100 ms added to every
   HTTP response, against the floor: the longest chain of dependent requests times the delay
   plus one TLS handshake per host on it, mcplint's own start-up (`mcplint --version`)
   subtracted; target: within 1.3x of the floor.

No cache of previous results is used: every run is a new process reading the files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"
EXAMPLE = ROOT / "examples" / "healthy" / "mcp-connector.yaml"
SCHEMA = ROOT / "schemas" / "mcp-connector.schema.json"


def bin_(name: str) -> str:
    return str(VENV / "bin" / name)


def setup() -> None:
    """A venv with mcplint (from a wheel of this checkout), yamllint and check-jsonschema."""
    if not (VENV / "bin" / "python").exists():
        venv.create(VENV, with_pip=True)
        _pip("install", "yamllint", "check-jsonschema", str(ROOT))
    _pip("install", "--force-reinstall", "--no-deps", str(ROOT))


def _pip(*args: str) -> None:
    completed = subprocess.run([bin_("python"), "-m", "pip", "-q", *args], capture_output=True,
                               text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"pip {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")


def run_once(command: list[str], cwd: Path | None = None,
             env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, exit code) of one new process."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def cold_start(runs: int) -> tuple[list[str], float]:
    """The section's lines, and the median of `mcplint --version` (the machine's pace)."""
    commands = {
        "mcplint check": [bin_("mcplint"), "check", str(EXAMPLE)],
        "yamllint": [bin_("yamllint"), str(EXAMPLE)],
        "check-jsonschema": [bin_("check-jsonschema"), "--schemafile", str(SCHEMA), str(EXAMPLE)],
        "mcplint --version": [bin_("mcplint"), "--version"],
    }
    for name, command in commands.items():
        _, _, code = run_once(command)
        if code != 0:
            raise SystemExit(f"{name} failed on {EXAMPLE} (exit {code})")
    # Interleave the tools so a change in machine load affects all of them alike.
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(3):
        for command in commands.values():
            run_once(command)
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_once(command)[0])
    medians = {name: statistics.median(values) for name, values in samples.items()}
    mcplint, yamllint, checker = (medians["mcplint check"], medians["yamllint"],
                                  medians["check-jsonschema"])
    lines = [f"1. Cold start on {EXAMPLE.relative_to(ROOT)} (median of {runs} runs each)"]
    for name, value in medians.items():
        lines.append(f"   {name:<20} {value * 1000:7.1f} ms")
    lines.append(f"   mcplint / yamllint          {mcplint / yamllint:5.2f}x   (target <= 1.50x)"
                 f"  {'ok' if mcplint <= 1.5 * yamllint else 'MISSED'}")
    lines.append(f"   mcplint / check-jsonschema  {mcplint / checker:5.2f}x   (target <  0.50x)"
                 f"  {'ok' if mcplint < 0.5 * checker else 'MISSED'}")
    return lines, medians["mcplint --version"]


def generate(folder: Path, count: int) -> None:
    """`count` manifests: copies of the healthy example with their own host names, a
    third of them with problems (so findings are reported, as in a real repository)."""
    source = EXAMPLE.parent
    prm = (source / "public/.well-known/oauth-protected-resource.json").read_text()
    as_doc = (source / "deploy/openid-configuration.json").read_text()
    manifest = EXAMPLE.read_text()
    for index in range(count):
        target = folder / f"team{index:04d}"
        (target / "public/.well-known").mkdir(parents=True)
        (target / "deploy").mkdir()
        host = f"mcp{index}.acme.com"
        text = manifest.replace("mcp.acme.com", host).replace("acme-docs", f"acme-{index}")
        if index % 3 == 0:
            text = text.replace("160.79.104.0/21]", "160.79.104.0/22]").replace(
                "audience: https://" + host + "/mcp", "audience: https://" + host + "/mcp/")
        (target / "mcp-connector.yaml").write_text(text)
        (target / "public/.well-known/oauth-protected-resource.json").write_text(
            prm.replace("mcp.acme.com", host))
        (target / "deploy/openid-configuration.json").write_text(as_doc)


def many(count: int, runs: int) -> list[str]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        generate(folder, count)
        command = [bin_("mcplint"), "check", "--fail-on", "never", "-q", "."]
        results = [run_once(command, cwd=folder) for _ in range(runs)]
    elapsed = statistics.median(r[0] for r in results)
    peak = max(r[1] for r in results)
    return [f"2. One `mcplint check` over {count:,} manifests (+{2 * count:,} metadata "
            f"documents), median of {runs} runs",
            f"   wall time  {elapsed:6.2f} s   (target < 2 s)  {'ok' if elapsed < 2 else 'MISSED'}",
            f"   peak RSS   {peak / 1024:6.1f} MiB",
            f"   per manifest {elapsed / count * 1000:.2f} ms"]


DELAY_MS = 100
# The healthy verification's chains of dependent requests (tests/livestack "healthy"):
# POST /mcp (401) -> GET the PRM it names, both on the MCP host; and, concurrently since the
# manifest names the issuer, GET the AS metadata -> POST the token endpoint it names, both on
# the AS host. The invalid-token POST and DNS depend on nothing. Longest chain: 2 requests,
# one host (one TLS handshake).
CHAIN_REQUESTS, CHAIN_HOSTS = 2, 1


def _handshake_seconds(stack: object, host: str, runs: int = 15) -> float:
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(stack.ca_file))  # type: ignore[attr-defined]
    samples = []
    for _ in range(runs):
        with socket.create_connection(("127.0.0.1", stack.nginx_port)) as sock:  # type: ignore[attr-defined]
            started = time.perf_counter()
            with context.wrap_socket(sock, server_hostname=host):
                samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def verify_latency(runs: int, pace: float | None = None) -> list[str]:
    """Section 3; `pace` is section 1's --version median, to tell a slowed-down machine."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from livestack import Stack
        from livestack.env import child_env
    except ImportError as error:
        return [f"3. verify latency: skipped, the live stack cannot start here ({error}); "
                "run scripts/test-all once, then .venv/bin/python bench/run.py"]
    env = child_env()  # the network guard for mcplint's processes, as in the tests
    with tempfile.TemporaryDirectory() as temporary, Stack(Path(temporary)) as stack:
        manifest = stack.write_manifest("healthy", Path(temporary))
        verify = [bin_("mcplint"), "verify", str(manifest), "-q", "--fail-on", "never",
                  *stack.cli_args("healthy")]
        version = [bin_("mcplint"), "--version"]
        handshake = _handshake_seconds(stack, stack.host("mcp"))
        samples: dict[str, list[float]] = {"verify": [], "version": []}
        record = Path(temporary) / "record.json"
        with stack.delay(DELAY_MS):
            for _ in range(2):
                run_once(verify, env=env)
            for _ in range(runs):
                samples["verify"].append(run_once(verify, env=env)[0])
                samples["version"].append(run_once(version, env=env)[0])
            wall = run_once([*verify, "--record", str(record)], env=env)[0]
        timeline = _timeline(json.loads(record.read_text()), wall)
    verify_s = statistics.median(samples["verify"])
    version_s = statistics.median(samples["version"])
    floor = CHAIN_REQUESTS * DELAY_MS / 1000 + CHAIN_HOSTS * handshake
    own = verify_s - version_s
    return [f"3. `mcplint verify` of the healthy live stack, {DELAY_MS} ms added to every HTTP "
            f"response (median of {runs} runs)",
            f"   verify {verify_s * 1000:7.1f} ms - start-up (--version) {version_s * 1000:5.1f} ms"
            f" = {own * 1000:6.1f} ms",
            f"   floor  {CHAIN_REQUESTS} x {DELAY_MS} ms + {CHAIN_HOSTS} TLS handshake "
            f"({handshake * 1000:.1f} ms) = {floor * 1000:6.1f} ms",
            f"   ratio  {own / floor:5.2f}x   (target <= 1.30x)  "
            f"{'ok' if own <= 1.3 * floor else 'MISSED'}",
            _spread(samples, floor),
            *_pace(version_s, pace),
            *timeline]


def _pace(version_s: float, pace: float | None) -> list[str]:
    """A warning when the machine ran slower here than in section 1: only mcplint's own
    processor time stretches with it, not the network's, so the ratio rises."""
    if pace is None or version_s < 1.2 * pace:
        return []
    return [f"   note: the machine was slower during this section: --version took "
            f"{version_s * 1000:.0f} ms here, {pace * 1000:.0f} ms in section 1"]


def _spread(samples: dict[str, list[float]], floor: float) -> str:
    """How much the ratio moves with the machine's load: the quartiles of each run's
    verify minus the --version run next to it (a busy neighbour slows both alike)."""
    paired = [v - w for v, w in zip(samples["verify"], samples["version"])]
    low, _, high = statistics.quantiles(paired, n=4)
    return (f"   spread of the paired runs: ratio {low / floor:.2f}x to {high / floor:.2f}x "
            f"(quartiles of verify minus the --version run after it)")


def _timeline(record: dict[str, Any], wall: float) -> list[str]:
    """Where one recorded run's time went: before the probes, the probes, after them."""
    verification = record["verifications"][0]
    requests = verification["requests"]
    first = min(r["started_ms"] for r in requests)
    last = max(r["started_ms"] + r["elapsed_ms"] for r in requests)
    elapsed = verification["elapsed_ms"]
    return [f"   one run with --record ({wall * 1000:.0f} ms): outside the probes (start-up, "
            f"imports, reading the manifest before, judging and reporting after; the static "
            f"check runs during them) {wall * 1000 - elapsed:.0f} ms; probes {elapsed:.0f} ms "
            f"(first request at {first:.0f} ms, last answer at {last:.0f} ms)",
            *(f"     {r['step']:<14} {r['started_ms']:6.0f} -> {r['started_ms'] + r['elapsed_ms']:6.0f} ms"
              for r in sorted(requests, key=lambda r: r["started_ms"]))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    setup()
    runs = 10 if args.quick else 30
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"python {sys.version.split()[0]}")
    start_lines, pace = cold_start(runs)
    for line in start_lines + [""] + many(1000, 3 if args.quick else 5):
        print(line, flush=True)
    print()
    for line in verify_latency(5 if args.quick else 15, pace):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
