"""The import direction follows the data flow (house style B1): a lower layer never
imports a higher one. This is the project's import-linter 'layers' contract, as a test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cartcohort"

#: Lowest first. Modules of one layer may import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_types", "_pandas", "_results", "_pool", "_spreadsheet", "errors", "model"),
    ("ingest",),
    ("validate",),
    ("store", "demo"),
    ("derive", "assay"),
    ("analyse",),
    ("ard",),
    ("render",),
    ("plan",),
    ("cli", "web"),
)
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "cartcohort" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
    return out


FILES = sorted(p for p in SRC.rglob("*.py") if p.parent != SRC or p.name not in {"__init__.py"})


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    rel = path.relative_to(SRC)
    own = rel.parts[0].removesuffix(".py")
    if own not in RANK:
        pytest.fail(f"{rel}: top-level module {own!r} is not placed in a layer of LAYERS")
    bad = []
    for line, module in _imports(path):
        target = _top(module)
        if target is not None and target in RANK and RANK[target] > RANK[own]:
            bad.append(f"line {line}: {module} ({target} is above {own})")
    assert not bad, f"{rel} imports a higher layer: " + "; ".join(bad)
