"""Logistic regression for a binary outcome: maximum likelihood and Firth.

``logistic_regression(data, outcome=..., covariates=[...])`` reproduces R's
``glm(family = binomial)`` (``method="ml"``) or logistf's Firth penalised
likelihood (``method="firth"``) and returns a :class:`LogisticResult` with one
tidy row per coefficient.

Engines (see ``docs/methods/logistic-regression.md``):

- ML point estimates come from statsmodels' ``GLM(Binomial)`` IRLS run to a
  deviance tolerance far tighter than R's default; it reproduces R's estimates
  to ~1e-13. Standard errors are recomputed here from the Fisher information at
  the final estimate.
- Separation is detected before fitting with the linear program of Konis (2007),
  via ``firthmodels.detect_separation``.
- Firth fits, and every *constrained* fit (a coefficient held fixed, for profile
  intervals and likelihood-ratio tests, ML and Firth alike), use the small
  Newton-Raphson solver below. firthmodels' own solver stops with "step-halving
  failed" at tolerances tight enough to match R to 1e-6, its model-level LR test
  cannot hold several coefficients fixed, and its Venzon-Moolgavkar interval
  landed 9% away from the profile root on a completely separated example; so
  intervals here are exact roots of the (penalised) likelihood-ratio statistic
  found with Brent's method, the approach of the R reference script.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from scipy.special import expit

from cartcohort._results import ChiSquareTest, MethodInfo, WarningCollector, frame_to_ard
from cartcohort._types import LogisticCIMethod, LogisticMethod
from cartcohort.analyse._data import (
    Prepared,
    check_full_rank,
    design_matrix,
    group_levels,
    prepare,
)
from cartcohort.analyse._dist import chi2_ppf, chi2_sf, norm_ppf, norm_sf
from cartcohort.analyse._weights import (
    check_robust_arguments,
    check_weights,
    cluster_codes,
    sum_within,
    weight_values,
)
from cartcohort.errors import (
    AnalysisError,
    CollinearityError,
    ConvergenceError,
    DegenerateDataError,
    SeparationError,
)

FloatArray = npt.NDArray[np.float64]

"""How p-values and confidence intervals are computed (candidate for ``cartcohort._types``)."""

_METHODS: tuple[str, ...] = ("ml", "firth")
_CI_METHODS: tuple[str, ...] = ("wald", "profile")
_INTERCEPT = "(Intercept)"
_TABLE_COLUMNS = ["term", "coef", "se", "z", "p_value", "odds_ratio", "lower", "upper"]

# Convergence of the Newton solver: largest step relative to (1 + |beta|).
_XTOL = 1e-10
# A stalled step this small (relative) is at the floating-point floor: converged.
_XTOL_FLOOR = 1e-7
_MAX_ITER = 500
_MAX_STEP = 5.0
_MAX_HALVINGS = 40
# statsmodels IRLS stopping rule on the deviance: |D_k - D_(k-1)| <= atol + rtol * |D_k|
# (R's glm uses |D_k - D_(k-1)| / (|D_k| + 0.1) < epsilon, default 1e-8).
_IRLS_ATOL = 1e-13
_IRLS_RTOL = 1e-12
_IRLS_MAXITER = 100


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LogisticResult:
    """A fitted logistic regression.

    Attributes
    ----------
    table
        One row per coefficient, first ``(Intercept)``, with columns
        ``term, coef, se, z, p_value, odds_ratio, lower, upper``. ``coef`` is on the
        log-odds scale; ``odds_ratio = exp(coef)`` (for the intercept: the odds of
        the event when every covariate is 0 / at its reference level); ``lower`` and
        ``upper`` are the confidence limits of ``odds_ratio``. ``z`` is the
        standard-normal statistic behind ``p_value``: Wald ``coef / se``, or, for
        likelihood-ratio p-values, the signed root ``sign(coef) * sqrt(chi2)``.
    lr_test
        Likelihood-ratio test of the model against the intercept-only model
        (penalised for Firth, as logistf's "Likelihood ratio test").
    loglik
        Log-likelihood at the estimate (penalised log-likelihood for Firth).
    aic
        ``-2 * loglik + 2 * k`` with ``k`` coefficients (penalised for Firth).
    n, n_events, n_excluded, exclusions
        Rows used, rows with the event, rows dropped as incomplete and why.
    converged, iterations
        Convergence of the main fit and the number of iterations it took.
    confidence_level
        Confidence level of ``lower``/``upper``.
    outcome, event
        The outcome column and the value counted as the event.
    method
        How the numbers were computed (estimator, p-value and CI method, SE formula).
    warnings
        Warnings raised while computing the result.
    """

    table: pd.DataFrame
    lr_test: ChiSquareTest
    loglik: float
    aic: float
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...]
    converged: bool
    iterations: int
    confidence_level: float
    outcome: str
    event: object
    method: MethodInfo
    warnings: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long rows: one per coefficient statistic, then model-level rows (term ``(model)``)."""
        coefs = frame_to_ard(self.table, analysis="logistic_regression", keys=["term"])
        model = pd.DataFrame(
            {
                "term": "(model)",
                "stat_name": [
                    "loglik",
                    "aic",
                    "lr_statistic",
                    "lr_df",
                    "lr_p_value",
                    "n",
                    "n_events",
                    "n_excluded",
                    "confidence_level",
                ],
                "stat_value": [
                    self.loglik,
                    self.aic,
                    self.lr_test.statistic,
                    self.lr_test.df,
                    self.lr_test.p_value,
                    float(self.n),
                    float(self.n_events),
                    float(self.n_excluded),
                    self.confidence_level,
                ],
            }
        )
        model.insert(0, "analysis", "logistic_regression")
        return pd.concat([coefs, model], ignore_index=True)

    def __repr__(self) -> str:
        opts = self.method.options
        return (
            f"LogisticResult(method={opts.get('method')!r}, ci_method={opts.get('ci_method')!r}, "
            f"n={self.n}, n_events={self.n_events}, terms={len(self.table)}, "
            f"lr_test=chi2({self.lr_test.df:g})={self.lr_test.statistic:.4g}, "
            f"p={self.lr_test.p_value:.3g})"
        )


# --------------------------------------------------------------------------------------
# Argument checks and outcome coding
# --------------------------------------------------------------------------------------


def _check_confidence_level(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"`confidence_level` must be a number in (0, 1), e.g. 0.95; got {value!r}."
        raise AnalysisError(msg)
    level = float(value)
    if not (math.isfinite(level) and 0.0 < level < 1.0):
        hint = f" Did you mean {level / 100:g}?" if 1.0 < level < 100.0 else ""
        msg = f"`confidence_level` must be in (0, 1); got {value!r}.{hint}"
        raise AnalysisError(msg)
    return level


def _check_choice(value: object, argument: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        msg = f"`{argument}` must be one of {options}; got {value!r}."
        raise AnalysisError(msg)
    return value


def _check_covariates(covariates: object, outcome: object) -> list[str]:
    if not isinstance(outcome, str):
        msg = f"`outcome` must be a column name (str); got {outcome!r}."
        raise AnalysisError(msg)
    names = [covariates] if isinstance(covariates, str) else covariates
    if not isinstance(names, Sequence) or not all(isinstance(c, str) for c in names):
        msg = f"`covariates` must be a list of column names; got {covariates!r}."
        raise AnalysisError(msg)
    names = list(names)
    if not names:
        msg = "`covariates` is empty; name at least one covariate column, e.g. covariates=['age']."
        raise AnalysisError(msg)
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        msg = f"`covariates` lists {duplicated} more than once; name each column once."
        raise AnalysisError(msg)
    if outcome in names:
        msg = f"`covariates` contains the outcome column {outcome!r}; remove it."
        raise AnalysisError(msg)
    return names


def _check_finite(matrix: FloatArray, terms: tuple[str, ...]) -> None:
    bad = [term for j, term in enumerate(terms) if not np.isfinite(matrix[:, j]).all()]
    if bad:
        msg = (
            f"Covariate term(s) {bad} contain infinite values; logistic regression needs "
            "finite covariates. Replace them with missing values or fix the data."
        )
        raise AnalysisError(msg)


def _single_class(name: str, value: object, n: int) -> DegenerateDataError:
    msg = (
        f"Outcome {name!r} has a single value ({value!r}) in all {n} complete rows; "
        "a logistic regression needs both events and non-events."
    )
    return DegenerateDataError(msg)


def _encode_outcome(values: pd.Series, name: str) -> tuple[FloatArray, object]:
    """Return the 0/1 outcome and the value counted as the event.

    Booleans: ``True`` is the event. Numbers: must be 0/1, 1 is the event. Anything
    else is a factor whose *second* level (Categorical order, else sorted) is the
    event, as R's ``glm`` does.
    """
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        y = values.to_numpy(dtype=np.float64)
        event: object = True
    elif pd.api.types.is_numeric_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64)
        found = sorted(set(np.unique(arr).tolist()))
        if not set(found) <= {0.0, 1.0}:
            msg = (
                f"Outcome {name!r} must be 0/1 (1 = event), boolean, or a two-level factor; "
                f"found values {found[:5]}. Recode it, e.g. data[{name!r}] == <event value>."
            )
            raise AnalysisError(msg)
        y, event = arr, 1
    else:
        levels = group_levels(values)
        if len(levels) > 2:
            msg = (
                f"Outcome {name!r} has {len(levels)} levels {levels[:5]}; logistic regression "
                "needs two. Recode it to 0/1 or True/False."
            )
            raise AnalysisError(msg)
        if len(levels) < 2:
            raise _single_class(name, levels[0] if levels else None, n)
        event = levels[1]
        y = (values.to_numpy(dtype=object) == event).astype(np.float64)
    if y.min() == y.max():
        raise _single_class(name, values.iloc[0], n)
    return y, event


# --------------------------------------------------------------------------------------
# Likelihood and the Newton-Raphson solver (penalty 0: ML; 0.5: Firth / Jeffreys)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Quantities:
    loglik: float  # (penalised) log-likelihood
    score: FloatArray  # its gradient, Firth's modified score U*
    info: FloatArray  # X' diag(w (1 + 2 tau h)) X (= X'WX when tau = 0)
    hessian: FloatArray  # minus the Hessian of loglik (= X'WX when tau = 0)


@dataclass(frozen=True, slots=True)
class _Fit:
    beta: FloatArray
    loglik: float
    iterations: int
    converged: bool


def _quantities(
    x: FloatArray, y: FloatArray, beta: FloatArray, tau: float, pw: FloatArray | None = None
) -> _Quantities:
    eta = x @ beta
    p = expit(eta)
    w = p * (1.0 - p)
    if pw is not None:  # prior weights (maximum likelihood only)
        wl = pw * (y * eta - np.logaddexp(0.0, eta))
        info = (x * (pw * w)[:, None]).T @ x
        return _Quantities(
            loglik=float(np.sum(wl)), score=x.T @ (pw * (y - p)), info=info, hessian=info
        )
    # log(1 + exp(eta)) without overflow.
    loglik = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    if tau == 0.0:
        info = (x * w[:, None]).T @ x
        return _Quantities(loglik=loglik, score=x.T @ (y - p), info=info, hessian=info)
    xw = x * np.sqrt(w)[:, None]
    fisher = xw.T @ xw
    # numpy's LAPACK calls, not scipy's triangular solves: on small matrices the
    # latter go through multithreaded BLAS and can be ~30x slower on a busy machine.
    try:
        chol = np.linalg.cholesky(fisher)
    except np.linalg.LinAlgError:
        return _singular(x.shape[1])
    diag = np.diag(chol)
    if diag.min() <= 0.0:
        return _singular(x.shape[1])
    logdet = 2.0 * float(np.sum(np.log(diag)))
    # Rows v_i = L^-1 W^(1/2) x_i: the hat matrix is H = V V', its diagonal h = |v_i|^2.
    v = xw @ np.linalg.inv(chol).T
    h = np.sum(v * v, axis=1)
    score = x.T @ (y - p + 2.0 * tau * h * (0.5 - p))
    info = (x * (w * (1.0 + 2.0 * tau * h))[:, None]).T @ x
    # Exact Hessian of tau * log det(X'WX), so Newton converges quadratically where the
    # Heinze-Schemper direction (info) only converges linearly (slowly under separation):
    # tau * [X' diag(h ((1-2p)^2 - 2w)) X - X' D (H o H) D X], D = diag(1 - 2p), and
    # (H o H)_ij = (v_i . v_j)^2 = (v_i (x) v_i) . (v_j (x) v_j).
    d = 1.0 - 2.0 * p
    n, k = x.shape
    z = (x * d[:, None]).T @ (v[:, :, None] * v[:, None, :]).reshape(n, k * k)
    curvature = (x * (h * (d * d - 2.0 * w))[:, None]).T @ x - z @ z.T
    hessian = fisher - tau * curvature
    return _Quantities(loglik=loglik + tau * logdet, score=score, info=info, hessian=hessian)


def _singular(k: int) -> _Quantities:
    # Information numerically singular (far out on a profile): the penalty is -inf.
    return _Quantities(loglik=-math.inf, score=np.zeros(k), info=np.eye(k), hessian=np.eye(k))


def _solve(a: FloatArray, b: FloatArray) -> FloatArray:
    try:
        return cast(FloatArray, np.linalg.solve(a, b))
    except np.linalg.LinAlgError:
        return cast(FloatArray, np.linalg.lstsq(a, b, rcond=None)[0])


def _direction(q: _Quantities, free: npt.NDArray[np.intp]) -> FloatArray:
    block = np.ix_(free, free)
    try:
        chol = np.linalg.cholesky(q.hessian[block])
    except np.linalg.LinAlgError:
        return _solve(q.info[block], q.score[free])
    return cast(FloatArray, np.linalg.solve(chol.T, np.linalg.solve(chol, q.score[free])))


def _newton(
    x: FloatArray,
    y: FloatArray,
    *,
    tau: float,
    start: FloatArray,
    fixed: dict[int, float] | None = None,
) -> _Fit:
    """Maximise the (penalised) log-likelihood over the coefficients not in ``fixed``.

    The direction is the exact Newton step where minus the Hessian is positive definite
    (the penalised likelihood need not be concave far from its maximum), else logistf's
    Heinze-Schemper step ``info^-1 U*``; it is capped at ``_MAX_STEP`` and halved until
    the objective does not decrease. Converged when the Newton step is below
    ``_XTOL * (1 + |beta|)``. The penalty always uses the full design matrix, also for
    fixed coefficients (logistf's convention for its tests and profile intervals).
    """
    k = x.shape[1]
    beta = start.astype(np.float64, copy=True)
    fixed = fixed or {}
    for j, value in fixed.items():
        beta[j] = value
    free = np.array([j for j in range(k) if j not in fixed], dtype=np.intp)
    q = _quantities(x, y, beta, tau)
    if free.size == 0:
        return _Fit(beta=beta, loglik=q.loglik, iterations=0, converged=math.isfinite(q.loglik))
    for iteration in range(_MAX_ITER + 1):
        delta = _direction(q, free)
        relative = float(np.max(np.abs(delta) / (1.0 + np.abs(beta[free]))))
        if relative < _XTOL:
            return _Fit(beta=beta, loglik=q.loglik, iterations=iteration, converged=True)
        if iteration == _MAX_ITER:
            break
        largest = float(np.max(np.abs(delta)))
        if largest > _MAX_STEP:
            delta = delta * (_MAX_STEP / largest)
        slack = 1e-12 * max(1.0, abs(q.loglik))
        for _ in range(_MAX_HALVINGS):
            candidate = beta.copy()
            candidate[free] += delta
            q_new = _quantities(x, y, candidate, tau)
            if q_new.loglik >= q.loglik - slack:
                break
            delta = delta / 2.0
        else:
            # No step improves the objective: at the rounding floor, or stuck.
            converged = relative < _XTOL_FLOOR
            return _Fit(beta=beta, loglik=q.loglik, iterations=iteration, converged=converged)
        loglik_old = q.loglik
        beta, q = candidate, q_new
        if q.loglik <= loglik_old and relative < _XTOL_FLOOR:
            # A small step that no longer raises the objective: at the rounding floor
            # (huge coefficients far out on a profile). Keep the step: from within 1e-7
            # a Newton step lands at the maximum up to rounding.
            return _Fit(beta=beta, loglik=q.loglik, iterations=iteration + 1, converged=True)
    return _Fit(beta=beta, loglik=q.loglik, iterations=_MAX_ITER, converged=False)


# --------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------


def _check_separation(x: FloatArray, y: FloatArray, terms: tuple[str, ...]) -> None:
    """Raise :class:`SeparationError` if some ML estimate is infinite (Konis 2007 LP)."""
    from firthmodels import detect_separation

    # The LP bounds every coefficient by 1 and calls |beta| > 1e-4 infinite, so put
    # columns on a common scale first; scaling does not change separation.
    covs = x[:, 1:]
    scaled = covs / np.max(np.abs(covs), axis=0)
    try:
        found = detect_separation(scaled, y, fit_intercept=True)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - rank is checked first
        msg = f"Covariates are collinear; remove one of {', '.join(terms[1:])}."
        raise CollinearityError(msg) from exc
    if not found.separation:
        return
    # firthmodels puts the intercept last.
    directions = np.r_[found.directions[-1], found.directions[:-1]]
    named = [
        f"{term} ({'+' if d > 0 else '-'}inf)"
        for term, d in zip(terms, directions, strict=True)
        if d != 0 and term != _INTERCEPT
    ] or [f"{_INTERCEPT} ({'+' if directions[0] > 0 else '-'}inf)"]
    msg = (
        "Complete or quasi-complete separation: the maximum-likelihood estimate of "
        f"{', '.join(named)} is infinite (the outcome is perfectly predicted by "
        f"{'this term' if len(named) == 1 else 'these terms'}). Use method='firth' for "
        "finite, bias-reduced estimates with profile penalised-likelihood intervals, or "
        "combine categories / remove the term."
    )
    raise SeparationError(msg)


def _fit_ml(
    x: FloatArray, y: FloatArray, collector: WarningCollector, pw: FloatArray | None = None
) -> _Fit:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning as SmConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.GLM(y, x, family=sm.families.Binomial(), var_weights=pw)
        res = model.fit(maxiter=_IRLS_MAXITER, tol=_IRLS_ATOL, atol=_IRLS_ATOL, rtol=_IRLS_RTOL)
    beta = np.asarray(res.params, dtype=np.float64)
    iterations = int(res.fit_history["iteration"])
    converged = bool(getattr(res, "converged", True)) and iterations < _IRLS_MAXITER
    if not converged or any(issubclass(w.category, SmConvergenceWarning) for w in caught):
        msg = (
            f"The maximum-likelihood fit did not converge in {_IRLS_MAXITER} IRLS iterations. "
            "Check for extreme covariate values or rescale covariates; method='firth' is "
            "more stable in small samples."
        )
        raise ConvergenceError(msg)
    p = expit(x @ beta)
    eps = 10.0 * np.finfo(np.float64).eps
    if np.any(p > 1.0 - eps) or np.any(p < eps):
        # R's glm.fit warns with the same words.
        collector.warn(
            "Fitted probabilities numerically 0 or 1 occurred; some estimates may be "
            "unreliable (near-separation). Consider method='firth'."
        )
    loglik = _quantities(x, y, beta, 0.0, pw).loglik
    return _Fit(beta=beta, loglik=loglik, iterations=iterations, converged=True)


def _fit_firth(x: FloatArray, y: FloatArray) -> _Fit:
    fit = _newton(x, y, tau=0.5, start=np.zeros(x.shape[1]))
    if not fit.converged or not math.isfinite(fit.loglik):
        msg = (
            f"The Firth penalised-likelihood fit did not converge in {_MAX_ITER} iterations. "
            "Check for extreme covariate values or rescale covariates."
        )
        raise ConvergenceError(msg)
    return fit


# --------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Inference:
    z: FloatArray
    p_value: FloatArray
    lower: FloatArray
    upper: FloatArray


def _wald(beta: FloatArray, se: FloatArray, level: float) -> _Inference:
    z = beta / se
    crit = float(norm_ppf(0.5 + level / 2.0))
    return _Inference(
        z=z,
        p_value=2.0 * norm_sf(np.abs(z)),
        lower=beta - crit * se,
        upper=beta + crit * se,
    )


class _Profile:
    """Constrained fits for one coefficient, warm-started from the nearest previous fit."""

    def __init__(self, x: FloatArray, y: FloatArray, tau: float, fit: _Fit, j: int) -> None:
        self._x, self._y, self._tau, self._j = x, y, tau, j
        self._loglik_hat = fit.loglik
        self._solutions: dict[float, FloatArray] = {float(fit.beta[j]): fit.beta}
        self.failed = False
        self.unbounded = False

    def deviance(self, value: float) -> float:
        """``2 * (loglik_hat - max loglik with beta_j = value)``; NaN if the fit fails.

        Warm-starts from the nearest solved value; if that fails (far out on the
        profile, where the information is nearly singular), walks there in 2, 4, ... 32
        steps, each fit starting from the previous one.
        """
        nearest = min(self._solutions, key=lambda b: abs(b - value))
        for pieces in (1, 2, 4, 8, 16, 32):
            loglik = math.nan
            for b in np.linspace(nearest, value, pieces + 1)[1:]:
                loglik = self._solve_at(float(b))
                if math.isnan(loglik):
                    break
            if not math.isnan(loglik):
                return 2.0 * (self._loglik_hat - loglik)
        return math.nan

    def _solve_at(self, value: float) -> float:
        nearest = min(self._solutions, key=lambda b: abs(b - value))
        fit = _newton(
            self._x,
            self._y,
            tau=self._tau,
            start=self._solutions[nearest],
            fixed={self._j: value},
        )
        if not fit.converged or not math.isfinite(fit.loglik):
            return math.nan
        self._solutions[value] = fit.beta
        return fit.loglik


def _profile_bound(
    profile: _Profile, beta_j: float, se_j: float, crit: float, direction: int
) -> float:
    """Root of ``deviance(b) = crit`` on one side of ``beta_j`` (Brent, xtol 1e-12).

    Brackets outward from the estimate in steps of 1, 1.5, 2.25, ... standard errors;
    NaN (with ``profile.failed`` set) if the constrained fits fail.
    """

    def excess(b: float) -> float:
        return profile.deviance(b) - crit

    step = se_j if math.isfinite(se_j) and se_j > 0 else 1.0
    inner = beta_j
    for _ in range(80):
        outer = inner + direction * step
        value = excess(outer)
        if math.isnan(value):
            break
        if value > 0:
            lo, hi = (outer, inner) if direction < 0 else (inner, outer)
            try:
                return float(optimize.brentq(excess, lo, hi, xtol=1e-12, rtol=1e-14, maxiter=500))
            except ValueError:  # a NaN inside the bracket
                break
        inner, step = outer, step * 1.5
    else:
        # Not reached in practice: without separation (ML) and with Firth's penalty the
        # profile diverges; reported as an infinite limit with a warning.
        profile.unbounded = True
        return direction * math.inf
    profile.failed = True
    return math.nan


def _likelihood_ratio(
    x: FloatArray, y: FloatArray, fit: _Fit, se: FloatArray, level: float, tau: float
) -> tuple[_Inference, list[int], list[int]]:
    """Per-coefficient LR tests (coefficient fixed at 0) and profile intervals.

    Returns the inference and the indices of terms whose constrained fits failed and
    whose profile did not reach the critical value.
    """
    crit = float(chi2_ppf(level, 1))
    k = x.shape[1]
    chi2 = np.full(k, np.nan)
    lower = np.full(k, np.nan)
    upper = np.full(k, np.nan)
    failed: list[int] = []
    unbounded: list[int] = []
    for j in range(k):
        profile = _Profile(x, y, tau, fit, j)
        chi2[j] = max(profile.deviance(0.0), 0.0) if fit.beta[j] != 0 else 0.0
        if math.isnan(chi2[j]):
            profile.failed = True
        lower[j] = _profile_bound(profile, float(fit.beta[j]), float(se[j]), crit, -1)
        upper[j] = _profile_bound(profile, float(fit.beta[j]), float(se[j]), crit, 1)
        if profile.failed:
            failed.append(j)
        if profile.unbounded:
            unbounded.append(j)
    z = np.sign(fit.beta) * np.sqrt(chi2)
    inference = _Inference(z=z, p_value=chi2_sf(chi2, 1), lower=lower, upper=upper)
    return inference, failed, unbounded


def _standard_errors(x: FloatArray, y: FloatArray, beta: FloatArray, tau: float) -> FloatArray:
    info = _quantities(x, y, beta, tau).info
    cov = np.linalg.inv(info)
    return np.sqrt(np.diag(cov))


@dataclass(frozen=True, slots=True)
class _Weighting:
    """Prior weights, robust variance and clusters of a maximum-likelihood fit."""

    weights: str | None
    robust: bool
    cluster: str | None
    pw: FloatArray | None
    codes: npt.NDArray[np.int64] | None
    n_zero: int = 0


def _variances(
    x: FloatArray, y: FloatArray, beta: FloatArray, how: _Weighting
) -> tuple[FloatArray, FloatArray]:
    """(standard errors, model-based standard errors) of a maximum-likelihood fit.

    Model based: ``(X' diag(pw p (1 - p)) X)^-1`` (``summary.glm``). Robust: the sandwich
    ``B M B`` with ``B`` the model-based variance and ``M`` the cross-product of the
    estimating functions ``pw_i (y_i - p_i) x_i``: ``sandwich::vcovHC(type = "HC0")``;
    with clusters the functions are summed within clusters and ``M`` is multiplied by
    ``G / (G - 1)``: ``sandwich::vcovCL(cluster = ~id)`` defaults (``type = "HC0"``,
    ``cadjust = TRUE``).
    """
    q = _quantities(x, y, beta, 0.0, how.pw)
    naive = np.linalg.inv(q.info)
    naive_se = np.sqrt(np.diag(naive))
    if not how.robust:
        return naive_se, naive_se
    pw = np.ones_like(y) if how.pw is None else how.pw
    scores = x * (pw * (y - expit(x @ beta)))[:, None]
    summed = sum_within(scores, how.codes)
    meat = summed.T @ summed
    if how.codes is not None:
        g = summed.shape[0]
        meat = meat * (g / (g - 1.0))
    cov = naive @ meat @ naive
    return np.sqrt(np.diag((cov + cov.T) / 2.0)), naive_se


def _lr_test_ml(y: FloatArray, fit: _Fit, k: int, pw: FloatArray | None = None) -> ChiSquareTest:
    if pw is not None:
        total = float(pw.sum())
        p0 = float(pw @ y) / total
        loglik_null = float(pw @ y) * math.log(p0) + (total - float(pw @ y)) * math.log1p(-p0)
        statistic = max(2.0 * (fit.loglik - loglik_null), 0.0)
        df = k - 1
        return ChiSquareTest(statistic=statistic, df=df, p_value=float(chi2_sf(statistic, df)))
    n, events = len(y), float(y.sum())
    p0 = events / n
    loglik_null = events * math.log(p0) + (n - events) * math.log1p(-p0)
    statistic = max(2.0 * (fit.loglik - loglik_null), 0.0)
    df = k - 1
    return ChiSquareTest(statistic=statistic, df=df, p_value=float(chi2_sf(statistic, df)))


def _lr_test_firth(x: FloatArray, y: FloatArray, fit: _Fit) -> ChiSquareTest:
    # logistf's null model: only the intercept free, the penalty from the full design.
    k = x.shape[1]
    null = _newton(x, y, tau=0.5, start=np.zeros(k), fixed=dict.fromkeys(range(1, k), 0.0))
    if not null.converged:  # pragma: no cover - a one-parameter concave-in-practice fit
        msg = "The Firth null model (intercept only) did not converge."
        raise ConvergenceError(msg)
    statistic = max(2.0 * (fit.loglik - null.loglik), 0.0)
    df = k - 1
    return ChiSquareTest(statistic=statistic, df=df, p_value=float(chi2_sf(statistic, df)))


# --------------------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------------------


def _method_info(
    method: str, ci_method: str, level: float, outcome: str, event: object
) -> MethodInfo:
    profile = ci_method == "profile"
    if method == "ml":
        import statsmodels

        estimator = "Logistic regression (maximum likelihood)"
        se = "inverse Fisher information at the estimate (as summary.glm)"
        p_value = "likelihood-ratio test, 1 df, per coefficient" if profile else "Wald z test"
        ci = (
            "profile likelihood (exact root of the LR statistic)"
            if profile
            else "Wald (as confint.default)"
        )
        reference = "R stats::glm(family = binomial); " + (
            "confint() profile intervals, drop-one LR tests" if profile else "summary.glm"
        )
        engine = f"statsmodels {statsmodels.__version__} GLM IRLS (fit); cartcohort Newton"
    else:
        estimator = "Firth logistic regression (Jeffreys-penalised likelihood)"
        se = "inverse of X' diag(w (1 + h)) X at the estimate (logistf convention)"
        p_value = (
            "penalised likelihood-ratio test, 1 df, per coefficient (logistf)"
            if profile
            else "Wald z test (logistf pl = FALSE)"
        )
        ci = "profile penalised likelihood (logistf)" if profile else "Wald"
        reference = "R logistf::logistf (Heinze & Schemper 2002)" + (
            "" if profile else " with pl = FALSE"
        )
        engine = f"cartcohort Newton-Raphson; firthmodels {metadata.version('firthmodels')}"
    description = (
        f"{estimator} of P({outcome} = {event!r}); p-values by {p_value}; "
        f"{level:.0%} confidence intervals by {ci}; standard errors from the {se}."
    )
    return MethodInfo(
        estimator=estimator,
        description=description,
        options={
            "method": method,
            "ci_method": ci_method,
            "p_value": p_value,
            "ci": ci,
            "se": se,
            "confidence_level": level,
            "event": f"{outcome} == {event!r}",
            "lr_test": "model vs intercept-only"
            + (", penalised, full-design penalty (logistf)" if method == "firth" else ""),
            "engine": engine,
        },
        reference=reference,
    )


def logistic_regression(
    data: pd.DataFrame,
    *,
    outcome: str,
    covariates: Sequence[str],
    method: LogisticMethod = "ml",
    confidence_level: float = 0.95,
    ci_method: LogisticCIMethod | None = None,
    weights: str | None = None,
    robust: bool | None = None,
    cluster: str | None = None,
) -> LogisticResult:
    """Fit a logistic regression of a binary outcome on covariates.

    Parameters
    ----------
    data
        One row per patient.
    outcome
        Binary outcome column: boolean (``True`` = event), 0/1 (1 = event), or a
        two-level factor whose *second* level (Categorical order, else sorted) is
        the event, as in R's ``glm``.
    covariates
        Covariate columns. Numeric columns enter linearly (in their own units, e.g.
        ``age_years``); booleans, strings and Categoricals are factors with treatment
        coding (first level is the reference; terms are named ``variable[level]``).
    method
        ``"ml"`` (maximum likelihood, R ``glm``) or ``"firth"`` (Firth's
        bias-reduced penalised likelihood, R ``logistf``).
    confidence_level
        Confidence level of the intervals, in (0, 1).
    ci_method
        ``"wald"`` or ``"profile"``; decides both the p-values and the intervals.
        ``"wald"``: Wald z tests and ``coef ± z * se``. ``"profile"``: one-df
        likelihood-ratio tests (coefficient fixed at 0) and profile-likelihood
        intervals (penalised, for Firth). Default ``None`` means ``"wald"`` for
        ``"ml"`` (as ``summary(glm)``) and ``"profile"`` for ``"firth"`` (as
        ``logistf``'s default ``pl = TRUE``).
    weights
        Column of prior weights, R's ``glm(..., weights = w)``: finite and >= 0.
        Rows with weight 0 are not used in the fit (as ``glm``; they are counted
        in ``n_excluded`` with the reason). Non-integer weights (inverse-probability
        weights) are accepted without R's warning "non-integer #successes in a
        binomial glm!": the estimates are then those of the weighted
        quasi-likelihood, which is the intended IPW use; pair them with
        ``robust=True``, since the model-based SE assumes frequency weights.
        Maximum likelihood with Wald intervals only.
    robust
        ``True``: sandwich standard errors, R's ``sandwich::vcovHC(fit, type =
        "HC0")``. Default ``None``: ``True`` when ``cluster`` is given.
    cluster
        Column identifying correlated rows (a patient infused twice, a centre):
        R's ``sandwich::vcovCL(fit, cluster = ~id)`` with its defaults for a
        ``glm`` (``type = "HC0"``, ``cadjust = TRUE``: the meat times ``G/(G-1)``
        for ``G`` clusters).

    Returns
    -------
    LogisticResult
        Coefficient table, model LR test, log-likelihood, AIC, counts and method.

    Raises
    ------
    AnalysisError
        A column is missing, an argument is invalid, or the outcome is not binary.
    DegenerateDataError
        The outcome has a single class, a factor covariate a single level, or no
        complete rows remain.
    CollinearityError
        The design matrix is rank deficient (the message names the terms).
    SeparationError
        ``method="ml"`` and the data are completely or quasi-completely separated
        (the message names the terms); use ``method="firth"``.
    ConvergenceError
        The main fit did not converge.
    AnalysisError
        Invalid weights (every such row named), ``robust=False`` with ``cluster``,
        or weights/robust/cluster together with ``method="firth"`` or
        ``ci_method="profile"`` (not implemented).

    Notes
    -----
    Maximum likelihood reproduces ``glm(y ~ ..., family = binomial)``: coefficients,
    ``summary()`` Wald SEs, z and p-values, ``confint.default()`` Wald intervals,
    ``logLik()``, ``AIC()``, and the LR test ``null.deviance - deviance``. With
    ``ci_method="profile"`` the intervals are exact roots of the likelihood-ratio
    statistic; R 4.2's ``confint(glm)`` (from MASS) interpolates the profile with a
    spline and differs from the exact limits by up to ~1e-3 relative (``hp`` in
    ``am ~ wt + hp`` on ``mtcars``: 0.0106081 against 0.0105943). The LR p-values
    equal ``anova(fit_without_column, fit, test = "Chisq")`` for each coefficient.

    Separation is detected before fitting with Konis' linear program (as R's
    ``detectseparation``), so an infinite estimate is an error naming the term,
    never a huge coefficient with a warning as in R.

    Firth reproduces ``logistf(y ~ ...)`` defaults: coefficients maximise
    ``loglik + 0.5 log det(X'WX)``; SEs are ``sqrt(diag((X' diag(w(1+h)) X)^-1))``
    (logistf and firthmodels; brglm2's ``vcov`` uses ``(X'WX)^-1`` instead and
    gives larger SEs); p-values are penalised likelihood-ratio tests with the
    coefficient fixed at 0 and the others refitted, the penalty computed from the
    full design; intervals are profile penalised-likelihood intervals; ``lr_test``
    is logistf's "Likelihood ratio test" (null model: intercept free, other
    coefficients fixed at 0). ``loglik`` and ``aic`` are penalised; logistf's
    ``extractAIC`` instead reports ``LR + 2 df``.

    References
    ----------
    Firth D (1993). Bias reduction of maximum likelihood estimates. Biometrika 80:27-38.
    Heinze G, Schemper M (2002). A solution to the problem of separation in logistic
    regression. Statistics in Medicine 21:2409-2419.
    Konis K (2007). Linear programming algorithms for detecting separated data in
    binary logistic regression models. DPhil thesis, University of Oxford.
    Venzon DJ, Moolgavkar SH (1988). A method for computing profile-likelihood-based
    confidence intervals. Applied Statistics 37:87-94.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(
    ...     {"crs3": [0, 0, 0, 0, 1, 1, 1, 1], "age_years": [45, 52, 61, 38, 70, 58, 49, 66]}
    ... )
    >>> res = logistic_regression(df, outcome="crs3", covariates=["age_years"])
    >>> res.table["term"].tolist()
    ['(Intercept)', 'age_years']
    >>> round(float(res.table["odds_ratio"].iloc[1]), 3)
    1.163
    >>> firth = logistic_regression(df, outcome="crs3", covariates=["age_years"], method="firth")
    >>> firth.method.options["ci_method"]
    'profile'
    """
    method_name = _check_choice(method, "method", _METHODS)
    default_ci = "wald" if method_name == "ml" else "profile"
    ci_name = _check_choice(ci_method or default_ci, "ci_method", _CI_METHODS)
    level = _check_confidence_level(confidence_level)
    names = _check_covariates(covariates, outcome)
    use_robust = _check_weighting(weights, robust, cluster, method_name, ci_name)
    if weights is not None and isinstance(data, pd.DataFrame):
        check_weights(data, weights, zero_allowed=True)

    prepared = prepare(
        data, {"outcome": outcome, "covariates": names, "weights": weights, "cluster": cluster}
    )
    prepared, how = _weighting(prepared, weights, cluster, robust=use_robust)
    y, event = _encode_outcome(prepared.frame[outcome], outcome)
    design = design_matrix(prepared.frame, names)
    _check_finite(design.matrix, design.terms)
    check_full_rank(design.matrix, design.terms, intercept=True)
    x = np.column_stack([np.ones(len(y)), design.matrix])
    terms = (_INTERCEPT, *design.terms)

    collector = WarningCollector()
    tau = 0.5 if method_name == "firth" else 0.0
    naive_se = None
    if method_name == "ml":
        _check_separation(x, y, terms)
        fit = _fit_ml(x, y, collector, how.pw)
        lr_test = _lr_test_ml(y, fit, x.shape[1], how.pw)
        se, naive_se = _variances(x, y, fit.beta, how)
    else:
        fit = _fit_firth(x, y)
        lr_test = _lr_test_firth(x, y, fit)
        se = _standard_errors(x, y, fit.beta, tau)

    if ci_name == "wald":
        inference = _wald(fit.beta, se, level)
    else:
        inference, failed, unbounded = _likelihood_ratio(x, y, fit, se, level, tau)
        for j in failed:
            collector.warn(
                f"The constrained fit for term {terms[j]!r} did not converge while "
                "profiling; its p-value or confidence limit is NaN. Try ci_method='wald'."
            )
        for j in unbounded:
            collector.warn(
                f"The profile likelihood of term {terms[j]!r} does not reach the critical "
                "value; its confidence interval is reported as unbounded (infinite)."
            )

    table = pd.DataFrame(
        {
            "term": list(terms),
            "coef": fit.beta,
            "se": se,
            "z": inference.z,
            "p_value": inference.p_value,
            "odds_ratio": np.exp(fit.beta),
            "lower": np.exp(inference.lower),
            "upper": np.exp(inference.upper),
        },
        columns=_TABLE_COLUMNS,
    )
    info = _method_info(method_name, ci_name, level, outcome, event)
    if how.robust and naive_se is not None:
        table.insert(3, "naive_se", naive_se)
    if how.weights is not None or how.robust:
        info = _weighted_method_info(info, how)
    return LogisticResult(
        table=table,
        lr_test=lr_test,
        loglik=fit.loglik,
        aic=-2.0 * fit.loglik + 2.0 * x.shape[1],
        n=len(y),
        n_events=int(y.sum()),
        n_excluded=prepared.n_excluded,
        exclusions=prepared.exclusions,
        converged=fit.converged,
        iterations=fit.iterations,
        confidence_level=level,
        outcome=outcome,
        event=event,
        method=info,
        warnings=collector.as_tuple(),
    )


def _check_weighting(
    weights: object, robust: object, cluster: object, method: str, ci_method: str
) -> bool:
    on = check_robust_arguments(weights, robust, cluster)
    if (weights is not None or on) and (method != "ml" or ci_method != "wald"):
        msg = (
            "`weights`, `robust` and `cluster` are implemented for method='ml' with "
            f"ci_method='wald' (R's glm with sandwich); got method={method!r}, "
            f"ci_method={ci_method!r}. Weighted Firth (brglm2) and likelihood-based "
            "intervals with weights or a sandwich variance are not implemented."
        )
        raise AnalysisError(msg)
    return on


def _weighting(
    prepared: Prepared, weights: str | None, cluster: str | None, *, robust: bool
) -> tuple[Prepared, _Weighting]:
    """Drop zero-weight rows (R's glm does not use them) and read weights and clusters."""
    pw = weight_values(prepared.frame, weights)
    n_zero = 0
    if pw is not None and bool((pw == 0).any()):
        keep = pw > 0
        n_zero = int((~keep).sum())
        frame = prepared.frame.loc[keep].reset_index(drop=True)
        prepared = Prepared(
            frame=frame,
            n_excluded=prepared.n_excluded + n_zero,
            exclusions=(
                *prepared.exclusions,
                f"{n_zero} row(s) with {weights!r} = 0 (not used in the fit, as R's glm)",
            ),
        )
        pw = pw[keep]
    how = _Weighting(
        weights=weights,
        robust=robust,
        cluster=cluster,
        pw=pw,
        codes=cluster_codes(prepared.frame, cluster),
        n_zero=n_zero,
    )
    return prepared, how


def _weighted_method_info(info: MethodInfo, how: _Weighting) -> MethodInfo:
    if how.cluster is not None:
        se = (
            f"sandwich clustered by {how.cluster}: sandwich::vcovCL(fit, cluster = "
            f"~{how.cluster}) defaults, type = 'HC0', cadjust = TRUE (G/(G-1))"
        )
    elif how.robust:
        se = "sandwich::vcovHC(fit, type = 'HC0')"
    else:
        se = str(info.options["se"])
    options = dict(info.options)
    options["se"] = se
    if how.weights is not None:
        options["weights"] = how.weights
        options["weights_note"] = (
            "prior weights as glm(weights = ); non-integer weights accepted without R's "
            "'non-integer #successes' warning (quasi-likelihood, e.g. IPW)"
        )
    if how.robust:
        options["variance"] = "robust"
        options["cluster"] = how.cluster
    description = info.description.rstrip(".")
    if how.weights is not None:
        description += f"; weighted by {how.weights}"
    if how.robust:
        description += f"; Wald tests and intervals from the robust variance ({se})"
    return replace(
        info,
        description=description + ".",
        options=options,
        reference=info.reference + (" with sandwich" if how.robust else ""),
    )


__all__ = ["LogisticCIMethod", "LogisticResult", "logistic_regression"]
