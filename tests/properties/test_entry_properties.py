"""Invariants of delayed entry in kaplan_meier and logrank_test (Hypothesis).

- ``start`` all zero gives the same curves and test as no ``start``;
- splitting each subject's follow-up into contiguous (start, stop] pieces (event on the
  last piece only) changes neither the Kaplan–Meier estimate nor the log-rank statistic:
  at every time exactly one piece of each subject is at risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cartcohort.analyse.counting import to_counting_process
from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test
from cartcohort.errors import DegenerateDataError

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=4, max_value=30))
    times = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    events = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    events[0] = events[1] = 1  # an event in each arm
    arm = [i % 2 for i in range(n)]
    cut = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    day = [float(np.floor(c * t)) for c, t in zip(cut, times, strict=True)]
    return pd.DataFrame(
        {"pid": range(n), "time": times, "event": events, "arm": arm, "split_day": day}
    )


def _logrank(frame: pd.DataFrame, **kw: str) -> float:
    try:
        return logrank_test(frame, event="event", by="arm", **kw).statistic
    except DegenerateDataError:  # e.g. every subject dies at one time: variance 0
        reject()


def _km(frame: pd.DataFrame, **kw: str) -> pd.DataFrame:
    fit = kaplan_meier(frame, event="event", by="arm", ci_method="log", **kw)
    deaths = fit.table[fit.table["n_event"] > 0]
    return deaths[["group", "time", "n_risk", "n_event", "estimate", "std_err"]].reset_index(
        drop=True
    )


@given(cohorts())
@SETTINGS
def test_start_zero_equals_no_start(frame: pd.DataFrame) -> None:
    zero = frame.assign(t0=0)
    pd.testing.assert_frame_equal(_km(frame, time="time"), _km(zero, time="time", start="t0"))
    assert _logrank(frame, time="time") == _logrank(zero, time="time", start="t0")


@given(cohorts())
@SETTINGS
def test_splitting_follow_up_changes_nothing(frame: pd.DataFrame) -> None:
    split = to_counting_process(
        frame, id="pid", time="time", event="event", changes={"later": "split_day"}
    )
    whole = _km(frame, time="time")
    pieces = _km(split, time="tstop", start="tstart")
    pd.testing.assert_frame_equal(whole, pieces, check_dtype=False, rtol=1e-12)
    a = _logrank(frame, time="time")
    b = _logrank(split, time="tstop", start="tstart")
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
