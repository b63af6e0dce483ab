"""``time_dependent`` in the ``cox`` plan analysis: equal to a direct counting-process fit."""

from __future__ import annotations

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import derive
from cartcohort.model.cohort import Cohort
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

PLAN = """\
name: t
title: t
analyses:
  - {id: cox_td, type: cox, title: c, endpoint: OS, multivariable: all,
     covariates: [age_years], time_dependent: {hsct: hsct_day}}
  - {id: cox_efs, type: cox, title: c, endpoint: EFS, multivariable: none,
     covariates: [age_years], time_dependent: {hsct: hsct_day}}
  - {id: cox_missing, type: cox, title: c, endpoint: OS, covariates: [age_years],
     time_dependent: {hsct: no_such_day}}
"""


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def outputs(demo: Cohort) -> dict[str, AnalysisOutput]:
    return {o.id: o for o in run_plan(parse_plan(PLAN), demo).outputs}


def _direct(demo: Cohort, param: str) -> pd.DataFrame:
    ds = derive(demo)
    data = ds.endpoints[ds.endpoints["param"] == param].merge(
        ds.patients[["patient_id", "age_years", "hsct_day"]]
    )
    day = (data["hsct_day"] - data["start_day"]).clip(lower=0)
    data = data.assign(d=day.where(day <= data["time_days"]))
    data = data[data["time_days"] > 0]
    return cc.to_counting_process(
        data[["patient_id", "time_days", "event", "age_years", "d"]],
        id="patient_id",
        time="time_days",
        event="event",
        changes={"hsct": "d"},
    )


def _hr(o: AnalysisOutput, group: str, variable: str) -> float:
    ard = o.ard[
        (o.ard["stat_name"] == "hr") & (o.ard["group"] == group) & (o.ard["variable"] == variable)
    ]
    assert len(ard) == 1, ard
    return float(ard["stat_value"].iloc[0])


@pytest.mark.parametrize(("analysis", "param"), [("cox_td", "OS"), ("cox_efs", "EFS")])
def test_time_dependent_cox_matches_a_direct_counting_process_fit(
    demo: Cohort, outputs: dict[str, AnalysisOutput], analysis: str, param: str
) -> None:
    o = outputs[analysis]
    assert o.status == "done", o.reason
    split = _direct(demo, param)
    direct = cc.cox_ph(split, start="tstart", time="tstop", event="event", covariates=["hsct"])
    assert _hr(o, "univariable", "hsct") == pytest.approx(direct.table["hr"].iloc[0], rel=1e-9)
    if analysis == "cox_td":
        both = cc.cox_ph(
            split, start="tstart", time="tstop", event="event", covariates=["age_years", "hsct"]
        )
        hr = both.table.set_index("term").loc["hsct", "hr"]
        assert _hr(o, "multivariable", "hsct") == pytest.approx(hr, rel=1e-9)
    assert "Time-dependent: hsct (from hsct_day)" in o.summary


def test_time_dependent_day_column_missing_skips(outputs: dict[str, AnalysisOutput]) -> None:
    o = outputs["cox_missing"]
    assert o.status == "skipped"
    assert "no_such_day" in o.reason
