"""Column-mapping YAML: parsing, errors that name the line and key, header resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartcohort.errors import IngestError
from cartcohort.ingest import ColumnMapping, normalise_header, read_mapping, read_source
from cartcohort.ingest.mapping import resolve_headers
from cartcohort.validate import validate_cohort


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("Age Years", "age_years", id="space"),
        pytest.param("  CRS - Grade ", "crs_grade", id="hyphen-spaces"),
        pytest.param("\ufeffpatient_id", "patient_id", id="bom"),
        pytest.param("Temp\u00a0C", "temp_c", id="nbsp"),
        pytest.param("ICE__score", "ice_score", id="double-underscore"),
    ],
)
def test_normalise_header(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_mapping_columns_scale_values_tables(tmp_path: Path) -> None:
    mapping = read_mapping(
        _write(
            tmp_path,
            'columns:\n  "CRS grade": crs_grade\n'
            '  "Dose (x10^6/kg)": {to: dose_cells_per_kg, scale: 1000000}\n'
            "values:\n  sex: {male: M, female: F}\n"
            "tables:\n  labs:\n    columns: {Test: analyte}\n",
        )
    )
    assert mapping.columns["CRS grade"].name == "crs_grade"
    assert mapping.columns["Dose (x10^6/kg)"].scale == 1_000_000
    assert mapping.values["sex"] == {"male": "M", "female": "F"}
    assert mapping.for_table("labs").columns["Test"].name == "analyte"
    assert "Test" not in mapping.for_table("patients").columns


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("colums:\n  a: b\n", "line 1, key 'colums'", id="unknown-section"),
        pytest.param("columns:\n  a: b\n  c: [1, 2]\n", "line 3, key 'columns.c'", id="bad-target"),
        pytest.param(
            "columns:\n  a: {to: b, scale: -2}\n", "key 'columns.a.scale'", id="negative-scale"
        ),
        pytest.param("columns:\n  a: {scale: 2}\n", "missing 'to", id="no-to"),
        pytest.param("tables:\n  labz: {}\n", "line 2, key 'tables.labz'", id="unknown-table"),
        pytest.param("columns: [a\n", "not valid YAML at line", id="yaml-syntax"),
        pytest.param("- a\n- b\n", "must be a YAML mapping", id="not-a-mapping"),
    ],
)
def test_read_mapping_errors_name_line_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(IngestError, match="mapping") as info:
        read_mapping(_write(tmp_path, text))
    assert fragment in str(info.value)


def test_read_mapping_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        read_mapping(tmp_path / "nope.yaml")


def test_resolve_headers_mapping_first_then_normalisation() -> None:
    mapping = ColumnMapping.from_dict({"columns": {"Patient": "patient_id"}}).for_table("patients")
    plan = resolve_headers(["Patient", "Age Years", "", "age_years"], mapping)
    assert plan.names == ("patient_id", "age_years", "unnamed_3", "age_years_2")
    assert plan.original["patient_id"] == "Patient"
    assert plan.mapped == ("patient_id",)
    assert plan.duplicates == (("age_years", "age_years"),)


def test_mapping_applies_scale_and_value_recoding(tmp_path: Path) -> None:
    (tmp_path / "sheet.csv").write_text(
        "Patient,Sex,Dose (x10^6/kg)\nP1,male,1.5\nP2,female,2\n", encoding="utf-8"
    )
    mapping = ColumnMapping.from_dict(
        {
            "columns": {
                "Patient": "patient_id",
                "Dose (x10^6/kg)": {"to": "dose_cells_per_kg", "scale": 1e6},
            },
            "values": {"sex": {"Male": "M", "female": "F"}},
        }
    )
    cohort, report = validate_cohort(read_source(tmp_path / "sheet.csv", mapping=mapping))
    assert cohort is not None, report.render_text()
    assert cohort.patients["dose_cells_per_kg"].tolist() == [1.5e6, 2e6]
    assert cohort.patients["sex"].tolist() == ["M", "F"]
    scale = [i for i in report.issues if i.rule == "mapping.scale"]
    assert len(scale) == 1
    assert scale[0].severity == "warning"
    assert "1,000,000" in scale[0].message
    assert report.rules() == ("mapping.scale",)  # recoded values are not coercions


def test_scale_on_a_non_numeric_column_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sheet.csv").write_text("patient_id,Sex\nP1,M\n", encoding="utf-8")
    mapping = ColumnMapping.from_dict({"columns": {"Sex": {"to": "sex", "scale": 2}}})
    cohort, report = validate_cohort(read_source(tmp_path / "sheet.csv", mapping=mapping))
    assert cohort is None
    assert report.errors[0].rule == "mapping.scale"


def test_read_source_accepts_a_mapping_path(tmp_path: Path) -> None:
    (tmp_path / "sheet.csv").write_text("Patient\nP1\n", encoding="utf-8")
    path = _write(tmp_path, "columns:\n  Patient: patient_id\n")
    raw = read_source(tmp_path / "sheet.csv", mapping=path)
    assert list(raw.tables["patients"].frame.columns) == ["patient_id"]
