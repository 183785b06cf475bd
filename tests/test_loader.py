"""The position-keeping loader: values, positions, and every way input can be bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcplint.load.limits import MAX_DEPTH
from mcplint.load.sourcemap import Span
from mcplint.load.yamlsource import load_file, parse, resolve_plain


def test_positions_of_values_and_keys() -> None:
    loaded = parse("version: 1\nserver:\n  url: https://x.com/mcp\nlist: [a, 'b']\n")
    assert loaded.data == {"version": 1, "server": {"url": "https://x.com/mcp"}, "list": ["a", "b"]}
    assert loaded.source_map.values["/server/url"] == Span(3, 8, 3, 25)
    assert loaded.source_map.keys["/server/url"] == Span(3, 3, 3, 6)
    assert loaded.source_map.values["/list/1"] == Span(4, 11, 4, 14)
    assert loaded.source_map.key_span("/list/1") == Span(4, 11, 4, 14)
    # A pointer that does not exist is placed at its closest located ancestor.
    assert loaded.source_map.value_span("/server/transport") == loaded.source_map.values["/server"]


def test_keys_with_slashes_and_tildes_are_escaped() -> None:
    loaded = parse("hosts:\n  a/b~c: 1\n")
    assert loaded.source_map.values["/hosts/a~1b~0c"].line == 2


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("False", False), ("yes", "yes"), ("no", "no"), ("on", "on"),
    ("off", "off"), ("~", None), ("null", None), ("", None), ("12", 12), ("0x1f", 31),
    ("0o17", 15), ("1.5", 1.5), ("1e3", 1000.0), (".inf", float("inf")), ("0755", 755),
    ("1_000", "1_000"), ("2001-01-01", "2001-01-01"), ("abc", "abc"),
])
def test_yaml_12_core_schema(text: str, value: object) -> None:
    assert resolve_plain(text) == value


def test_quoted_scalars_stay_strings() -> None:
    assert parse("a: 'true'\nb: \"1\"\n").data == {"a": "true", "b": "1"}


def test_explicit_core_tags() -> None:
    loaded = parse("a: !!str 12\nb: !!int '7'\nc: !!int nope\n")
    assert loaded.data["a"] == "12" and loaded.data["b"] == 7
    assert [p.code for p in loaded.problems] == ["MCP001"]
    assert loaded.problems[0].span.line == 3


def test_duplicate_key_names_both_places() -> None:
    loaded = parse("a: 1\nb:\n  c: 1\n  c: 2\n")
    (problem,) = loaded.problems
    assert problem.code == "MCP002" and problem.span.line == 4
    assert "first at line 3, column 3" in problem.message
    assert loaded.data == {"a": 1, "b": {"c": 2}}


def test_non_core_tag_is_refused_and_nothing_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\nb: !custom x\n"
    loaded = parse(text)
    assert [p.code for p in loaded.problems] == ["MCP003", "MCP003"]
    assert "!!python/object/apply:os.system" in loaded.problems[0].message
    assert not marker.exists()


def test_alias_bomb_is_stopped_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        previous, current = chr(ord("a") + index - 1), chr(ord("a") + index)
        lines.append(f"{current}: &{current} [" + ",".join([f"*{previous}"] * 9) + "]")
    loaded = parse("\n".join(lines))
    assert loaded.fatal and loaded.problems[-1].code == "MCP003"
    assert "alias bomb" in loaded.problems[-1].message


def test_small_aliases_are_fine() -> None:
    loaded = parse("a: &x [1, 2]\nb: *x\n")
    assert loaded.data == {"a": [1, 2], "b": [1, 2]} and not loaded.problems


@pytest.mark.parametrize("style", ["block", "flow"])
def test_deep_nesting_is_refused(style: str) -> None:
    depth = 10_000
    if style == "flow":
        text = "[" * depth + "]" * depth
    else:
        text = "".join("  " * i + "a:\n" for i in range(depth))
    loaded = parse(text)
    assert loaded.fatal and loaded.problems[-1].code == "MCP003"
    assert f"deeper than {MAX_DEPTH}" in loaded.problems[-1].message


def test_nesting_within_the_limit_is_read() -> None:
    text = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert not parse(text).problems


def test_recursive_alias_is_refused() -> None:
    loaded = parse("a: &a\n  b: *a\n")
    assert loaded.fatal or loaded.problems


def test_syntax_error_is_located() -> None:
    loaded = parse("a: 1\nb: [1, 2\nc: 3\n")
    assert loaded.fatal and loaded.problems[0].code == "MCP001"
    assert loaded.problems[0].span.line >= 2


def test_second_document_is_refused() -> None:
    loaded = parse("a: 1\n---\nb: 2\n")
    assert loaded.fatal and loaded.problems[0].span.line == 2


def test_empty_and_comment_only_files() -> None:
    assert parse("").data is None and not parse("").problems
    assert parse("# nothing\n").data is None


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    loaded = load_file(path)
    assert loaded.fatal and loaded.problems[0].code == "MCP001"
    assert "binary" in loaded.problems[0].message


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: \x00\n")
    loaded = load_file(path)
    assert loaded.problems[0].span.line == 2


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes("a: é\n".encode("utf-16"))
    assert load_file(path).data == {"a": "é"}


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    loaded = load_file(path)
    assert loaded.fatal and loaded.problems[0].code == "MCP003"
    assert "50.0 MiB" in loaded.problems[0].message


def test_json_with_tab_indentation(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{\n\t"resource": "https://x.com/mcp",\n\t"a": [1, true, null]\n}\n')
    loaded = load_file(path)
    assert loaded.data == {"resource": "https://x.com/mcp", "a": [1, True, None]}
    assert loaded.source_map.values["/resource"].line == 2


def test_very_long_integer_is_kept_as_written() -> None:
    digits = "9" * 5000
    assert parse(f"a: {digits}\n").data == {"a": digits}


def test_complex_key_is_refused() -> None:
    loaded = parse("? [a, b]\n: 1\n")
    assert loaded.fatal and loaded.problems[0].code == "MCP003"
