"""``impute_and_pool`` against R ``mice::pool`` (mice 3.15.0, survival 3.5-3).

The M imputed datasets are made by ``mice`` in ``tests/reference/r/impute_pool.R`` and
stored in the committed JSON, so R and Python pool the same imputations: R fits ``coxph``
(Efron) or ``glm(binomial)`` on each and reports ``pool()`` and
``summary(pool(), conf.int = TRUE)``. The fits are iterative: compared at 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.impute import impute_and_pool
from cartcohort.errors import StatisticalWarning

DATA = json.loads((Path(__file__).parent / "cases" / "impute_pool.json").read_text("utf-8"))
RTOL = DATA["rtol"]["iterative"]


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    frame["stage"] = pd.Categorical(frame["stage"], categories=["I-II", "III", "IV"])
    return frame


def test_provenance_is_recorded() -> None:
    prov = DATA["provenance"]
    assert prov["packages"]["mice"] == "3.15.0"
    assert prov["script"] == "tests/reference/r/impute_pool.R"


def _fit(case: dict[str, Any]):  # type: ignore[no-untyped-def]
    options: dict[str, Any] = {"covariates": case["covariates"]}
    if case["model"] == "cox":
        options |= {"time": "time", "event": "status"}
    else:
        options |= {"outcome": "response"}
    imputed = [_frame(d) for d in case["imputed"]]
    if case["m"] < 5:
        with pytest.warns(StatisticalWarning, match="Only 3 imputations"):
            return impute_and_pool(
                _frame(DATA["data"]),
                model=case["model"],
                model_options=options,
                imputations=imputed,
            )
    return impute_and_pool(
        _frame(DATA["data"]), model=case["model"], model_options=options, imputations=imputed
    )


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_pool_matches_mice(case: dict[str, Any]) -> None:
    fit = _fit(case)
    table = fit.table
    assert len(table) == len(case["term"])
    assert fit.m == case["m"]
    assert fit.dfcom == case["dfcom"]
    per = np.vstack([f.table["coef"].to_numpy() for f in fit.fits])
    np.testing.assert_allclose(per, np.array(case["per_imputation_estimate"]), rtol=RTOL)
    for ours, theirs in [
        ("estimate", "estimate"),
        ("se", "std_error"),
        ("statistic", "statistic"),
        ("df", "df"),
        ("p_value", "p_value"),
        ("lower", "lower"),
        ("upper", "upper"),
        ("ubar", "ubar"),
        ("b", "b"),
        ("t", "t"),
        ("riv", "riv"),
        ("lambda", "lambda"),
        ("fmi", "fmi"),
    ]:
        np.testing.assert_allclose(table[ours], case[theirs], rtol=RTOL, err_msg=ours)
    ratio = "hr" if case["model"] == "cox" else "odds_ratio"
    np.testing.assert_allclose(table[ratio], np.exp(case["estimate"]), rtol=RTOL)


def test_fraction_missing_is_reported() -> None:
    fit = _fit(DATA["cases"][0])
    frac = dict(zip(fit.missing["column"], fit.missing["fraction"], strict=True))
    assert frac["age"] == pytest.approx(9 / 60)
    assert frac["log_ldh"] == pytest.approx(18 / 60)
    assert frac["time"] == 0
