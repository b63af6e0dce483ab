"""Unit tests for cartcohort.analyse.impute: Rubin's rules by hand, chained equations
(reproducibility, PMM donors, observed values kept), argument and data errors, warnings.
R agreement is in tests/reference/test_impute_pool_against_r.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse.cox import cox_ph
from cartcohort.analyse.impute import barnard_rubin_df, impute_and_pool, rubin_pool
from cartcohort.errors import AnalysisError, StatisticalWarning

COX = {"time": "time", "event": "status", "covariates": ["age", "ldh"]}
LOGIT = {"outcome": "response", "covariates": ["age", "ldh"]}


def _cohort(seed: int = 1, n: int = 60, missing: float = 0.2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n).round()
    ldh = rng.normal(5.5, 0.4, n) + 0.01 * (age - 60)
    lp = 0.03 * (age - 60) + 0.8 * (ldh - 5.5)
    t = rng.exponential(30 * np.exp(-lp))
    c = rng.uniform(10, 90, n)
    frame = pd.DataFrame(
        {
            "time": np.minimum(t, c).round(1) + 0.1,
            "status": (t <= c).astype(int),
            "response": (rng.uniform(size=n) < 1 / (1 + np.exp(lp))).astype(int),
            "age": age,
            "ldh": ldh,
        }
    )
    frame.loc[rng.uniform(size=n) < missing, "ldh"] = np.nan
    frame.loc[rng.uniform(size=n) < missing / 2, "age"] = np.nan
    return frame


def test_rubin_pool_by_hand() -> None:
    est = np.array([[1.0, -0.5], [1.4, -0.3], [0.9, -0.4]])
    var = np.array([[0.04, 0.01], [0.05, 0.02], [0.06, 0.015]])
    out = rubin_pool(est, var, dfcom=30.0)
    m = 3
    qbar, ubar, b = est.mean(0), var.mean(0), est.var(0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    dfold = (m - 1) / lam**2
    dfobs = 31 / 33 * 30 * (1 - lam)
    df = dfold * dfobs / (dfold + dfobs)
    np.testing.assert_allclose(out["estimate"], qbar)
    np.testing.assert_allclose(out["t"], t)
    np.testing.assert_allclose(out["df"], df)
    np.testing.assert_allclose(
        out["fmi"], ((1 + 1 / m) * b / ubar + 2 / (df + 3)) / ((1 + 1 / m) * b / ubar + 1)
    )
    np.testing.assert_allclose(out["p_value"], 2 * stats.t.sf(np.abs(qbar / np.sqrt(t)), df))
    q = stats.t.ppf(0.975, df)
    np.testing.assert_allclose(out["upper"], qbar + q * np.sqrt(t))


def test_barnard_rubin_floors_lambda_and_handles_infinite_dfcom() -> None:
    zero = np.zeros(1)
    one = np.ones(1)
    np.testing.assert_allclose(barnard_rubin_df(5, zero, one, np.inf), 4 / 1e-8)
    dfobs = 11 / 13 * 10 * (1 - 1e-4)
    expected = (4 / 1e-8) * dfobs / (4 / 1e-8 + dfobs)
    np.testing.assert_allclose(barnard_rubin_df(5, zero, one, 10.0), expected)


def test_identical_imputations_pool_to_the_single_fit() -> None:
    data = _cohort(2).dropna()
    single = cox_ph(data, **COX)
    with pytest.warns(StatisticalWarning, match="Only 3 imputations"):
        pooled = impute_and_pool(data, model="cox", model_options=COX, imputations=[data] * 3)
    np.testing.assert_allclose(pooled.table["estimate"], single.table["coef"], rtol=1e-12)
    np.testing.assert_allclose(pooled.table["se"], single.table["se"], rtol=1e-12)
    assert (pooled.table["b"] == 0).all()
    assert pooled.dfcom == single.n_events - 2
    np.testing.assert_allclose(pooled.table["hr"], single.table["hr"], rtol=1e-12)


def test_imputation_is_reproducible_keeps_observed_values_and_uses_donors() -> None:
    data = _cohort(3)
    state = np.random.get_state()[1].copy()
    kw = {"model": "cox", "model_options": COX, "m": 2, "iterations": 2}
    with pytest.warns(StatisticalWarning, match="Only 2 imputations"):
        a = impute_and_pool(data, seed=7, **kw)
    with pytest.warns(StatisticalWarning):
        b = impute_and_pool(data, seed=7, **kw)
    with pytest.warns(StatisticalWarning):
        c = impute_and_pool(data, seed=8, **kw)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched
    for x, y in zip(a.imputations, b.imputations, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert not a.imputations[0]["ldh"].equals(c.imputations[0]["ldh"])
    observed = data["ldh"].notna()
    donors = set(data.loc[observed, "ldh"])
    for frame in a.imputations:
        assert frame["ldh"].notna().all()
        np.testing.assert_array_equal(frame.loc[observed, "ldh"], data.loc[observed, "ldh"])
        assert set(frame.loc[~observed, "ldh"]) <= donors  # predictive mean matching
    assert a.method.options["seed"] == 7
    assert a.method.options["imputed_columns"] == "age, ldh"
    assert len(a.fits) == 2


def test_missing_outcome_is_refused_by_default() -> None:
    data = _cohort(4)
    data.loc[[3, 8], "status"] = np.nan
    with pytest.raises(AnalysisError, match=r"'status' \(2 rows, 3%\).*impute_outcome=True"):
        impute_and_pool(data, model="cox", model_options=COX, m=2, seed=1)
    with (
        pytest.raises(AnalysisError, match="survival times or events"),
        pytest.warns(StatisticalWarning),
    ):
        impute_and_pool(data, model="cox", model_options=COX, m=2, seed=1, impute_outcome=True)


def test_logistic_outcome_imputed_only_on_request_with_warning() -> None:
    data = _cohort(5)
    rows = data.index[data["age"].notna()][:2]
    data.loc[rows, "response"] = np.nan
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fit = impute_and_pool(
            data,
            model="logistic",
            model_options=LOGIT,
            m=2,
            seed=1,
            iterations=1,
            impute_outcome=True,
        )
    assert any("outcome was imputed" in w for w in fit.warnings)
    assert fit.imputations[0]["response"].notna().all()
    assert fit.imputations[0]["response"].isin([0, 1]).all()
    assert "odds_ratio" in fit.table.columns
    assert fit.dfcom == 60 - 3


def test_mostly_missing_column_warns() -> None:
    data = _cohort(6, missing=0.0)
    data.loc[data.index[:40], "ldh"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = impute_and_pool(data, model="cox", model_options=COX, m=2, seed=1, iterations=1)
    assert any("'ldh' is 67% missing" in str(w.message) for w in caught)
    assert any("'ldh' is 67% missing" in w for w in fit.warnings)


def test_supplied_imputations_are_checked_all_problems_at_once() -> None:
    data = _cohort(7)
    good = data.fillna(0.0)
    changed = good.copy()
    row = int(np.flatnonzero(data["age"].notna())[0])
    changed.loc[row, "age"] += 1
    with pytest.raises(AnalysisError) as info:
        impute_and_pool(
            data, model="cox", model_options=COX, imputations=[good, data, changed, good[:5]]
        )
    text = str(info.value)
    assert "imputation 2, column 'ldh'" in text
    assert "still missing" in text
    assert f"imputation 3, column 'age': rows [{row}] differ" in text
    assert "imputation 4 has 5 rows" in text


def test_non_numeric_column_with_missing_values_cannot_be_imputed() -> None:
    data = _cohort(8)
    data["stage"] = np.where(np.arange(60) % 2 == 0, "III", "IV").astype(object)
    data.loc[4, "stage"] = None
    opts = {**COX, "covariates": ["age", "stage"]}
    with pytest.raises(AnalysisError, match=r"column 'stage'.*0/1 indicator"):
        impute_and_pool(data, model="cox", model_options=opts, m=2, seed=1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"m": 1, "seed": 1}, "integer >= 2"),
        ({"m": 5}, "`seed`"),
        ({"m": 5, "seed": 1, "iterations": 0}, "`iterations`"),
        ({"m": 5, "seed": 1, "confidence_level": 95}, "confidence_level"),
    ],
)
def test_argument_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        impute_and_pool(_cohort(9), model="cox", model_options=COX, **kwargs)  # type: ignore[arg-type]


def test_unknown_model_and_missing_column() -> None:
    with pytest.raises(AnalysisError, match="`model` must be one of"):
        impute_and_pool(_cohort(), model="poisson", model_options=COX, m=2, seed=1)  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="not in the data"):
        impute_and_pool(
            _cohort(), model="cox", model_options={**COX, "covariates": ["bmi"]}, m=2, seed=1
        )


def test_ard_and_repr() -> None:
    data = _cohort(10).dropna()
    with pytest.warns(StatisticalWarning):
        fit = impute_and_pool(data, model="logistic", model_options=LOGIT, imputations=[data] * 2)
    ard = fit.to_ard()
    assert set(ard["analysis"]) == {"multiple_imputation"}
    assert {"estimate", "fmi", "odds_ratio", "or_lower"} <= set(ard["stat_name"])
    assert "m=2" in repr(fit)
