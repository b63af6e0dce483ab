"""Nothing is lost or changed on read without a word.

Each file is shaped like one a centre sends (Excel's semicolon CSV with decimal commas, a
workbook with a formula column, ids pasted from another document) and carries one defect
that used to pass silently: an uncached formula, a NUL byte, an unclosed quote, one
Windows-1252 byte in a UTF-8 file, Excel date serials in a day column, invisible
characters in ids. Each is now an error or a warning that names the row and column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from cartcohort.ingest import Issue, read_source
from cartcohort.validate import validate_cohort


def _issues(path: Path, rule: str) -> list[Issue]:
    raw = read_source(path)
    _, report = validate_cohort(raw)
    return [i for i in report.issues if i.rule == rule]


def _patients(n: int, *, sep: str = ";") -> list[str]:
    """A European Excel export: semicolons, decimal commas, a free-text note."""
    header = sep.join(["patient_id", "age_years", "sex", "weight_kg", "note"])
    rows = [
        sep.join([f"CHU-{i:04d}", str(30 + i % 40), "MF"[i % 2], f"{60 + i % 30},5", "ok"])
        for i in range(1, n + 1)
    ]
    return [header, *rows]


# -----------------------------------------------------------------------------------------
# Uncached formulas
# -----------------------------------------------------------------------------------------
def test_formula_without_a_saved_result_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "patients"
    ws.append(["patient_id", "age_years", "weight_kg", "bmi"])
    ws.append(["CHU-0001", 45, 70.5, 24.1])
    ws.append(["CHU-0002", "=B2+1", 80, "=C3/1.8^2"])  # written by a script: no result
    text = ws.cell(row=4, column=1, value="=not a formula")
    text.data_type = "s"  # text that starts with "=": not a formula, not reported
    ws.append([None, 50, 60, 20])
    path = tmp_path / "cohort.xlsx"
    wb.save(path)

    raw = read_source(path)
    found = [i for i in raw.issues if i.rule == "sheet.formula_uncached"]
    assert [(i.severity, i.row, i.column) for i in found] == [
        ("error", 3, "age_years"),
        ("error", 3, "bmi"),
    ]
    assert "B3" in found[0].message
    assert "D3" in found[1].message
    cohort, report = validate_cohort(raw)
    assert cohort is None
    assert not report.ok


def test_workbook_without_formulas_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["patient_id", "age_years"])
    ws.append(["CHU-0001", 45])
    path = tmp_path / "patients.xlsx"
    wb.save(path)
    calls: list[bool] = []
    original = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(bool(kwargs.get("data_only")))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    raw = read_source(path)
    assert raw.tables["patients"].n_rows == 1
    assert False not in calls  # no second, formula-reading parse


# -----------------------------------------------------------------------------------------
# NUL bytes, unclosed quotes, row counts
# -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [20, 4000], ids=["small-file", "nul-after-64kB"])
def test_nul_byte_is_an_error_with_its_row(tmp_path: Path, n: int) -> None:
    lines = _patients(n)
    at = n - 5
    lines[at] = lines[at].replace("ok", "o\x00k")
    path = tmp_path / "patients.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    found = _issues(path, "csv.nul")
    assert [(i.severity, i.row) for i in found] == [("error", at + 1)]
    assert _issues(path, "file.binary") == []


def test_unclosed_quote_is_an_error_with_the_row_where_it_opens(tmp_path: Path) -> None:
    lines = _patients(20)
    lines[6] = lines[6].replace(";ok", ';"ok')  # row 7 of the sheet; the quote never closes
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_source(path)
    assert raw.tables["patients"].n_rows == 6  # 14 rows were swallowed into one value
    cohort, report = validate_cohort(raw)
    found = [i for i in report.issues if i.rule == "csv.unclosed_quote"]
    assert [(i.severity, i.row, i.column) for i in found] == [("error", 7, "note")]
    assert "14 following line(s)" in found[0].message
    assert "21 lines but gave 7 rows" in found[0].message
    assert cohort is None


def test_a_quoted_line_break_in_a_note_is_still_only_a_warning(tmp_path: Path) -> None:
    lines = _patients(5)
    lines[2] = lines[2].replace(";ok", ';"first line\nsecond line"')
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_source(path)
    cohort, report = validate_cohort(raw)
    assert cohort is not None
    assert [i.rule for i in report.issues if i.rule.startswith("csv.")] == ["csv.multiline"]


# -----------------------------------------------------------------------------------------
# Encodings
# -----------------------------------------------------------------------------------------
def test_one_windows_1252_byte_in_a_utf8_file_is_reported_per_cell(tmp_path: Path) -> None:
    lines = _patients(6)
    data = [line.encode("utf-8") for line in lines]
    data[2] = data[2].replace(b";ok", ";José".encode())
    data[4] = data[4].replace(b";ok", ";Müller".encode("cp1252"))  # pasted from an old file
    path = tmp_path / "patients.csv"
    path.write_bytes(b"\r\n".join(data) + b"\r\n")
    raw = read_source(path)
    notes = raw.tables["patients"].frame["note"].tolist()
    assert notes[1] == "José"  # the UTF-8 text is read as UTF-8
    assert notes[3] == "Müller"
    found = [i for i in raw.issues if i.rule.startswith("file.")]
    assert [(i.rule, i.severity, i.row, i.column, i.value) for i in found] == [
        ("file.mixed_encoding", "warning", 5, "note", "ü")
    ]
    assert "0xFC" in found[0].message


def test_a_windows_1252_file_keeps_its_single_file_warning(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes("\r\n".join(_patients(3)).replace("ok", "Zoë").encode("cp1252"))
    raw = read_source(path)
    assert [i.rule for i in raw.issues] == ["file.encoding"]
    assert raw.tables["patients"].frame["note"].tolist() == ["Zoë"] * 3


# -----------------------------------------------------------------------------------------
# Excel date serials in day columns
# -----------------------------------------------------------------------------------------
def test_excel_date_serials_in_a_day_column_are_refused(tmp_path: Path) -> None:
    text = (
        "patient_id;infusion_date;death_day;last_followup_day\n"
        "CHU-0001;2023-01-10;45123;45123\n"  # 2023-07-16 as Excel stores it
        "CHU-0002;2023-02-01;;400\n"
        "CHU-0003;2023-03-01;;2023-09-01\n"
    )
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    cohort, report = validate_cohort(read_source(path))
    found = [i for i in report.issues if i.rule == "day.excel_serial"]
    assert [(i.severity, i.row, i.column, i.value) for i in found] == [
        ("error", 2, "death_day", "45123"),
        ("error", 2, "last_followup_day", "45123"),
    ]
    assert "2023-07-16" in found[0].message
    assert "Format the column as a date" in found[0].hint
    assert cohort is None
    assert [i.rule for i in report.issues if i.rule.startswith("range.")] == []


# -----------------------------------------------------------------------------------------
# Invisible characters in identifiers
# -----------------------------------------------------------------------------------------
def test_bom_and_zero_width_characters_are_stripped_from_ids(tmp_path: Path) -> None:
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "patient_id,age_years\n\ufeffCHU-0001,40\nCHU\u200b-0002,41\n", encoding="utf-8-sig"
    )
    (folder / "labs.csv").write_text(
        "patient_id,day,analyte,value,unit\nCHU-0001,0,crp,12,mg/L\nCHU-0002\u2060,0,crp,8,mg/L\n",
        encoding="utf-8",
    )
    raw = read_source(folder)
    assert raw.tables["patients"].frame["patient_id"].tolist() == ["CHU-0001", "CHU-0002"]
    assert raw.tables["labs"].frame["patient_id"].tolist() == ["CHU-0001", "CHU-0002"]
    found = [i for i in raw.issues if i.rule == "row.invisible_characters"]
    assert [(i.table, i.row, i.column, i.count) for i in found] == [
        ("labs", 3, "patient_id", 1),
        ("patients", 2, "patient_id", 2),
    ]
    cohort, report = validate_cohort(raw)
    assert cohort is not None  # the labs rows join their patients
    assert report.n_errors == 0
