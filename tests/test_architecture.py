"""The layering of ``architecture.md`` §4: imports point down the list, never up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "edi837"

# Lower rank = lower layer. A module may import its own layer or any lower one.
LAYERS = {
    "edi837.findings": 0,
    "edi837.causes": 0,
    "edi837.spilled": 0,
    "edi837.finding_spool": 1,
    "edi837.redaction": 2,
    "edi837.x12": 1,
    "edi837.x837p": 2,
    "edi837.refdata": 2,
    "edi837.source": 3,
    "edi837.rules": 3,
    "edi837.config": 4,
    "edi837.engine": 4,
    "edi837.fixing": 5,
    "edi837.splitting": 5,
    "edi837.reports": 5,
    "edi837.api": 6,
    "edi837.acks": 6,
    "edi837.ops": 7,
    "edi837.cli": 8,
    "edi837.__main__": 9,
    "edi837.version": 0,
    # The package root re-exports the public API (edi837.api), and nothing imports it back.
    "edi837": 6,
}


def layer_of(module: str) -> tuple[str, int]:
    best = ""
    for name in LAYERS:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    return best, LAYERS[best]


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [m for m in found if m == "edi837" or m.startswith("edi837.")]


def module_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports.

    Imports under ``if TYPE_CHECKING:`` and inside functions count: a cycle hidden that way
    still ties the two modules together. ``from package import module`` is an edge to the
    module; relative imports are resolved against the importing module's package.
    """
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def module_name(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_imports_point_down() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        _, rank = layer_of(source)
        for target in imports(path):
            target_layer, target_rank = layer_of(target)
            if target_rank > rank:
                wrong.append(f"{source} imports {target} ({target_layer} is a higher layer)")
    assert wrong == []


def test_no_import_cycles() -> None:
    # A cycle makes the import order matter and hides which module owns what.
    assert cycles(module_graph()) == []


def test_the_cycle_finder_sees_a_type_checking_cycle(tmp_path: Path) -> None:
    # The layout that once tied rules.base and rules.pairing together.
    package = tmp_path / "edi837"
    (package / "rules").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rules" / "__init__.py").write_text("from edi837.rules import base\n")
    (package / "rules" / "base.py").write_text("from edi837.rules.pairing import pair_claim\n")
    (package / "rules" / "pairing.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .base import CheckContext\n"
    )
    assert cycles(module_graph(package)) == [["edi837.rules.base", "edi837.rules.pairing"]]


def test_reference_data_and_x12_stand_alone() -> None:
    for sub, allowed in (
        ("refdata", ("edi837.refdata",)),
        ("x12", ("edi837.x12", "edi837.findings")),
    ):
        for path in (PACKAGE / sub).rglob("*.py"):
            for target in imports(path):
                assert target.startswith(allowed), f"{path.name} imports {target}"


def test_only_the_cli_imports_click() -> None:
    users = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "click" or n.startswith("click.") for n in names):
                users.append(module_name(path))
    assert all(u == "edi837.cli" or u.startswith("edi837.cli.") for u in users), users


def test_every_module_has_a_docstring() -> None:
    missing = [
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert missing == []
