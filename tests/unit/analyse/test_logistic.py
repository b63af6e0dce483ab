"""Unit tests for cartcohort.analyse.logistic.logistic_regression.

Closed forms used as truth: with one binary covariate the ML coefficient is the
sample log odds ratio with SE sqrt(1/a + 1/b + 1/c + 1/d), the intercept is the
log odds in the reference group, and the model LR statistic is the 2x2 G statistic;
the Firth estimates of that saturated model are the same quantities with 0.5 added
to every cell (Firth 1993), finite even with an empty cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cartcohort.analyse._results import ChiSquareTest, MethodInfo
from cartcohort.analyse.logistic import LogisticResult, logistic_regression
from cartcohort.errors import (
    AnalysisError,
    CollinearityError,
    ConvergenceError,
    DegenerateDataError,
    SeparationError,
    StatisticalWarning,
)


def _two_by_two(a: int, b: int, c: int, d: int) -> pd.DataFrame:
    """Exposed: a events, b non-events; unexposed: c events, d non-events."""
    exposed = [True] * (a + b) + [False] * (c + d)
    event = [1] * a + [0] * b + [1] * c + [0] * d
    return pd.DataFrame({"severe_crs": event, "bridging": exposed})


@pytest.fixture
def cohort() -> pd.DataFrame:
    rng = np.random.default_rng(20240611)
    n = 120
    age = rng.normal(58, 11, n).round()
    burden = rng.choice(["low", "high", "bulky"], n)
    lp = -1 + 0.04 * (age - 58) + np.where(burden == "bulky", 1.2, 0) + (burden == "high") * 0.6
    y = rng.random(n) < 1 / (1 + np.exp(-lp))
    return pd.DataFrame({"crs3": y.astype(int), "age_years": age, "burden": burden})


# -- closed forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "c", "d"),
    [
        pytest.param(8, 4, 3, 9, id="balanced"),
        pytest.param(15, 2, 5, 30, id="strong"),
        pytest.param(1, 10, 2, 7, id="sparse"),
    ],
)
def test_ml_single_binary_covariate_is_the_2x2_log_odds_ratio(
    a: int, b: int, c: int, d: int
) -> None:
    res = logistic_regression(
        _two_by_two(a, b, c, d), outcome="severe_crs", covariates=["bridging"]
    )
    table = res.table.set_index("term")
    assert table.loc["bridging[True]", "coef"] == pytest.approx(math.log(a * d / (b * c)), rel=1e-9)
    assert table.loc["bridging[True]", "se"] == pytest.approx(
        math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-9
    )
    # The intercept's odds ratio is the baseline odds (unexposed group).
    assert table.loc["(Intercept)", "odds_ratio"] == pytest.approx(c / d, rel=1e-9)
    observed = np.array([a, b, c, d], dtype=float)
    rows, cols = np.array([a + b, a + b, c + d, c + d]), np.array([a + c, b + d, a + c, b + d])
    g = 2 * np.sum(observed * np.log(observed / (rows * cols / observed.sum())))
    assert res.lr_test.statistic == pytest.approx(g, rel=1e-9)
    assert res.lr_test.df == 1
    assert res.n == a + b + c + d
    assert res.n_events == a + c


@pytest.mark.parametrize(
    ("a", "b", "c", "d"),
    [
        pytest.param(8, 4, 3, 9, id="balanced"),
        pytest.param(6, 0, 3, 9, id="empty-cell-separated"),
        pytest.param(0, 7, 5, 4, id="no-exposed-events"),
    ],
)
def test_firth_saturated_2x2_adds_half_to_each_cell(a: int, b: int, c: int, d: int) -> None:
    res = logistic_regression(
        _two_by_two(a, b, c, d), outcome="severe_crs", covariates=["bridging"], method="firth"
    )
    table = res.table.set_index("term")
    expected = math.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    assert table.loc["bridging[True]", "coef"] == pytest.approx(expected, rel=1e-8)
    assert table.loc["(Intercept)", "coef"] == pytest.approx(
        math.log((c + 0.5) / (d + 0.5)), rel=1e-8
    )
    assert np.isfinite(table[["coef", "se", "lower", "upper", "p_value"]].to_numpy()).all()


def test_wald_interval_is_coef_plus_minus_z_se(cohort: pd.DataFrame) -> None:
    res = logistic_regression(
        cohort, outcome="crs3", covariates=["age_years"], confidence_level=0.9
    )
    z = stats.norm.ppf(0.95)
    t = res.table
    np.testing.assert_allclose(np.log(t["lower"]), t["coef"] - z * t["se"], rtol=1e-12)
    np.testing.assert_allclose(np.log(t["upper"]), t["coef"] + z * t["se"], rtol=1e-12)
    np.testing.assert_allclose(t["z"], t["coef"] / t["se"], rtol=1e-12)
    np.testing.assert_allclose(t["p_value"], 2 * stats.norm.sf(np.abs(t["z"])), rtol=1e-12)


def test_ml_matches_statsmodels_logit(cohort: pd.DataFrame) -> None:
    import statsmodels.api as sm

    res = logistic_regression(cohort, outcome="crs3", covariates=["age_years", "burden"])
    x = np.column_stack(
        [
            np.ones(len(cohort)),
            cohort["age_years"],
            cohort["burden"] == "high",
            cohort["burden"] == "low",
        ]
    ).astype(float)
    fit = sm.Logit(cohort["crs3"].to_numpy(float), x).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(res.table["coef"], fit.params, rtol=1e-8)
    np.testing.assert_allclose(res.table["se"], fit.bse, rtol=1e-7)
    assert res.loglik == pytest.approx(fit.llf, rel=1e-12)
    assert res.aic == pytest.approx(fit.aic, rel=1e-12)


# -- profile intervals and LR tests ------------------------------------------------------


@pytest.mark.parametrize("method", ["ml", "firth"])
def test_profile_interval_and_lr_p_value_agree(cohort: pd.DataFrame, method: str) -> None:
    res = logistic_regression(
        cohort,
        outcome="crs3",
        covariates=["age_years", "burden"],
        method=method,  # type: ignore[arg-type]
        ci_method="profile",
    )
    t = res.table
    assert ((t["lower"] < t["odds_ratio"]) & (t["odds_ratio"] < t["upper"])).all()
    # Both come from the same likelihood-ratio statistic, so they agree about 0.
    excludes_null = (t["lower"] > 1) | (t["upper"] < 1)
    assert (excludes_null == (t["p_value"] < 0.05)).all()
    np.testing.assert_allclose(t["p_value"], stats.chi2.sf(t["z"] ** 2, 1), rtol=1e-12)


def test_defaults_wald_for_ml_profile_for_firth(cohort: pd.DataFrame) -> None:
    ml = logistic_regression(cohort, outcome="crs3", covariates=["age_years"])
    firth = logistic_regression(cohort, outcome="crs3", covariates=["age_years"], method="firth")
    assert ml.method.options["ci_method"] == "wald"
    assert "Wald" in str(ml.method.options["p_value"])
    assert firth.method.options["ci_method"] == "profile"
    assert "penalised likelihood-ratio" in str(firth.method.options["p_value"])
    assert "logistf" in firth.method.reference
    assert "glm" in ml.method.reference


# -- outcome coding ----------------------------------------------------------------------


def test_boolean_and_01_outcomes_agree(cohort: pd.DataFrame) -> None:
    as_int = logistic_regression(cohort, outcome="crs3", covariates=["age_years"])
    as_bool = logistic_regression(
        cohort.assign(crs3=cohort["crs3"] == 1), outcome="crs3", covariates=["age_years"]
    )
    pd.testing.assert_frame_equal(as_int.table, as_bool.table)
    assert as_bool.event is True
    assert as_int.event == 1


def test_factor_outcome_event_is_second_level(cohort: pd.DataFrame) -> None:
    labelled = cohort.assign(crs3=np.where(cohort["crs3"] == 1, "yes", "no"))
    res = logistic_regression(labelled, outcome="crs3", covariates=["age_years"])
    ref = logistic_regression(cohort, outcome="crs3", covariates=["age_years"])
    assert res.event == "yes"  # sorted: "no" < "yes"
    np.testing.assert_allclose(res.table["coef"], ref.table["coef"], rtol=1e-12)
    assert "crs3 == 'yes'" in str(res.method.options["event"])


def test_categorical_outcome_order_decides_the_event(cohort: pd.DataFrame) -> None:
    labels = np.where(cohort["crs3"] == 1, "yes", "no")
    flipped = cohort.assign(crs3=pd.Categorical(labels, categories=["yes", "no"]))
    res = logistic_regression(flipped, outcome="crs3", covariates=["age_years"])
    ref = logistic_regression(cohort, outcome="crs3", covariates=["age_years"])
    assert res.event == "no"
    np.testing.assert_allclose(res.table["coef"], -ref.table["coef"], rtol=1e-10)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        pytest.param([1, 2, 1, 2, 2, 1], "must be 0/1", id="coded-1-2"),
        pytest.param(["a", "b", "c", "a", "b", "c"], "3 levels", id="three-levels"),
    ],
)
def test_non_binary_outcome_is_rejected(values: list[object], match: str) -> None:
    data = pd.DataFrame({"y": values, "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    with pytest.raises(AnalysisError, match=match):
        logistic_regression(data, outcome="y", covariates=["x"])


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([0, 0, 0, 0], id="all-zero"),
        pytest.param([True] * 4, id="all-true"),
        pytest.param(["yes"] * 4, id="one-level"),
        pytest.param(pd.Categorical(["no"] * 4, categories=["no", "yes"]), id="unused-level"),
    ],
)
@pytest.mark.parametrize("method", ["ml", "firth"])
def test_single_class_outcome_is_degenerate(values: object, method: str) -> None:
    data = pd.DataFrame({"y": values, "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DegenerateDataError, match="single value"):
        logistic_regression(data, outcome="y", covariates=["x"], method=method)  # type: ignore[arg-type]


# -- degenerate designs ------------------------------------------------------------------


def test_separation_names_the_term_and_suggests_firth() -> None:
    data = pd.DataFrame(
        {
            "y": [0, 0, 0, 0, 1, 1, 1, 0, 1, 0],
            "bridging_failure": [0, 0, 0, 0, 1, 1, 1, 1, 1, 0],
            "age_years": [50, 61, 45, 70, 58, 66, 49, 52, 63, 55],
        }
    )
    with pytest.raises(SeparationError, match=r"bridging_failure \(\+inf\).*method='firth'"):
        logistic_regression(data, outcome="y", covariates=["age_years", "bridging_failure"])
    res = logistic_regression(
        data, outcome="y", covariates=["age_years", "bridging_failure"], method="firth"
    )
    assert np.isfinite(res.table[["coef", "lower", "upper"]].to_numpy()).all()


def test_separation_on_a_large_scale_covariate_is_detected() -> None:
    # The LP bounds |beta| <= 1 and calls |beta| > 1e-4 infinite; columns are rescaled
    # first so a covariate in large units still registers.
    data = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1], "ldh_u_per_l": [1e5, 2e5, 3e5, 4e5, 5e5, 6e5]})
    with pytest.raises(SeparationError, match="ldh_u_per_l"):
        logistic_regression(data, outcome="y", covariates=["ldh_u_per_l"])


def test_collinear_covariates_are_named(cohort: pd.DataFrame) -> None:
    data = cohort.assign(age_months=cohort["age_years"] * 12)
    with pytest.raises(CollinearityError, match=r"age_months|age_years"):
        logistic_regression(data, outcome="crs3", covariates=["age_years", "age_months"])


def test_constant_covariate_is_collinear_with_intercept(cohort: pd.DataFrame) -> None:
    with pytest.raises(CollinearityError, match="site"):
        logistic_regression(
            cohort.assign(site=3.0), outcome="crs3", covariates=["age_years", "site"]
        )


def test_fitted_probabilities_of_0_or_1_warn_as_r_does() -> None:
    data = pd.DataFrame({"y": [0, 0, 1, 0, 1, 1], "x": [-200.0, -2, -1, 1, 2, 200]})
    with pytest.warns(StatisticalWarning, match="numerically 0 or 1"):
        res = logistic_regression(data, outcome="y", covariates=["x"])
    assert len(res.warnings) == 1
    assert "numerically 0 or 1" in res.warnings[0]


def test_infinite_covariate_is_rejected(cohort: pd.DataFrame) -> None:
    data = cohort.assign(age_years=cohort["age_years"].replace(cohort["age_years"].iloc[0], np.inf))
    with pytest.raises(AnalysisError, match="infinite"):
        logistic_regression(data, outcome="crs3", covariates=["age_years"])


def test_incomplete_rows_are_excluded_and_reported(cohort: pd.DataFrame) -> None:
    data = cohort.copy()
    data.loc[[0, 5], "age_years"] = np.nan
    data.loc[[7], "crs3"] = np.nan
    res = logistic_regression(data, outcome="crs3", covariates=["age_years"])
    assert res.n == len(cohort) - 3
    assert res.n_excluded == 3
    assert any("age_years" in e for e in res.exclusions)
    complete = logistic_regression(
        cohort.drop(index=[0, 5, 7]), outcome="crs3", covariates=["age_years"]
    )
    pd.testing.assert_frame_equal(res.table, complete.table)


# -- argument validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"method": "mle"}, "`method` must be one of 'ml', 'firth'", id="method"),
        pytest.param({"ci_method": "exact"}, "`ci_method`", id="ci-method"),
        pytest.param({"confidence_level": 95}, "Did you mean 0.95", id="level-percent"),
        pytest.param({"confidence_level": 1.0}, "must be in", id="level-one"),
        pytest.param({"confidence_level": True}, "must be a number", id="level-bool"),
        pytest.param({"covariates": []}, "at least one covariate", id="no-covariates"),
        pytest.param({"covariates": ["age_years", "age_years"]}, "more than once", id="dup"),
        pytest.param({"covariates": ["crs3"]}, "contains the outcome", id="outcome-in-x"),
        pytest.param({"covariates": ["age_yrs"]}, "Did you mean 'age_years'", id="typo"),
        pytest.param({"outcome": "crs_3"}, "Did you mean 'crs3'", id="outcome-typo"),
        pytest.param({"covariates": [1]}, "list of column names", id="not-names"),
    ],
)
def test_invalid_arguments_name_the_argument(
    cohort: pd.DataFrame, kwargs: dict[str, object], match: str
) -> None:
    arguments: dict[str, object] = {"outcome": "crs3", "covariates": ["age_years"], **kwargs}
    with pytest.raises(AnalysisError, match=match):
        logistic_regression(cohort, **arguments)  # type: ignore[arg-type]


def test_single_covariate_name_as_string(cohort: pd.DataFrame) -> None:
    res = logistic_regression(cohort, outcome="crs3", covariates="age_years")
    assert res.table["term"].tolist() == ["(Intercept)", "age_years"]


# -- result object -----------------------------------------------------------------------


def test_result_shape_and_exports(cohort: pd.DataFrame) -> None:
    res = logistic_regression(cohort, outcome="crs3", covariates=["age_years", "burden"])
    assert isinstance(res, LogisticResult)
    assert list(res.table.columns) == [
        "term",
        "coef",
        "se",
        "z",
        "p_value",
        "odds_ratio",
        "lower",
        "upper",
    ]
    # R factor order: sorted levels, first is the reference.
    assert res.table["term"].tolist() == [
        "(Intercept)",
        "age_years",
        "burden[high]",
        "burden[low]",
    ]
    assert isinstance(res.lr_test, ChiSquareTest)
    assert res.lr_test.df == 3
    assert isinstance(res.method, MethodInfo)
    assert res.converged
    assert res.iterations > 0
    assert res.warnings == ()
    frame = res.to_frame()
    frame.loc[0, "coef"] = 99.0
    assert res.table.loc[0, "coef"] != 99.0
    ard = res.to_ard()
    assert set(ard.columns) == {"analysis", "term", "stat_name", "stat_value"}
    assert len(ard) == 4 * 7 + 9
    model_rows = ard[ard["term"] == "(model)"].set_index("stat_name")["stat_value"]
    assert model_rows["lr_p_value"] == res.lr_test.p_value
    assert model_rows["n"] == res.n
    text = repr(res)
    assert text.startswith("LogisticResult(method='ml'")
    assert len(text) < 200


def test_result_is_frozen(cohort: pd.DataFrame) -> None:
    res = logistic_regression(cohort, outcome="crs3", covariates=["age_years"])
    with pytest.raises(AttributeError):
        res.n = 3  # type: ignore[misc]


def test_method_info_describes_firth_conventions(cohort: pd.DataFrame) -> None:
    res = logistic_regression(cohort, outcome="crs3", covariates=["age_years"], method="firth")
    options = res.method.options
    assert "w (1 + h)" in str(options["se"])
    assert "profile penalised likelihood" in str(options["ci"])
    assert "full-design penalty" in str(options["lr_test"])
    assert "firthmodels" not in res.method.description


def test_firth_null_model_keeps_the_full_design_penalty(cohort: pd.DataFrame) -> None:
    # logistf's null model holds the covariates at 0 but penalises with the full design
    # X (n x q): X'WX = p(1-p) X'X, so the penalised log-likelihood of the null model is
    # k log p + (n-k) log(1-p) + 0.5 (q log(p(1-p)) + log det X'X), maximised in closed
    # form at p = (k + q/2) / (n + q). An intercept-only Firth fit would use q = 1.
    res = logistic_regression(cohort, outcome="crs3", covariates=["age_years"], method="firth")
    x = np.column_stack([np.ones(len(cohort)), cohort["age_years"]])
    n, k, q = len(cohort), int(cohort["crs3"].sum()), x.shape[1]
    p = (k + q / 2) / (n + q)
    logdet = np.linalg.slogdet(x.T @ x)[1]
    null = k * math.log(p) + (n - k) * math.log1p(-p) + 0.5 * (q * math.log(p * (1 - p)) + logdet)
    assert res.lr_test.statistic == pytest.approx(2 * (res.loglik - null), rel=1e-9)
    assert res.lr_test.df == 1


# -- failure paths -----------------------------------------------------------------------


def test_ml_non_convergence_raises(cohort: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import cartcohort.analyse.logistic as module

    monkeypatch.setattr(module, "_IRLS_MAXITER", 1)
    with pytest.raises(ConvergenceError, match="did not converge"):
        logistic_regression(cohort, outcome="crs3", covariates=["age_years"])


def test_firth_non_convergence_raises(
    cohort: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cartcohort.analyse.logistic as module

    monkeypatch.setattr(module, "_MAX_ITER", 1)
    with pytest.raises(ConvergenceError, match="Firth"):
        logistic_regression(cohort, outcome="crs3", covariates=["age_years"], method="firth")


def test_failed_profile_fit_warns_and_reports_nan(
    cohort: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cartcohort.analyse.logistic as module

    def failing(self: object, value: float) -> float:
        self.failed = True  # type: ignore[attr-defined]
        return math.nan

    monkeypatch.setattr(module._Profile, "deviance", failing)
    with pytest.warns(StatisticalWarning, match="did not converge while profiling"):
        res = logistic_regression(
            cohort, outcome="crs3", covariates=["age_years"], ci_method="profile"
        )
    assert res.table[["p_value", "lower", "upper"]].isna().all().all()
    assert len(res.warnings) == 2
