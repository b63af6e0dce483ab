"""Restricted mean survival time (RMST) and milestone survival differences.

:func:`rmst` is the area under the Kaplan–Meier curve up to a horizon ``tau`` per
group, with its standard error (R ``survival``'s ``summary(survfit, rmean = tau)``,
the same formula as ``survRM2::rmst2``), and the between-group difference and ratio of
RMST and ratio of restricted mean time lost (RMTL) with the confidence intervals and
p-values of ``survRM2::rmst2``. :func:`milestone_difference` compares Kaplan–Meier
survival at one time between groups. Both summarise survival without assuming
proportional hazards, which after CAR-T (early CRS/ICANS deaths, late relapses) often
do not hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort._types import CIMethod
from cartcohort.analyse._dist import norm_ppf, norm_sf
from cartcohort.analyse.km import (
    _fit,
    check_ci_method,
    check_column_name,
    check_confidence_level,
    kaplan_meier,
)
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

FloatArray = npt.NDArray[np.float64]

_GROUP_COLUMNS = ["group", "tau", "n", "n_events", "estimate", "std_err", "lower", "upper"]
_CONTRAST_COLUMNS = [
    "measure",
    "group",
    "reference",
    "estimate",
    "std_err",
    "lower",
    "upper",
    "statistic",
    "p_value",
]
_RMST_REFERENCE = (
    "R survival::survfit rmean (survival 3.5-3) per group; contrasts as survRM2::rmst2 "
    "(Uno et al. 2014)"
)


def _check_horizon(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        msg = f"`{name}` must be a positive number (same unit as the time column); got {value!r}."
        raise AnalysisError(msg)
    out = float(value)
    if not math.isfinite(out) or out <= 0:
        msg = f"`{name}` must be finite and > 0; got {value!r}."
        raise AnalysisError(msg)
    return out


def area_and_variance(
    time: FloatArray, surv: FloatArray, n_risk: FloatArray, n_event: FloatArray, tau: float
) -> tuple[float, float]:
    """Area under one Kaplan–Meier step curve on ``[0, tau]`` and its variance.

    ``time`` are the curve's distinct times (ascending) with ``surv`` just after each.
    Variance: ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over times ``t_j <= tau``, with
    ``A_j`` the area from ``t_j`` to ``tau`` and the term 0 when ``n_j = d_j`` (R
    ``survfit``'s ``rmean`` and ``survRM2``).
    """
    keep = time <= tau
    knots = np.concatenate([[0.0], time[keep], [tau]])
    heights = np.concatenate([[1.0], surv[keep]])
    areas = np.diff(knots) * heights
    area = float(areas.sum())
    tail = np.cumsum(areas[1:][::-1])[::-1]  # area from each t_j to tau
    n, d = n_risk[keep], n_event[keep]
    alive = n - d
    hazard = np.zeros(n.size)
    np.divide(d, n * alive, out=hazard, where=alive > 0)
    return area, float(np.sum(tail**2 * hazard))


@dataclass(frozen=True, slots=True, kw_only=True)
class RMSTResult:
    """Restricted mean survival time per group and between-group contrasts.

    Attributes
    ----------
    table
        One row per group: ``group, tau, n, n_events, estimate, std_err, lower,
        upper`` (RMST up to ``tau``, its standard error and Wald confidence limits).
    contrasts
        One row per measure and non-reference group: ``measure`` (``"difference"``:
        RMST of ``group`` minus RMST of ``reference``; ``"ratio"``: RMST ratio;
        ``"rmtl_ratio"``: ratio of restricted mean time lost ``tau - RMST``),
        ``group, reference, estimate, std_err`` (of the difference, or of the *log*
        ratio), ``lower, upper, statistic`` (Wald z) and ``p_value`` (two-sided).
        Empty without ``by``.
    tau, confidence_level
        The horizon and the confidence level.
    groups, by
        Group labels (first = reference) and the grouping column.
    n, n_events, n_excluded, exclusions
        Rows used, events, rows dropped for missing values and why.
    method, warnings
        How the numbers were computed, and warnings raised.
    """

    table: pd.DataFrame
    contrasts: pd.DataFrame
    tau: float
    confidence_level: float
    groups: tuple[object, ...]
    by: str | None
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The per-group table (a copy)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: per-group RMST, then the contrasts."""
        groups = frame_to_ard(self.table, analysis="rmst", keys=["group"])
        if self.contrasts.empty:
            return groups
        contrasts = frame_to_ard(
            self.contrasts, analysis="rmst_contrast", keys=["measure", "group", "reference"]
        )
        return pd.concat([groups, contrasts], ignore_index=True)

    def __repr__(self) -> str:
        values = ", ".join(
            f"{g}: {v:.4g}"
            for g, v in zip(self.table["group"], self.table["estimate"], strict=True)
        )
        return f"RMSTResult(tau={self.tau:g}, n={self.n}, rmst=[{values}])"


def _contrast_row(
    measure: str,
    group: object,
    reference: object,
    estimate: float,
    se: float,
    z: float,
    *,
    log_scale: bool,
) -> dict[str, object]:
    centre = math.log(estimate) if log_scale else estimate
    lower, upper = centre - z * se, centre + z * se
    statistic = centre / se if se > 0 else float("nan")
    return {
        "measure": measure,
        "group": group,
        "reference": reference,
        "estimate": estimate,
        "std_err": se,
        "lower": math.exp(lower) if log_scale else lower,
        "upper": math.exp(upper) if log_scale else upper,
        "statistic": statistic,
        "p_value": float(2.0 * norm_sf(abs(statistic))) if se > 0 else float("nan"),
    }


def _contrasts(table: pd.DataFrame, var: FloatArray, tau: float, z: float) -> pd.DataFrame:
    """survRM2's difference, RMST ratio and RMTL ratio of each group against the first."""
    rows: list[dict[str, object]] = []
    est = table["estimate"].to_numpy(dtype=np.float64)
    labels = table["group"].tolist()
    lost = tau - est
    for k in range(1, len(labels)):
        g, r = labels[k], labels[0]
        rows.append(
            _contrast_row(
                "difference",
                g,
                r,
                est[k] - est[0],
                math.sqrt(var[k] + var[0]),
                z,
                log_scale=False,
            )
        )
        se_ratio = math.sqrt(var[k] / est[k] ** 2 + var[0] / est[0] ** 2)
        rows.append(_contrast_row("ratio", g, r, est[k] / est[0], se_ratio, z, log_scale=True))
        if lost[k] > 0 and lost[0] > 0:
            se_lost = math.sqrt(var[k] / lost[k] ** 2 + var[0] / lost[0] ** 2)
            rows.append(
                _contrast_row("rmtl_ratio", g, r, lost[k] / lost[0], se_lost, z, log_scale=True)
            )
    frame = pd.DataFrame(rows, columns=_CONTRAST_COLUMNS)
    frame["group"] = frame["group"].astype(object)
    frame["reference"] = frame["reference"].astype(object)
    return frame


def rmst(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    tau: float,
    by: str | None = None,
    confidence_level: float = 0.95,
) -> RMSTResult:
    """Restricted mean survival time up to ``tau``, per group, with differences and ratios.

    Parameters
    ----------
    data
        One row per subject.
    time
        Column of follow-up times (days since infusion; numeric, >= 0).
    event
        Column of event indicators: 1/True = event, 0/False = censored.
    tau
        Horizon: the RMST is the mean event-free time over ``[0, tau]``, the area
        under the Kaplan–Meier curve up to ``tau``. It must not exceed any group's
        last follow-up time (the curve is unknown after it).
    by
        Optional grouping column; the first level (Categorical order, else sorted) is
        the reference of the contrasts.
    confidence_level
        Level of the Wald confidence intervals.

    Returns
    -------
    RMSTResult
        ``table`` per group and ``contrasts`` (difference, ratio, RMTL ratio against
        the reference group).

    Raises
    ------
    AnalysisError
        Missing columns, invalid arguments, or ``tau`` after a group's last
        follow-up time.
    DegenerateDataError
        No complete rows.

    Warns
    -----
    DegenerateWarning
        A group's RMST has standard error 0 (no events before ``tau``, or every
        event at the last time): its contrasts have no p-value unless the other
        group's variance is positive.

    Notes
    -----
    With ``S`` the Kaplan–Meier estimate, ``RMST = integral_0^tau S(t) dt`` (a sum of
    rectangles), and ``Var = sum_{t_j <= tau} A_j^2 d_j / (n_j (n_j - d_j))`` with
    ``A_j`` the area under ``S`` from ``t_j`` to ``tau`` (Greenwood-type; the term is 0
    when ``n_j = d_j``). This is R ``survival``'s ``summary(survfit(...), rmean =
    tau)$table`` (``rmean``, ``se(rmean)``), which uses the same formula as
    ``survRM2::rmst1``. Per group, the interval is ``RMST ± z SE``. Contrasts, as
    ``survRM2::rmst2`` (two arms; here each group against the first): difference
    ``RMST_g - RMST_ref`` with ``SE = sqrt(SE_g^2 + SE_ref^2)``; ratio on the log
    scale with ``SE(log ratio) = sqrt(SE_g^2/RMST_g^2 + SE_ref^2/RMST_ref^2)`` (delta
    method), interval and z test on the log scale; the same for the ratio of
    restricted mean time lost ``tau - RMST``. p-values are two-sided Wald.
    survRM2 itself is not installed here (no Debian package); its contrasts are
    reproduced from its documented formulas in ``tests/reference/r/rmst.R``.

    References
    ----------
    Royston P, Parmar MKB (2013). Restricted mean survival time: an alternative to
    the hazard ratio for the design and analysis of randomized trials with a
    time-to-event outcome. BMC Med Res Methodol 13:152.
    Uno H, Claggett B, Tian L, et al. (2014). Moving beyond the hazard ratio in
    quantifying the between-group difference in survival analysis. J Clin Oncol
    32:2380-2385.
    Uno H, et al. survRM2: Comparing Restricted Mean Survival Time, R package 1.0-4.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"days": [5, 8, 8, 12, 20], "died": [1, 1, 0, 1, 0]})
    >>> round(float(rmst(d, time="days", event="died", tau=15).table["estimate"].iloc[0]), 4)
    10.7
    """
    time = check_column_name(time, "time")
    event = check_column_name(event, "event")
    if by is not None:
        by = check_column_name(by, "by")
    horizon = _check_horizon(tau, "tau")
    level = check_confidence_level(confidence_level)
    curves, labels, n_excluded, exclusions = _fit(data, time=time, event=event, by=by, flip=False)
    collector = WarningCollector()
    z = float(norm_ppf(0.5 + level / 2.0))
    rows: list[dict[str, object]] = []
    variances = np.empty(len(labels))
    for g, label in enumerate(labels):
        part = slice(curves.bounds[g], curves.bounds[g + 1])
        t = curves.time[part]
        if horizon > t[-1]:
            msg = (
                f"`tau` = {horizon:g} is after the last follow-up time of group {label!r} "
                f"({t[-1]:g}); the Kaplan–Meier curve is unknown there. Choose tau <= "
                f"{min(curves.time[curves.bounds[k + 1] - 1] for k in range(len(labels))):g} "
                "(the smallest last follow-up time of the groups, survRM2's rule)."
            )
            raise AnalysisError(msg)
        area, var = area_and_variance(
            t,
            curves.surv[part],
            curves.n_risk[part].astype(np.float64),
            curves.n_event[part].astype(np.float64),
            horizon,
        )
        variances[g] = var
        if var == 0:
            collector.warn(
                f"Group {label!r}: the RMST up to {horizon:g} has standard error 0 (no events "
                "that change the area before tau).",
                DegenerateWarning,
            )
        se = math.sqrt(var)
        rows.append(
            {
                "group": label,
                "tau": horizon,
                "n": int(curves.n_event[part].sum() + curves.n_censor[part].sum()),
                "n_events": int(curves.n_event[part].sum()),
                "estimate": area,
                "std_err": se,
                "lower": area - z * se,
                "upper": area + z * se,
            }
        )
    table = pd.DataFrame(rows, columns=_GROUP_COLUMNS)
    table["group"] = table["group"].astype(object)
    contrasts = _contrasts(table, variances, horizon, z)
    if contrasts["p_value"].isna().any():
        collector.warn(
            "Some RMST contrasts have standard error 0 and no test (see the group warnings).",
            DegenerateWarning,
        )
    return RMSTResult(
        table=table,
        contrasts=contrasts,
        tau=horizon,
        confidence_level=level,
        groups=tuple(labels),
        by=by,
        n=int(curves.n_event.sum() + curves.n_censor.sum()),
        n_events=int(curves.n_event.sum()),
        n_excluded=n_excluded,
        exclusions=exclusions,
        method=MethodInfo(
            estimator="Restricted mean survival time",
            description=(
                f"Area under the Kaplan–Meier curve up to tau = {horizon:g} with Greenwood-type "
                f"standard error and {level:.0%} Wald intervals; between-group difference, "
                "ratio and restricted-mean-time-lost ratio (log scale, delta method) as "
                "survRM2::rmst2."
            ),
            options={"tau": horizon, "confidence_level": level, "variance": "Greenwood-type"},
            reference=_RMST_REFERENCE,
        ),
        warnings=collector.as_tuple(),
    )


# ----------------------------------------------------------------------------------------------
# milestone survival
# ----------------------------------------------------------------------------------------------

_MILESTONE_COLUMNS = ["group", "reference", "estimate", "std_err", "lower", "upper"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MilestoneResult:
    """Kaplan–Meier survival at one time per group and its differences between groups.

    Attributes
    ----------
    table
        One row per group: ``group, time, n_risk, estimate, std_err, lower, upper``
        (Kaplan–Meier survival at ``at``, Greenwood SE, pointwise limits on the
        ``ci_method`` scale, as :meth:`KaplanMeierResult.at`).
    contrasts
        One row per non-reference group: ``group, reference, estimate`` (survival
        difference ``S_group(at) - S_reference(at)``), ``std_err, lower, upper``
        (Wald), ``statistic`` (z) and ``p_value`` (two-sided).
    at, ci_method, confidence_level, groups, by, n, n_events, n_excluded, exclusions
        Options and counts.
    method, warnings
        How the numbers were computed, and warnings raised.
    """

    table: pd.DataFrame
    contrasts: pd.DataFrame
    at: float
    ci_method: CIMethod
    confidence_level: float
    groups: tuple[object, ...]
    by: str
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The contrasts table (a copy)."""
        return self.contrasts.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: per-group survival at ``at``, then the differences."""
        groups = frame_to_ard(self.table, analysis="milestone_survival", keys=["group"])
        diffs = frame_to_ard(
            self.contrasts, analysis="milestone_difference", keys=["group", "reference"]
        )
        return pd.concat([groups, diffs], ignore_index=True)

    def __repr__(self) -> str:
        diffs = ", ".join(
            f"{g}: {v:+.3f}"
            for g, v in zip(self.contrasts["group"], self.contrasts["estimate"], strict=True)
        )
        return f"MilestoneResult(at={self.at:g}, n={self.n}, difference=[{diffs}])"


def milestone_difference(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    at: float,
    ci_method: CIMethod = "log-log",
    confidence_level: float = 0.95,
) -> MilestoneResult:
    """Difference in Kaplan–Meier survival at one time (a milestone) between groups.

    Parameters
    ----------
    data
        One row per subject.
    time, event
        Follow-up time (days since infusion) and event indicator (1 = event).
    by
        Grouping column (two or more levels); the first level is the reference.
    at
        The milestone (e.g. 365 for 1-year survival); at most every group's last
        follow-up time.
    ci_method
        Transform of the per-group pointwise limits (as :func:`kaplan_meier`); the
        difference always has a Wald interval on the survival scale.
    confidence_level
        Level of all intervals.

    Returns
    -------
    MilestoneResult
        Per-group survival at ``at`` and the differences against the reference group.

    Raises
    ------
    AnalysisError
        Invalid arguments, or ``at`` after a group's last follow-up time.
    DegenerateDataError
        Fewer than two groups.

    Warns
    -----
    DegenerateWarning
        A group's survival at ``at`` is 0 (Greenwood SE undefined, as in R) or has SE
        0: the affected differences have no standard error, interval or test.

    Notes
    -----
    ``S_g(at)`` and its Greenwood standard error are R's ``summary(survfit(...), times
    = at)`` (``surv``, ``std.err``); the difference ``S_g - S_ref`` has
    ``SE = sqrt(SE_g^2 + SE_ref^2)`` (independent groups), Wald interval
    ``diff ± z SE`` and two-sided p-value of ``z = diff / SE`` (Klein et al. 2007).

    References
    ----------
    Klein JP, Logan B, Harhoff M, Andersen PK (2007). Analyzing survival curves at a
    fixed point in time. Stat Med 26:4505-4519.
    """
    by = check_column_name(by, "by")
    point = _check_horizon(at, "at")
    method_ci = check_ci_method(ci_method)
    level = check_confidence_level(confidence_level)
    fit = kaplan_meier(
        data, time=time, event=event, by=by, ci_method=method_ci, confidence_level=level
    )
    if len(fit.groups) < 2:
        msg = f"Column {by!r} has one group ({list(fit.groups)}); a difference needs two."
        raise DegenerateDataError(msg)
    rows = fit.at(point)
    missing = [g for g in fit.groups if g not in set(rows["group"].tolist())]
    if missing:
        msg = (
            f"`at` = {point:g} is after the last follow-up time of group(s) {missing}; "
            "the Kaplan–Meier curve is unknown there. Choose an earlier milestone."
        )
        raise AnalysisError(msg)
    table = rows[["group", "time", "n_risk", "estimate", "std_err", "lower", "upper"]]
    collector = WarningCollector()
    collector.extend(list(fit.warnings))
    z = float(norm_ppf(0.5 + level / 2.0))
    est = table["estimate"].to_numpy(dtype=np.float64)
    se = table["std_err"].to_numpy(dtype=np.float64)
    for label, s, e in zip(table["group"], est, se, strict=True):
        if not e > 0:
            collector.warn(
                f"Group {label!r}: survival at {point:g} is {s:g} with standard error "
                f"{e:g}; its differences have no standard error or test.",
                DegenerateWarning,
            )
    out: list[dict[str, object]] = []
    for k in range(1, len(est)):
        diff = float(est[k] - est[0])
        sd = math.sqrt(se[k] ** 2 + se[0] ** 2)
        ok = sd > 0
        stat = diff / sd if ok else float("nan")
        out.append(
            {
                "group": table["group"].iloc[k],
                "reference": table["group"].iloc[0],
                "estimate": diff,
                "std_err": sd if ok else float("nan"),
                "lower": diff - z * sd if ok else float("nan"),
                "upper": diff + z * sd if ok else float("nan"),
                "statistic": stat,
                "p_value": float(2.0 * norm_sf(abs(stat))) if ok else float("nan"),
            }
        )
    contrasts = pd.DataFrame(out, columns=[*_MILESTONE_COLUMNS, "statistic", "p_value"])
    contrasts["group"] = contrasts["group"].astype(object)
    contrasts["reference"] = contrasts["reference"].astype(object)
    return MilestoneResult(
        table=table.reset_index(drop=True),
        contrasts=contrasts,
        at=point,
        ci_method=method_ci,
        confidence_level=level,
        groups=fit.groups,
        by=by,
        n=fit.n,
        n_events=fit.n_events,
        n_excluded=fit.n_excluded,
        exclusions=fit.exclusions,
        method=MethodInfo(
            estimator="Milestone survival difference",
            description=(
                f"Kaplan–Meier survival at {point:g} per group with Greenwood standard errors; "
                f"difference against the reference group with a {level:.0%} Wald interval "
                "and z test."
            ),
            options={"at": point, "ci_method": method_ci, "confidence_level": level},
            reference="R survival summary(survfit, times = at); Klein et al. (2007)",
        ),
        warnings=collector.as_tuple(),
    )


__all__ = [
    "MilestoneResult",
    "RMSTResult",
    "area_and_variance",
    "milestone_difference",
    "rmst",
]
