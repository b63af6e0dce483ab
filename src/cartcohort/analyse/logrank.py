"""Log-rank family: the (stratified, G-rho weighted) log-rank test and the test for trend.

``logrank_test`` reproduces R ``survival::survdiff`` (survival 3.5-3), including its
``rho`` weights and ``strata()``; ``logrank_trend_test`` is the 1-df score test for an
ordered trend built from the same observed, expected and variance quantities.

Counting is vectorised: each (stratum, distinct time) cell gets its deaths and at-risk
counts per group from one ``bincount`` and a within-stratum suffix sum. The only Python
loop is over strata (for the pooled Kaplan–Meier weight when ``rho != 0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.linalg import lapack

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort.analyse._data import as_event, as_time, factor_codes, prepare, require_groups
from cartcohort.analyse._dist import chi2_sf
from cartcohort.analyse._entry import as_start, count_not_entered
from cartcohort.analyse.km import (
    check_column_name,
    compress_keys,
    sorted_codes,
)
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_REFERENCE = "R survival::survdiff (survival 3.5-3)"


@dataclass(frozen=True, slots=True)
class _Counts:
    """Observed, expected and variance summed over strata, plus per-group counts."""

    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    n: IntArray
    n_events: IntArray


@dataclass(frozen=True, slots=True)
class _Inputs:
    time: FloatArray
    event: BoolArray
    group: IntArray
    labels: list[object]
    stratum: IntArray
    strata: list[object] | None
    n_excluded: int
    exclusions: tuple[str, ...]
    entry: FloatArray | None = None


def _left_km(
    deaths: FloatArray, at_risk: FloatArray, starts: IntArray, stops: IntArray
) -> FloatArray:
    """Pooled Kaplan–Meier just *before* each cell, restarted in every stratum (as survdiff)."""
    factor = (at_risk - deaths) / at_risk
    left = np.empty(factor.size, dtype=np.float64)
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        after = np.cumprod(factor[lo:hi])
        left[lo] = 1.0
        left[lo + 1 : hi] = after[:-1]
    return left


def _survdiff(inputs: _Inputs, rho: float) -> _Counts:
    """survdiff's observed, expected and variance (weights S(t-)^rho), vectorised."""
    n_groups = len(inputs.labels)
    n_strata = 1 if inputs.strata is None else len(inputs.strata)
    tcode, utimes = sorted_codes(inputs.time)
    n_times = utimes.size
    cell, keys = compress_keys(inputs.stratum * n_times + tcode, n_strata * n_times)
    n_cells = keys.size
    slot = cell * n_groups + inputs.group
    total = np.bincount(slot, minlength=n_cells * n_groups).reshape(n_cells, n_groups)
    dead = np.bincount(
        slot, weights=inputs.event.astype(np.float64), minlength=n_cells * n_groups
    ).reshape(n_cells, n_groups)

    # at risk in a cell = rows of the same stratum with time >= the cell's time
    cell_stratum = keys // n_times
    starts = np.searchsorted(cell_stratum, np.arange(n_strata)).astype(np.int64)
    stops = np.searchsorted(cell_stratum, np.arange(n_strata), side="right").astype(np.int64)
    suffix = np.vstack([np.cumsum(total[::-1], axis=0)[::-1], np.zeros((1, n_groups))])
    risk = (suffix[:-1] - suffix[stops[cell_stratum]]).astype(np.float64)
    if inputs.entry is not None:  # rows with entry >= t are not at risk yet
        cell_time = np.repeat(utimes[keys % n_times].astype(np.float64), n_groups)
        slot_key = np.repeat(cell_stratum * n_groups, n_groups) + np.tile(
            np.arange(n_groups), n_cells
        )
        late = count_not_entered(
            inputs.entry, inputs.stratum * n_groups + inputs.group, cell_time, slot_key
        )
        risk -= late.reshape(n_cells, n_groups)

    d_tot = dead.sum(axis=1)
    n_tot = risk.sum(axis=1)
    weight = np.ones(n_cells) if rho == 0 else _left_km(d_tot, n_tot, starts, stops) ** rho

    rows = d_tot > 0  # only death times contribute
    w, d, n_all, r = weight[rows], d_tot[rows], n_tot[rows], risk[rows]
    observed = (w[:, None] * dead[rows]).sum(axis=0)
    expected = ((w * d / n_all)[:, None] * r).sum(axis=0)
    # hypergeometric variance, zero when only one subject is at risk
    several = n_all > 1
    c = np.zeros(d.size)
    c[several] = (
        w[several] ** 2
        * d[several]
        * (n_all[several] - d[several])
        / (n_all[several] * (n_all[several] - 1))
    )
    variance = np.diag((c[:, None] * r).sum(axis=0)) - (r * (c / n_all)[:, None]).T @ r
    return _Counts(
        observed=observed,
        expected=expected,
        variance=variance,
        n=total.sum(axis=0).astype(np.int64),
        n_events=dead.sum(axis=0).astype(np.int64),
    )


