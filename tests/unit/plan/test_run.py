"""Running a plan: done, skipped with a reason, or failed; never an error for the whole run."""

from __future__ import annotations

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

PLAN = """\
name: smoke
title: Smoke test
population:
  - {column: age_years, min: 18, label: "younger than 18 years"}
groups:
  burden:
    column: burden_group
    levels: [low, high]
    labels: {low: Low burden, high: High burden}
analyses:
  - {id: cr, type: compare_proportions, title: CR by burden, outcome: responder, by: burden}
  - {id: os, type: survival, title: OS by burden, endpoint: OS, by: burden, landmarks_days: [730]}
  - {id: il6, type: compare_values, title: IL-6, value: peak_il6_pg_ml, by: burden}
  - {id: nothing, type: compare_values, title: Absent, value: no_such_column, by: burden}
"""


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


def test_plan_runs_on_the_demo(demo: Cohort) -> None:
    result = run_plan(parse_plan(PLAN), demo)
    status = {o.id: o.status for o in result.outputs}
    assert status == {"cr": "done", "os": "done", "il6": "done", "nothing": "skipped"}
    skipped = next(o for o in result.outputs if o.id == "nothing")
    assert "no_such_column" in skipped.reason
    assert result.synthetic is True
    ard = result.ard()
    assert set(ard["analysis"]) == {"cr", "os", "il6"}
    p = ard[(ard["analysis"] == "os") & (ard["stat_name"] == "p_value")]["stat_value"]
    assert len(p) == 1
    assert 0 < float(p.iloc[0]) <= 1


def test_population_filter_is_recorded_in_the_flow(demo: Cohort) -> None:
    result = run_plan(parse_plan(PLAN), demo)
    first, last = result.flow
    assert first.n == demo.n_patients
    n_young = int((demo.patients["age_years"] < 18).sum())
    assert last.n == demo.n_patients - n_young
    if n_young:
        assert last.excluded == (("younger than 18 years", n_young),)


def test_cohort_missing_optional_columns_skips_instead_of_failing() -> None:
    frame = apply_dtypes(
        TABLE_BY_NAME["patients"],
        pd.DataFrame({"patient_id": ["a", "b", "c"], "age_years": [30.0, 40.0, 50.0]}),
    )
    result = run_plan(parse_plan(PLAN), Cohort(tables={"patients": frame}, name="thin"))
    assert {o.status for o in result.outputs} == {"skipped"}
    assert all(o.reason.startswith("Skipped: ") for o in result.outputs)


def test_figures_draw(demo: Cohort) -> None:
    result = run_plan(parse_plan(PLAN), demo)
    for output in result.outputs:
        for fig in output.figures:
            assert fig.draw().axes


def test_iter_plans_in_worker_processes_gives_the_run_plan_results(demo: Cohort) -> None:
    from cartcohort._pool import WorkerPool
    from cartcohort.derive.dataset import derive
    from cartcohort.plan.run import iter_plans
    from cartcohort.render.report.build import results_payload

    plans = [parse_plan(PLAN), "mrd"]
    data = derive(demo)
    expected = [run_plan(p, demo, dataset=data) for p in plans]
    seen: list[str] = []
    with WorkerPool(2) as pool:
        assert pool.parallel
        assert not pool.started
        got = list(
            iter_plans(plans, demo, dataset=data, pool=pool, progress=lambda s, *_: seen.append(s))
        )
        assert pool.started
    serial = list(iter_plans(plans, demo, dataset=data))
    for results in (got, serial):
        assert [r.plan_name for r in results] == ["smoke", "mrd"]
        assert results_payload(results) == results_payload(expected)
    assert seen[:2] == ["smoke: cr", "smoke: os"]
    assert len(seen) == sum(len(r.outputs) for r in expected)


def test_worker_pool_without_workers_refuses_work() -> None:
    from cartcohort._pool import WorkerPool

    with WorkerPool(1) as pool:
        assert not pool.parallel
        with pytest.raises(RuntimeError, match="no worker processes"):
            pool.try_submit(print)


def test_an_analysis_whose_worker_died_runs_again_here_then_fails_with_the_reason(
    demo: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    from cartcohort._pool import WorkerPool
    from cartcohort.plan import analyses
    from cartcohort.plan.run import iter_plans

    main = os.getpid()

    def killed_then_out_of_memory(spec: object, ctx: object) -> None:
        if os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
        raise MemoryError("cannot allocate 8 GiB")

    monkeypatch.setitem(analyses.RUNNERS, "compare_values", killed_then_out_of_memory)
    with WorkerPool(2) as pool:
        (result,) = iter_plans([parse_plan(PLAN)], demo, pool=pool)
        assert pool.lost >= 1
    status = {o.id: o.status for o in result.outputs}
    assert status == {"cr": "done", "os": "done", "il6": "failed", "nothing": "failed"}
    il6 = next(o for o in result.outputs if o.id == "il6")
    assert "MemoryError: cannot allocate 8 GiB" in il6.reason
    assert "Run again in the main process after the worker process" in il6.reason
