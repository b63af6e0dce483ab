"""Hypothesis invariants of Rubin's rules (``mice::pool``) and ``impute_and_pool``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cartcohort.analyse.impute import barnard_rubin_df, impute_and_pool, rubin_pool
from cartcohort.analyse.logistic import logistic_regression

finite = st.floats(min_value=-5, max_value=5, allow_nan=False)
positive = st.floats(min_value=1e-4, max_value=4, allow_nan=False)


@st.composite
def fits(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(min_value=2, max_value=8))
    p = draw(st.integers(min_value=1, max_value=3))
    est = draw(arrays(np.float64, (m, p), elements=finite))
    var = draw(arrays(np.float64, (m, p), elements=positive))
    return est, var


@settings(max_examples=100, deadline=None)
@given(fits(), st.sampled_from([5.0, 40.0, 1000.0, np.inf]))
def test_pooled_estimate_is_the_mean_and_variances_add_up(
    fit: tuple[np.ndarray, np.ndarray], dfcom: float
) -> None:
    est, var = fit
    m = est.shape[0]
    out = rubin_pool(est, var, dfcom=dfcom)
    np.testing.assert_allclose(out["estimate"], est.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["t"], out["ubar"] + (1 + 1 / m) * out["b"], rtol=1e-12)
    assert (out["t"] >= out["ubar"]).all()
    assert ((out["lambda"] >= 0) & (out["lambda"] < 1)).all()
    assert ((out["fmi"] > 0) & (out["fmi"] <= 1 + 1e-12)).all()
    assert (out["df"] > 0).all()
    if np.isfinite(dfcom):
        assert (out["df"] <= dfcom).all()  # the small-sample df never exceeds dfcom
    assert (out["lower"] <= out["estimate"]).all()
    assert (out["estimate"] <= out["upper"]).all()
    # Pooling does not depend on the order of the imputations.
    rev = rubin_pool(est[::-1], var[::-1], dfcom=dfcom)
    np.testing.assert_allclose(rev["p_value"], out["p_value"], rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=2, max_value=10), positive, st.sampled_from([3.0, 50.0, np.inf]))
def test_zero_between_variance_uses_mice_lambda_floor(m: int, u: float, dfcom: float) -> None:
    df = barnard_rubin_df(m, np.zeros(1), np.array([u]), dfcom)
    dfold = (m - 1) / 1e-8
    expected = dfold
    if np.isfinite(dfcom):
        dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - 1e-4)
        expected = dfold * dfobs / (dfold + dfobs)
    np.testing.assert_allclose(df, expected, rtol=1e-12)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=2**16), st.integers(min_value=2, max_value=6))
def test_identical_imputations_equal_the_single_fit(seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    x = rng.normal(size=n)
    data = pd.DataFrame({"y": (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(int), "x": x})
    options = {"outcome": "y", "covariates": ["x"], "ci_method": "wald"}
    single = logistic_regression(data, **options)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Only m imputations" when m < 5
        pooled = impute_and_pool(
            data, model="logistic", model_options=options, imputations=[data] * m
        )
    np.testing.assert_allclose(pooled.table["estimate"], single.table["coef"], rtol=1e-12)
    np.testing.assert_allclose(pooled.table["se"], single.table["se"], rtol=1e-12)
    assert (pooled.table["b"] == 0).all()
    assert (pooled.table["riv"] == 0).all()
    assert pooled.dfcom == n - 2