def _prepare(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    strata: str | None,
    start: str | None = None,
) -> _Inputs:
    time = check_column_name(time, "time")
    event = check_column_name(event, "event")
    by = check_column_name(by, "by")
    if strata is not None:
        strata = check_column_name(strata, "strata")
        if strata == by:
            msg = f"`strata` and `by` are the same column ({by!r}); stratify by another column."
            raise AnalysisError(msg)
    if start is not None:
        start = check_column_name(start, "start")
    prepared = prepare(
        data, {"time": time, "event": event, "by": by, "strata": strata, "start": start}
    )
    frame = prepared.frame
    t = as_time(frame[time], time) + 0.0
    entry = None if start is None else as_start(frame[start], t, start=start, time=time) + 0.0
    e = as_event(frame[event], event)
    labels, codes = factor_codes(frame[by])
    require_groups(labels, by)
    if not e.any():
        msg = (
            f"No events in {event!r} among the {len(e)} complete rows: the log-rank test "
            "compares event rates and is undefined without events."
        )
        raise DegenerateDataError(msg)
    if strata is None:
        stratum = np.zeros(t.size, dtype=np.int64)
        strata_levels: list[object] | None = None
    else:
        strata_levels, stratum = factor_codes(frame[strata])
    return _Inputs(
        time=t,
        event=e,
        group=codes,
        labels=labels,
        stratum=stratum,
        strata=strata_levels,
        n_excluded=prepared.n_excluded,
        exclusions=prepared.exclusions,
        entry=entry,
    )


def _group_table(inputs: _Inputs, counts: _Counts) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "group": pd.Series(inputs.labels, dtype=object),
            "n": counts.n,
            "n_events": counts.n_events,
            "observed": counts.observed,
            "expected": counts.expected,
        }
    )
    frame["o_minus_e"] = frame["observed"] - frame["expected"]
    frame["variance"] = np.diag(counts.variance)
    return frame


def _warn_groups(inputs: _Inputs, counts: _Counts, collector: WarningCollector) -> None:
    for label, events, exp in zip(inputs.labels, counts.n_events, counts.expected, strict=True):
        if exp <= 0:
            collector.warn(
                f"Group {label!r} has nobody at risk at any event time (expected = 0); it is "
                "left out of the test and the degrees of freedom drop by one, as in R survdiff.",
                DegenerateWarning,
            )
        elif events == 0:
            collector.warn(f"Group {label!r} has no events.", DegenerateWarning)


def _chi_square(counts: _Counts, labels: Sequence[object]) -> tuple[float, int]:
    """survdiff's statistic: drop groups with E = 0 and the first remaining group."""
    keep = counts.expected > 0
    if keep.sum() < 2:
        msg = (
            "Fewer than two groups have anyone at risk at an event time "
            f"(groups with expected > 0: {[g for g, k in zip(labels, keep, strict=True) if k]}); "
            "the groups cannot be compared."
        )
        raise DegenerateDataError(msg)
    diff = (counts.observed - counts.expected)[keep][1:]
    sub = counts.variance[np.ix_(keep, keep)][1:, 1:]
    statistic = _quadratic_form_as_r(sub, diff)
    if statistic is None:
        msg = (
            "The log-rank variance matrix is singular (as R survdiff's 'system is "
            "computationally singular'): the groups cannot be compared, e.g. because within "
            "every stratum at most two of them are at risk at the event times."
        )
        raise DegenerateDataError(msg)
    return statistic, int(keep.sum()) - 1


