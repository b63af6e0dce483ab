"""The `describe` analysis: plan keys, items on the demo cohorts, refusals, the table."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cartcohort as cc
from cartcohort.analyse.contingency import proportion_ci
from cartcohort.derive.dataset import AnalysisDataset
from cartcohort.errors import AnalysisError, DegenerateDataError, PlanError
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan
from cartcohort.render.tables import format_table

HEAD = """\
name: t
title: t
groups:
  burden: {column: burden_group, levels: [low, high], labels: {low: Low, high: High}}
analyses:
"""


_DERIVED: dict[str, AnalysisDataset] = {}


def _dataset(cohort: Cohort) -> AnalysisDataset:
    """Each demo cohort derived once (the synthetic one takes seconds)."""
    if cohort.name not in _DERIVED:
        _DERIVED[cohort.name] = cc.derive(cohort)
    return _DERIVED[cohort.name]


def _run(items: str, cohort: Cohort, *, by: str = "") -> AnalysisOutput:
    extra = f"\n    by: {by}" if by else ""
    plan = parse_plan(
        f"{HEAD}  - id: d\n    type: describe\n    title: D{extra}\n    items:\n{items}"
    )
    return run_plan(plan, cohort, dataset=_dataset(cohort)).outputs[0]


@pytest.fixture(scope="module")
def synthetic() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def seed002() -> Cohort:
    return cc.load_cohort(cc.demo_path("seed002_mrd"))


def _rows(out: AnalysisOutput) -> list[tuple[str, ...]]:
    """Display rows, with the no-break spaces that keep values on one line read as spaces."""
    table = out.tables[0]
    rows = format_table(table.frame, table.formats).rows
    return [tuple(cell.replace("\u00a0", " ") for cell in row) for row in rows]


# ---- plan keys -----------------------------------------------------------------------------


def test_an_item_must_start_with_its_kind() -> None:
    text = (
        HEAD + "  - id: d\n    type: describe\n    title: D\n    items:\n      - {of: a, rate: b}\n"
    )
    with pytest.raises(PlanError, match=r"line 10, key analyses\[0\]\.items: item 1 must start"):
        parse_plan(text)


def test_a_key_of_another_kind_is_unknown() -> None:
    text = (
        HEAD
        + "  - id: d\n    type: describe\n    title: D\n    items:\n      - {rate: a, km: os}\n"
    )
    with pytest.raises(PlanError, match=r"item 1 \(rate\), key km: unknown key"):
        parse_plan(text)


def test_a_misspelt_item_key_is_named_with_its_item() -> None:
    text = (
        HEAD + "  - id: d\n    type: describe\n    title: D\n    items:\n"
        "      - {rate: responder}\n      - {km: os, at_month: [24]}\n"
    )
    with pytest.raises(PlanError, match=r"item 2 \(km\), key at_month: unknown key"):
        parse_plan(text)


def test_a_wrong_value_is_named() -> None:
    text = (
        HEAD + "  - id: d\n    type: describe\n    title: D\n    items:\n"
        "      - {followup: os, method: median}\n"
    )
    with pytest.raises(PlanError, match=r"item 1 \(followup\), key method"):
        parse_plan(text)


# ---- the seed-002 cohort (single arm, no follow-up times) ---------------------------------


def test_seed002_rates_and_incidences(seed002: Cohort) -> None:
    out = _run(
        "      - {rate: mrd_negative}\n      - {incidence: crs}\n"
        "      - {median: dose_cells_per_kg}\n",
        seed002,
    )
    assert out.status == "done"
    rows = _rows(out)
    assert rows[0][:4] == ("mrd negative", "12/14 (85.7 %)", "57.2–98.2 % (95% CI)", "14")
    assert rows[1][:2] == ("Any CRS (grade ≥ 1; Lee 2014)", "10/14 (71.4 %)")
    assert rows[2][:2] == ("Severe CRS (grade ≥ 3; Lee 2014)", "0/14 (0.0 %)")
    assert rows[3][1:3] == ("6.78 × 10⁶", "2.20 × 10⁶–1.04 × 10⁷ (range)")


def test_km_refuses_when_some_patients_have_no_endpoint(seed002: Cohort) -> None:
    # only the 3 who relapsed have an EFS on the published sheet: an estimate from them
    # would be 33 % at two years; the item is not computed, and says why
    out = _run("      - {rate: mrd_negative}\n      - {km: efs, at_months: [24]}\n", seed002)
    frame = out.tables[0].frame
    km = frame[frame["kind"] == "km"].iloc[0]
    assert km["note"].startswith("not computed: 11 of 14 patients have no EFS")
    assert "death status missing" in km["note"]
    assert pd.isna(km["estimate"])
    shown = _rows(out)[1]
    assert shown[1] == "not computed"
    assert shown[-1].startswith("11 of 14 patients have no EFS")


def test_skipped_when_no_item_can_be_computed(seed002: Cohort) -> None:
    out = _run("      - {km: os, at_months: [24]}\n      - {onset: icans}\n", seed002)
    assert out.status == "skipped"
    assert "no item could be computed" in out.reason
    assert "any_icans" in out.reason


def test_rate_of_a_non_yes_no_column_is_not_computed(seed002: Cohort) -> None:
    out = _run("      - {rate: crs_grade}\n      - {rate: mrd_negative}\n", seed002)
    note = out.tables[0].frame["note"].iloc[0]
    assert "'crs_grade' is not a yes/no column" in note


# ---- the synthetic cohort: groups, onset, a time after follow-up ---------------------------


def test_rate_of_a_subgroup_and_by_groups(synthetic: Cohort) -> None:
    out = _run("      - {rate: mrd_negative_cr, of: responder}\n", synthetic, by="burden")
    frame = out.tables[0].frame
    assert list(frame["group"]) == ["All patients", "Low", "High"]
    patients = _dataset(synthetic).patients
    responders = patients[patients["responder"].fillna(value=False).astype(bool)]
    assert frame["x"].iloc[0] == int(responders["mrd_negative_cr"].sum())
    assert frame["n"].iloc[0] == len(responders)
    assert frame["n"].iloc[1] + frame["n"].iloc[2] <= frame["n"].iloc[0]
    assert _rows(out)[0][0] == "All patients"


def test_onset_counts_only_patients_with_the_event(synthetic: Cohort) -> None:
    out = _run("      - {onset: crs}\n      - {onset: icans}\n", synthetic)
    frame = out.tables[0].frame
    patients = _dataset(synthetic).patients
    with_crs = patients[patients["any_crs"].fillna(value=False).astype(bool)]
    assert frame["n"].iloc[0] == with_crs["crs_onset_day"].notna().sum()
    assert frame["estimate"].iloc[0] == with_crs["crs_onset_day"].astype(float).median()
    assert frame["n"].iloc[1] == patients["any_icans"].fillna(value=False).sum()
    assert frame["lower"].iloc[1] >= 0


def test_a_time_after_the_last_follow_up_is_not_computed(synthetic: Cohort) -> None:
    out = _run("      - {km: os, at_days: [365, 100000], median: false}\n", synthetic)
    frame = out.tables[0].frame
    assert frame["note"].iloc[0] == ""
    assert frame["note"].iloc[1].startswith("not computed: follow-up ends at day")


def test_ard_holds_every_number_at_full_precision(seed002: Cohort) -> None:
    out = _run("      - {rate: mrd_negative}\n", seed002)
    ard = out.ard.set_index("stat_name")["stat_value"]
    assert ard["x"] == 12
    assert ard["n"] == 14
    assert ard["lower"] == proportion_ci(12, 14).lower


# ---- the exact interval -------------------------------------------------------------------


def test_proportion_ci_refuses_an_empty_denominator_and_impossible_counts() -> None:
    with pytest.raises(DegenerateDataError, match="n = 0"):
        proportion_ci(0, 0)
    with pytest.raises(AnalysisError, match="between 0 and n = 3"):
        proportion_ci(4, 3)
    with pytest.raises(AnalysisError, match="whole number"):
        proportion_ci(1.5, 3)  # type: ignore[arg-type]


@given(n=st.integers(1, 400), data=st.data())
def test_proportion_ci_invariants(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, n))
    r = proportion_ci(x, n)
    assert 0.0 <= r.lower <= r.estimate <= r.upper <= 1.0
    # symmetry: the interval of the failures mirrors that of the successes
    m = proportion_ci(n - x, n)
    assert abs(r.lower - (1 - m.upper)) < 1e-12
    assert abs(r.upper - (1 - m.lower)) < 1e-12
    # a wider level gives a wider interval
    w = proportion_ci(x, n, confidence_level=0.99)
    assert w.lower <= r.lower + 1e-15
    assert w.upper >= r.upper - 1e-15


def test_a_tiny_cohort_without_any_endpoint_column() -> None:
    frame = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame({"patient_id": ["a", "b", "c"], "mrd_negative": [True, False, None]}),
    )
    out = _run("      - {rate: mrd_negative}\n", Cohort(tables={"patients": frame}, name="tiny"))
    assert _rows(out)[0][1:] == (
        "1/2 (50.0 %)",
        "1.3–98.7 % (95% CI)",
        "2",
        "1 without a value, not counted",
    )


def test_incidence_names_the_grading_scale_of_the_data(synthetic: Cohort) -> None:
    # CRS from the patient sheet's crs_grading_system ("astct"), ICANS from the daily
    # grades' system ("ASTCT-2019"): both shown as the scale's name
    out = _run("      - {incidence: crs}\n      - {incidence: icans, severe_grade: 2}\n", synthetic)
    labels = [row[0] for row in _rows(out)]
    assert labels == [
        "Any CRS (grade ≥ 1; ASTCT 2019)",
        "Severe CRS (grade ≥ 3; ASTCT 2019)",
        "Any ICANS (grade ≥ 1; ASTCT 2019)",
        "Severe ICANS (grade ≥ 2; ASTCT 2019)",
    ]
