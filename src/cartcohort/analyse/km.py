"""Kaplan–Meier survival curves, their median, and median follow-up (reverse Kaplan–Meier).

The estimator reproduces R ``survival::survfit`` (survival 3.5-3): the product-limit
estimate at every distinct time, Greenwood's variance, pointwise confidence intervals
with R's ``conf.type`` formulas, the median and its confidence interval by the rule of
``quantile.survfit``, and landmark rows as ``summary(fit, times = ...)``. With case
weights it is R's weighted ``survfit``: weighted counts, and by R's rule either
Greenwood's variance with weighted counts or the infinitesimal-jackknife (robust) SE of
S(t), summed within clusters when given (``survfitkm`` in survival's C code).

All counting is vectorised: times are coded to their sorted distinct values once, and
every per-time quantity is a ``bincount`` or a cumulative sum over those codes. The only
Python loops run over groups.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._pandas import category_codes
from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort._types import CIMethod
from cartcohort.analyse._data import as_event, as_time, factor_codes, prepare
from cartcohort.analyse._dist import norm_ppf
from cartcohort.analyse._entry import as_start, count_not_entered
from cartcohort.analyse._weights import (
    check_column_argument,
    check_weights,
    cluster_codes,
    weight_values,
)
from cartcohort.errors import AnalysisError, DegenerateWarning

if TYPE_CHECKING:
    from collections.abc import Iterable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Label of the single curve when ``by`` is None.
ALL_GROUP = "all"

#: R's ``quantile.survfit`` tolerance, ``sqrt(.Machine$double.eps)``.
_R_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))

_TABLE_COLUMNS = [
    "group",
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "estimate",
    "std_err",
    "lower",
    "upper",
]

_KM_REFERENCE = "R survival::survfit (survival 3.5-3); summary.survfit; quantile.survfit"


# ----------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------


def check_confidence_level(value: object) -> float:
    """Return ``value`` as a float in (0, 1), or raise a message naming the fix."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        msg = f"`confidence_level` must be a number in (0, 1), e.g. 0.95; got {value!r}."
        raise AnalysisError(msg)
    level = float(value)
    if not (0.0 < level < 1.0):
        hint = f" Did you mean {level / 100:g}?" if 1.0 < level < 100.0 else ""
        msg = f"`confidence_level` must be in (0, 1); got {value!r}.{hint}"
        raise AnalysisError(msg)
    return level


def check_ci_method(value: object) -> CIMethod:
    """Return ``value`` if it is a known CI transform, else raise naming the choices."""
    choices: tuple[CIMethod, ...] = get_args(CIMethod)
    if isinstance(value, str) and value in choices:
        return value
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    msg = f"`ci_method` must be one of {', '.join(repr(c) for c in choices)}; got {value!r}.{hint}"
    raise AnalysisError(msg)


def check_column_name(value: object, role: str) -> str:
    """Column arguments are single column names."""
    if not isinstance(value, str):
        msg = f"`{role}` must be the name of one column (a string); got {value!r}."
        raise AnalysisError(msg)
    return value


# ----------------------------------------------------------------------------------------------
# vectorised counting shared with logrank.py
# ----------------------------------------------------------------------------------------------


def sorted_codes(values: npt.NDArray[np.generic]) -> tuple[IntArray, npt.NDArray[np.generic]]:
    """Code ``values`` by the rank of their distinct value (hash-based, then sort the uniques).

    Returns ``(codes, uniques)`` with ``uniques`` sorted ascending and
    ``uniques[codes] == values``. Faster than ``np.unique(..., return_inverse=True)``
    because only the distinct values are sorted. Whole numbers in a range no wider
    than a few times their count (follow-up in days) are coded without hashing, by
    counting (the same codes and uniques).
    """
    if values.size and values.dtype.kind in "fiu":
        lo, hi = values.min(), values.max()
        span = float(hi) - float(lo)
        if span <= 4 * values.size + 1_000_000 and (
            values.dtype.kind != "f" or np.array_equal(values, np.floor(values))
        ):
            codes, present = compress_keys((values - lo).astype(np.int64), int(span) + 1)
            return codes, (present + lo).astype(values.dtype)
    codes, uniques = pd.factorize(values, sort=False)
    uniq = np.asarray(uniques)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    return rank[codes], uniq[order]


