"""Every dependency floor is at or above the fix of each known advisory in a code path we use.

The advisories are listed, with their sources, in ``constraints/advisories.toml``; this test
reads the floors from ``pyproject.toml`` (and the pins of ``constraints/minimum.txt`` when
that file exists) so that lowering a floor below a fix, or adding an advisory without
raising the floor, fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADVISORIES = tomllib.loads((ROOT / "constraints" / "advisories.toml").read_text("utf-8"))[
    "advisory"
]
_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(>=|==)\s*([0-9][0-9.]*)")


def _name(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _floors() -> dict[str, list[tuple[str, str]]]:
    """Package -> [(where, version)] for every >= floor and == pin we declare."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    lines = [("pyproject.toml", r) for r in project["dependencies"]]
    for extra, requirements in project["optional-dependencies"].items():
        lines += [(f"pyproject.toml [{extra}]", r) for r in requirements]
    minimum = ROOT / "constraints" / "minimum.txt"
    if minimum.exists():
        for line in minimum.read_text("utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(("constraints/minimum.txt", line.strip()))
    floors: dict[str, list[tuple[str, str]]] = {}
    for where, requirement in lines:
        match = _REQUIREMENT.match(requirement)
        if match is not None:
            floors.setdefault(_name(match.group(1)), []).append((where, match.group(3)))
    return floors


def test_advisories_file_is_complete() -> None:
    keys = {"package", "id", "fixed", "used", "concerns", "source"}
    for entry in ADVISORIES:
        assert set(entry) == keys, entry
        assert entry["source"].startswith("https://"), entry
        _version(entry["fixed"])


@pytest.mark.parametrize(
    "advisory",
    [a for a in ADVISORIES if a["used"]],
    ids=[f"{a['package']}-{a['id'].split(' ')[0]}" for a in ADVISORIES if a["used"]],
)
def test_every_floor_is_above_the_fix(advisory: dict[str, str]) -> None:
    declared = _floors().get(_name(advisory["package"]))
    assert declared, f"{advisory['package']} has an advisory but no declared floor"
    for where, version in declared:
        assert _version(version) >= _version(advisory["fixed"]), (
            f"{advisory['package']} {version} in {where} is below {advisory['fixed']}, which "
            f"fixes {advisory['id']} ({advisory['source']}); raise the floor."
        )
