"""Invariants of Kaplan–Meier and the log-rank test, plus naive reference implementations.

The naive implementations below loop over groups, strata and distinct times in plain
Python, straight from the textbook definitions; the package's vectorised code must agree
with them on random data.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logrank import logrank_test, logrank_trend_test
from cartcohort.errors import DegenerateDataError, DegenerateWarning

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def survival_frames(draw: st.DrawFn, *, max_groups: int = 3, strata: bool = False) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=40))
    times = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, max_groups - 1), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {"time": times, "event": events, "group": [f"g{g}" for g in groups]},
    )
    if strata:
        frame["stratum"] = draw(st.lists(st.sampled_from(["s1", "s2"]), min_size=n, max_size=n))
    return frame


def _quiet_km(frame: pd.DataFrame, **kwargs: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateWarning)  # groups without events are fine here
        return kaplan_meier(frame, time="time", event="event", **kwargs)  # type: ignore[arg-type]


def _quiet_logrank(frame: pd.DataFrame, **kwargs: object) -> object | None:
    """The test, or None where it is undefined (one group, no events, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateWarning)
        try:
            return logrank_test(frame, time="time", event="event", by="group", **kwargs)  # type: ignore[arg-type]
        except DegenerateDataError:
            return None


# ------------------------------------------------------------------------------------------
# naive implementations (loops; no vectorisation)
# ------------------------------------------------------------------------------------------


def naive_km(times: list[float], events: list[bool]) -> list[tuple[float, int, int, float, float]]:
    """(time, n_risk, n_event, S, var_log) at each distinct time."""
    rows = []
    surv, var_log = 1.0, 0.0
    for t in sorted(set(times)):
        n = sum(1 for x in times if x >= t)
        d = sum(1 for x, e in zip(times, events, strict=True) if x == t and e)
        surv *= 1 - d / n
        var_log = var_log + d / (n * (n - d)) if n > d else math.inf
        rows.append((t, n, d, surv, var_log))
    return rows


def naive_logrank(
    times: list[float], events: list[bool], groups: list[str], strata: list[str], rho: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = sorted(set(groups))
    k = len(labels)
    obs, exp, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for s in sorted(set(strata)):
        idx = [i for i in range(len(times)) if strata[i] == s]
        km = 1.0
        for t in sorted({times[i] for i in idx}):
            at_risk = [sum(1 for i in idx if times[i] >= t and groups[i] == g) for g in labels]
            dead = [
                sum(1 for i in idx if times[i] == t and events[i] and groups[i] == g)
                for g in labels
            ]
            n, d = sum(at_risk), sum(dead)
            if d == 0:
                continue
            w = km**rho
            for a in range(k):
                obs[a] += w * dead[a]
                exp[a] += w * d * at_risk[a] / n
                for b in range(k):
                    if n > 1:
                        delta = 1.0 if a == b else 0.0
                        var[a, b] += (
                            w
                            * w
                            * d
                            * (n - d)
                            / (n * (n - 1))
                            * at_risk[a]
                            * (delta - at_risk[b] / n)
                        )
            km *= (n - d) / n
    return obs, exp, var


def naive_chisq(obs: np.ndarray, exp: np.ndarray, var: np.ndarray) -> float | None:
    """survdiff's statistic, or None where R's solve() refuses the variance matrix as
    computationally singular (reciprocal condition number below the machine epsilon)."""
    keep = np.flatnonzero(exp > 0)[1:]
    diff = (obs - exp)[keep]
    sub = var[np.ix_(keep, keep)]
    try:
        if 1.0 / np.linalg.cond(sub, 1) < np.finfo(float).eps:
            return None
    except np.linalg.LinAlgError:
        return None
    return float(diff @ np.linalg.solve(sub, diff))


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------


@SETTINGS
@given(frame=survival_frames(), ci=st.sampled_from(["log-log", "log", "plain"]))
def test_km_non_increasing_within_unit_interval(frame: pd.DataFrame, ci: str) -> None:
    fit = _quiet_km(frame, by="group", ci_method=ci)
    for _, sub in fit.table.groupby("group", sort=False):  # type: ignore[attr-defined]
        s = sub["estimate"].to_numpy()
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 0)
        lo, hi = sub["lower"].to_numpy(), sub["upper"].to_numpy()
        ok = ~np.isnan(lo)
        assert np.all((lo[ok] >= 0) & (lo[ok] <= s[ok] + 1e-12) & (hi[ok] >= s[ok] - 1e-12))
        assert np.all(hi[ok] <= 1)


@SETTINGS
@given(frame=survival_frames())
def test_n_risk_counts_times_at_or_after(frame: pd.DataFrame) -> None:
    fit = _quiet_km(frame, by="group")
    for row in fit.table.itertuples():  # type: ignore[attr-defined]
        mine = frame[frame["group"] == row.group]
        assert row.n_risk == int((mine["time"] >= row.time).sum())
        assert row.n_event == int(((mine["time"] == row.time) & mine["event"]).sum())


@SETTINGS
@given(frame=survival_frames(), seed=st.integers(0, 2**32 - 1))
def test_km_invariant_to_row_order(frame: pd.DataFrame, seed: int) -> None:
    shuffled = frame.sample(frac=1.0, random_state=seed % (2**32 - 1)).reset_index(drop=True)
    a, b = _quiet_km(frame, by="group"), _quiet_km(shuffled, by="group")
    pd.testing.assert_frame_equal(a.table, b.table)  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(a.median, b.median)  # type: ignore[attr-defined]