def _quadratic_form_as_r(matrix: FloatArray, vector: FloatArray) -> float | None:
    """``vector' solve(matrix) vector``, or None where R's ``solve()`` refuses the matrix.

    R (``solve.default``) factorises with LAPACK ``dgesv`` and refuses a matrix whose
    reciprocal condition number, LAPACK ``dgecon``'s 1-norm estimate, is below
    ``.Machine$double.eps``. The same test is made here with the same LAPACK routines (scipy's
    own ``solve`` compares with half that epsilon, and numpy's makes no such test and returns a
    finite, meaningless value for a matrix that is singular up to rounding).
    """
    lu, piv, info = lapack.dgetrf(matrix)
    if info != 0:
        return None
    rcond, info = lapack.dgecon(lu, float(np.linalg.norm(matrix, 1)))
    if info != 0 or not rcond >= np.finfo(np.float64).eps:
        return None
    solution, info = lapack.dgetrs(lu, piv, vector)
    return float(vector @ solution) if info == 0 else None


def _check_rho(rho: object) -> float:
    if isinstance(rho, bool) or not isinstance(rho, int | float | np.integer | np.floating):
        msg = f"`rho` must be a number (0 = log-rank, 1 = Peto-Peto); got {rho!r}."
        raise AnalysisError(msg)
    if not math.isfinite(float(rho)):
        msg = f"`rho` must be finite (0 = log-rank, 1 = Peto-Peto); got {rho!r}."
        raise AnalysisError(msg)
    return float(rho)


def _test_name(rho: float) -> str:
    if rho == 0:
        return "log-rank"
    if rho == 1:
        return "Peto-Peto (G-rho, rho = 1)"
    return f"G-rho (rho = {rho:g})"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRankResult:
    """A (stratified, G-rho weighted) log-rank test, as R ``survdiff``.

    Attributes
    ----------
    statistic, df, p_value
        Chi-square statistic, its degrees of freedom (groups with expected > 0, minus
        one) and upper-tail p-value.
    groups
        Group labels, in the order of ``observed``, ``expected`` and ``variance``.
    observed, expected
        Per group, summed over strata. With ``rho != 0`` both are weighted by
        S(t-)^rho, as R's ``survdiff`` reports them.
    variance
        The groups x groups variance matrix of ``observed - expected``.
    table
        ``group, n, n_events, observed, expected, o_minus_e, variance`` (``n_events`` is
        the unweighted event count; ``variance`` the diagonal).
    rho
        The G-rho weight exponent (0 = log-rank, 1 = Peto-Peto).
    strata
        Stratum labels, or None.
    n, n_events, n_excluded, exclusions
        Subjects and events used; rows dropped for missing values and why.
    method, warnings
        How this was computed; warnings raised.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple[object, ...]
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    table: pd.DataFrame
    rho: float
    strata: tuple[object, ...] | None
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """Per-group table (``table``)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the per-group numbers, then statistic, df and p-value."""
        groups = frame_to_ard(self.table, analysis="logrank", keys=["group"])
        test = pd.DataFrame(
            {
                "analysis": "logrank",
                "group": None,
                "stat_name": ["statistic", "df", "p_value"],
                "stat_value": [self.statistic, float(self.df), self.p_value],
            }
        )
        return pd.concat([groups, test], ignore_index=True)

    def __repr__(self) -> str:
        return (
            f"LogRankResult(statistic={self.statistic:.6g}, df={self.df}, "
            f"p_value={self.p_value:.4g}, groups={len(self.groups)}, rho={self.rho:g}, "
            f"stratified={self.strata is not None})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRankTrendResult:
    """Log-rank test for trend across ordered groups (1 df).

    Attributes
    ----------
    statistic, df, p_value
        :math:`U^2/V` on 1 df and its p-value.
    z
        Signed :math:`U/\\sqrt V`; positive when groups with higher scores have more
        events than expected.
    score_statistic, score_variance
        :math:`U = c^\\top(O - E)` and :math:`V = c^\\top \\mathbf{V} c`.
    scores
        The score of each group, in ``groups`` order.
    groups, observed, expected, variance, table, strata
        As in :class:`LogRankResult` (log-rank weights, ``rho = 0``).
    n, n_events, n_excluded, exclusions, method, warnings
        As in :class:`LogRankResult`.
    """

    statistic: float
    df: int
    p_value: float
    z: float
    score_statistic: float
    score_variance: float
    scores: tuple[float, ...]
    groups: tuple[object, ...]
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    table: pd.DataFrame
    strata: tuple[object, ...] | None
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """Per-group table with the score of each group."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: per-group numbers, then the trend statistic, df, z and p-value."""
        groups = frame_to_ard(self.table, analysis="logrank_trend", keys=["group"])
        test = pd.DataFrame(
            {
                "analysis": "logrank_trend",
                "group": None,
                "stat_name": ["statistic", "df", "z", "p_value"],
                "stat_value": [self.statistic, float(self.df), self.z, self.p_value],
            }
        )
        return pd.concat([groups, test], ignore_index=True)

    def __repr__(self) -> str:
        return (
            f"LogRankTrendResult(statistic={self.statistic:.6g}, df=1, "
            f"p_value={self.p_value:.4g}, z={self.z:.4g}, groups={len(self.groups)})"
        )


