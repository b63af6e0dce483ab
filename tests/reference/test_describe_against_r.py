"""The `describe` analysis and the exact binomial interval against R
(tests/reference/r/describe.R: binom.test, summary(survfit(...), times = ), quantile)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.contingency import proportion_ci
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

CASES = json.loads((Path(__file__).parent / "cases" / "describe.json").read_text())
RTOL = CASES["rtol"]


def _close(ours: float, r_value: float | None) -> bool:
    if r_value is None:  # R's NA: not reached
        return math.isnan(ours)
    return math.isclose(ours, r_value, rel_tol=RTOL, abs_tol=1e-15)


@pytest.mark.parametrize("case", CASES["binom"], ids=lambda c: f"{c['x']}of{c['n']}@{c['conf']}")
def test_proportion_ci_matches_binom_test(case: dict) -> None:
    res = proportion_ci(case["x"], case["n"], confidence_level=case["conf"])
    assert _close(res.estimate, case["estimate"])
    assert _close(res.lower, case["lower"])
    assert _close(res.upper, case["upper"])
    assert res.method.estimator == "Clopper-Pearson"


def _cohort() -> Cohort:
    c = CASES["cohort"]
    death = [bool(d) for d in c["death"]]
    frame = pd.DataFrame(
        {
            "patient_id": c["patient_id"],
            "death": death,
            "death_day": [t if d else None for t, d in zip(c["time"], death, strict=True)],
            "last_followup_day": c["time"],
            "dose_cells_per_kg": c["dose"],
            "crs_grade": c["crs_grade"],
            "crs_onset_day": [np.nan if v is None else v for v in c["crs_onset_day"]],
        }
    )
    return Cohort(tables={"patients": apply_dtypes(TABLE_BY_NAME["patients"], frame)}, name="r")


def _run(ci_method: str) -> AnalysisOutput:
    plan = parse_plan(
        f"""
name: r
title: r
analyses:
  - id: d
    type: describe
    title: d
    items:
      - {{km: os, at_months: [6, 12, 24], ci_method: {ci_method}}}
      - {{followup: os}}
      - {{followup: os, method: observed_median_range}}
      - {{followup: os, method: observed_median_range, among: censored}}
      - {{median: dose_cells_per_kg, range: true, iqr: true}}
      - {{incidence: crs}}
      - {{onset: crs}}
"""
    )
    out = run_plan(plan, _cohort()).outputs[0]
    assert out.status == "done", out.reason
    return out


def _rows(out: AnalysisOutput, kind: str) -> pd.DataFrame:
    frame = out.tables[0].frame
    return frame[frame["kind"] == kind].reset_index(drop=True)


@pytest.mark.parametrize("ci_method", ["log-log", "log", "plain"])
def test_km_at_fixed_times_and_median_match_survfit(ci_method: str) -> None:
    ref = CASES["km"][ci_method]
    out = _run(ci_method)
    km = _rows(out, "km")
    assert list(km["statistic"]) == ["OS at 6 months", "OS at 12 months", "OS at 24 months"]
    for col, key in (("estimate", "surv"), ("std_err", "std_err"), ("lower", "lower")):
        for ours, theirs in zip(km[col], ref[key], strict=True):
            assert _close(float(ours), theirs), (col, ours, theirs)
    for ours, theirs in zip(km["upper"], ref["upper"], strict=True):
        assert _close(float(ours), theirs)
    med = _rows(out, "km_median").iloc[0]
    assert _close(med["estimate"], ref["median"])
    assert _close(med["lower"], ref["median_lower"])
    assert _close(med["upper"], ref["median_upper"])


def test_follow_up_quantiles_and_incidences_match_r() -> None:
    out = _run("log-log")
    fu = _rows(out, "followup")
    ref = CASES["followup"]
    reverse, observed, censored = (fu.iloc[i] for i in range(3))
    assert reverse["interval"] == "95% CI"
    assert _close(reverse["estimate"], ref["reverse_km"]["median"])
    assert _close(reverse["lower"], ref["reverse_km"]["lower"])
    assert _close(reverse["upper"], ref["reverse_km"]["upper"])
    for row, key in ((observed, "observed_all"), (censored, "observed_censored")):
        assert row["interval"] == "range"
        assert _close(row["estimate"], ref[key]["median"])
        assert _close(row["lower"], ref[key]["min"])
        assert _close(row["upper"], ref[key]["max"])
    dose = _rows(out, "median")
    assert list(dose["interval"]) == ["range", "IQR"]
    for i, (lo, hi) in enumerate((("min", "max"), ("q1", "q3"))):
        assert _close(dose.loc[i, "estimate"], CASES["dose"]["median"])
        assert _close(dose.loc[i, "lower"], CASES["dose"][lo])
        assert _close(dose.loc[i, "upper"], CASES["dose"][hi])
    inc = _rows(out, "incidence")
    for i, key in enumerate(("any", "severe")):
        exp = CASES["crs"][key]
        assert (inc.loc[i, "x"], inc.loc[i, "n"]) == (exp["x"], exp["n"])
        assert _close(inc.loc[i, "lower"], exp["lower"])
        assert _close(inc.loc[i, "upper"], exp["upper"])
    onset = _rows(out, "onset").iloc[0]
    exp = CASES["crs"]["onset"]
    assert onset["n"] == exp["n"]
    assert (onset["estimate"], onset["lower"], onset["upper"]) == (
        exp["median"],
        exp["min"],
        exp["max"],
    )
