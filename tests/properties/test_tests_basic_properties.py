"""Hypothesis properties of the contingency-table tests and group comparisons."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cartcohort.analyse.compare import correlation, mann_whitney_test, t_test
from cartcohort.analyse.contingency import chi_square_test, fisher_exact
from cartcohort.errors import StatisticalWarning

FAST = settings(max_examples=40, deadline=2000)


def _tables(max_side: int = 3, max_count: int = 8) -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(2, max_side), st.integers(2, max_side))
    return shapes.flatmap(
        lambda s: arrays(np.int64, s, elements=st.integers(1, max_count))  # no empty rows
    )


@FAST
@given(_tables(), st.randoms(use_true_random=False))
def test_fisher_p_in_unit_interval_and_invariant(table: np.ndarray, rnd: object) -> None:
    p = fisher_exact(table).p_value
    assert 0 < p <= 1
    assert fisher_exact(table.T).p_value == pytest.approx(p, rel=1e-9)
    rows = list(range(table.shape[0]))
    cols = list(range(table.shape[1]))
    rnd.shuffle(rows)  # type: ignore[attr-defined]
    rnd.shuffle(cols)  # type: ignore[attr-defined]
    assert fisher_exact(table[np.ix_(rows, cols)]).p_value == pytest.approx(p, rel=1e-9)


@FAST
@given(_tables(max_count=30))
def test_chi_square_invariant_to_transpose(table: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # small expected counts
        a = chi_square_test(table)
        b = chi_square_test(table.T)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-9, abs=1e-12)
    assert a.df == b.df


_values = st.lists(
    st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 3)), min_size=3, max_size=15
)


@FAST
@given(_values, _values)
def test_mann_whitney_w_plus_w_prime(x: list[float], y: list[float]) -> None:
    assume(len(set(x + y)) >= 2)  # all tied: undefined (checked in unit tests)
    df = pd.DataFrame({"v": x + y, "g": ["a"] * len(x) + ["b"] * len(y)})
    swapped = df.assign(g=df["g"].map({"a": "b", "b": "a"}))
    w = mann_whitney_test(df, value="v", by="g")
    w_prime = mann_whitney_test(swapped, value="v", by="g")
    assert w.statistic + w_prime.statistic == pytest.approx(len(x) * len(y))
    assert w.p_value == pytest.approx(w_prime.p_value, rel=1e-9)


@FAST
@given(_values, _values)
def test_t_statistic_changes_sign_when_groups_swap(x: list[float], y: list[float]) -> None:
    assume(np.ptp(x) > 0 and np.ptp(y) > 0)  # zero variance: degenerate (unit tests)
    df = pd.DataFrame({"v": x + y, "g": ["a"] * len(x) + ["b"] * len(y)})
    swapped = df.assign(g=df["g"].map({"a": "b", "b": "a"}))
    a = t_test(df, value="v", by="g")
    b = t_test(swapped, value="v", by="g")
    assert a.statistic == pytest.approx(-b.statistic, rel=1e-9, abs=1e-12)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-9)


_pairs = st.lists(
    st.tuples(
        st.floats(-50, 50).map(lambda v: round(v, 2)), st.floats(-50, 50).map(lambda v: round(v, 2))
    ),
    min_size=4,
    max_size=30,
)


@FAST
@given(_pairs, st.floats(0.1, 10), st.floats(-5, 5))
def test_correlation_symmetric_and_transform_invariant(
    pairs: list[tuple[float, float]], scale: float, shift: float
) -> None:
    df = pd.DataFrame(pairs, columns=["x", "y"])
    assume(df["x"].nunique() >= 2 and df["y"].nunique() >= 2)  # constant column: degenerate
    for method in ("pearson", "spearman"):
        a = correlation(df, x="x", y="y", method=method)
        b = correlation(df, x="y", y="x", method=method)
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9, abs=1e-12)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-9, abs=1e-15)
    affine = df.assign(x=df["x"] * scale + shift)
    assert correlation(affine, x="x", y="y").estimate == pytest.approx(
        correlation(df, x="x", y="y").estimate, rel=1e-6, abs=1e-9
    )
    monotone = df.assign(x=np.exp(df["x"] / 10))  # strictly increasing: ranks unchanged
    assert correlation(monotone, x="x", y="y", method="spearman").estimate == pytest.approx(
        correlation(df, x="x", y="y", method="spearman").estimate, rel=1e-12, abs=1e-12
    )
