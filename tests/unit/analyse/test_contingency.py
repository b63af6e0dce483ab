"""Unit tests for cartcohort.analyse.contingency."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse.contingency import (
    chi_square_test,
    cochran_armitage_test,
    fisher_exact,
)
from cartcohort.errors import (
    AnalysisError,
    DegenerateDataError,
    DegenerateWarning,
    StatisticalWarning,
)


def _brute_force_fisher(table: np.ndarray) -> float:
    """Independent check: enumerate every table with the same margins (small tables only)."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = table.sum()

    def log_p(t: np.ndarray) -> float:
        return float(
            sum(math.lgamma(v + 1) for v in rows)
            + sum(math.lgamma(v + 1) for v in cols)
            - math.lgamma(n + 1)
            - sum(math.lgamma(v + 1) for v in t.ravel())
        )

    observed = log_p(table)
    total = 0.0
    r, c = table.shape
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for free in itertools.product(*ranges):
        t = np.zeros((r, c), dtype=int)
        t[: r - 1, : c - 1] = np.array(free).reshape(r - 1, c - 1)
        t[: r - 1, c - 1] = rows[: r - 1] - t[: r - 1, : c - 1].sum(axis=1)
        t[r - 1, :] = cols - t[: r - 1, :].sum(axis=0)
        if (t < 0).any():
            continue
        lp = log_p(t)
        if lp <= observed + math.log1p(1e-7):
            total += math.exp(lp)
    return total


@pytest.mark.parametrize(
    "table",
    [
        pytest.param([[3, 1, 4], [1, 5, 2]], id="2x3"),
        pytest.param([[2, 0, 3], [1, 4, 0], [0, 2, 2]], id="3x3-zeros"),
        pytest.param([[5, 1], [2, 3], [0, 4]], id="3x2"),
        pytest.param([[1, 2, 3, 1], [3, 0, 1, 2], [0, 2, 1, 3]], id="3x4"),
        pytest.param([[4, 4], [4, 4]], id="2x2-balanced"),
    ],
)
def test_fisher_matches_brute_force_enumeration(table: list[list[int]]) -> None:
    arr = np.array(table)
    assert fisher_exact(arr).p_value == pytest.approx(_brute_force_fisher(arr), rel=1e-12)


def test_fisher_2x2_sample_values() -> None:
    res = fisher_exact([[8, 2], [1, 5]])
    assert res.p_value == pytest.approx(0.034965034965035, rel=1e-12)
    assert res.estimate == pytest.approx(15.465819716921, rel=1e-10)
    assert res.statistic == res.estimate
    assert res.alternative == "two-sided"
    assert res.n == 16


def test_fisher_2x2_matches_scipy_for_p_and_conditional_odds_ratio() -> None:
    table = [[12, 5], [7, 9]]
    res = fisher_exact(table)
    assert res.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-10)
    sp = stats.contingency.odds_ratio(table, kind="conditional")
    assert res.estimate == pytest.approx(sp.statistic, rel=1e-6)


def test_fisher_boundary_odds_ratio_is_infinite_not_nan() -> None:
    res = fisher_exact([[5, 0], [2, 6]])
    assert res.estimate == math.inf
    assert res.upper == math.inf
    assert res.lower is not None
    assert res.lower > 0


def test_fisher_rxc_has_no_odds_ratio_and_ard_omits_it() -> None:
    res = fisher_exact([[3, 1, 4], [1, 5, 2]])
    assert res.estimate is None
    assert res.statistic is None
    assert res.lower is None
    ard = res.to_ard()
    assert set(ard["stat_name"]) == {"p_value", "n", "n_excluded"}
    assert "FisherExactResult(2x3" in repr(res)


def test_fisher_accepts_crosstab_and_keeps_labels() -> None:
    df = pd.DataFrame({"arm": list("AABBBA"), "resp": ["y", "n", "y", "y", "n", "y"]})
    res = fisher_exact(pd.crosstab(df["arm"], df["resp"]))
    assert list(res.table.index) == ["A", "B"]
    assert list(res.table.columns) == ["n", "y"]


