"""``weights:``, ``robust:`` and ``cluster:`` in the cox and logistic plan analyses."""

from __future__ import annotations

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import derive
from cartcohort.model.cohort import Cohort
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import Cox, parse_plan

PLAN = """\
name: t
title: t
analyses:
  - {id: cox_w, type: cox, title: c, endpoint: OS, multivariable: none,
     covariates: [age_years], weights: n_infusions, cluster: center}
  - {id: logit_w, type: logistic, title: l, outcome: seizure, multivariable: none,
     covariates: [age_years], weights: n_infusions, robust: true}
  - {id: cox_missing, type: cox, title: c, endpoint: OS, covariates: [age_years],
     weights: no_such_weight}
"""


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def patients_and_os(demo: Cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    ds = derive(demo)
    return ds.patients, ds.endpoints[ds.endpoints["param"] == "OS"]


@pytest.fixture(scope="module")
def outputs(demo: Cohort) -> dict[str, AnalysisOutput]:
    return {o.id: o for o in run_plan(parse_plan(PLAN), demo).outputs}


def _stat(o: AnalysisOutput, name: str) -> float:
    ard = o.ard[
        (o.ard["stat_name"] == name)
        & (o.ard["group"] == "univariable")
        & (o.ard["variable"] == "age_years")
    ]
    assert len(ard) == 1, ard
    return float(ard["stat_value"].iloc[0])


def test_weighted_clustered_cox_plan_equals_the_direct_fit(
    patients_and_os: tuple[pd.DataFrame, pd.DataFrame], outputs: dict[str, AnalysisOutput]
) -> None:
    o = outputs["cox_w"]
    assert o.status == "done", o.reason
    patients, os_rows = patients_and_os
    data = os_rows.merge(patients[["patient_id", "age_years", "n_infusions", "center"]])
    direct = cc.cox_ph(
        data,
        time="time_days",
        event="event",
        covariates=["age_years"],
        weights="n_infusions",
        cluster="center",
    )
    assert _stat(o, "hr") == pytest.approx(float(direct.table["hr"].iloc[0]), rel=1e-9)
    assert _stat(o, "se") == pytest.approx(float(direct.table["se"].iloc[0]), rel=1e-9)
    assert "robust sandwich variance" in o.methods[0].description


def test_weighted_robust_logistic_plan_equals_the_direct_fit(
    patients_and_os: tuple[pd.DataFrame, pd.DataFrame], outputs: dict[str, AnalysisOutput]
) -> None:
    o = outputs["logit_w"]
    assert o.status == "done", o.reason
    data = patients_and_os[0][["patient_id", "seizure", "age_years", "n_infusions"]]
    data = data.assign(seizure=data["seizure"].astype("object")).dropna()
    data = data.assign(seizure=data["seizure"].astype(bool))
    direct = cc.logistic_regression(
        data, outcome="seizure", covariates=["age_years"], weights="n_infusions", robust=True
    )
    row = direct.table.set_index("term").loc["age_years"]
    assert _stat(o, "se") == pytest.approx(float(row["se"]), rel=1e-9)
    assert _stat(o, "odds_ratio") == pytest.approx(float(row["odds_ratio"]), rel=1e-9)


def test_a_missing_weights_column_skips_the_analysis(outputs: dict[str, AnalysisOutput]) -> None:
    o = outputs["cox_missing"]
    assert o.status == "skipped"
    assert "no_such_weight" in str(o.reason)


def test_plan_weights_keys_default_to_none() -> None:
    plan = parse_plan(
        "name: t\ntitle: t\nanalyses:\n"
        "  - {id: c, type: cox, title: c, endpoint: OS, covariates: [age_years]}\n"
    )
    spec = plan.analyses[0]
    assert isinstance(spec, Cox)
    assert (spec.weights, spec.robust, spec.cluster) == (None, None, None)
