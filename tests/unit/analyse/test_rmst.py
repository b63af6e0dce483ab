"""Unit tests for rmst and milestone_difference: hand-worked values, errors, warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.rmst import milestone_difference, rmst
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

D = pd.DataFrame(
    {
        "days": [5, 8, 8, 12, 20, 3, 9, 15, 22, 30],
        "died": [1, 1, 0, 1, 0, 1, 0, 1, 1, 0],
        "arm": ["a"] * 5 + ["b"] * 5,
    }
)


def test_rmst_by_hand() -> None:
    res = rmst(D[D["arm"] == "a"], time="days", event="died", tau=15)
    # S = 1 on [0,5), 0.8 on [5,8), 0.6 on [8,12), 0.3 on [12,15)
    assert math.isclose(res.table["estimate"].iloc[0], 5 + 0.8 * 3 + 0.6 * 4 + 0.3 * 3)
    # variance: A_j^2 d/(n(n-d)) at 5 (A = 5.7), 8 (A = 3.3), 12 (A = 0.9)
    var = 5.7**2 / 20 + 3.3**2 / 12 + 0.9**2 / 2
    assert math.isclose(res.table["std_err"].iloc[0], math.sqrt(var))
    assert res.contrasts.empty
    assert res.method.options["tau"] == 15.0


def test_rmst_result_shape_and_ard() -> None:
    res = rmst(D, time="days", event="died", by="arm", tau=20)
    assert res.groups == ("a", "b")
    assert res.contrasts["measure"].tolist() == ["difference", "ratio", "rmtl_ratio"]
    assert (res.contrasts["reference"] == "a").all()
    ard = res.to_ard()
    assert set(ard["analysis"]) == {"rmst", "rmst_contrast"}
    assert "RMSTResult(tau=20" in repr(res)
    assert res.to_frame().equals(res.table)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tau": 25}, AnalysisError, "after the last follow-up time of group 'a'"),
        ({"tau": 0}, AnalysisError, "finite and > 0"),
        ({"tau": True}, AnalysisError, "positive number"),
        ({"tau": "10"}, AnalysisError, "positive number"),
        ({"tau": 10, "confidence_level": 95}, AnalysisError, "Did you mean 0.95"),
        ({"tau": 10, "by": "nope"}, AnalysisError, "not in the data"),
    ],
)
def test_rmst_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"by": "arm", **kwargs}
    with pytest.raises(error, match=match):
        rmst(D, time="days", event="died", **args)  # type: ignore[arg-type]


def test_rmst_without_events_before_tau_warns() -> None:
    with pytest.warns(DegenerateWarning, match="standard error 0"):
        res = rmst(D, time="days", event="died", by="arm", tau=2)
    assert res.table["estimate"].tolist() == [2.0, 2.0]
    assert np.isnan(res.contrasts["p_value"]).all()
    assert res.warnings


def test_milestone_by_hand_and_errors() -> None:
    res = milestone_difference(D, time="days", event="died", by="arm", at=10)
    assert res.table["estimate"].round(12).tolist() == [0.6, 0.8]
    assert math.isclose(res.contrasts["estimate"].iloc[0], 0.2)
    assert res.to_frame().shape == (1, 8)
    assert "milestone_difference" in set(res.to_ard()["analysis"])
    with pytest.raises(AnalysisError, match="after the last follow-up time of group"):
        milestone_difference(D, time="days", event="died", by="arm", at=25)
    with pytest.raises(DegenerateDataError, match="one group"):
        milestone_difference(D.assign(arm="x"), time="days", event="died", by="arm", at=5)
    with pytest.raises(AnalysisError, match="finite and > 0"):
        milestone_difference(D, time="days", event="died", by="arm", at=-1)


def test_milestone_with_zero_survival_warns() -> None:
    frame = pd.DataFrame(
        {"t": [1, 2, 3, 2, 5, 6], "e": [1, 1, 1, 1, 0, 0], "g": ["a", "a", "a", "b", "b", "b"]}
    )
    with pytest.warns(DegenerateWarning, match="survival at 3 is 0"):
        res = milestone_difference(frame, time="t", event="e", by="g", at=3)
    assert np.isnan(res.contrasts["p_value"].iloc[0])
