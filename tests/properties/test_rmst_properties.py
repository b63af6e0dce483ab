"""Invariants of rmst and milestone_difference (Hypothesis).

- the RMST up to an integer ``tau`` equals the area under the Kaplan–Meier step curve,
  summed here naively as ``sum_{u < tau} S(u)`` from ``kaplan_meier(...).at(u)``;
- ``0 < RMST <= tau`` and it does not decrease with ``tau``;
- swapping the reference group negates the difference and inverts the ratios (same
  p-values);
- the milestone difference is the difference of the two ``at()`` estimates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.rmst import milestone_difference, rmst

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=4, max_value=40))
    times = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    events = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    arm = [("a", "b")[i % 2] for i in range(n)]
    return pd.DataFrame({"time": times, "event": events, "arm": arm})


def _quiet(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _last_common(frame: pd.DataFrame) -> int:
    return int(frame.groupby("arm")["time"].max().min())


@given(cohorts(), st.data())
@SETTINGS
def test_rmst_is_the_area_under_the_km_curve(frame: pd.DataFrame, data: st.DataObject) -> None:
    last = _last_common(frame)
    if last < 1:
        return
    tau = data.draw(st.integers(1, last))
    res = _quiet(rmst, frame, time="time", event="event", by="arm", tau=tau)
    km = _quiet(kaplan_meier, frame, time="time", event="event", by="arm")
    grid = km.at(list(range(tau)))
    for label, value in zip(res.table["group"], res.table["estimate"], strict=True):
        naive = grid.loc[grid["group"] == label, "estimate"].sum()
        np.testing.assert_allclose(value, naive, rtol=1e-12, atol=1e-12)
        assert 0 <= value <= tau


@given(cohorts(), st.data())
@SETTINGS
def test_rmst_grows_with_tau_and_contrasts_are_antisymmetric(
    frame: pd.DataFrame, data: st.DataObject
) -> None:
    last = _last_common(frame)
    if last < 2:
        return
    tau = data.draw(st.integers(2, last))
    small = _quiet(rmst, frame, time="time", event="event", by="arm", tau=tau - 1)
    big = _quiet(rmst, frame, time="time", event="event", by="arm", tau=tau)
    assert (big.table["estimate"].to_numpy() >= small.table["estimate"].to_numpy() - 1e-12).all()
    flipped = frame.assign(arm=pd.Categorical(frame["arm"], categories=["b", "a"]))
    other = _quiet(rmst, flipped, time="time", event="event", by="arm", tau=tau)
    a = big.contrasts.set_index("measure")
    b = other.contrasts.set_index("measure")
    np.testing.assert_allclose(a.loc["difference", "estimate"], -b.loc["difference", "estimate"])
    np.testing.assert_allclose(a.loc["ratio", "estimate"] * b.loc["ratio", "estimate"], 1.0)
    np.testing.assert_allclose(
        a["p_value"].to_numpy(dtype=float), b["p_value"].to_numpy(dtype=float), equal_nan=True
    )


@given(cohorts(), st.data())
@SETTINGS
def test_milestone_is_the_difference_of_km_estimates(
    frame: pd.DataFrame, data: st.DataObject
) -> None:
    last = _last_common(frame)
    if last < 1:
        return
    at = data.draw(st.integers(1, last))
    res = _quiet(milestone_difference, frame, time="time", event="event", by="arm", at=at)
    km = _quiet(kaplan_meier, frame, time="time", event="event", by="arm").at(at)
    expected = km["estimate"].iloc[1] - km["estimate"].iloc[0]
    np.testing.assert_allclose(res.contrasts["estimate"].iloc[0], expected, rtol=1e-12, atol=0)
