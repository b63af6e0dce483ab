"""Unit tests for cox_ph and CoxResult.check_ph.

Hand-worked small cases with closed-form answers, naive loop-based reference
implementations (partial likelihood, concordance, cox.zph) run on random data with fixed
seeds, argument errors and degenerate inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from cartcohort.analyse import cox as cox_module
from cartcohort.analyse.cox import Concordance, CoxResult, PHTestResult, cox_ph
from cartcohort.errors import (
    AnalysisError,
    CollinearityError,
    ConvergenceError,
    DegenerateDataError,
    StatisticalWarning,
)

# --------------------------------------------------------------------------------------
# Naive reference implementations: plain loops over strata and distinct death times.
# --------------------------------------------------------------------------------------


def naive_loglik(t, e, x, beta, strata, ties):
    eta = x @ beta
    r = np.exp(eta)
    total = 0.0
    for s in np.unique(strata):
        ins = strata == s
        for tt in np.unique(t[ins & e]):
            dead = ins & e & (t == tt)
            risk = ins & (t >= tt)
            d = int(dead.sum())
            total += eta[dead].sum()
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                total -= math.log(r[risk].sum() - f * r[dead].sum())
    return total


def naive_risk_terms(t, e, x, beta, strata, ties):
    """Per distinct death time: (time, sum of x over deaths, [(xbar_k, V_k)])."""
    r = np.exp(x @ beta)
    out = []
    for s in np.unique(strata):
        ins = strata == s
        for tt in np.unique(t[ins & e]):
            dead = ins & e & (t == tt)
            risk = ins & (t >= tt)
            d = int(dead.sum())
            terms = []
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                w = r * risk - f * r * dead
                xbar = (w @ x) / w.sum()
                centred = x - xbar
                terms.append((xbar, (centred * w[:, None]).T @ centred / w.sum()))
            out.append((tt, x[dead].sum(axis=0), terms))
    return out


def naive_km_before(t, e):
    """1 - KM(t-) for every row, from a loop over distinct times."""
    surv, before = 1.0, {}
    for u in np.unique(t):
        before[u] = surv
        surv *= 1 - (e & (t == u)).sum() / (t >= u).sum()
    return np.array([1 - before[v] for v in t])


def naive_zph(t, e, x, beta, strata, ties, transform, groups):
    if transform == "km":
        g_all = naive_km_before(t, e)
    elif transform == "rank":
        g_all = stats.rankdata(t)
    else:
        g_all = t.astype(float)
    g_all = g_all - g_all[e].mean()
    p = x.shape[1]
    u = np.zeros(p)
    imat = np.zeros((2 * p, 2 * p))
    for tt, xsum, terms in naive_risk_terms(t, e, x, beta, strata, ties):
        g = g_all[t == tt][0]
        for xbar, v in terms:
            u += g * (-xbar)
            imat[:p, :p] += v
            imat[:p, p:] += g * v
            imat[p:, :p] += g * v
            imat[p:, p:] += g * g * v
        u += g * xsum
    rows = []
    for cols in [*groups, list(range(p))]:
        kk = list(range(p)) + [p + j for j in cols]
        vec = np.concatenate([np.zeros(p), u[cols]])
        rows.append(float(vec @ np.linalg.solve(imat[np.ix_(kk, kk)], vec)))
    return np.array(rows)


def naive_concordance(t, e, strata, lp):
    conc = disc = tied = 0
    for i in range(t.size):
        if not e[i]:
            continue
        for j in range(t.size):
            if j == i or strata[j] != strata[i]:
                continue
            if t[j] > t[i] or (t[j] == t[i] and not e[j]):
                conc += lp[i] > lp[j]
                disc += lp[i] < lp[j]
                tied += lp[i] == lp[j]
    return (conc + tied / 2) / (conc + disc + tied), conc, disc, tied


def random_frame(seed: int, n: int = 60, *, ties: bool = True, strata: bool = False):
    rng = np.random.default_rng(seed)
    x1 = rng.standard_normal(n)
    x2 = rng.integers(0, 2, n)
    raw = rng.exponential(np.exp(-0.5 * x1 + 0.4 * x2))
    time = np.round(raw * 5) if ties else raw
    frame = pd.DataFrame(
        {
            "time": time,
            "event": rng.random(n) < 0.75,
            "x1": x1,
            "x2": x2,
            "grp": rng.choice(["a", "b", "c"], n),
        }
    )
    if strata:
        frame["site"] = rng.choice(["s1", "s2", "s3"], n)
    return frame


def design(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [
            frame["x1"],
            frame["x2"],
            (frame["grp"] == "b").astype(float),
            (frame["grp"] == "c").astype(float),
        ]
    )


# --------------------------------------------------------------------------------------
# Hand-worked cases
# --------------------------------------------------------------------------------------

THREE = pd.DataFrame({"time": [1, 2, 3], "event": [1, 1, 1], "x": [1.0, 0.0, 1.0]})


def test_three_subjects_closed_form() -> None:
    # L(b) = e^b/(2e^b + 1) * 1/(1 + e^b); dlogL/db = 0 at e^b = 1/sqrt(2).
    fit = cox_ph(THREE, time="time", event="event", covariates=["x"])
    u = 1 / math.sqrt(2)
    np.testing.assert_allclose(fit.table["coef"].iloc[0], -math.log(2) / 2, rtol=1e-8)
    np.testing.assert_allclose(fit.loglik[0], -math.log(6), rtol=1e-12)
    loglik_hat = math.log(u) - math.log(2 * u + 1) - math.log(1 + u)
    np.testing.assert_allclose(fit.loglik[1], loglik_hat, rtol=1e-12)
    # U(0) = 1 - 2/3 - 1/2 = -1/6; I(0) = 2/9 + 1/4 = 17/36; score = U^2/I = 1/17.
    np.testing.assert_allclose(fit.score_test.statistic, 1 / 17, rtol=1e-12)
    np.testing.assert_allclose(fit.lr_test.statistic, 2 * (loglik_hat + math.log(6)), rtol=1e-10)
    # I(b) = 2u/(2u+1)^2 + u/(1+u)^2 at the estimate.
    info = 2 * u / (2 * u + 1) ** 2 + u / (1 + u) ** 2
    np.testing.assert_allclose(fit.table["se"].iloc[0], 1 / math.sqrt(info), rtol=1e-8)


def test_tied_deaths_null_loglik_by_hand() -> None:
    # Two deaths at t=1 (x = 1, 0), one censored at t=2: at beta = 0 the risk set is 3.
    frame = pd.DataFrame({"time": [1, 1, 2], "event": [1, 1, 0], "x": [1.0, 0.0, 0.0]})
    efron = cox_ph(frame, time="time", event="event", covariates=["x"])
    breslow = cox_ph(frame, time="time", event="event", covariates=["x"], ties="breslow")
    np.testing.assert_allclose(efron.loglik[0], -math.log(3) - math.log(2), rtol=1e-12)
    np.testing.assert_allclose(breslow.loglik[0], -2 * math.log(3), rtol=1e-12)


def test_events_at_time_zero_use_everyone_at_risk() -> None:
    frame = pd.DataFrame({"time": [0, 1, 2, 3], "event": [1, 1, 0, 1], "x": [2.0, 0.5, 1.0, 0.0]})
    fit = cox_ph(frame, time="time", event="event", covariates=["x"])
    np.testing.assert_allclose(fit.loglik[0], -math.log(4) - math.log(3) - 0.0, rtol=1e-12)


# --------------------------------------------------------------------------------------
# Against naive implementations on random data
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("stratified", [False, True])
def test_fit_maximises_naive_partial_likelihood(ties: str, seed: int, stratified: bool) -> None:
    frame = random_frame(seed, strata=stratified)
    fit = cox_ph(
        frame,
        time="time",
        event="event",
        covariates=["x1", "x2", "grp"],
        strata="site" if stratified else None,
        ties=ties,
    )
    t = frame["time"].to_numpy()
    e = frame["event"].to_numpy()
    x = design(frame)
    strata = frame["site"].to_numpy() if stratified else np.zeros(len(frame))
    beta = fit.table["coef"].to_numpy()
    np.testing.assert_allclose(fit.loglik[1], naive_loglik(t, e, x, beta, strata, ties), rtol=1e-12)
    np.testing.assert_allclose(
        fit.loglik[0], naive_loglik(t, e, x, np.zeros(4), strata, ties), rtol=1e-12
    )
    best = optimize.minimize(
        lambda b: -naive_loglik(t, e, x, b, strata, ties),
        np.zeros(4),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    np.testing.assert_allclose(beta, best.x, rtol=1e-4, atol=1e-5)
    # Standard errors: inverse of the naive information at the estimate.
    info = sum(v for _, _, terms in naive_risk_terms(t, e, x, beta, strata, ties) for _, v in terms)
    np.testing.assert_allclose(fit.covariance, np.linalg.inv(info), rtol=1e-8)
    np.testing.assert_allclose(fit.table["se"], np.sqrt(np.diag(np.linalg.inv(info))), rtol=1e-8)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
@pytest.mark.parametrize("stratified", [False, True])
def test_concordance_matches_naive_pair_count(seed: int, stratified: bool) -> None:
    frame = random_frame(seed, n=50, strata=stratified)
    fit = cox_ph(
        frame,
        time="time",
        event="event",
        covariates=["x2", "grp"],  # discrete covariates: many ties in the linear predictor
        strata="site" if stratified else None,
    )
    x = design(frame)[:, 1:]
    lp = x @ fit.table["coef"].to_numpy()
    strata = frame["site"].to_numpy() if stratified else np.zeros(len(frame))
    est, conc, disc, tied = naive_concordance(
        frame["time"].to_numpy(), frame["event"].to_numpy(), strata, np.round(lp, 12)
    )
    c = fit.concordance
    assert (c.concordant, c.discordant, c.tied_x) == (conc, disc, tied)
    np.testing.assert_allclose(c.estimate, est, rtol=1e-12)
    assert 0 < c.std_err < 0.5


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("transform", ["km", "rank", "identity"])
@pytest.mark.parametrize("stratified", [False, True])
def test_check_ph_matches_naive_score_test(ties: str, transform: str, stratified: bool) -> None:
    frame = random_frame(7, strata=stratified)
    fit = cox_ph(
        frame,
        time="time",
        event="event",
        covariates=["x1", "x2", "grp"],
        strata="site" if stratified else None,
        ties=ties,
    )
    t = frame["time"].to_numpy()
    e = frame["event"].to_numpy()
    strata = frame["site"].to_numpy() if stratified else np.zeros(len(frame))
    beta = fit.table["coef"].to_numpy()
    expected = naive_zph(t, e, design(frame), beta, strata, ties, transform, [[0], [1], [2, 3]])
    result = fit.check_ph(transform)
    assert list(result.table["term"]) == ["x1", "x2", "grp", "GLOBAL"]
    assert list(result.table["df"]) == [1, 1, 2, 4]
    np.testing.assert_allclose(result.table["statistic"], expected, rtol=1e-9)
    per_term = fit.check_ph(transform, per_term=True)
    assert list(per_term.table["term"]) == ["x1", "x2", "grp[b]", "grp[c]", "GLOBAL"]
    expected = naive_zph(t, e, design(frame), beta, strata, ties, transform, [[0], [1], [2], [3]])
    np.testing.assert_allclose(per_term.table["statistic"], expected, rtol=1e-9)


# --------------------------------------------------------------------------------------
# Result structure
# --------------------------------------------------------------------------------------


def test_result_structure_and_exports() -> None:
    frame = random_frame(8)
    frame.loc[[0, 1], "x1"] = np.nan
    fit = cox_ph(frame, time="time", event="event", covariates=["x1", "grp"])
    assert isinstance(fit, CoxResult)
    assert fit.n == len(frame) - 2
    assert fit.n_excluded == 2
    assert fit.exclusions == ("2 row(s) with missing 'x1'",)
    assert fit.terms == ("x1", "grp[b]", "grp[c]")
    assert list(fit.to_frame().columns) == [
        "term",
        "coef",
        "se",
        "hr",
        "lower",
        "upper",
        "z",
        "p_value",
    ]
    assert isinstance(fit.concordance, Concordance)
    assert fit.method.options["ties"] == "efron"
    assert fit.warnings == ()
    ard = fit.to_ard()
    assert set(ard.columns) == {"analysis", "term", "stat_name", "stat_value"}
    model = ard[ard["term"] == "(model)"].set_index("stat_name")["stat_value"]
    assert model["score_statistic"] == fit.score_test.statistic
    assert model["concordance"] == fit.concordance.estimate
    assert len(ard) == 3 * 7 + len(model)
    text = repr(fit)
    assert text.startswith("CoxResult(n=58, n_events=")
    assert len(text) < 200


def test_confidence_level_changes_only_the_interval() -> None:
    frame = random_frame(9)
    f95 = cox_ph(frame, time="time", event="event", covariates=["x1"])
    f90 = cox_ph(frame, time="time", event="event", covariates=["x1"], confidence_level=0.9)
    z = stats.norm.ppf(0.95)
    coef, se = f90.table["coef"].iloc[0], f90.table["se"].iloc[0]
    np.testing.assert_allclose(f90.table["lower"].iloc[0], math.exp(coef - z * se), rtol=1e-12)
    assert f90.table["lower"].iloc[0] > f95.table["lower"].iloc[0]
    assert f90.table["coef"].iloc[0] == f95.table["coef"].iloc[0]


def test_factor_coding_follows_categorical_order_and_booleans() -> None:
    frame = random_frame(10)
    frame["grp"] = pd.Categorical(frame["grp"], categories=["c", "a", "b"])
    frame["flag"] = frame["x2"] == 1
    fit = cox_ph(frame, time="time", event="event", covariates=["grp", "flag"])
    assert fit.terms == ("grp[a]", "grp[b]", "flag[True]")


def test_check_ph_result_structure() -> None:
    fit = cox_ph(random_frame(11), time="time", event="event", covariates=["x1", "grp"])
    result = fit.check_ph()
    assert isinstance(result, PHTestResult)
    assert result.transform == "km"
    assert result.global_test.df == 3
    assert result.global_test.statistic == result.table["statistic"].iloc[-1]
    assert list(result.to_frame().columns) == ["term", "statistic", "df", "p_value"]
    assert len(result.to_ard()) == 3 * 3  # (x1, grp, GLOBAL) x (statistic, df, p_value)
    assert repr(result).startswith("PHTestResult(transform='km', rows=2, global=")


# --------------------------------------------------------------------------------------
# Argument errors
# --------------------------------------------------------------------------------------

SMALL = random_frame(12, n=20)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"confidence_level": 95}, r"must be in \(0, 1\); got 95. Did you mean 0.95\?"),
        ({"confidence_level": 0}, r"must be in \(0, 1\)"),
        ({"confidence_level": True}, r"must be in \(0, 1\)"),
        ({"ties": "exact"}, "`ties` must be 'efron'"),
        ({"covariates": "x1"}, r"Did you mean \['x1'\]\?"),
        ({"covariates": []}, "at least one covariate"),
        ({"covariates": ["x1", 3]}, "list of column names"),
        ({"covariates": ["x11"]}, "Did you mean 'x1'"),
        ({"time": "tme"}, "Did you mean 'time'"),
        ({"strata": "sight"}, "`strata` column 'sight'"),
        ({"strata": ["grp", 1]}, "`strata` must be a column name"),
    ],
)
def test_argument_errors_name_the_argument(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"time": "time", "event": "event", "covariates": ["x1"]}
    args.update(kwargs)
    with pytest.raises(AnalysisError, match=match):
        cox_ph(SMALL, **args)  # type: ignore[arg-type]


def test_check_ph_argument_errors() -> None:
    fit = cox_ph(SMALL, time="time", event="event", covariates=["x1"])
    with pytest.raises(AnalysisError, match="`transform` must be one of"):
        fit.check_ph("loglog")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="`per_term` must be True or False"):
        fit.check_ph("km", per_term="yes")  # type: ignore[arg-type]
    zero = SMALL.assign(time=SMALL["time"].where(SMALL.index != 3, 0.0))
    fit0 = cox_ph(zero, time="time", event="event", covariates=["x1"])
    with pytest.raises(AnalysisError, match="transform='log'` needs positive times"):
        fit0.check_ph("log")


# --------------------------------------------------------------------------------------
# Degenerate inputs
# --------------------------------------------------------------------------------------


def test_no_events_is_a_named_error() -> None:
    with pytest.raises(DegenerateDataError, match="No events among the 20 complete rows"):
        cox_ph(SMALL.assign(event=False), time="time", event="event", covariates=["x1"])


def test_collinear_covariates_are_named() -> None:
    frame = SMALL.assign(x3=2 * SMALL["x1"])
    with pytest.raises(CollinearityError, match=r"collinear: x1, x3 are linearly dependent"):
        cox_ph(frame, time="time", event="event", covariates=["x1", "x3"])


def test_covariates_collinear_up_to_a_constant_are_named() -> None:
    # Not collinear as columns, but a Cox model has no intercept to tell them apart.
    frame = SMALL.assign(x3=2 * SMALL["x1"] + 1)
    with pytest.raises(CollinearityError, match="no information: x3 is constant or collinear"):
        cox_ph(frame, time="time", event="event", covariates=["x1", "x3"])


def test_constant_covariate_is_named() -> None:
    with pytest.raises(CollinearityError, match="const"):
        cox_ph(SMALL.assign(const=1.0), time="time", event="event", covariates=["x1", "const"])


def test_covariate_constant_within_strata_is_named() -> None:
    frame = random_frame(13, strata=True)
    frame["site_score"] = frame["site"].map({"s1": 1.0, "s2": 5.0, "s3": -2.0})
    with pytest.raises(CollinearityError, match="no information within strata: site_score"):
        cox_ph(frame, time="time", event="event", covariates=["x1", "site_score"], strata="site")


def test_single_level_factor_is_a_named_error() -> None:
    with pytest.raises(DegenerateDataError, match="'grp' has a single level"):
        cox_ph(SMALL.assign(grp="a"), time="time", event="event", covariates=["grp"])


def test_monotone_likelihood_warns_naming_the_term() -> None:
    frame = pd.DataFrame(
        {
            "time": [1, 2, 3, 4, 5, 6, 7, 8],
            "event": [1, 1, 1, 1, 0, 0, 0, 0],
            "sep": [1, 1, 1, 1, 0, 0, 0, 0],
            "x": [0.3, -0.2, 0.5, 0.1, 0.9, -0.4, 0.2, -0.7],
        }
    )
    with pytest.warns(StatisticalWarning, match="'sep' may be infinite") as record:
        fit = cox_ph(frame, time="time", event="event", covariates=["sep", "x"])
    assert len(record) == 1
    assert fit.warnings == (str(record[0].message),)
    assert not fit.converged  # R: "Ran out of iterations and did not converge"


def test_non_convergence_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cox_module, "ITER_MAX", 1)
    monkeypatch.setattr(cox_module, "_infinite_terms", lambda *args: [])
    with pytest.raises(ConvergenceError, match="did not converge in 1 Newton-Raphson"):
        cox_ph(random_frame(14), time="time", event="event", covariates=["x1", "x2", "grp"])


def test_check_ph_with_one_event_time_is_a_named_error() -> None:
    frame = pd.DataFrame(
        {
            "time": [2, 2, 3, 4, 5, 6],
            "event": [1, 1, 0, 0, 0, 0],
            "x": [0.5, 0.1, 0.4, 0.2, 0.9, 0.3],
        }
    )
    fit = cox_ph(frame, time="time", event="event", covariates=["x"])
    with pytest.raises(DegenerateDataError, match="two or more distinct times"):
        fit.check_ph("km")


def test_single_event_is_fitted() -> None:
    frame = pd.DataFrame({"time": [1, 2, 3, 4], "event": [0, 1, 0, 0], "x": [0.1, 0.4, 0.3, 0.9]})
    fit = cox_ph(frame, time="time", event="event", covariates=["x"])
    assert fit.n_events == 1
    assert np.isfinite(fit.table["coef"].iloc[0])
