"""Unit tests for cartcohort.analyse.competing: hand-worked cases, naive implementations,
argument errors and degenerate inputs. R agreement is in tests/reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from cartcohort.analyse.competing import (
    CumulativeIncidenceResult,
    FineGrayResult,
    cumulative_incidence,
    fine_gray,
)
from cartcohort.errors import (
    AnalysisError,
    CollinearityError,
    DegenerateDataError,
    DegenerateWarning,
    SeparationError,
    StatisticalWarning,
)

# --------------------------------------------------------------------------------------
# fixtures and independent naive implementations
# --------------------------------------------------------------------------------------

TINY = pd.DataFrame({"t": [1, 2, 2, 3, 4], "s": [1, 2, 1, 0, 1]})


def _random_cohort(seed: int, n: int = 60, ties: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    t1 = rng.exponential(8 * np.exp(-0.5 * x))
    t2 = rng.exponential(12, size=n)
    tc = rng.uniform(0, 20, size=n)
    t = np.minimum(np.minimum(t1, t2), tc)
    status = np.where(t == tc, 0, np.where(t1 < t2, 1, 2))
    return pd.DataFrame({"time": np.floor(t) if ties else t, "status": status, "x": x, "g": g})


def naive_cuminc(time: np.ndarray, status: np.ndarray, cause: int) -> pd.DataFrame:
    """Loop over distinct times: Aalen–Johansen CIF and cmprsk's variance (cinc)."""
    surv, cif, v1, v2, v3 = 1.0, 0.0, 0.0, 0.0, 0.0
    rows = []
    for t in np.unique(time):
        n = np.sum(time >= t)
        d1 = np.sum((time == t) & (status == cause))
        d2 = np.sum((time == t) & (status > 0) & (status != cause))
        if d1 + d2 == 0:
            continue
        after = surv * (n - d1 - d2) / n
        cif += surv * d1 / n
        for d, is_cause in ((d2, False), (d1, True)):
            if d == 0 or (not is_cause and after <= 0):
                continue
            tie = 1 - (d - 1) / (n - 1) if d > 1 else 1.0
            w = surv**2 * tie * d / n**2
            inv = 1 / after if after > 0 else 0.0
            a = 1 + inv * cif if is_cause else cif * inv
            v1 += a * a * w
            v2 += inv * a * w
            v3 += inv * inv * w
        if d1 > 0:
            rows.append((t, cif, v1 + cif**2 * v3 - 2 * cif * v2))
        surv = after
    return pd.DataFrame(rows, columns=["time", "estimate", "variance"])


