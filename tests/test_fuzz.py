"""Property-based fuzzing (hypothesis) of the loader, of `check` and of init's YAML writer.

Bounded in time: a fixed number of examples, no deadline per example on a shared machine,
the whole module well under a minute. What must hold for any input: the loader returns
(no exception), `check` ends with 0 or 1 and nothing on stderr (no traceback, no exit 2
from input), and the values init writes read back identically. `check` runs in-process
here, under the network guard: it must open no socket (tests/netguard fails the test if it
tries).
"""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcplint.commands.init import flow, scalar
from mcplint.load.yamlsource import parse

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# YAML-ish text: the characters that make YAML's grammar, plus anything.
_YAML_ALPHABET = st.sampled_from(list("{}[]:,-?&*!|>'\"%@`#\n \t.~0123456789aeknorsuvxy\\")
                                 + ["version: 1\n", "server:\n  url: ", "auth: {type: ",
                                    "&a ", "*a", "!!str ", "<<: ", "---\n", "\ud800", "\x00",
                                    "\x1b[31m", "\r\n", "\u2028", "\ufeff"])
YAMLISH = st.lists(_YAML_ALPHABET, max_size=60).map("".join)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=8), children, max_size=4), max_leaves=30)


@FUZZ
@given(text=YAMLISH | st.text(max_size=200))
def test_the_loader_never_raises(text: str) -> None:
    loaded = parse(text)
    assert loaded.fatal or loaded.data is not None or loaded.data is None
    for problem in loaded.problems:
        assert problem.code in ("MCP001", "MCP002", "MCP003")
        assert problem.span.line >= 1 and problem.span.column >= 1


def _check(folder: Path, text: str | bytes, *extra: str) -> tuple[int, str, str]:
    from mcplint.cli import main

    path = folder / "mcp-connector.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["check", str(path), "--no-config", *extra], prog_name="mcplint",
                 standalone_mode=False)
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


MANIFEST_VALUES = st.fixed_dictionaries({
    "version": st.just(1) | JSONISH,
    "server": st.fixed_dictionaries({"url": st.sampled_from(
        ["https://mcp.acme.com/mcp", "http://127.0.0.1/mcp", "https://0x7f.1/", "https://a\\@b/",
         "https://[64:ff9b::a00:1]/mcp", "", "mcp"]) | st.text(max_size=30)}) | JSONISH,
    "auth": st.fixed_dictionaries({"type": st.sampled_from(["none", "oauth", "static-headers"])
                                   | JSONISH}, optional={
        "issuer": JSONISH, "audience": JSONISH, "registration": JSONISH,
        "resource_metadata": JSONISH | st.sampled_from(["prm.json", "../x", "/etc/passwd"]),
    }),
}, optional={"hosts": JSONISH, "profile": JSONISH, "name": JSONISH})


@FUZZ
@given(data=MANIFEST_VALUES | JSONISH, raw=YAMLISH, as_json=st.booleans())
def test_check_ends_in_findings_never_in_an_error(tmp_path: Path, data: object, raw: str,
                                                  as_json: bool) -> None:
    for text in (json.dumps(data) if as_json else raw,):
        for format_name in ("json", "text"):
            code, out, err = _check(tmp_path, text, "--format", format_name)
            assert code in (0, 1), (text, err)
            assert err == "", (text, err)
            if format_name == "json":
                json.loads(out)


# -- init writes values that read back identically ------------------------------------------

READ_BACK = [
    "@admin", "1e5", "yes", "no", "on", "off", "true", "null", "~", "0x1f", "0o17", ".inf",
    ".nan", "1:30", "-x", "*a", "&a", "!t", "%d", "`x", "a: b", "a #b", "x:", "[a]", "{a}",
    "'q'", '"q"', "", " lead", "trail ", "mcp:read", "https://mcp.acme.com/mcp", "read write",
    "\u00e9", "tab\there", "line\nbreak", "12", "1.0", "-1", "+1",
]


@pytest.mark.parametrize("value", READ_BACK)
def test_init_scalars_read_back_identically(value: str) -> None:
    assert parse(f"k: {scalar(value)}\n").data == {"k": value}
    assert parse(f"k: {flow([value, value])}\n").data == {"k": [value, value]}


@FUZZ
@given(value=st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
       | st.integers() | st.booleans()
       | st.floats(allow_nan=False, allow_infinity=False))
def test_init_scalars_read_back_identically_fuzzed(value: object) -> None:
    loaded = parse(f"k: {scalar(value)}\nl: {flow([value])}\n")
    assert not loaded.problems, (value, scalar(value))
    got = loaded.data
    assert got["k"] == value and got["l"] == [value], (value, scalar(value))
    assert type(got["k"]) is type(value) or (isinstance(value, float) and math.isfinite(value))
