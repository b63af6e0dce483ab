"""Counting-process data against R survival 3.5-3: ``to_counting_process`` against
``tmerge``, and ``cox_ph(start=)`` against ``coxph(Surv(start, stop, event) ~ ...)``
with its concordance and ``cox.zph``.

The expected values come from ``tests/reference/r/counting.R`` (rerun it to regenerate
``tests/reference/cases/counting.json``); each case stores its input data, so R is not
needed here. As in ``test_cox_against_r.py``, R fitted with ``eps = 1e-12``; quantities
that depend on the estimate are compared at 1e-6, those that do not (log likelihood and
score test at beta = 0, concordance counts) at 1e-10. The concordance estimate and its
standard error depend on the estimate only through the order of the linear predictor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.counting import mantel_byar_test, simon_makuch, to_counting_process
from cartcohort.analyse.cox import CoxResult, cox_ph

DATA = json.loads((Path(__file__).parent / "cases" / "counting.json").read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in DATA["cases"]}
CLOSED_FORM_RTOL = 1e-10
ZPH = [(cid, tr) for cid in CASES for tr in CASES[cid]["expected"]["zph"]]


def _as_list(value: Any) -> list[Any]:
    if value is None or value == {}:
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


_FITS: dict[str, CoxResult] = {}


def fitted(case_id: str) -> CoxResult:
    """Fit each case once per test session."""
    if case_id not in _FITS:
        case = CASES[case_id]
        spec = case["spec"]
        _FITS[case_id] = cox_ph(
            _frame(case),
            start=spec["start"],
            time=spec["time"],
            event=spec["event"],
            covariates=_as_list(spec["covariates"]),
            strata=_as_list(spec["strata"]) or None,
            ties=spec["ties"],
        )
    return _FITS[case_id]


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["source"].startswith("R version 4.2.2")
    assert prov["packages"]["survival"] == "3.5.3"
    assert prov["script"] == "tests/reference/r/counting.R"


def test_split_matches_r_tmerge() -> None:
    cohort = pd.DataFrame(DATA["split"]["input"])
    out = to_counting_process(
        cohort.drop(columns=["status"]).assign(death=cohort["status"]),
        id="id",
        time="time",
        event="death",
        changes={"hsct": "hsct_day", "relapse": "relapse_day"},
    )
    exp = pd.DataFrame(DATA["split"]["expected"])
    assert len(out) == len(exp)
    for column in ["id", "tstart", "tstop", "death", "hsct", "relapse", "age", "bulky"]:
        np.testing.assert_array_equal(
            out[column].to_numpy(), exp[column].to_numpy(), err_msg=column
        )


@pytest.mark.parametrize("case_id", list(CASES))
def test_coefficients_match_r_coxph(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    rtol = CASES[case_id]["rtol"]
    assert rtol == 1e-6
    fit = fitted(case_id)
    assert fit.converged
    for column in ["coef", "se", "hr", "lower", "upper", "z", "p_value"]:
        np.testing.assert_allclose(
            fit.table[column].to_numpy(), _vec(exp[column]), rtol=rtol, err_msg=column
        )
    assert (fit.n, fit.n_events) == (exp["n"], exp["n_events"])


@pytest.mark.parametrize("case_id", list(CASES))
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
    np.testing.assert_allclose(score.p_value, exp["score_test"][2], rtol=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("case_id", list(CASES))
def test_concordance_matches_r(case_id: str) -> None:
    exp = CASES[case_id]["expected"]
    c = fitted(case_id).concordance
    counts = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    assert counts == [int(v) for v in exp["concordance_counts"]]
    np.testing.assert_allclose(c.estimate, exp["concordance"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(c.std_err, exp["concordance_se"], rtol=CLOSED_FORM_RTOL)


@pytest.mark.parametrize(("case_id", "transform"), ZPH)
def test_check_ph_matches_r_cox_zph(case_id: str, transform: str) -> None:
    exp = CASES[case_id]["expected"]["zph"][transform]
    rtol = CASES[case_id]["rtol"]
    table = fitted(case_id).check_ph(transform).table
    assert list(table["term"]) == _as_list(exp["term"])
    np.testing.assert_allclose(table["statistic"], _vec(exp["statistic"]), rtol=rtol)
    np.testing.assert_array_equal(table["df"], _vec(exp["df"]))
    np.testing.assert_allclose(table["p_value"], _vec(exp["p_value"]), rtol=rtol)


TIME_DEPENDENT = {case["id"]: case for case in DATA["time_dependent"]}


@pytest.mark.parametrize("case_id", list(TIME_DEPENDENT))
def test_mantel_byar_matches_r_coxph_exact_score(case_id: str) -> None:
    case = TIME_DEPENDENT[case_id]
    frame = pd.DataFrame(case["input"])
    event = "event" if "event" in frame.columns else "status"
    res = mantel_byar_test(
        frame, id="id", time="time", event=event, exposure_day=case["exposure_day"]
    )
    exp = case["mantel_byar"]
    np.testing.assert_allclose(res.statistic, exp["statistic"], rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(res.p_value, exp["p_value"], rtol=CLOSED_FORM_RTOL)
    assert (res.df, res.n_events) == (exp["df"], exp["n_events"])
    assert res.method.estimator == "Mantel-Byar test"
    # with tied event times the Efron score test differs, as R's does
    split = to_counting_process(
        frame, id="id", time="time", event=event, changes={"exposed": case["exposure_day"]}
    )
    efron = cox_ph(split, start="tstart", time="tstop", event=event, covariates=["exposed"])
    np.testing.assert_allclose(efron.score_test.statistic, case["efron_score"], rtol=1e-10)


@pytest.mark.parametrize("case_id", list(TIME_DEPENDENT))
def test_simon_makuch_matches_r_survfit(case_id: str) -> None:
    case = TIME_DEPENDENT[case_id]
    frame = pd.DataFrame(case["input"])
    event = "event" if "event" in frame.columns else "status"
    fit = simon_makuch(frame, id="id", time="time", event=event, exposure_day=case["exposure_day"])
    exp = case["simon_makuch"]
    assert fit.table["group"].astype(str).tolist() == exp["group"]
    for col in ("n_risk", "n_event", "n_censor"):
        np.testing.assert_array_equal(fit.table[col], exp[col], err_msg=col)
    for col in ("time", "estimate", "std_err", "lower", "upper"):
        got = fit.table[col].to_numpy(dtype=float)
        want = np.array([np.nan if v is None else v for v in exp[col]], dtype=float)
        np.testing.assert_allclose(got, want, rtol=CLOSED_FORM_RTOL, err_msg=col)
    assert fit.method.estimator == "Simon-Makuch"
