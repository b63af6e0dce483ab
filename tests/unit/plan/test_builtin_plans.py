"""The four built-in plans: done on the demo, skipped with checked reasons elsewhere."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import AnalysisDataset, derive
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan.outputs import PlanResult
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import BUILTIN_DIR, builtin_plans, load_plan

PLANS = ("crs-survival-factors", "mrd", "toxicity-impact", "tumor-burden")
SEEDS = {
    "tumor-burden": "000",
    "mrd": "002",
    "crs-survival-factors": "003",
    "toxicity-impact": "004",
}

#: Analyses allowed not to be done on the synthetic demo, each with the reason checked by
#: hand: the demo lacks the data, not the code the ability.
DEMO_NOT_DONE: dict[str, dict[str, str]] = {
    "tumor-burden": {},
    # The mrd plan grades CRS by Lee 2014 (seed 002); the demo's observations lack the organ
    # and liver toxicity that scale needs, and its reported grades are ASTCT: no CRS grade.
    "mrd": {
        "crs_grade_distribution": "could not be graded by lee2014",
        "crs_grade_by_disease": "could not be graded by lee2014",
    },
    # The day-28 landmark keeps only patients event-free at day 28; refractory patients have
    # their progression event on day 28, so only one remission group is left at risk.
    "crs-survival-factors": {
        "pfs_by_remission_landmark": "needs at least 2 groups of 'remission'",
    },
    "toxicity-impact": {},
}


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def demo_data(demo: Cohort) -> AnalysisDataset:
    return derive(demo)


@pytest.fixture(scope="module")
def results(demo: Cohort, demo_data: AnalysisDataset) -> dict[str, PlanResult]:
    return {p: run_plan(p, demo, dataset=demo_data) for p in PLANS}


def test_the_four_plans_are_shipped_and_named_after_their_file() -> None:
    assert set(PLANS) <= set(builtin_plans())
    for name in PLANS:
        plan = load_plan(name)
        assert plan.name == name
        assert plan.reference.startswith(f"Seed {SEEDS[name]}")
        text = (BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        # every analysis says which figure or table (or text) of the paper it reproduces
        for analysis in plan.analyses:
            assert re.search(
                r"\((Fig|Table|Results|Discussion|Abstract|Supplementary)", analysis.title
            ), analysis.id
        assert "#" in text


@pytest.mark.parametrize("name", PLANS)
def test_builtin_plan_on_the_demo(name: str, results: dict[str, PlanResult]) -> None:
    result = results[name]
    allowed = DEMO_NOT_DONE[name]
    for o in result.outputs:
        if o.id in allowed:
            assert o.status == "skipped", (o.id, o.status, o.reason)
            assert allowed[o.id] in o.reason, (o.id, o.reason)
        else:
            assert o.status == "done", (o.id, o.reason)
            assert not o.ard.empty, o.id
    done = sum(o.status == "done" for o in result.outputs)
    assert done >= 0.75 * len(result.outputs)


def _ard(result: PlanResult, analysis: str, stat: str, **keys: str) -> float:
    ard = result.ard()
    ard = ard[(ard["analysis"] == analysis) & (ard["stat_name"] == stat)]
    for k, v in keys.items():
        ard = ard[ard[k] == v]
    assert len(ard) == 1, (analysis, stat, keys)
    return float(ard["stat_value"].iloc[0])


def test_demo_reproduces_the_direction_of_seed_000(results: dict[str, PlanResult]) -> None:
    r = results["tumor-burden"]
    low, high = "Low burden (MRD+, <5% blasts)", "High burden (>=5% blasts)"
    # Fig. 2B: CR higher with low burden; Fig. 4B: severe CRS higher with high burden
    cr = {g: _ard(r, "cr_by_burden", "percent", group=g, level="yes") for g in (low, high)}
    assert cr[low] > cr[high]
    scrs = {
        g: _ard(r, "severe_crs_by_burden", "percent", group=g, level="yes") for g in (low, high)
    }
    assert scrs[high] > scrs[low]
    assert _ard(r, "severe_crs_by_burden", "p_value", variable="test") < 0.05
    # Fig. 4D: neurotoxicity not different
    assert _ard(r, "neurotoxicity_by_burden", "p_value", variable="test") > 0.05
    # Fig. 5C: IL-6 higher with high burden
    il6 = {g: _ard(r, "peak_il6_by_burden", "mean", group=g) for g in (low, high)}
    assert il6[high] > il6[low]


def test_demo_reproduces_the_direction_of_seed_002(results: dict[str, PlanResult]) -> None:
    r = results["mrd"]
    # Fig. 1: 2-year OS and EFS higher in MRD-positive patients
    for a in ("os_by_disease", "efs_by_disease"):
        mrd = _ard(r, a, "estimate", group="MRD-positive", variable="day_730")
        active = _ard(r, a, "estimate", group="Active disease", variable="day_730")
        assert mrd > active
    # Fig. 3: lower expansion after re-infusion
    assert _ard(r, "reinfusion_expansion", "median_ratio", variable="cmax_ratio") < 1


def test_demo_reproduces_the_direction_of_seed_003_and_004(
    results: dict[str, PlanResult],
) -> None:
    r3 = results["crs-survival-factors"]
    assert _ard(r3, "os_by_remission", "p_value", variable="logrank") < 0.05
    or_blasts = _ard(
        r3, "logistic_severe_crs", "odds_ratio", group="multivariable", variable="bm_blasts_pct"
    )
    assert or_blasts > 1
    r4 = results["toxicity-impact"]
    for a in ("os_by_crs", "lfs_by_crs", "os_by_icans", "lfs_by_icans"):
        assert _ard(r4, a, "p_value", variable="logrank") > 0.05


def test_seed002_sheet_on_the_mrd_plan() -> None:
    cohort = cc.load_cohort(cc.demo_path("seed002_mrd"))
    result = run_plan("mrd", cohort)
    status = {o.id: o for o in result.outputs}
    listing = status["patient_listing"]
    assert listing.status == "done"
    frame = listing.tables[0].frame
    assert len(frame) == 14
    assert {"malignancy", "mrd_detection", "clinical_outcome", "crs_grade"} <= set(frame.columns)
    # Table 3's CRS row: 10 of 14 patients had grade 1 CRS (71.4 %)
    ae = status["adverse_events"]
    assert ae.status == "done"
    crs = ae.tables[0].frame.set_index("term").loc["Cytokine release syndrome"]
    assert crs["percent_grade_1"] == pytest.approx(10 / 14)
    # the sheet has no marrow blasts (no MRD-positive/active split), no death status
    # (no OS), no kinetics or labs: those are skipped, with the reason
    for o in result.outputs:
        if o.status != "done":
            assert o.status == "skipped", (o.id, o.reason)
            assert re.search(
                r"needs|no patient could be given|no patient has an HSCT date", o.reason
            ), (o.id, o.reason)


@pytest.mark.parametrize("name", PLANS)
def test_builtin_plans_on_cohorts_missing_optional_columns(name: str) -> None:
    frame = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame(
            {
                "patient_id": ["a", "b", "c", "d"],
                "age_years": [30.0, 40.0, 50.0, 60.0],
                "sex": ["M", "F", "M", "F"],
                "crs_grade": [0, 1, 3, 2],
            }
        ),
    )
    for cohort in (
        Cohort(tables={"patients": frame}, name="thin"),
        cc.load_cohort(cc.demo_path("seed002_mrd")),
    ):
        result = run_plan(name, cohort)
        for o in result.outputs:
            assert o.status in ("done", "skipped", "failed")
            if o.status != "done":
                assert o.reason, o.id
