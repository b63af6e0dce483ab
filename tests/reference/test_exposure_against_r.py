"""The ``time_dependent_exposure`` plan analysis against R survival 3.5-3.

``tests/reference/r/exposure.R`` fits, on the same patients, the time-dependent Cox model
(``tmerge`` + ``coxph(Surv(tstart, tstop, death) ~ hsct)``, Efron, unadjusted and
adjusted), the Mantel-Byar test (score test of the exact-ties model) and the Simon-Makuch
curves (``survfit`` on the split data, log-log intervals). Here the plan runs on the same
patients (the synthetic demo cohort itself; the small case written as a patient sheet)
and its ARD must agree: 1e-6 relative for the fitted model, 1e-10 for the closed-form
test and curves. Rerun the R script to regenerate ``tests/reference/cases/exposure.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.analyse.counting import simon_makuch
from cartcohort.derive.dataset import derive
from cartcohort.model.cohort import Cohort
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

DATA = json.loads((Path(__file__).parent / "cases" / "exposure.json").read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in DATA["cases"]}
ITERATIVE = DATA["rtol"]["iterative"]
CLOSED_FORM = DATA["rtol"]["closed_form"]
NAMES = {0: "No HSCT yet", 1: "After HSCT"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _input(case: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(case["input"])
    return frame.astype({"hsct_day": "float64"})


def _cohort(case_id: str, tmp_path: Path) -> Cohort:
    """The case's patients as a patient sheet (the demo's own sheet: OS needs no more)."""
    if case_id == "demo_os":
        sheet = Path(cc.demo_path("synthetic")) / "patients.csv"
        (tmp_path / "patients.csv").write_bytes(sheet.read_bytes())
        return cc.load_cohort(tmp_path)
    d = _input(CASES[case_id])
    patients = pd.DataFrame(
        {
            "patient_id": d["patient_id"],
            "death": d["event"] == 1,
            "death_day": d["time"].where(d["event"] == 1),
            "last_followup_day": d["time"],
            "hsct_after": d["hsct_day"].notna(),
            "hsct_day": d["hsct_day"],
            "age_years": d["age_years"],
        }
    )
    patients.to_csv(tmp_path / "patients.csv", index=False)
    return cc.load_cohort(tmp_path)


_RUNS: dict[str, AnalysisOutput] = {}


def _run(case_id: str, tmp_path: Path) -> AnalysisOutput:
    """Run the plan once per case and test session."""
    if case_id not in _RUNS:
        _RUNS[case_id] = _run_plan(case_id, tmp_path)
    return _RUNS[case_id]


def _run_plan(case_id: str, tmp_path: Path) -> AnalysisOutput:
    covariates = ", ".join(_as_list(CASES[case_id]["covariates"]))
    plan = parse_plan(
        "name: t\ntitle: t\nanalyses:\n"
        "  - {id: hsct_os, type: time_dependent_exposure, title: HSCT and OS, endpoint: OS,\n"
        f"     exposure: hsct, change_day: hsct_day, covariates: [{covariates}]}}\n"
    )
    out = run_plan(plan, _cohort(case_id, tmp_path)).outputs[0]
    assert out.status == "done", out.reason
    return out


def _stat(out: AnalysisOutput, group: str, variable: str, name: str) -> float:
    a = out.ard
    rows = a[(a["group"] == group) & (a["variable"] == variable) & (a["stat_name"] == name)]
    assert len(rows) == 1, (group, variable, name)
    value = rows["stat_value"].iloc[0]
    return float("nan") if value is None else float(value)


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["source"].startswith("R version")
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/exposure.R"


def test_demo_case_uses_the_data_the_plan_derives(tmp_path: Path) -> None:
    """R derived OS from the demo's patient sheet; the OS rows cartcohort derives from it
    must be the same (else the comparisons below compare different data)."""
    r = _input(CASES["demo_os"])
    ds = derive(_cohort("demo_os", tmp_path))
    os_rows = ds.endpoints[ds.endpoints["param"] == "OS"]
    assert sorted(os_rows["patient_id"]) == sorted(r["patient_id"])
    joined = os_rows.merge(r, on="patient_id", suffixes=("", "_r"), validate="one_to_one")
    np.testing.assert_array_equal(joined["time_days"].astype(float), joined["time"].astype(float))
    np.testing.assert_array_equal(joined["event"].astype(int), joined["event_r"].astype(int))
    assert (joined["start_day"] == 0).all()


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_time_dependent_cox_matches_r(case_id: str, tmp_path: Path) -> None:
    out = _run(case_id, tmp_path)
    expected = CASES[case_id]["expected"]
    for group in ("unadjusted", "adjusted"):
        exp = expected[group]
        for stat in ("hr", "lower", "upper", "coef", "se", "z", "p_value"):
            got = _stat(out, group, "hsct", stat)
            assert got == pytest.approx(exp[stat], rel=ITERATIVE), (group, stat)
        assert _stat(out, group, "(model)", "n_intervals") == exp["n"]
        assert _stat(out, group, "(model)", "n_events") == exp["n_events"]


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_mantel_byar_matches_r(case_id: str, tmp_path: Path) -> None:
    out = _run(case_id, tmp_path)
    exp = CASES[case_id]["expected"]["mantel_byar"]
    assert _stat(out, "", "mantel_byar", "statistic") == pytest.approx(
        exp["statistic"], rel=CLOSED_FORM
    )
    assert _stat(out, "", "mantel_byar", "p_value") == pytest.approx(
        exp["p_value"], rel=CLOSED_FORM
    )
    assert _stat(out, "", "mantel_byar", "df") == exp["df"]


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_simon_makuch_medians_match_r(case_id: str, tmp_path: Path) -> None:
    out = _run(case_id, tmp_path)
    exp = CASES[case_id]["expected"]["simon_makuch"]
    for i, group in enumerate(exp["median_group"]):
        for stat, key in (
            ("estimate", "median"),
            ("lower", "median_lower"),
            ("upper", "median_upper"),
        ):
            want = exp[key][i]
            got = _stat(out, NAMES[group], "median_days", stat)
            if want is None:
                assert np.isnan(got), (group, stat)
            else:
                assert got == pytest.approx(want, rel=CLOSED_FORM), (group, stat)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_simon_makuch_survival_matches_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]["simon_makuch"]
    d = _input(CASES[case_id])
    sm = simon_makuch(d, id="patient_id", time="time", event="event", exposure_day="hsct_day")
    at = sm.at(sorted(set(exp["time"])))
    for group, time, surv, se in zip(
        exp["group"], exp["time"], exp["surv"], exp["std_err"], strict=True
    ):
        row = at[(at["group"] == group) & (at["time"] == time)]
        assert float(row["estimate"].iloc[0]) == pytest.approx(surv, rel=CLOSED_FORM)
        assert float(row["std_err"].iloc[0]) == pytest.approx(se, rel=CLOSED_FORM, abs=1e-15)
