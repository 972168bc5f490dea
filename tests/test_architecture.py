"""The layering of ``architecture.md`` §4: imports point down the list, never up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "edi837"

# Lower rank = lower layer. A module may import its own layer or any lower one.
LAYERS = {
    "edi837.findings": 0,
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


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
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
