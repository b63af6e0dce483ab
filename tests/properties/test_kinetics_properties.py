"""Hypothesis invariants of kinetics_nca, and agreement with a naive per-profile NCA."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cartcohort.derive.kinetics import BLQPolicy, KineticsResult, kinetics_nca
from cartcohort.errors import StatisticalWarning

LLOQ = 50.0


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    """1-6 patients with 1-12 samples each on distinct days 0-150; some BLQ, some zero."""
    frames = []
    for p in range(draw(st.integers(1, 6))):
        days = sorted(draw(st.sets(st.integers(0, 150), min_size=1, max_size=12)))
        values = draw(
            st.lists(
                st.one_of(
                    st.just(0.0),
                    st.floats(1.0, 49.0),  # below the LLOQ
                    st.floats(50.0, 1e6),
                ),
                min_size=len(days),
                max_size=len(days),
            )
        )
        frames.append(
            pd.DataFrame(
                {"patient_id": f"P{p}", "infusion": 1, "day": days, "value": values, "lloq": LLOQ}
            )
        )
    return pd.concat(frames, ignore_index=True)


def run(data: pd.DataFrame, **kwargs) -> KineticsResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return kinetics_nca(data, **kwargs)


def col(res: KineticsResult, name: str) -> np.ndarray:
    return pd.to_numeric(res.table[name]).to_numpy(np.float64, na_value=np.nan)


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_auc_is_non_negative_and_grows_with_the_window(data: pd.DataFrame) -> None:
    res = run(data)
    a28, a84 = col(res, "auc_0_28"), col(res, "auc_0_84")
    assert np.all(a28[~np.isnan(a28)] >= 0)
    both = ~np.isnan(a28) & ~np.isnan(a84)
    assert np.all(a84[both] >= a28[both] * (1 - 1e-12))


@settings(max_examples=30, deadline=None)
@given(cohorts(), st.sampled_from([BLQPolicy(), BLQPolicy(middle="keep"), BLQPolicy(first="drop")]))
def test_linear_auc_is_at_least_lin_up_log_down(data: pd.DataFrame, policy: BLQPolicy) -> None:
    # On a falling segment the log trapezoid lies under the chord (ln is concave).
    lin = col(run(data, auc_method="linear", blq=policy), "auc_0_28")
    log = col(run(data, auc_method="lin-up/log-down", blq=policy), "auc_0_28")
    np.testing.assert_array_equal(np.isnan(lin), np.isnan(log))
    ok = ~np.isnan(lin)
    assert np.all(lin[ok] >= log[ok] * (1 - 1e-12))


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_cmax_bounds_every_quantifiable_value_and_times_are_ordered(data: pd.DataFrame) -> None:
    res = run(data)
    quant = data[(data["value"] >= LLOQ) & (data["value"] > 0)]
    top = quant.groupby("patient_id")["value"].max()
    cmax = res.table.set_index("patient_id")["cmax"].astype(float)
    assert (cmax.reindex(top.index) >= top).all()
    assert (cmax.reindex(top.index) == top).all()  # the maximum is one of the samples
    tmax, tlast, hl = col(res, "tmax"), col(res, "tlast"), col(res, "half_life")
    has = ~np.isnan(tmax)
    assert np.all(tmax[has] <= tlast[has])
    assert np.all(hl[~np.isnan(hl)] > 0)
    points = res.table["half_life_points"].dropna().astype(int)
    assert (points >= 3).all()


@settings(max_examples=25, deadline=None)
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data: pd.DataFrame, rnd) -> None:
    order = list(range(len(data)))
    rnd.shuffle(order)
    a = run(data).table
    b = run(data.iloc[order]).table
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(cohorts(), st.sampled_from([2.0, 10.0, 1e3]))
def test_scaling_values_scales_cmax_and_auc(data: pd.DataFrame, factor: float) -> None:
    a = run(data)
    b = run(data.assign(value=data["value"] * factor, lloq=data["lloq"] * factor))
    for name in ("cmax", "auc_0_28", "auc_0_84"):
        np.testing.assert_allclose(col(b, name), col(a, name) * factor, rtol=1e-9, err_msg=name)
    for name in ("tmax", "tlast"):
        np.testing.assert_array_equal(col(b, name), col(a, name))


# ----------------------------------------------------------------------------------------------
# A naive, one-profile-at-a-time NCA with PKNCA's default rules, written as plainly as possible.
# ----------------------------------------------------------------------------------------------


def naive_nca(days: list[float], values: list[float]) -> dict[str, float]:
    t = np.asarray(days, float)
    v = np.asarray(values, float)
    quant = (v > 0) & (v >= LLOQ)
    if quant.any():
        first, last = t[quant].min(), t[quant].max()
        keep = quant | (t <= first) | (t >= last)  # middle BLQ dropped
    else:
        keep = np.ones(len(t), bool)
    t, c = t[keep], np.where(quant, v, 0.0)[keep]
    cmax = c.max()
    tmax = t[np.argmax(c)] if cmax > 0 else math.nan
    tlast = t[c > 0].max() if cmax > 0 else math.nan
    if t[0] != 0:
        t, c = np.r_[0.0, t], np.r_[0.0, c]
    auc = 0.0
    for i in range(len(t) - 1):
        t1, t2, c1, c2 = t[i], t[i + 1], c[i], c[i + 1]
        if not (t1 < 28) or math.isnan(tlast) or t1 >= tlast:
            continue
        end = min(t2, 28.0)
        if 0 < c2 < c1:
            cend = c1 * (c2 / c1) ** ((end - t1) / (t2 - t1))
            auc += (end - t1) * (c1 - cend) / math.log(c1 / cend)
        else:
            cend = c1 + (c2 - c1) * (end - t1) / (t2 - t1)
            auc += (end - t1) * (c1 + cend) / 2
    if t.max() < 28:
        auc = math.nan
    half_life = math.nan
    if cmax > 0:
        after = (t > tmax) & (c > 0)
        tt, yy = t[after], np.log(c[after])
        fits = []
        for n in range(3, len(tt) + 1):
            fit = stats.linregress(tt[-n:], yy[-n:])
            r2 = fit.rvalue**2
            fits.append((n, -fit.slope, 1 - (1 - r2) * (n - 1) / (n - 2)))
        if fits:
            best = max(f[2] for f in fits if not math.isnan(f[2]))
            ok = [f for f in fits if f[1] > 0 and f[2] > best - 1e-4]
            if ok:
                half_life = math.log(2) / max(ok)[1]
    return {"cmax": cmax, "tmax": tmax, "tlast": tlast, "auc_0_28": auc, "half_life": half_life}


@st.composite
def smooth_profiles(draw: st.DrawFn) -> pd.DataFrame:
    """Noisy rise-and-decline profiles (so ln(value) is never exactly constant)."""
    frames = []
    for p in range(draw(st.integers(1, 5))):
        days = sorted(draw(st.sets(st.integers(0, 120), min_size=2, max_size=12)))
        peak = draw(st.floats(1e3, 1e6))
        k = draw(st.floats(0.01, 0.5))
        noise = draw(st.lists(st.floats(0.5, 2.0), min_size=len(days), max_size=len(days)))
        values = [
            round(peak * math.exp(-k * abs(d - 10)) * e, 3)
            for d, e in zip(days, noise, strict=True)
        ]
        frames.append(
            pd.DataFrame(
                {"patient_id": f"P{p}", "infusion": 1, "day": days, "value": values, "lloq": LLOQ}
            )
        )
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=40, deadline=None)
@given(smooth_profiles())
def test_vectorised_nca_matches_a_naive_loop(data: pd.DataFrame) -> None:
    res = run(data).table.set_index("patient_id")
    for pid, g in data.groupby("patient_id"):
        expected = naive_nca(g["day"].tolist(), g["value"].tolist())
        for name, want in expected.items():
            got = res.loc[pid, name]
            got = math.nan if pd.isna(got) else float(got)
            if math.isnan(want):
                assert math.isnan(got), (pid, name, got)
            else:
                assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (pid, name, got, want)
