"""Kaplan–Meier and median follow-up: hand-worked cases, arguments, degenerate inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse.km import (
    FollowUpResult,
    KaplanMeierResult,
    kaplan_meier,
    median_follow_up,
    r_quantile_time,
)
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

Z95 = float(stats.norm.ppf(0.975))


@pytest.fixture
def small() -> pd.DataFrame:
    # Hand-worked: t=5 (n 5, d 1), t=8 (n 4, d 1, c 1), t=12 (n 2, d 1), t=20 (n 1, c 1)
    return pd.DataFrame({"days": [5, 8, 8, 12, 20], "died": [1, 1, 0, 1, 0]})


def test_small_case_product_limit_and_greenwood(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died", ci_method="log")
    t = fit.table
    assert list(t.columns) == [
        "group",
        "time",
        "n_risk",
        "n_event",
        "n_censor",
        "estimate",
        "std_err",
        "lower",
        "upper",
    ]
    assert t["time"].tolist() == [5, 8, 12, 20]
    assert t["n_risk"].tolist() == [5, 4, 2, 1]
    assert t["n_event"].tolist() == [1, 1, 1, 0]
    assert t["n_censor"].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(t["estimate"], [0.8, 0.6, 0.3, 0.3], rtol=1e-12)
    var_log = np.cumsum([1 / (5 * 4), 1 / (4 * 3), 1 / (2 * 1), 0.0])
    np.testing.assert_allclose(t["std_err"], t["estimate"] * np.sqrt(var_log), rtol=1e-12)
    np.testing.assert_allclose(
        t["lower"], t["estimate"] * np.exp(-Z95 * np.sqrt(var_log)), rtol=1e-12
    )
    assert (t["upper"] <= 1).all()
    assert (t["group"] == "all").all()


def test_log_log_interval_formula(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died")
    s, se = 0.8, math.sqrt(1 / 20)
    lo = s ** math.exp(-Z95 * se / math.log(s))
    hi = s ** math.exp(Z95 * se / math.log(s))
    row = fit.table.iloc[0]
    assert row["lower"] == pytest.approx(min(lo, hi), rel=1e-12)
    assert row["upper"] == pytest.approx(max(lo, hi), rel=1e-12)


def test_plain_interval_is_clipped(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died", ci_method="plain")
    t = fit.table
    assert (t["lower"] >= 0).all()
    assert (t["upper"] <= 1).all()
    half = Z95 * t["std_err"].iloc[2]
    assert t["lower"].iloc[2] == pytest.approx(max(0.3 - half, 0.0), rel=1e-12)


def test_default_is_log_log_and_recorded(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died")
    assert fit.ci_method == "log-log"
    assert fit.method.options["ci_method"] == "log-log"
    assert fit.method.options["r_default_ci_method"] == "log"
    assert fit.confidence_level == 0.95


def test_median_hand_case(small: pd.DataFrame) -> None:
    med = kaplan_meier(small, time="days", event="died").median
    assert med["estimate"].tolist() == [12.0]
    assert med["n"].tolist() == [5]
    assert med["n_events"].tolist() == [3]
    assert med["reached"].tolist() == [True]


def test_median_flat_at_half_is_midpoint() -> None:
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 0, 1, 0]})
    assert kaplan_meier(d, time="t", event="e").median["estimate"].iloc[0] == 4.0


def test_median_ending_flat_at_half_uses_last_time() -> None:
    d = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 0]})
    assert kaplan_meier(d, time="t", event="e").median["estimate"].iloc[0] == 3.0


def test_median_not_reached_is_nan_with_flag() -> None:
    d = pd.DataFrame({"t": [2, 3, 5, 8, 10], "e": [1, 0, 0, 0, 0]})
    med = kaplan_meier(d, time="t", event="e").median
    assert math.isnan(med["estimate"].iloc[0])
    assert not med["reached"].iloc[0]
    assert "NR" in repr(kaplan_meier(d, time="t", event="e"))


def test_r_quantile_time_skips_nan_points() -> None:
    times = np.array([1.0, 2.0, 3.0])
    assert r_quantile_time(times, np.array([np.nan, 0.4, np.nan])) == 2.0
    assert math.isnan(r_quantile_time(times, np.array([np.nan, np.nan, np.nan])))


def test_everyone_dies_gives_nan_se_and_limits_at_zero() -> None:
    d = pd.DataFrame({"t": [1, 2, 3], "e": [1, 1, 1]})
    for ci in ("log", "log-log", "plain"):
        last = kaplan_meier(d, time="t", event="e", ci_method=ci).table.iloc[-1]
        assert last["estimate"] == 0.0
        assert math.isnan(last["std_err"])
        assert math.isnan(last["lower"])
        assert math.isnan(last["upper"])


def test_log_log_limits_undefined_while_curve_is_one() -> None:
    d = pd.DataFrame({"t": [1, 2, 3], "e": [0, 1, 0]})
    first = kaplan_meier(d, time="t", event="e").table.iloc[0]
    assert first["estimate"] == 1.0
    assert math.isnan(first["lower"])
    assert math.isnan(first["upper"])


def test_groups_follow_categorical_order_else_sorted() -> None:
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1]})
    d["arm"] = ["soc", "soc", "car-t", "car-t", "soc", "car-t"]
    assert kaplan_meier(d, time="t", event="e", by="arm").groups == ("car-t", "soc")
    d["arm"] = pd.Categorical(d["arm"], categories=["soc", "car-t", "unused"])
    fit = kaplan_meier(d, time="t", event="e", by="arm")
    assert fit.groups == ("soc", "car-t")
    assert fit.table["group"].drop_duplicates().tolist() == ["soc", "car-t"]
    assert fit.median["n"].tolist() == [3, 3]


def test_missing_rows_are_excluded_and_reported() -> None:
    d = pd.DataFrame({"t": [1, 2, np.nan, 4], "e": [1, 1, 1, None], "g": ["a", "b", "a", "b"]})
    fit = kaplan_meier(d, time="t", event="e", by="g")
    assert fit.n == 2
    assert fit.n_excluded == 2
    assert len(fit.exclusions) == 2


def test_at_follows_r_summary_times(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died", ci_method="log")
    at = fit.at([30, 0, 8, 10])  # unsorted; 30 is after the last time and is dropped
    assert at["time"].tolist() == [0, 8, 10]
    assert at["n_risk"].tolist() == [5, 4, 2]
    assert at["n_event"].tolist() == [0, 2, 0]
    assert at["n_censor"].tolist() == [0, 1, 0]
    np.testing.assert_allclose(at["estimate"], [1.0, 0.6, 0.6])
    assert at.iloc[0][["std_err", "lower", "upper"]].tolist() == [0.0, 1.0, 1.0]
    assert fit.at(12.0)["estimate"].tolist() == [pytest.approx(0.3)]


def test_at_group_without_times_has_no_rows() -> None:
    d = pd.DataFrame({"t": [1, 2, 10, 20], "e": [1, 1, 1, 0], "g": ["a", "a", "b", "b"]})
    at = kaplan_meier(d, time="t", event="e", by="g").at([15])
    assert at["group"].tolist() == ["b"]
    assert kaplan_meier(d, time="t", event="e", by="g").at([50]).empty


@pytest.mark.parametrize("bad", [-1, [1, np.nan], [], [[1, 2]], "soon"])
def test_at_rejects_bad_times(small: pd.DataFrame, bad: object) -> None:
    fit = kaplan_meier(small, time="days", event="died")
    with pytest.raises(AnalysisError, match="`times`"):
        fit.at(bad)  # type: ignore[arg-type]


def test_frames_ard_repr_and_frozen(small: pd.DataFrame) -> None:
    fit = kaplan_meier(small, time="days", event="died")
    assert isinstance(fit, KaplanMeierResult)
    pd.testing.assert_frame_equal(fit.to_frame(), fit.table)
    ard = fit.to_ard()
    assert set(ard["analysis"]) == {"kaplan_meier", "kaplan_meier_median"}
    assert {"stat_name", "stat_value"} <= set(ard.columns)
    assert len(repr(fit)) < 200
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.n = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"confidence_level": 95}, "Did you mean 0.95"),
        ({"confidence_level": 0}, "must be in \\(0, 1\\)"),
        ({"confidence_level": "0.95"}, "must be a number"),
        ({"confidence_level": True}, "must be a number"),
        ({"ci_method": "loglog"}, "Did you mean 'log-log'"),
        ({"ci_method": "arcsin"}, "`ci_method` must be one of"),
        ({"time": "day"}, "Did you mean 'days'"),
        ({"by": "arm"}, "`by` column 'arm'"),
        ({"time": ["days"]}, "`time` must be the name of one column"),
    ],
)
def test_argument_errors_name_the_fix(
    small: pd.DataFrame, kwargs: dict[str, object], match: str
) -> None:
    args: dict[str, object] = {"time": "days", "event": "died", **kwargs}
    with pytest.raises(AnalysisError, match=match):
        kaplan_meier(small, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"days": [-1, 2], "died": [1, 0]}), "must be finite and >= 0"),
        (pd.DataFrame({"days": [1, 2], "died": [2, 0]}), "must be 0 \\(censored\\) or 1"),
        (pd.DataFrame({"days": ["a", 2], "died": [1, 0]}), "must be numeric"),
    ],
)
def test_bad_values_are_rejected(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        kaplan_meier(frame, time="days", event="died")


def test_no_complete_rows_is_degenerate() -> None:
    d = pd.DataFrame({"days": [np.nan, np.nan], "died": [1, 0]})
    with pytest.raises(DegenerateDataError):
        kaplan_meier(d, time="days", event="died")


def test_group_without_events_warns_by_name() -> None:
    d = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 0], "g": ["a", "a", "b", "b"]})
    with pytest.warns(DegenerateWarning, match="Group 'b' has no events"):
        fit = kaplan_meier(d, time="t", event="e", by="g")
    assert len(fit.warnings) == 1
    assert not fit.median["reached"].iloc[1]
    assert (fit.table.loc[fit.table["group"] == "b", "estimate"] == 1).all()


def test_events_at_time_zero() -> None:
    d = pd.DataFrame({"t": [0, 0, 1, 2], "e": [1, 0, 1, 0]})
    t = kaplan_meier(d, time="t", event="e").table
    assert t["time"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(t["estimate"], [0.75, 0.375, 0.375])


def test_boolean_events_accepted(small: pd.DataFrame) -> None:
    flagged = small.assign(died=small["died"].astype(bool))
    pd.testing.assert_frame_equal(
        kaplan_meier(flagged, time="days", event="died").table,
        kaplan_meier(small, time="days", event="died").table,
    )


def test_median_follow_up_hand_case() -> None:
    # reverse events (censorings) at 8, 12, 20: reverse S = 1, .75, .75, .375, 0
    d = pd.DataFrame({"days": [5, 8, 10, 12, 20], "died": [1, 0, 1, 0, 0]})
    res = median_follow_up(d, time="days", event="died")
    assert isinstance(res, FollowUpResult)
    assert res.estimate == 12.0
    assert res.reached
    assert res.n == 5
    assert res.n_censored == 3
    assert res.method.estimator == "reverse Kaplan-Meier"
    assert res.to_frame()["estimate"].tolist() == [12.0]
    assert set(res.to_ard()["stat_name"]) >= {"estimate", "lower", "upper"}
    assert "FollowUpResult(estimate=12" in repr(res)


def test_median_follow_up_without_censoring_warns() -> None:
    d = pd.DataFrame({"days": [5, 8, 10], "died": [1, 1, 1]})
    with pytest.warns(DegenerateWarning, match="no censorings"):
        res = median_follow_up(d, time="days", event="died")
    assert math.isnan(res.estimate)
    assert not res.reached


def test_median_follow_up_validates_arguments() -> None:
    d = pd.DataFrame({"days": [5, 8, 10], "died": [1, 0, 1]})
    with pytest.raises(AnalysisError, match=r"Did you mean 0\.9"):
        median_follow_up(d, time="days", event="died", confidence_level=90)
    with pytest.raises(AnalysisError, match="`ci_method`"):
        median_follow_up(d, time="days", event="died", ci_method="logit")  # type: ignore[arg-type]
