"""Invariants of case weights and robust variances in cox_ph and logistic_regression.

- unit weights give the unweighted fit;
- integer weights give the fit of the data with each row repeated that many times
  (Cox with Breslow ties: estimates and model-based SE; with Efron ties repeating a
  death adds tied deaths, which the approximation treats differently, as in R);
  logistic: estimates and model-based SE;
- clusters of one row each give the robust variance without clusters (Cox exactly as
  R; logistic up to vcovCL's G/(G-1) adjustment, which this checks too);
- the weighted concordance with unit weights equals the unweighted pair counts.

Samples whose fit warns or fails are rejected: the invariants are about well-posed fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.analyse.logistic import LogisticResult, logistic_regression
from cartcohort.errors import AnalysisError

SETTINGS = settings(max_examples=15, deadline=None)
# A logistic fit runs a separation linear program and statsmodels IRLS: fewer examples.
LOGIT_SETTINGS = settings(max_examples=8, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=8, max_value=30))
    times = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    arm = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    age = draw(st.lists(st.integers(-30, 30).map(lambda v: v / 10), min_size=n, max_size=n))
    iw = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    return pd.DataFrame(
        {"time": times, "event": events, "arm": arm, "age": age, "iw": iw, "row": range(n)}
    )


def _quiet(fn: object, *args: object, **kwargs: object) -> object:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fn(*args, **kwargs)  # type: ignore[operator]
        except AnalysisError:
            reject()
    if caught:
        reject()
    return fit


def cox(frame: pd.DataFrame, **kwargs: object) -> CoxResult:
    fit = _quiet(cox_ph, frame, time="time", event="event", covariates=["arm", "age"], **kwargs)
    assert isinstance(fit, CoxResult)
    return fit


def logit(frame: pd.DataFrame, **kwargs: object) -> LogisticResult:
    fit = _quiet(logistic_regression, frame, outcome="event", covariates=["arm", "age"], **kwargs)
    assert isinstance(fit, LogisticResult)
    return fit


@SETTINGS
@given(frame=cohorts(), ties=st.sampled_from(["efron", "breslow"]))
def test_cox_unit_weights_are_no_weights(frame: pd.DataFrame, ties: str) -> None:
    plain = cox(frame, ties=ties)
    unit = cox(frame.assign(w=1.0), ties=ties, weights="w")
    np.testing.assert_allclose(unit.table["coef"], plain.table["coef"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(unit.table["se"], plain.table["se"], rtol=1e-9)
    np.testing.assert_allclose(unit.loglik, plain.loglik, rtol=1e-10)
    c, u = plain.concordance, unit.concordance
    assert [u.concordant, u.discordant, u.tied_x, u.tied_y, u.tied_xy] == [
        c.concordant,
        c.discordant,
        c.tied_x,
        c.tied_y,
        c.tied_xy,
    ]
    np.testing.assert_allclose(u.std_err, c.std_err, rtol=1e-9)


@SETTINGS
@given(frame=cohorts())
def test_cox_integer_weights_are_replicated_rows(frame: pd.DataFrame) -> None:
    weighted = cox(frame, ties="breslow", weights="iw")
    repeated = cox(frame.loc[frame.index.repeat(frame["iw"])], ties="breslow")
    np.testing.assert_allclose(weighted.table["coef"], repeated.table["coef"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(weighted.table["se"], repeated.table["se"], rtol=1e-7)


@SETTINGS
@given(frame=cohorts(), ties=st.sampled_from(["efron", "breslow"]))
def test_cox_one_row_clusters_are_robust_without_clusters(frame: pd.DataFrame, ties: str) -> None:
    robust = cox(frame, ties=ties, weights="iw", robust=True)
    clustered = cox(frame, ties=ties, weights="iw", cluster="row")
    np.testing.assert_allclose(clustered.covariance, robust.covariance, rtol=1e-9, atol=1e-14)
    assert robust.robust_score_test is not None
    assert clustered.robust_score_test is not None
    np.testing.assert_allclose(
        clustered.robust_score_test.statistic, robust.robust_score_test.statistic, rtol=1e-9
    )


@LOGIT_SETTINGS
@given(frame=cohorts())
def test_logistic_unit_and_integer_weights(frame: pd.DataFrame) -> None:
    plain = logit(frame)
    unit = logit(frame.assign(w=1.0), weights="w")
    np.testing.assert_allclose(unit.table["coef"], plain.table["coef"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(unit.table["se"], plain.table["se"], rtol=1e-8)
    weighted = logit(frame, weights="iw")
    repeated = logit(frame.loc[frame.index.repeat(frame["iw"])])
    np.testing.assert_allclose(
        weighted.table["coef"], repeated.table["coef"], rtol=1e-8, atol=1e-10
    )
    np.testing.assert_allclose(weighted.table["se"], repeated.table["se"], rtol=1e-8)
    np.testing.assert_allclose(weighted.lr_test.statistic, repeated.lr_test.statistic, rtol=1e-8)


@LOGIT_SETTINGS
@given(frame=cohorts())
def test_logistic_one_row_clusters_are_hc0_times_g_over_g_minus_1(frame: pd.DataFrame) -> None:
    hc0 = logit(frame, weights="iw", robust=True)
    clustered = logit(frame, weights="iw", cluster="row")
    g = len(frame)
    np.testing.assert_allclose(
        clustered.table["se"] ** 2, hc0.table["se"] ** 2 * g / (g - 1), rtol=1e-9
    )