def logrank_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    strata: str | None = None,
    rho: float = 0.0,
    start: str | None = None,
) -> LogRankResult:
    """Compare survival between groups: log-rank, Peto-Peto or G-rho test, optionally stratified.

    Parameters
    ----------
    data
        One row per subject.
    time
        Column of follow-up times (days since infusion; numeric, >= 0).
    event
        Column of event indicators: 1/True = event, 0/False = censored.
    by
        Grouping column (two or more levels; Categorical order, else sorted).
    strata
        Optional stratification column: the test sums the per-stratum observed,
        expected and variance (R ``+ strata(...)``).
    rho
        G-rho weight exponent: each event time is weighted by S(t-)^rho, with S the
        Kaplan–Meier of the pooled data in the stratum, taken just before t.
        0 (default) is the log-rank test; 1 is the Peto-Peto modification of the
        Gehan-Wilcoxon test (R ``survdiff(rho = 1)``).
    start
        Optional column of entry times (delayed entry): a row is at risk at ``t``
        when ``start < t <= time``. Only the log-rank test (``rho = 0``); see Notes.

    Returns
    -------
    LogRankResult
        ``statistic``, ``df``, ``p_value``, ``observed``, ``expected``, ``variance``
        and a per-group ``table``.

    Raises
    ------
    AnalysisError
        Missing columns or invalid arguments; ``start`` with ``rho != 0``; a
        ``start`` not below its ``time``.
    DegenerateDataError
        Fewer than two groups among complete rows; no events at all (the test is
        undefined; R returns a meaningless chi-square of 0 with -1 df); fewer than two
        groups with anyone at risk at an event time; or a singular variance matrix.

    Warns
    -----
    DegenerateWarning
        A group has no events, or nobody at risk at any event time (then it is left out
        and ``df`` drops, as in R).

    Notes
    -----
    At each distinct event time :math:`t` in stratum :math:`s`, with :math:`d` deaths
    among :math:`n` at risk, :math:`d_g`, :math:`n_g` in group :math:`g` and weight
    :math:`w = \\hat S_s(t-)^\\rho`: :math:`O_g = \\sum w d_g`, :math:`E_g = \\sum w d
    n_g/n`, :math:`V_{gh} = \\sum w^2 d (n - d)/(n (n - 1))\\, n_g(\\delta_{gh} - n_h/n)`,
    all summed over times and strata. The statistic is :math:`(O-E)^\\top V^{-}(O-E)`
    using all but the first group with :math:`E_g > 0`, on (that number of groups - 1)
    degrees of freedom. This is exactly R ``survdiff``, including its weighted ``obs``
    and ``exp`` when ``rho != 0``.

    With ``start``, :math:`n` and :math:`n_g` count the rows with
    ``start < t <= time``. R's ``survdiff`` does not accept ``Surv(start, stop,
    event)`` ("Right censored data only"); the reference is the score test of R
    ``coxph(Surv(start, time, event) ~ by + strata(...), ties = "exact")``, which
    equals ``survdiff`` (the Mantel-Haenszel form above) on right-censored data and
    reduces to the formula above with entry-time risk sets. G-rho weights with
    entry times have no R reference (no ``survdiff`` for such data), so ``start``
    with ``rho != 0`` is an error.

    Compared with other software: lifelines ``logrank_test`` gives the same
    unstratified statistic but has no strata; its ``weightings="peto"`` is a
    different Peto variant (use ``rho=1`` here, = lifelines Fleming-Harrington
    p=1, q=0, = statsmodels ``weight_type="fh"``). scipy ``stats.logrank`` returns
    the signed square root for two groups. R's ``timefix`` merging of nearly equal
    times is not applied (use integer days).

    References
    ----------
    .. [1] Mantel N. Evaluation of survival data and two new rank order statistics
       arising in its consideration. Cancer Chemother Rep 1966;50:163-170.
    .. [2] Harrington DP, Fleming TR. A class of rank test procedures for censored
       survival data. Biometrika 1982;69:553-566.
    .. [3] Therneau TM. survival: A Package for Survival Analysis in R, version 3.5-3,
       ``survdiff``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame(
    ...     {"days": [3, 5, 7, 9, 4, 6, 8, 10], "died": [1, 1, 1, 0, 1, 0, 0, 0],
    ...      "arm": ["A"] * 4 + ["B"] * 4}
    ... )
    >>> res = logrank_test(d, time="days", event="died", by="arm")
    >>> res.df, round(res.statistic, 4)
    (1, 1.1538)
    """
    rho_value = _check_rho(rho)
    if start is not None and rho_value != 0:
        msg = (
            f"`start` (delayed entry) is supported for the log-rank test only (rho = 0); "
            f"got rho = {rho_value:g}. R's survdiff has no G-rho test for (start, stop] data."
        )
        raise AnalysisError(msg)
    inputs = _prepare(data, time=time, event=event, by=by, strata=strata, start=start)
    counts = _survdiff(inputs, rho_value)
    collector = WarningCollector()
    _warn_groups(inputs, counts, collector)
    statistic, df = _chi_square(counts, inputs.labels)
    name = _test_name(rho_value)
    return LogRankResult(
        statistic=statistic,
        df=df,
        p_value=float(chi2_sf(statistic, df)),
        groups=tuple(inputs.labels),
        observed=counts.observed,
        expected=counts.expected,
        variance=counts.variance,
        table=_group_table(inputs, counts),
        rho=rho_value,
        strata=None if inputs.strata is None else tuple(inputs.strata),
        n=int(counts.n.sum()),
        n_events=int(counts.n_events.sum()),
        n_excluded=inputs.n_excluded,
        exclusions=inputs.exclusions,
        method=MethodInfo(
            estimator=name,
            description=(
                f"{'Stratified ' if strata is not None else ''}{name} test comparing "
                f"{len(inputs.labels)} groups; weights S(t-)^rho with the pooled "
                "Kaplan–Meier within stratum; chi-square on groups with expected > 0."
            ),
            options={"rho": rho_value, "strata": strata, **({"start": start} if start else {})},
            reference=_REFERENCE
            + (
                " with delayed entry: coxph(Surv(start, time, event), ties='exact') score"
                if start
                else ""
            ),
        ),
        warnings=collector.as_tuple(),
    )


