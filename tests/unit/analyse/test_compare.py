"""Unit tests for cartcohort.analyse.compare."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse.compare import (
    _prho,
    _wilcox_counts,
    anova,
    correlation,
    kruskal_wallis_test,
    mann_whitney_test,
    t_test,
)
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning


@pytest.fixture
def two_groups() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "crp": np.r_[rng.normal(10, 2, 12), rng.normal(12, 4, 9)].round(4),
            "arm": ["axi-cel"] * 12 + ["tisa-cel"] * 9,
        }
    )


def test_t_test_welch_matches_scipy_and_orders_levels(two_groups: pd.DataFrame) -> None:
    res = t_test(two_groups, value="crp", by="arm")
    a = two_groups.loc[two_groups["arm"] == "axi-cel", "crp"]
    b = two_groups.loc[two_groups["arm"] == "tisa-cel", "crp"]
    sp = stats.ttest_ind(a, b, equal_var=False)
    assert res.statistic == pytest.approx(sp.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(sp.pvalue, rel=1e-10)
    assert res.estimate == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert list(res.groups["group"]) == ["axi-cel", "tisa-cel"]
    assert res.lower < res.estimate < res.upper
    assert res.method.estimator == "Welch t-test"


def test_t_test_pooled_matches_scipy(two_groups: pd.DataFrame) -> None:
    res = t_test(two_groups, value="crp", by="arm", equal_var=True)
    a = two_groups.loc[two_groups["arm"] == "axi-cel", "crp"]
    b = two_groups.loc[two_groups["arm"] == "tisa-cel", "crp"]
    assert res.statistic == pytest.approx(stats.ttest_ind(a, b).statistic, rel=1e-12)
    assert res.df == 19


def test_t_test_categorical_order_is_respected(two_groups: pd.DataFrame) -> None:
    df = two_groups.assign(
        arm=pd.Categorical(two_groups["arm"], categories=["tisa-cel", "axi-cel"])
    )
    flipped = t_test(df, value="crp", by="arm")
    assert flipped.statistic == pytest.approx(-t_test(two_groups, value="crp", by="arm").statistic)


def test_t_test_missing_rows_are_counted(two_groups: pd.DataFrame) -> None:
    df = two_groups.copy()
    df.loc[[0, 3], "crp"] = np.nan
    df.loc[5, "arm"] = None
    res = t_test(df, value="crp", by="arm")
    assert res.n_excluded == 3
    assert res.n == 18
    assert any("'crp'" in e for e in res.exclusions)


def test_t_test_paired_by_id_ignores_row_order_and_counts_unpaired() -> None:
    df = pd.DataFrame(
        {
            "v": [1.0, 2.5, 3.0, 4.0, 2.0, 3.1, 3.6, 5.2, 9.9],
            "visit": ["pre"] * 4 + ["post"] * 5,
            "id": ["a", "b", "c", "d", "d", "c", "b", "a", "e"],
        }
    )
    res = t_test(df, value="v", by="visit", pair_id="id")
    post = np.array([5.2, 3.6, 3.1, 2.0])  # a, b, c, d
    pre = np.array([1.0, 2.5, 3.0, 4.0])
    sp = stats.ttest_rel(post, pre)  # levels sorted: "post" first
    assert res.statistic == pytest.approx(sp.statistic, rel=1e-12)
    assert res.df == 3
    assert res.n_excluded == 1
    assert res.exclusions == ("1 row(s) without a partner in the other group",)


def test_t_test_paired_duplicate_ids_raise() -> None:
    df = pd.DataFrame({"v": [1.0, 2, 3, 4], "g": list("aabb"), "id": ["x", "x", "x", "y"]})
    with pytest.raises(AnalysisError, match="repeats within group"):
        t_test(df, value="v", by="g", pair_id="id")


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        pytest.param(
            pd.DataFrame({"v": [1.0, 2, 3], "g": list("aaa")}),
            {},
            DegenerateDataError,
            "at least 2",
            id="one-group",
        ),
        pytest.param(
            pd.DataFrame({"v": [1.0, 2, 3], "g": list("abc")}),
            {},
            AnalysisError,
            "exactly 2",
            id="three-groups",
        ),
        pytest.param(
            pd.DataFrame({"v": [1.0, 2, 3], "g": list("aab")}),
            {},
            DegenerateDataError,
            "per group",
            id="welch-n1",
        ),
        pytest.param(
            pd.DataFrame({"v": [2.0, 2, 2, 2], "g": list("aabb")}),
            {},
            DegenerateDataError,
            "constant",
            id="constant",
        ),
        pytest.param(
            pd.DataFrame({"v": [1.0, 2], "g": list("ab")}),
            {},
            AnalysisError,
            "Did you mean",
            id="typo",
            marks=[],
        ),
    ],
)
def test_t_test_errors(frame: pd.DataFrame, kwargs: dict, error: type, match: str) -> None:
    value = "vv" if match == "Did you mean" else "v"
    with pytest.raises(error, match=match):
        t_test(frame, value=value, by="g", **kwargs)


def test_t_test_pooled_allows_group_of_one() -> None:
    df = pd.DataFrame({"v": [1.0, 2.0, 4.0, 7.0], "g": list("aaab")})
    res = t_test(df, value="v", by="g", equal_var=True)
    assert res.df == 2


def test_wilcox_counts_match_brute_force() -> None:
    m, n = 3, 4
    counts = np.zeros(m * n + 1)
    for chosen in itertools.combinations(range(1, m + n + 1), m):
        counts[sum(chosen) - m * (m + 1) // 2] += 1
    np.testing.assert_array_equal(_wilcox_counts(m, n), counts)


def test_mann_whitney_exact_matches_scipy_exact() -> None:
    df = pd.DataFrame({"v": [1.1, 2.3, 3.2, 4.8, 6.0, 9.5, 0.4, 7.7], "g": list("aaabbbab")})
    res = mann_whitney_test(df, value="v", by="g")
    sp = stats.mannwhitneyu([1.1, 2.3, 3.2, 0.4], [4.8, 6.0, 9.5, 7.7], method="exact")
    assert res.statistic == sp.statistic
    assert res.p_value == pytest.approx(sp.pvalue, rel=1e-12)
    assert res.p_value_method == "exact"
    assert "exact" in res.method.description


def test_mann_whitney_ties_use_normal_approximation() -> None:
    df = pd.DataFrame({"v": [1, 2, 2, 3, 3, 3, 4, 5], "g": list("aabababb")})
    res = mann_whitney_test(df, value="v", by="g")
    assert res.p_value_method == "normal"
    sp = stats.mannwhitneyu(
        df.loc[df.g == "a", "v"], df.loc[df.g == "b", "v"], method="asymptotic", use_continuity=True
    )
    assert res.p_value == pytest.approx(sp.pvalue, rel=1e-10)


def test_mann_whitney_all_tied_is_degenerate() -> None:
    with pytest.raises(DegenerateDataError, match="tied"):
        mann_whitney_test(pd.DataFrame({"v": [1.0] * 6, "g": list("aaabbb")}), value="v", by="g")


def test_mann_whitney_ard_has_group_rows() -> None:
    df = pd.DataFrame({"v": [1.0, 2, 3, 4, 5, 6], "g": list("aaabbb")})
    ard = mann_whitney_test(df, value="v", by="g").to_ard()
    assert set(ard["group"]) == {"test", "a", "b"}
    assert set(ard["analysis"]) == {"mann_whitney_test"}


def test_anova_matches_scipy_and_table() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"v": rng.normal(size=30), "g": np.repeat(["x", "y", "z"], 10)})
    res = anova(df, value="v", by="g")
    sp = stats.f_oneway(*[df.loc[df.g == k, "v"] for k in "xyz"])
    assert res.statistic == pytest.approx(sp.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(sp.pvalue, rel=1e-10)
    assert list(res.table["term"]) == ["between", "residuals"]
    assert (res.df, res.df_residual) == (2, 27)


def test_anova_single_observation_group_warns() -> None:
    df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 5.0, 6.0], "g": list("aabbc")})
    with pytest.warns(DegenerateWarning, match="single observation"):
        res = anova(df, value="v", by="g")
    assert math.isnan(res.groups.loc[2, "sd"])


def test_anova_zero_within_variance_is_degenerate() -> None:
    df = pd.DataFrame({"v": [1.0, 1.0, 2.0, 2.0], "g": list("aabb")})
    with pytest.raises(DegenerateDataError, match="zero variance"):
        anova(df, value="v", by="g")


def test_kruskal_matches_scipy() -> None:
    df = pd.DataFrame({"v": [1, 2, 2, 3, 5, 5, 5, 8, 9, 1], "g": list("aabbbccaca")})
    res = kruskal_wallis_test(df, value="v", by="g")
    sp = stats.kruskal(*[df.loc[df.g == k, "v"] for k in "abc"])
    assert res.statistic == pytest.approx(sp.statistic, rel=1e-12)
    assert res.df == 2


def test_kruskal_all_tied_is_degenerate() -> None:
    with pytest.raises(DegenerateDataError, match="tied"):
        kruskal_wallis_test(pd.DataFrame({"v": [2.0] * 4, "g": list("abab")}), value="v", by="g")


def test_pearson_matches_scipy() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=25)
    df = pd.DataFrame({"x": x, "y": x + rng.normal(size=25)})
    res = correlation(df, x="x", y="y")
    sp = stats.pearsonr(df.x, df.y)
    assert res.estimate == pytest.approx(sp.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(sp.pvalue, rel=1e-9)
    ci = sp.confidence_interval(0.95)
    assert (res.lower, res.upper) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_pearson_n3_has_no_interval_and_perfect_correlation_is_finite() -> None:
    res = correlation(pd.DataFrame({"x": [1.0, 2, 3], "y": [2.0, 4, 6]}), x="x", y="y")
    assert res.lower is None
    assert res.upper is None
    assert res.estimate == 1.0
    assert res.p_value == 0.0
    assert "confidence_level" not in set(res.to_ard()["stat_name"])


def test_spearman_exact_matches_permutation_enumeration() -> None:
    n = 6
    counts: dict[int, int] = {}
    for perm in itertools.permutations(range(n)):
        s = sum((i - p) ** 2 for i, p in enumerate(perm))
        counts[s] = counts.get(s, 0) + 1
    total = math.factorial(n)
    for s_obs in (4, 10, 30):
        upper = sum(c for s, c in counts.items() if s >= s_obs) / total
        assert _prho(n, s_obs, lower_tail=False) == pytest.approx(upper, rel=1e-14)


def test_spearman_method_reported() -> None:
    y = [3.0, 1, 4, 0, 5, 9, 2, 6, 11, 8, 7, 10]
    df = pd.DataFrame({"x": np.arange(12.0), "y": y})
    assert correlation(df, x="x", y="y", method="spearman").p_value_method == "edgeworth"
    ties = df.assign(y=(df.y // 3).astype(float))
    assert correlation(ties, x="x", y="y", method="spearman").p_value_method == "t"
    small = df.iloc[:8]
    assert correlation(small, x="x", y="y", method="spearman").p_value_method == "exact"


@pytest.mark.parametrize(
    ("frame", "method", "match"),
    [
        pytest.param(
            pd.DataFrame({"x": [1.0, 2], "y": [1.0, 3]}), "pearson", "at least 3", id="n2"
        ),
        pytest.param(
            pd.DataFrame({"x": [1.0, 1, 1, 1], "y": [1.0, 2, 3, 4]}),
            "pearson",
            "constant",
            id="constant",
        ),
    ],
)
def test_correlation_degenerate(frame: pd.DataFrame, method: str, match: str) -> None:
    with pytest.raises(DegenerateDataError, match=match):
        correlation(frame, x="x", y="y", method=method)  # type: ignore[arg-type]


def test_correlation_unknown_method() -> None:
    with pytest.raises(AnalysisError, match="'pearson' or 'spearman'"):
        correlation(pd.DataFrame({"x": [1.0], "y": [1.0]}), x="x", y="y", method="kendall")  # type: ignore[arg-type]