def test_fisher_crosstab_with_margins_is_refused() -> None:
    df = pd.DataFrame({"arm": list("AABB"), "resp": list("ynyn")})
    with pytest.raises(AnalysisError, match="margins=False"):
        fisher_exact(pd.crosstab(df["arm"], df["resp"], margins=True))


def test_fisher_zero_row_is_dropped_with_warning() -> None:
    with pytest.warns(DegenerateWarning, match="Dropped empty row 1"):
        res = fisher_exact([[3, 1, 4], [0, 0, 0], [1, 5, 2]])
    assert res.p_value == pytest.approx(fisher_exact([[3, 1, 4], [1, 5, 2]]).p_value, rel=1e-12)
    assert res.warnings
    assert "Dropped empty" in res.warnings[0]


@pytest.mark.parametrize(
    ("table", "error", "match"),
    [
        pytest.param([[1, 2, 3]], AnalysisError, "at least 2 rows", id="one-row"),
        pytest.param([[1, -2], [3, 4]], AnalysisError, ">= 0", id="negative"),
        pytest.param([[1.5, 2], [3, 4]], AnalysisError, "whole-number", id="fraction"),
        pytest.param([[1, np.nan], [3, 4]], AnalysisError, "missing", id="nan"),
        pytest.param([1, 2, 3, 4], AnalysisError, "2-dimensional", id="1d"),
        pytest.param([[0, 0], [0, 0]], DegenerateDataError, "no observations", id="empty"),
    ],
)
def test_fisher_rejects_bad_tables(table: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        fisher_exact(table)


def test_fisher_single_nonempty_row_is_degenerate() -> None:
    with pytest.raises(DegenerateDataError, match="at least 2 non-empty"):
        fisher_exact([[3, 4], [0, 0]])


def test_fisher_argument_messages() -> None:
    with pytest.raises(AnalysisError, match=r"Did you mean 0.95"):
        fisher_exact([[1, 2], [3, 4]], confidence_level=95)
    with pytest.raises(AnalysisError, match=r"two\.sided"):
        fisher_exact([[1, 2], [3, 4]], alternative="two.sided")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="only for 2 x 2"):
        fisher_exact([[1, 2, 3], [3, 4, 5]], alternative="less")


def test_fisher_rxc_moderate_table_is_fast() -> None:
    table = np.array([[12, 8, 15, 4], [6, 14, 10, 12], [9, 11, 20, 19]])  # 3x4, n = 140
    start = time.perf_counter()
    res = fisher_exact(table)
    assert time.perf_counter() - start < 1.0
    assert 0 < res.p_value <= 1


def test_fisher_too_large_table_gives_advice() -> None:
    rng = np.random.default_rng(3)
    table = rng.multinomial(2000, np.ones(25) / 25).reshape(5, 5)
    with pytest.raises(AnalysisError, match="chi_square_test"):
        fisher_exact(table)


def test_chi_square_yates_rule_and_frame() -> None:
    res = chi_square_test([[12, 5], [7, 9]])
    assert res.correction
    assert res.statistic == pytest.approx(1.455996, rel=1e-6)  # R chisq.test
    uncorrected = chi_square_test([[12, 5], [7, 9]], correction=False)
    assert uncorrected.statistic > res.statistic
    assert not uncorrected.correction
    frame = res.to_frame()
    assert list(frame.columns) == ["test", "statistic", "df", "p_value", "n", "n_excluded"]
    assert set(res.to_ard()["stat_name"]) == {"statistic", "df", "p_value", "n", "n_excluded"}