def naive_km(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier at each distinct time (right-continuous)."""
    times = np.unique(time)
    s, out = 1.0, []
    for t in times:
        n = np.sum(time >= t)
        d = np.sum((time == t) & event)
        s *= 1 - d / n
        out.append(s)
    return times, np.array(out)


def _censoring_g_before(time: np.ndarray, status: np.ndarray) -> np.ndarray:
    """G(T_i-) (G(0) at 0) as crr evaluates the censoring KM."""
    times, g = naive_km(time, status == 0)
    out = np.empty(time.size)
    for i, t in enumerate(time):
        j = np.searchsorted(times, t)
        out[i] = g[j] if t == 0 else (g[j - 1] if j > 0 else 1.0)
    return out


def naive_fine_gray(time: np.ndarray, status: np.ndarray, x: np.ndarray):
    """Fine–Gray by an explicit weight matrix (subjects × cause-1 times) and BFGS,
    with the Fine & Gray (1999) sandwich written as loops over censoring times."""
    gm = _censoring_g_before(time, status)
    tk = np.unique(time[status == 1])
    dk = np.array([np.sum((time == t) & (status == 1)) for t in tk])
    gk = np.array([gm[np.flatnonzero(time == t)[0]] for t in tk])
    w = np.where(time[:, None] >= tk[None, :], 1.0, 0.0)
    w += np.where((status[:, None] == 2) & (time[:, None] < tk[None, :]), gk / gm[:, None], 0)

    def negll(b: np.ndarray) -> float:
        r = np.exp(x @ b)
        return -(np.sum((x @ b)[status == 1]) - dk @ np.log(r @ w))

    def grad(b: np.ndarray) -> np.ndarray:
        r = np.exp(x @ b)
        s0 = r @ w
        s1 = (x * r[:, None]).T @ w
        return -(x[status == 1].sum(axis=0) - (s1 / s0) @ dk)

    p = x.shape[1]
    fit = optimize.minimize(negll, np.zeros(p), jac=grad, method="BFGS", options={"gtol": 1e-12})
    b = fit.x
    r = np.exp(x @ b)
    s0 = r @ w
    xbar = ((x * r[:, None]).T @ w / s0).T  # (K, p)
    info = np.zeros((p, p))
    for k in range(tk.size):
        dev = x - xbar[k]
        info += dk[k] * (dev * (w[:, k] * r)[:, None]).T @ dev / s0[k]
    n = time.size
    eta = np.zeros((n, p))
    for i in range(n):
        if status[i] == 1:
            eta[i] += x[i] - xbar[np.searchsorted(tk, time[i])]
        eta[i] -= ((dk * w[i] * r[i] / s0)[:, None] * (x[i] - xbar)).sum(axis=0)
    psi = np.zeros((n, p))
    for u in np.unique(time[status == 0]):
        y = np.sum(time >= u)
        c = np.sum((time == u) & (status == 0))
        q = np.zeros(p)
        for k in np.flatnonzero(tk >= u):
            j = (status == 2) & (time < u)
            q += dk[k] * ((w[j, k] * r[j])[:, None] * (x[j] - xbar[k])).sum(axis=0) / s0[k]
        psi[(time == u) & (status == 0)] += q / y
        psi[time >= u] -= q * c / y**2
    u_res = eta + psi
    inv = np.linalg.inv(info)
    return b, inv @ u_res.T @ u_res @ inv, -negll(b)


# --------------------------------------------------------------------------------------
# cumulative incidence: hand-worked and naive
# --------------------------------------------------------------------------------------


def test_tiny_cif_by_hand() -> None:
    # Times 1 (n=5, one cause-1), 2 (n=4, one of each), 4 (n=1, cause 1); censored at 3.
    # S: 0.8, 0.4, 0.  F1: 1/5, 0.2 + 0.8/4, 0.4 + 0.4/1.  F2: 0, 0.8/4, 0.2.
    fit = cumulative_incidence(TINY, time="t", event="s")
    c1 = fit.table[fit.table["cause"] == 1]
    np.testing.assert_allclose(c1["estimate"], [0.2, 0.4, 0.8], rtol=1e-14)
    c2 = fit.table[fit.table["cause"] == 2]
    np.testing.assert_allclose(c2["estimate"], [0.0, 0.2, 0.2], rtol=1e-14)
    # cinc's variance by hand: at the first time d/n^2 = 1/25; at t=2,
    # v1 = 0.2625, v2 = 0.3625, v3 = 0.5625 and v = v1 + F^2 v3 - 2 F v2 = 0.0625.
    np.testing.assert_allclose(c1["variance"].iloc[:2], [0.04, 0.0625], rtol=1e-14)
    assert c1["n_risk"].tolist() == [5, 4, 1]
    assert c1["n_event"].tolist() == [1, 1, 1]
    assert fit.groups == ("all",)
    assert fit.causes == (1, 2)
    assert fit.gray_test is None
    assert fit.n == 5
    assert fit.n_events == 4


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("ties", [True, False], ids=["ties", "continuous"])
def test_cif_matches_naive_loop(seed: int, ties: bool) -> None:
    data = _random_cohort(seed, ties=ties)
    fit = cumulative_incidence(data, time="time", event="status", by="g")
    for group in fit.groups:
        sub = data[data["g"] == group]
        for cause in fit.causes:
            expected = naive_cuminc(sub["time"].to_numpy(), sub["status"].to_numpy(), cause)
            got = fit.table[
                (fit.table["group"] == group)
                & (fit.table["cause"] == cause)
                & (fit.table["n_event"] > 0)
            ]
            np.testing.assert_allclose(got["time"], expected["time"])
            np.testing.assert_allclose(got["estimate"], expected["estimate"], rtol=1e-12)
            np.testing.assert_allclose(got["variance"], expected["variance"], rtol=1e-10)


def test_table_is_at_every_event_time_and_carries_forward() -> None:
    fit = cumulative_incidence(TINY, time="t", event="s")
    c2 = fit.table[fit.table["cause"] == 2]
    # Cause 2 has no event at t=4: the row exists with the carried-forward values.
    assert c2["time"].tolist() == [1.0, 2.0, 4.0]
    assert c2["n_event"].tolist() == [0, 1, 0]
    assert c2["variance"].iloc[2] == c2["variance"].iloc[1]
    assert list(fit.table.columns) == [
        "group",
        "cause",
        "time",
        "n_risk",
        "n_event",
        "estimate",
        "variance",
        "lower",
        "upper",
    ]


def test_at_is_a_right_continuous_step_function() -> None:
    fit = cumulative_incidence(TINY, time="t", event="s")
    at = fit.at([3.0, 0.0, 1.0, 1.5, 4.0, 4.5, 3.0])  # unsorted, duplicated
    c1 = at[at["cause"] == 1]
    assert c1["time"].tolist() == [0.0, 1.0, 1.5, 3.0, 4.0, 4.5]
    np.testing.assert_allclose(c1["estimate"].iloc[:5], [0.0, 0.2, 0.2, 0.4, 0.8])
    # After the last follow-up (4) timepoints() gives NA.
    assert np.isnan(c1["estimate"].iloc[5])
    assert np.isnan(c1["variance"].iloc[5])
    assert list(at.columns) == [
        "group",
        "cause",
        "time",
        "estimate",
        "variance",
        "lower",
        "upper",
    ]


def test_at_single_number_and_negative_time() -> None:
    fit = cumulative_incidence(TINY, time="t", event="s")
    at = fit.at(-1.0)
    assert at["estimate"].isna().all()
    assert len(fit.at(2)) == 2


@pytest.mark.parametrize("bad", [[], [np.nan], [1.0, np.inf]])
def test_at_rejects_bad_times(bad: list[float]) -> None:
    fit = cumulative_incidence(TINY, time="t", event="s")
    with pytest.raises(AnalysisError, match="`times`"):
        fit.at(bad)


def test_loglog_interval_formula() -> None:
    data = _random_cohort(7)
    fit = cumulative_incidence(data, time="time", event="status", confidence_level=0.9)
    tab = fit.table[(fit.table["estimate"] > 0) & (fit.table["estimate"] < 1)]
    est, se = tab["estimate"].to_numpy(), np.sqrt(tab["variance"].to_numpy())
    z = 1.6448536269514722
    k = z * se / (est * np.log(est))
    np.testing.assert_allclose(tab["lower"], est ** np.exp(-k), rtol=1e-13)
    np.testing.assert_allclose(tab["upper"], est ** np.exp(k), rtol=1e-13)
    assert (tab["lower"] <= tab["estimate"]).all()
    assert (tab["estimate"] <= tab["upper"]).all()
    # Undefined at F = 0 (before the first event of the cause): NaN, documented.
    zero = fit.table[fit.table["estimate"] == 0]
    assert zero["lower"].isna().all()


def test_gray_two_groups_is_symmetric_in_labels() -> None:
    data = _random_cohort(11)
    data["h"] = np.where(data["g"] == "a", "p", "q")
    swapped = data.assign(h=data["h"].map({"p": "q", "q": "p"}))
    a = cumulative_incidence(data, time="time", event="status", by="h").gray_test
    b = cumulative_incidence(swapped, time="time", event="status", by="h").gray_test
    np.testing.assert_allclose(a["statistic"], b["statistic"], rtol=1e-12)
    assert list(a.columns) == ["cause", "statistic", "df", "p_value"]
    assert a["df"].tolist() == [1.0, 1.0]


def test_categorical_group_order_is_kept() -> None:
    data = _random_cohort(5)
    data["g"] = pd.Categorical(data["g"], categories=["c", "a", "b"])
    fit = cumulative_incidence(data, time="time", event="status", by="g")
    assert fit.groups == ("c", "a", "b")
    assert fit.table["group"].drop_duplicates().tolist() == ["c", "a", "b"]


def test_missing_rows_are_excluded_and_reported() -> None:
    data = _random_cohort(3)
    data.loc[[0, 5], "g"] = None
    data.loc[[7], "time"] = np.nan
    fit = cumulative_incidence(data, time="time", event="status", by="g")
    assert fit.n == len(data) - 3
    assert fit.n_excluded == 3
    assert any("'g'" in reason for reason in fit.exclusions)


def test_result_exports() -> None:
    data = _random_cohort(2)
    fit = cumulative_incidence(data, time="time", event="status", by="g")
    assert isinstance(fit, CumulativeIncidenceResult)
    frame = fit.to_frame()
    assert frame.equals(fit.table)
    assert frame is not fit.table
    ard = fit.to_ard()
    assert set(ard["analysis"]) == {"cumulative_incidence", "gray_test"}
    assert {"estimate", "variance", "statistic", "p_value"} <= set(ard["stat_name"])
    text = repr(fit)
    assert text.startswith("CumulativeIncidenceResult(groups=3")
    assert len(text) < 200
    assert fit.method.reference.startswith("cmprsk::cuminc")
    assert fit.method.options["rho"] == 0.0


# --------------------------------------------------------------------------------------
# cumulative incidence: arguments and degenerate data
# --------------------------------------------------------------------------------------


def test_confidence_level_percent_hint() -> None:
    with pytest.raises(AnalysisError, match=r"Did you mean 0\.95"):
        cumulative_incidence(TINY, time="t", event="s", confidence_level=95)


def test_missing_column_suggests_close_match() -> None:
    data = TINY.rename(columns={"s": "status"})
    with pytest.raises(AnalysisError, match="Did you mean 'status'"):
        cumulative_incidence(data, time="t", event="statu")


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("t", [1, -2, 2, 3, 4], "finite and >= 0"),
        ("s", [1, 2, 1.5, 0, 1], "0 \\(censored\\) or causes"),
        ("s", [1, 2, -1, 0, 1], "0 \\(censored\\) or causes"),
    ],
    ids=["negative-time", "fractional-code", "negative-code"],
)
def test_invalid_inputs(column: str, values: list[float], match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        cumulative_incidence(TINY.assign(**{column: values}), time="t", event="s")


@pytest.mark.parametrize("rho", [-1.0, float("nan")])
def test_invalid_rho(rho: float) -> None:
    with pytest.raises(AnalysisError, match="`rho`"):
        cumulative_incidence(TINY, time="t", event="s", rho=rho)


def test_column_argument_must_be_a_name() -> None:
    with pytest.raises(AnalysisError, match="`time` must be a column name"):
        cumulative_incidence(TINY, time=["t"], event="s")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="`by` must be a column name"):
        cumulative_incidence(TINY, time="t", event="s", by=["s"])  # type: ignore[arg-type]


def test_all_censored_is_an_error() -> None:
    with pytest.raises(DegenerateDataError, match="No events of any cause"):
        cumulative_incidence(TINY.assign(s=0), time="t", event="s")


def test_group_without_events_warns_and_is_zero() -> None:
    data = pd.concat(
        [TINY.assign(g="A"), pd.DataFrame({"t": [1.0, 5.0], "s": [0, 0], "g": "B"})],
        ignore_index=True,
    )
    with pytest.warns(DegenerateWarning, match="Group 'B' has no events"):
        fit = cumulative_incidence(data, time="t", event="s", by="g")
    assert len(fit.warnings) == 1
    assert "Group 'B'" in fit.warnings[0]
    at = fit.at([0.5, 5.0, 6.0])
    b = at[at["group"] == "B"]
    # Per cause: 0 at 0.5 and 5; NaN at 6, after B's last follow-up (5).
    np.testing.assert_array_equal(b["estimate"], [0.0, 0.0, np.nan, 0.0, 0.0, np.nan])
    assert fit.gray_test is not None


def test_group_with_only_competing_events() -> None:
    data = pd.concat(
        [TINY.assign(g="A"), pd.DataFrame({"t": [1, 2, 3], "s": [2, 2, 0], "g": "B"})],
        ignore_index=True,
    )
    fit = cumulative_incidence(data, time="t", event="s", by="g")
    b1 = fit.table[(fit.table["group"] == "B") & (fit.table["cause"] == 1)]
    assert (b1["estimate"] == 0).all()
    assert (b1["variance"] == 0).all()
    assert np.isfinite(fit.gray_test["statistic"]).all()


def test_singular_gray_variance_warns_and_gives_nan() -> None:
    data = pd.concat(
        [TINY.assign(g="A"), pd.DataFrame({"t": [0.5, 0.5], "s": [0, 0], "g": "B"})],
        ignore_index=True,
    )
    with pytest.warns(DegenerateWarning) as record:
        fit = cumulative_incidence(data, time="t", event="s", by="g")
    messages = [str(w.message) for w in record]
    assert any("variance matrix is singular" in m for m in messages)
    assert fit.gray_test["statistic"].isna().all()
    assert fit.gray_test["p_value"].isna().all()


def test_events_at_time_zero() -> None:
    data = pd.DataFrame({"t": [0, 0, 0, 1, 2, 2], "s": [1, 2, 0, 1, 0, 1]})
    fit = cumulative_incidence(data, time="t", event="s")
    first = fit.table[fit.table["time"] == 0]
    np.testing.assert_allclose(first["estimate"], [1 / 6, 1 / 6])
    at = fit.at([0.0])
    np.testing.assert_allclose(at["estimate"], [1 / 6, 1 / 6])


def test_strata_only_change_the_test() -> None:
    data = _random_cohort(9, n=120)
    data["s2"] = np.where(data["x"] > 0, "hi", "lo")
    plain = cumulative_incidence(data, time="time", event="status", by="g")
    strat = cumulative_incidence(data, time="time", event="status", by="g", strata="s2")
    pd.testing.assert_frame_equal(plain.table, strat.table)
    assert not np.allclose(plain.gray_test["statistic"], strat.gray_test["statistic"])
    assert strat.method.options["strata"] == "s2"


# --------------------------------------------------------------------------------------
# Fine–Gray
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ties", [True, False], ids=["ties", "continuous"])
def test_fine_gray_matches_naive_weight_matrix(seed: int, ties: bool) -> None:
    data = _random_cohort(seed, n=50, ties=ties)
    data["w"] = np.random.default_rng(seed + 100).normal(size=len(data))
    fit = fine_gray(data, time="time", event="status", cause=1, covariates=["x", "w"])
    status = data["status"].to_numpy()
    b, var, loglik = naive_fine_gray(data["time"].to_numpy(), status, data[["x", "w"]].to_numpy())
    np.testing.assert_allclose(fit.coef, b, rtol=1e-6)
    np.testing.assert_allclose(fit.covariance, var, rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, loglik, rtol=1e-10)
    assert fit.converged


def test_fine_gray_table_and_counts() -> None:
    data = _random_cohort(4, n=80)
    fit = fine_gray(data, time="time", event="status", cause=2, covariates=["x", "g"])
    assert isinstance(fit, FineGrayResult)
    assert list(fit.table.columns) == [
        "term",
        "coef",
        "se",
        "z",
        "hr",
        "lower",
        "upper",
        "p_value",
    ]
    assert fit.table["term"].tolist() == ["x", "g[b]", "g[c]"]
    row = fit.table.iloc[0]
    np.testing.assert_allclose(row["hr"], np.exp(row["coef"]))
    np.testing.assert_allclose(row["z"], row["coef"] / row["se"])
    np.testing.assert_allclose(row["lower"], np.exp(row["coef"] - 1.959963984540054 * row["se"]))
    np.testing.assert_allclose(row["se"], np.sqrt(fit.covariance[0, 0]))
    assert fit.n == 80
    assert fit.n_events == int((data["status"] == 2).sum())
    assert fit.n_competing == int((data["status"] == 1).sum())
    assert fit.n_censored == int((data["status"] == 0).sum())
    assert fit.cause == 2
    assert fit.loglik >= fit.loglik_null
    assert fit.to_frame().equals(fit.table)
    assert set(fit.to_ard()["stat_name"]) >= {"coef", "se", "p_value"}
    assert repr(fit).startswith("FineGrayResult(cause=2")


def test_fine_gray_invariant_to_time_scale_and_row_order() -> None:
    data = _random_cohort(6, n=70)
    base = fine_gray(data, time="time", event="status", cause=1, covariates=["x"])
    scaled = fine_gray(
        data.assign(time=data["time"] * 30.4375).sample(frac=1, random_state=1),
        time="time",
        event="status",
        cause=1,
        covariates=["x"],
    )
    np.testing.assert_allclose(base.coef, scaled.coef, rtol=1e-10)
    np.testing.assert_allclose(base.covariance, scaled.covariance, rtol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cause": 3}, DegenerateDataError, "No events of `cause` 3"),
        ({"cause": 0}, AnalysisError, "`cause` must be a positive integer"),
        ({"cause": True}, AnalysisError, "`cause` must be a positive integer"),
        ({"covariates": []}, AnalysisError, "`covariates` must name at least one"),
        ({"confidence_level": 1.0}, AnalysisError, "`confidence_level` must be in"),
        ({"covariates": ["xx"]}, AnalysisError, "Did you mean 'x'"),
    ],
    ids=["absent-cause", "cause-zero", "cause-bool", "no-covariates", "level-1", "typo"],
)
def test_fine_gray_argument_errors(kwargs: dict, error: type, match: str) -> None:
    data = _random_cohort(1)
    args = {"time": "time", "event": "status", "cause": 1, "covariates": ["x"], **kwargs}
    with pytest.raises(error, match=match):
        fine_gray(data, **args)


def test_fine_gray_single_covariate_name_as_string() -> None:
    data = _random_cohort(1)
    fit = fine_gray(data, time="time", event="status", cause=1, covariates="x")  # type: ignore[arg-type]
    assert fit.table["term"].tolist() == ["x"]


def test_fine_gray_collinear_covariates() -> None:
    data = _random_cohort(1).assign(x2=lambda d: 2 * d["x"])
    with pytest.raises(CollinearityError, match="x2"):
        fine_gray(data, time="time", event="status", cause=1, covariates=["x", "x2"])


def test_fine_gray_constant_factor() -> None:
    data = _random_cohort(1).assign(k="same")
    with pytest.raises(DegenerateDataError, match="single level"):
        fine_gray(data, time="time", event="status", cause=1, covariates=["k"])


def test_fine_gray_separation_is_named() -> None:
    data = pd.DataFrame(
        {
            "time": [1, 2, 3, 3, 4, 6, 7, 9, 2, 2, 3, 5, 6, 8, 10],
            "status": [1, 1, 2, 1, 0, 1, 2, 0, 2, 2, 0, 2, 0, 2, 0],
            "grp": ["A"] * 8 + ["B"] * 7,
        }
    )
    with pytest.raises(SeparationError, match=r"grp\[B\]"):
        fine_gray(data, time="time", event="status", cause=1, covariates=["grp"])


# --------------------------------------------------------------------------------------
# delayed entry (start=)
# --------------------------------------------------------------------------------------


def _numeric_jackknife_variance(data: pd.DataFrame, eps: float = 1e-7) -> np.ndarray:
    """Sum over rows of (dF/dw_i)^2 by finite differences of a weighted naive AJ loop."""

    def cif(w: np.ndarray) -> np.ndarray:
        t, e, s = (data[c].to_numpy(dtype=float) for c in ("time", "entry", "status"))
        out, surv, f = [], 1.0, 0.0
        for u in np.unique(t[s > 0]):
            risk = w[(e < u) & (t >= u)].sum()
            d1 = w[(t == u) & (s == 1)].sum()
            d = w[(t == u) & (s > 0)].sum()
            f += surv * d1 / risk
            surv *= 1 - d / risk
            out.append(f)
        return np.array(out)

    base = cif(np.ones(len(data)))
    infl = []
    for i in range(len(data)):
        w = np.ones(len(data))
        w[i] += eps
        infl.append((cif(w) - base) / eps)
    return np.square(np.array(infl)).sum(axis=0)


def test_entry_cif_and_variance_match_a_naive_weighted_loop() -> None:
    rng = np.random.default_rng(4)
    n = 40
    time = rng.integers(2, 12, n).astype(float)
    data = pd.DataFrame(
        {
            "time": time,
            "status": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
            "entry": np.floor(rng.uniform(0, 1, n) * time),
        }
    )
    fit = cumulative_incidence(data, time="time", event="status", start="entry")
    rows = fit.table[fit.table["cause"] == 1]
    np.testing.assert_allclose(rows["variance"], _numeric_jackknife_variance(data), rtol=1e-5)
    t, e = data["time"], data["entry"]
    n_risk = [int(((e < u) & (t >= u)).sum()) for u in rows["time"]]
    assert rows["n_risk"].tolist() == n_risk
    assert fit.method.options["variance"].startswith("infinitesimal jackknife")


def test_entry_zero_gives_cuminc_estimate() -> None:
    data = _random_cohort(5, n=80)
    data["time"] += 1.0  # entry 0 needs time > 0
    data["entry"] = 0.0
    plain = cumulative_incidence(data, time="time", event="status")
    entry = cumulative_incidence(data, time="time", event="status", start="entry")
    np.testing.assert_allclose(entry.table["estimate"], plain.table["estimate"], rtol=1e-12)
    pd.testing.assert_series_equal(entry.table["n_risk"], plain.table["n_risk"])


def test_entry_with_groups_warns_that_gray_is_not_computed() -> None:
    data = _random_cohort(6, n=60)
    data["time"] += 1.0  # entry 0 needs time > 0
    data["entry"] = 0.0
    with pytest.warns(StatisticalWarning, match="no left-truncated version"):
        fit = cumulative_incidence(data, time="time", event="status", by="g", start="entry")
    assert fit.gray_test is None
    assert len(fit.warnings) == 1


def test_entry_with_strata_is_refused() -> None:
    data = _random_cohort(7, n=30)
    data["time"] += 1.0  # entry 0 needs time > 0
    data["entry"] = 0.0
    data["s2"] = "x"
    with pytest.raises(AnalysisError, match="no delayed-entry"):
        cumulative_incidence(data, time="time", event="status", by="g", strata="s2", start="entry")


def test_entry_not_below_time_is_refused() -> None:
    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "s": [1, 2, 0], "e": [0.0, 2.0, 1.0]})
    with pytest.raises(AnalysisError, match=r"rows \[1\]"):
        cumulative_incidence(data, time="t", event="s", start="e")
