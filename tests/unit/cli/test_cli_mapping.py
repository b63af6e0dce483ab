"""The "Done when" of issue #12 through the real command line: a centre's workbook (three
header rows, summary columns, per-day blocks of CRP/ferritin/LDH, 14 cytokines over days
0-32, CAR-T counts, a note row) goes through ``cartcohort validate`` and ``cartcohort
report`` with one mapping YAML; ``cartcohort map suggest`` writes a starting mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cartcohort.ingest import read_mapping

Make = Callable[..., tuple[Path, Path, dict[str, int]]]


def test_map_suggest_writes_a_starting_mapping(
    run_cli: Callable[..., object], centre_workbook: Make
) -> None:
    book, _, _ = centre_workbook()
    done = run_cli("map", "suggest", str(book), cwd=book.parent)
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    text = done.stdout  # type: ignore[attr-defined]
    suggested = book.parent / "suggested.yaml"
    suggested.write_text(text, encoding="utf-8")
    mapping = read_mapping(suggested)  # a valid mapping as written
    assert (mapping.header_row, mapping.group_rows) == (3, (1, 2))
    data = yaml.safe_load(text)
    assert data["columns"]["Gender"] == "sex"
    assert data["columns"]["Randomized ID"] == "patient_id"
    assert data["columns"]["Toci"] == "tocilizumab"
    assert data["columns"]["Date of death"] == "death_day"
    assert data["date_format"] == "DD.MM.YYYY"
    assert [rule["table"] for rule in data["wide"]] == ["labs", "labs", "kinetics"]
    assert data["wide"][0]["columns"]["CRP (mg/L)"]["day_column"] == "true date_CRP"
    assert "IL-1beta" in data["ignore"]  # in a block, not an analyte of the standard
    assert '# "Comments": ?' in text  # not recognised: left to the user
    assert "coded (0 = MRD- CR" in text


def test_map_suggest_refuses_identifiers(run_cli: Callable[..., object], tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("Study ID,DOB,Gender\nS1,1970-01-01,F\n", encoding="utf-8")
    done = run_cli("map", "suggest", str(path), cwd=tmp_path)
    data = yaml.safe_load(done.stdout)  # type: ignore[attr-defined]
    assert data["columns"] == {"Study ID": "patient_id", "Gender": "sex"}
    assert data["ignore"] == ["DOB"]
    assert "direct identifier" in done.stdout  # type: ignore[attr-defined]


@pytest.mark.slow
def test_centre_workbook_validates_and_reports_with_one_mapping(
    run_cli: Callable[..., object], centre_workbook: Make
) -> None:
    book, mapping, counts = centre_workbook()
    folder = book.parent
    done = run_cli("validate", str(book), "--mapping", str(mapping), "--json", cwd=folder)
    assert done.returncode == 0, done.stdout  # type: ignore[attr-defined]
    report = json.loads(done.stdout)  # type: ignore[attr-defined]
    assert report["ok"]
    assert report["summary"].startswith("83 of 140 columns recognised")
    assert (
        f"labs ({counts['labs']} rows), kinetics ({counts['kinetics']} rows)" in report["summary"]
    )
    notes = [i for i in report["issues"] if i["rule"] == "row.note"]
    assert [i["row"] for i in notes] == [13]

    out = folder / "report"
    done = run_cli(
        "report", "--data", str(book), "--mapping", str(mapping), "--out", str(out), cwd=folder
    )
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    analyses = results["plans"]["crs-survival-factors"]["analyses"]
    status = {key: value["status"] for key, value in analyses.items()}
    assert status["il6_dynamics_by_severity"] == "done"  # cytokine dynamics
    assert status["peak_il6_by_severity"] == "done"  # cytokine peaks
    assert status["peak_crp_by_severity"] == "done"
    assert (out / "report.html").is_file()
