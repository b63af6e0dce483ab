"""derive(cohort): the analysis dataset, reported versus derived values, provenance."""

from __future__ import annotations

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import WIDE_ENDPOINTS, derive
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def dataset(demo: Cohort) -> cc.AnalysisDataset:
    return derive(demo)


def test_one_row_per_patient_in_order(demo: Cohort, dataset: cc.AnalysisDataset) -> None:
    assert dataset.patients["patient_id"].tolist() == demo.patients["patient_id"].tolist()
    assert dataset.synthetic is True


def test_grades_derived_from_observations_agree_with_the_reported_sheet(
    dataset: cc.AnalysisDataset,
) -> None:
    # The demo sheet reports crs_grade/icans_grade; the daily observations re-derive them.
    assert not any(w.startswith(("crs_grade", "icans_grade")) for w in dataset.warnings)
    prov = dataset.provenance.set_index("column")
    assert prov.loc["crs_grade", "reported"] == len(dataset.patients)
    assert "ASTCT-2019" in prov.loc["crs_grade", "method"]


def test_flags_follow_the_grades(dataset: cc.AnalysisDataset) -> None:
    p = dataset.patients
    grade = p["crs_grade"].astype("float")
    assert (p["severe_crs"].astype(bool) == (grade >= 3)).all()
    assert (p["any_crs"].astype(bool) == (grade >= 1)).all()
    neuro = p["seizure"].astype(bool) | (p["icans_grade"].astype(float) >= 3)
    assert (p["severe_neurotoxicity"].astype(bool) == neuro).all()


def test_wide_endpoint_columns_equal_the_long_table(dataset: cc.AnalysisDataset) -> None:
    p = dataset.patients.set_index("patient_id")
    for param in WIDE_ENDPOINTS:
        rows = dataset.endpoints[dataset.endpoints["param"] == param].set_index("patient_id")
        key = param.lower()
        event = f"{key}_status" if param == "CIR" else f"{key}_event"
        assert (p.loc[rows.index, f"{key}_days"].astype(float) == rows["time_days"]).all()
        assert (p.loc[rows.index, event].astype(int) == rows["event"]).all()
        missing = p.index.difference(rows.index)
        assert p.loc[missing, f"{key}_days"].isna().all()


def test_burden_response_kinetics_and_peaks_are_present(dataset: cc.AnalysisDataset) -> None:
    p = dataset.patients
    for column in (
        "burden_group",
        "burden_subgroup",
        "responder",
        "mrd_negative_cr",
        "peak_il6_pg_ml",
        "peak_cart_copies_per_ug",
        "cart_auc_0_28",
    ):
        assert column in p.columns
        assert p[column].notna().any(), column
    assert dataset.kinetics is not None
    assert set(dataset.kinetics["infusion"]) >= {1, 2}


def _sheet(**columns: list[object]) -> Cohort:
    frame = apply_dtypes(TABLE_BY_NAME["patients"], pd.DataFrame(columns))
    return Cohort(tables={"patients": frame}, name="sheet")


def test_a_patient_sheet_alone_is_enough() -> None:
    ds = derive(_sheet(patient_id=["a", "b"], crs_grade=[3, None], seizure=[None, True]))
    p = ds.patients
    assert ds.kinetics is None
    assert ds.crs_daily is None
    assert p["severe_crs"].tolist()[0] is True
    assert pd.isna(p["severe_crs"].tolist()[1])
    # A seizure alone is severe neurotoxicity even without an ICANS grade (Kleene OR).
    assert p["severe_neurotoxicity"].tolist()[1] is True


def test_reported_value_wins_and_a_disagreement_is_reported(demo: Cohort) -> None:
    patients = demo.patients.copy()
    first = patients["patient_id"].iloc[0]
    true_grade = int(patients["crs_grade"].iloc[0])
    patients.loc[0, "crs_grade"] = (true_grade + 1) % 5
    altered = Cohort(tables={**demo.tables, "patients": patients}, name="altered")
    ds = derive(altered)
    assert int(ds.patients["crs_grade"].iloc[0]) == (true_grade + 1) % 5
    assert any(w.startswith("crs_grade") and first in w for w in ds.warnings)


def test_missing_reported_values_are_filled_from_the_detailed_tables(demo: Cohort) -> None:
    patients = demo.patients.copy()
    patients["crs_grade"] = pd.array([pd.NA] * len(patients), dtype="Int64")
    ds = derive(Cohort(tables={**demo.tables, "patients": patients}, name="no-summaries"))
    pd.testing.assert_series_equal(
        ds.patients["crs_grade"], demo.patients["crs_grade"], check_names=False
    )
    prov = ds.provenance.set_index("column")
    assert prov.loc["crs_grade", "derived"] == len(patients)
