"""Hypothesis properties of logistic_regression (ML and Firth).

- invariance to the order of the rows;
- recoding a binary covariate (x -> 1 - x) negates its coefficient and moves the
  intercept by it (ML is equivariant; so is Firth, whose Jeffreys penalty is
  invariant under linear reparametrisation);
- Firth estimates and intervals are finite under separation, where ML refuses;
- ML and Firth agree as n grows with a fixed design (Firth's correction is O(1/n)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cartcohort.analyse.logistic import LogisticResult, logistic_regression
from cartcohort.errors import (
    CollinearityError,
    DegenerateDataError,
    SeparationError,
)

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REJECTED = (SeparationError, CollinearityError, DegenerateDataError)


@st.composite
def cohorts(draw: st.DrawFn, min_n: int = 16, max_n: int = 40) -> pd.DataFrame:
    n = draw(st.integers(min_n, max_n))
    age = draw(st.lists(st.integers(20, 80), min_size=n, max_size=n))
    bridging = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "crs3": np.array(event, dtype=int),
            "age_years": np.array(age, dtype=float),
            "bridging": np.array(bridging, dtype=int),
        }
    )


def _fit(data: pd.DataFrame, method: str, ci_method: str = "wald") -> LogisticResult:
    try:
        return logistic_regression(
            data,
            outcome="crs3",
            covariates=["age_years", "bridging"],
            method=method,  # type: ignore[arg-type]
            ci_method=ci_method,  # type: ignore[arg-type]
        )
    except REJECTED:
        assume(False)
        raise  # unreachable: assume(False) stops the example


@pytest.mark.parametrize("method", ["ml", "firth"])
@FAST
@given(data=cohorts(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(method: str, data: pd.DataFrame, seed: int) -> None:
    shuffled = data.sample(frac=1.0, random_state=np.random.RandomState(seed))
    a, b = _fit(data, method), _fit(shuffled.reset_index(drop=True), method)
    cols = ["coef", "se", "p_value"]
    np.testing.assert_allclose(a.table[cols], b.table[cols], rtol=1e-7, atol=1e-10)
    # Limits on the log-odds scale: near-constant covariates give odds ratios ~1e22.
    for col in ["lower", "upper"]:
        np.testing.assert_allclose(np.log(a.table[col]), np.log(b.table[col]), atol=1e-7)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)


@pytest.mark.parametrize("method", ["ml", "firth"])
@FAST
@given(data=cohorts())
def test_recoding_a_binary_covariate_negates_its_coefficient(
    method: str, data: pd.DataFrame
) -> None:
    a = _fit(data, method).table.set_index("term")
    b = _fit(data.assign(bridging=1 - data["bridging"]), method).table.set_index("term")
    assert b.loc["bridging", "coef"] == pytest.approx(
        -a.loc["bridging", "coef"], rel=1e-7, abs=1e-9
    )
    assert b.loc["bridging", "se"] == pytest.approx(a.loc["bridging", "se"], rel=1e-7)
    assert b.loc["(Intercept)", "coef"] == pytest.approx(
        a.loc["(Intercept)", "coef"] + a.loc["bridging", "coef"], rel=1e-7, abs=1e-9
    )


@st.composite
def separated(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(8, 24))
    ferritin = np.array(draw(st.lists(st.integers(1, 60), min_size=n, max_size=n, unique=True)))
    cut = draw(st.sampled_from(sorted(ferritin)[2:-2]))
    event = (ferritin > cut).astype(int)
    if draw(st.booleans()):
        # Quasi-complete: a second patient at the cut point, with the event, so both
        # outcomes occur at the boundary.
        ferritin, event = np.r_[ferritin, cut], np.r_[event, 1]
    return pd.DataFrame({"crs3": event, "ferritin_100ng_per_ml": ferritin / 10.0})


@SLOW
@given(data=separated())
def test_firth_is_finite_under_separation(data: pd.DataFrame) -> None:
    with pytest.raises(SeparationError):
        logistic_regression(data, outcome="crs3", covariates=["ferritin_100ng_per_ml"])
    res = logistic_regression(
        data, outcome="crs3", covariates=["ferritin_100ng_per_ml"], method="firth"
    )
    values = res.table[["coef", "se", "z", "p_value", "lower", "upper"]].to_numpy()
    assert np.isfinite(values).all()
    assert (res.table["lower"] < res.table["odds_ratio"]).all()
    assert (res.table["odds_ratio"] < res.table["upper"]).all()


@SLOW
@given(data=cohorts(min_n=12, max_n=20))
def test_ml_and_firth_converge_as_n_grows(data: pd.DataFrame) -> None:
    def gap(copies: int) -> float:
        big = pd.concat([data] * copies, ignore_index=True)
        ml = _fit(big, "ml").table["coef"].to_numpy()
        firth = _fit(big, "firth").table["coef"].to_numpy()
        return float(np.max(np.abs(ml - firth)))

    small, large = gap(4), gap(80)
    # Firth's correction shrinks like 1/n: a 20-fold n should cut the gap ~20-fold.
    assert large <= 0.15 * small + 1e-9
