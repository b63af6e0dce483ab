"""kaplan_meier(weights=, robust=, cluster=): argument checks, refusals and bookkeeping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.km import KaplanMeierResult, kaplan_meier
from cartcohort.errors import AnalysisError, DegenerateDataError


@pytest.fixture
def cohort() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days": [5, 8, 12, 20, 25, 30, 41, 50, 9, 14],
            "died": [1, 1, 0, 1, 1, 0, 1, 0, 1, 1],
            "arm": ["A", "B", "A", "B", "A", "B", "A", "B", "A", "B"],
            "w": [1.0, 2.5, 0.7, 1.2, 3.0, 1.0, 0.4, 2.0, 1.1, 0.9],
            "iw": [1, 2, 1, 3, 1, 1, 2, 1, 1, 2],
            "id": ["a", "a", "b", "c", "c", "d", "e", "e", "f", "g"],
        },
        index=[f"r{i}" for i in range(10)],
    )


def _km(frame: pd.DataFrame, **kwargs: object) -> KaplanMeierResult:
    return kaplan_meier(frame, time="days", event="died", **kwargs)  # type: ignore[arg-type]


def test_invalid_weights_are_all_named_with_their_rows(cohort: pd.DataFrame) -> None:
    bad = cohort.assign(w=[1.0, -2.0, np.inf, 0.0, 1.0, 1.0, -0.5, 1.0, 1.0, 1.0])
    with pytest.raises(AnalysisError) as info:
        _km(bad, weights="w")
    msg = str(info.value)
    assert "Weights column 'w'" in msg
    assert "['r2'] are infinite" in msg
    assert "['r1', 'r6'] are negative ([-2.0, -0.5])" in msg
    assert "are 0" not in msg  # zero weights are allowed, as R's survfit
    assert "Fix or remove those rows" in msg


def test_non_numeric_and_all_zero_weights_are_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"must be numeric; rows \['r0'\] hold \['x'\]"):
        _km(cohort.assign(w=["x"] + [1.0] * 9), weights="w")
    with pytest.raises(AnalysisError, match="no row has a positive weight"):
        _km(cohort.assign(w=0.0), weights="w")


def test_argument_types_and_conflicts_are_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="`weights` must be a column name or None"):
        _km(cohort, weights=["w"])
    with pytest.raises(AnalysisError, match="`robust` must be True, False or None"):
        _km(cohort, robust="yes")
    with pytest.raises(AnalysisError, match="drop `robust=False`"):
        _km(cohort, cluster="id", robust=False)
    with pytest.raises(AnalysisError, match="not available together with `start`"):
        _km(cohort.assign(entry=0), weights="w", start="entry")
    with pytest.raises(AnalysisError, match="`weights` column 'wt' is not in the data"):
        _km(cohort, weights="wt")


def test_one_cluster_is_refused(cohort: pd.DataFrame) -> None:
    with pytest.raises(DegenerateDataError, match="at least 2 clusters"):
        _km(cohort.assign(id="same"), cluster="id")


def test_zero_weight_rows_are_kept_and_change_nothing_but_their_time(
    cohort: pd.DataFrame,
) -> None:
    zero = cohort.assign(w=[1.0, 2.5, 0.7, 1.2, 3.0, 1.0, 0.4, 2.0, 0.0, 1.0])
    fit = _km(zero, weights="w")
    without = _km(zero.drop(index="r8"), weights="w")
    assert fit.n == 10
    row = fit.table.loc[fit.table["time"] == 9].iloc[0]
    assert row["n_event"] == 0.0  # the zero-weight death does not count
    kept = fit.table[fit.table["time"] != 9].reset_index(drop=True)
    np.testing.assert_allclose(kept["estimate"], without.table["estimate"], rtol=1e-12)
    np.testing.assert_allclose(kept["std_err"], without.table["std_err"], rtol=1e-12)


def test_default_variance_follows_r_and_is_recorded(cohort: pd.DataFrame) -> None:
    integer = _km(cohort, weights="iw")
    assert integer.method.options["variance"] == "Greenwood with weighted counts"
    assert integer.method.options["weights"] == "iw"
    assert "robust" not in integer.method.options
    ipw = _km(cohort, weights="w")
    assert ipw.method.options["variance"] == "infinitesimal jackknife (each row its own cluster)"
    assert ipw.method.options["robust_default"] is True
    assert "weighted (w) Kaplan–Meier" in ipw.method.description
    clustered = _km(cohort, weights="iw", cluster="id")
    assert clustered.method.options["cluster"] == "id"
    forced = _km(cohort, weights="w", robust=False)
    assert forced.method.options["variance"] == "Greenwood with weighted counts"
    assert _km(cohort).method.options["variance"] == "Greenwood"


def test_weighted_counts_are_floats_and_rows_are_counted(cohort: pd.DataFrame) -> None:
    fit = _km(cohort, weights="w", by="arm")
    assert fit.n == 10
    assert fit.n_events == 7
    assert fit.median["n"].tolist() == [5, 5]
    first = fit.table.iloc[0]
    assert first["n_risk"] == pytest.approx(1.0 + 0.7 + 3.0 + 0.4 + 1.1)
    landmark = fit.at([10, 30])
    assert landmark["n_risk"].dtype == np.float64
    assert landmark["n_event"].iloc[0] == pytest.approx(2.1)  # rows r0 (1.0) and r8 (1.1)
