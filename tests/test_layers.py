"""The import rules of the product's layers, read from the source with ``ast`` (nothing runs).

Layers, bottom to top (DESIGN.md, "Packages")::

    sim < episode < {teleop, recordings} < learner < guides < app < launch

A module may import its own package and the packages of lower layers, never a higher one nor a
sibling of its own layer; imports inside functions and under ``TYPE_CHECKING`` count too.
Some packages also must not import certain third-party packages (``recordings`` no torch nor
pygame, ``learner`` no pygame, ...), and ``teleop`` never touches pygame's event queue (the
app owns it and forwards events). The product's modules import each other without a cycle,
counting every import (a deferred import inside a function closes a cycle as surely as one at
the top: ``guides.factory`` <-> ``guides.imitation`` was one).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: dict[str, int] = {
    "sim": 0,
    "episode": 1,
    "teleop": 2,
    "recordings": 2,
    "learner": 3,
    "guides": 4,
    "app": 5,
    "launch": 6,
}
"""Product package -> layer (higher may import lower; equal only within one package)."""

BANNED: dict[str, frozenset[str]] = {
    "sim": frozenset({"pygame", "torch"}),
    "episode": frozenset({"pygame", "torch"}),
    "recordings": frozenset({"pygame", "torch"}),
    "learner": frozenset({"pygame"}),
}
"""Third-party packages a product package must not import."""

EVENT_QUEUE = frozenset({"get", "poll", "wait", "pump", "clear", "peek"})
"""``pygame.event`` functions that read the event queue (the app's alone)."""

KNOWN_LAYER_BREAKS: frozenset[tuple[str, str]] = frozenset()
"""Rule breaks still to fix, as (file, imported module) (none)."""
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Import cycles still to break (none)."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is, and how it runs."""

    source: str
    """The importing file, relative to the root (``guides/policy.py``)."""
    module: str
    """The importing module's dotted name."""
    target: str
    """The imported module (``from a import b`` is ``a.b`` when that is a module)."""
    line: int
    module_level: bool
    """Runs when the module is imported (not inside a function, not under TYPE_CHECKING)."""


def product_files() -> dict[str, Path]:
    """Dotted module name -> file, for every product module (and ``launch``)."""
    files = {"launch": ROOT / "launch.py"}
    for package in LAYERS:
        if package == "launch":
            continue
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    """Every import in ``path`` (``module``), with whether it runs at import time."""
    tree = ast.parse(path.read_text(), filename=str(path))
    source = str(path.relative_to(ROOT))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), module_level)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(source, module, alias.name, child.lineno, module_level))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in modules else base
                    found.append(Import(source, module, target, child.lineno, module_level))
            else:
                visit(child, module_level)

    visit(tree, True)
    return found


@pytest.fixture(scope="module")
def all_imports() -> list[Import]:
    files = product_files()
    modules = set(files)
    return [imp for name, path in files.items() for imp in imports_of(name, path, modules)]


def layer_breaks(imports: list[Import]) -> dict[tuple[str, str], str]:
    """(file, target) -> why, for every import that breaks a layer or third-party rule."""
    breaks: dict[tuple[str, str], str] = {}
    for imp in imports:
        own, top = imp.module.split(".")[0], imp.target.split(".")[0]
        if top in LAYERS and top != own and LAYERS[top] >= LAYERS[own]:
            how = "a higher layer" if LAYERS[top] > LAYERS[own] else "a sibling layer"
            breaks[imp.source, imp.target] = f"{imp.source}:{imp.line} imports {how}: {imp.target}"
        if top in BANNED.get(own, ()):
            breaks[imp.source, imp.target] = (
                f"{imp.source}:{imp.line} imports {imp.target} ({own} must not import {top})"
            )
    return breaks


def test_packages_import_only_their_own_and_lower_layers(all_imports: list[Import]) -> None:
    breaks = layer_breaks(all_imports)
    new = sorted(why for key, why in breaks.items() if key not in KNOWN_LAYER_BREAKS)
    assert not new, "layer rule broken:\n" + "\n".join(new)
    gone = sorted(f"{f} -> {t}" for f, t in KNOWN_LAYER_BREAKS - set(breaks))
    assert not gone, "fixed: remove from KNOWN_LAYER_BREAKS:\n" + "\n".join(gone)


def test_the_checker_sees_what_it_should() -> None:
    """The rules catch a break in a function body and under TYPE_CHECKING (a self-check)."""
    path = ROOT / "recordings" / "_layer_probe.py"
    try:
        path.write_text(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from guides.registry import GuideSpec\n"
            "def f():\n    import torch\n    from learner import worker\n"
        )
        modules = set(product_files()) | {"learner.worker"}
        found = imports_of("recordings._layer_probe", path, modules)
    finally:
        path.unlink()
    assert {(i.target, i.module_level) for i in found} >= {
        ("guides.registry", False),
        ("torch", False),
        ("learner.worker", False),
    }
    assert len(layer_breaks(found)) == 3


def test_teleop_leaves_the_event_queue_to_the_app() -> None:
    calls = []
    for path in sorted((ROOT / "teleop").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in EVENT_QUEUE
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "event"
            ):
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno} event.{node.attr}")
    assert not calls, "teleop reads pygame's event queue:\n" + "\n".join(calls)


def find_cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                cycles.append(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return cycles


def test_no_import_cycles_between_modules(all_imports: list[Import]) -> None:
    modules = set(product_files())
    edges: dict[str, set[str]] = {}
    for imp in all_imports:
        if imp.target in modules and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
    cycles = set(find_cycles(edges))
    new = sorted(" <-> ".join(sorted(c)) for c in cycles - KNOWN_CYCLES)
    assert not new, "import cycles:\n" + "\n".join(new)
    gone = sorted(" <-> ".join(sorted(c)) for c in KNOWN_CYCLES - cycles)
    assert not gone, "broken: remove from KNOWN_CYCLES:\n" + "\n".join(gone)


def test_the_cycle_finder() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert set(find_cycles(edges)) == {frozenset("abc"), frozenset("e")}


# TEMPORARY: app/main.py (being rewritten) registers `human` when imported; the registry has
# `human` already and the app should build it with make_guide("human", env, device=...).
KNOWN_IMPORT_TIME_REGISTRATIONS: frozenset[str] = frozenset()


def test_no_module_registers_a_guide_when_imported() -> None:
    """Guides are registered by name in guides/registry.py, never as an import's side effect."""
    found = set()
    for path in product_files().values():
        if path == ROOT / "guides" / "registry.py":
            continue
        for stmt in ast.parse(path.read_text()).body:
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = call.args[0] if call.args else None
            if (
                name == "register"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.add(str(path.relative_to(ROOT)))
    assert found == KNOWN_IMPORT_TIME_REGISTRATIONS, (
        f"registering at import time: {sorted(found - KNOWN_IMPORT_TIME_REGISTRATIONS)}; "
        f"fixed (remove from the list): {sorted(KNOWN_IMPORT_TIME_REGISTRATIONS - found)}"
    )


def test_every_package_is_installed() -> None:
    """pyproject's explicit package list names every package with an ``__init__.py``."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for package in LAYERS
        if package != "launch"
        for init in (ROOT / package).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
