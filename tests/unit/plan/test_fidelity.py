"""The fidelity files of the built-in plans agree with the plans and with docs/seed-fidelity.md."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from cartcohort.errors import PlanError
from cartcohort.plan.fidelity import (
    FIDELITY_DIR,
    STATUSES,
    fidelity_markdown,
    fidelity_problems,
    load_fidelity,
)
from cartcohort.plan.schema import builtin_plans, load_plan

DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.mark.parametrize("plan", builtin_plans())
def test_every_plan_analysis_is_listed_and_every_listed_analysis_exists(plan: str) -> None:
    assert fidelity_problems(plan) == []


@pytest.mark.parametrize("plan", builtin_plans())
def test_rows_have_allowed_status_and_notes_where_needed(plan: str) -> None:
    fid = load_fidelity(plan)
    assert fid.plan == plan
    assert fid.rows
    for row in fid.rows:
        assert row.status in STATUSES
        if row.status in ("differs", "not_reproducible"):
            assert row.note
            assert row.note.strip()
        if row.status == "supplementary":
            assert row.paper is None
            assert row.analysis
        else:
            assert row.paper
            assert row.paper_method


@pytest.mark.parametrize("plan", builtin_plans())
def test_published_values_point_at_a_paper_row(plan: str) -> None:
    """An analysis with a ``published:`` value reproduces the paper: it is not supplementary."""
    fid = load_fidelity(plan)
    in_paper = {a for r in fid.rows if r.status != "supplementary" for a in r.analysis}
    published = {a.id for a in load_plan(plan).analyses if getattr(a, "published", None)}
    assert published <= in_paper


def test_every_builtin_plan_has_a_fidelity_file_and_no_file_is_orphaned() -> None:
    files = sorted(p.stem for p in FIDELITY_DIR.glob("*.yaml"))
    assert files == sorted(builtin_plans())


def test_docs_seed_fidelity_is_current() -> None:
    actual = (DOCS / "seed-fidelity.md").read_text(encoding="utf-8")
    assert actual == fidelity_markdown(), (
        'run: python -c "from cartcohort.plan.fidelity import fidelity_markdown as f; '
        "open('docs/seed-fidelity.md','w',encoding='utf-8').write(f())\""
    )


def test_docs_show_counts_per_plan() -> None:
    text = fidelity_markdown()
    for plan in builtin_plans():
        counts = load_fidelity(plan).counts()
        section = text.split(f"## `{plan}`", 1)[1].split("\n## ", 1)[0]
        assert f"**same {counts['same']} · differs {counts['differs']} · " in section


def _copy(tmp_path: Path, plan: str) -> tuple[Path, dict[str, object]]:
    shutil.copy(FIDELITY_DIR / f"{plan}.yaml", tmp_path / f"{plan}.yaml")
    data = yaml.safe_load((tmp_path / f"{plan}.yaml").read_text(encoding="utf-8"))
    return tmp_path, data


def _write(directory: Path, plan: str, data: dict[str, object]) -> None:
    (directory / f"{plan}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_a_plan_analysis_missing_from_the_file_is_reported(tmp_path: Path) -> None:
    directory, data = _copy(tmp_path, "mrd")
    rows = data["rows"]
    assert isinstance(rows, list)
    data["rows"] = [r for r in rows if r["analysis"] != "hsct_os"]
    _write(directory, "mrd", data)
    problems = fidelity_problems("mrd", directory=directory)
    assert len(problems) == 1
    assert "'hsct_os' is in no row" in problems[0]


def test_an_unknown_analysis_id_is_reported(tmp_path: Path) -> None:
    directory, data = _copy(tmp_path, "mrd")
    rows = data["rows"]
    assert isinstance(rows, list)
    rows[0]["analysis"] = "no_such_analysis"
    _write(directory, "mrd", data)
    problems = fidelity_problems("mrd", directory=directory)
    assert any("'no_such_analysis', which plan 'mrd' does not have" in p for p in problems)
    assert any("'baseline' is in no row" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "maybe"}, "rows.0.status"),
        ({"status": "differs", "note": None}, "needs a note"),
        ({"status": "not_reproducible", "note": " "}, "needs a note"),
        ({"status": "not_reproducible", "note": "x"}, "names no plan analysis"),
        ({"status": "supplementary"}, "give paper: null"),
        ({"paper_method": None}, "needs the paper's location and method"),
        ({"extra": 1}, "rows.0.extra"),
    ],
)
def test_malformed_rows_are_refused_with_file_and_row(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    directory, data = _copy(tmp_path, "mrd")
    rows = data["rows"]
    assert isinstance(rows, list)
    rows[0].update(change)
    _write(directory, "mrd", data)
    with pytest.raises(PlanError, match=re.escape("mrd.yaml")) as info:
        load_fidelity("mrd", directory=directory)
    assert message in str(info.value)


def test_missing_fidelity_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=re.escape("'mrd.yaml' for plan 'mrd' does not exist")):
        load_fidelity("mrd", directory=tmp_path)
