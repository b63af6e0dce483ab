"""Analysis runners: each checked against numbers computed here independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cartcohort as cc
from cartcohort.derive.dataset import derive
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan.analyses import RUNNERS
from cartcohort.plan.analyses.tables import identifier_columns
from cartcohort.plan.outputs import AnalysisOutput, PlanResult
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import ANALYSIS_TYPES, parse_plan

HEAD = """\
name: t
title: t
groups:
  burden: {column: burden_group, levels: [low, high]}
  crs_cat:
    cut: {column: crs_grade, breaks: [1, 3], labels: [No CRS, Grade 1-2, Grade 3+]}
analyses:
"""

PLAN = (
    HEAD
    + """\
  - {id: cox_all, type: cox, title: c, endpoint: OS, multivariable: all,
     covariates: [peak_cart_copies_per_ug, severe_crs, burden], log10: [peak_cart_copies_per_ug]}
  - {id: cox_sel, type: cox, title: c, endpoint: OS, select_p: 0.1,
     covariates: [burden, age_years, absent_column], force: [age_years]}
  - {id: logit, type: logistic, title: l, outcome: severe_crs, covariates: [bm_blasts_pct, burden],
     multivariable: all}
  - {id: firth, type: logistic, title: l, outcome: severe_crs, covariates: [burden], method: firth,
     multivariable: none}
  - {id: cir, type: cumulative_incidence, title: c, by: burden, landmarks_days: [365]}
  - {id: corr, type: correlation, title: r, x: peak_il6_pg_ml, y: peak_crp_mg_l}
  - {id: corr_log, type: correlation, title: r, x: peak_il6_pg_ml, y: peak_cart_copies_per_ug,
     method: spearman, log_x: true}
  - {id: dyn_kin, type: dynamics, title: d, source: kinetics, by: burden}
  - {id: dyn_lab, type: dynamics, title: d, source: labs, analyte: il6, by: burden}
  - {id: dyn_nolab, type: dynamics, title: d, source: labs, analyte: procalcitonin}
  - {id: t1, type: table1, title: t, by: burden, variables: [age_years, sex, ph_positive,
     prior_lines, cytogenetic_risk, nope], nonnormal: [prior_lines]}
  - {id: dist, type: distribution, title: d, category: crs_cat, by: burden, test: chi_square}
  - {id: listing, type: listing, title: l, columns: [patient_id, age_years, crs_grade, nope]}
  - {id: listing_bad, type: listing, title: l, columns: [patient_id, patient_name, mrn]}
  - {id: ae, type: ae_table, title: a}
  - {id: reinf, type: infusion_comparison, title: r}
  - {id: swim, type: swimmer, title: s, max_patients: 60}
