"""Centres' own workbooks (issue #12): title and group rows, per-day blocks, coded columns,
notes and totals, local dates, clinical synonyms. Every workbook is made here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from cartcohort.ingest import ColumnMapping, read_source
from cartcohort.ingest._layout import column_letter, group_labels, note_rows
from cartcohort.ingest.synonyms import suggest_columns, synonym_for, synonyms
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.validate import ValidationReport, validate_cohort

Make = Callable[..., tuple[Path, Path, dict[str, int]]]


def _book(path: Path, rows: Sequence[Sequence[object]], merges: Sequence[str] = ()) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in rows:
        ws.append(list(row))
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def _validate(path: Path, mapping: dict[str, object] | None = None) -> ValidationReport:
    raw = read_source(path, mapping=ColumnMapping.from_dict(mapping) if mapping else None)
    return validate_cohort(raw)[1]


def _rules(report: ValidationReport) -> list[str]:
    return [i.rule for i in report.issues]


# ---------------------------------------------------------------------------------------------
# The workbook of the "Done when"
# ---------------------------------------------------------------------------------------------
def test_centre_workbook_reads_into_patients_labs_and_kinetics(centre_workbook: Make) -> None:
    book, mapping, counts = centre_workbook()
    raw = read_source(book, mapping=mapping)
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()
    assert report.ok
    assert len(cohort.patients) == 8  # the footnote is not a patient
    assert len(cohort.tables["labs"]) == counts["labs"]
    assert len(cohort.tables["kinetics"]) == counts["kinetics"]
    assert set(cohort.tables["kinetics"]["unit"]) == {"cells_per_ul"}
    labs = cohort.tables["labs"]
    assert set(labs["analyte"]) == {
        "crp",
        "ferritin",
        "ldh",
        "il6",
        "ifng",
        "il10",
        "il2",
        "il8",
        "tnfa",
        "il2r",
    }
    assert sorted(set(labs.loc[labs["analyte"] == "il6", "day"])) == [0, 4, 7, 10, 14, 21, 28, 32]
    crp_days = set(labs.loc[labs["analyte"] == "crp", "day"])  # the "true date" of each value
    assert crp_days <= {-1, 0, 1, 6, 7, 8, 13, 14, 15}
    assert len(crp_days) > 3
    patients = cohort.patients
    assert set(patients["crs_grading_system"]) == {"lee2014"}  # the constant
    # one coded column, two targets: only a code-0 complete response is MRD-negative
    assert not patients.loc[patients["best_response"] != "CR", "mrd_negative"].any()
    assert set(patients["best_response"]) <= {"CR", "PR", "NR"}
    assert str(patients["infusion_date"].iloc[1])[:10] == "2021-02-10"  # 10.02.2021, declared
    assert patients["death_day"].notna().sum() == 2  # dates of death turned into days
    notes = [i for i in report.issues if i.rule == "row.note"]
    assert [(i.row, i.severity) for i in notes] == [(13, "warning")]
    assert report.summary.startswith("83 of 140 columns recognised (57 left out by the mapping)")
    assert "8 patients" in report.summary
    assert "labs (520 rows), kinetics (32 rows)" in report.summary
    assert (
        report.render_text().rstrip().endswith("Outcomes recognised: response, toxicity, survival.")
    )


def test_centre_workbook_without_mapping_says_where_the_header_is(centre_workbook: Make) -> None:
    book, _, _ = centre_workbook()
    report = validate_cohort(read_source(book))[1]
    detected = [i for i in report.issues if i.rule == "header.detected"]
    assert [i.message for i in detected] == [
        "header read from row 3; rows 1-2 read as group labels."
    ]
    assert not any(i.rule == "header.duplicate" for i in report.issues)  # repeats nobody uses
    assert report._headline().startswith("Validation of")
    coverage = [i for i in report.issues if i.rule == "source.coverage"]
    assert len(coverage) == 1
    assert "0 of 140" in coverage[0].message
    text = report.render_text()
    extra = [ln for ln in text.splitlines() if "(rule extra.column)" in ln]
    assert len(extra) == 1  # one grouped line, not one per column
    assert "'Gender' (did you mean 'sex'?)" in extra[0]
    assert "'Toci' (did you mean 'tocilizumab'?)" in extra[0]


def test_a_bad_value_in_a_wide_block_is_located_by_its_cell(tmp_path: Path) -> None:
    book = _book(
        tmp_path / "b.xlsx",
        [
            ["", "Labs", None],
            ["", "Day 7", None],
            ["Subject ID", "CRP (mg/L)", "LDH (U/L)"],
            ["P1", 12, 200],
            ["P2", "high", 210],
        ],
        merges=["B1:C1", "B2:C2"],
    )
    mapping = {
        "header_row": 3,
        "columns": {"Subject ID": "patient_id"},
        "wide": [
            {
                "table": "labs",
                "group": r"Day (?P<day>\d+)",
                "columns": {
                    "CRP (mg/L)": {"analyte": "CRP", "unit": "mg/L"},
                    "LDH (U/L)": {"analyte": "LDH", "unit": "U/L"},
                },
            }
        ],
    }
    report = _validate(book, mapping)
    bad = [i for i in report.errors if i.table == "labs"]
    assert [(i.cell, i.row, i.column, i.value) for i in bad] == [("B5", 5, "value", "high")]
    assert "sheet 'Data' cell B5, column value" in bad[0].location


def test_wide_cells_without_a_day_are_one_message(tmp_path: Path) -> None:
    book = _book(
        tmp_path / "b.xlsx",
        [
            ["Patient ID", "CRP (mg/L)", "true date_CRP"],
            ["P1", 12, 3],
            ["P2", 14, None],
            ["P3", None, None],
        ],
    )
    mapping = {
        "wide": [
            {
                "table": "labs",
                "header": "^CRP",
                "columns": {"CRP (mg/L)": {"analyte": "CRP", "day_column": "true date_CRP"}},
            }
        ],
    }
    raw = read_source(book, mapping=ColumnMapping.from_dict(mapping))
    lost = [i for i in raw.issues if i.rule == "wide.no_day"]
    assert [(i.count, i.cell, i.severity) for i in lost] == [(1, "B3", "error")]
    assert raw.tables["labs"].frame["day"].tolist() == ["3"]
    assert "true_date_crp" not in raw.tables["patients"].frame.columns  # the day column is taken


# ---------------------------------------------------------------------------------------------
# Header rows and group labels
# ---------------------------------------------------------------------------------------------
def test_title_row_csv_is_not_taken_as_the_header(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "CAR-T cohort 2021,,,\npatient_id,sex,age_years,crs_grade\nP1,M,40,1\nP2,F,50,2\n",
        encoding="utf-8",
    )
    cohort, report = validate_cohort(read_source(path))
    assert cohort is not None, report.render_text()
    assert cohort.patients["crs_grade"].tolist() == [1, 2]
    assert [i.message for i in report.issues if i.rule == "header.detected"] == [
        "header read from row 2; row 1 read as group labels."
    ]


def test_declared_header_row_beyond_the_sheet_is_an_error(tmp_path: Path) -> None:
    book = _book(tmp_path / "b.xlsx", [["patient_id", "sex"], ["P1", "M"]])
    report = _validate(book, {"header_row": 9})
    assert "mapping.header_row" in report.rules("error")


def test_merged_labels_carry_right_but_not_past_a_new_section() -> None:
    grid: list[list[str | None]] = [
        ["Clinical", None, "Labs", None, None, None],
        [None, None, "Day 0", None, "Day 7", None],
        ["id", "sex", "CRP", "LDH", "CRP", "LDH"],
    ]
    assert group_labels(grid, [0, 1], 6) == [
        "Clinical",
        "Clinical",
        "Labs / Day 0",
        "Labs / Day 0",
        "Labs / Day 7",
        "Labs / Day 7",
    ]
    grid[0][4] = "Cytokines"  # a new section: "Day 0" must not carry into it
    grid[1][4] = None
    assert group_labels(grid, [0, 1], 6)[4:] == ["Cytokines", "Cytokines"]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# ---------------------------------------------------------------------------------------------
# Notes and totals
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "note",
    [
        "* grades per ASTCT 2019",
        "# excluded patients not shown",
        "Note: day 0 = infusion",
        "Total",
        "Mean",
        "n = 6",
    ],
)
def test_note_and_total_rows_are_reported_and_left_out(tmp_path: Path, note: str) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(
        f"patient_id,sex,crs_grade,age_years\nP1,M,1,40\nP2,F,2,50\n{note},,3,45\n",
        encoding="utf-8",
    )
    cohort, report = validate_cohort(read_source(path))
    assert cohort is not None, report.render_text()
    assert cohort.patients["patient_id"].tolist() == ["P1", "P2"]
    notes = [i for i in report.issues if i.rule == "row.note"]
    assert [(i.row, i.severity) for i in notes] == [(4, "warning")]


def test_a_sentence_below_the_data_is_a_note(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(
        "patient_id,sex,crs_grade\nP1,M,1\nP2,F,2\nSource: centre registry export,,\n",
        encoding="utf-8",
    )
    report = validate_cohort(read_source(path))[1]
    assert [i.row for i in report.issues if i.rule == "row.note"] == [4]


def test_a_patient_row_is_not_a_note() -> None:
    body: list[list[str | None]] = [["P1", "M", "1"], ["P2", None, None], ["P3", None, None]]
    assert note_rows(body, 3) == []  # an id alone is a sparse record, not a sentence


# ---------------------------------------------------------------------------------------------
# Dates, coded columns, constants, ignore, repeated headers
# ---------------------------------------------------------------------------------------------
def _dates_csv(tmp_path: Path, dates: Sequence[str]) -> Path:
    path = tmp_path / "patients.csv"
    rows = "".join(f"P{i},{d}\n" for i, d in enumerate(dates, start=1))
    path.write_text("patient_id,infusion_date\n" + rows, encoding="utf-8")
    return path


def test_undeclared_day_first_dates_are_read_with_a_warning(tmp_path: Path) -> None:
    path = _dates_csv(tmp_path, ["13.06.2021", "02.07.2021"])
    cohort, report = validate_cohort(read_source(path))
    assert cohort is not None, report.render_text()
    assert [str(d)[:10] for d in cohort.patients["infusion_date"]] == ["2021-06-13", "2021-07-02"]
    (assumed,) = [i for i in report.issues if i.rule == "date.format_assumed"]
    assert "DD.MM.YYYY" in assumed.message
    assert assumed.column == "infusion_date"


def test_ambiguous_dates_are_an_error_that_says_how_to_declare(tmp_path: Path) -> None:
    path = _dates_csv(tmp_path, ["03/04/2021", "05/06/2021"])
    report = validate_cohort(read_source(path))[1]
    (ambiguous,) = [i for i in report.errors if i.rule == "date.ambiguous"]
    assert "date_format: DD/MM/YYYY" in ambiguous.hint
    declared = validate_cohort(
        read_source(path, mapping=ColumnMapping.from_dict({"date_format": "MM/DD/YYYY"}))
    )
    assert declared[0] is not None
    assert str(declared[0].patients["infusion_date"].iloc[0])[:10] == "2021-03-04"


def test_excel_serials_in_a_date_column_are_dates(tmp_path: Path) -> None:
    book = _book(tmp_path / "b.xlsx", [["patient_id", "infusion_date"], ["P1", 44360]])
    raw = read_source(book)
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()
    assert str(cohort.patients["infusion_date"].iloc[0])[:10] == "2021-06-13"
    assert "date.excel_serial" in report.rules("warning")


def test_repeated_header_is_an_error_only_when_used(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,Remark,Remark,sex,Sex\nP1,a,b,M,M\n", encoding="utf-8")
    report = validate_cohort(read_source(path))[1]
    duplicates = [i for i in report.issues if i.rule == "header.duplicate"]
    assert [i.column for i in duplicates] == ["sex"]


def test_ignore_and_constants(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,crs_grade,Remark 1,Remark 2\nP1,2,a,b\n", encoding="utf-8")
    mapping = {"ignore": ["Remark*"], "constants": {"crs_grading_system": "penn"}}
    cohort, report = validate_cohort(read_source(path, mapping=ColumnMapping.from_dict(mapping)))
    assert cohort is not None, report.render_text()
    assert cohort.patients["crs_grading_system"].tolist() == ["penn"]
    assert "remark_1" not in cohort.patients.columns
    assert not report.issues
    assert report.summary.startswith("2 of 4 columns recognised (2 left out by the mapping)")


# ---------------------------------------------------------------------------------------------
# Clinical synonyms
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Gender", "sex"),
        ("Sex (M/F)", "sex"),
        ("DOB", "identifier"),
        ("Date of Birth", "identifier"),
        ("Toci", "tocilizumab"),
        ("Tocilizumab given", "tocilizumab"),
        ("Max Grade CRS", "crs_grade"),
        ("CRS grade", "crs_grade"),
        ("Died", "death"),
        ("Deceased", "death"),
        ("Vital status", "death"),
        ("Date of death", "death_day"),
        ("Bone marrow blasts (%)", "bm_blasts_pct"),
        ("BM blasts", "bm_blasts_pct"),
        ("Randomized ID", "patient_id"),
        ("Subject ID", "patient_id"),
        ("Study ID", "patient_id"),
        ("Geschlecht", "sex"),
        ("Décès", "death"),
    ],
)
def test_clinical_synonyms(header: str, column: str) -> None:
    found = synonym_for(header)
    assert found is not None
    assert found.column == column


def test_every_synonym_names_a_column_and_a_source() -> None:
    table = synonyms()
    assert len(table) > 150
    for entry in table.values():
        assert entry.source.strip()
        assert entry.is_identifier or entry.column in TABLE_BY_NAME[entry.table].column_names


def test_suggestions_use_synonyms_before_string_similarity() -> None:
    assert suggest_columns("Gender", "patients") == ("sex",)  # similarity said 'center'
    assert suggest_columns("CRS grde", "patients")[0] == "crs_grade"
    assert suggest_columns("DOB", "patients") == ()


def test_wide_rows_keep_their_values_verbatim(tmp_path: Path) -> None:
    values = np.round(np.linspace(0.5, 9.5, 4), 2)
    book = _book(
        tmp_path / "b.xlsx",
        [
            ["", "Day 1", "Day 2"],
            ["Patient ID", "IL-6", "IL-6"],
            ["P1", *values[:2]],
            ["P2", *values[2:]],
        ],
    )
    mapping = {
        "wide": [
            {
                "table": "labs",
                "group": r"Day (?P<day>\d+)",
                "columns": {"IL-6": {"analyte": "IL-6", "unit": "pg/mL"}},
            }
        ]
    }
    raw = read_source(book, mapping=ColumnMapping.from_dict(mapping))
    labs = raw.tables["labs"]
    assert labs.frame["value"].tolist() == [
        str(v) for v in (values[0], values[2], values[1], values[3])
    ]
    assert labs.cells == ("B3", "B4", "C3", "C4")
    assert labs.frame["day"].tolist() == ["1", "1", "2", "2"]
