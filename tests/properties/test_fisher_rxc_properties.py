"""Properties of the exact 2 x k and 3 x k Fisher tests (column enumeration with bounds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cartcohort.analyse._fisher import fisher_3xk
from cartcohort.analyse.contingency import FISHER_REL_TOL, _FisherNetwork, fisher_exact

FAST = settings(max_examples=40, deadline=None)


def _two_by_k(max_cols: int = 6, max_count: int = 40) -> st.SearchStrategy[np.ndarray]:
    return st.integers(3, max_cols).flatmap(
        lambda k: arrays(np.int64, (2, k), elements=st.integers(1, max_count))  # no empty lines
    )


@FAST
@given(_two_by_k(), st.randoms(use_true_random=False))
def test_2xk_p_in_unit_interval_and_invariant(table: np.ndarray, rnd: object) -> None:
    p = fisher_exact(table).p_value
    assert 0 < p <= 1
    assert fisher_exact(table.T).p_value == pytest.approx(p, rel=1e-9)
    cols = list(range(table.shape[1]))
    rnd.shuffle(cols)  # type: ignore[attr-defined]
    assert fisher_exact(table[::-1][:, cols]).p_value == pytest.approx(p, rel=1e-9)


@FAST
@given(_two_by_k(max_cols=5, max_count=12))
def test_2xk_agrees_with_the_network_algorithm(table: np.ndarray) -> None:
    assert fisher_exact(table).p_value == pytest.approx(_FisherNetwork(table).p_value(), rel=1e-9)


@FAST
@given(_two_by_k(max_cols=4, max_count=400))
def test_2xk_observed_table_counts_itself(table: np.ndarray) -> None:
    # the observed table is always "as or more extreme": p >= its own probability
    from scipy import special

    rows, cols, n = table.sum(axis=1), table.sum(axis=0), table.sum()
    log_p_obs = (
        special.gammaln(rows + 1.0).sum()
        + special.gammaln(cols + 1.0).sum()
        - special.gammaln(n + 1.0)
        - special.gammaln(table + 1.0).sum()
    )
    assert fisher_exact(table).p_value >= np.exp(log_p_obs) * (1 - 1e-9)


# --------------------------------------------------------------------------------------
# 3 x k: column enumeration with bounded subtrees and a closed-form last stage
# --------------------------------------------------------------------------------------


def _three_by_k(max_cols: int = 5, max_count: int = 12) -> st.SearchStrategy[np.ndarray]:
    return st.integers(3, max_cols).flatmap(
        lambda k: arrays(np.int64, (3, k), elements=st.integers(1, max_count))
    )


SMALL = settings(max_examples=20, deadline=None)


@SMALL
@given(_three_by_k(max_cols=4, max_count=5))
def test_3xk_agrees_with_the_network_algorithm(table: np.ndarray) -> None:
    res = fisher_exact(table)
    assert res.method.options["algorithm"] == "3 x k columns (exact)"
    assert res.p_value == pytest.approx(_FisherNetwork(table).p_value(), rel=1e-9)


@SMALL
@given(_three_by_k(max_cols=4, max_count=10), st.randoms(use_true_random=False))
def test_3xk_p_in_unit_interval_and_invariant(table: np.ndarray, rnd: object) -> None:
    p = fisher_exact(table).p_value
    assert 0 < p <= 1
    assert fisher_exact(table.T).p_value == pytest.approx(p, rel=1e-9)
    rows, cols = [0, 1, 2], list(range(table.shape[1]))
    rnd.shuffle(rows)  # type: ignore[attr-defined]
    rnd.shuffle(cols)  # type: ignore[attr-defined]
    assert fisher_exact(table[rows][:, cols]).p_value == pytest.approx(p, rel=1e-9)


@SMALL
@given(_two_by_k(max_cols=4, max_count=15))
def test_3xk_algorithm_on_2xk_tables_equals_the_2xk_algorithm(table: np.ndarray) -> None:
    # a 2 x k table is a 3 x k table with an empty row: the 3-row algorithm must agree
    three = np.vstack([table, np.zeros((1, table.shape[1]), dtype=np.int64)])
    assert fisher_3xk(three, FISHER_REL_TOL) == pytest.approx(fisher_exact(table).p_value, rel=1e-9)
