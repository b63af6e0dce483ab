"""REDCap (issue #12 item 5): a data dictionary and a records export (raw or label values,
repeating instruments, events) into the standard; the standard as a data dictionary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cartcohort.errors import IngestError
from cartcohort.ingest.readers import read_redcap
from cartcohort.ingest.redcap import DICTIONARY_COLUMNS, read_dictionary, redcap_dictionary
from cartcohort.model.standard import TABLES
from cartcohort.validate import validate_cohort

RAW = (
    (
        "patient_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,sex,"
        "age_years,crs_grade,tocilizumab,best_response,labs_day,labs_analyte,labs_value,labs_unit\n"
    )
    + """P1,baseline_arm_1,,,1,40,2,1,1,,,,
P1,baseline_arm_1,labs,1,,,,,,0,il6,12,pg/mL
P1,baseline_arm_1,labs,2,,,,,,7,il6,150,pg/mL
P2,baseline_arm_1,,,2,50,0,0,4,,,,
P2,followup_arm_1,,,,,,,,,,,
"""
)


def _dictionary(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "dictionary.csv"
    path.write_text(redcap_dictionary() + extra, encoding="utf-8")
    return path


def _labels(dictionary: Path) -> dict[str, str]:
    return {f.name: f.label for f in read_dictionary(dictionary)}


def test_the_dictionary_holds_every_column_of_the_standard(tmp_path: Path) -> None:
    fields = read_dictionary(_dictionary(tmp_path))
    names = [f.name for f in fields]
    assert names[0] == "patient_id"  # the record id comes first
    assert names.count("patient_id") == 1
    expected = sum(len(t.columns) for t in TABLES) - (len(TABLES) - 1)
    assert len(names) == len(set(names)) == expected  # field names are unique
    by_name = {f.name: f for f in fields}
    assert dict(by_name["sex"].choices) == {"1": "M", "2": "F"}
    assert by_name["tocilizumab"].type == "yesno"
    assert by_name["infusion_date"].validation == "date_ymd"
    assert by_name["labs_analyte"].form == "labs"
    header = next(csv.reader(io.StringIO(redcap_dictionary())))
    assert tuple(header) == DICTIONARY_COLUMNS


def test_raw_export_with_repeating_instrument_and_events(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records.write_text(RAW, encoding="utf-8")
    raw = read_redcap(records, _dictionary(tmp_path))
    patients = raw.tables["patients"].frame
    assert patients["patient_id"].tolist() == ["P1", "P2"]  # one row per record over events
    assert patients["sex"].tolist() == ["M", "F"]  # codes -> labels
    assert patients["tocilizumab"].tolist() == ["yes", "no"]
    assert patients["best_response"].tolist() == ["CR", "NR"]
    assert "labs_day" not in patients.columns  # a repeating form's fields stay in its table
    labs = raw.tables["labs"]
    assert labs.frame["day"].tolist() == ["0", "7"]
    assert labs.row_numbers == (3, 4)  # the rows of the export
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()
    assert report.ok
    assert not report.issues


def test_label_export_reads_the_same(tmp_path: Path) -> None:
    dictionary = _dictionary(tmp_path)
    labels = _labels(dictionary)
    rows = list(csv.reader(io.StringIO(RAW)))
    header = [labels.get(h, h) for h in rows[0]]
    header[2] = "Repeat Instrument"
    values = {"sex": {"1": "M", "2": "F"}, "tocilizumab": {"1": "Yes", "0": "No"}}
    values["best_response"] = {"1": "CR", "4": "NR"}
    body = [
        [values.get(name, {}).get(v, v) for name, v in zip(rows[0], row, strict=True)]
        for row in rows[1:]
    ]
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])
    records = tmp_path / "labels.csv"
    records.write_text(out.getvalue(), encoding="utf-8")
    raw = read_redcap(records, dictionary)
    assert raw.tables["patients"].frame["sex"].tolist() == ["M", "F"]
    assert raw.tables["patients"].frame["tocilizumab"].tolist() == ["Yes", "No"]
    assert raw.tables["labs"].n_rows == 2
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()


def test_identifier_fields_are_left_out_and_checkboxes_kept(tmp_path: Path) -> None:
    extra = (
        "dob,patients,,text,Date of birth,,,date_ymd,,,y,,,,,,,\n"
        'symptoms,patients,,checkbox,Symptoms,"1, fever | 2, rash",,,,,,,,,,,,\n'
    )
    dictionary = _dictionary(tmp_path, extra)
    records = tmp_path / "records.csv"
    records.write_text(
        "patient_id,sex,dob,symptoms___1,symptoms___2\nP1,1,1970-01-01,1,0\n", encoding="utf-8"
    )
    raw = read_redcap(records, dictionary)
    frame = raw.tables["patients"].frame
    assert "dob" not in frame.columns
    assert frame["symptoms_1"].tolist() == ["1"]  # kept as an extra column
    assert [i.rule for i in raw.issues] == ["redcap.identifier"]


def test_not_a_dictionary_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "dictionary.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text(RAW, encoding="utf-8")
    with pytest.raises(IngestError, match="not a REDCap data dictionary"):
        read_redcap(records, path)
    with pytest.raises(IngestError, match="does not exist"):
        read_redcap(tmp_path / "missing.csv", path)
