"""``type: time_dependent_exposure``: skips with the reason, days on the endpoint's clock,
the outputs of one report page (numbers against R: tests/reference/test_exposure_against_r.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.errors import PlanError
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import TimeDependentExposure, parse_plan

PLAN = """\
name: t
title: t
analyses:
  - {id: hsct_os, type: time_dependent_exposure, title: HSCT and OS, endpoint: OS,
     exposure: hsct, change_day: hsct_day}
  - {id: hsct_lfs, type: time_dependent_exposure, title: HSCT and LFS, endpoint: LFS,
     covariates: [age_years, no_such_column]}
"""


def _sheet(tmp_path: Path, **columns: list[object]) -> Path:
    base: dict[str, list[object]] = {
        "patient_id": ["A", "B", "C", "D", "E", "F"],
        "death": [True, False, True, False, True, False],
        "death_day": [100, None, 300, None, 40, None],
        "last_followup_day": [100, 400, 300, 250, 40, 500],
        "best_response": ["CR", "CR", "CR", "CR", "NR", "CR"],
        "response_day": [28, 28, 28, 28, None, 28],
        "relapse": [False, False, True, False, False, False],
        "relapse_day": [None, None, 200, None, None, None],
        "hsct_after": [True, True, True, False, False, True],
        "hsct_day": [60, 90, 20, None, None, 150],
        "age_years": [10, 20, 30, 40, 50, 60],
    }
    base.update(columns)
    pd.DataFrame(base).to_csv(tmp_path / "patients.csv", index=False)
    return tmp_path


def _run(path: Path, plan: str = PLAN) -> dict[str, AnalysisOutput]:
    return {o.id: o for o in run_plan(parse_plan(plan), cc.load_cohort(path)).outputs}


def test_skipped_with_an_honest_message_when_no_hsct_day(tmp_path: Path) -> None:
    path = _sheet(tmp_path, hsct_day=[None] * 6)
    for out in _run(path).values():
        assert out.status == "skipped"
        assert "no patient has an HSCT date after CAR-T: hsct_day is empty" in out.reason
        assert "4 patient(s) have hsct_after = yes without a day" in out.reason


def test_skipped_when_every_day_is_after_the_end_of_follow_up(tmp_path: Path) -> None:
    """F's HSCT on day 500 is on the last day of follow-up: no time at risk after it."""
    path = _sheet(tmp_path, hsct_day=[None, None, None, None, None, 500])
    out = _run(path)["hsct_os"]
    assert out.status == "skipped"
    assert "no patient has HSCT during OS follow-up" in out.reason


def test_outputs_of_one_page(tmp_path: Path) -> None:
    out = _run(_sheet(tmp_path))["hsct_os"]
    assert out.status == "done", out.reason
    assert out.kind == "time_dependent_exposure"
    assert out.n == 6
    assert out.summary.startswith("4 of 6 patients had HSCT during OS follow-up")
    assert "(time-dependent Cox): HR" in out.summary
    assert "Mantel-Byar p" in out.summary
    assert [t.name for t in out.tables] == ["time_dependent_exposure", "states"]
    states = out.tables[1].frame.set_index("group")
    # A, B, C, F move (HSCT within follow-up); every patient starts unexposed
    assert states.loc["No HSCT yet", "n"] == 6
    assert states.loc["After HSCT", "n"] == 4
    # time at risk tiles follow-up: 100 + 400 + 300 + 250 + 40 + 500 days
    assert states["time_at_risk_days"].sum() == 1590
    assert [m.estimator for m in out.methods] == [
        out.methods[0].estimator,
        "Mantel-Byar test",
        "Simon-Makuch",
    ]
    (figure,) = out.figures
    assert "immortal time" in figure.caption
    assert "time-dependent" in figure.caption
    fig = figure.draw()
    assert [t.get_text() for t in fig.axes[2].get_yticklabels()] == [
        "No HSCT yet",
        "After HSCT",
        "HSCT so far",
    ]
    assert "naive" not in " ".join(out.ard["variable"])


def test_days_are_on_the_endpoint_clock(tmp_path: Path) -> None:
    """LFS starts at response (day 28): C's HSCT on day 20 counts from the start of LFS,
    the others move 28 days earlier on the LFS clock; absent covariates are named."""
    out = _run(_sheet(tmp_path))["hsct_lfs"]
    assert out.status == "done", out.reason
    assert "1 patient(s) had HSCT before the start of LFS: exposed from its start." in out.summary
    assert "left out of the adjusted model: no_such_column" in out.summary
    ard = out.ard
    day = ard[(ard["variable"] == "cohort") & (ard["stat_name"] == "median_exposure_day")]
    # LFS-clock days: A 32, B 62, C 0, F 122 -> median 47
    assert float(day["stat_value"].iloc[0]) == 47.0
    assert "median day 47 after response" in out.summary
    adjusted = ard[(ard["group"] == "adjusted") & (ard["variable"] == "age_years")]
    assert not adjusted.empty


def test_schema_refuses_unknown_keys_and_bad_names() -> None:
    spec = TimeDependentExposure.model_validate(
        {"id": "x", "type": "time_dependent_exposure", "title": "x", "endpoint": "OS"}
    )
    assert (spec.exposure, spec.change_day, spec.ties) == ("hsct", "hsct_day", "efron")
    with pytest.raises(PlanError, match="change_days"):
        parse_plan(
            "name: t\ntitle: t\nanalyses:\n  - {id: x, type: time_dependent_exposure, "
            "title: x, endpoint: OS, change_days: hsct_day}\n"
        )
    with pytest.raises(PlanError, match="exposure"):
        parse_plan(
            "name: t\ntitle: t\nanalyses:\n  - {id: x, type: time_dependent_exposure, "
            "title: x, endpoint: OS, exposure: 'HSCT yes'}\n"
        )
