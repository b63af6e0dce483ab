"""Hypothesis invariants of the Aalen–Johansen CIF, Gray's test and Fine–Gray."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cartcohort.analyse.competing import cumulative_incidence, fine_gray
from cartcohort.errors import DegenerateWarning, SeparationError


@st.composite
def cohorts(draw: st.DrawFn, max_causes: int = 2, min_size: int = 1) -> pd.DataFrame:
    n = draw(st.integers(min_value=min_size, max_value=40))
    tied = draw(st.booleans())
    time_values = (
        st.integers(min_value=0, max_value=8).map(float)
        if tied
        # Days to 3 decimals: distinct times stay distinct after rescaling (no subnormal or
        # adjacent floats that a product could merge into a tie).
        else st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False).map(
            lambda v: round(v, 3)
        )
    )
    times = draw(st.lists(time_values, min_size=n, max_size=n))
    status = draw(st.lists(st.integers(min_value=0, max_value=max_causes), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    assume(any(s > 0 for s in status))
    return pd.DataFrame({"time": times, "status": status, "g": groups})


def naive_km(time: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    """All-cause Kaplan–Meier (right-continuous) at the points ``at``."""
    out = []
    for t in at:
        s = 1.0
        for u in np.unique(time[time <= t]):
            s *= 1 - np.sum((time == u) & event) / np.sum(time >= u)
        out.append(s)
    return np.array(out)


def _fit(data: pd.DataFrame, **kwargs: object):
    with warnings.catch_warnings():
        # groups without events and singular Gray variances are legitimate here
        warnings.simplefilter("ignore", DegenerateWarning)
        return cumulative_incidence(data, time="time", event="status", **kwargs)


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_cif_in_unit_interval_and_non_decreasing(data: pd.DataFrame) -> None:
    fit = _fit(data, by="g")
    assert (fit.table["estimate"] >= 0).all()
    assert (fit.table["estimate"] <= 1 + 1e-12).all()
    assert (fit.table["variance"] >= -1e-12).all()
    for _, curve in fit.table.groupby(["group", "cause"]):
        assert (np.diff(curve["estimate"].to_numpy()) >= -1e-15).all()


@settings(max_examples=60, deadline=None)
@given(cohorts(max_causes=3))
def test_sum_of_cifs_is_one_minus_all_cause_km(data: pd.DataFrame) -> None:
    fit = _fit(data)
    time = data["time"].to_numpy()
    event = data["status"].to_numpy() > 0
    grid = np.unique(time)
    at = fit.at(grid)
    total = at.groupby("time")["estimate"].sum().to_numpy()
    np.testing.assert_allclose(total, 1 - naive_km(time, event, grid), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(cohorts(max_causes=1))
def test_single_cause_cif_is_one_minus_km(data: pd.DataFrame) -> None:
    fit = _fit(data)
    time = data["time"].to_numpy()
    tab = fit.table
    expected = 1 - naive_km(time, data["status"].to_numpy() > 0, tab["time"].to_numpy())
    np.testing.assert_allclose(tab["estimate"], expected, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(cohorts(min_size=2), st.randoms(use_true_random=False))
def test_invariant_to_row_order(data: pd.DataFrame, rnd) -> None:
    order = list(range(len(data)))
    rnd.shuffle(order)
    a = _fit(data, by="g")
    b = _fit(data.iloc[order].reset_index(drop=True), by="g")
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-12)
    if a.gray_test is not None:
        pd.testing.assert_frame_equal(a.gray_test, b.gray_test, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(cohorts(), st.sampled_from([0.5, 7.0, 30.4375, 365.25]))
def test_invariant_to_time_rescaling(data: pd.DataFrame, scale: float) -> None:
    a = _fit(data, by="g")
    b = _fit(data.assign(time=data["time"] * scale), by="g")
    np.testing.assert_allclose(b.table["time"], a.table["time"] * scale, rtol=1e-15)
    for column in ("estimate", "variance", "n_risk"):
        np.testing.assert_allclose(b.table[column], a.table[column], rtol=1e-12, atol=1e-15)
    if a.gray_test is not None:
        np.testing.assert_allclose(
            b.gray_test["statistic"], a.gray_test["statistic"], rtol=1e-9, equal_nan=True
        )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from([0.1, 1.0, 12.0]),
)
def test_fine_gray_invariant_to_row_order_and_time_scale(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    data = pd.DataFrame(
        {
            "time": rng.integers(0, 10, size=n).astype(float),
            "status": rng.integers(0, 3, size=n),
            "x": rng.normal(size=n),
        }
    )
    assume((data["status"] == 1).sum() >= 3)
    try:
        a = fine_gray(data, time="time", event="status", cause=1, covariates=["x"])
    except SeparationError:
        assume(False)
    shuffled = data.assign(time=data["time"] * scale).sample(frac=1, random_state=seed)
    b = fine_gray(shuffled, time="time", event="status", cause=1, covariates=["x"])
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(b.covariance, a.covariance, rtol=1e-6, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(cohorts(max_causes=3), st.data())
def test_entry_sum_of_cifs_is_one_minus_left_truncated_km(
    data: pd.DataFrame, draw: st.DataObject
) -> None:
    data = data.assign(time=data["time"] + 1.0)
    fractions = draw.draw(
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.9]), min_size=len(data), max_size=len(data))
    )
    data["entry"] = np.floor(data["time"].to_numpy() * np.array(fractions))
    fit = _fit(data, start="entry")
    t, e = data["time"].to_numpy(), data["entry"].to_numpy()
    dead = data["status"].to_numpy() > 0
    total = fit.table.groupby("time")["estimate"].sum()
    surv, expected = 1.0, []
    for u in total.index:
        surv *= 1 - np.sum((t == u) & dead) / np.sum((e < u) & (t >= u))
        expected.append(1 - surv)
    np.testing.assert_allclose(total.to_numpy(), expected, rtol=1e-10, atol=1e-12)
    assert (fit.table["variance"] >= 0).all()
    for _, curve in fit.table.groupby("cause"):
        assert (np.diff(curve["estimate"].to_numpy()) >= -1e-15).all()
