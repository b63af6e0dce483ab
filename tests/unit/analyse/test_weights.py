"""Case weights, robust variances and clusters: argument checks and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.analyse.logistic import logistic_regression
from cartcohort.errors import AnalysisError, DegenerateDataError


@pytest.fixture
def cohort() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days": [5, 8, 12, 20, 25, 30, 41, 50, 9, 14],
            "died": [1, 1, 0, 1, 1, 0, 1, 0, 1, 1],
            "arm": ["A", "B", "A", "B", "A", "B", "A", "B", "A", "B"],
            "w": [1.0, 2.5, 0.7, 1.2, 3.0, 1.0, 0.4, 2.0, 1.1, 0.9],
            "id": ["a", "a", "b", "c", "c", "d", "e", "e", "f", "g"],
        },
        index=[f"r{i}" for i in range(10)],
    )


def _cox(frame: pd.DataFrame, **kwargs: object) -> CoxResult:
    return cox_ph(frame, time="days", event="died", covariates=["arm"], **kwargs)  # type: ignore[arg-type]


def test_cox_invalid_weights_are_all_named_with_their_rows(cohort: pd.DataFrame) -> None:
    bad = cohort.assign(w=[1.0, -2.0, np.inf, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(AnalysisError) as info:
        _cox(bad, weights="w")
    msg = str(info.value)
    assert "'w'" in msg
    assert "['r2'] are infinite" in msg
    assert "['r1'] are negative ([-2.0])" in msg
    assert "['r3'] are 0" in msg
    assert "Fix or remove those rows" in msg


def test_cox_non_numeric_and_all_zero_weights_are_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"must be numeric; rows \['r0'\] hold \['x'\]"):
        _cox(cohort.assign(w=["x"] + [1.0] * 9), weights="w")
    with pytest.raises(AnalysisError, match="no row has a positive weight"):
        _cox(cohort.assign(w=0.0), weights="w")


def test_cox_missing_weight_excludes_the_row_as_r(cohort: pd.DataFrame) -> None:
    fit = _cox(cohort.assign(w=[np.nan] + [1.0] * 9), weights="w")
    assert fit.n == 9
    assert fit.n_excluded == 1


def test_cox_cluster_with_robust_false_is_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="a cluster implies the robust variance"):
        _cox(cohort, cluster="id", robust=False)
    with pytest.raises(AnalysisError, match="`robust` must be True, False or None"):
        _cox(cohort, robust="yes")


def test_cox_counting_process_robust_needs_cluster(cohort: pd.DataFrame) -> None:
    frame = cohort.assign(entry=0)
    with pytest.raises(AnalysisError, match="one of cluster or id is needed"):
        _cox(frame, start="entry", robust=True)
    fit = _cox(frame, start="entry", cluster="id")
    assert fit.robust_score_test is not None


def test_cox_weighted_fit_refuses_check_ph(cohort: pd.DataFrame) -> None:
    fit = _cox(cohort, weights="w")
    with pytest.raises(AnalysisError, match="check_ph\\(\\) is not available for a fit with"):
        fit.check_ph()


def test_cox_robust_result_reports_both_variances_and_the_note(cohort: pd.DataFrame) -> None:
    fit = _cox(cohort, weights="w", cluster="id")
    assert list(fit.table.columns) == [
        "term",
        "coef",
        "se",
        "naive_se",
        "hr",
        "lower",
        "upper",
        "z",
        "p_value",
    ]
    opts = fit.method.options
    assert opts["weights"] == "w"
    assert opts["cluster"] == "id"
    assert opts["variance"] == "robust"
    ard = fit.to_ard()
    assert "robust_score_statistic" in set(ard["stat_name"])
    plain = _cox(cohort)
    assert plain.naive_covariance is None
    assert "weights" not in plain.method.options


@pytest.fixture
def trial() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crs": [0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0],
            "age": [45, 52, 61, 38, 70, 58, 49, 66, 40, 63, 59, 51],
            "w": [1.0, 2.0, 0.5, 1.5, 1.0, 0.0, 1.2, 0.8, 1.0, 2.2, 0.9, 1.1],
            "id": ["a", "a", "b", "c", "c", "d", "e", "e", "f", "g", "g", "h"],
        }
    )


def test_logistic_weights_are_checked_and_zero_allowed(trial: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"rows \[1\] are negative"):
        logistic_regression(
            trial.assign(w=[1.0, -1.0] + [1.0] * 10), outcome="crs", covariates=["age"], weights="w"
        )
    fit = logistic_regression(trial, outcome="crs", covariates=["age"], weights="w")
    assert fit.n == 11
    assert fit.n_excluded == 1


def test_logistic_weighting_refuses_firth_profile_and_robust_false(trial: pd.DataFrame) -> None:
    for kwargs in (
        {"weights": "w", "method": "firth"},
        {"robust": True, "ci_method": "profile"},
        {"cluster": "id", "method": "firth"},
    ):
        with pytest.raises(AnalysisError, match=r"Weighted Firth \(brglm2\) and likelihood-based"):
            logistic_regression(trial, outcome="crs", covariates=["age"], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="a cluster implies the robust variance"):
        logistic_regression(trial, outcome="crs", covariates=["age"], cluster="id", robust=False)


def test_logistic_robust_result_names_the_sandwich(trial: pd.DataFrame) -> None:
    fit = logistic_regression(trial, outcome="crs", covariates=["age"], weights="w", cluster="id")
    assert "naive_se" in fit.table.columns
    assert "vcovCL" in str(fit.method.options["se"])
    assert "cadjust = TRUE" in str(fit.method.options["se"])
    hc0 = logistic_regression(trial, outcome="crs", covariates=["age"], robust=True)
    assert "HC0" in str(hc0.method.options["se"])
    plain = logistic_regression(trial, outcome="crs", covariates=["age"])
    assert "naive_se" not in plain.table.columns
    assert "weights" not in plain.method.options


def test_cox_check_ph_ignores_the_robust_variance_as_r(cohort: pd.DataFrame) -> None:
    # R: cox.zph(coxph(..., cluster = id)) equals cox.zph of the model-based fit.
    clustered = _cox(cohort, cluster="id").check_ph().table
    plain = _cox(cohort).check_ph().table
    pd.testing.assert_frame_equal(clustered, plain)


def test_a_single_cluster_is_a_named_error(cohort: pd.DataFrame, trial: pd.DataFrame) -> None:
    with pytest.raises(DegenerateDataError, match="needs at least 2 clusters"):
        _cox(cohort.assign(id="one"), cluster="id")
    with pytest.raises(DegenerateDataError, match="needs at least 2 clusters"):
        logistic_regression(trial.assign(id=7), outcome="crs", covariates=["age"], cluster="id")
