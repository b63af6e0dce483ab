"""Invariants of cox_ph and check_ph (Hypothesis).

- the fit does not depend on the order of the rows;
- a positive rescaling of time (days -> months) changes nothing, including every
  ``check_ph`` transform (``identity`` rescales g(t), and the score test is scale free);
- flipping a binary covariate's coding inverts its hazard ratio;
- with one binary covariate and distinct times, the score test is the log-rank
  statistic (checked against a naive log-rank written here); with tied times it is not
  (see ``tests/reference/test_cox_against_r.py::test_score_test_differs_from_logrank``).

Samples whose fit warns (monotone likelihood) or fails (collinear, no events) are
rejected: the invariants are about well-posed fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st

from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.errors import AnalysisError, DegenerateDataError

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn, *, distinct: bool = False) -> pd.DataFrame:
    n = draw(st.integers(min_value=6, max_value=40))
    if distinct:
        times = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n, unique=True))
    else:
        times = draw(st.lists(st.integers(0, 25), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    arm = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    age = draw(
        st.lists(
            st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3)), min_size=n, max_size=n
        )
    )
    return pd.DataFrame({"time": times, "event": events, "arm": arm, "age": age})


def fit_or_reject(frame: pd.DataFrame, **kwargs: object) -> CoxResult:
    """Fit, rejecting samples that warn (monotone likelihood) or cannot be fitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = cox_ph(frame, time="time", event="event", **kwargs)  # type: ignore[arg-type]
        except AnalysisError:
            reject()
    if caught:
        reject()
    return fit


def naive_logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    o_minus_e = var = 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n, n1 = at_risk.sum(), (at_risk & (group == 1)).sum()
        d = (event & (time == t)).sum()
        d1 = (event & (time == t) & (group == 1)).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e**2 / var


@SETTINGS
@given(frame=cohorts(), seed=st.integers(0, 2**32 - 1), ties=st.sampled_from(["efron", "breslow"]))
def test_row_order_does_not_matter(frame: pd.DataFrame, seed: int, ties: str) -> None:
    fit = fit_or_reject(frame, covariates=["arm", "age"], ties=ties)
    shuffled = frame.sample(frac=1, random_state=np.random.RandomState(seed % 2**31))
    again = fit_or_reject(shuffled, covariates=["arm", "age"], ties=ties)
    np.testing.assert_allclose(again.table["coef"], fit.table["coef"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(again.table["se"], fit.table["se"], rtol=1e-7)
    np.testing.assert_allclose(again.score_test.statistic, fit.score_test.statistic, rtol=1e-9)
    assert again.concordance.concordant == fit.concordance.concordant
    assert again.concordance.tied_x == fit.concordance.tied_x


@SETTINGS
@given(frame=cohorts(), scale=st.sampled_from([1 / 30.4375, 0.5, 7.0, 365.25]))
def test_rescaling_time_changes_nothing(frame: pd.DataFrame, scale: float) -> None:
    # The PH test needs information about g(t): several events at distinct times.
    assume(frame.loc[frame["event"], "time"].nunique() >= 4)
    fit = fit_or_reject(frame, covariates=["arm", "age"])
    rescaled = fit_or_reject(frame.assign(time=frame["time"] * scale), covariates=["arm", "age"])
    try:
        original = {tr: fit.check_ph(tr).table["statistic"] for tr in ["km", "rank", "identity"]}
    except DegenerateDataError:  # x does not vary in the risk sets at enough event times
        reject()
    np.testing.assert_allclose(rescaled.table["coef"], fit.table["coef"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(rescaled.loglik, fit.loglik, rtol=1e-10)
    assert rescaled.concordance.concordant == fit.concordance.concordant
    for transform, statistic in original.items():
        np.testing.assert_allclose(
            rescaled.check_ph(transform).table["statistic"], statistic, rtol=1e-6, atol=1e-10
        )


@SETTINGS
@given(frame=cohorts(), ties=st.sampled_from(["efron", "breslow"]))
def test_flipping_binary_coding_inverts_the_hazard_ratio(frame: pd.DataFrame, ties: str) -> None:
    fit = fit_or_reject(frame, covariates=["arm", "age"], ties=ties)
    flipped = fit_or_reject(
        frame.assign(arm=1 - frame["arm"]), covariates=["arm", "age"], ties=ties
    )
    np.testing.assert_allclose(flipped.table["hr"].iloc[0], 1 / fit.table["hr"].iloc[0], rtol=1e-7)
    np.testing.assert_allclose(flipped.table["se"], fit.table["se"], rtol=1e-7)
    np.testing.assert_allclose(
        flipped.table["coef"].iloc[1], fit.table["coef"].iloc[1], rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(flipped.score_test.statistic, fit.score_test.statistic, rtol=1e-9)
    np.testing.assert_allclose(flipped.concordance.estimate, fit.concordance.estimate, rtol=1e-12)


@SETTINGS
@given(frame=cohorts(distinct=True), ties=st.sampled_from(["efron", "breslow"]))
def test_score_test_is_the_logrank_test_without_ties(frame: pd.DataFrame, ties: str) -> None:
    fit = fit_or_reject(frame, covariates=["arm"], ties=ties)
    expected = naive_logrank(
        frame["time"].to_numpy(), frame["event"].to_numpy(), frame["arm"].to_numpy()
    )
    np.testing.assert_allclose(fit.score_test.statistic, expected, rtol=1e-10, atol=1e-12)
