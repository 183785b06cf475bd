"""The attacks, kept: every hostile input and hostile server that once made mcplint crash,
hang or judge wrong (issue 13, robustness) and the classes of the security issue (issue 10).

Each test names what it defends against. A crash is exit 2 with "internal error"; input
must end in a located finding (exit 0/1) or a one-line usage error (exit 2, one line, no
"internal error"), within bounded time. The fuzzing of the loader and `check` is in
test_fuzz.py; the hostile servers live in tests/livestack (hostile_server.py) and in
small loopback servers here.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ScriptedServer, run_mcplint

HEALTHY_TAIL = "server: {url: 'https://mcp.acme.com/mcp'}\nauth: {type: none}\n"


def _check_json(cwd: Path, *args: str, timeout: float = 30) -> dict:
    completed = run_mcplint("check", *args, "--format", "json", cwd=cwd, timeout=timeout)
    assert completed.returncode in (0, 1), completed.stderr
    assert "internal error" not in completed.stderr
    return json.loads(completed.stdout)


def _usage_error(completed) -> str:
    """The one line of a usage error (exit 2), never an internal error."""
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "internal error" not in lines[0] and "Traceback" not in completed.stderr
    return lines[0]


def _codes(report: dict) -> list[tuple[str, int]]:
    return [(f["code"], f["line"]) for f in report["findings"]]


# -- the manifest's YAML ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "code", "line"), [
    ("version: *a\n" + HEALTHY_TAIL, "MCP001", 1),  # an alias to no anchor at all
    ("&k version: 1\nname: *k\n" + HEALTHY_TAIL, None, None),  # an anchor on a key: valid YAML
    ("version: 1\nname: *k\n&k x: 1\n" + HEALTHY_TAIL, "MCP001", 2),  # used before it is defined
])
def test_yaml_aliases_without_a_value_anchor(tmp_path: Path, text: str, code: str | None,
                                             line: int | None) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(text)
    report = _check_json(tmp_path, "mcp-connector.yaml")
    if code is not None:
        assert (code, line) in _codes(report)
    else:
        assert all(f["code"] not in ("MCP001", "MCP003") for f in report["findings"])


def test_an_alias_to_a_key_anchor_reads_the_key_as_a_value() -> None:
    from mcplint.load.yamlsource import parse

    loaded = parse("&k version: 1\nname: *k\n")
    assert loaded.data == {"version": 1, "name": "version"} and not loaded.problems


# -- referenced metadata files --------------------------------------------------------------

def _manifest_naming(folder: Path, reference: str) -> Path:
    path = folder / "mcp-connector.yaml"
    path.write_text("version: 1\nserver: {url: 'https://mcp.acme.com/mcp'}\n"
                    "auth:\n  type: oauth\n  issuer: https://auth.acme.com\n"
                    "  audience: https://mcp.acme.com/mcp\n  registration: [dcr]\n"
                    f"  resource_metadata: {json.dumps(reference)}\n")
    return path


def test_a_metadata_path_with_a_nul_is_mcp008(tmp_path: Path) -> None:
    _manifest_naming(tmp_path, "prm\u0000.json")
    report = _check_json(tmp_path, "mcp-connector.yaml")
    assert ("MCP008", 8) in _codes(report)


def test_a_metadata_path_in_a_symlink_loop_is_mcp008(tmp_path: Path) -> None:
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    _manifest_naming(tmp_path, "loop-a")
    report = _check_json(tmp_path, "mcp-connector.yaml")
    assert ("MCP008", 8) in _codes(report)


def test_a_referenced_file_nested_980_deep_is_mcp008(tmp_path: Path) -> None:
    (tmp_path / "prm.json").write_text("[" * 980 + "]" * 980)
    _manifest_naming(tmp_path, "prm.json")
    report = _check_json(tmp_path, "mcp-connector.yaml")
    assert ("MCP008", 8) in _codes(report)


# -- which files are manifests ----------------------------------------------------------------

def test_a_tracked_file_name_that_is_not_utf8_does_not_stop_the_check(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "mcp-connector.yaml").write_text("version: 1\n" + HEALTHY_TAIL)
    odd = os.fsencode(tmp_path) + b"/x\xff.mcp-connector.yaml"
    with open(odd, "wb") as handle:
        handle.write(b"version: 1\n" + HEALTHY_TAIL.encode())
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    for format_name in ("json", "text", "sarif", "github", "junit", "markdown"):
        completed = run_mcplint("check", "--format", format_name, cwd=tmp_path)
        assert completed.returncode in (0, 1), (format_name, completed.stderr)
        assert completed.stderr == "", (format_name, completed.stderr)
    report = _check_json(tmp_path)
    shown = {f["file"] for f in report["findings"]}
    assert "mcp-connector.yaml" in shown and "x\\xff.mcp-connector.yaml" in shown, shown


def test_an_unreadable_discovered_manifest_keeps_the_others_results(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text("version: 1\n" + HEALTHY_TAIL)
    (tmp_path / "sub").mkdir()
    # /proc/self/mem is a regular file that fails every read (EIO), even for root.
    os.symlink("/proc/self/mem", tmp_path / "sub" / "mcp-connector.yaml")
    report = _check_json(tmp_path)
    by_file = {(f["file"], f["code"]) for f in report["findings"]}
    assert ("mcp-connector.yaml", "MCP310") in by_file
    assert ("sub/mcp-connector.yaml", "MCP001") in by_file


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory-named-like-a-manifest"])
def test_a_manifest_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        target = tmp_path / "mcp-connector.yaml"
        os.mkfifo(target)
    elif kind == "dev-zero":
        target = Path("/dev/zero")
    else:
        target = tmp_path / "mcp-connector.yaml"
        target.mkdir()
        (target / "x.txt").write_text("not a manifest")
    started = time.monotonic()
    completed = run_mcplint("check", str(target), cwd=tmp_path, timeout=20)
    assert time.monotonic() - started < 10
    line = _usage_error(completed)
    assert str(target) in line


# -- numeric options --------------------------------------------------------------------------

@pytest.mark.parametrize(("option", "value"), [
    ("--deadline", "inf"), ("--deadline", "1e308"), ("--deadline", "nan"), ("--deadline", "0"),
    ("--deadline", "-1"), ("--timeout", "nan"), ("--timeout", "0"), ("--timeout", "inf"),
    ("--timeout", "1e308"),
])
def test_numeric_options_are_finite_positive_and_bounded(tmp_path: Path, option: str,
                                                         value: str) -> None:
    (tmp_path / "mcp-connector.yaml").write_text("version: 1\n" + HEALTHY_TAIL)
    completed = run_mcplint("verify", "mcp-connector.yaml", option, value,
                            "--nameserver", "127.0.0.1:9", "--system-resolver", "none", cwd=tmp_path, timeout=20)
    line = _usage_error(completed)
    assert option in line


def test_connect_to_takes_an_address_not_a_host_name(tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text("version: 1\n" + HEALTHY_TAIL)
    completed = run_mcplint("verify", "mcp-connector.yaml", "--connect-to",
                            "mcp.acme.com:443:evil.example.com:443",
                            "--nameserver", "127.0.0.1:9", "--system-resolver", "none", cwd=tmp_path, timeout=20)
    line = _usage_error(completed)
    assert "--connect-to" in line and "address" in line


# -- output at scale --------------------------------------------------------------------------

def test_one_problem_repeated_is_bounded_in_the_formats_people_read(tmp_path: Path) -> None:
    from support import valid_sarif

    repeats = 500
    (tmp_path / "mcp-connector.yaml").write_text(
        "version: 1\n" + HEALTHY_TAIL + "hosts:\n" + "  mcp.acme.com: {}\n" * (repeats + 1))
    report = _check_json(tmp_path, "mcp-connector.yaml")
    assert sum(f["code"] == "MCP002" for f in report["findings"]) == repeats
    sarif = run_mcplint("check", "mcp-connector.yaml", "--format", "sarif", cwd=tmp_path)
    results = valid_sarif(sarif.stdout)["runs"][0]["results"]
    assert sum(r["ruleId"] == "MCP002" for r in results) == repeats
    for format_name in ("text", "github", "markdown"):
        completed = run_mcplint("check", "mcp-connector.yaml", "--format", format_name,
                                cwd=tmp_path)
        assert completed.returncode == 1, completed.stderr
        shown = completed.stdout.count("appears twice")
        assert shown == 20, (format_name, shown)
        assert f"{repeats - 20} more MCP002 findings in mcp-connector.yaml" in completed.stdout


# -- hostile servers on loopback (plain HTTP, `--profile local` from the command line) --------

class _Hostile(ScriptedServer):
    """An MCP server whose PRM, AS metadata and token endpoint misbehave as `mode` says:
    deep (PRM nested 980 deep), surrogate (a lone UTF-16 half in the PRM's resource), nan
    (NaN in the PRM), token-reset, token-garbage, token-http09, token-1xx. It answers from
    the request's method and path, so it reads the request itself (`_handle`)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__(answer=lambda connection: False)
        self.base = self.url("")

    def _handle(self, connection: socket.socket) -> None:
        import struct

        with connection:
            try:
                head = connection.recv(65536).decode("latin-1")
                method, path = head.split(" ")[:2]
                if method == "POST" and path.startswith("/token") and self.mode.startswith("token-"):
                    if self.mode == "token-reset":
                        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              struct.pack("ii", 1, 0))
                    elif self.mode == "token-garbage":
                        connection.sendall(b"garbage\r\n\r\n")
                    elif self.mode == "token-http09":
                        connection.sendall(b'{"error": "invalid_grant"}')
                    else:  # token-1xx: informational answers, never the real one
                        for _ in range(3000):
                            connection.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
                            time.sleep(0.01)
                    return
                connection.sendall(self._answer(method, path))
            except OSError:
                return

    def _answer(self, method: str, path: str) -> bytes:
        base = self.base
        status, extra, body = "200 OK", "", b"{}"
        if method == "POST":
            status, body = "401 Unauthorized", b'{"error": "invalid_token"}'
            extra = (f'WWW-Authenticate: Bearer resource_metadata="{base}/.well-known/'
                     'oauth-protected-resource/mcp"\r\n')
        elif "oauth-protected-resource" in path:
            body = json.dumps({"resource": base + "/mcp", "authorization_servers": [base],
                               "scopes_supported": ["mcp"]}).encode()
            if self.mode == "deep":
                body = b"[" * 980 + b"]" * 980
            elif self.mode == "surrogate":
                body = body.replace(b'/mcp"', b'/mcp\\ud800"')
            elif self.mode == "nan":
                body = body.replace(b'["mcp"]', b"[NaN]")
        elif "oauth-authorization-server" in path or "openid-configuration" in path:
            body = json.dumps({
                "issuer": base, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token", "registration_endpoint": base + "/reg",
                "code_challenge_methods_supported": ["S256"], "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["none"]}).encode()
        else:
            status = "404 Not Found"
        return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: "
                f"{len(body)}\r\n{extra}Connection: close\r\n\r\n").encode() + body


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[_Hostile]:
    server = _Hostile(request.param)
    yield server
    server.close()


LOCAL = ("--profile", "local", "--nameserver", "127.0.0.1:9", "--system-resolver", "none",
         "--timeout", "3", "--deadline", "20")
FORMATS = ("text", "json", "sarif", "github", "junit", "markdown")


@pytest.mark.parametrize(("hostile", "code"), [("deep", "MCP406"), ("surrogate", "MCP407"),
                                              ("nan", "MCP406")], indirect=["hostile"])
def test_hostile_documents_are_findings_in_every_format(hostile: _Hostile, code: str,
                                                        tmp_path: Path) -> None:
    for format_name in FORMATS:
        record = tmp_path / f"record-{format_name}.json"
        completed = run_mcplint("probe", hostile.base + "/mcp", *LOCAL, "--format", format_name,
                                "--record", str(record), timeout=40)
        assert completed.returncode == 1, (format_name, completed.stderr)
        assert "internal error" not in completed.stderr
        if format_name == "json":
            assert code in {f["code"] for f in json.loads(completed.stdout)["findings"]}
        # --record is JSON any reader takes: no NaN, no Infinity
        json.loads(record.read_text(), parse_constant=lambda name: pytest.fail(name))


@pytest.mark.parametrize("hostile", ["token-reset", "token-garbage", "token-http09",
                                     "token-1xx"], indirect=True)
def test_transport_failures_at_the_token_endpoint_are_mcp308(hostile: _Hostile) -> None:
    completed = run_mcplint("probe", hostile.base + "/mcp", *LOCAL, timeout=40)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "MCP308" in completed.stdout and "/token" in completed.stdout
    assert "No step failed" not in completed.stdout
    # the request that failed, the failure in words, what the server sent as text
    failure = {"token-reset": "connection reset by the server",
               "token-garbage": 'the answer does not begin with an HTTP status line: "garbage"',
               "token-http09": "the server closed the connection before its answer was complete",
               "token-1xx": "no complete answer within 3 s"}[hostile.mode]
    assert (f"POST {hostile.base}/token failed: {failure} (earlier requests to 127.0.0.1 "
            "were answered)") in completed.stdout, completed.stdout
    assert "could not be reached" not in completed.stdout
    assert "bytearray" not in completed.stdout and "b'" not in completed.stdout


def test_protocol_errors_quote_what_the_server_sent_as_escaped_text() -> None:
    import h11

    from mcplint.live.net.http import classify

    error = h11.RemoteProtocolError("illegal header line: " + repr(bytearray(b"X-\x1b[2J: \xff'")))
    assert classify(error) == (
        "protocol", 'the answer has a malformed header line: "X-\\x1b[2J: \\xff\'"')
    assert classify(h11.RemoteProtocolError("Receive buffer too long")) == (
        "protocol", "the answer's header is longer than 64 KiB")


@pytest.mark.parametrize("command", ["verify", "probe"])
def test_resolvers_that_never_answer_end_in_exit_3_within_the_deadline(
        tmp_path: Path, command: str) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # takes queries, never answers
    silent.bind(("127.0.0.1", 0))
    resolver = f"127.0.0.1:{silent.getsockname()[1]}"
    (tmp_path / "mcp-connector.yaml").write_text(
        "version: 1\nserver: {url: 'https://mcp.acme.com/mcp'}\nauth:\n  type: oauth\n"
        "  issuer: https://auth.acme.com\n  audience: https://mcp.acme.com/mcp\n"
        "  registration: [dcr]\nhosts: {mcp.acme.com: {}, auth.acme.com: {}}\n")
    target = "mcp-connector.yaml" if command == "verify" else "https://mcp.acme.com/mcp"
    started = time.monotonic()
    try:
        completed = run_mcplint(command, target, "--nameserver", resolver, "--system-resolver",
                                "none", "--deadline", "3", cwd=tmp_path, timeout=20)
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    assert completed.returncode == 3, completed.stdout + completed.stderr
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert "MCP501" not in completed.stdout and "No step failed" not in completed.stdout