@SETTINGS
@given(frame=survival_frames(), scale=st.floats(0.01, 100.0))
def test_km_rescaling_time_moves_times_only(frame: pd.DataFrame, scale: float) -> None:
    a = _quiet_km(frame, by="group")
    b = _quiet_km(frame.assign(time=frame["time"] * scale), by="group")
    ta, tb = a.table, b.table  # type: ignore[attr-defined]
    np.testing.assert_allclose(tb["time"], ta["time"] * scale, rtol=1e-12)
    for col in ("n_risk", "n_event", "n_censor", "estimate", "std_err", "lower", "upper"):
        np.testing.assert_array_equal(tb[col], ta[col], err_msg=col)
    for col in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(
            b.median[col],
            a.median[col] * scale,
            rtol=1e-12,
            err_msg=col,  # type: ignore[attr-defined]
        )


@SETTINGS
@given(frame=survival_frames(), rho=st.sampled_from([0.0, 1.0, 0.5]))
def test_logrank_symmetric_in_group_labels(frame: pd.DataFrame, rho: float) -> None:
    res = _quiet_logrank(frame, rho=rho)
    relabel = {"g0": "g2", "g1": "g0", "g2": "g1"}
    swapped = _quiet_logrank(frame.assign(group=frame["group"].map(relabel)), rho=rho)
    if res is None:
        assert swapped is None
        return
    assert swapped is not None
    assert swapped.df == res.df  # type: ignore[attr-defined]
    np.testing.assert_allclose(swapped.statistic, res.statistic, rtol=1e-9, atol=1e-12)  # type: ignore[attr-defined]


@SETTINGS
@given(frame=survival_frames(), seed=st.integers(0, 1000))
def test_logrank_invariant_to_row_order(frame: pd.DataFrame, seed: int) -> None:
    res = _quiet_logrank(frame)
    other = _quiet_logrank(frame.sample(frac=1.0, random_state=seed))
    if res is None:
        assert other is None
        return
    np.testing.assert_allclose(other.statistic, res.statistic, rtol=1e-12, atol=1e-14)  # type: ignore[attr-defined]


@SETTINGS
@given(frame=survival_frames(strata=True), rho=st.sampled_from([0.0, 1.0, 2.0]))
def test_logrank_matches_naive_loops(frame: pd.DataFrame, rho: float) -> None:
    res = _quiet_logrank(frame, strata="stratum", rho=rho)
    obs, exp, var = naive_logrank(
        frame["time"].tolist(),
        frame["event"].tolist(),
        frame["group"].tolist(),
        frame["stratum"].tolist(),
        rho,
    )
    if res is None:
        # one group, no events, or a variance matrix that R also refuses as singular
        assert (exp > 0).sum() < 2 or naive_chisq(obs, exp, var) is None or obs.sum() == 0
        return
    np.testing.assert_allclose(res.observed, obs, rtol=1e-12, atol=1e-12)  # type: ignore[attr-defined]
    np.testing.assert_allclose(res.expected, exp, rtol=1e-12, atol=1e-12)  # type: ignore[attr-defined]
    np.testing.assert_allclose(res.variance, var, rtol=1e-10, atol=1e-12)  # type: ignore[attr-defined]
    np.testing.assert_allclose(res.statistic, naive_chisq(obs, exp, var), rtol=1e-8, atol=1e-10)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_km_matches_naive_loops_on_seeded_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    frame = pd.DataFrame(
        {
            "time": np.round(rng.exponential(20, n)),
            "event": rng.random(n) < 0.7,
            "group": rng.choice(["a", "b", "c"], n),
        }
    )
    fit = kaplan_meier(frame, time="time", event="event", by="group")
    for g, sub in fit.table.groupby("group", sort=False):
        mine = frame[frame["group"] == g]
        expected = naive_km(mine["time"].tolist(), mine["event"].tolist())
        got = sub[["time", "n_risk", "n_event", "estimate"]].to_numpy()
        np.testing.assert_allclose(got, [r[:4] for r in expected], rtol=1e-12)
        se = np.array([r[3] * math.sqrt(r[4]) if r[3] > 0 else np.nan for r in expected])
        np.testing.assert_allclose(sub["std_err"], se, rtol=1e-12)


@pytest.mark.parametrize(("seed", "rho"), [(1, 0.0), (2, 1.0), (3, 0.5), (4, 0.0)])
def test_logrank_and_trend_match_naive_loops_on_seeded_data(seed: int, rho: float) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    frame = pd.DataFrame(
        {
            "time": np.ceil(rng.exponential(15, n)),
            "event": rng.random(n) < 0.7,
            "group": rng.choice(["g0", "g1", "g2", "g3"], n),
            "stratum": rng.choice(["s1", "s2", "s3"], n),
        }
    )
    obs, exp, var = naive_logrank(
        frame["time"].tolist(),
        frame["event"].tolist(),
        frame["group"].tolist(),
        frame["stratum"].tolist(),
        rho,
    )
    res = logrank_test(frame, time="time", event="event", by="group", strata="stratum", rho=rho)
    np.testing.assert_allclose(res.statistic, naive_chisq(obs, exp, var), rtol=1e-10)
    if rho == 0:
        trend = logrank_trend_test(frame, time="time", event="event", by="group", strata="stratum")
        c = np.arange(1.0, 5.0)
        u = c @ (obs - exp)
        np.testing.assert_allclose(trend.statistic, u * u / (c @ var @ c), rtol=1e-10)
