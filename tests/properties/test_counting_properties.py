"""Invariants of counting-process data (Hypothesis).

- splitting each subject's follow-up at arbitrary days, without changing any covariate,
  leaves the Cox fit unchanged (coefficients, information, tests and cox.zph);
- ``start`` all zero gives the same fit as no ``start``;
- the Mantel-Byar test equals the score test of the Cox model with the time-dependent
  indicator when event times are distinct (Efron and Breslow);
- ``to_counting_process`` partitions follow-up: the intervals of a patient tile
  ``(0, time]``, the event is on the last one only, and each indicator is 0 before its
  day and 1 from it on.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cartcohort.analyse.counting import mantel_byar_test, to_counting_process
from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.errors import AnalysisError

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=6, max_value=30))
    times = draw(st.lists(st.integers(1, 30), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    arm = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    age = draw(st.lists(st.integers(-30, 30), min_size=n, max_size=n))
    strata = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    cut = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    day = [np.nan if c < 0.3 else float(np.floor(c * t)) for c, t in zip(cut, times, strict=True)]
    return pd.DataFrame(
        {
            "pid": range(n),
            "time": times,
            "event": events,
            "arm": arm,
            "age": [a / 10 for a in age],
            "site": strata,
            "split_day": day,
        }
    )


def fit_or_reject(frame: pd.DataFrame, **kwargs: object) -> CoxResult:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = cox_ph(frame, covariates=["arm", "age"], **kwargs)  # type: ignore[arg-type]
        except AnalysisError:
            reject()
    if caught:
        reject()
    return fit


def _same(a: CoxResult, b: CoxResult) -> None:
    np.testing.assert_allclose(a.table["coef"], b.table["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-9)
    np.testing.assert_allclose(a.score_test.statistic, b.score_test.statistic, rtol=1e-9)
    for transform in ("km", "rank", "identity"):
        try:
            za = a.check_ph(transform).table["statistic"]
        except AnalysisError:
            continue
        zb = b.check_ph(transform).table["statistic"]
        if transform != "rank":  # rank(stop times) depends on the rows, as in R
            np.testing.assert_allclose(za, zb, rtol=1e-6, atol=1e-9)


@given(cohorts(), st.sampled_from(["efron", "breslow"]), st.booleans())
@SETTINGS
def test_splitting_without_changing_covariates_leaves_the_fit_unchanged(
    frame: pd.DataFrame, ties: str, stratified: bool
) -> None:
    strata = "site" if stratified else None
    whole = fit_or_reject(frame, time="time", event="event", ties=ties, strata=strata)
    split = to_counting_process(
        frame, id="pid", time="time", event="event", changes={"after": "split_day"}
    )
    pieces = fit_or_reject(
        split, start="tstart", time="tstop", event="event", ties=ties, strata=strata
    )
    assert pieces.n_events == whole.n_events
    _same(whole, pieces)


@given(cohorts(), st.sampled_from(["efron", "breslow"]))
@SETTINGS
def test_start_zero_equals_no_start(frame: pd.DataFrame, ties: str) -> None:
    plain = fit_or_reject(frame, time="time", event="event", ties=ties)
    zero = fit_or_reject(frame.assign(t0=0), start="t0", time="time", event="event", ties=ties)
    _same(plain, zero)
    assert zero.concordance == plain.concordance


@given(cohorts())
@SETTINGS
def test_split_tiles_follow_up(frame: pd.DataFrame) -> None:
    out = to_counting_process(
        frame, id="pid", time="time", event="event", changes={"after": "split_day"}
    )
    for pid, rows in out.groupby("pid"):
        src = frame.loc[frame["pid"] == pid].iloc[0]
        assert rows["tstart"].iloc[0] == 0
        assert rows["tstop"].iloc[-1] == src["time"]
        np.testing.assert_array_equal(rows["tstart"].to_numpy()[1:], rows["tstop"].to_numpy()[:-1])
        assert (rows["tstart"] < rows["tstop"]).all()
        assert rows["event"].sum() == int(src["event"])
        assert rows["event"].iloc[:-1].sum() == 0
        day = src["split_day"]
        expected = (rows["tstart"] >= day).astype(int) if not np.isnan(day) else 0
        np.testing.assert_array_equal(rows["after"], expected)


@st.composite
def distinct_cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=6, max_value=30))
    times = draw(st.lists(st.integers(2, 400), min_size=n, max_size=n, unique=True))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cut = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    day = [np.nan if c < 0.4 else float(np.floor(c * t)) for c, t in zip(cut, times, strict=True)]
    return pd.DataFrame({"pid": range(n), "time": times, "event": events, "hsct_day": day})


@given(distinct_cohorts(), st.sampled_from(["efron", "breslow"]))
@SETTINGS
def test_mantel_byar_is_the_cox_score_test_without_ties(frame: pd.DataFrame, ties: str) -> None:
    # Event times are distinct (interval ends at exposure days are censorings), so the
    # hypergeometric log-rank variance equals the Cox information at beta = 0.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mb = mantel_byar_test(
                frame, id="pid", time="time", event="event", exposure_day="hsct_day"
            )
        except AnalysisError:
            reject()
    if caught:  # e.g. a group without events: keep the samples clean
        reject()
    split = to_counting_process(
        frame, id="pid", time="time", event="event", changes={"exposed": "hsct_day"}
    )
    with warnings.catch_warnings():  # a monotone likelihood leaves the score test valid
        warnings.simplefilter("ignore")
        try:
            cox = cox_ph(
                split, start="tstart", time="tstop", event="event", covariates=["exposed"],
                ties=ties,
            )  # fmt: skip
        except AnalysisError:  # e.g. non-convergence without a diverging term
            reject()
    np.testing.assert_allclose(mb.statistic, cox.score_test.statistic, rtol=1e-9)
