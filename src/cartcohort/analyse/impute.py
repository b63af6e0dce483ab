"""Multiple imputation: fit one model on M imputed datasets and pool by Rubin's rules.

:func:`impute_and_pool` either takes M imputed datasets made elsewhere (R ``mice``, or any
other software) or makes them by chained equations with predictive mean matching
(statsmodels' ``MICEData``), fits the same model on each with the existing estimators
(:func:`~cartcohort.analyse.cox.cox_ph`, :func:`~cartcohort.analyse.logistic.
logistic_regression`) and pools the coefficients exactly as R ``mice::pool`` (mice 3.15):
Rubin's rules with the Barnard–Rubin small-sample degrees of freedom and mice's
complete-data degrees of freedom (``dfcom``). The method, its formulas and its limits are
in ``docs/methods/multiple-imputation.md``.
"""

from __future__ import annotations

import inspect
import math
import warnings as _warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort.analyse._dist import t_ppf, t_sf
from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.analyse.logistic import LogisticResult, logistic_regression
from cartcohort.errors import AnalysisError, StatisticalWarning

FloatArray = npt.NDArray[np.float64]
PooledModel = Literal["cox", "logistic"]
Fit = CoxResult | LogisticResult

#: Burn-in cycles of each chained-equations chain (mice's ``maxit`` is 5; 10 is safer).
DEFAULT_ITERATIONS = 10
#: Donors of predictive mean matching (mice's default ``donors = 5``).
K_PMM = 5
#: mice floors lambda at this value inside the Barnard-Rubin df (``mice:::barnard.rubin``).
_LAMBDA_FLOOR = 1e-4

_ESTIMATORS: dict[str, Callable[..., Fit]] = {"cox": cox_ph, "logistic": logistic_regression}
_OUTCOME_ROLES: dict[str, tuple[str, ...]] = {
    "cox": ("time", "event", "start"),
    "logistic": ("outcome",),
}
_PREDICTOR_ROLES: dict[str, tuple[str, ...]] = {"cox": ("strata",), "logistic": ()}
_RATIO: dict[str, str] = {"cox": "hr", "logistic": "odds_ratio"}
_TABLE_COLUMNS = [
    "term",
    "estimate",
    "se",
    "statistic",
    "df",
    "p_value",
    "lower",
    "upper",
    "ubar",
    "b",
    "t",
    "dfcom",
    "riv",
    "lambda",
    "fmi",
]


# --------------------------------------------------------------------------------------
# Rubin's rules
# --------------------------------------------------------------------------------------


def barnard_rubin_df(m: int, b: FloatArray, t: FloatArray, dfcom: float) -> FloatArray:
    """Barnard–Rubin (1999) degrees of freedom, as ``mice:::barnard.rubin``.

    ``lambda = (1 + 1/m) b / t`` is floored at 1e-4 (so that ``b = 0`` gives a large
    finite ``dfold``); ``dfold = (m - 1) / lambda^2``,
    ``dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)`` and
    ``df = dfold * dfobs / (dfold + dfobs)`` (``dfold`` when ``dfcom`` is infinite).
    """
    lam = np.maximum((1.0 + 1.0 / m) * b / t, _LAMBDA_FLOOR)
    dfold = (m - 1) / lam**2
    if math.isinf(dfcom):
        return np.asarray(dfold, dtype=np.float64)
    dfobs = (dfcom + 1.0) / (dfcom + 3.0) * dfcom * (1.0 - lam)
    return np.asarray(dfold * dfobs / (dfold + dfobs), dtype=np.float64)