def test_chi_square_matches_scipy_chi2_contingency() -> None:
    table = np.array([[40, 32, 18], [25, 30, 45]])
    sp = stats.chi2_contingency(table)
    res = chi_square_test(table)
    assert res.statistic == pytest.approx(sp.statistic, rel=1e-12)
    assert res.df == sp.dof
    np.testing.assert_allclose(res.expected.to_numpy(), sp.expected_freq)


def test_chi_square_warns_on_small_expected_counts() -> None:
    with pytest.warns(StatisticalWarning, match="fisher_exact"):
        res = chi_square_test([[8, 2], [1, 5]])
    assert "Chi-squared approximation may be incorrect" in res.warnings[0]


def test_chi_square_zero_column_is_dropped_with_warning() -> None:
    with pytest.warns(DegenerateWarning, match="column 1"):
        res = chi_square_test([[20, 0, 30], [25, 0, 10]])
    assert res.df == 1
    assert not math.isnan(res.statistic)


def test_trend_test_known_value_and_n_minus_1_relation() -> None:
    res = cochran_armitage_test([2, 5, 9, 12], [20, 20, 20, 20])
    assert res.statistic == pytest.approx(12.703, abs=5e-4)
    assert res.direction == "increasing"
    # statsmodels / SAS linear-by-linear statistic is smaller by (N - 1) / N
    assert res.statistic * 79 / 80 == pytest.approx(12.5445, abs=1e-4)
    assert list(res.groups.columns) == ["group", "score", "events", "n", "proportion"]
    assert len(res.to_ard()) == 5 + 4 * 4


def test_trend_test_decreasing_and_scores_shift_invariance() -> None:
    a = cochran_armitage_test([12, 9, 5, 2], [20] * 4)
    b = cochran_armitage_test([12, 9, 5, 2], [20] * 4, scores=[10, 20, 30, 40])
    assert a.direction == "decreasing"
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


@pytest.mark.parametrize(
    ("events", "totals", "scores", "error", "match"),
    [
        pytest.param([1, 2], [10], None, AnalysisError, "same length", id="length"),
        pytest.param([11, 2], [10, 10], None, AnalysisError, "cannot exceed", id="events>n"),
        pytest.param([0, 0], [10, 10], None, DegenerateDataError, "no subject", id="no-events"),
        pytest.param([1, 2], [10, 10], [3, 3], DegenerateDataError, "all be equal", id="scores"),
        pytest.param([1], [10], None, AnalysisError, "at least 2 groups", id="one-group"),
    ],
)
def test_trend_test_errors(
    events: list[int], totals: list[int], scores: list[int] | None, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        cochran_armitage_test(events, totals, scores=scores)


def test_fisher_2xk_registry_sized_tables_are_answered() -> None:
    # the balanced 2 x 5 table of 10,000 patients used to be refused; R answers p = 1
    res = fisher_exact(np.full((2, 5), 1000))
    assert res.p_value == 1.0
    assert res.method.options["algorithm"] == "2 x k columns (exact)"
    unbalanced = np.array([[900, 800, 580, 465, 330], [2100, 1700, 1420, 1035, 670]])
    assert fisher_exact(unbalanced.T).p_value == pytest.approx(0.094000673260978093, rel=1e-6)


def test_fisher_2xk_beyond_reach_gives_advice() -> None:
    table = [[10, 800, 520, 465, 360, 1000, 20, 300], [2100, 1700, 1480, 1035, 640, 900, 100, 300]]
    with pytest.raises(AnalysisError, match="chi_square_test"):
        fisher_exact(table)


def test_fisher_3xk_beyond_reach_gives_advice_quickly() -> None:
    # R's FEXACT fails on this 3 x 6 table of 3,000 (workspace 2e8); the refusal names
    # the alternative instead of running for minutes
    table = np.random.default_rng(3).multinomial(3000, np.ones(18) / 18).reshape(3, 6)
    with pytest.raises(AnalysisError, match=r"3 x 6 table with n = 3000.*chi_square_test"):
        fisher_exact(table)
