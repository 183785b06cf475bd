"""The package's layout is the pipeline: each stage a folder, arrows pointing one way.

The import graph of mcplint/ (every import, lazy ones inside functions included; imports
only for type checkers left out) must have no cycle, no arrow from a stage to one above it
in STAGES, and no import of another module's private name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO_ROOT

PACKAGE = REPO_ROOT / "mcplint"
# Top to bottom: a module may import from its own stage and the stages below it.
STAGES = ("cli", "commands", "lint", "live", "report", "results", "config", "policy",
          "facts", "findings", "_generated", "load", "escape", "files", "errors", "resources",
          "profiles")


def module_name(path: Path) -> str:
    inside = path.is_relative_to(REPO_ROOT)
    parts = (path.relative_to(REPO_ROOT) if inside else Path(path.name)).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _type_checking_only(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING")


def imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(imported module, names taken from it) for every import of one file."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[str, tuple[str, ...]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, ()) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                found.append((base, tuple(alias.name for alias in child.names)))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, names in imports(path):
            if not target.startswith("mcplint"):
                continue
            # `from mcplint.x import y` imports the module mcplint.x.y when there is one.
            hits = {f"{target}.{n}" for n in names if f"{target}.{n}" in modules}
            if target in modules and (not names or len(hits) < len(names)):
                hits.add(target)
            edges[name] |= {hit for hit in hits if hit != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                found.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            walk(start, [start])
    return found


def upward_arrows(edges: dict[str, set[str]]) -> list[str]:
    rank = {name: i for i, name in enumerate(STAGES)}
    wrong = []
    for source, targets in edges.items():
        for target in targets:
            if stage(source) == "__init__" or stage(target) == "__init__":
                continue
            if rank[stage(target)] < rank[stage(source)]:
                wrong.append(f"{source} -> {target}")
    return sorted(wrong)


def private_names(found: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    return [f"{target}.{name}" for target, names in found if target.startswith("mcplint")
            for name in names if name.startswith("_") and not name.startswith("__")]


def private_imports() -> list[str]:
    return sorted(f"{module_name(path)}: {name}" for path in PACKAGE.rglob("*.py")
                  for name in private_names(imports(path)))


def test_every_module_is_in_a_known_stage() -> None:
    assert {stage(name) for name in graph()} - {"__init__"} <= set(STAGES)


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_arrows_point_down_the_pipeline() -> None:
    assert upward_arrows(graph()) == []


def test_no_module_imports_a_private_name_of_another() -> None:
    assert private_imports() == []


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The checks fail on a cycle, an upward arrow and a private import."""
    edges = {"mcplint.lint": {"mcplint.cli"}, "mcplint.cli": {"mcplint.lint"}}
    assert cycles(edges) == [["mcplint.cli", "mcplint.lint", "mcplint.cli"]]
    assert upward_arrows(edges) == ["mcplint.lint -> mcplint.cli"]
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from mcplint.report.text import _plural, location\n")
    assert private_names(imports(module)) == ["mcplint.report.text._plural"]


def test_the_readmes_layout_names_every_module() -> None:
    """README.md's layout table (Development) names every module where it lives: a folder's
    modules in that folder's row, the top-level ones in any row."""
    rows = [line for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.lstrip().startswith("| `mcplint/")]
    table = "\n".join(rows)
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if path.name == "__init__.py" or relative.parts[0] == "_generated":
            continue
        if len(relative.parts) == 1:
            named = f"`{path.name}`" in table or f"`mcplint/{path.name}`" in table
        else:
            row = next((r for r in rows if r.lstrip().startswith(f"| `mcplint/{relative.parts[0]}/`")), "")
            named = f"`{path.name}`" in row or f"`{path.name}:" in row
        if not named:
            missing.append(str(relative))
    assert missing == [], missing
