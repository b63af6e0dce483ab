"""The data standard: internal consistency, generated docs and schema in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cartcohort.model.standard import (
    ANALYTE_BY_NAME,
    ANALYTES,
    TABLES,
    analyte_for,
    conversion_factor,
    json_schema,
)
from cartcohort.render.standard import data_standard_markdown

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_table_has_patient_id_and_its_key_columns() -> None:
    for table in TABLES:
        assert table.columns[0].name == "patient_id"
        assert set(table.key) <= set(table.column_names)
        assert len(set(table.column_names)) == len(table.column_names), table.name


def test_categories_have_vocabularies_and_numbers_have_sane_ranges() -> None:
    for table in TABLES:
        for col in table.columns:
            if col.type == "category":
                assert col.allowed, (table.name, col.name)
            if col.minimum is not None and col.maximum is not None:
                assert col.minimum < col.maximum


def test_issue_named_patient_columns_are_all_present() -> None:
    named = [
        "patient_id",
        "sex",
        "age_years",
        "center",
        "diagnosis",
        "ph_positive",
        "tp53_mutated",
        "cytogenetic_risk",
        "cns_leukemia",
        "extramedullary_disease",
        "prior_lines",
        "prior_hsct",
        "disease_status",
        "bm_blasts_pct",
        "mrd_pct",
        "mrd_method",
        "burden_assessed",
        "infusion_date",
        "dose_cells_per_kg",
        "costim_domain",
        "lymphodepletion",
        "n_infusions",
        "transduction_pct",
        "viability_pct",
        "cd4_cd8_ratio",
        "tn_pct",
        "tscm_pct",
        "tcm_pct",
        "tem_pct",
        "temra_pct",
        "crs_grade",
        "crs_grading_system",
        "crs_onset_day",
        "icans_grade",
        "seizure",
        "tocilizumab",
        "corticosteroids",
        "best_response",
        "response_day",
        "mrd_negative",
        "relapse",
        "relapse_day",
        "cd19_negative_relapse",
        "hsct_after",
        "hsct_day",
        "death",
        "death_day",
        "death_cause",
        "last_followup_day",
        "peak_il6_pg_ml",
        "peak_il2_pg_ml",
        "peak_il10_pg_ml",
        "peak_tnfa_pg_ml",
        "peak_ifng_pg_ml",
        "peak_crp_mg_l",
        "peak_ferritin_ng_ml",
        "peak_cart_copies_per_ug",
    ]
    patients = next(t for t in TABLES if t.name == "patients")
    assert [c for c in named if c not in patients.column_names] == []


@pytest.mark.parametrize(
    ("name", "unit", "factor"),
    [
        pytest.param("CRP", "mg/dL", 10.0, id="crp-mg/dL-to-mg/L"),
        pytest.param("IL-6", "ng/L", 1.0, id="il6-ng/L-is-pg/mL"),
        pytest.param("IL-6", "ng/mL", 1000.0, id="il6-ng/mL"),
        pytest.param("TNF-α", "pg/ml", 1.0, id="tnfa-case"),
        pytest.param("ferritin", "µg/L", 1.0, id="ferritin-ug/L"),
        pytest.param("creatinine", "µmol/L", 1 / 88.42, id="creatinine-umol"),
        pytest.param("platelets", "x10^9/L", 1.0, id="platelets-x10^9"),
        pytest.param("Hb", "g/L", 0.1, id="hb-g/L"),
    ],
)
def test_known_units_convert_to_the_canonical_unit(name: str, unit: str, factor: float) -> None:
    analyte = analyte_for(name)
    assert analyte is not None
    assert conversion_factor(analyte, unit) == pytest.approx(factor, rel=1e-12)


def test_unknown_units_and_analytes_are_not_guessed() -> None:
    assert conversion_factor(ANALYTE_BY_NAME["crp"], "mmol/L") is None
    assert conversion_factor(ANALYTE_BY_NAME["il2r"], "pg/mL") is None  # activity vs mass
    assert analyte_for("IL-99") is None


def test_every_canonical_unit_converts_with_factor_one() -> None:
    for a in ANALYTES:
        assert conversion_factor(a, a.unit) == 1.0, a.name


def test_docs_data_standard_is_generated_from_the_code() -> None:
    expected = data_standard_markdown()
    actual = (DOCS / "data-standard.md").read_text(encoding="utf-8")
    assert actual == expected, "run: cartcohort schema --markdown --out docs/data-standard.md"


def test_committed_json_schema_is_generated_from_the_code() -> None:
    committed = json.loads((DOCS / "schema" / "cohort-v1.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        "run: cartcohort schema --out docs/schema/cohort-v1.schema.json"
    )


def test_json_schema_requires_patient_id_everywhere() -> None:
    schema = json_schema()
    for table in TABLES:
        assert "patient_id" in schema["$defs"][table.name]["required"]