"""
)


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def result(demo: Cohort) -> PlanResult:
    return run_plan(parse_plan(PLAN), demo)


@pytest.fixture(scope="module")
def patients(demo: Cohort) -> pd.DataFrame:
    return derive(demo).patients


def out(result: PlanResult, analysis: str) -> AnalysisOutput:
    return next(o for o in result.outputs if o.id == analysis)


def stat(o: AnalysisOutput, name: str, **keys: str) -> float:
    ard = o.ard[o.ard["stat_name"] == name]
    for k, v in keys.items():
        ard = ard[ard[k] == v]
    assert len(ard) == 1, ard
    return float(ard["stat_value"].iloc[0])


def test_every_analysis_type_has_a_runner() -> None:
    assert set(RUNNERS) == set(ANALYSIS_TYPES)


def test_statuses(result: PlanResult) -> None:
    status = {o.id: o.status for o in result.outputs}
    assert status.pop("dyn_nolab") == "skipped"
    assert status.pop("listing_bad") == "failed"
    assert set(status.values()) == {"done"}


def test_cox_multivariable_all_matches_a_direct_fit(demo: Cohort, result: PlanResult) -> None:
    ds = derive(demo)
    data = ds.endpoints[ds.endpoints["param"] == "OS"].merge(
        ds.patients[["patient_id", "peak_cart_copies_per_ug", "severe_crs", "burden_group"]]
    )
    data = data[data["peak_cart_copies_per_ug"] > 0].assign(
        log10_peak=np.log10(data["peak_cart_copies_per_ug"]),
        severe=data["severe_crs"].astype(bool),
    )
    direct = cc.cox_ph(
        data, time="time_days", event="event", covariates=["log10_peak", "severe", "burden_group"]
    )
    o = out(result, "cox_all")
    hr = stat(o, "hr", group="multivariable", variable="burden", level="high")
    assert hr == pytest.approx(
        direct.table.set_index("term").loc["burden_group[high]", "hr"], rel=1e-9
    )
    # the PH test of the multivariable model is in the ARD, ending with GLOBAL
    ph = o.ard[(o.ard["group"] == "multivariable") & (o.ard["variable"] == "ph_test")]
    assert "GLOBAL" in set(ph["level"])
    # reference level shown as its own row
    table = o.tables[0].frame
    ref = table[(table["variable"] == "burden") & table["reference"]]
    assert list(ref["level"]) == ["low"]
    assert o.figures
    assert o.figures[0].draw().axes


def test_cox_select_rule_and_force(result: PlanResult) -> None:
    o = out(result, "cox_sel")
    uni_p = {
        v: stat(o, "p_value", group="univariable", variable=v, level=lv)
        for v, lv in (("burden", "high"), ("age_years", ""))
    }
    selected = set(o.ard[o.ard["stat_name"] == "selected"]["variable"])
    expected = {v for v, p in uni_p.items() if p < 0.1} | {"age_years"}
    assert selected == expected
    assert "absent_column" in o.summary


def test_logistic_univariable_matches_statsmodels_free_formula(
    patients: pd.DataFrame, result: PlanResult
) -> None:
    o = out(result, "logit")
    # univariable OR for a 2 x 2 table is the cross-product ratio (closed form)
    tab = pd.crosstab(patients["burden_group"], patients["severe_crs"].astype(bool))
    cross = (tab.loc["high", True] * tab.loc["low", False]) / (
        tab.loc["high", False] * tab.loc["low", True]
    )
    got = stat(o, "odds_ratio", group="univariable", variable="burden", level="high")
    assert got == pytest.approx(cross, rel=1e-6)
    assert stat(o, "n", group="multivariable", variable="(model)") == len(patients)


def test_firth_without_multivariable(result: PlanResult) -> None:
    o = out(result, "firth")
    assert "multivariable" not in set(o.ard["group"])
    assert "Firth" in o.methods[0].estimator or "firth" in str(o.methods[0].options).lower()


def test_cumulative_incidence(result: PlanResult) -> None:
    o = out(result, "cir")
    p = stat(o, "p_value", variable="gray_test", level="1")
    assert 0 < p <= 1
    est = o.tables[0].frame
    assert set(est["cause_name"]) == {"relapse", "non-relapse mortality"}
    assert ((est["estimate"] >= 0) & (est["estimate"] <= 1)).all()
    assert o.figures[0].draw().axes


def test_correlation_matches_scipy(patients: pd.DataFrame, result: PlanResult) -> None:
    both = patients[["peak_il6_pg_ml", "peak_crp_mg_l"]].dropna()
    r, p = stats.pearsonr(both["peak_il6_pg_ml"], both["peak_crp_mg_l"])
    o = out(result, "corr")
    assert stat(o, "estimate") == pytest.approx(r, rel=1e-10)
    assert stat(o, "p_value") == pytest.approx(p, rel=1e-8)
    # log_x: Spearman is invariant to the log transform of positive values
    pos = patients[["peak_il6_pg_ml", "peak_cart_copies_per_ug"]].dropna()
    pos = pos[pos["peak_il6_pg_ml"] > 0]
    rho = stats.spearmanr(pos["peak_il6_pg_ml"], pos["peak_cart_copies_per_ug"]).statistic
    assert stat(out(result, "corr_log"), "estimate") == pytest.approx(rho, rel=1e-10)


def test_dynamics_means(demo: Cohort, patients: pd.DataFrame, result: PlanResult) -> None:
    labs = demo.table("labs")
    il6 = labs[(labs["analyte"] == "il6") & (labs["day"] == 7)].merge(
        patients[["patient_id", "burden_group"]]
    )
    mean_high = il6.loc[il6["burden_group"] == "high", "value"].mean()
    o = out(result, "dyn_lab")
    assert stat(o, "centre", group="high", variable="day_7") == pytest.approx(mean_high)
    assert "paired_t_daily_means" in set(o.ard["variable"])
    skipped = out(result, "dyn_nolab")
    assert "procalcitonin" in skipped.reason


def test_table1_tests_follow_the_rule(patients: pd.DataFrame, result: PlanResult) -> None:
    o = out(result, "t1")
    tests = o.tables[1].frame.set_index("variable")
    # continuous normal: Student t; nonnormal: Mann-Whitney
    assert tests.loc["age_years", "test"] == "t-test"
    low = patients.loc[patients["burden_group"] == "low", "age_years"]
    high = patients.loc[patients["burden_group"] == "high", "age_years"]
    assert tests.loc["age_years", "p_value"] == pytest.approx(
        stats.ttest_ind(low, high).pvalue, rel=1e-8
    )
    assert tests.loc["prior_lines", "test"] == "Mann–Whitney test"
    # categorical: chi-square without correction when every expected count >= 5
    tab = pd.crosstab(patients["sex"], patients["burden_group"])
    chi = stats.chi2_contingency(tab, correction=False)
    assert (chi.expected_freq >= 5).all()
    assert tests.loc["sex", "test"] == "chi-square test"
    assert tests.loc["sex", "p_value"] == pytest.approx(chi.pvalue, rel=1e-8)
    # percentages of patients with a value
    ph = o.tables[0].frame
    row = ph[(ph["variable"] == "ph_positive") & (ph["group"] == "Overall")].iloc[0]
    assert row["n"] == int(patients["ph_positive"].sum())
    assert "nope" in o.summary


def test_table1_uses_fisher_for_small_expected_counts() -> None:
    frame = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame(
            {
                "patient_id": [f"P{i}" for i in range(12)],
                "sex": ["M", "F"] * 6,
                "ph_positive": [True] * 2 + [False] * 10,
                "bm_blasts_pct": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
                "mrd_pct": [1.0] * 6 + [None] * 6,
                "extramedullary_disease": [False] * 12,
            }
        ),
    )
    plan = parse_plan(
        HEAD + "  - {id: t, type: table1, title: t, by: burden, variables: [ph_positive]}\n"
    )
    o = run_plan(plan, Cohort(tables={"patients": frame}, name="tiny")).outputs[0]
    tests = o.tables[1].frame
    assert tests["test"].iloc[0] == "Fisher's exact test"
    table = [[2, 4], [0, 6]]  # ph yes/no by low/high
    assert tests["p_value"].iloc[0] == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-8)


def test_distribution_counts(patients: pd.DataFrame, result: PlanResult) -> None:
    o = out(result, "dist")
    n_high_severe = int(((patients["burden_group"] == "high") & (patients["crs_grade"] >= 3)).sum())
    assert stat(o, "n", group="high", level="Grade 3+") == n_high_severe
    assert 0 < stat(o, "p_value", variable="test") <= 1


def test_listing_refuses_identifiers_and_lists_present_columns(result: PlanResult) -> None:
    bad = out(result, "listing_bad")
    assert "patient_name" in bad.reason
    assert "mrn" in bad.reason
    good = out(result, "listing")
    assert list(good.tables[0].frame.columns) == ["patient_id", "age_years", "crs_grade"]
    assert "nope" in good.summary


@pytest.mark.parametrize(
    ("column", "refused"),
    [
        ("patient_id", False),
        ("first_name", True),
        ("surname", True),
        ("medical_record_number", True),
        ("date_of_birth", True),
        ("dob", True),
        ("email", True),
        ("age_years", False),
        ("crs_grade", False),
        ("last_line_of_therapy", False),
        ("malignancy", False),
    ],
)
def test_identifier_columns(column: str, *, refused: bool) -> None:
    assert (identifier_columns([column]) == [column]) is refused


def test_ae_table_counts_worst_grade(patients: pd.DataFrame, result: PlanResult) -> None:
    o = out(result, "ae")
    table = o.tables[0].frame.set_index("term")
    crs = table.loc["Cytokine release syndrome"]
    assert crs["n_grade_3"] == int((patients["crs_grade"] == 3).sum())
    assert crs["percent_grade_3"] == pytest.approx((patients["crs_grade"] == 3).mean())
    assert list(table.columns[:3]) == ["category", "n_patients", "n_grade_1"]


def test_infusion_comparison(demo: Cohort, result: PlanResult) -> None:
    o = out(result, "reinf")
    n_multi = int((demo.table("infusions").groupby("patient_id").size() > 1).sum())
    assert o.n == n_multi
    assert stat(o, "n_pairs", variable="cmax_ratio") == n_multi
    assert all(f.draw().axes for f in o.figures)


def test_swimmer_pages(demo: Cohort, result: PlanResult) -> None:
    o = out(result, "swim")
    assert len(o.figures) == -(-demo.n_patients // 60)
    assert len(o.figures[-1].draw().axes[0].patches) == demo.n_patients - 120


def test_thin_cohort_skips_every_new_analysis() -> None:
    frame = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame({"patient_id": ["a", "b", "c"], "age_years": [30.0, 40.0, 50.0]}),
    )
    res = run_plan(parse_plan(PLAN), Cohort(tables={"patients": frame}, name="thin"))
    status = {o.id: (o.status, o.reason) for o in res.outputs}
    assert status["listing"][0] == "done"  # age_years is there
    assert status["listing_bad"][0] == "failed"
    for key, (state, reason) in status.items():
        if key not in ("listing", "listing_bad"):
            assert state == "skipped", (key, reason)
            assert reason.startswith("Skipped: ")
