"""cumulative_incidence / .at / fine_gray against R cmprsk 2.2-11 (cuminc, timepoints, crr).

Expected values come from ``tests/reference/r/competing.R`` (committed JSON, no R needed).
Closed-form quantities (CIF, its variance, Gray's test) are compared at ``rtol = 1e-10``;
Fine–Gray coefficients and robust SEs, an iterative fit, at ``rtol = 1e-6`` (R was run
with ``gtol = 1e-10``; the agreement seen is ~1e-9 or better).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.competing import cumulative_incidence, fine_gray
from cartcohort.errors import DegenerateWarning

CASES_PATH = Path(__file__).parent / "cases" / "competing.json"
REFERENCE = json.loads(CASES_PATH.read_text())
TOL = REFERENCE["tolerance"]


def _arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=np.float64)


def _cuminc_params() -> list[Any]:
    params = []
    for case in REFERENCE["cases"]:
        for spec in case["cuminc"]:
            label = "-".join(
                str(p) for p in (spec["by"] or "all", spec["strata"], f"rho{spec['rho']}") if p
            )
            params.append(pytest.param(case, spec, id=f"{case['name']}-{label}"))
    return params


def _crr_params() -> list[Any]:
    return [
        pytest.param(case, spec, id=f"{case['name']}-cause{spec['cause']}")
        for case in REFERENCE["cases"]
        for spec in case["crr"]
    ]


def _fit_cif(case: dict[str, Any], spec: dict[str, Any]):
    data = pd.DataFrame(case["input"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cumulative_incidence(
            data, time="time", event="status", by=spec["by"], strata=spec["strata"], rho=spec["rho"]
        )
    # Only the documented degenerate warnings may occur (groups without events,
    # singular Gray variance); each is asserted in the unit tests.
    assert all(issubclass(w.category, DegenerateWarning) for w in caught)
    return fit


def _rows(frame: pd.DataFrame, group: Any, cause: int) -> pd.DataFrame:
    return frame[(frame["group"].astype(str) == str(group)) & (frame["cause"] == cause)]


def test_provenance_recorded() -> None:
    prov = REFERENCE["provenance"]
    assert prov["script"] == "tests/reference/r/competing.R"
    assert prov["packages"]["cmprsk"] == "2.2.11"
    assert "R version" in prov["r_version"]


@pytest.mark.parametrize(("case", "spec"), _cuminc_params())
def test_cif_matches_r_cuminc(case: dict[str, Any], spec: dict[str, Any]) -> None:
    fit = _fit_cif(case, spec)
    for curve in spec["curves"]:
        times = _arr(curve["event_times"])
        rows = _rows(fit.table, curve["group"], curve["cause"])
        rows = rows[rows["n_event"] > 0]
        np.testing.assert_array_equal(rows["time"].to_numpy(), times)
        if times.size == 0:
            continue
        np.testing.assert_allclose(
            rows["estimate"], _arr(curve["estimate"]), rtol=TOL["cuminc"], atol=0
        )
        np.testing.assert_allclose(
            rows["variance"], _arr(curve["variance"]), rtol=TOL["cuminc"], atol=0
        )


@pytest.mark.parametrize(("case", "spec"), _cuminc_params())
def test_at_matches_r_timepoints(case: dict[str, Any], spec: dict[str, Any]) -> None:
    fit = _fit_cif(case, spec)
    grid = _arr(spec["timepoints"]["times"])
    at = fit.at(grid)
    for curve in spec["timepoints"]["curves"]:
        rows = _rows(at, curve["group"], curve["cause"])
        np.testing.assert_array_equal(rows["time"].to_numpy(), grid)
        expected_est = _arr(curve["estimate"])
        # timepoints() gives NA after the last follow-up; we give NaN at the same points.
        np.testing.assert_array_equal(np.isnan(rows["estimate"]), np.isnan(expected_est))
        np.testing.assert_allclose(
            rows["estimate"], expected_est, rtol=TOL["timepoints"], atol=0, equal_nan=True
        )
        np.testing.assert_allclose(
            rows["variance"],
            _arr(curve["variance"]),
            rtol=TOL["timepoints"],
            atol=0,
            equal_nan=True,
        )


@pytest.mark.parametrize(("case", "spec"), _cuminc_params())
def test_gray_matches_r_cuminc_tests(case: dict[str, Any], spec: dict[str, Any]) -> None:
    fit = _fit_cif(case, spec)
    if not spec["tests"]:
        assert fit.gray_test is None
        return
    gray = fit.gray_test.set_index("cause")
    for test in spec["tests"]:
        row = gray.loc[test["cause"]]
        assert row["df"] == test["df"]
        if test["statistic"] == -1:
            # cuminc's code for a singular variance; we report NaN (with a warning).
            assert np.isnan(row["statistic"])
            assert np.isnan(row["p_value"])
            continue
        np.testing.assert_allclose(row["statistic"], test["statistic"], rtol=TOL["gray_test"])
        # R computes 1 - pchisq(stat, df), which has ~1e-16 absolute cancellation error;
        # we use the survival function, so tiny p-values agree only to that absolute level.
        np.testing.assert_allclose(
            row["p_value"], test["p_value"], rtol=TOL["gray_test"], atol=1e-15
        )


@pytest.mark.parametrize(("case", "spec"), _crr_params())
def test_fine_gray_matches_r_crr(case: dict[str, Any], spec: dict[str, Any]) -> None:
    data = pd.DataFrame(case["input"])
    fit = fine_gray(
        data, time="time", event="status", cause=spec["cause"], covariates=spec["covariates"]
    )
    assert fit.converged
    assert spec["converged"]
    assert list(fit.table["term"]) == spec["terms"]
    assert fit.n == spec["n"]
    assert fit.n_events == spec["n_events"]
    assert fit.n_competing == spec["n_competing"]
    np.testing.assert_allclose(fit.table["coef"], spec["coef"], rtol=TOL["crr_coef"])
    np.testing.assert_allclose(fit.table["se"], spec["se"], rtol=TOL["crr_se"])
    np.testing.assert_allclose(
        fit.covariance, np.array(spec["var"]).reshape(fit.covariance.shape), rtol=TOL["crr_se"]
    )
    np.testing.assert_allclose(
        fit.information,
        np.array(spec["inf"]).reshape(fit.information.shape),
        rtol=TOL["crr_se"],
    )
    np.testing.assert_allclose(fit.loglik, spec["loglik"], rtol=TOL["crr_loglik"])
    np.testing.assert_allclose(fit.loglik_null, spec["loglik_null"], rtol=TOL["crr_loglik"])