def _resolve_scores(
    scores: Sequence[float] | Mapping[object, float] | None, labels: Sequence[object]
) -> FloatArray:
    if scores is None:
        return np.arange(1, len(labels) + 1, dtype=np.float64)
    if isinstance(scores, Mapping):
        missing = [g for g in labels if g not in scores]
        if missing:
            msg = f"`scores` has no score for group(s) {missing}; give one score per level."
            raise AnalysisError(msg)
        values = [scores[g] for g in labels]
    elif isinstance(scores, str):
        msg = f"`scores` must be numbers, one per group; got {scores!r}."
        raise AnalysisError(msg)
    else:
        values = list(scores)
        if len(values) != len(labels):
            msg = (
                f"`scores` has {len(values)} value(s) but `by` has {len(labels)} group(s) "
                f"{list(labels)}; give one score per group, in that order."
            )
            raise AnalysisError(msg)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"`scores` must be numbers; got {values!r}."
        raise AnalysisError(msg) from exc
    if not np.all(np.isfinite(arr)):
        msg = f"`scores` must be finite numbers; got {values!r}."
        raise AnalysisError(msg)
    if np.ptp(arr) == 0:
        msg = f"`scores` are all equal ({values!r}); a trend needs at least two distinct scores."
        raise AnalysisError(msg)
    return arr


