"""The package's layers (``xarray_crism/layers.py``): every import goes down or sideways, and no cycles.

Imports are read from the source with ``ast`` (nothing is imported), at any depth, so a lazy import
inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from xarray_crism.layers import LAYERS, SIDE_LAYERS

PACKAGE = Path(__file__).resolve().parents[1] / "xarray_crism"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """Absolute names of the package modules an ``ImportFrom`` loads."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        anchor = parts if is_package else parts[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if not base.startswith("xarray_crism"):
        return []
    names = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return names or [base]


def imports_of(module: str) -> set[str]:
    """Package modules imported by ``module``."""
    path = MODULES[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.update(_resolve(module, path.name == "__init__.py", node))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("xarray_crism."))
    return found - {module}


def layer_of(module: str) -> str:
    """The layer a module belongs to, by its sub-package (or its own name at the top)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    for name, members in LAYERS:
        if parts[1] in members:
            return name
    for name, (members, _) in SIDE_LAYERS.items():
        if parts[1] in members:
            return name
    raise AssertionError(f"{module} is in no layer of xarray_crism/layers.py: add its sub-package to a layer")


RANK = {name: i for i, (name, _) in enumerate(LAYERS)}


def allowed(source: str, target: str) -> bool:
    """May a module of layer ``source`` import one of layer ``target``?"""
    if source == "api" or source == target:
        return True
    if source in SIDE_LAYERS:
        return target in SIDE_LAYERS[source][1]
    return target in RANK and source in RANK and RANK[target] <= RANK[source]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module: str) -> None:
    wrong = {t: layer_of(t) for t in imports_of(module) if not allowed(layer_of(module), layer_of(t))}
    assert not wrong, f"{module} ({layer_of(module)}) imports from layers above it or beside it: {wrong}"


def test_no_import_cycles() -> None:
    graph = {m: imports_of(m) for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_every_subpackage_is_placed() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    placed = {m for _, members in LAYERS for m in members} | {m for members, _ in SIDE_LAYERS.values() for m in members}
    assert subpackages <= placed, f"sub-packages in no layer: {subpackages - placed}"


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [("model", "xarray", False), ("xarray", "model", True), ("archives", "cloud", False), ("formats", "product writers", False),
     ("product writers", "support", True), ("product writers", "model", False)],
)
def test_the_rule_refuses_wrong_way_imports(source: str, target: str, expected: bool) -> None:
    assert allowed(source, target) is expected


def test_a_wrong_way_import_is_found(tmp_path: Path) -> None:
    """The checker sees a lazy import inside a function (the kind that escapes a glance)."""
    tree = ast.parse("def f():\n    from ..xr.dataset import build_dataset\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    target = _resolve("xarray_crism.model.product", False, node)
    assert target == ["xarray_crism.xr.dataset"]
    assert not allowed(layer_of("xarray_crism.model.product"), layer_of(target[0]))