def compress_keys(key: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Map keys in ``[0, size)`` to ``0..K-1`` in key order; return (codes, present keys)."""
    if size <= 4 * key.size + 1_000_000:
        present = np.bincount(key, minlength=size) > 0
        remap = np.cumsum(present, dtype=np.int64) - 1
        return remap[key], np.flatnonzero(present).astype(np.int64)
    codes, uniq = sorted_codes(key)
    return codes, uniq.astype(np.int64)


def group_codes(values: pd.Series, levels: Sequence[object]) -> IntArray:
    """Integer code of each row's level (position in ``levels``)."""
    return category_codes(values, list(levels))


@dataclass(frozen=True, slots=True)
class _Curves:
    """Per-group product-limit quantities at every distinct time, groups concatenated.

    Without weights the counts are integers; with weights they are weighted sums
    (floats), as R's ``survfit(..., weights = w)`` reports them.
    """

    group: IntArray  # group code of each row
    time: FloatArray
    n_risk: IntArray | FloatArray
    n_event: IntArray | FloatArray
    n_censor: IntArray | FloatArray
    surv: FloatArray
    se_log: FloatArray  # SE of log S(t), used for the confidence limits
    std_err: FloatArray  # SE of S(t) itself
    bounds: IntArray  # rows of group g are bounds[g]:bounds[g + 1]
    rows: IntArray  # unweighted rows ending at each time
    event_rows: IntArray  # unweighted event rows at each time
    robust: bool = False  # std_err is the infinitesimal-jackknife SE of S (R: logse = FALSE)


def _km_curves(
    time: FloatArray,
    event: BoolArray,
    gcode: IntArray,
    n_groups: int,
    entry: FloatArray | None = None,
    *,
    weights: FloatArray | None = None,
    cluster: IntArray | None = None,
) -> _Curves:
    """Kaplan–Meier estimate and its variance for each group, fully vectorised.

    With ``entry`` (delayed entry), a row is at risk at ``t`` when ``entry < t <= time``.
    With ``weights``, every count is a weighted sum (R ``survfit(..., weights = w)``).
    With ``cluster`` (integer codes; one code per row for the per-row robust variance),
    the standard error is R's infinitesimal jackknife (:func:`_ij_variance`); otherwise
    it is Greenwood's, with weighted counts.
    """
    tcode, utimes = sorted_codes(time)
    n_times = utimes.size
    cell, keys = compress_keys(gcode * n_times + tcode, n_groups * n_times)
    total = np.bincount(cell).astype(np.int64)
    event_rows = np.bincount(cell, weights=event.astype(np.float64)).astype(np.int64)
    cell_group = keys // n_times
    cell_time = utimes[keys % n_times].astype(np.float64)
    bounds = np.searchsorted(cell_group, np.arange(n_groups + 1)).astype(np.int64)

    n_risk: IntArray | FloatArray
    deaths: IntArray | FloatArray
    if weights is None:
        counts: IntArray | FloatArray = total
        deaths = event_rows
    else:
        counts = np.bincount(cell, weights=weights, minlength=keys.size)
        deaths = np.bincount(cell, weights=weights * event, minlength=keys.size)
    # at risk = rows of the same group with time >= t: a suffix sum within each group
    suffix = np.concatenate([np.cumsum(counts[::-1])[::-1], [0]])
    n_risk = suffix[:-1] - suffix[bounds[cell_group + 1]]
    if entry is not None:
        n_risk = n_risk - count_not_entered(entry, gcode, cell_time, cell_group)

    # R updates the curve only at times with an event of positive weight
    step = deaths > 0
    hazard = np.zeros(keys.size, dtype=np.float64)
    np.divide(deaths, n_risk, out=hazard, where=step)
    factor = 1.0 - hazard
    surv = np.empty(factor.size, dtype=np.float64)
    for g in range(n_groups):
        rows = slice(bounds[g], bounds[g + 1])
        surv[rows] = np.cumprod(factor[rows])
    alive = n_risk - deaths
    if cluster is None:
        # Greenwood: Var(log S) = sum d / (n (n - d)); infinite once everyone has died (as R).
        term = np.where(step, np.inf, 0.0)
        np.divide(deaths, n_risk * alive, out=term, where=step & (alive > 0))
        var_log = np.empty(factor.size, dtype=np.float64)
        for g in range(n_groups):
            rows = slice(bounds[g], bounds[g + 1])
            var_log[rows] = np.cumsum(term[rows])
        se_log = np.sqrt(var_log)
        with np.errstate(invalid="ignore"):  # 0 * inf at S = 0 is NaN, as R's NaN
            std_err = surv * se_log
    else:
        w = np.ones(time.size) if weights is None else weights
        std_err = _ij_std_err(
            cell=cell,
            event=event,
            weights=w,
            cluster=cluster,
            gcode=gcode,
            step=step,
            n_risk=np.asarray(n_risk, dtype=np.float64),
            deaths=np.asarray(deaths, dtype=np.float64),
            bounds=bounds,
            surv=surv,
        )
        # R's survfit_confint(logse = FALSE): se/S, and 0 where se is 0
        se_log = np.zeros(surv.size, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(std_err, surv, out=se_log, where=std_err != 0)
    return _Curves(
        group=cell_group,
        time=cell_time,
        n_risk=n_risk,
        n_event=deaths,
        n_censor=counts - deaths,
        surv=surv,
        se_log=se_log,
        std_err=std_err,
        bounds=bounds,
        rows=total,
        event_rows=event_rows,
        robust=cluster is not None,
    )


def _ij_std_err(
    *,
    cell: IntArray,
    event: BoolArray,
    weights: FloatArray,
    cluster: IntArray,
    gcode: IntArray,
    step: BoolArray,
    n_risk: FloatArray,
    deaths: FloatArray,
    bounds: IntArray,
    surv: FloatArray,
) -> FloatArray:
    """Infinitesimal-jackknife SE of S(t), R ``survfitkm`` with a cluster (``logse = FALSE``).

    The influence of cluster c on S(t) is ``S(t) A_c(t)`` with
    ``A_c(t) = sum_{t_j <= t} [Y_cj d_j / (n_j (n_j - d_j)) - dN_cj / (n_j - d_j)]``
    (``Y_cj`` the weight of c's rows at risk at ``t_j``, ``dN_cj`` the weight of its
    events there), and the variance is ``sum_c {S(t) A_c(t)}^2``. With
    ``C(t) = sum_{t_j <= t} d_j / (n_j (n_j - d_j))``, a cluster's ``A_c(t)`` is
    ``alpha_c(t) C(t) + beta_c(t)``: ``alpha_c`` the weight still at risk after ``t``,
    ``beta_c`` the frozen contributions of rows that ended at or before ``t``. Both
    change only at the cluster's own times, so ``sum_c A_c^2`` is
    ``C^2 sum alpha^2 + 2 C sum alpha beta + sum beta^2``, three step functions built
    by cumulative sums over the rows sorted by (group, cluster, time). Clusters are
    taken within each group, as R fits each group separately. Where everyone at risk
    died (S = 0) the influence is exactly 0 and so is the SE, as R.
    """
    n_cells = surv.size
    alive = n_risk - deaths
    ok = step & (alive > 0)
    a = np.zeros(n_cells, dtype=np.float64)
    b = np.zeros(n_cells, dtype=np.float64)
    np.divide(deaths, n_risk * alive, out=a, where=ok)
    np.divide(1.0, alive, out=b, where=ok)
    c_cum = np.empty(n_cells, dtype=np.float64)
    for g in range(bounds.size - 1):
        rows = slice(bounds[g], bounds[g + 1])
        c_cum[rows] = np.cumsum(a[rows])

    # rows sorted by group, cluster, then time (cell order is time order within a group)
    key = gcode * (int(cluster.max()) + 1) + cluster
    order = np.lexsort((cell, key))
    k = key[order]
    w = weights[order]
    rcell = cell[order]
    first = np.concatenate([[True], k[1:] != k[:-1]])
    start = np.flatnonzero(first)
    size = np.diff(np.append(start, k.size))
    seg_start = np.repeat(start, size)

    def within(values: FloatArray) -> FloatArray:
        """Cumulative sum restarted at each cluster."""
        total = np.cumsum(values)
        offset = np.concatenate([[0.0], total])[seg_start]
        out: FloatArray = total - offset
        return out

    cluster_weight = np.repeat(np.add.reduceat(w, start), size)
    alpha_after = cluster_weight - within(w)
    alpha_before = alpha_after + w
    beta_inc = w * (c_cum[rcell] - np.where(event[order], b[rcell], 0.0))
    beta_after = within(beta_inc)
    beta_before = beta_after - beta_inc
    d_aa = alpha_after**2 - alpha_before**2
    d_ab = alpha_after * beta_after - alpha_before * beta_before
    d_bb = beta_after**2 - beta_before**2

    # sum of alpha^2 at the start of each group: every cluster's full weight
    group_first_cell = bounds[gcode[order][start]]
    init_aa = np.bincount(
        group_first_cell, weights=np.add.reduceat(w, start) ** 2, minlength=n_cells
    )
    s_aa = np.empty(n_cells, dtype=np.float64)
    s_ab = np.empty(n_cells, dtype=np.float64)
    s_bb = np.empty(n_cells, dtype=np.float64)
    inc_aa = init_aa + np.bincount(rcell, weights=d_aa, minlength=n_cells)
    inc_ab = np.bincount(rcell, weights=d_ab, minlength=n_cells)
    inc_bb = np.bincount(rcell, weights=d_bb, minlength=n_cells)
    for g in range(bounds.size - 1):
        rows = slice(bounds[g], bounds[g + 1])
        s_aa[rows] = np.cumsum(inc_aa[rows])
        s_ab[rows] = np.cumsum(inc_ab[rows])
        s_bb[rows] = np.cumsum(inc_bb[rows])
    total_sq = c_cum**2 * s_aa + 2.0 * c_cum * s_ab + s_bb
    std = surv * np.sqrt(np.maximum(total_sq, 0.0))
    std[surv == 0] = 0.0
    out: FloatArray = std
    return out


def pointwise_ci(
    surv: FloatArray, se_log: FloatArray, *, ci_method: CIMethod, confidence_level: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise confidence limits for S(t) with R's ``conf.type`` formulas.

    ``se_log`` is the standard error of log S(t). Limits are NaN where R reports NA:
    S = 0 for every transform, and also S = 1 for log-log. Limits are clipped to [0, 1].
    """
    z = float(norm_ppf(1.0 - (1.0 - confidence_level) / 2.0))
    lower = np.full(surv.size, np.nan)
    upper = np.full(surv.size, np.nan)
    if ci_method == "plain":
        ok = surv > 0
        half = z * se_log[ok] * surv[ok]
        lower[ok] = np.maximum(surv[ok] - half, 0.0)
        upper[ok] = np.minimum(surv[ok] + half, 1.0)
    elif ci_method == "log":
        ok = surv > 0
        log_s = np.log(surv[ok])
        lower[ok] = np.exp(log_s - z * se_log[ok])
        upper[ok] = np.minimum(np.exp(log_s + z * se_log[ok]), 1.0)
    else:  # log-log: S = 1 gives log(S) = 0, undefined, so R reports NA there too
        ok = (surv > 0) & (surv < 1)
        log_s = np.log(surv[ok])
        shift = z * se_log[ok] / log_s  # negative
        centre = np.log(-log_s)
        lower[ok] = np.exp(-np.exp(centre - shift))
        upper[ok] = np.exp(-np.exp(centre + shift))
    return lower, upper


# ----------------------------------------------------------------------------------------------
# the median by R's quantile.survfit rule
# ----------------------------------------------------------------------------------------------


def _constant_approx_index(xs: FloatArray, ids: IntArray, value: float) -> int | None:
    """R's ``approx(xs, ids, value, method = "constant", f = 1)$y`` (NA -> None)."""
    order = np.argsort(xs, kind="stable")
    xs_sorted = xs[order]
    pos = int(np.searchsorted(xs_sorted, value, side="left"))
    if pos == xs_sorted.size or (pos == 0 and xs_sorted[0] > value):
        return None
    return int(ids[order[pos]])


def r_quantile_time(times: FloatArray, curve: FloatArray, prob: float = 0.5) -> float:
    """First time a survival-type curve reaches ``1 - prob``, by R's ``quantile.survfit`` rule.

    ``times``/``curve`` are the curve's rows (NaN allowed in ``curve``, skipped as R's
    ``approx`` does). The curve starts at 1 at time 0. Where the curve is flat at exactly
    ``1 - prob`` (within ``sqrt(eps)``), the result is the midpoint between the time it
    reached that value and the next time it drops; if it ends flat there, the midpoint
    between that time and the last time in the curve. NaN when not reached.
    """
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1.0 - curve])
    with np.errstate(invalid="ignore"):
        top = np.nanmax(y)
    if not top >= prob:  # also catches an all-NaN curve
        return float("nan")
    x_max = float(x[-1])
    first = ~pd.Series(y).duplicated().to_numpy()  # R's duplicated(): NA equals NA
    x, y = x[first], y[first]
    ok = ~np.isnan(y)
    ids = np.flatnonzero(ok).astype(np.int64)
    i1 = _constant_approx_index(y[ok] + _R_TOLERANCE, ids, prob)
    i2 = _constant_approx_index(y[ok] - _R_TOLERANCE, ids, prob)
    if not np.isnan(y[-1]) and abs(prob - y[-1]) < _R_TOLERANCE and i1 is not None:
        return float((x[i1] + x_max) / 2.0)
    if i1 is None or i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2.0)


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------