def rubin_pool(
    estimates: FloatArray,
    variances: FloatArray,
    *,
    dfcom: float,
    confidence_level: float = 0.95,
) -> dict[str, FloatArray]:
    """Pool ``(m, p)`` estimates and squared standard errors as ``mice::pool`` (rubin1987).

    Returns per term: ``estimate`` (mean), ``ubar`` (mean within variance), ``b`` (between
    variance, denominator m - 1), ``t = ubar + (1 + 1/m) b``, ``df`` (Barnard–Rubin),
    ``riv = (1 + 1/m) b / ubar``, ``lambda = (1 + 1/m) b / t``,
    ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``, ``se = sqrt(t)``, ``statistic = estimate /
    se``, two-sided ``p_value`` from Student's t with ``df``, and ``lower, upper`` =
    ``estimate -/+ qt((1 + level) / 2, df) se`` (``summary(pool, conf.int = TRUE)``).
    """
    m = estimates.shape[0]
    qbar = estimates.mean(axis=0)
    ubar = variances.mean(axis=0)
    # Deviations from the first estimate: identical estimates give b = 0 exactly.
    b = (estimates - estimates[0]).var(axis=0, ddof=1)
    t = ubar + (1.0 + 1.0 / m) * b
    df = barnard_rubin_df(m, b, t, dfcom)
    riv = (1.0 + 1.0 / m) * b / ubar
    lam = (1.0 + 1.0 / m) * b / t
    fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
    se = np.sqrt(t)
    stat = qbar / se
    q = t_ppf(0.5 + confidence_level / 2, df)
    return {
        "estimate": qbar,
        "se": se,
        "statistic": stat,
        "df": df,
        "p_value": np.asarray(2.0 * t_sf(np.abs(stat), df), dtype=np.float64),
        "lower": qbar - q * se,
        "upper": qbar + q * se,
        "ubar": ubar,
        "b": b,
        "t": t,
        "dfcom": np.full(qbar.shape, float(dfcom)),
        "riv": riv,
        "lambda": lam,
        "fmi": fmi,
    }


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PooledResult:
    """A model fitted on M imputed datasets and pooled by Rubin's rules (``mice::pool``).

    Attributes
    ----------
    table
        One row per coefficient: ``term, estimate, se, statistic, df, p_value, lower,
        upper`` (log scale, as ``summary(pool(fit), conf.int = TRUE)``), the pooling
        quantities ``ubar, b, t, dfcom, riv, lambda, fmi`` (as ``pool(fit)$pooled``), and
        the ratio scale: ``hr, hr_lower, hr_upper`` (Cox) or ``odds_ratio, or_lower,
        or_upper`` (logistic), the exponentials of ``estimate, lower, upper``.
    fits
        The M per-imputation fits (``CoxResult`` or ``LogisticResult``), in order.
    imputations
        The M completed datasets the fits used.
    missing
        Per column used by the model or the imputation: ``column, n_missing, fraction``
        in the original data.
    model
        ``"cox"`` or ``"logistic"``.
    m, n, dfcom, confidence_level
        Number of imputations, rows per dataset, complete-data df, interval level.
    method, warnings
        How the numbers were computed, and the warnings raised.
    """

    table: pd.DataFrame
    fits: tuple[Fit, ...]
    imputations: tuple[pd.DataFrame, ...]
    missing: pd.DataFrame
    model: str
    m: int
    n: int
    dfcom: float
    confidence_level: float
    method: MethodInfo
    warnings: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"PooledResult(model={self.model!r}, m={self.m}, n={self.n}, "
            f"terms={len(self.table)}, dfcom={self.dfcom:g})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The pooled table (a copy of :attr:`table`)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows of the pooled table."""
        return frame_to_ard(self.table, analysis="multiple_imputation", keys=["term"])


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------


