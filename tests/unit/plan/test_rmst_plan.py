"""The ``rmst`` plan analysis: numbers equal a direct call on the same endpoint rows."""

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
groups:
  burden: {column: burden_group, levels: [low, high]}
analyses:
  - {id: rm, type: rmst, title: r, endpoint: OS, by: burden, tau_days: 365,
     milestones_days: [180, 365]}
  - {id: rm_all, type: rmst, title: r, endpoint: OS, tau_days: 365}
  - {id: rm_late, type: rmst, title: r, endpoint: OS, by: burden, tau_days: 100000}
"""


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def outputs(demo: Cohort) -> dict[str, AnalysisOutput]:
    result = run_plan(parse_plan(PLAN), demo)
    return {o.id: o for o in result.outputs}


def _stat(o: AnalysisOutput, name: str, **keys: str) -> float:
    ard = o.ard[o.ard["stat_name"] == name]
    for k, v in keys.items():
        ard = ard[ard[k] == v]
    assert len(ard) == 1, ard
    return float(ard["stat_value"].iloc[0])


def test_rmst_plan_matches_a_direct_call(demo: Cohort, outputs: dict[str, AnalysisOutput]) -> None:
    ds = derive(demo)
    data = ds.endpoints[ds.endpoints["param"] == "OS"].merge(
        ds.patients[["patient_id", "burden_group"]]
    )
    data = data.assign(burden=pd.Categorical(data["burden_group"], categories=["low", "high"]))
    direct = cc.rmst(data, time="time_days", event="event", by="burden", tau=365)
    o = outputs["rm"]
    assert o.status == "done", o.reason
    for rec in direct.table.to_dict(orient="records"):
        assert _stat(o, "estimate", group=rec["group"], variable="") == pytest.approx(
            rec["estimate"], rel=1e-12
        )
    diff = direct.contrasts[direct.contrasts["measure"] == "difference"].iloc[0]
    got = _stat(o, "p_value", group="high", variable="rmst_difference", level="low")
    assert got == pytest.approx(diff["p_value"], rel=1e-12)
    ms = cc.milestone_difference(data, time="time_days", event="event", by="burden", at=180)
    got = _stat(o, "estimate", group="high", variable="milestone_day_180", level="low")
    assert got == pytest.approx(ms.contrasts["estimate"].iloc[0], rel=1e-12)
    assert "Restricted mean OS time up to day 365" in o.summary
    assert [t.name for t in o.tables] == ["rmst", "rmst_contrasts"]


def test_rmst_plan_without_groups_and_with_a_too_late_horizon(
    outputs: dict[str, AnalysisOutput],
) -> None:
    assert outputs["rm_all"].status == "done"
    assert len(outputs["rm_all"].tables) == 1
    late = outputs["rm_late"]
    assert late.status == "failed"
    assert "after the last follow-up time" in late.reason


def test_rmst_plan_validates_tau() -> None:
    from cartcohort.errors import PlanError

    bad = PLAN.replace("tau_days: 365}", "tau_days: 0}")
    with pytest.raises(PlanError, match="tau_days"):
        parse_plan(bad)
