"""Readers: formats, encodings, delimiters, row numbers, sheets, folders and databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from cartcohort.errors import IngestError
from cartcohort.ingest import RawCohort, read_frames, read_source
from cartcohort.ingest.readers import cell_text, missing_to_none
from cartcohort.validate import validate_cohort


def _csv(tmp_path: Path, text: str, name: str = "sheet.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rules(raw: RawCohort) -> list[str]:
    return [i.rule for i in raw.issues]


@pytest.mark.parametrize(
    ("text", "delimiter_ok"),
    [
        pytest.param("patient_id,age_years\nP1,40\n", True, id="comma"),
        pytest.param("patient_id;age_years\nP1;40\n", True, id="semicolon"),
        pytest.param("patient_id\tage_years\nP1\t40\n", True, id="tab"),
        pytest.param('patient_id,center\nP1,"Lyon; Sud"\n', True, id="quoted-semicolon"),
    ],
)
def test_delimiter_is_sniffed(tmp_path: Path, text: str, delimiter_ok: bool) -> None:
    raw = read_source(_csv(tmp_path, text))
    frame = raw.tables["patients"].frame
    assert frame["patient_id"].tolist() == ["P1"]
    assert delimiter_ok


def test_semicolon_file_uses_decimal_comma(tmp_path: Path) -> None:
    raw = read_source(_csv(tmp_path, "patient_id;age_years\nP1;12,5\n"))
    table = raw.tables["patients"]
    assert table.decimal == ","
    assert table.frame["age_years"].tolist() == ["12,5"]  # verbatim until validation


def test_decimal_comma_in_a_comma_file_is_a_type_error(tmp_path: Path) -> None:
    cohort, report = validate_cohort(
        read_source(_csv(tmp_path, 'patient_id,age_years\nP1,"12,5"\n'))
    )
    assert cohort is None
    assert report.errors[0].rule == "type.number"


def test_missing_tokens_become_none(tmp_path: Path) -> None:
    raw = read_source(
        _csv(tmp_path, "patient_id,center\nP1,NA\nP2,n/a\nP3,.\nP4,Unknown\nP5, \nP6,Lyon\n")
    )
    assert raw.tables["patients"].frame["center"].tolist() == [None] * 5 + ["Lyon"]


def test_row_numbers_are_spreadsheet_rows(tmp_path: Path) -> None:
    text = '\npatient_id,center\nP1,A\n\nP2,"two\nlines"\nP3,C\n\n\n'
    raw = read_source(_csv(tmp_path, text))
    table = raw.tables["patients"]
    # header on row 2 (row 1 is empty), a blank row 4 skipped with a warning.
    assert table.row_numbers == (3, 5, 6)
    assert table.frame["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert "row.blank" in _rules(raw)
    assert "csv.multiline" in _rules(raw)


def test_utf8_bom_and_latin1(tmp_path: Path) -> None:
    bom = read_source(_csv(tmp_path, "\ufeffpatient_id\nP1\n", name="a.csv"))
    assert list(bom.tables["patients"].frame.columns) == ["patient_id"]
    assert bom.issues == ()
    latin = read_source(_csv(tmp_path, "patient_id,center\nP1,Créteil\n", "b.csv", "cp1252"))
    assert latin.tables["patients"].frame["center"].tolist() == ["Créteil"]
    assert _rules(latin) == ["file.encoding"]


def test_utf16_text_is_read(tmp_path: Path) -> None:
    raw = read_source(_csv(tmp_path, "patient_id\tage_years\nP1\t4\n", encoding="utf-16"))
    assert raw.tables["patients"].frame["age_years"].tolist() == ["4"]


def test_ragged_rows_are_reported_and_kept(tmp_path: Path) -> None:
    rows = "".join(f"P{i},1,x,y\n" for i in range(30))
    raw = read_source(_csv(tmp_path, "patient_id,crs_grade\n" + rows))
    ragged = [i for i in raw.issues if i.rule == "csv.ragged"]
    assert len(ragged) == 21  # 20 rows in detail and one summary
    assert ragged[-1].count == 10
    assert "30 such rows in total" in ragged[-1].message
    assert raw.tables["patients"].n_rows == 30


def test_trailing_empty_delimiters_are_ignored(tmp_path: Path) -> None:
    raw = read_source(_csv(tmp_path, "patient_id;age_years;;\nP1;4;;\n"))
    assert list(raw.tables["patients"].frame.columns) == ["patient_id", "age_years"]
    assert raw.issues == ()


def test_file_stem_names_the_table(tmp_path: Path) -> None:
    raw = read_source(_csv(tmp_path, "patient_id,day,temp_c\nP1,1,38\n", name="Observations.csv"))
    assert list(raw.tables) == ["observations"]


def test_missing_path_and_unsupported_type_raise(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        read_source(tmp_path / "nope.csv")
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    with pytest.raises(IngestError, match="unsupported file type"):
        read_source(tmp_path / "data.json")


def test_old_xls_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0rest")
    raw = read_source(tmp_path / "old.xls")
    assert _rules(raw) == ["file.unreadable"]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet(title)
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_single_sheet_is_patients_with_typed_cells(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "cohort.xlsx",
        {
            "Sheet1": [
                ["patient_id", "age_years", "infusion_date", "tocilizumab"],
                ["P1", 40, dt.datetime(2021, 3, 4), True],
                [None, None, None, None],
                ["P2", 12.5, dt.datetime(2021, 5, 6), False],
            ]
        },
    )
    raw = read_source(path)
    table = raw.tables["patients"]
    assert table.sheet == "Sheet1"
    assert table.row_numbers == (2, 4)
    assert table.frame["age_years"].tolist() == ["40", "12.5"]
    assert table.frame["infusion_date"].tolist() == ["2021-03-04", "2021-05-06"]
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()
    assert cohort.patients["tocilizumab"].tolist() == [True, False]


def test_xlsx_one_sheet_per_table_skips_notes_and_empty_template_sheets(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "cohort.xlsx",
        {
            "_README": [["notes"]],
            "Patients": [["patient_id"], ["P1"]],
            "labs": [["patient_id", "day", "analyte", "value", "unit"]],  # unfilled template
            "Observations": [["patient_id", "day", "temp_c"], ["P1", 1, 38.5]],
            "Sheet3": [["x"], [1]],
        },
    )
    raw = read_source(path)
    assert sorted(raw.tables) == ["observations", "patients"]
    unknown = [i for i in raw.issues if i.rule == "sheet.unknown"]
    assert [i.sheet for i in unknown] == ["Sheet3"]


def test_parquet_and_duckdb(tmp_path: Path) -> None:
    import duckdb

    frame = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "age_years": [40.0, np.nan], "crs_grade": [1.0, 2.0]}
    )
    frame.to_parquet(tmp_path / "patients.parquet")
    raw = read_source(tmp_path / "patients.parquet")
    table = raw.tables["patients"]
    assert table.frame["age_years"].tolist() == ["40", None]
    assert table.frame["crs_grade"].tolist() == ["1", "2"]  # no '.0' from float storage
    assert table.row_numbers == (2, 3)
    db = tmp_path / "cohort.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE patients AS SELECT * FROM frame")
    con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    con.close()
    raw_db = read_source(db)
    assert list(raw_db.tables) == ["patients"]
    assert _rules(raw_db) == ["sheet.unknown"]


def test_folder_with_cohort_yaml(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text("patient_id\nP1\n", encoding="utf-8")
    (tmp_path / "labs.csv").write_text(
        "patient_id,day,analyte,value,unit\nP1,1,crp,3,mg/L\n", encoding="utf-8"
    )
    (tmp_path / "cohort.yaml").write_text(
        "name: Demo\nsynthetic: true\ndescription: simulated\n", encoding="utf-8"
    )
    (tmp_path / "~$patients.xlsx").write_bytes(b"lock")
    raw = read_source(tmp_path)
    assert raw.name == "Demo"
    assert raw.synthetic is True
    assert raw.description == "simulated"
    assert sorted(raw.tables) == ["labs", "patients"]
    assert len(raw.sources) == 2
    assert all(len(s.sha256) == 64 for s in raw.sources)
    assert raw.issues == ()


def test_bad_cohort_yaml_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text("patient_id\nP1\n", encoding="utf-8")
    (tmp_path / "cohort.yaml").write_text("synthetic: maybe\n", encoding="utf-8")
    raw = read_source(tmp_path)
    assert _rules(raw) == ["file.metadata"]
    assert raw.synthetic is False


def test_read_frames_formats_like_a_file() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "crs_grade": pd.array([1, None], dtype="Int64"),
            "death": pd.array([True, None], dtype="boolean"),
            "infusion_date": pd.to_datetime(["2021-01-02", None]),
        }
    )
    raw = read_frames({"Patients": frame, "nonsense": frame})
    table = raw.tables["patients"]
    assert table.frame["crs_grade"].tolist() == ["1", None]
    assert table.frame["death"].tolist() == ["true", None]
    assert table.frame["infusion_date"].tolist() == ["2021-01-02", None]
    assert _rules(raw) == ["sheet.unknown"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(3.0, "3", id="integral-float"),
        pytest.param(0.1, "0.1", id="float"),
        pytest.param(True, "true", id="bool"),
        pytest.param(np.int64(7), "7", id="numpy-int"),
        pytest.param(dt.datetime(2021, 1, 2), "2021-01-02", id="midnight"),
        pytest.param(dt.datetime(2021, 1, 2, 3, 4), "2021-01-02T03:04:00", id="datetime"),
        pytest.param("x", "x", id="text"),
    ],
)
def test_cell_text(value: object, expected: str | None) -> None:
    assert cell_text(value) == expected


def test_missing_to_none_keeps_other_values() -> None:
    out = missing_to_none(["a", "NA", None, " ", "unknown", "b"])
    assert out.tolist() == ["a", None, None, None, None, "b"]


def test_missing_to_none_when_every_value_is_missing() -> None:
    assert missing_to_none([None, None]).tolist() == [None, None]


def _damaged_workbook(tmp_path: Path, name: str, part: str, old: bytes, new: bytes) -> Path:
    """A valid workbook with one byte string of one part replaced (a damaged file)."""
    import zipfile

    good = tmp_path / "good.xlsx"
    wb = Workbook()
    wb.active.append(["patient_id", "age_years"])
    wb.active.append(["P1", 40])
    wb.save(good)
    bad = tmp_path / name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data.replace(old, new) if info.filename == part else data)
    return bad


@pytest.mark.parametrize(
    ("part", "old", "new", "says"),
    [
        ("xl/workbook.xml", b"<workbook", b"<notxml <workbook", "cannot be opened"),
        ("xl/worksheets/sheet1.xml", b"<v>40</v>", b"<v>abc</v>", "this sheet cannot be read"),
        ("xl/worksheets/sheet1.xml", b'r="B2"', b'r="ZZZZ2"', "this sheet cannot be read"),
    ],
    ids=["bad-xml", "text-in-number-cell", "cell-beyond-XFD"],
)
def test_a_damaged_workbook_is_an_error_not_a_crash(
    tmp_path: Path, part: str, old: bytes, new: bytes, says: str
) -> None:
    raw = read_source(_damaged_workbook(tmp_path, "damaged.xlsx", part, old, new))
    errors = [i for i in raw.issues if i.rule == "file.unreadable"]
    assert len(errors) == 1, raw.issues
    assert says in errors[0].message
    assert "save it again as .xlsx" in errors[0].hint
