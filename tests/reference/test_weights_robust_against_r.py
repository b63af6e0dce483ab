"""Case weights and robust (sandwich) variances against R survival 3.5-3 and sandwich.

The expected values come from ``tests/reference/r/weights_robust.R`` (rerun it to
regenerate ``tests/reference/cases/weights_robust.json``); each case stores its input
data, so R is not needed here. Cox fits are iterative and compared at 1e-6 (R used
``eps = 1e-12``); quantities that do not depend on the estimate (log likelihood and
score test at beta = 0) are closed form and compared at 1e-10. Logistic estimates come
from IRLS run far tighter than R's default and are compared at 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.analyse.logistic import LogisticResult, logistic_regression

DATA = json.loads(
    (Path(__file__).parent / "cases" / "weights_robust.json").read_text(encoding="utf-8")
)
CASES = {case["id"]: case for case in DATA["cases"]}
COX = [cid for cid, case in CASES.items() if case["kind"] == "cox"]
LOGIT = [cid for cid, case in CASES.items() if case["kind"] == "logistic"]
FIT_RTOL = 1e-6
CLOSED_FORM_RTOL = 1e-10


def _list(value: Any) -> list[Any]:
    if value is None or value == {}:
        return []
    return value if isinstance(value, list) else [value]


def _opt(value: Any) -> Any:
    return None if value == {} or value == [] else value


def _cox(case_id: str) -> CoxResult:
    case = CASES[case_id]
    spec = case["spec"]
    return cox_ph(
        pd.DataFrame(case["input"]),
        time=spec["time"],
        event=spec["event"],
        covariates=_list(spec["covariates"]),
        weights=_opt(spec.get("weights")),
        robust=True if spec["robust"] else None,
        cluster=_opt(spec.get("cluster")),
        ties=spec["ties"],
        strata=_opt(spec.get("strata")),
        start=_opt(spec.get("start")),
    )


def _logit(case_id: str) -> LogisticResult:
    case = CASES[case_id]
    spec = case["spec"]
    return logistic_regression(
        pd.DataFrame(case["input"]),
        outcome=spec["outcome"],
        covariates=_list(spec["covariates"]),
        weights=_opt(spec.get("weights")),
        robust=True if spec["robust"] else None,
        cluster=_opt(spec.get("cluster")),
    )


def test_provenance_is_recorded() -> None:
    assert DATA["generated_by"] == "tests/reference/r/weights_robust.R"
    assert DATA["packages"]["survival"] == "3.5.3"


@pytest.mark.parametrize("case_id", COX)
def test_cox_coefficients_and_variances_match_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    fit = _cox(case_id)
    assert fit.converged
    for column in ["coef", "se", "lower", "upper", "z", "p_value"]:
        np.testing.assert_allclose(
            fit.table[column].to_numpy(), _list(exp[column]), rtol=FIT_RTOL, err_msg=column
        )
    if exp.get("naive_se") is not None:
        np.testing.assert_allclose(
            fit.table["naive_se"].to_numpy(), _list(exp["naive_se"]), rtol=FIT_RTOL
        )
        assert fit.naive_covariance is not None
        assert fit.robust_score_test is not None
        np.testing.assert_allclose(
            fit.robust_score_test.statistic, exp["robust_score"], rtol=FIT_RTOL
        )
        assert "independence" in str(fit.method.options["note"])
    else:
        assert "naive_se" not in fit.table.columns
        assert fit.robust_score_test is None


@pytest.mark.parametrize("case_id", COX)
def test_cox_tests_and_counts_match_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    fit = _cox(case_id)
    np.testing.assert_allclose(fit.loglik[0], exp["loglik"][0], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(fit.loglik[1], exp["loglik"][1], rtol=FIT_RTOL)
    np.testing.assert_allclose(fit.lr_test.statistic, exp["lr_test"][0], rtol=FIT_RTOL)
    np.testing.assert_allclose(fit.wald_test.statistic, exp["wald_test"], rtol=FIT_RTOL)
    np.testing.assert_allclose(
        fit.score_test.statistic, exp["score_test"][0], rtol=CLOSED_FORM_RTOL
    )
    assert (fit.n, fit.n_events) == (exp["n"], exp["n_events"])


@pytest.mark.parametrize("case_id", COX)
def test_cox_weighted_clustered_concordance_matches_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    c = _cox(case_id).concordance
    counts = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    np.testing.assert_allclose(counts, exp["concordance_counts"], rtol=FIT_RTOL)
    np.testing.assert_allclose(c.estimate, exp["concordance"], rtol=FIT_RTOL)
    np.testing.assert_allclose(c.std_err, exp["concordance_se"], rtol=FIT_RTOL)


def test_cox_integer_weights_equal_replicated_rows_with_breslow_ties() -> None:
    weighted = _cox("cox_integer_weights_breslow")
    replicated = _cox("cox_integer_replicated")
    for column in ["coef", "se"]:
        np.testing.assert_allclose(
            weighted.table[column], replicated.table[column], rtol=FIT_RTOL, err_msg=column
        )
    np.testing.assert_allclose(weighted.loglik, replicated.loglik, rtol=FIT_RTOL)


@pytest.mark.parametrize("case_id", LOGIT)
def test_logistic_weights_and_sandwich_match_r_glm_and_sandwich(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    fit = _logit(case_id)
    for column in ["coef", "se", "z", "p_value", "lower", "upper"]:
        np.testing.assert_allclose(
            fit.table[column].to_numpy(), _list(exp[column]), rtol=FIT_RTOL, err_msg=column
        )
    if "naive_se" in fit.table.columns:
        np.testing.assert_allclose(fit.table["naive_se"], _list(exp["naive_se"]), rtol=FIT_RTOL)
    np.testing.assert_allclose(fit.lr_test.statistic, exp["lr_statistic"], rtol=FIT_RTOL)
    if exp.get("loglik") is not None:  # R's logLik rounds non-integer weights
        np.testing.assert_allclose(fit.loglik, exp["loglik"], rtol=FIT_RTOL)
    spec = CASES[case_id]["spec"]
    if _opt(spec.get("weights")) is not None:
        assert fit.method.options["weights"] == spec["weights"]


def test_logistic_non_integer_weights_warn_in_r_but_not_here() -> None:
    assert "non-integer #successes in a binomial glm!" in _list(
        CASES["logit_ipw_hc0"]["expected"]["r_warnings"]
    )
    assert _logit("logit_ipw_hc0").warnings == ()


def test_logistic_zero_weight_rows_are_dropped_as_r_glm() -> None:
    case = CASES["logit_zero_weights_dropped"]
    frame = pd.DataFrame(case["input"])
    with_zeros = pd.concat([frame, frame.iloc[:2].assign(zw=0.0)], ignore_index=True)
    fit = logistic_regression(
        with_zeros, outcome="crs", covariates=["age", "arm"], weights="zw", cluster="cl"
    )
    np.testing.assert_allclose(fit.table["se"], _list(case["expected"]["se"]), rtol=FIT_RTOL)
    assert fit.n == len(frame)
    assert fit.n_excluded == 2
    assert "with 'zw' = 0" in fit.exclusions[-1]
