"""Unit tests for to_counting_process and cox_ph(start=): hand-worked splits, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.counting import to_counting_process
from cartcohort.analyse.cox import cox_ph
from cartcohort.errors import AnalysisError


def _cohort(**overrides: object) -> pd.DataFrame:
    base = {
        "pid": ["a", "b", "c", "d"],
        "days": [100, 50, 30, 80],
        "died": [1, 0, 1, 1],
        "hsct_day": [40.0, np.nan, 0.0, 80.0],
        "relapse_day": [60.0, 20.0, np.nan, 40.0],
        "age": [50, 61, 45, 70],
    }
    base.update(overrides)  # type: ignore[arg-type]
    return pd.DataFrame(base)


def test_split_by_hand() -> None:
    out = to_counting_process(
        _cohort(),
        id="pid",
        time="days",
        event="died",
        changes={"hsct": "hsct_day", "relapse": "relapse_day"},
    )
    assert list(out.columns[:6]) == ["pid", "tstart", "tstop", "died", "hsct", "relapse"]
    assert "days" not in out.columns
    assert out["pid"].tolist() == ["a", "a", "a", "b", "b", "c", "d", "d"]
    assert out["tstart"].tolist() == [0, 40, 60, 0, 20, 0, 0, 40]
    assert out["tstop"].tolist() == [40, 60, 100, 20, 50, 30, 40, 80]
    assert out["died"].tolist() == [0, 0, 1, 0, 0, 1, 0, 1]
    # day 0: exposed throughout; on the last day of follow-up: never exposed (as tmerge)
    assert out["hsct"].tolist() == [0, 1, 1, 0, 0, 1, 0, 0]
    assert out["relapse"].tolist() == [0, 0, 1, 0, 1, 0, 0, 1]
    assert out["age"].tolist() == [50, 50, 50, 61, 61, 45, 70, 70]


def test_boolean_event_and_all_missing_days() -> None:
    frame = _cohort(died=[True, False, True, True], hsct_day=[np.nan] * 4)
    out = to_counting_process(frame, id="pid", time="days", event="died", changes={"h": "hsct_day"})
    assert len(out) == 4
    assert out["died"].tolist() == [1, 0, 1, 1]
    assert out["h"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pid": ["a", "a", "c", "d"]}, "identify each patient once"),
        ({"days": [100, -5, 30, 80]}, "finite and >= 0"),
        ({"days": [100, 0, 30, 80]}, "must be > 0"),
        ({"hsct_day": [40.0, 60.0, 0.0, 80.0]}, "after the end of follow-up"),
        ({"hsct_day": [-1.0, np.nan, 0.0, 80.0]}, "finite and >= 0"),
        ({"hsct_day": ["x", np.nan, 0.0, 80.0]}, "must be numeric"),
        ({"died": [1, np.nan, 1, 1]}, "missing values"),
        ({"died": [2, 0, 1, 1]}, "0 \\(censored\\) or 1"),
    ],
)
def test_bad_input_is_a_named_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        to_counting_process(
            _cohort(**kwargs), id="pid", time="days", event="died", changes={"hsct": "hsct_day"}
        )


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({}, "non-empty mapping"),
        ("hsct_day", "non-empty mapping"),
        ({"age": "hsct_day"}, "already a column"),
        ({"tstart": "hsct_day"}, "already a column"),
        ({"hsct": "nope"}, "not in the data"),
    ],
)
def test_bad_changes(changes: object, match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        to_counting_process(
            _cohort(),
            id="pid",
            time="days",
            event="died",
            changes=changes,  # type: ignore[arg-type]
        )


def test_missing_column_is_named() -> None:
    with pytest.raises(AnalysisError, match=r"'day' is not in the data\. Did you mean 'days'"):
        to_counting_process(
            _cohort(), id="pid", time="day", event="died", changes={"h": "hsct_day"}
        )


def test_cox_start_must_be_below_time() -> None:
    frame = pd.DataFrame(
        {"t0": [0, 5, 2, 0], "t": [3, 5, 6, 8], "e": [1, 1, 0, 1], "x": [0.1, 0.5, -1, 2]}
    )
    with pytest.raises(AnalysisError, match=r"must be below the time column 't'.*rows \[1\]"):
        cox_ph(frame, start="t0", time="t", event="e", covariates=["x"])
    with pytest.raises(AnalysisError, match="`start` must be a column name"):
        cox_ph(frame, start=["t0"], time="t", event="e", covariates=["x"])  # type: ignore[arg-type]


def test_cox_with_start_records_rows_and_method() -> None:
    frame = to_counting_process(
        _cohort(), id="pid", time="days", event="died", changes={"hsct": "hsct_day"}
    )
    fit = cox_ph(frame, start="tstart", time="tstop", event="died", covariates=["age"])
    assert fit.n == len(frame)
    assert fit.n_events == 3
    assert fit.method.options["start"] == "tstart"


def test_km_and_logrank_start_errors() -> None:
    from cartcohort.analyse.km import kaplan_meier
    from cartcohort.analyse.logrank import logrank_test

    frame = pd.DataFrame(
        {"t0": [0, 2, 1, 0], "t": [3, 5, 6, 8], "e": [1, 1, 0, 1], "g": ["a", "b", "a", "b"]}
    )
    with pytest.raises(AnalysisError, match="log-rank test only"):
        logrank_test(frame, start="t0", time="t", event="e", by="g", rho=1)
    with pytest.raises(AnalysisError, match="must be below the time column"):
        kaplan_meier(frame.assign(t0=[0, 5, 1, 0]), start="t0", time="t", event="e")
    with pytest.raises(AnalysisError, match="`start` must be the name of one column"):
        kaplan_meier(frame, start=["t0"], time="t", event="e")  # type: ignore[arg-type]
    fit = kaplan_meier(frame, start="t0", time="t", event="e")
    # at t = 3 rows entering at 0, 2, 1 and 0 are at risk (all four)
    assert fit.table["n_risk"].tolist() == [4, 3, 2, 1]


def test_mantel_byar_and_simon_makuch_errors_and_groups() -> None:
    from cartcohort.analyse.counting import mantel_byar_test, simon_makuch

    frame = _cohort()
    with pytest.raises(AnalysisError, match="already have a column 'exposed'"):
        mantel_byar_test(
            frame.assign(exposed=1), id="pid", time="days", event="died", exposure_day="hsct_day"
        )
    with pytest.raises(AnalysisError, match="`exposure_day` must be a column name"):
        simon_makuch(frame, id="pid", time="days", event="died", exposure_day=3)  # type: ignore[arg-type]
    fit = simon_makuch(frame, id="pid", time="days", event="died", exposure_day="hsct_day")
    assert fit.groups == (0, 1)
    # patient c is exposed from day 0 (alone at risk in group 1 at day 30); a moves to
    # group 1 on day 40
    exposed = fit.table[fit.table["group"] == 1]
    assert exposed["time"].tolist() == [30.0, 100.0]
    assert exposed["n_risk"].tolist() == [1, 1]
