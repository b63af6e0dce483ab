"""Weighted Kaplan–Meier curves against R survival 3.5-3 ``survfit(..., weights = w)``.

The expected values come from ``tests/reference/r/km_weights.R`` (rerun it to
regenerate ``tests/reference/cases/km_weights.json``); each case stores its input data,
so R is not needed here. Everything is closed form: compared at ``rtol = 1e-10``.
R's default variance is checked too: the infinitesimal jackknife (R ``logse = FALSE``)
for non-integer weights or a cluster, Greenwood with weighted counts otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.km import KaplanMeierResult, kaplan_meier

DATA = json.loads((Path(__file__).parent / "cases" / "km_weights.json").read_text("utf-8"))
CASES = {case["id"]: case for case in DATA["cases"]}
RTOL = 1e-10
# Where everyone at risk dies, the IJ influence is 0 in exact arithmetic: cartcohort
# returns 0, R's running sums leave rounding noise (~4e-17) in the clustered case.
SE_ATOL = 1e-14


def _opt(value: Any) -> Any:
    return None if value == {} or value == [] else value


def _fit(case_id: str) -> KaplanMeierResult:
    case = CASES[case_id]
    spec = case["spec"]
    return kaplan_meier(
        pd.DataFrame(case["input"]),
        time="time",
        event="event",
        by=_opt(spec.get("by")),
        weights=_opt(spec.get("weights")),
        robust=_opt(spec.get("robust")),
        cluster=_opt(spec.get("cluster")),
        ci_method=spec["ci_method"],
    )


def _numbers(values: list[float | None]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def test_provenance_is_recorded() -> None:
    assert DATA["generated_by"] == "tests/reference/r/km_weights.R"
    assert DATA["packages"]["survival"] == "3.5.3"


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_weighted_table_matches_r_summary(case_id: str) -> None:
    expected = CASES[case_id]["expected"]
    fit = _fit(case_id)
    table = fit.table
    assert [str(g) for g in table["group"]] == expected["group"]
    for column in ("time", "n_risk", "n_event", "n_censor", "estimate", "lower", "upper"):
        np.testing.assert_allclose(
            table[column].to_numpy(dtype=np.float64),
            _numbers(expected[column]),
            rtol=RTOL,
            err_msg=column,
        )
    np.testing.assert_allclose(
        table["std_err"].to_numpy(dtype=np.float64),
        _numbers(expected["std_err"]),
        rtol=RTOL,
        atol=SE_ATOL,
    )


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_weighted_median_matches_r_quantile(case_id: str) -> None:
    expected = CASES[case_id]["expected"]
    median = _fit(case_id).median
    for column, key in (
        ("estimate", "median"),
        ("lower", "median_lower"),
        ("upper", "median_upper"),
    ):
        values = expected[key] if isinstance(expected[key], list) else [expected[key]]
        np.testing.assert_allclose(
            median[column].to_numpy(dtype=np.float64), _numbers(values), rtol=RTOL, err_msg=key
        )


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_variance_choice_follows_r_default(case_id: str) -> None:
    fit = _fit(case_id)
    robust = not CASES[case_id]["expected"]["logse"]
    assert fit.method.options.get("robust", False) is robust
    variance = str(fit.method.options["variance"])
    assert variance.startswith("infinitesimal jackknife" if robust else "Greenwood")