def logrank_trend_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    scores: Sequence[float] | Mapping[object, float] | None = None,
    strata: str | None = None,
) -> LogRankTrendResult:
    """Log-rank test for trend across ordered groups (1 degree of freedom).

    Parameters
    ----------
    data
        One row per subject.
    time
        Column of follow-up times (days since infusion).
    event
        Column of event indicators: 1/True = event, 0/False = censored.
    by
        Ordered grouping column (Categorical order, else sorted).
    scores
        One number per group, as a sequence in level order or a mapping
        level -> score. Default 1, 2, ..., k in level order.
    strata
        Optional stratification column (sums over strata, as ``logrank_test``).

    Returns
    -------
    LogRankTrendResult
        ``statistic`` (:math:`U^2/V`), ``df`` (1), ``p_value``, the signed ``z`` and
        the per-group table.

    Raises
    ------
    AnalysisError
        Missing columns, invalid or constant scores, scores not matching the groups.
    DegenerateDataError
        Fewer than two groups, no events, or zero variance of the score.

    Warns
    -----
    DegenerateWarning
        A group has no events or nobody at risk at an event time.

    Notes
    -----
    With :math:`O`, :math:`E` and :math:`\\mathbf V` from the (stratified) log-rank
    test (``survdiff`` with ``rho = 0``) and scores :math:`c`,
    :math:`U = c^\\top (O - E)`, :math:`V = c^\\top \\mathbf V c` and the statistic
    :math:`U^2/V \\sim \\chi^2_1`. Base R has no function for it; survminer's
    ``surv_pvalue(test.for.trend = TRUE)`` reports it. The reference values used in
    cartcohort's tests are computed in R directly from ``survdiff``'s ``obs``,
    ``exp`` and ``var`` with this formula. The test is invariant to shifting or
    rescaling the scores by a positive constant.

    References
    ----------
    .. [1] Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC Press;
       2015, section 2.7 (log-rank test for trend).
    .. [2] Peto R, Pike MC, Armitage P, et al. Design and analysis of randomized
       clinical trials requiring prolonged observation of each patient. II.
       Br J Cancer 1977;35:1-39.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame(
    ...     {"days": [2, 4, 6, 3, 5, 9, 8, 10, 12], "died": [1, 1, 1, 1, 0, 1, 1, 0, 0],
    ...      "dose": [3, 3, 3, 2, 2, 2, 1, 1, 1]}
    ... )
    >>> res = logrank_trend_test(d, time="days", event="died", by="dose")
    >>> res.df, res.z > 0
    (1, True)
    """
    inputs = _prepare(data, time=time, event=event, by=by, strata=strata)
    c = _resolve_scores(scores, inputs.labels)
    counts = _survdiff(inputs, 0.0)
    collector = WarningCollector()
    _warn_groups(inputs, counts, collector)
    u = float(c @ (counts.observed - counts.expected))
    v = float(c @ counts.variance @ c)
    if not v > 0:
        msg = (
            "The variance of the trend score is zero (no informative event times between "
            "groups with different scores); the trend test is undefined."
        )
        raise DegenerateDataError(msg)
    statistic = u * u / v
    table = _group_table(inputs, counts)
    table.insert(1, "score", c)
    return LogRankTrendResult(
        statistic=statistic,
        df=1,
        p_value=float(chi2_sf(statistic, 1)),
        z=u / math.sqrt(v),
        score_statistic=u,
        score_variance=v,
        scores=tuple(c.tolist()),
        groups=tuple(inputs.labels),
        observed=counts.observed,
        expected=counts.expected,
        variance=counts.variance,
        table=table,
        strata=None if inputs.strata is None else tuple(inputs.strata),
        n=int(counts.n.sum()),
        n_events=int(counts.n_events.sum()),
        n_excluded=inputs.n_excluded,
        exclusions=inputs.exclusions,
        method=MethodInfo(
            estimator="log-rank test for trend",
            description=(
                f"{'Stratified ' if strata is not None else ''}log-rank test for trend "
                f"across {len(inputs.labels)} ordered groups with scores "
                f"{', '.join(f'{s:g}' for s in c)}; U^2/V on 1 df."
            ),
            options={"scores": ", ".join(f"{s:g}" for s in c), "strata": strata},
            reference=f"{_REFERENCE} obs/exp/var; U = c'(O-E), V = c'Vc",
        ),
        warnings=collector.as_tuple(),
    )


__all__ = ["LogRankResult", "LogRankTrendResult", "logrank_test", "logrank_trend_test"]