def _as_query_times(times: float | Iterable[float] | npt.ArrayLike) -> FloatArray:
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        msg = f"`times` must be numbers (days since infusion); got {times!r}."
        raise AnalysisError(msg) from exc
    if arr.ndim != 1 or arr.size == 0:
        msg = f"`times` must be a number or a one-dimensional list of numbers; got {times!r}."
        raise AnalysisError(msg)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        msg = f"`times` must be finite and >= 0 (days since infusion); got {arr.tolist()[:5]}."
        raise AnalysisError(msg)
    out: FloatArray = np.sort(arr, kind="stable")
    return out


def _landmark_rows(sub: pd.DataFrame, query: FloatArray) -> dict[str, npt.NDArray[np.generic]]:
    """One group's rows of ``summary(fit, times = query)`` (extend = FALSE)."""
    t = sub["time"].to_numpy(dtype=np.float64)
    q = query[query <= t[-1]]
    last = np.searchsorted(t, q, side="right") - 1  # last row with time <= q, -1 if none
    before = last < 0
    pick = np.maximum(last, 0)

    def carried(column: str, start: float) -> FloatArray:
        values: FloatArray = sub[column].to_numpy(dtype=np.float64)[pick]
        values[before] = start
        return values

    n_risk = sub["n_risk"].to_numpy()[np.searchsorted(t, q, side="left")]  # weighted: float
    cum_event = np.concatenate([[0], np.cumsum(sub["n_event"].to_numpy())])
    cum_censor = np.concatenate([[0], np.cumsum(sub["n_censor"].to_numpy())])
    return {
        "time": q,
        "n_risk": n_risk,
        "n_event": np.diff(cum_event[last + 1], prepend=0),
        "n_censor": np.diff(cum_censor[last + 1], prepend=0),
        "estimate": carried("estimate", 1.0),
        "std_err": carried("std_err", 0.0),
        "lower": carried("lower", 1.0),
        "upper": carried("upper", 1.0),
    }


