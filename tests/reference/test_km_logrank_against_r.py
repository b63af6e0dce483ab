"""Kaplan–Meier, median follow-up and the log-rank family against R survival 3.5-3.

The expected values come from ``tests/reference/r/km_logrank.R`` (rerun it to regenerate
``tests/reference/cases/km_logrank.json``); the input data are stored in the JSON, so R is
not needed here. All quantities are closed-form, compared at ``rtol = 1e-10``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.km import kaplan_meier, median_follow_up
from cartcohort.analyse.logrank import logrank_test, logrank_trend_test
from cartcohort.errors import DegenerateWarning

CASES = json.loads(
    (Path(__file__).parent / "cases" / "km_logrank.json").read_text(encoding="utf-8")
)
RTOL = CASES["rtol"]
assert RTOL == 1e-10

# Cases whose inputs make a group degenerate: the warning is part of the expected result.
DEGENERATE_KM = {"censored-group-log-log": "no events", "all-censored-log": "no events"}
DEGENERATE_LOGRANK = {"censored-group": "no events", "zero-expected": "expected = 0"}

# print(survfit) (survmean's rule) and quantile.survfit disagree when the curve *ends*
# flat at exactly 0.5: print gives the start of the flat stretch (2), quantile the midpoint
# with the last follow-up time (3). cartcohort follows quantile.survfit.
PRINT_DIFFERS = {"ends-flat-half-log"}


def _vec(value: Any, dtype: type = float) -> np.ndarray:
    """JSON scalar or list (auto_unbox) -> 1-d array; null -> NaN."""
    items = value if isinstance(value, list) else [value]
    if dtype is float:
        return np.array([np.nan if v is None else v for v in items], dtype=float)
    return np.array(items, dtype=dtype)


def _labels(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _frame(name: str) -> pd.DataFrame:
    d = CASES["datasets"][name]
    frame = pd.DataFrame({"time": _vec(d["time"]), "event": _vec(d["event"], int)})
    if "group" in d:
        groups = [None if g is None else str(g) for g in _as_list(d["group"])]
        frame["group"] = pd.Categorical(groups, categories=_labels(d["levels"]))
    if "strata" in d:
        strata = [None if s is None else str(s) for s in _as_list(d["strata"])]
        frame["strata"] = pd.Categorical(strata, categories=_labels(d["strata_levels"]))
    return frame


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_columns(actual: pd.DataFrame, expected: dict[str, Any]) -> None:
    assert len(actual) == len(_as_list(expected["time"]))
    assert [str(g) for g in actual["group"]] == _labels(expected["group"])
    for col in ("n_risk", "n_event", "n_censor"):
        np.testing.assert_array_equal(actual[col].to_numpy(), _vec(expected[col], int), col)
    for col in ("time", "estimate", "std_err", "lower", "upper"):
        np.testing.assert_allclose(
            actual[col].to_numpy(dtype=float), _vec(expected[col]), rtol=RTOL, err_msg=col
        )


def _fit_km(case: dict[str, Any]) -> Any:
    kwargs = {
        "time": "time",
        "event": "event",
        "by": "group" if case["by"] else None,
        "ci_method": case["ci_method"],
        "confidence_level": case["confidence_level"],
    }
    data = _frame(case["dataset"])
    if case["id"] in DEGENERATE_KM:
        with pytest.warns(DegenerateWarning, match=DEGENERATE_KM[case["id"]]):
            return kaplan_meier(data, **kwargs)
    return kaplan_meier(data, **kwargs)


KM_IDS = [c["id"] for c in CASES["km"]]


@pytest.mark.parametrize("case", CASES["km"], ids=KM_IDS)
def test_km_table_matches_r_summary_survfit(case: dict[str, Any]) -> None:
    fit = _fit_km(case)
    _check_columns(fit.table, case["expected"]["table"])
    assert fit.n_excluded == case["expected"]["n_excluded"]
    assert fit.method.options["ci_method"] == case["ci_method"]


@pytest.mark.parametrize("case", CASES["km"], ids=KM_IDS)
def test_km_median_matches_r_quantile_survfit(case: dict[str, Any]) -> None:
    fit = _fit_km(case)
    exp = case["expected"]["median"]
    med = fit.median
    assert [str(g) for g in med["group"]] == _labels(exp["group"])
    np.testing.assert_array_equal(med["n"].to_numpy(), _vec(exp["n"], int))
    np.testing.assert_array_equal(med["n_events"].to_numpy(), _vec(exp["n_events"], int))
    for col in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(
            med[col].to_numpy(dtype=float), _vec(exp[col]), rtol=RTOL, err_msg=col
        )
    np.testing.assert_array_equal(med["reached"].to_numpy(), ~np.isnan(_vec(exp["estimate"])))


@pytest.mark.parametrize("case", CASES["km"], ids=KM_IDS)
def test_km_median_matches_r_print_survfit(case: dict[str, Any]) -> None:
    fit = _fit_km(case)
    printed = _vec(case["expected"]["print_median"]["estimate"])
    ours = fit.median["estimate"].to_numpy(dtype=float)
    if case["id"] in PRINT_DIFFERS:
        assert not np.allclose(ours, printed, equal_nan=True)
    else:
        np.testing.assert_allclose(ours, printed, rtol=RTOL)
        for col in ("lower", "upper"):
            np.testing.assert_allclose(
                fit.median[col].to_numpy(dtype=float),
                _vec(case["expected"]["print_median"][col]),
                rtol=RTOL,
                err_msg=col,
            )


@pytest.mark.parametrize("case", CASES["km"], ids=KM_IDS)
def test_km_at_matches_r_summary_times(case: dict[str, Any]) -> None:
    fit = _fit_km(case)
    _check_columns(fit.at(case["times"]), case["expected"]["at"])


@pytest.mark.parametrize("case", CASES["follow_up"], ids=[c["id"] for c in CASES["follow_up"]])
def test_median_follow_up_matches_r_reverse_km(case: dict[str, Any]) -> None:
    res = median_follow_up(
        _frame(case["dataset"]),
        time="time",
        event="event",
        ci_method=case["ci_method"],
        confidence_level=case["confidence_level"],
    )
    exp = case["expected"]
    np.testing.assert_allclose(
        [res.estimate, res.lower, res.upper],
        _vec([exp["estimate"], exp["lower"], exp["upper"]]),
        rtol=RTOL,
    )


def test_lung_median_follow_up_is_588() -> None:
    # the value every package agrees on (stats-ecosystem.md, section 2)
    assert median_follow_up(_frame("lung_sex"), time="time", event="event").estimate == 588


def _run_logrank(case: dict[str, Any], fn: Any, **kwargs: Any) -> Any:
    data = _frame(case["dataset"])
    strata = "strata" if case["strata"] else None
    if case["id"] in DEGENERATE_LOGRANK and fn is logrank_test:
        with pytest.warns(DegenerateWarning, match=DEGENERATE_LOGRANK[case["id"]]):
            return fn(data, time="time", event="event", by="group", strata=strata, **kwargs)
    with warnings.catch_warnings():
        # the trend cases include no degenerate group; any warning fails the test
        warnings.simplefilter("error")
        return fn(data, time="time", event="event", by="group", strata=strata, **kwargs)


@pytest.mark.parametrize("case", CASES["logrank"], ids=[c["id"] for c in CASES["logrank"]])
def test_logrank_matches_r_survdiff(case: dict[str, Any]) -> None:
    res = _run_logrank(case, logrank_test, rho=case["rho"])
    exp = case["expected"]
    assert [f"group={g}" for g in res.groups] == _labels(exp["groups"])
    np.testing.assert_allclose(res.statistic, exp["statistic"], rtol=RTOL)
    assert res.df == exp["df"]
    np.testing.assert_allclose(res.p_value, exp["p_value"], rtol=RTOL)
    np.testing.assert_allclose(res.observed, _vec(exp["observed"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(res.expected, _vec(exp["expected"]), rtol=RTOL)
    k = len(res.groups)
    np.testing.assert_allclose(
        res.variance, np.array(exp["variance"], dtype=float).reshape(k, k), rtol=RTOL, atol=1e-12
    )
    np.testing.assert_array_equal(res.table["n"].to_numpy(), _vec(exp["n"], int))
    assert res.n_excluded == exp["n_excluded"]


@pytest.mark.parametrize("case", CASES["trend"], ids=[c["id"] for c in CASES["trend"]])
def test_logrank_trend_matches_r_survdiff_formula(case: dict[str, Any]) -> None:
    scores = case.get("scores")
    res = _run_logrank(case, logrank_trend_test, scores=scores)
    exp = case["expected"]
    for name in ("statistic", "p_value", "z", "score_statistic", "score_variance"):
        np.testing.assert_allclose(getattr(res, name), exp[name], rtol=RTOL, err_msg=name)
    assert res.df == 1
    np.testing.assert_allclose(res.observed, _vec(exp["observed"]), rtol=RTOL)
    np.testing.assert_allclose(res.expected, _vec(exp["expected"]), rtol=RTOL)
