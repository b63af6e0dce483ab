"""Cox regression, concordance and cox.zph against R survival 3.5-3.

The expected values come from ``tests/reference/r/cox.R`` (rerun it to regenerate
``tests/reference/cases/cox.json``); each case stores its input data, so R is not needed
here. R fitted with ``coxph.control(eps = 1e-12, iter.max = 100)``; cartcohort uses R's
default ``eps = 1e-9``, so quantities that depend on the estimate are compared at the
per-case ``rtol`` (1e-6, the iterative-fit tolerance). Quantities that do not depend on the
estimate, or depend on it only through the ordering of the linear predictor, are closed
form and compared at ``1e-10``: the log likelihood at beta = 0, the score test (computed at
beta = 0), and the concordance counts, estimate and standard error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.errors import StatisticalWarning

DATA = json.loads((Path(__file__).parent / "cases" / "cox.json").read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in DATA["cases"]}
CLOSED_FORM_RTOL = 1e-10
# Monotone-likelihood cases, fitted with R's default control (eps = 1e-9, iter.max = 20) so
# that both follow the same Newton path: in "monotone" the likelihood converges while the
# coefficient of `grp` diverges (R: "Loglik converged before variable 1"); in "separated"
# R runs out of iterations. They are compared separately below.
MONOTONE = {"monotone": "grp", "separated": "sep"}
FITTED = [cid for cid in CASES if cid not in MONOTONE]
ZPH = [(cid, tr) for cid in FITTED for tr in CASES[cid]["expected"].get("zph", {})]


def _as_list(value: Any) -> list[Any]:
    if value is None or value == {}:  # R NULL is written as {} inside a list
        return []
    return value if isinstance(value, list) else [value]


def _vec(value: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in _as_list(value)], dtype=float)


def _frame(case: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(case["input"])
    factors = case["factors"] if isinstance(case["factors"], dict) else {}
    for name, levels in factors.items():
        frame[name] = pd.Categorical(frame[name], categories=_as_list(levels))
    return frame


def _fit(case_id: str) -> CoxResult:
    case = CASES[case_id]
    spec = case["spec"]
    return cox_ph(
        _frame(case),
        time=spec["time"],
        event=spec["event"],
        covariates=_as_list(spec["covariates"]),
        strata=_as_list(spec["strata"]) or None,
        ties=spec["ties"],
    )


_FITS: dict[str, CoxResult] = {}


def fitted(case_id: str) -> CoxResult:
    """Fit each case once per test session."""
    if case_id not in _FITS:
        _FITS[case_id] = _fit(case_id)
    return _FITS[case_id]


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["source"].startswith("R version 4.2.2")
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/cox.R"


@pytest.mark.parametrize("case_id", FITTED)
def test_coefficients_match_r_coxph(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    rtol = CASES[case_id]["rtol"]
    assert rtol == 1e-6
    fit = fitted(case_id)
    assert fit.converged
    assert len(fit.table) == len(_as_list(exp["terms_r"]))
    for column in ["coef", "se", "hr", "lower", "upper", "z", "p_value"]:
        np.testing.assert_allclose(
            fit.table[column].to_numpy(), _vec(exp[column]), rtol=rtol, err_msg=column
        )


@pytest.mark.parametrize("case_id", FITTED)
def test_global_tests_match_r_summary(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    rtol = CASES[case_id]["rtol"]
    fit = fitted(case_id)
    np.testing.assert_allclose(fit.loglik[0], exp["loglik"][0], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(fit.loglik[1], exp["loglik"][1], rtol=rtol)
    for test, key in [(fit.lr_test, "lr_test"), (fit.wald_test, "wald_test")]:
        np.testing.assert_allclose(test.statistic, exp[key][0], rtol=rtol, err_msg=key)
        assert test.df == exp[key][1]
        np.testing.assert_allclose(test.p_value, exp[key][2], rtol=rtol, err_msg=key)
    score = fit.score_test
    np.testing.assert_allclose(score.statistic, exp["score_test"][0], rtol=CLOSED_FORM_RTOL)
    assert score.df == exp["score_test"][1]
    np.testing.assert_allclose(score.p_value, exp["score_test"][2], rtol=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("case_id", FITTED)
def test_concordance_matches_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    c = fitted(case_id).concordance
    counts = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    assert counts == [int(v) for v in exp["concordance_counts"]]
    np.testing.assert_allclose(c.estimate, exp["concordance"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(c.std_err, exp["concordance_se"], rtol=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("case_id", list(CASES))
def test_counts_match_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    if case_id in MONOTONE:
        with pytest.warns(StatisticalWarning, match=f"'{MONOTONE[case_id]}' may be infinite"):
            fit = _fit(case_id)
    else:
        fit = fitted(case_id)
    assert (fit.n, fit.n_events, fit.n_excluded) == (exp["n"], exp["n_events"], exp["n_excluded"])
    assert len(fit.exclusions) == (1 if exp["n_excluded"] else 0) or exp["n_excluded"] > 0


@pytest.mark.parametrize(("case_id", "transform"), ZPH)
def test_check_ph_matches_r_cox_zph(case_id: str, transform: str) -> None:
    exp = CASES[case_id]["expected"]
    rtol = CASES[case_id]["rtol"]
    fit = fitted(case_id)
    by_variable = fit.check_ph(transform)
    ref = exp["zph"][transform]
    assert list(by_variable.table["term"]) == _as_list(ref["term"])
    np.testing.assert_allclose(by_variable.table["statistic"], _vec(ref["statistic"]), rtol=rtol)
    np.testing.assert_array_equal(by_variable.table["df"], _vec(ref["df"]))
    np.testing.assert_allclose(by_variable.table["p_value"], _vec(ref["p_value"]), rtol=rtol)
    per_term = fit.check_ph(transform, per_term=True)
    ref = exp["zph_per_term"][transform]
    assert len(per_term.table) == len(_as_list(ref["term"]))
    assert per_term.table["term"].iloc[-1] == "GLOBAL"
    np.testing.assert_allclose(per_term.table["statistic"], _vec(ref["statistic"]), rtol=rtol)
    np.testing.assert_allclose(per_term.table["p_value"], _vec(ref["p_value"]), rtol=rtol)


def test_monotone_likelihood_warns_like_r() -> None:
    exp = CASES["monotone"]["expected"]
    assert "coefficient may be infinite" in exp["warnings"]
    with pytest.warns(StatisticalWarning, match="'grp' may be infinite") as record:
        fit = _fit("monotone")
    assert len(record) == 1
    assert fit.warnings == (str(record[0].message),)
    assert fit.converged
    assert fit.iterations == exp["iterations"]  # same path as R (same eps = 1e-9)
    np.testing.assert_allclose(fit.loglik, _vec(exp["loglik"]), rtol=1e-9)
    np.testing.assert_allclose(fit.score_test.statistic, exp["score_test"][0], rtol=1e-10)
    # The diverging coefficient follows R's path; its SE is numerically fragile (I ~ 0).
    np.testing.assert_allclose(fit.table["coef"], _vec(exp["coef"]), rtol=1e-6)
    np.testing.assert_allclose(fit.table["se"], _vec(exp["se"]), rtol=1e-5)
    assert np.isinf(fit.table["upper"].iloc[0])


def test_separation_warns_and_reports_non_convergence_like_r() -> None:
    exp = CASES["separated"]["expected"]
    assert exp["warnings"] == "Ran out of iterations and did not converge"
    with pytest.warns(StatisticalWarning, match="'sep' may be infinite.*no convergence"):
        fit = _fit("separated")
    assert not fit.converged
    # R returns the last accepted iterate (and counts one more iteration than it ran).
    assert fit.iterations == exp["iterations"] - 1
    np.testing.assert_allclose(fit.table["coef"], _vec(exp["coef"]), rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, _vec(exp["loglik"]), rtol=1e-9)


@pytest.mark.parametrize("case_id", ["distinct-binary-efron", "distinct-binary-breslow"])
def test_score_test_equals_logrank_without_ties(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    fit = fitted(case_id)
    np.testing.assert_allclose(fit.score_test.statistic, exp["survdiff_chisq"], rtol=1e-10)


@pytest.mark.parametrize("case_id", ["aml-efron", "aml-breslow"])
def test_score_test_differs_from_logrank_with_ties(case_id: str) -> None:
    # aml has tied death times: survdiff uses the hypergeometric variance (the exact
    # partial likelihood's score test), so neither Efron nor Breslow reproduces it; R agrees.
    exp = CASES[case_id]["expected"]
    fit = fitted(case_id)
    assert not np.isclose(fit.score_test.statistic, exp["survdiff_chisq"], rtol=1e-3)
    np.testing.assert_allclose(fit.score_test.statistic, exp["score_test"][0], rtol=1e-10)
