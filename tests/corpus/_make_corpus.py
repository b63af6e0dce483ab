"""Write the bad-input corpus: one small file (or folder) per rule or input class.

Run ``python tests/corpus/_make_corpus.py`` to regenerate every file; the files are
committed so that a reader can open them. Expected results are in
``tests/unit/validate/test_corpus.py`` and listed in ``tests/corpus/README.md``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

P_HEAD = "patient_id,sex,age_years,crs_grade,best_response"
P_ROWS = ["P01,M,34,1,CR", "P02,F,51,2,CR", "P03,M,12,0,NR"]

TEXT_FILES: dict[str, str] = {
    "header_only.csv": P_HEAD + "\n",
    "ragged.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F,51,2,CR,oops\n",
    "bad_type.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F,fifty,2,CR\n",
    "bad_integer.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F,51,2.5,CR\n",
    "bad_boolean.csv": "patient_id,tocilizumab\nP01,yes\nP02,maybe\n",
    "bad_date.csv": "patient_id,infusion_date\nP01,2021-03-04\nP02,04/03/2021\n",
    "bad_day.csv": "patient_id,relapse,relapse_day\nP01,yes,100\nP02,yes,3.5\n",
    "out_of_range.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F,51,2,CR\nP03,M,12,7,NR\n",
    "below_minimum.csv": P_HEAD + "\nP01,M,-1,1,CR\n",
    "soft_maximum.csv": "patient_id,prior_lines\nP01,2\nP02,40\n",
    "bad_vocab.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,X,51,2,CR\n",
    "dup_ids.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F,51,2,CR\nP01,M,34,1,CR\n",
    "missing_id.csv": P_HEAD + "\nP01,M,34,1,CR\n,F,51,2,CR\n",
    "no_patient_id.csv": "name,sex\nP01,M\n",
    "relapse_without_response.csv": (
        "patient_id,best_response,relapse,relapse_day\nP01,CR,yes,120\nP02,NR,yes,60\n"
    ),
    "iso_dates_without_infusion_date.csv": (
        "patient_id,infusion_date,death,death_day\n"
        "P01,2021-03-01,yes,2021-05-01\nP02,,yes,2021-06-01\n"
    ),
    "followup_before_event.csv": (
        "patient_id,relapse,relapse_day,last_followup_day\nP01,yes,100,200\nP02,yes,300,200\n"
    ),
    "event_after_death.csv": (
        "patient_id,death,death_day,relapse,relapse_day\nP01,yes,100,yes,50\nP02,yes,100,yes,150\n"
    ),
    "event_before_day0.csv": "patient_id,crs_onset_day\nP01,2\nP02,-3\n",
    "day_without_flag.csv": "patient_id,death,death_day\nP01,yes,100\nP02,no,80\n",
    "flag_without_day.csv": "patient_id,death,death_day\nP01,yes,100\nP02,yes,\n",
    "mrd_negative_nr.csv": "patient_id,best_response,mrd_negative\nP01,CR,yes\nP02,NR,yes\n",
    "duplicate_header.csv": "patient_id,age_years,Age Years\nP01,34,35\n",
    "extra_column.csv": "patient_id,CRS grde\nP01,2\n",
    "coerced.csv": "patient_id,sex,crs_grade\nP01,male,3.0\nP02,F,1\n",
    "blank_row.csv": P_HEAD + "\nP01,M,34,1,CR\n,,,,\nP02,F,51,2,CR\n",
    "short_row.csv": P_HEAD + "\nP01,M,34,1,CR\nP02,F\n",
    "multiline.csv": 'patient_id,center\nP01,"Ward\nB"\nP02,A\n',
    "semicolon_decimal_comma.csv": "patient_id;age_years;mrd_pct\nP01;12,5;0,01\nP02;40;1\n",
}

FOLDERS: dict[str, dict[str, str]] = {
    "unknown_lab_unit": {
        "patients.csv": "patient_id\nP01\n",
        "labs.csv": "patient_id,day,analyte,value,unit\nP01,1,crp,12,furlongs\n",
    },
    "unknown_analyte": {
        "patients.csv": "patient_id\nP01\n",
        "labs.csv": (
            "patient_id,day,analyte,value,unit\nP01,1,crp,12,mg/L\nP01,1,unobtainium,3,mg/L\n"
        ),
    },
    "lab_converted": {
        "patients.csv": "patient_id\nP01\n",
        "labs.csv": "patient_id,day,analyte,value,unit\nP01,1,crp,1.2,mg/dL\nP01,2,crp,2.5,mg/dL\n",
    },
    "orphan_patient": {
        "patients.csv": "patient_id\nP01\nP02\n",
        "observations.csv": "patient_id,day,temp_c\nP01,1,38.2\nP99,1,37.0\n",
    },
    "event_before_day0": {
        "patients.csv": "patient_id\nP01\n",
        "events.csv": "patient_id,day,event\nP01,-5,relapse\n",
    },
    "event_after_death": {
        "patients.csv": "patient_id,death,death_day\nP01,yes,100\n",
        "observations.csv": "patient_id,day,temp_c\nP01,50,37.0\nP01,120,38.0\n",
    },
    "death_event_after_death": {
        "patients.csv": "patient_id\nP01\n",
        "events.csv": "patient_id,day,event\nP01,100,death\nP01,150,hsct\n",
    },
    "events_disagree": {
        "patients.csv": "patient_id,death,death_day\nP01,yes,100\n",
        "events.csv": "patient_id,day,event\nP01,90,death\n",
    },
    "infusion_not_day0": {
        "patients.csv": "patient_id\nP01\n",
        "infusions.csv": "patient_id,infusion,day\nP01,1,3\n",
    },
    "infusion_order": {
        "patients.csv": "patient_id\nP01\n",
        "infusions.csv": "patient_id,infusion,day\nP01,1,0\nP01,2,0\n",
    },
    "n_infusions_mismatch": {
        "patients.csv": "patient_id,n_infusions\nP01,2\n",
        "infusions.csv": "patient_id,infusion,day\nP01,1,0\n",
    },
    "duplicate_observation": {
        "patients.csv": "patient_id\nP01\n",
        "observations.csv": "patient_id,day,temp_c\nP01,1,38.0\nP01,2,37.0\nP01,1,37.5\n",
    },
    "no_patients_table": {
        "labs.csv": "patient_id,day,analyte,value,unit\nP01,1,crp,12,mg/L\n",
    },
    "stray_file": {
        "patients.csv": "patient_id\nP01\n",
        "notes.csv": "anything\n1\n",
    },
    "duplicate_table": {
        "labs.csv": "patient_id,day,analyte,value,unit\nP01,1,crp,12,mg/L\n",
        "patients.csv": "patient_id\nP01\n",
        "patients.tsv": "patient_id\nP01\n",
    },
    "no_tables": {"README.md": "# nothing here\n"},
}


def _write_xlsx() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "patients"
    for row in (["patient_id", "sex"], ["P01", "M"], ["P02", "F"]):
        ws.append(row)
    other = wb.create_sheet("Labz")
    for row in (["patient_id", "day", "analyte", "value", "unit"], ["P01", 1, "crp", 3, "mg/L"]):
        other.append(row)
    wb.save(HERE / "multi_sheet_unknown.xlsx")


def main() -> None:
    """Write every corpus file."""
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "binary.csv").write_bytes(b"\x00\x01\x02binary\x00\xff\xfe" * 8)
    (HERE / "excel_named.csv").write_bytes(b"PK\x03\x04" + b"\x14\x00\x06\x00" * 8)
    (HERE / "corrupt.xlsx").write_bytes(b"this is not a workbook\n")
    (HERE / "latin1.csv").write_bytes("patient_id,center\nP01,Hôpital Né\n".encode("cp1252"))
    (HERE / "bom.csv").write_bytes(b"\xef\xbb\xbf" + P_HEAD.encode() + b"\nP01,M,34,1,CR\n")
    for name, text in TEXT_FILES.items():
        (HERE / name).write_text(text, encoding="utf-8", newline="")
    for folder, files in FOLDERS.items():
        path = HERE / folder
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        for name, text in files.items():
            (path / name).write_text(text, encoding="utf-8", newline="")
    _write_xlsx()


if __name__ == "__main__":
    main()
