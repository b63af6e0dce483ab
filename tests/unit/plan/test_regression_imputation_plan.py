"""``imputation:`` in the ``cox`` and ``logistic`` plan analyses: the multivariable model
pooled over imputed datasets equals a direct ``impute_and_pool`` call."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cartcohort as cc
from cartcohort.analyse.impute import impute_and_pool
from cartcohort.derive.dataset import derive
from cartcohort.errors import PlanError
from cartcohort.model.cohort import Cohort
from cartcohort.plan.outputs import AnalysisOutput
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

PLAN = """\
name: t
title: t
analyses:
  - {id: cox_mi, type: cox, title: c, endpoint: OS, multivariable: all,
     covariates: [age_years, cart_auc_0_28], imputation: {m: 2, seed: 3, iterations: 2}}
  - {id: cox_cc, type: cox, title: c, endpoint: OS, multivariable: all,
     covariates: [age_years, cart_auc_0_28]}
"""


@pytest.fixture(scope="module")
def demo() -> Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


@pytest.fixture(scope="module")
def outputs(demo: Cohort) -> dict[str, AnalysisOutput]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {o.id: o for o in run_plan(parse_plan(PLAN), demo).outputs}


def test_cox_plan_with_imputation_matches_direct_pooling(
    demo: Cohort, outputs: dict[str, AnalysisOutput]
) -> None:
    o = outputs["cox_mi"]
    assert o.status == "done", o.reason
    ds = derive(demo)
    data = ds.endpoints[ds.endpoints["param"] == "OS"].merge(
        ds.patients[["patient_id", "age_years", "cart_auc_0_28"]]
    )
    data = data[["patient_id", "time_days", "event", "age_years", "cart_auc_0_28"]]
    data = data.astype({"age_years": "float64", "cart_auc_0_28": "float64"})
    assert data["cart_auc_0_28"].isna().any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = impute_and_pool(
            data,
            model="cox",
            model_options={
                "time": "time_days",
                "event": "event",
                "covariates": ["age_years", "cart_auc_0_28"],
            },
            m=2,
            seed=3,
            iterations=2,
        )
    ard = o.ard[(o.ard["group"] == "multiple_imputation") & (o.ard["stat_name"] == "hr")]
    got = ard.set_index("variable")["stat_value"].astype(float)
    want = direct.table.set_index("term")["hr"]
    np.testing.assert_allclose(got[want.index], want, rtol=1e-12)
    table = {t.name: t for t in o.tables}["multiple_imputation"].frame
    assert table["term"].tolist() == ["age_years", "cart_auc_0_28"]
    assert any("Only 2 imputations" in w for w in o.warnings)
    assert any(m.estimator == "Multiple imputation, Rubin's rules" for m in o.methods)


def test_plan_without_imputation_is_unchanged(outputs: dict[str, AnalysisOutput]) -> None:
    o = outputs["cox_cc"]
    assert [t.name for t in o.tables] == ["regression"]
    assert not (o.ard["group"] == "multiple_imputation").any()


def test_imputation_keys_are_validated() -> None:
    bad = PLAN.replace("{m: 2, seed: 3, iterations: 2}", "{m: 1}")
    with pytest.raises(PlanError, match="m"):
        parse_plan(bad)
