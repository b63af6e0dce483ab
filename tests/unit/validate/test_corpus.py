"""Each entry of the bad-input corpus gives its rule, file, row and column (see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartcohort.ingest import read_source
from cartcohort.validate import validate_cohort

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

# (corpus entry, severity, rule, file name in the issue, row, column)
CASES = [
    ("empty.csv", "error", "file.empty", "empty.csv", None, None),
    ("header_only.csv", "error", "file.no_rows", "header_only.csv", None, None),
    ("binary.csv", "error", "file.binary", "binary.csv", None, None),
    ("excel_named.csv", "error", "file.binary", "excel_named.csv", None, None),
    ("corrupt.xlsx", "error", "file.unreadable", "corrupt.xlsx", None, None),
    ("ragged.csv", "error", "csv.ragged", "ragged.csv", 3, None),
    ("bad_type.csv", "error", "type.number", "bad_type.csv", 3, "age_years"),
    ("bad_integer.csv", "error", "type.integer", "bad_integer.csv", 3, "crs_grade"),
    ("bad_boolean.csv", "error", "type.boolean", "bad_boolean.csv", 3, "tocilizumab"),
    ("bad_date.csv", "error", "type.date", "bad_date.csv", 3, "infusion_date"),
    ("bad_day.csv", "error", "type.day", "bad_day.csv", 3, "relapse_day"),
    ("out_of_range.csv", "error", "range.max", "out_of_range.csv", 4, "crs_grade"),
    ("below_minimum.csv", "error", "range.min", "below_minimum.csv", 2, "age_years"),
    ("bad_vocab.csv", "error", "vocabulary", "bad_vocab.csv", 3, "sex"),
    ("dup_ids.csv", "error", "duplicate.key", "dup_ids.csv", 4, "patient_id"),
    ("missing_id.csv", "error", "required.value", "missing_id.csv", 3, "patient_id"),
    ("no_patient_id.csv", "error", "required.column", "no_patient_id.csv", None, "patient_id"),
    ("duplicate_header.csv", "error", "header.duplicate", "duplicate_header.csv", 1, "age_years"),
    (
        "relapse_without_response.csv",
        "error",
        "logic.relapse_without_response",
        "relapse_without_response.csv",
        3,
        "relapse",
    ),
    (
        "iso_dates_without_infusion_date.csv",
        "error",
        "day.no_infusion_date",
        "iso_dates_without_infusion_date.csv",
        3,
        "death_day",
    ),
    (
        "followup_before_event.csv",
        "error",
        "time.followup_before_event",
        "followup_before_event.csv",
        3,
        "last_followup_day",
    ),
    (
        "event_after_death.csv",
        "error",
        "time.after_death",
        "event_after_death.csv",
        3,
        "relapse_day",
    ),
    (
        "event_before_day0.csv",
        "error",
        "time.before_infusion",
        "event_before_day0.csv",
        3,
        "crs_onset_day",
    ),
    (
        "day_without_flag.csv",
        "error",
        "logic.day_without_flag",
        "day_without_flag.csv",
        3,
        "death_day",
    ),
    ("unknown_lab_unit", "error", "lab.unit", "labs.csv", 2, "unit"),
    ("unknown_analyte", "error", "lab.analyte", "labs.csv", 3, "analyte"),
    ("orphan_patient", "error", "reference.patient", "observations.csv", 3, "patient_id"),
    ("event_before_day0", "error", "time.before_infusion", "events.csv", 2, "day"),
    ("event_after_death", "error", "time.after_death", "observations.csv", 3, "day"),
    ("death_event_after_death", "error", "time.after_death", "events.csv", 3, "day"),
    ("events_disagree", "error", "events.disagree", "events.csv", 2, "day"),
    ("infusion_not_day0", "error", "infusions.first_day", "infusions.csv", 2, "day"),
    ("infusion_order", "error", "infusions.order", "infusions.csv", 3, "day"),
    ("duplicate_observation", "error", "duplicate.key", "observations.csv", 4, "day"),
    ("duplicate_table", "error", "file.duplicate_table", "patients.tsv", None, None),
    ("no_tables", "error", "source.no_tables", "no_tables", None, None),
    # Warnings: the cohort is still built.
    ("soft_maximum.csv", "warning", "range.soft_max", "soft_maximum.csv", 3, "prior_lines"),
    (
        "flag_without_day.csv",
        "warning",
        "logic.day_without_flag",
        "flag_without_day.csv",
        3,
        "death_day",
    ),
    (
        "mrd_negative_nr.csv",
        "warning",
        "logic.mrd_negative_without_cr",
        "mrd_negative_nr.csv",
        3,
        "mrd_negative",
    ),
    ("extra_column.csv", "warning", "extra.column", "extra_column.csv", None, "crs_grde"),
    ("coerced.csv", "warning", "coerced", "coerced.csv", 2, "sex"),
    ("blank_row.csv", "warning", "row.blank", "blank_row.csv", 3, None),
    ("short_row.csv", "warning", "csv.short_row", "short_row.csv", 3, None),
    ("multiline.csv", "warning", "csv.multiline", "multiline.csv", 2, "center"),
    ("latin1.csv", "warning", "file.encoding", "latin1.csv", None, None),
    (
        "multi_sheet_unknown.xlsx",
        "warning",
        "sheet.unknown",
        "multi_sheet_unknown.xlsx",
        None,
        None,
    ),
    ("lab_converted", "warning", "lab.converted", "labs.csv", 2, "unit"),
    ("n_infusions_mismatch", "warning", "infusions.n_infusions", "patients.csv", 2, "n_infusions"),
    ("no_patients_table", "warning", "reference.no_patients", "no_patients_table", None, None),
    ("stray_file", "warning", "file.ignored", "notes.csv", None, None),
]


@pytest.mark.parametrize(
    ("entry", "severity", "rule", "file", "row", "column"),
    [pytest.param(*case, id=f"{case[0]}-{case[2]}") for case in CASES],
)
def test_corpus_entry_reports_rule_file_row_column(
    entry: str, severity: str, rule: str, file: str, row: int | None, column: str | None
) -> None:
    cohort, report = validate_cohort(read_source(CORPUS / entry))
    found = [i for i in report.issues if i.rule == rule]
    assert found, report.render_text()
    issue = found[0]
    assert issue.severity == severity
    assert Path(issue.file).name == file
    assert issue.row == row
    assert issue.column == column
    # An error blocks the cohort; a warning does not.
    assert (cohort is None) == (severity == "error")
    text = report.render_text()
    assert rule in text
    assert file in text


def test_every_corpus_entry_is_covered() -> None:
    entries = {p.name for p in CORPUS.iterdir() if not p.name.startswith("_")} - {"README.md"}
    covered = {case[0] for case in CASES} | {"bom.csv", "semicolon_decimal_comma.csv"}
    assert entries == covered


def test_readme_lists_every_corpus_entry() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case[0]}`" in readme, case[0]
        assert f"`{case[2]}`" in readme, case[2]


@pytest.mark.parametrize("entry", ["bom.csv", "semicolon_decimal_comma.csv"])
def test_clean_corpus_entries_have_no_issue(entry: str) -> None:
    cohort, report = validate_cohort(read_source(CORPUS / entry))
    assert cohort is not None
    assert report.issues == ()


def test_semicolon_file_reads_decimal_commas_as_numbers() -> None:
    cohort, _ = validate_cohort(read_source(CORPUS / "semicolon_decimal_comma.csv"))
    assert cohort is not None
    assert cohort.patients["age_years"].tolist() == [12.5, 40.0]
    assert cohort.patients["mrd_pct"].tolist() == [0.01, 1.0]


def test_bom_is_not_part_of_the_first_header() -> None:
    cohort, _ = validate_cohort(read_source(CORPUS / "bom.csv"))
    assert cohort is not None
    assert cohort.patients.columns[0] == "patient_id"


def test_latin1_file_keeps_accents() -> None:
    cohort, _ = validate_cohort(read_source(CORPUS / "latin1.csv"))
    assert cohort is not None
    assert cohort.patients["center"].tolist() == ["Hôpital Né"]