def _repr_number(value: float) -> str:
    return "NR" if np.isnan(value) else f"{value:g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeierResult:
    """Kaplan–Meier curves, one per group, with Greenwood SEs, pointwise CIs and medians.

    Attributes
    ----------
    table
        One row per group and distinct time (event or censoring), as R
        ``summary(survfit(...), censored = TRUE)``: ``group, time, n_risk, n_event,
        n_censor, estimate, std_err, lower, upper``. ``estimate`` is S(t) just after
        ``time``; ``std_err`` is the standard error of S(t) (Greenwood, or with
        ``robust`` the infinitesimal jackknife; counts are weighted sums with
        ``weights``); ``lower``/``upper``
        are pointwise limits (NaN where R reports NA: S = 0, and S = 1 for log-log).
    median
        One row per group: ``group, n, n_events, estimate, lower, upper, reached``.
        NaN means *not reached*: the curve (or the confidence limit curve) never falls
        to 0.5; ``reached`` is False when the median itself is not reached.
    groups
        Group labels in order (levels of ``by``; ``("all",)`` without ``by``).
    by
        The grouping column, or None.
    ci_method, confidence_level
        The pointwise CI transform and level.
    n, n_events
        Subjects (rows) and event rows over all groups (per group in ``median``);
        not weighted.
    n_excluded, exclusions
        Rows dropped for missing values, and why.
    method
        How this was computed.
    warnings
        Warnings raised while computing.
    """

    table: pd.DataFrame
    median: pd.DataFrame
    groups: tuple[object, ...]
    by: str | None
    ci_method: CIMethod
    confidence_level: float
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def at(self, times: float | Iterable[float] | npt.ArrayLike) -> pd.DataFrame:
        """Survival at given times, as R ``summary(fit, times = times)`` (``extend = FALSE``).

        Parameters
        ----------
        times
            One or more times (same unit as the time column, >= 0). They are sorted.
            Times after a group's last follow-up time are dropped for that group, as R
            does with ``extend = FALSE`` (R stops with an error when *no* time is left
            for a group; here that group simply has no rows).

        Returns
        -------
        pandas.DataFrame
            ``group, time, n_risk, n_event, n_censor, estimate, std_err, lower, upper``.
            ``n_risk`` is the number at risk at ``time`` (``time >= t``); ``n_event`` and
            ``n_censor`` count events and censorings since the previous requested time
            (up to and including ``time``), as R's summary does. Before the first
            observed time the estimate is 1 with SE 0 and limits [1, 1].
        """
        query = _as_query_times(times)
        codes = group_codes(self.table["group"], self.groups)
        bounds = np.searchsorted(codes, np.arange(len(self.groups) + 1))
        parts: list[pd.DataFrame] = []
        for g, label in enumerate(self.groups):
            sub = self.table.iloc[bounds[g] : bounds[g + 1]]
            if sub.empty:
                continue
            rows = _landmark_rows(sub, query)
            if rows["time"].size == 0:
                continue
            part = pd.DataFrame(rows)
            part.insert(0, "group", pd.Series([label] * len(part), dtype=object))
            parts.append(part)
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _TABLE_COLUMNS})
        return pd.concat(parts, ignore_index=True)[_TABLE_COLUMNS]

    def to_frame(self) -> pd.DataFrame:
        """The tidy curve table (``table``)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: every table number, then the medians (``analysis`` names which)."""
        curve = frame_to_ard(self.table, analysis="kaplan_meier", keys=["group", "time"])
        med = self.median.drop(columns=["reached"])
        medians = frame_to_ard(med, analysis="kaplan_meier_median", keys=["group"])
        return pd.concat([curve, medians], ignore_index=True)

    def __repr__(self) -> str:
        meds = ", ".join(
            f"{g}: {_repr_number(m)}"
            for g, m in zip(self.median["group"], self.median["estimate"], strict=True)
        )
        return (
            f"KaplanMeierResult(n={self.n}, n_events={self.n_events}, groups={len(self.groups)}, "
            f"ci_method={self.ci_method!r}, confidence_level={self.confidence_level:g}, "
            f"median=[{meds}])"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpResult:
    """Median follow-up by the reverse Kaplan–Meier method.

    Attributes
    ----------
    estimate, lower, upper
        Median potential follow-up and its confidence limits (NaN = not reached).
    reached
        Whether the reverse curve reaches 0.5.
    ci_method, confidence_level
        CI transform and level used for the limits.
    n
        Subjects used.
    n_censored
        Censored subjects (the "events" of the reverse curve).
    n_excluded, exclusions
        Rows dropped for missing values, and why.
    curve
        The reverse Kaplan–Meier fit itself (its ``n_events`` counts censorings).
    method, warnings
        How this was computed; warnings raised.
    """

    estimate: float
    lower: float
    upper: float
    reached: bool
    ci_method: CIMethod
    confidence_level: float
    n: int
    n_censored: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    curve: KaplanMeierResult
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``n, n_censored, estimate, lower, upper, confidence_level``."""
        return pd.DataFrame(
            {
                "n": [self.n],
                "n_censored": [self.n_censored],
                "estimate": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "confidence_level": [self.confidence_level],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows."""
        frame = self.to_frame()
        frame.insert(0, "group", ALL_GROUP)
        return frame_to_ard(frame, analysis="median_follow_up", keys=["group"])

    def __repr__(self) -> str:
        return (
            f"FollowUpResult(estimate={_repr_number(self.estimate)}, "
            f"lower={_repr_number(self.lower)}, upper={_repr_number(self.upper)}, "
            f"n={self.n}, ci_method={self.ci_method!r})"
        )


# ----------------------------------------------------------------------------------------------
# estimators
# ----------------------------------------------------------------------------------------------


def _median_frame(
    curves: _Curves, lower: FloatArray, upper: FloatArray, labels: Sequence[object]
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for g, label in enumerate(labels):
        rows_g = slice(curves.bounds[g], curves.bounds[g + 1])
        t = curves.time[rows_g]
        estimate = r_quantile_time(t, curves.surv[rows_g])
        rows.append(
            {
                "group": label,
                "n": int(curves.rows[rows_g].sum()),
                "n_events": int(curves.event_rows[rows_g].sum()),
                "estimate": estimate,
                "lower": r_quantile_time(t, lower[rows_g]),
                "upper": r_quantile_time(t, upper[rows_g]),
                "reached": bool(not np.isnan(estimate)),
            }
        )
    frame = pd.DataFrame(rows)
    frame["group"] = frame["group"].astype(object)
    return frame


def _km_method(
    ci_method: CIMethod,
    confidence_level: float,
    *,
    reverse: bool,
    start: str | None = None,
    weighting: _Weighting | None = None,
    robust: bool = False,
) -> MethodInfo:
    what = "reverse Kaplan–Meier (censoring as the event)" if reverse else "Kaplan–Meier"
    if start:
        what += f" with delayed entry (at risk from {start})"
    extra: dict[str, str | float | int | None] = {}
    if weighting is not None and weighting.weights is not None:
        what = f"weighted ({weighting.weights}) {what}"
        extra["weights"] = weighting.weights
    if robust:
        variance = "infinitesimal jackknife" + (
            f" (clusters: {weighting.cluster})"
            if weighting is not None and weighting.cluster is not None
            else " (each row its own cluster)"
        )
        extra["robust"] = True
        extra["robust_default"] = weighting is not None and weighting.robust_default
        extra["se_scale"] = "S (R logse = FALSE)"
        if weighting is not None and weighting.cluster is not None:
            extra["cluster"] = weighting.cluster
    else:
        variance = (
            "Greenwood"
            if weighting is None or weighting.weights is None
            else ("Greenwood with weighted counts")
        )
    return MethodInfo(
        estimator="reverse Kaplan-Meier" if reverse else "Kaplan-Meier",
        description=(
            f"{what} product-limit estimate with {variance} variance and "
            f"{confidence_level:.0%} pointwise confidence intervals on the {ci_method} scale; "
            "median and its interval by the rule of R quantile.survfit."
        ),
        options={
            "ci_method": ci_method,
            "confidence_level": confidence_level,
            "variance": variance,
            "r_default_ci_method": "log",
            "extend": False,
            **({"start": start} if start else {}),
            **extra,
        },
        reference=_KM_REFERENCE,
    )


@dataclass(frozen=True, slots=True)
class _Weighting:
    """The weight and cluster columns of a fit, and whether ``robust`` was left to R's rule."""

    weights: str | None
    cluster: str | None
    robust_default: bool


def _check_weighting(
    data: object, weights: object, robust: object, cluster: object, start: str | None
) -> _Weighting:
    """Validate ``weights``/``robust``/``cluster`` (every weight problem in one error)."""
    weights = check_column_argument(weights, "weights")
    cluster = check_column_argument(cluster, "cluster")
    if robust is not None and not isinstance(robust, bool):
        msg = f"`robust` must be True, False or None; got {robust!r}."
        raise AnalysisError(msg)
    if robust is False and cluster is not None:
        msg = (
            f"`cluster={cluster!r}` asks for the clustered robust variance but `robust=False`; "
            "drop `robust=False` (a cluster implies the robust variance, as in R; R ignores "
            "the cluster with a warning instead)."
        )
        raise AnalysisError(msg)
    if start is not None and (weights is not None or cluster is not None or robust):
        msg = (
            "`weights`, `robust` and `cluster` are not available together with `start` "
            "(delayed entry) in kaplan_meier: that combination is not verified against R. "
            "Use R's survfit(Surv(start, time, event) ~ by, weights = w, id = id), or drop "
            "`start`."
        )
        raise AnalysisError(msg)
    if weights is not None and isinstance(data, pd.DataFrame):
        check_weights(data, weights, zero_allowed=True)
    return _Weighting(weights=weights, cluster=cluster, robust_default=robust is None)


def _fit(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | None,
    flip: bool,
    start: str | None = None,
    weights: str | None = None,
    robust: bool | None = None,
    cluster: str | None = None,
) -> tuple[_Curves, list[object], int, tuple[str, ...]]:
    """Prepare inputs and fit the curves; ``flip`` makes censoring the event.

    ``robust=None`` follows R's ``survfitKM`` rule: the infinitesimal-jackknife
    variance when a cluster is given or any weight is not a whole number.
    """
    prepared = prepare(
        data,
        {
            "time": time,
            "event": event,
            "by": by,
            "start": start,
            "weights": weights,
            "cluster": cluster,
        },
    )
    frame = prepared.frame
    t = as_time(frame[time], time) + 0.0  # + 0.0 turns -0.0 into 0.0
    entry = None if start is None else as_start(frame[start], t, start=start, time=time) + 0.0
    e = as_event(frame[event], event)
    if flip:
        e = ~e
    if by is None:
        labels: list[object] = [ALL_GROUP]
        codes = np.zeros(t.size, dtype=np.int64)
    else:
        labels, codes = factor_codes(frame[by])
    w = weight_values(frame, weights)
    if robust is None:
        robust = cluster is not None or (w is not None and bool(np.any(w != np.floor(w))))
    clusters: IntArray | None = None
    if robust:
        found = cluster_codes(frame, cluster)
        clusters = np.arange(t.size, dtype=np.int64) if found is None else found
    curves = _km_curves(t, e, codes, len(labels), entry, weights=w, cluster=clusters)
    return curves, labels, prepared.n_excluded, prepared.exclusions


def kaplan_meier(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | None = None,
    ci_method: CIMethod = "log-log",
    confidence_level: float = 0.95,
    start: str | None = None,
    weights: str | None = None,
    robust: bool | None = None,
    cluster: str | None = None,
) -> KaplanMeierResult:
    """Kaplan–Meier survival curves with Greenwood SEs, pointwise CIs and medians.

    Parameters
    ----------
    data
        One row per subject.
    time
        Column of follow-up times (days since infusion; numeric, >= 0).
    event
        Column of event indicators: 1/True = event, 0/False = censored.
    by
        Optional grouping column; one curve per level. Levels follow a pandas
        Categorical's order, otherwise sorted order (as R's ``factor()``).
    ci_method
        Transform for the pointwise confidence intervals: ``"log-log"`` (the
        cartcohort default, as SAS PROC LIFETEST and lifelines), ``"log"`` (R's
        default ``conf.type``) or ``"plain"``.
    confidence_level
        Level of the pointwise and median confidence intervals, in (0, 1).
    start
        Optional column of entry times (delayed entry, left truncation), R's
        ``Surv(start, time, event)``: a row is at risk at ``t`` when
        ``start < t <= time``. Each row must have ``start < time``.
    weights
        Optional column of case weights, R's ``survfit(..., weights = w)`` (e.g.
        inverse-probability weights): finite and >= 0 (zero-weight rows are kept, as
        R, and change nothing but add their time to the table). ``n_risk``,
        ``n_event`` and ``n_censor`` become weighted sums; ``n``/``n_events`` still
        count rows.
    robust
        ``True``: infinitesimal-jackknife (robust) standard error of S(t), R's
        ``robust = TRUE``; ``False``: Greenwood with weighted counts. Default
        ``None`` follows R: robust when ``cluster`` is given or any weight is not a
        whole number, Greenwood otherwise. ``result.method.options["variance"]``
        records which was used.
    cluster
        Optional column of cluster identifiers (e.g. patient id when a patient has
        several rows), R's ``cluster = id``: the influence is summed within each
        cluster (within each group) before squaring. Implies ``robust``.

    Returns
    -------
    KaplanMeierResult
        ``table`` (every distinct time), ``median`` (per group, with ``n`` and
        ``n_events``), and ``at(times)`` for landmark estimates.

    Raises
    ------
    AnalysisError
        A column is missing, times are negative or non-numeric, events are not 0/1,
        a weight is not a finite number >= 0 (every such row is named), or an
        argument is invalid (e.g. ``cluster`` with ``robust=False``, or weights with
        ``start``).
    DegenerateDataError
        No complete rows remain, or ``cluster`` has a single value.

    Warns
    -----
    DegenerateWarning
        A group has no events (its curve stays at 1 and its median is not reached).

    Notes
    -----
    The product-limit estimate is :math:`\\hat S(t) = \\prod_{t_j \\le t}(1 - d_j/n_j)`,
    with Greenwood's :math:`\\widehat{\\mathrm{Var}}\\{\\log \\hat S(t)\\} = \\sum_{t_j\\le t}
    d_j / \\{n_j(n_j - d_j)\\}`. ``std_err`` is the SE of :math:`\\hat S(t)` itself,
    :math:`\\hat S(t)` times the SE of its log, as R's ``summary.survfit`` reports.
    Confidence limits with :math:`z = \\Phi^{-1}(1 - (1 - \\text{level})/2)` and
    :math:`s` the SE of :math:`\\log \\hat S`: plain :math:`\\hat S \\pm z s \\hat S`;
    log :math:`\\hat S e^{\\pm z s}`; log-log :math:`\\hat S^{\\exp(\\pm z s/\\log \\hat S)}`;
    all clipped to [0, 1]. As in R, limits are NaN when :math:`\\hat S = 0`, and
    log-log limits are NaN while :math:`\\hat S = 1`.

    **Default differs from R.** cartcohort defaults to ``ci_method="log-log"``
    (better coverage in small samples; SAS and lifelines use it). R ``survfit``
    defaults to ``conf.type = "log"``; pass ``ci_method="log"`` to reproduce R's
    printed output. The choice is recorded in ``result.method.options``.

    The median is the smallest time with :math:`\\hat S(t) \\le 0.5`; its
    confidence interval is where the lower and upper pointwise limit curves cross
    0.5 (Brookmeyer–Crowley style, as R). Where the curve is flat at exactly 0.5 the
    median is the midpoint of that flat stretch, and if the curve ends flat at 0.5 it
    is the midpoint between that time and the last follow-up time
    (``quantile.survfit``; tolerance ``sqrt(eps)``). R's ``print(survfit)`` uses a
    slightly different rule in that last case (it returns the start of the flat
    stretch); results follow ``quantile.survfit``.

    With ``start``, ``n_risk`` counts the rows with ``start < t <= time`` and the
    estimate is the product-limit estimate conditional on survival to the earliest
    entry, as R ``survfit(Surv(start, time, event) ~ by)``; the table has the
    distinct end times, as R. A curve whose risk set is small early (few patients
    entered yet) is unstable there; ``n_risk`` shows it.

    Times are used exactly as given: R's ``timefix`` merging of times that differ
    only by floating-point rounding is not applied (use integer days).

    References
    ----------
    .. [1] Kaplan EL, Meier P. Nonparametric estimation from incomplete observations.
       J Am Stat Assoc 1958;53:457-481.
    .. [2] Greenwood M. The natural duration of cancer. Reports on Public Health and
       Medical Subjects 33. London: HMSO; 1926.
    .. [3] Brookmeyer R, Crowley J. A confidence interval for the median survival time.
       Biometrics 1982;38:29-41.
    .. [4] Therneau TM. survival: A Package for Survival Analysis in R, version 3.5-3.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"days": [5, 8, 8, 12, 20], "died": [1, 1, 0, 1, 0]})
    >>> fit = kaplan_meier(d, time="days", event="died")
    >>> fit.table["estimate"].round(3).tolist()
    [0.8, 0.6, 0.3, 0.3]
    >>> float(fit.median["estimate"].iloc[0])
    12.0
    """
    time = check_column_name(time, "time")
    event = check_column_name(event, "event")
    if by is not None:
        by = check_column_name(by, "by")
    method_ci = check_ci_method(ci_method)
    level = check_confidence_level(confidence_level)
    if start is not None:
        start = check_column_name(start, "start")
    weighting = _check_weighting(data, weights, robust, cluster, start)
    curves, labels, n_excluded, exclusions = _fit(
        data,
        time=time,
        event=event,
        by=by,
        flip=False,
        start=start,
        weights=weighting.weights,
        robust=robust,
        cluster=weighting.cluster,
    )
    return _km_result(
        curves,
        labels,
        by=by,
        ci_method=method_ci,
        confidence_level=level,
        n_excluded=n_excluded,
        exclusions=exclusions,
        reverse=False,
        start=start,
        weighting=weighting,
    )


def _km_result(
    curves: _Curves,
    labels: list[object],
    *,
    by: str | None,
    ci_method: CIMethod,
    confidence_level: float,
    n_excluded: int,
    exclusions: tuple[str, ...],
    reverse: bool,
    start: str | None = None,
    weighting: _Weighting | None = None,
) -> KaplanMeierResult:
    collector = WarningCollector()
    std_err = curves.std_err
    lower, upper = pointwise_ci(
        curves.surv, curves.se_log, ci_method=ci_method, confidence_level=confidence_level
    )
    events_per_group = np.add.reduceat(curves.n_event, curves.bounds[:-1])
    what = "censorings (reverse Kaplan–Meier)" if reverse else "events"
    for label, count in zip(labels, events_per_group, strict=True):
        if count == 0:
            collector.warn(
                f"Group {label!r} has no {what}: its curve stays at 1 and the median is not "
                "reached.",
                DegenerateWarning,
            )
    counts = np.diff(curves.bounds)
    label_array = np.empty(len(labels), dtype=object)
    for g, label in enumerate(labels):  # element-wise: labels may themselves be tuples
        label_array[g] = label
    group_col = np.repeat(label_array, counts)
    table = pd.DataFrame(
        {
            "group": group_col,
            "time": curves.time,
            "n_risk": curves.n_risk,
            "n_event": curves.n_event,
            "n_censor": curves.n_censor,
            "estimate": curves.surv,
            "std_err": std_err,
            "lower": lower,
            "upper": upper,
        }
    )
    return KaplanMeierResult(
        table=table,
        median=_median_frame(curves, lower, upper, labels),
        groups=tuple(labels),
        by=by,
        ci_method=ci_method,
        confidence_level=confidence_level,
        n=int(curves.rows.sum()),
        n_events=int(curves.event_rows.sum()),
        n_excluded=n_excluded,
        exclusions=exclusions,
        method=_km_method(
            ci_method,
            confidence_level,
            reverse=reverse,
            start=start,
            weighting=weighting,
            robust=curves.robust,
        ),
        warnings=collector.as_tuple(),
    )


def median_follow_up(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    ci_method: CIMethod = "log-log",
    confidence_level: float = 0.95,
) -> FollowUpResult:
    """Median follow-up by the reverse Kaplan–Meier method (censoring as the event).

    Parameters
    ----------
    data
        One row per subject.
    time
        Column of follow-up times (days since infusion).
    event
        Column of event indicators (1/True = event). The reverse curve treats
        censored subjects as its events and subjects with the event as censored.
    ci_method
        CI transform for the median's interval (default ``"log-log"``; R's
        default is ``"log"``).
    confidence_level
        Level of the interval, in (0, 1).

    Returns
    -------
    FollowUpResult
        ``estimate``, ``lower``, ``upper`` (NaN = not reached) and the reverse curve.

    Raises
    ------
    AnalysisError
        Invalid columns or arguments.
    DegenerateDataError
        No complete rows remain.

    Warns
    -----
    DegenerateWarning
        Nobody is censored: the reverse curve never drops and the median follow-up is
        not reached (every subject had the event; report the observation times instead).

    Notes
    -----
    Equals R ``survfit(Surv(time, 1 - event) ~ 1)``'s median and its confidence
    interval (``quantile.survfit`` rule) with the same ``conf.type``. The reverse
    Kaplan–Meier estimates the *potential* follow-up: an event stops observation of
    the outcome but not of follow-up, so subjects with events are censored for it
    (Schemper and Smith, 1996). As in R, a subject censored at the same time as an
    event is not reordered: ties are handled by the ordinary product-limit rule.

    References
    ----------
    .. [1] Schemper M, Smith TL. A note on quantifying follow-up in studies of failure
       time. Control Clin Trials 1996;17:343-346.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"days": [5, 8, 10, 12, 20], "died": [1, 0, 1, 0, 0]})
    >>> float(median_follow_up(d, time="days", event="died").estimate)
    12.0
    """
    time = check_column_name(time, "time")
    event = check_column_name(event, "event")
    method_ci = check_ci_method(ci_method)
    level = check_confidence_level(confidence_level)
    curves, labels, n_excluded, exclusions = _fit(data, time=time, event=event, by=None, flip=True)
    curve = _km_result(
        curves,
        labels,
        by=None,
        ci_method=method_ci,
        confidence_level=level,
        n_excluded=n_excluded,
        exclusions=exclusions,
        reverse=True,
    )
    row = curve.median.iloc[0]
    return FollowUpResult(
        estimate=float(row["estimate"]),
        lower=float(row["lower"]),
        upper=float(row["upper"]),
        reached=bool(row["reached"]),
        ci_method=method_ci,
        confidence_level=level,
        n=curve.n,
        n_censored=curve.n_events,
        n_excluded=n_excluded,
        exclusions=exclusions,
        curve=curve,
        method=curve.method,
        warnings=curve.warnings,
    )


__all__ = ["FollowUpResult", "KaplanMeierResult", "kaplan_meier", "median_follow_up"]
