"""Contingency tables and group comparisons against R (tests/reference/r/tests_basic.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.compare import (
    anova,
    correlation,
    kruskal_wallis_test,
    mann_whitney_test,
    t_test,
)
from cartcohort.analyse.contingency import chi_square_test, cochran_armitage_test, fisher_exact
from cartcohort.errors import StatisticalWarning

CASES = json.loads((Path(__file__).parent / "cases" / "tests_basic.json").read_text())
RTOL = CASES["rtol"]
#: R's fisher.test solves the odds-ratio equations with uniroot's default tolerance
#: (.Machine$double.eps^0.25 ~ 1.22e-4, absolute, on the OR when it is < 1 or on 1/OR
#: when it is > 1), so its estimate and limits are only that precise. We compare to R's
#: printed values at that precision and to the exact roots (also computed in R) at RTOL.
UNIROOT_TOL = np.finfo(float).eps ** 0.25


def _num(v: object) -> float:
    return {"Inf": math.inf, "-Inf": -math.inf}.get(v, v) if isinstance(v, str) else float(v)  # type: ignore[arg-type]


def _ids(key: str) -> list[str]:
    return [c["id"] for c in CASES[key]]


def _frame(data: dict) -> pd.DataFrame:
    return pd.DataFrame({k: [np.nan if v is None else v for v in vals] for k, vals in data.items()})


def _close_to_r_uniroot(ours: float, r_value: float) -> bool:
    """Within uniroot's absolute tolerance on the scale R solved on."""
    if math.isinf(r_value) or r_value == 0:
        return ours == r_value
    if r_value <= 1:
        return abs(ours - r_value) <= UNIROOT_TOL
    return abs(1 / ours - 1 / r_value) <= UNIROOT_TOL


@pytest.mark.parametrize("case", CASES["fisher"], ids=_ids("fisher"))
def test_fisher_matches_r_fisher_test(case: dict) -> None:
    table = np.array(case["table"])
    has_empty = (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any()
    if has_empty:
        with pytest.warns(StatisticalWarning, match="Dropped empty row"):
            res = fisher_exact(table, alternative=case["alternative"])
    else:
        res = fisher_exact(table, alternative=case["alternative"])
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    if "exact_estimate" not in case:
        assert res.estimate is None
        return
    for ours, name in ((res.estimate, "estimate"), (res.lower, "lower"), (res.upper, "upper")):
        exact = _num(case[f"exact_{name}"])
        assert ours == pytest.approx(exact, rel=RTOL), name
        assert _close_to_r_uniroot(ours, _num(case[f"r_{name}"])), name


@pytest.mark.parametrize("case", CASES["chisq"], ids=_ids("chisq"))
def test_chi_square_matches_r_chisq_test(case: dict) -> None:
    table = np.array(case["table"])
    if case["small_expected"]:
        with pytest.warns(StatisticalWarning, match="Chi-squared approximation"):
            res = chi_square_test(table, correction=case["correction"])
    else:
        res = chi_square_test(table, correction=case["correction"])
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.df == case["df"]
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    np.testing.assert_allclose(res.expected.to_numpy(), case["expected"], rtol=RTOL)
    np.testing.assert_allclose(res.residuals.to_numpy(), case["residuals"], rtol=RTOL)
    np.testing.assert_allclose(res.std_residuals.to_numpy(), case["stdres"], rtol=RTOL)


@pytest.mark.parametrize("case", CASES["trend"], ids=_ids("trend"))
def test_trend_matches_r_prop_trend_test(case: dict) -> None:
    res = cochran_armitage_test(case["events"], case["totals"], scores=case["scores"])
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)


@pytest.mark.parametrize("case", CASES["t_test"], ids=_ids("t_test"))
def test_t_test_matches_r_t_test(case: dict) -> None:
    data = _frame(case["data"])
    res = t_test(
        data,
        value="value",
        by="by",
        equal_var=case["equal_var"],
        pair_id="id" if case["paired"] else None,
    )
    for name in ("statistic", "df", "p_value", "estimate", "lower", "upper", "std_err"):
        assert getattr(res, name) == pytest.approx(case[name], rel=RTOL), name


@pytest.mark.parametrize("case", CASES["wilcox"], ids=_ids("wilcox"))
def test_mann_whitney_matches_r_wilcox_test(case: dict) -> None:
    data = _frame(case["data"])
    res = mann_whitney_test(data, value="value", by="by")
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.p_value_method == ("exact" if "exact" in case["method"] else "normal")
    assert res.n_excluded == int(data.isna().any(axis=1).sum())


@pytest.mark.parametrize("case", CASES["anova"], ids=_ids("anova"))
def test_anova_matches_r_aov(case: dict) -> None:
    res = anova(_frame(case["data"]), value="value", by="by")
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.statistic == pytest.approx(case["oneway_statistic"], rel=RTOL)
    assert (res.df, res.df_residual) == (case["df"], case["df_residual"])
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.p_value == pytest.approx(case["oneway_p_value"], rel=RTOL)
    np.testing.assert_allclose(res.table["sum_sq"], case["sum_sq"], rtol=RTOL)


@pytest.mark.parametrize("case", CASES["kruskal"], ids=_ids("kruskal"))
def test_kruskal_matches_r_kruskal_test(case: dict) -> None:
    res = kruskal_wallis_test(_frame(case["data"]), value="value", by="by")
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.df == case["df"]
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.n_excluded == case["n_excluded"]


@pytest.mark.parametrize("case", CASES["correlation"], ids=_ids("correlation"))
def test_correlation_matches_r_cor_test(case: dict) -> None:
    res = correlation(_frame(case["data"]), x="x", y="y", method=case["method"])
    assert res.estimate == pytest.approx(case["estimate"], rel=RTOL)
    assert res.statistic == pytest.approx(case["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(case["p_value"], rel=RTOL)
    assert res.n_excluded == case["n_excluded"]
    if case["method"] == "pearson":
        assert res.df == case["df"]
        assert res.lower == pytest.approx(case["lower"], rel=RTOL)
        assert res.upper == pytest.approx(case["upper"], rel=RTOL)
