"""Every module the package imports at run time is a declared dependency, and the reverse.

A fresh ``pip install .`` gets only what ``pyproject.toml`` declares. A module that happens to
be installed here as somebody else's dependency (as ``click`` once was, through Typer) works on
this machine and fails on a user's. This test reads the imports of ``src/cartcohort`` (those
under ``if TYPE_CHECKING:`` are not run and do not count) and maps each top-level module to
the distribution that provides it in the running environment.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cartcohort"

#: Declared dependencies the package does not import by name, and why they are declared.
USED_WITHOUT_IMPORT = {
    "pyarrow": "pandas' Parquet engine (read_parquet / to_parquet)",
    "python-multipart": "Starlette's form and file-upload parser (web extra)",
}

#: Sub-packages that may import an extra's dependencies, besides the core ones.
EXTRA_OF_SUBPACKAGE = {"web": "web"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    assert match, req
    return _canonical(match.group(1))


def _declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"core": {_requirement_name(r) for r in project["dependencies"]}}
    for extra, reqs in project.get("optional-dependencies", {}).items():
        groups[extra] = {_requirement_name(r) for r in reqs} - {"cartcohort"}
    return groups


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[str]:
    """Top-level names of the modules imported outside ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]
        stack.extend(ast.iter_child_nodes(node))


def _third_party_imports() -> dict[str, set[str]]:
    """Module name -> the files (relative to src/cartcohort) that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module == "cartcohort" or module in sys.stdlib_module_names:
                continue
            found.setdefault(module, set()).add(rel)
    return found


@cache
def _module_distributions() -> dict[str, list[str]]:
    return dict(packages_distributions())


def _distributions(module: str) -> set[str]:
    return {_canonical(d) for d in _module_distributions().get(module, [])}


def test_every_imported_module_is_a_declared_dependency() -> None:
    declared = _declared()
    problems = []
    for module, files in sorted(_third_party_imports().items()):
        dists = _distributions(module)
        if not dists:
            problems.append(f"{module} (imported by {sorted(files)}) is not installed here")
            continue
        for rel in sorted(files):
            allowed = set(declared["core"])
            extra = EXTRA_OF_SUBPACKAGE.get(rel.split("/")[0])
            if extra is not None:
                allowed |= declared[extra]
            if not dists & allowed:
                where = f"[project] dependencies{f' or the {extra!r} extra' if extra else ''}"
                problems.append(
                    f"{rel} imports {module} ({'/'.join(sorted(dists))}): not in {where}"
                )
    assert not problems, "undeclared run-time imports:\n" + "\n".join(problems)


def test_every_declared_dependency_is_imported_or_says_why() -> None:
    declared = _declared()
    runtime = declared["core"] | declared["web"]
    imported: set[str] = set()
    for module in _third_party_imports():
        imported |= _distributions(module)
    unused = sorted(runtime - imported - set(USED_WITHOUT_IMPORT))
    assert not unused, (
        f"declared but never imported (remove, or add to USED_WITHOUT_IMPORT): {unused}"
    )
    stale = sorted(set(USED_WITHOUT_IMPORT) - runtime)
    assert not stale, f"USED_WITHOUT_IMPORT names packages that are not declared: {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import numpy as np\nfrom scipy import stats\n", {"numpy", "scipy"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n", set()),
        ("def f():\n    import click\n", {"click"}),
        ("from . import sibling\n", set()),
    ],
)
def test_import_scanner_sees_runtime_imports_only(source: str, expected: set[str]) -> None:
    found = {m for m in _runtime_imports(ast.parse(source)) if m not in sys.stdlib_module_names}
    assert found == expected


def _floors() -> dict[str, str]:
    """Package -> the version after ``>=`` in pyproject.toml (core, web and test)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in ("web", "test"):
        reqs += project["optional-dependencies"][extra]
    floors = {}
    for req in reqs:
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([^,;\s]+)\s*", req)
        if match:
            floors[_canonical(match.group(1))] = match.group(2)
    return floors


def test_minimum_constraints_pin_every_floor_of_pyproject() -> None:
    pins = {}
    for line in (ROOT / "constraints" / "minimum.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    floors = _floors()
    declared = set().union(*(v for k, v in _declared().items() if k in ("core", "web", "test")))
    assert not declared - set(floors), f"dependencies without a floor: {declared - set(floors)}"
    assert pins == floors, "constraints/minimum.txt and the floors of pyproject.toml differ"
