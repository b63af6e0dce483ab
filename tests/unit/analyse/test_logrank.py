"""Log-rank family: hand-worked cases, arguments, degenerate inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse.logrank import (
    LogRankResult,
    LogRankTrendResult,
    logrank_test,
    logrank_trend_test,
)
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning


@pytest.fixture
def tiny() -> pd.DataFrame:
    # A dies at 1 and 3; B dies at 2 and is censored at 4.
    return pd.DataFrame({"t": [1, 3, 2, 4], "e": [1, 1, 1, 0], "arm": ["A", "A", "B", "B"]})


def test_hand_worked_logrank(tiny: pd.DataFrame) -> None:
    # t=1: n 4 (A 2), d 1 -> E_A 1/2, V 1*3/(4*3) * 2 * (1 - 2/4) = 1/4
    # t=2: n 3 (A 1), d 1 -> E_A 1/3, V 1*2/(3*2) * 1 * (1 - 1/3) = 2/9
    # t=3: n 2 (A 1), d 1 -> E_A 1/2, V 1*1/(2*1) * 1 * (1 - 1/2) = 1/4
    res = logrank_test(tiny, time="t", event="e", by="arm")
    assert isinstance(res, LogRankResult)
    np.testing.assert_allclose(res.observed, [2, 1])
    np.testing.assert_allclose(res.expected, [4 / 3, 5 / 3], rtol=1e-14)
    v = 1 / 4 + 2 / 9 + 1 / 4
    np.testing.assert_allclose(res.variance, [[v, -v], [-v, v]], rtol=1e-14)
    assert res.statistic == pytest.approx(8 / 13, rel=1e-14)
    assert res.df == 1
    assert res.p_value == pytest.approx(stats.chi2.sf(8 / 13, 1), rel=1e-14)
    assert res.n == 4
    assert res.n_events == 3
    assert res.table["n_events"].tolist() == [2, 1]


def test_hand_worked_peto_peto(tiny: pd.DataFrame) -> None:
    # weights S(t-) of the pooled KM: 1, 3/4, 1/2
    res = logrank_test(tiny, time="t", event="e", by="arm", rho=1)
    np.testing.assert_allclose(res.observed, [1.5, 0.75], rtol=1e-14)
    np.testing.assert_allclose(res.expected[0], 1.0, rtol=1e-14)
    assert res.variance[0, 0] == pytest.approx(0.25 + 0.125 + 0.0625, rel=1e-14)
    assert res.statistic == pytest.approx(4 / 7, rel=1e-14)
    assert res.method.estimator.startswith("Peto-Peto")


def test_stratified_sums_strata() -> None:
    rng = np.random.default_rng(3)
    n = 80
    d = pd.DataFrame(
        {
            "t": rng.integers(1, 10, n),
            "e": rng.integers(0, 2, n),
            "arm": rng.choice(["a", "b", "c"], n),
            "site": rng.choice(["x", "y"], n),
        }
    )
    full = logrank_test(d, time="t", event="e", by="arm", strata="site")
    parts = [logrank_test(g, time="t", event="e", by="arm") for _, g in d.groupby("site")]
    np.testing.assert_allclose(full.observed, sum(p.observed for p in parts))
    np.testing.assert_allclose(full.expected, sum(p.expected for p in parts))
    np.testing.assert_allclose(full.variance, sum(p.variance for p in parts), atol=1e-12)
    assert full.strata == ("x", "y")
    assert full.method.options["strata"] == "site"


def test_group_order_follows_categorical(tiny: pd.DataFrame) -> None:
    d = tiny.assign(arm=pd.Categorical(tiny["arm"], categories=["B", "A"]))
    res = logrank_test(d, time="t", event="e", by="arm")
    assert res.groups == ("B", "A")
    np.testing.assert_allclose(res.observed, [1, 2])
    assert res.statistic == pytest.approx(8 / 13, rel=1e-14)


def test_trend_with_two_groups_equals_logrank(tiny: pd.DataFrame) -> None:
    trend = logrank_trend_test(tiny, time="t", event="e", by="arm")
    assert isinstance(trend, LogRankTrendResult)
    assert trend.statistic == pytest.approx(8 / 13, rel=1e-14)
    assert trend.df == 1
    assert trend.scores == (1.0, 2.0)
    # B (score 2) has fewer deaths than expected
    assert trend.z < 0
    assert trend.score_statistic == pytest.approx(1 - 5 / 3, rel=1e-14)


def _three_groups() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 90
    dose = rng.choice([1, 2, 3], n)
    t = np.ceil(rng.exponential(10 / dose))
    return pd.DataFrame({"t": t, "e": (rng.random(n) < 0.8).astype(int), "dose": dose})


def test_trend_invariant_to_affine_scores() -> None:
    d = _three_groups()
    base = logrank_trend_test(d, time="t", event="e", by="dose")
    shifted = logrank_trend_test(d, time="t", event="e", by="dose", scores=[10, 15, 20])
    flipped = logrank_trend_test(d, time="t", event="e", by="dose", scores={1: 3, 2: 2, 3: 1})
    assert shifted.statistic == pytest.approx(base.statistic, rel=1e-12)
    assert flipped.statistic == pytest.approx(base.statistic, rel=1e-12)
    assert flipped.z == pytest.approx(-base.z, rel=1e-12)
    assert base.z > 0  # higher dose, shorter times
    assert base.table["score"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("scores", "match"),
    [
        ([1, 2], "has 2 value\\(s\\) but `by` has 3"),
        ({1: 0, 2: 1}, "no score for group\\(s\\) \\[3\\]"),
        ([1, 1, 1], "all equal"),
        ([1, np.inf, 3], "finite"),
        (["a", "b", "c"], "must be numbers"),
        ("123", "must be numbers"),
    ],
)
def test_trend_score_errors(scores: object, match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        logrank_trend_test(
            _three_groups(),
            time="t",
            event="e",
            by="dose",
            scores=scores,  # type: ignore[arg-type]
        )


def test_results_frames_ard_repr_frozen(tiny: pd.DataFrame) -> None:
    res = logrank_test(tiny, time="t", event="e", by="arm")
    assert list(res.to_frame().columns) == [
        "group",
        "n",
        "n_events",
        "observed",
        "expected",
        "o_minus_e",
        "variance",
    ]
    ard = res.to_ard()
    assert ard.loc[ard["stat_name"] == "statistic", "stat_value"].iloc[0] == pytest.approx(8 / 13)
    assert "df=1" in repr(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.df = 2  # type: ignore[misc]
    trend = logrank_trend_test(tiny, time="t", event="e", by="arm")
    assert "z" in set(trend.to_ard()["stat_name"])
    assert "score" in trend.to_frame().columns
    assert repr(trend).startswith("LogRankTrendResult(")


def test_one_group_is_degenerate(tiny: pd.DataFrame) -> None:
    with pytest.raises(DegenerateDataError, match="at least 2"):
        logrank_test(tiny.assign(arm="A"), time="t", event="e", by="arm")
    with pytest.raises(DegenerateDataError, match="at least 2"):
        logrank_trend_test(tiny.assign(arm="A"), time="t", event="e", by="arm")


def test_no_events_is_degenerate(tiny: pd.DataFrame) -> None:
    with pytest.raises(DegenerateDataError, match="No events"):
        logrank_test(tiny.assign(e=0), time="t", event="e", by="arm")


def test_group_without_events_warns(tiny: pd.DataFrame) -> None:
    d = tiny.assign(e=[1, 1, 0, 0])
    with pytest.warns(DegenerateWarning, match="Group 'B' has no events"):
        res = logrank_test(d, time="t", event="e", by="arm")
    assert res.warnings == ("Group 'B' has no events.",)
    assert res.df == 1


def test_group_never_at_risk_is_dropped_with_warning() -> None:
    d = pd.DataFrame(
        {
            "t": [5, 6, 7, 8, 1, 2, 6, 9],
            "e": [1, 1, 0, 1, 0, 0, 1, 0],
            "g": ["a", "a", "a", "a", "z", "z", "b", "b"],
        }
    )
    with pytest.warns(DegenerateWarning, match="Group 'z' has nobody at risk"):
        res = logrank_test(d, time="t", event="e", by="g")
    assert res.df == 1
    assert res.expected[2] == 0


def test_only_one_group_at_risk_is_degenerate() -> None:
    d = pd.DataFrame({"t": [5, 6, 1, 2], "e": [1, 1, 0, 0], "g": ["a", "a", "z", "z"]})
    with (
        pytest.warns(DegenerateWarning, match="nobody at risk"),
        pytest.raises(DegenerateDataError, match="Fewer than two groups"),
    ):
        logrank_test(d, time="t", event="e", by="g")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rho": "1"}, "`rho` must be a number"),
        ({"rho": float("nan")}, "`rho` must be finite"),
        ({"strata": "arm"}, "`strata` and `by` are the same column"),
        ({"strata": "site"}, "`strata` column 'site' is not in the data"),
        ({"by": "arms"}, "Did you mean 'arm'"),
        ({"by": None}, "`by` must be the name of one column"),
    ],
)
def test_argument_errors(tiny: pd.DataFrame, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"time": "t", "event": "e", "by": "arm", **kwargs}
    with pytest.raises(AnalysisError, match=match):
        logrank_test(tiny, **args)  # type: ignore[arg-type]


def test_missing_rows_reported(tiny: pd.DataFrame) -> None:
    d = pd.concat([tiny, pd.DataFrame({"t": [2], "e": [1], "arm": [None]})], ignore_index=True)
    res = logrank_test(d, time="t", event="e", by="arm")
    assert res.n_excluded == 1
    assert res.exclusions == ("1 row(s) with missing 'arm'",)
    assert res.statistic == pytest.approx(8 / 13, rel=1e-14)


def test_variance_singular_up_to_rounding_is_refused_as_r_does() -> None:
    # Found by Hypothesis on numpy 1.24: stratum s1 holds only g0 (one patient), stratum s2
    # holds g1 and g2, so the variance matrix of g1 and g2 has rank 1. Its rounding left it
    # invertible for numpy, which returned chi-square 0.667 on 2 df. R 4.x, survival 3.5-3:
    #   survdiff(Surv(time, event) ~ group + strata(st)) -> "system is computationally
    #   singular: reciprocal condition number = 2.89121e-17".
    frame = pd.DataFrame(
        {
            "time": [1, 1, 1, 1, 1, 1],
            "event": [0, 0, 1, 1, 0, 0],
            "group": ["g1", "g1", "g0", "g1", "g2", "g2"],
            "st": ["s2", "s2", "s1", "s2", "s2", "s2"],
        }
    )
    with pytest.warns(DegenerateWarning), pytest.raises(DegenerateDataError, match="singular"):
        logrank_test(frame, time="time", event="event", by="group", strata="st")