def _roles(model: str, options: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Outcome columns and predictor columns named in ``options``."""
    outcome = [options[r] for r in _OUTCOME_ROLES[model] if options.get(r) is not None]
    covariates = options.get("covariates", [])
    if isinstance(covariates, str):
        covariates = [covariates]
    predictors = [str(c) for c in covariates]
    for role in _PREDICTOR_ROLES[model]:
        value = options.get(role)
        if isinstance(value, str):
            predictors.append(value)
        elif isinstance(value, Sequence):
            predictors.extend(str(v) for v in value)
    return [str(c) for c in outcome], predictors


def _check_arguments(
    data: object, model: object, options: object, m: object, confidence_level: object
) -> None:
    if not isinstance(data, pd.DataFrame):
        msg = f"`data` must be a pandas DataFrame (the incomplete data); got {type(data)}."
        raise AnalysisError(msg)
    if model not in _ESTIMATORS:
        msg = f"`model` must be one of {sorted(_ESTIMATORS)}; got {model!r}."
        raise AnalysisError(msg)
    if not isinstance(options, Mapping):
        msg = (
            "`model_options` must be a mapping of the estimator's keyword arguments, e.g. "
            f"{{'time': 'os_days', 'event': 'death', 'covariates': ['age']}}; got {options!r}."
        )
        raise AnalysisError(msg)
    if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 2:
        msg = f"`m` (number of imputations) must be an integer >= 2; got {m!r}. Use 20 or more."
        raise AnalysisError(msg)
    if not isinstance(confidence_level, int | float) or not 0 < confidence_level < 1:
        msg = f"`confidence_level` must be in (0, 1); got {confidence_level!r}."
        raise AnalysisError(msg)


def _missing_table(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        msg = f"Column(s) {missing} named for the model or the imputation are not in the data."
        raise AnalysisError(msg)
    n_missing = [int(data[c].isna().sum()) for c in columns]
    return pd.DataFrame(
        {
            "column": list(columns),
            "n_missing": n_missing,
            "fraction": [k / len(data) if len(data) else math.nan for k in n_missing],
        }
    )


def _same_values(a: pd.Series, b: pd.Series) -> npt.NDArray[np.bool_]:
    """Element-wise equality, numerically for numbers (60 == 60.0), else as text."""
    numeric = pd.api.types.is_numeric_dtype
    if numeric(a) and numeric(b):
        return np.asarray(_numeric(a) == _numeric(b))
    return np.asarray(a.astype(str).to_numpy() == b.astype(str).to_numpy())


def _check_imputations(
    data: pd.DataFrame, imputations: object, columns: Sequence[str]
) -> list[pd.DataFrame]:
    """User-supplied imputations: complete in ``columns`` and equal to ``data`` where observed."""
    if isinstance(imputations, pd.DataFrame) or not isinstance(imputations, Sequence):
        msg = (
            "`imputations` must be a list of DataFrames (one per imputed dataset, rows in the "
            f"order of `data`); got {type(imputations).__name__}."
        )
        raise AnalysisError(msg)
    if len(imputations) < 2:
        msg = f"`imputations` must hold at least 2 datasets; got {len(imputations)}."
        raise AnalysisError(msg)
    problems: list[str] = []
    out = []
    for j, frame in enumerate(imputations, start=1):
        if not isinstance(frame, pd.DataFrame):
            problems.append(f"imputation {j} is a {type(frame).__name__}, not a DataFrame")
            continue
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            problems.append(f"imputation {j} lacks column(s) {absent}")
            continue
        if len(frame) != len(data):
            problems.append(
                f"imputation {j} has {len(frame)} rows, the data {len(data)} (rows must "
                "correspond one to one, in the same order)"
            )
            continue
        for c in columns:
            imputed = frame[c].reset_index(drop=True)
            original = data[c].reset_index(drop=True)
            still = np.flatnonzero(imputed.isna().to_numpy())
            if still.size:
                problems.append(
                    f"imputation {j}, column {c!r}: rows {still[:5].tolist()} are still "
                    "missing (every imputed dataset must be complete in the model columns)"
                )
            observed = original.notna().to_numpy()
            same = _same_values(imputed[observed], original[observed])
            if not same.all():
                rows = np.flatnonzero(observed)[~same][:5].tolist()
                problems.append(
                    f"imputation {j}, column {c!r}: rows {rows} differ from the observed "
                    f"data ({imputed.iloc[rows].tolist()} vs {original.iloc[rows].tolist()}); "
                    "imputed datasets must keep every observed value and the row order"
                )
        out.append(frame.reset_index(drop=True))
    if problems:
        msg = "The supplied imputations cannot be used:\n- " + "\n- ".join(problems)
        raise AnalysisError(msg)
    return out


# --------------------------------------------------------------------------------------
# chained equations (statsmodels MICEData)
# --------------------------------------------------------------------------------------


def _nelson_aalen(time: FloatArray, event: FloatArray) -> FloatArray:
    """Nelson–Aalen cumulative hazard at each row's own time (White & Royston 2009)."""
    order = np.argsort(time, kind="stable")
    ts, es = time[order], event[order]
    distinct, first = np.unique(ts, return_index=True)
    n_risk = ts.size - first
    deaths = np.bincount(np.searchsorted(distinct, ts), weights=es, minlength=distinct.size)
    cum = np.cumsum(deaths / n_risk)
    out: FloatArray = cum[np.searchsorted(distinct, time)]
    return out


def _numeric(values: pd.Series) -> FloatArray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed NumPy's global RNG for statsmodels releases without ``rng=`` and restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _mice_chain(frame: pd.DataFrame, seed: int, iterations: int) -> tuple[pd.DataFrame, list[str]]:
    """One chain of chained equations; the completed frame and statsmodels' warnings."""
    from statsmodels.imputation.mice import MICEData

    kwargs: dict[str, Any] = {"k_pmm": K_PMM}
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if "rng" in inspect.signature(MICEData).parameters:
            kwargs["rng"] = np.random.default_rng(seed)
            imp = MICEData(frame, **kwargs)
            imp.update_all(iterations)
        else:  # pragma: no cover - statsmodels < 0.14 draws from the global RNG
            with _seeded_global_rng(seed):
                imp = MICEData(frame, **kwargs)
                imp.update_all(iterations)
    completed: pd.DataFrame = imp.data
    return completed, list(dict.fromkeys(str(w.message) for w in caught))


def _impute(
    data: pd.DataFrame,
    *,
    model: str,
    options: Mapping[str, Any],
    predictors: Sequence[str],
    m: int,
    seed: int,
    iterations: int,
) -> tuple[list[pd.DataFrame], list[str], list[str]]:
    """M independent chains of chained equations with PMM; returns datasets and predictors."""
    columns = list(dict.fromkeys(predictors))
    frame = pd.DataFrame(index=pd.RangeIndex(len(data)))
    problems = []
    used: list[str] = []
    for c in columns:
        s = data[c].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            frame[c] = _numeric(s)
            used.append(c)
        elif s.isna().any():
            problems.append(
                f"column {c!r} ({s.dtype}) has {int(s.isna().sum())} missing values but is not "
                "numeric: chained equations here impute numeric and boolean columns only. "
                "Code it as 0/1 indicator columns, or impute elsewhere (e.g. R mice) and pass "
                "`imputations=`"
            )
    if problems:
        msg = "Cannot impute:\n- " + "\n- ".join(problems)
        raise AnalysisError(msg)
    # The outcome enters every imputation model (White & Royston 2009 for survival: the
    # event indicator and the Nelson-Aalen cumulative hazard, not the raw time).
    if model == "cox":
        t = _numeric(data[options["time"]])
        e = _numeric(data[options["event"]])
        frame["__event"] = e
        frame["__cumhaz"] = _nelson_aalen(t, e)
    elif options["outcome"] not in used:
        y = data[options["outcome"]].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            frame["__outcome"] = _numeric(y)
        else:
            frame["__outcome"] = pd.Series(pd.factorize(y)[0], dtype=np.float64)
    empty = np.flatnonzero(frame.isna().all(axis=1).to_numpy())
    if empty.size:
        msg = (
            f"Rows {empty[:5].tolist()} have every column of the imputation missing "
            f"({', '.join(frame.columns)}); nothing observed predicts them. Remove those rows."
        )
        raise AnalysisError(msg)
    names = {c: f"v{i}" for i, c in enumerate(frame.columns)}
    safe = frame.rename(columns=names)
    safe.columns = pd.Index([str(c) for c in safe.columns], dtype=object)
    seeds = np.random.SeedSequence(seed).generate_state(m)
    out = []
    notes: list[str] = []
    for j in range(m):
        completed, caught = _mice_chain(safe, int(seeds[j]), iterations)
        notes.extend(f"Imputation {j + 1} (statsmodels MICEData): {w}" for w in caught)
        dataset = data.reset_index(drop=True).copy()
        for c in used:
            values = completed[names[c]].to_numpy(dtype=np.float64)
            if pd.api.types.is_bool_dtype(data[c]):
                dataset[c] = values.astype(bool)
            else:
                dataset[c] = values
        out.append(dataset)
    return out, used, notes


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------


def _check_missing(
    missing: pd.DataFrame,
    outcome: Sequence[str],
    n: int,
    collector: WarningCollector,
    *,
    impute_outcome: bool,
) -> list[str]:
    """Refuse or warn about a missing outcome; warn about mostly missing columns."""
    names = missing["column"].tolist()
    counts = missing["n_missing"].to_numpy(dtype=np.int64)
    fractions = missing["fraction"].to_numpy(dtype=np.float64)
    in_outcome = [c in outcome and k > 0 for c, k in zip(names, counts, strict=True)]
    listed = [
        f"{c!r} ({k} rows, {f:.0%})"
        for c, k, f, hit in zip(names, counts, fractions, in_outcome, strict=True)
        if hit
    ]
    if listed and not impute_outcome:
        msg = (
            f"The outcome has missing values: {', '.join(listed)}. Imputing the outcome is "
            "refused by default (imputed survival times, events or responses add noise and, "
            "under MAR, no information); drop those rows, or pass impute_outcome=True."
        )
        raise AnalysisError(msg)
    if listed:
        collector.warn(
            f"The outcome was imputed (impute_outcome=True): {', '.join(listed)} missing. "
            "Report this; analyses usually drop rows with a missing outcome."
        )
    for c, k, f in zip(names, counts, fractions, strict=True):
        if f > 0.5:
            collector.warn(
                f"Column {c!r} is {f:.0%} missing ({k} of {n} rows); imputations of a mostly "
                "missing variable rest on the imputation model more than on data. Consider "
                "leaving it out.",
            )
    return [c for c, hit in zip(names, in_outcome, strict=True) if hit]


def _run_imputation(
    data: pd.DataFrame,
    model: str,
    options: Mapping[str, Any],
    columns: Sequence[str],
    m: int,
    seed: object,
    iterations: object,
    collector: WarningCollector,
) -> tuple[list[pd.DataFrame], dict[str, str | int | float | bool | None]]:
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        msg = (
            "`seed` (an integer) is required when imputing, so that the imputations can be "
            f"reproduced; got {seed!r}."
        )
        raise AnalysisError(msg)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        msg = f"`iterations` must be a positive integer; got {iterations!r}."
        raise AnalysisError(msg)
    datasets, used, notes = _impute(
        data,
        model=model,
        options=options,
        predictors=columns,
        m=int(m),
        seed=int(seed),
        iterations=int(iterations),
    )
    for note in notes:
        collector.warn(note)
    return datasets, {
        "imputation": "chained equations, statsmodels MICEData (PMM)",
        "k_pmm": K_PMM,
        "iterations": int(iterations),
        "seed": int(seed),
        "imputed_columns": ", ".join(used),
    }


def _fit_each(
    estimator: Callable[..., Fit],
    datasets: Sequence[pd.DataFrame],
    options: Mapping[str, Any],
    collector: WarningCollector,
) -> list[Fit]:
    """Fit the model on each dataset; its warnings are re-issued naming the imputation."""
    fits: list[Fit] = []
    for j, frame in enumerate(datasets, start=1):
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            fit = estimator(frame, **options)
        for w in caught:
            collector.warn(f"Imputation {j}: {w.message}", _category(w.category))
        fits.append(fit)
    return fits


def _dfcom(model: str, fit: Fit, n_terms: int) -> float:
    """mice's complete-data df: glm ``df.residual``; coxph ``nevent - p`` (at least 1)."""
    if model == "cox":
        return float(max(fit.n_events - n_terms, 1))
    return float(max(fit.n - n_terms, 1))


def impute_and_pool(
    data: pd.DataFrame,
    *,
    model: PooledModel,
    model_options: Mapping[str, Any],
    imputations: Sequence[pd.DataFrame] | None = None,
    m: int = 20,
    seed: int | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    auxiliary: Sequence[str] = (),
    impute_outcome: bool = False,
    dfcom: float | None = None,
    confidence_level: float = 0.95,
) -> PooledResult:
    """Fit a model on M imputed datasets and pool the coefficients as R ``mice::pool``.

    Parameters
    ----------
    data
        The original data, with missing values (one row per patient).
    model
        ``"cox"`` (:func:`~cartcohort.analyse.cox.cox_ph`) or ``"logistic"``
        (:func:`~cartcohort.analyse.logistic.logistic_regression`).
    model_options
        Keyword arguments of that estimator, passed through unchanged, e.g.
        ``{"time": "os_days", "event": "death", "covariates": ["age", "ldh"]}``.
    imputations
        Optional M imputed datasets made elsewhere (e.g. ``mice::complete(imp, i)``), rows
        in the order of ``data``; every observed value of the model columns must be kept.
        Without it, ``m`` datasets are imputed here (see Notes).
    m
        Number of imputations to make (ignored with ``imputations``); default 20.
    seed
        Seed of the imputation (required when imputing; the same seed gives the same
        datasets with the same statsmodels release).
    iterations
        Cycles of chained equations per dataset (default 10; mice's ``maxit`` is 5).
    auxiliary
        Extra numeric columns used only as predictors in the imputation models.
    impute_outcome
        Allow missing outcome values (survival time, event, start, or the binary outcome)
        to be imputed. Default ``False``: missing outcomes are an error.
    dfcom
        Complete-data degrees of freedom; default as mice: ``n - p`` for logistic
        (``glm``'s ``df.residual``), ``events - p`` for Cox.
    confidence_level
        Level of ``lower, upper`` (Student's t with the pooled df).

    Returns
    -------
    PooledResult
        Pooled table, per-imputation fits, imputed datasets, fraction missing per column.

    Raises
    ------
    AnalysisError
        Bad arguments, missing columns, a non-numeric column with missing values (when
        imputing), a missing outcome without ``impute_outcome``, or supplied imputations
        that are incomplete or differ from the observed data (all problems listed).

    Notes
    -----
    Rubin's rules, exactly as ``mice::pool`` (rule ``rubin1987``): with :math:`\\hat Q_j`,
    :math:`U_j` the estimate and squared standard error in imputation :math:`j`,
    :math:`\\bar Q = \\frac1m\\sum \\hat Q_j`, :math:`\\bar U = \\frac1m\\sum U_j`,
    :math:`B = \\frac1{m-1}\\sum(\\hat Q_j - \\bar Q)^2`, :math:`T = \\bar U + (1+1/m)B`,
    Barnard–Rubin df with mice's ``dfcom``, ``riv``, ``lambda`` and ``fmi`` as mice.

    Imputation here: statsmodels ``MICEData`` (chained equations; each variable's model
    is OLS on all others with Gaussian perturbation of its coefficients, and values are
    drawn by predictive mean matching from the 5 closest donors), M independent chains of
    ``iterations`` cycles, each seeded from ``numpy.random.SeedSequence(seed)``. Numeric and
    boolean model columns and ``auxiliary`` columns are imputed and used as predictors;
    the outcome enters as predictor (Cox: the event indicator and the Nelson–Aalen
    cumulative hazard, White & Royston 2009). Non-numeric columns without missing values
    are kept but are not predictors. Valid under missing at random (MAR) only.
    """
    _check_arguments(data, model, model_options, m, confidence_level)
    options = dict(model_options)
    if "data" in options:
        msg = "`model_options` must not contain `data`; pass the data as the first argument."
        raise AnalysisError(msg)
    outcome, predictors = _roles(model, options)
    if not outcome:
        needed = " and ".join(f"`{r}`" for r in _OUTCOME_ROLES[model][:2])
        msg = f"`model_options` for {model!r} must name {needed}."
        raise AnalysisError(msg)
    aux = [auxiliary] if isinstance(auxiliary, str) else [str(a) for a in auxiliary]
    columns = list(dict.fromkeys([*outcome, *predictors, *aux]))
    missing = _missing_table(data, columns)
    collector = WarningCollector()
    outcome_missing = _check_missing(
        missing, outcome, len(data), collector, impute_outcome=impute_outcome
    )

    if imputations is None:
        imputation_columns = [c for c in [*predictors, *aux] if c not in outcome]
        if outcome_missing:
            if model == "cox":
                msg = (
                    "Imputing survival times or events is not supported by the chained "
                    "equations here; impute them elsewhere and pass `imputations=`."
                )
                raise AnalysisError(msg)
            imputation_columns.append(outcome[0])
        datasets, source = _run_imputation(
            data, model, options, imputation_columns, m, seed, iterations, collector
        )
    else:
        datasets = _check_imputations(data, imputations, columns)
        source = {"imputation": "supplied by the user"}
    m_used = len(datasets)
    if m_used < 5:
        collector.warn(
            f"Only {m_used} imputations: between-imputation variance and the pooled df are "
            "imprecise. Use at least 5, and about the percentage of incomplete cases "
            "(White, Royston & Wood 2011)."
        )
    fits = _fit_each(_ESTIMATORS[model], datasets, options, collector)

    tables = [f.table for f in fits]
    terms = tables[0]["term"].tolist()
    for j, table in enumerate(tables[1:], start=2):
        if table["term"].tolist() != terms:
            msg = (
                f"The fit on imputation {j} has terms {table['term'].tolist()}, the first "
                f"{terms}: a factor level is absent from some imputed datasets. Pool only "
                "models with the same terms (combine rare levels)."
            )
            raise AnalysisError(msg)
    estimates = np.vstack([t["coef"].to_numpy(dtype=np.float64) for t in tables])
    variances = np.vstack([np.square(t["se"].to_numpy(dtype=np.float64)) for t in tables])
    df_complete = float(dfcom) if dfcom is not None else _dfcom(model, fits[0], len(terms))
    if not df_complete > 0:
        msg = f"`dfcom` must be positive (or None for mice's default); got {dfcom!r}."
        raise AnalysisError(msg)
    pooled = rubin_pool(
        estimates, variances, dfcom=df_complete, confidence_level=float(confidence_level)
    )
    table = pd.DataFrame({"term": terms, **pooled})[_TABLE_COLUMNS]
    ratio = _RATIO[model]
    prefix = "hr" if model == "cox" else "or"
    table[ratio] = np.exp(table["estimate"])
    table[f"{prefix}_lower"] = np.exp(table["lower"])
    table[f"{prefix}_upper"] = np.exp(table["upper"])
    return PooledResult(
        table=table,
        fits=tuple(fits),
        imputations=tuple(datasets),
        missing=missing,
        model=model,
        m=m_used,
        n=int(fits[0].n),
        dfcom=df_complete,
        confidence_level=float(confidence_level),
        method=MethodInfo(
            estimator="Multiple imputation, Rubin's rules",
            description=(
                f"The {'Cox' if model == 'cox' else 'logistic'} model was fitted on each of "
                f"{m_used} imputed datasets and the estimates pooled by Rubin's rules with "
                "Barnard-Rubin degrees of freedom."
            ),
            options={
                **source,
                "m": m_used,
                "pooling": "rubin1987",
                "df": "Barnard-Rubin with dfcom",
                "dfcom": df_complete,
                "confidence_level": float(confidence_level),
            },
            reference="mice::pool / summary(pool(fit), conf.int = TRUE) (R package mice 3.15)",
        ),
        warnings=collector.as_tuple(),
    )


def _category(category: type[Warning]) -> type[Warning]:
    return category if issubclass(category, UserWarning) else StatisticalWarning


__all__ = ["PooledResult", "barnard_rubin_df", "impute_and_pool", "rubin_pool"]
