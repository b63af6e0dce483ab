"""Standard curves: 4PL / 5PL logistic fits for immunoassays and the qPCR log-linear fit.

:func:`fit_standard_curve` fits one curve to one plate's standards for one analyte and
returns a :class:`StandardCurveResult` that carries the parameters, the back-calculated
standards (recovery, % of nominal), the quantification range (LLOQ, ULOQ) derived from
them, the acceptance checks and a :meth:`~StandardCurveResult.predict` that turns signals
into concentrations. A signal outside the range is never extrapolated: it comes back as
NaN with a flag and the limit it lies beyond.

Models (concentration ``x`` > 0, signal ``y``)::

    4pl   y = d + (a - d) / (1 + (x / c)^b)            Rodbard 1981; R SSfpl reparametrised
    5pl   y = d + (a - d) / (1 + (x / c)^b)^g          Gottschalk & Dunn 2005
    qpcr  Ct = intercept + slope * log10(copies)       efficiency = 10^(-1/slope) - 1

``a`` is the response at zero concentration, ``d`` at infinite concentration, ``c`` the
inflection concentration (4PL: the concentration at the mid-response), ``b > 0`` the
slope factor and ``g > 0`` the asymmetry. A falling curve (competitive assays) has
``a > d``; nothing else changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import least_squares

from cartcohort._results import MethodInfo, WarningCollector
from cartcohort.errors import AnalysisError, ConvergenceError, DegenerateDataError

FloatArray = npt.NDArray[np.float64]

CurveModel = Literal["4pl", "5pl", "qpcr"]
Weighting = Literal["none", "1/y^2"]

#: Range flags a back-calculated value can carry ("" = within LLOQ..ULOQ, reported).
RANGE_FLAGS: Mapping[str, str] = {
    "": "within the quantification range; value reported",
    "<LLOQ": "back-calculated below the LLOQ (or undetermined Ct); value not reported",
    ">ULOQ": "back-calculated above the ULOQ; value not reported",
    "below_fit": "signal beyond the zero-concentration asymptote; cannot be back-calculated",
    "above_fit": "signal beyond the infinite-concentration asymptote; cannot be back-calculated",
    "no_range": "no standard met the recovery limits, so the curve has no range",
    "missing": "no signal",
}
LOW_FLAGS = ("<LLOQ", "below_fit")
HIGH_FLAGS = (">ULOQ", "above_fit")

_LN10 = math.log(10.0)

#: Columns of :attr:`StandardCurveResult.recovery`.
RECOVERY_COLUMNS = (
    "standard_id",
    "nominal",
    "signal",
    "used_in_fit",
    "fitted",
    "back_calculated",
    "recovery_percent",
)
#: Columns of :attr:`StandardCurveResult.levels`.
LEVEL_COLUMNS = (
    "nominal",
    "n",
    "signal_mean",
    "back_calculated_mean",
    "recovery_percent",
    "limit_low",
    "limit_high",
    "accepted",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptanceCriteria:
    """Acceptance limits for a standard curve and its replicates (all in percent).

    Attributes
    ----------
    recovery_percent
        Back-calculated standards inside the range must recover within these limits of
        nominal. Default (80, 120): ICH M10 (2022) section 4.1.2 / FDA Bioanalytical Method
        Validation guidance (2018), ligand-binding assays, ±20 %.
    recovery_percent_at_limits
        Limits for the standards that define the LLOQ and the ULOQ. Default (75, 125):
        ICH M10 / FDA 2018, ±25 % at the LLOQ and ULOQ.
    min_fraction_accepted
        Fraction of the fitted levels that must pass (ICH M10: at least 75 %).
    min_levels
        Minimum number of non-zero standard levels (ICH M10: at least 6 for ligand-binding
        assays; 5 is common for qPCR plasmid series).
    min_r_squared
        Minimum R² of the fit (weighted R² for a weighted fit).
    efficiency_percent
        qPCR amplification efficiency limits (MIQE 2009 practice: 90-110 %).
    max_replicate_cv_percent
        Replicate wells of a sample whose CV of back-calculated values exceeds this are
        flagged ``high_cv``.
    source
        Where the defaults come from (written into the result's ``method``).
    """

    recovery_percent: tuple[float, float] = (80.0, 120.0)
    recovery_percent_at_limits: tuple[float, float] = (75.0, 125.0)
    min_fraction_accepted: float = 0.75
    min_levels: int = 6
    min_r_squared: float = 0.98
    efficiency_percent: tuple[float, float] = (90.0, 110.0)
    max_replicate_cv_percent: float = 20.0
    source: str = (
        "ICH M10 (2022) / FDA BMV guidance (2018), ligand-binding assays: standards "
        "within ±20 % (±25 % at LLOQ/ULOQ), >= 75 % of >= 6 levels passing; replicate CV 20 %"
    )

    def __post_init__(self) -> None:
        for name in ("recovery_percent", "recovery_percent_at_limits", "efficiency_percent"):
            low, high = getattr(self, name)
            if not low < high:
                msg = f"`{name}` must be (low, high) with low < high; got {(low, high)}."
                raise ValueError(msg)
        if not 0 <= self.min_fraction_accepted <= 1:
            msg = f"`min_fraction_accepted` must be in [0, 1]; got {self.min_fraction_accepted}."
            raise ValueError(msg)


#: Defaults for cytometric bead arrays, Luminex and ELISA.
IMMUNOASSAY_ACCEPTANCE = AcceptanceCriteria()
#: Defaults for qPCR plasmid standard curves: replicate CV 30 % on copies and at least 5
#: levels (AAPS qPCR/dPCR recommendations for cell and gene therapy, Hays et al. 2024).
QPCR_ACCEPTANCE = AcceptanceCriteria(
    min_levels=5,
    max_replicate_cv_percent=30.0,
    source=(
        "standards within ±20 % (±25 % at LLOQ/ULOQ) of nominal copies; efficiency "
        "90-110 %, R² >= 0.98 (MIQE 2009 practice); replicate CV on copies 30 % (AAPS "
        "qPCR/dPCR recommendations for cell and gene therapy, Hays et al. 2024)"
    ),
)


# --------------------------------------------------------------------------------------------
# Model functions (parameter vector p = [a, d, log10 c, b, log10 g])
# --------------------------------------------------------------------------------------------


def _logistic(p: FloatArray, x: FloatArray) -> FloatArray:
    a, d, log_c, b = p[0], p[1], p[2], p[3]
    g = 10.0 ** p[4] if len(p) > 4 else 1.0
    u = 1.0 + np.exp(b * _LN10 * (np.log10(x) - log_c))
    return np.asarray(d + (a - d) * u ** (-g), dtype=np.float64)


def _logistic_jac(p: FloatArray, x: FloatArray) -> FloatArray:
    """Analytic Jacobian of the model (not of the residuals) with respect to ``p``."""
    a, d, log_c, b = p[0], p[1], p[2], p[3]
    g = 10.0 ** p[4] if len(p) > 4 else 1.0
    z = _LN10 * (np.log10(x) - log_c)  # ln(x / c)
    t = np.exp(b * z)
    u = 1.0 + t
    ug = u ** (-g)
    dfdu = -g * (a - d) * u ** (-g - 1.0)
    cols = [ug, 1.0 - ug, dfdu * t * (-b * _LN10), dfdu * t * z]
    if len(p) > 4:
        cols.append((a - d) * ug * (-np.log(u)) * g * _LN10)
    return np.column_stack(cols)


def _logistic_inverse(
    params: Mapping[str, float], y: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """Concentration for each signal, with ``below_fit`` / ``above_fit`` where impossible."""
    a, b, c, d = params["a"], params["b"], params["c"], params["d"]
    g = params.get("g", 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = (a - d) / (y - d)  # = u^g, must be > 1
        x = c * (ratio ** (1.0 / g) - 1.0) ** (1.0 / b)
    flag = np.full(y.shape, "", dtype=object)
    flag[~(ratio > 1.0) & ~np.isnan(y)] = "below_fit"  # y at or beyond a
    flag[(ratio < 0.0) | np.isinf(ratio)] = "above_fit"  # y at or beyond d
    flag[np.isnan(y)] = "missing"
    ok = flag == ""
    ok &= np.isfinite(x) & (x > 0)
    flag[(flag == "") & ~ok] = "above_fit"  # overflow at the d end
    return np.where(ok, x, np.nan), flag.astype(str)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardCurveResult:
    """A fitted standard curve for one plate and analyte.

    Attributes
    ----------
    model
        ``"4pl"``, ``"5pl"`` or ``"qpcr"``.
    weighting
        ``"none"`` or ``"1/y^2"`` (weights from the observed signal, as ``nls(weights=)``).
    fit_id
        ``"<plate>/<analyte>/<model>"``; written on every quantified value.
    plate, analyte
        Identifiers of the standards ("" when the table had no such column).
    unit
        Unit of the nominal values and of back-calculated values (e.g. ``pg/mL``,
        ``copies/reaction``).
    params
        Named parameters: ``a, b, c, d`` (+ ``g`` for 5PL) or ``intercept, slope``.
    std_errors
        Asymptotic (Wald) standard errors of ``params``, as ``summary(nls)`` / ``summary(lm)``.
    r_squared
        ``1 - RSS / TSS`` on the signal scale (weighted sums for a weighted fit).
    rss
        Residual sum of squares (weighted for a weighted fit; R ``deviance()``).
    sigma
        Residual standard error ``sqrt(rss / df_residual)``.
    df_residual
        Number of fitted standards minus number of parameters.
    n
        Number of standards used in the fit.
    efficiency
        qPCR amplification efficiency as a fraction (1.0 = 100 %); ``None`` otherwise.
    recovery
        One row per standard well (:data:`RECOVERY_COLUMNS`).
    levels
        One row per nominal level (:data:`LEVEL_COLUMNS`): mean back-calculated value,
        recovery, the limits that applied and whether the level passed.
    lloq, uloq
        Lowest / highest level whose recovery is within ``recovery_percent_at_limits``
        (NaN when none is).
    accepted
        Whether every acceptance criterion was met.
    acceptance_failures
        One sentence per failed criterion.
    acceptance
        The criteria used.
    converged
        Whether the optimiser reported convergence (always ``True`` for ``qpcr``).
    n_evaluations
        Function evaluations used by the optimiser (0 for ``qpcr``).
    method
        How the curve was fitted.
    warnings
        Problems worth a footnote (acceptance failures, parameters at a bound ...).
    """

    model: CurveModel
    weighting: Weighting
    fit_id: str
    plate: str
    analyte: str
    unit: str
    params: Mapping[str, float]
    std_errors: Mapping[str, float]
    r_squared: float
    rss: float
    sigma: float
    df_residual: int
    n: int
    efficiency: float | None
    recovery: pd.DataFrame = field(repr=False)
    levels: pd.DataFrame = field(repr=False)
    lloq: float
    uloq: float
    accepted: bool
    acceptance_failures: tuple[str, ...]
    acceptance: AcceptanceCriteria = field(repr=False)
    converged: bool
    n_evaluations: int
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def back_calculate(self, signal: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.str_]]:
        """Concentrations for ``signal`` on the whole curve, before the LLOQ/ULOQ rule.

        Returns the raw inverse of the curve and a ``below_fit`` / ``above_fit`` /
        ``missing`` flag where it does not exist. Use :meth:`predict` for reportable
        values; this is for recovery of standards and for placing samples on a figure.
        """
        y = np.atleast_1d(np.asarray(signal, dtype=np.float64))
        if self.model == "qpcr":
            x = 10.0 ** ((y - self.params["intercept"]) / self.params["slope"])
            flag = np.where(np.isnan(y), "missing", "")
            return x, flag.astype(str)
        return _logistic_inverse(self.params, y)

    def predict(self, signal: npt.ArrayLike) -> pd.DataFrame:
        """Back-calculate signals to concentrations, flagging everything outside the range.

        Parameters
        ----------
        signal
            MFI, OD or Ct values. For ``qpcr`` a NaN Ct is read as undetermined (no
            amplification) and flagged ``<LLOQ``; otherwise NaN is ``missing``.

        Returns
        -------
        pandas.DataFrame
            Columns ``signal, value, flag, limit``: ``value`` (in :attr:`unit`) is NaN
            unless ``flag`` is ``""``; ``limit`` holds the LLOQ for ``<LLOQ`` /
            ``below_fit`` and the ULOQ for ``>ULOQ`` / ``above_fit``. See
            :data:`RANGE_FLAGS`.
        """
        y = np.atleast_1d(np.asarray(signal, dtype=np.float64))
        x, flag = self.back_calculate(y)
        flag = flag.astype(object)
        if self.model == "qpcr":
            flag[np.isnan(y)] = "<LLOQ"
        inside = flag == ""
        if math.isnan(self.lloq):
            flag[inside] = "no_range"
        else:
            # Rounding guard: a standard's own signal must back-calculate inside its range.
            tol = 1e-9
            flag[inside & (x < self.lloq * (1 - tol))] = "<LLOQ"
            flag[inside & (x > self.uloq * (1 + tol))] = ">ULOQ"
        value = np.where(flag == "", x, np.nan)
        low = np.isin(flag, LOW_FLAGS)
        high = np.isin(flag, HIGH_FLAGS)
        limit = np.where(low, self.lloq, np.where(high, self.uloq, np.nan))
        return pd.DataFrame({"signal": y, "value": value, "flag": flag.astype(str), "limit": limit})

    def curve(self, n: int = 200) -> pd.DataFrame:
        """The fitted curve on a log-spaced grid spanning the standards (×/÷ 2).

        Returns
        -------
        pandas.DataFrame
            Columns ``concentration, signal``.
        """
        nominal = self.recovery.loc[self.recovery["used_in_fit"], "nominal"].to_numpy(float)
        grid = np.logspace(np.log10(nominal.min() / 2), np.log10(nominal.max() * 2), n)
        if self.model == "qpcr":
            sig = self.params["intercept"] + self.params["slope"] * np.log10(grid)
        else:
            sig = _logistic(_param_vector(self.params, self.model), grid)
        return pd.DataFrame({"concentration": grid, "signal": sig})

    def to_frame(self) -> pd.DataFrame:
        """Parameters and fit statistics as a tidy table (``fit_id, term, estimate, std_err``)."""
        rows = [
            {"term": k, "estimate": v, "std_err": self.std_errors.get(k, np.nan)}
            for k, v in self.params.items()
        ]
        extra = {
            "r_squared": self.r_squared,
            "rss": self.rss,
            "sigma": self.sigma,
            "lloq": self.lloq,
            "uloq": self.uloq,
        }
        if self.efficiency is not None:
            extra["efficiency"] = self.efficiency
        rows += [{"term": k, "estimate": v, "std_err": np.nan} for k, v in extra.items()]
        frame = pd.DataFrame(rows)
        frame.insert(0, "fit_id", self.fit_id)
        return frame

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: ``analysis, fit_id, term, stat_name, stat_value``."""
        long = self.to_frame().melt(
            id_vars=["fit_id", "term"], var_name="stat_name", value_name="stat_value"
        )
        long = long.dropna(subset=["stat_value"])
        long.insert(0, "analysis", "standard_curve")
        return long.reset_index(drop=True)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        status = "accepted" if self.accepted else "REJECTED"
        return (
            f"StandardCurveResult({self.fit_id}: {params}; R²={self.r_squared:.4f}; "
            f"range {self.lloq:.4g}-{self.uloq:.4g} {self.unit}; {status})"
        )


def _param_vector(params: Mapping[str, float], model: str) -> FloatArray:
    vec = [params["a"], params["d"], math.log10(params["c"]), params["b"]]
    if model == "5pl":
        vec.append(math.log10(params["g"]))
    return np.asarray(vec, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fit:
    params: dict[str, float]
    std_errors: dict[str, float]
    fitted: FloatArray
    n_evaluations: int
    at_bound: tuple[str, ...]


def _start_4pl(x: FloatArray, y: FloatArray) -> FloatArray:
    levels = np.unique(x)
    means = np.array([y[x == lv].mean() for lv in levels])
    a0, d0 = means[0], means[-1]
    mid = levels[int(np.argmin(np.abs(means - (a0 + d0) / 2)))]
    return np.array([a0, d0, math.log10(mid), 1.0])


def _least_squares(
    p0: FloatArray, x: FloatArray, y: FloatArray, sw: FloatArray
) -> tuple[FloatArray, int, bool, str]:
    span = math.log10(x.max()) - math.log10(x.min())
    lo = [-np.inf, -np.inf, math.log10(x.min()) - 2 - span, 1e-3]
    hi = [np.inf, np.inf, math.log10(x.max()) + 2 + span, 100.0]
    if len(p0) > 4:
        lo.append(-3.0)
        hi.append(3.0)
    p0 = np.clip(p0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    sol = least_squares(
        lambda p: sw * (y - _logistic(p, x)),
        p0,
        jac=lambda p: -sw[:, None] * _logistic_jac(p, x),
        bounds=(lo, hi),
        method="trf",
        x_scale="jac",
        ftol=1e-14,
        xtol=1e-14,
        gtol=1e-14,
        max_nfev=5000,
    )
    ok = bool(sol.success) and bool(np.all(np.isfinite(sol.x)))
    tight = (np.isclose(sol.x, lo) | np.isclose(sol.x, hi)) & np.isfinite(lo)
    names = ["a", "d", "c", "b", "g"]
    bound = ",".join(n for n, t in zip(names, tight, strict=False) if t)
    return sol.x, int(sol.nfev), ok, bound if ok else str(sol.message)


def _fit_logistic(x: FloatArray, y: FloatArray, w: FloatArray, model: CurveModel) -> _Fit:
    sw = np.sqrt(w)
    p, nfev, ok, info = _least_squares(_start_4pl(x, y), x, y, sw)
    if ok and model == "5pl":  # start the 5PL from the 4PL fit with g = 1 (as the R reference)
        p, more, ok, info = _least_squares(np.append(p, 0.0), x, y, sw)
        nfev += more
    if not ok:
        msg = (
            f"The {model.upper()} fit did not converge ({info}). Check the standards "
            "(signal should change monotonically with concentration), drop failed wells, "
            "or try model='4pl'."
        )
        raise ConvergenceError(msg)
    jac = sw[:, None] * _logistic_jac(p, x)
    k = len(p)
    resid = sw * (y - _logistic(p, x))
    df = len(y) - k
    sigma2 = float(resid @ resid) / df if df > 0 else np.nan
    try:
        cov = np.linalg.inv(jac.T @ jac) * sigma2
        se = np.sqrt(np.diag(cov))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
    c, g = 10.0 ** p[2], (10.0 ** p[4] if k > 4 else 1.0)
    params = {"a": float(p[0]), "b": float(p[3]), "c": float(c), "d": float(p[1])}
    ses = {"a": se[0], "b": se[3], "c": c * _LN10 * se[2], "d": se[1]}
    if k > 4:
        params["g"] = float(g)
        ses["g"] = g * _LN10 * se[4]
    at_bound = tuple(info.split(",")) if info else ()
    return _Fit(
        params=params,
        std_errors={key: float(v) for key, v in ses.items()},
        fitted=_logistic(p, x),
        n_evaluations=nfev,
        at_bound=at_bound,
    )


def _fit_qpcr(x: FloatArray, y: FloatArray) -> _Fit:
    lx = np.log10(x)
    design = np.column_stack([np.ones_like(lx), lx])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coef
    df = len(y) - 2
    resid = y - fitted
    sigma2 = float(resid @ resid) / df if df > 0 else np.nan
    cov = np.linalg.inv(design.T @ design) * sigma2
    se = np.sqrt(np.diag(cov))
    return _Fit(
        params={"intercept": float(coef[0]), "slope": float(coef[1])},
        std_errors={"intercept": float(se[0]), "slope": float(se[1])},
        fitted=fitted,
        n_evaluations=0,
        at_bound=(),
    )


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _single_label(standards: pd.DataFrame, column: str) -> str:
    if column not in standards.columns:
        return ""
    values = standards[column].dropna().astype(str).unique()
    if len(values) > 1:
        msg = (
            f"`standards` holds more than one {column} ({', '.join(sorted(values))}); "
            "fit_standard_curve fits one curve. Filter the table, or use quantify_qpcr / "
            "quantify_immunoassay, which fit one curve per plate and analyte."
        )
        raise AnalysisError(msg)
    return str(values[0]) if len(values) else ""


def _standard_arrays(standards: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    missing = [c for c in ("nominal", "signal") if c not in standards.columns]
    if missing:
        msg = (
            f"`standards` has no column {', '.join(map(repr, missing))}; it needs `nominal` "
            f"(known concentration or copies) and `signal` (MFI, OD or Ct). "
            f"Columns present: {', '.join(map(str, standards.columns))}."
        )
        raise AnalysisError(msg)
    try:
        nominal = pd.to_numeric(standards["nominal"]).to_numpy(np.float64, na_value=np.nan)
        signal = pd.to_numeric(standards["signal"]).to_numpy(np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        msg = f"`standards.nominal` and `standards.signal` must be numbers: {exc}"
        raise AnalysisError(msg) from exc
    if np.any(nominal < 0):
        msg = "`standards.nominal` has negative values; nominal concentrations are >= 0."
        raise AnalysisError(msg)
    return nominal, signal


def _check_choices(model: object, weighting: object) -> None:
    if model not in get_args(CurveModel):
        msg = f"`model` must be one of {', '.join(get_args(CurveModel))}; got {model!r}."
        raise ValueError(msg)
    if weighting not in get_args(Weighting):
        msg = f"`weighting` must be one of {', '.join(get_args(Weighting))}; got {weighting!r}."
        raise ValueError(msg)
    if model == "qpcr" and weighting != "none":
        msg = "`weighting` must be 'none' for model='qpcr' (ordinary least squares, as R lm)."
        raise ValueError(msg)


# --------------------------------------------------------------------------------------------
# Recovery, range and acceptance
# --------------------------------------------------------------------------------------------


def _levels(
    nominal: FloatArray,
    signal: FloatArray,
    back: FloatArray,
    used: npt.NDArray[np.bool_],
    acc: AcceptanceCriteria,
) -> tuple[pd.DataFrame, float, float]:
    values = np.unique(nominal[used])
    rows = []
    for lv in values:
        sel = used & (nominal == lv)
        b = back[sel]
        mean_back = float(np.nanmean(b)) if np.any(~np.isnan(b)) else np.nan
        rows.append((lv, int(sel.sum()), float(signal[sel].mean()), mean_back))
    frame = pd.DataFrame(rows, columns=["nominal", "n", "signal_mean", "back_calculated_mean"])
    # A level with an un-back-calculable well has no recovery: the mean of the others would
    # hide a standard off the curve.
    bad = [bool(np.any(np.isnan(back[used & (nominal == lv)]))) for lv in values]
    rec = np.where(bad, np.nan, frame["back_calculated_mean"] / frame["nominal"] * 100.0)
    frame["recovery_percent"] = rec
    lo_end, hi_end = acc.recovery_percent_at_limits
    ends_ok = (rec >= lo_end) & (rec <= hi_end)
    lloq = float(values[ends_ok].min()) if ends_ok.any() else np.nan
    uloq = float(values[ends_ok].max()) if ends_ok.any() else np.nan
    is_end = (values == lloq) | (values == uloq)
    lo_in, hi_in = acc.recovery_percent
    frame["limit_low"] = np.where(is_end, lo_end, lo_in)
    frame["limit_high"] = np.where(is_end, hi_end, hi_in)
    frame["accepted"] = (rec >= frame["limit_low"]) & (rec <= frame["limit_high"])
    inside = (values >= lloq) & (values <= uloq)
    frame["accepted"] &= inside
    return frame[list(LEVEL_COLUMNS)], lloq, uloq


def _acceptance_failures(
    levels: pd.DataFrame, r_squared: float, efficiency: float | None, acc: AcceptanceCriteria
) -> list[str]:
    fails = []
    n_levels = len(levels)
    if n_levels < acc.min_levels:
        fails.append(f"{n_levels} standard levels; at least {acc.min_levels} are required")
    frac = float(levels["accepted"].mean()) if n_levels else 0.0
    if frac < acc.min_fraction_accepted:
        fails.append(
            f"{int(levels['accepted'].sum())} of {n_levels} levels within recovery limits "
            f"({frac:.0%}); at least {acc.min_fraction_accepted:.0%} are required"
        )
    if not r_squared >= acc.min_r_squared:
        fails.append(f"R² = {r_squared:.4f} is below {acc.min_r_squared}")
    if efficiency is not None:
        low, high = acc.efficiency_percent
        pct = efficiency * 100
        if not low <= pct <= high:
            fails.append(f"efficiency {pct:.1f} % is outside {low:g}-{high:g} %")
    if levels["recovery_percent"].isna().all() or np.isnan(levels["nominal"]).all():
        fails.append("no standard could be back-calculated")
    return fails


def _r_squared(y: FloatArray, fitted: FloatArray, w: FloatArray) -> float:
    mean = float(np.sum(w * y) / np.sum(w))
    tss = float(np.sum(w * (y - mean) ** 2))
    return 1.0 - float(np.sum(w * (y - fitted) ** 2)) / tss if tss > 0 else np.nan


_MODEL_TEXT = {
    "4pl": "four-parameter logistic y = d + (a - d) / (1 + (x/c)^b)",
    "5pl": "five-parameter logistic y = d + (a - d) / (1 + (x/c)^b)^g",
    "qpcr": "linear regression Ct = intercept + slope * log10(copies)",
}
_REFERENCE = {
    "4pl": "R stats::nls with SSfpl (A = a, B = d, xmid = ln c, scal = 1/b)",
    "5pl": "R stats::nls with the written-out 5PL formula (Gottschalk & Dunn 2005)",
    "qpcr": "R stats::lm(ct ~ log10(copies)); efficiency 10^(-1/slope) - 1 (MIQE 2009)",
}


def fit_standard_curve(
    standards: pd.DataFrame,
    *,
    model: CurveModel = "4pl",
    weighting: Weighting = "none",
    acceptance: AcceptanceCriteria | None = None,
    unit: str | None = None,
) -> StandardCurveResult:
    """Fit a standard curve to one plate's standards for one analyte.

    Parameters
    ----------
    standards
        One row per standard well with ``nominal`` (known concentration, or copies per
        reaction for qPCR; > 0, blanks with 0 are kept in the recovery table but not fitted)
        and ``signal`` (MFI, OD or Ct; NaN = failed well or undetermined Ct, not fitted).
        Optional ``plate``, ``analyte`` (one value each) and ``standard_id`` or ``well``.
    model
        ``"4pl"`` (default), ``"5pl"`` or ``"qpcr"``.
    weighting
        ``"none"`` (default) or ``"1/y^2"``: residuals weighted by the inverse squared
        observed signal, which gives the low standards their due when the signal's error
        is proportional to its size (as in ``nls(weights = 1/y^2)``).
    acceptance
        Acceptance limits; default :data:`QPCR_ACCEPTANCE` for ``qpcr`` and
        :data:`IMMUNOASSAY_ACCEPTANCE` otherwise.
    unit
        Unit of ``nominal``; default ``"copies/reaction"`` for qPCR, ``"pg/mL"`` otherwise.

    Returns
    -------
    StandardCurveResult
        Parameters, recovery per standard, range, acceptance and a ``predict`` method.

    Raises
    ------
    ConvergenceError
        The 4PL/5PL optimiser did not converge.
    DegenerateDataError
        Fewer usable standard levels than parameters.
    AnalysisError
        Missing columns, non-numeric values, more than one plate or analyte.

    Notes
    -----
    Logistic fits minimise ``sum(w * (y - f(x))^2)`` with SciPy ``least_squares``
    (trust-region reflective, analytic Jacobian, tolerances 1e-14) over
    ``(a, d, log10 c, b[, log10 g])`` with ``0.001 <= b <= 100`` and
    ``0.001 <= g <= 1000``. The 4PL starts from the mean signals of the lowest and
    highest level, the level nearest mid-signal and ``b = 1``; the 5PL starts from the
    fitted 4PL with ``g = 1``. Standard errors are Wald (``sigma^2 (J'J)^-1``) as R
    ``summary.nls``. A parameter at a bound is reported in ``warnings``.

    Recovery is ``back-calculated / nominal * 100`` per well; a level's recovery uses the
    mean back-calculated value of its wells (NaN if any well is off the curve). The LLOQ
    and ULOQ are the lowest and highest levels whose recovery is within
    ``recovery_percent_at_limits``; levels in between must meet ``recovery_percent``.
    Failing acceptance does not raise: the result has ``accepted = False``, the failures
    are listed and warned, and quantified samples carry ``curve_rejected``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> copies = np.repeat(10.0 ** np.arange(6, 0, -1), 2)
    >>> std = pd.DataFrame({"nominal": copies, "signal": 40 - np.log2(copies)})
    >>> fit = fit_standard_curve(std, model="qpcr")
    >>> round(fit.efficiency, 12), round(fit.params["slope"], 4)
    (1.0, -3.3219)
    >>> out = fit.predict([30.0, 39.0, 18.0])
    >>> out["value"].round(6).tolist(), out["flag"].tolist()
    ([1024.0, nan, nan], ['', '<LLOQ', '>ULOQ'])
    """
    _check_choices(model, weighting)
    acc = acceptance or (QPCR_ACCEPTANCE if model == "qpcr" else IMMUNOASSAY_ACCEPTANCE)
    plate = _single_label(standards, "plate")
    analyte = _single_label(standards, "analyte")
    nominal, signal = _standard_arrays(standards)
    used = (nominal > 0) & np.isfinite(signal) & np.isfinite(nominal)
    if weighting == "1/y^2" and np.any(signal[used] <= 0):
        msg = "`weighting='1/y^2'` needs positive signals; some standards have signal <= 0."
        raise AnalysisError(msg)
    n_par = {"4pl": 4, "5pl": 5, "qpcr": 2}[model]
    x, y = nominal[used], signal[used]
    if len(np.unique(x)) < n_par or len(x) <= n_par:
        msg = (
            f"{len(np.unique(x))} usable standard levels ({len(x)} wells) for a {n_par}-"
            f"parameter {model} curve; a fit needs more levels than parameters."
        )
        raise DegenerateDataError(msg)
    w = 1.0 / y**2 if weighting == "1/y^2" else np.ones_like(y)
    fit = _fit_qpcr(x, y) if model == "qpcr" else _fit_logistic(x, y, w, model)
    resid = np.sqrt(w) * (y - fit.fitted)
    rss = float(resid @ resid)
    df = len(y) - n_par
    r2 = _r_squared(y, fit.fitted, w)
    efficiency = 10.0 ** (-1.0 / fit.params["slope"]) - 1.0 if model == "qpcr" else None
    unit = unit or ("copies/reaction" if model == "qpcr" else "pg/mL")
    fit_id = f"{plate}/{analyte}/{model}"

    proto = StandardCurveResult(
        model=model, weighting=weighting, fit_id=fit_id, plate=plate, analyte=analyte,
        unit=unit, params=fit.params, std_errors=fit.std_errors, r_squared=r2, rss=rss,
        sigma=math.sqrt(rss / df) if df > 0 else np.nan, df_residual=df, n=len(y),
        efficiency=efficiency, recovery=pd.DataFrame(), levels=pd.DataFrame(), lloq=np.nan,
        uloq=np.nan, accepted=False, acceptance_failures=(), acceptance=acc, converged=True,
        n_evaluations=fit.n_evaluations, method=MethodInfo(estimator="", description=""),
    )  # fmt: skip
    back, _ = proto.back_calculate(signal)
    back = np.where(used, back, np.nan)
    fitted_all = np.full(len(signal), np.nan)
    fitted_all[used] = fit.fitted
    ids = _standard_ids(standards)
    recovery = pd.DataFrame(
        {
            "standard_id": ids,
            "nominal": nominal,
            "signal": signal,
            "used_in_fit": used,
            "fitted": fitted_all,
            "back_calculated": back,
            "recovery_percent": back / np.where(nominal > 0, nominal, np.nan) * 100.0,
        }
    )
    levels, lloq, uloq = _levels(nominal, signal, back, used, acc)
    failures = _acceptance_failures(levels, r2, efficiency, acc)

    collector = WarningCollector()
    if fit.at_bound:
        collector.warn(
            f"{fit_id}: parameter(s) {', '.join(fit.at_bound)} at the optimiser's bound; "
            "the curve is poorly determined by these standards."
        )
    if failures:
        collector.warn(f"{fit_id}: standard curve fails acceptance: " + "; ".join(failures) + ".")
    n_blank = int(np.sum(nominal == 0))
    method = MethodInfo(
        estimator=f"standard curve ({model})",
        description=(
            f"{_MODEL_TEXT[model]}, weighting {weighting}, fitted to {len(y)} standard wells "
            f"at {len(levels)} levels; range = lowest..highest level recovering within "
            f"{acc.recovery_percent_at_limits[0]:g}-{acc.recovery_percent_at_limits[1]:g} %; "
            "values outside the range are flagged, never extrapolated."
        ),
        options={
            "model": model,
            "weighting": weighting,
            "recovery_percent": f"{acc.recovery_percent[0]:g}-{acc.recovery_percent[1]:g}",
            "recovery_percent_at_limits": (
                f"{acc.recovery_percent_at_limits[0]:g}-{acc.recovery_percent_at_limits[1]:g}"
            ),
            "min_r_squared": acc.min_r_squared,
            "acceptance_source": acc.source,
            "blank_wells_not_fitted": n_blank,
            "optimizer": "none (closed form)" if model == "qpcr" else "scipy least_squares trf",
        },
        reference=_REFERENCE[model],
    )
    return StandardCurveResult(
        model=model, weighting=weighting, fit_id=fit_id, plate=plate, analyte=analyte,
        unit=unit, params=fit.params, std_errors=fit.std_errors, r_squared=r2, rss=rss,
        sigma=proto.sigma, df_residual=df, n=len(y), efficiency=efficiency, recovery=recovery,
        levels=levels, lloq=lloq, uloq=uloq, accepted=not failures,
        acceptance_failures=tuple(failures), acceptance=acc, converged=True,
        n_evaluations=fit.n_evaluations, method=method, warnings=collector.as_tuple(),
    )  # fmt: skip


def _standard_ids(standards: pd.DataFrame) -> list[str]:
    for column in ("standard_id", "sample_id", "well"):
        if column in standards.columns:
            return [str(v) for v in standards[column]]
    return [f"std{i + 1}" for i in range(len(standards))]


__all__ = [
    "IMMUNOASSAY_ACCEPTANCE",
    "QPCR_ACCEPTANCE",
    "RANGE_FLAGS",
    "AcceptanceCriteria",
    "CurveModel",
    "StandardCurveResult",
    "Weighting",
    "fit_standard_curve",
]
