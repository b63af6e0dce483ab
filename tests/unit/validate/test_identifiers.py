"""Direct identifiers (HIPAA Safe Harbor) are found by header and by value and refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cartcohort.errors import ValidationError
from cartcohort.ingest import read_frames
from cartcohort.validate import load_cohort, validate_cohort
from cartcohort.validate.identifiers import (
    header_category,
    identify_column,
    is_allowed,
    split_allow,
    values_category,
)

IDENTIFYING_HEADERS = {
    "name": "names",
    "Patient Name": "names",
    "first_name": "names",
    "Surname": "names",
    "Nom": "names",
    "Prénom": "names",
    "Vorname": "names",
    "apellidos": "names",
    "cognome": "names",
    "xingming": "names",
    "姓名": "names",
    "initials": "names",
    "MRN": "medical record numbers",
    "Medical Record Number": "medical record numbers",
    "hospital_number": "medical record numbers",
    "IPP": "medical record numbers",
    "DOB": "dates of birth",
    "date_of_birth": "dates of birth",
    "dateOfBirth": "dates of birth",
    "Geburtsdatum": "dates of birth",
    "fecha_nacimiento": "dates of birth",
    "data_di_nascita": "dates of birth",
    "出生日期": "dates of birth",
    "date_of_death": "dates",
    "admission date": "dates",
    "Aufnahmedatum": "dates",
    "address": "addresses",
    "Street": "addresses",
    "zip": "addresses",
    "code_postal": "addresses",
    "PLZ": "addresses",
    "city": "addresses",
    "phone": "telephone or fax numbers",
    "Tel.": "telephone or fax numbers",
    "mobile": "telephone or fax numbers",
    "fax": "telephone or fax numbers",
    "telefono": "telephone or fax numbers",
    "email": "email addresses",
    "E-Mail": "email addresses",
    "courriel": "email addresses",
    "SSN": "social security or national id numbers",
    "social_security_number": "social security or national id numbers",
    "NIR": "social security or national id numbers",
    "codice_fiscale": "social security or national id numbers",
    "passport": "social security or national id numbers",
    "NHS number": "social security or national id numbers",
    "insurance_number": "health plan numbers",
    "member_id": "health plan numbers",
    "IBAN": "account numbers",
    "driver_license": "certificate or licence numbers",
    "VIN": "vehicle identifiers",
    "device_id": "device identifiers or serial numbers",
    "serial_number": "device identifiers or serial numbers",
    "url": "web addresses (URLs)",
    "ip_address": "IP addresses",
    "fingerprint": "biometric identifiers",
    "photo": "photographs",
}

#: Extra columns of real cohorts that are not identifiers (no false alarm).
HARMLESS_HEADERS = [
    "drug_name",
    "product_name",
    "nom_du_produit",
    "center",
    "hospital_ward",
    "free_text_note",
    "toxicity",
    "ethnicity",
    "photopheresis",
    "retinal_detachment",
    "cell_dose",
    "plate",
    "fit_id",
    "flag",
    "CRS grde",
    "insurance",
    "last_update",
    "comment",
]


@pytest.mark.parametrize(("header", "category"), list(IDENTIFYING_HEADERS.items()))
def test_identifying_headers_are_recognised(header: str, category: str) -> None:
    assert header_category(header) == category


@pytest.mark.parametrize("header", HARMLESS_HEADERS)
def test_ordinary_headers_are_not_identifiers(header: str) -> None:
    assert header_category(header) is None


@pytest.mark.parametrize(
    ("values", "category"),
    [
        (["ann@example.org", "bo@example.co.uk", None, ""], "email addresses"),
        (["+33 1 23 45 67 89", "(555) 123-4567", "020 7946 0000"], "telephone or fax numbers"),
        (["123-45-6789", "987-65-4321"], "social security or national id numbers"),
        (["https://example.org/p/1", "www.example.org"], "web addresses (URLs)"),
        (["10.0.0.1", "192.168.1.20"], "IP addresses"),
        (["1970-01-31", "1982-12-01"], "dates"),
        (["31/01/1970", "01.12.1982"], "dates"),
        (["CR", "PR", "ann@example.org"], None),  # one email among three: not the column
        (["150000000", "1.5e8", "1234.56789", "12.5"], None),  # numbers are not phones
        (["A", "B"], None),
    ],
)
def test_values_give_identifiers_away(values: list[object], category: str | None) -> None:
    assert values_category(values) == category


def test_allow_matches_name_header_or_table_column() -> None:
    found = identify_column("patients", "date_of_birth", [], header="Date of Birth")
    assert found is not None
    for allow in (["date_of_birth"], ["Date of Birth"], ["patients.date_of_birth"]):
        assert is_allowed(found, allow)
    assert not is_allowed(found, ["email", ""])
    assert split_allow(["a, b", "c", ""]) == ("a", "b", "c")


def _cohort(**extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": ["P1", "P2"], "age_years": [40, 50], **extra})


def test_validation_refuses_identifier_columns_naming_them() -> None:
    raw = read_frames(
        {
            "patients": _cohort(
                name=["Ann Lee", "Bo Chan"],
                notes=["ann@example.org", "bo@example.org"],
                ward=["A", "B"],
            )
        }
    )
    cohort, report = validate_cohort(raw)
    assert cohort is None
    errors = [i for i in report.errors if i.rule == "extra.identifier"]
    assert [i.column for i in errors] == ["name", "notes"]
    assert "names, from its header" in errors[0].message
    assert "email addresses, from its values" in errors[1].message
    assert "--allow-identifiers name" in errors[0].hint
    assert "45 CFR 164.514(b)(2)" in errors[0].message
    assert [i.column for i in report.warnings] == ["ward"]  # the ordinary extra column


def test_allowed_identifier_columns_are_kept_with_a_warning() -> None:
    raw = read_frames({"patients": _cohort(name=["Ann Lee", "Bo Chan"])})
    cohort, report = validate_cohort(raw, allow_identifiers=["name"])
    assert cohort is not None
    assert report.rules() == ("extra.identifier",)
    assert report.warnings[0].severity == "warning"
    assert cohort.patients["name"].tolist() == ["Ann Lee", "Bo Chan"]


def test_standard_columns_are_never_identifiers() -> None:
    raw = read_frames(
        {
            "patients": pd.DataFrame(
                {
                    "patient_id": ["P1", "P2"],
                    "age_years": [40, 91],
                    "infusion_date": ["2021-01-04", "2021-02-01"],
                    "death_day": [100, None],
                }
            )
        }
    )
    cohort, report = validate_cohort(raw)
    assert cohort is not None, report.render_text()
    assert "extra.identifier" not in report.rules()


def test_load_cohort_takes_the_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient_id,age_years,MRN\nP1,40,000123\nP2,50,000456\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="MRN"):
        load_cohort(path)
    assert load_cohort(path, allow_identifiers=["mrn"]).n_patients == 2


def test_patient_id_mapped_from_an_identifier_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("MRN,sex\n000123,F\n000456,M\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  MRN: patient_id\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="read from the header 'MRN'"):
        load_cohort(path, mapping=mapping)
    assert load_cohort(path, mapping=mapping, allow_identifiers=["patient_id"]).n_patients == 2
    ordinary = tmp_path / "ordinary.csv"
    ordinary.write_text("Patient ID,sex\nP1,F\n", encoding="utf-8")
    assert load_cohort(ordinary).n_patients == 1  # an ordinary header is no identifier
