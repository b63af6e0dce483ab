"""Group comparisons and correlation: t-test, Mann-Whitney, ANOVA, Kruskal-Wallis, correlation.

Every function takes a DataFrame and column names, keeps complete cases (the
count and reason are reported in ``n_excluded`` / ``exclusions``), orders groups
as R's ``factor()`` does (a Categorical keeps its order, anything else is
sorted), and reproduces the numbers of R's ``t.test``, ``wilcox.test``,
``aov``/``oneway.test``, ``kruskal.test`` and ``cor.test``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector
from cartcohort._types import CorrelationMethod
from cartcohort.analyse._data import factor_codes, prepare, require_groups
from cartcohort.analyse._dist import (
    chi2_sf,
    f_sf,
    norm_cdf,
    norm_ppf,
    norm_sf,
    rankdata,
    t_cdf,
    t_ppf,
    t_sf,
)
from cartcohort.analyse.contingency import _check_confidence_level, _frame_ard
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

FloatArray = npt.NDArray[np.float64]

#: R's wilcox.test computes the exact null distribution when both groups have
#: fewer than this many observations and there are no ties.
WILCOX_EXACT_MAX = 50
#: R's cor.test(method = "spearman") uses AS 89 up to this n (no ties).
SPEARMAN_AS89_MAX_N = 1290
#: AS 89 as modified in R: exact enumeration up to this n, Edgeworth series above.
SPEARMAN_EXACT_MAX_N = 9


# --------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Groups:
    levels: list[object]
    values: list[FloatArray]
    n_excluded: int
    exclusions: tuple[str, ...]


def _numeric(values: pd.Series, name: str) -> FloatArray:
    if values.dtype == bool:
        msg = f"`value` column {name!r} is boolean; a comparison of means needs a numeric column."
        raise AnalysisError(msg)
    try:
        arr: FloatArray = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"Column {name!r} must be numeric; {exc}."
        raise AnalysisError(msg) from exc
    if not np.isfinite(arr).all():
        msg = f"Column {name!r} contains infinite values; remove or recode them."
        raise AnalysisError(msg)
    return arr


def _groups(
    data: pd.DataFrame, value: str, by: str, extra: dict[str, str | None] | None = None
) -> tuple[_Groups, pd.DataFrame]:
    prepared = prepare(data, {"value": value, "by": by, **(extra or {})})
    frame = prepared.frame
    levels, codes = factor_codes(frame[by])
    require_groups(levels, by)
    x = _numeric(frame[value], value)
    values = [x[codes == i] for i in range(len(levels))]
    return _Groups(levels, values, prepared.n_excluded, prepared.exclusions), frame


def _exactly_two(groups: _Groups, by: str, test: str) -> None:
    if len(groups.levels) != 2:
        msg = (
            f"{test} compares exactly 2 groups; column {by!r} has {len(groups.levels)} "
            f"({groups.levels}). Use anova() or kruskal_wallis_test() for more, or filter the data."
        )
        raise AnalysisError(msg)


def _sd(x: FloatArray) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


def _summary(levels: list[object], values: list[FloatArray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": [str(lv) for lv in levels],
            "n": [len(v) for v in values],
            "mean": [float(v.mean()) for v in values],
            "sd": [_sd(v) for v in values],
        }
    )


def _two_sided_t(t: float, df: float) -> float:
    return float(2.0 * min(t_cdf(t, df), t_sf(t, df)))


# --------------------------------------------------------------------------------------
# t-test
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TTestResult:
    """Two-sample (Welch or pooled) or paired t-test.

    Attributes
    ----------
    estimate, lower, upper, confidence_level
        Mean difference, first group minus second (R's level order), and its
        confidence interval. For a paired test, the mean of the paired differences.
    std_err
        Standard error of the difference.
    statistic, df, p_value
        t statistic, degrees of freedom (Welch-Satterthwaite, pooled ``n - 2``, or
        paired ``pairs - 1``) and two-sided p-value.
    n
        Number of observations used (for a paired test: 2 x the number of pairs).
    groups
        Tidy table ``group, n, mean, sd`` per group.
    """

    estimate: float
    lower: float
    upper: float
    confidence_level: float
    std_err: float
    statistic: float
    df: float
    p_value: float
    n: int
    n_excluded: int
    exclusions: tuple[str, ...]
    groups: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"TTestResult(estimate={self.estimate:.4g} [{self.lower:.4g}, {self.upper:.4g}], "
            f"statistic={self.statistic:.4g}, df={self.df:.4g}, p_value={self.p_value:.4g}, "
            f"n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row with the test (``group`` is ``"difference"``)."""
        return pd.DataFrame(
            {
                "group": ["difference"],
                "estimate": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "confidence_level": [self.confidence_level],
                "std_err": [self.std_err],
                "statistic": [self.statistic],
                "df": [self.df],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the difference, then each group's n, mean and sd."""
        return pd.concat(
            [
                _frame_ard(self.to_frame(), "t_test", ["group"]),
                _frame_ard(self.groups, "t_test", ["group"]),
            ],
            ignore_index=True,
        )


def _paired_values(
    frame: pd.DataFrame, value: str, by: str, pair_id: str, levels: list[object]
) -> tuple[FloatArray, FloatArray, int, tuple[str, ...]]:
    parts = []
    for lv in levels:
        part = frame.loc[frame[by] == lv, [pair_id, value]]
        dup = part[pair_id].duplicated()
        if dup.any():
            msg = (
                f"`pair_id` {pair_id!r} repeats within group {lv!r} "
                f"(e.g. {part.loc[dup, pair_id].iloc[0]!r}); each pair needs one row per group."
            )
            raise AnalysisError(msg)
        parts.append(part.set_index(pair_id)[value])
    both = pd.concat(parts, axis=1, join="inner")
    unpaired = sum(len(p) for p in parts) - 2 * len(both)
    exclusions = (f"{unpaired} row(s) without a partner in the other group",) if unpaired else ()
    x = _numeric(both.iloc[:, 0], value)
    y = _numeric(both.iloc[:, 1], value)
    return x, y, unpaired, exclusions


def t_test(
    data: pd.DataFrame,
    *,
    value: str,
    by: str,
    equal_var: bool = False,
    pair_id: str | None = None,
    confidence_level: float = 0.95,
) -> TTestResult:
    """Two-sample t-test of a numeric column between two groups, as R's ``t.test``.

    Parameters
    ----------
    data
        One row per observation.
    value
        Numeric column to compare.
    by
        Grouping column with exactly two groups among complete rows.
    equal_var
        ``False`` (default, as R): Welch's test with Satterthwaite df.
        ``True``: pooled-variance Student test (R ``var.equal = TRUE``).
    pair_id
        Column identifying pairs (e.g. subject id). When given, the paired t-test
        of the within-pair differences (first group minus second) is computed, as
        R's ``t.test(x, y, paired = TRUE)``; rows without a partner are excluded
        and counted. ``equal_var`` is then irrelevant.
    confidence_level
        Level of the interval for the difference.

    Returns
    -------
    TTestResult

    Raises
    ------
    AnalysisError
        Missing columns, a non-numeric value column, or not exactly two groups.
    DegenerateDataError
        Too few observations, or data essentially constant (zero standard error).

    Notes
    -----
    The difference is mean(first) - mean(second), where groups are ordered as R
    orders factor levels, so ``t_test(df, value="v", by="g")`` matches
    ``t.test(v ~ g, data = df)``. Welch: ``se = sqrt(s1^2/n1 + s2^2/n2)``,
    ``df = se^4 / (s1^4/(n1^2 (n1-1)) + s2^4/(n2^2 (n2-1)))``. The interval is
    ``estimate +/- t_{(1+level)/2, df} se``. Only the two-sided test is offered.
    scipy's ``ttest_ind`` defaults to the pooled test (``equal_var=True``); R and
    this function default to Welch.

    References
    ----------
    Welch BL (1947). The generalization of Student's problem when several
    different population variances are involved. Biometrika 34:28-35.

    Examples
    --------
    >>> df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, 6.0, 9.0], "g": list("aaabbb")})
    >>> round(t_test(df, value="v", by="g").statistic, 4)
    -2.7716
    """
    level = _check_confidence_level(confidence_level)
    extra: dict[str, str | None] | None = {"pair_id": pair_id} if pair_id else None
    groups, frame = _groups(data, value, by, extra)
    _exactly_two(groups, by, "t_test")
    n_excluded, exclusions = groups.n_excluded, groups.exclusions
    x, y = groups.values
    if pair_id is not None:
        x, y, unpaired, extra_excl = _paired_values(frame, value, by, pair_id, groups.levels)
        n_excluded += unpaired
        exclusions = exclusions + extra_excl
        d = x - y
        if len(d) < 2:
            msg = f"The paired t-test needs at least 2 complete pairs; got {len(d)}."
            raise DegenerateDataError(msg)
        estimate = float(d.mean())
        se = float(np.std(d, ddof=1) / math.sqrt(len(d)))
        df = float(len(d) - 1)
        scale = abs(estimate)
        kind = "paired"
    else:
        estimate, se, df = _two_sample(x, y, equal_var=equal_var)
        scale = max(abs(float(x.mean())), abs(float(y.mean())))
        kind = "pooled" if equal_var else "welch"
    if se < 10 * np.finfo(float).eps * scale or se == 0:
        msg = f"The data are essentially constant (standard error {se:.3g}); t is undefined."
        raise DegenerateDataError(msg)
    t = estimate / se
    half = float(t_ppf(0.5 + level / 2, df)) * se
    descriptions = {
        "welch": "Welch two-sample t-test (unequal variances, Satterthwaite df).",
        "pooled": "Two-sample t-test with pooled variance.",
        "paired": "Paired t-test of within-pair differences.",
    }
    method = MethodInfo(
        estimator={"welch": "Welch t-test", "pooled": "Student t-test", "paired": "paired t-test"}[
            kind
        ],
        description=descriptions[kind],
        options={
            "equal_var": bool(equal_var),
            "paired": pair_id is not None,
            "difference": f"{groups.levels[0]} - {groups.levels[1]}",
            "alternative": "two-sided",
        },
        reference="R stats::t.test",
    )
    return TTestResult(
        estimate=estimate,
        lower=estimate - half,
        upper=estimate + half,
        confidence_level=level,
        std_err=se,
        statistic=t,
        df=df,
        p_value=_two_sided_t(t, df),
        n=len(x) + len(y),
        n_excluded=n_excluded,
        exclusions=exclusions,
        groups=_summary(groups.levels, [x, y]),
        method=method,
    )


def _two_sample(x: FloatArray, y: FloatArray, *, equal_var: bool) -> tuple[float, float, float]:
    nx, ny = len(x), len(y)
    if equal_var:
        if nx < 1 or ny < 1 or nx + ny < 3:
            msg = f"The pooled t-test needs n1 + n2 >= 3; got {nx} and {ny}."
            raise DegenerateDataError(msg)
        df = float(nx + ny - 2)
        v = ((nx - 1) * (np.var(x, ddof=1) if nx > 1 else 0.0)) + (
            (ny - 1) * (np.var(y, ddof=1) if ny > 1 else 0.0)
        )
        se = math.sqrt(v / df * (1 / nx + 1 / ny))
    else:
        if nx < 2 or ny < 2:
            msg = (
                f"Welch's t-test needs at least 2 observations per group; got {nx} and {ny}. "
                "Use equal_var=True for a group of 1."
            )
            raise DegenerateDataError(msg)
        vx, vy = np.var(x, ddof=1) / nx, np.var(y, ddof=1) / ny
        se = math.sqrt(vx + vy)
        denom = vx**2 / (nx - 1) + vy**2 / (ny - 1)
        df = float((vx + vy) ** 2 / denom) if denom > 0 else math.inf
    return float(x.mean() - y.mean()), se, df


# --------------------------------------------------------------------------------------
# Mann-Whitney / Wilcoxon rank-sum
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MannWhitneyResult:
    """Wilcoxon rank-sum (Mann-Whitney) test.

    Attributes
    ----------
    statistic
        R's W: rank sum of the first group minus ``n1 (n1 + 1) / 2``.
    p_value
        Two-sided p-value, exact or normal approximation (see ``p_value_method``).
    p_value_method
        ``"exact"`` or ``"normal"`` (with continuity correction and tie-corrected
        variance).
    n
        Number of observations used.
    groups
        Tidy table ``group, n, median, rank_sum``.
    """

    statistic: float
    p_value: float
    p_value_method: Literal["exact", "normal"]
    n: int
    n_excluded: int
    exclusions: tuple[str, ...]
    groups: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"MannWhitneyResult(W={self.statistic:.6g}, p_value={self.p_value:.4g} "
            f"({self.p_value_method}), n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, p_value, n, n_excluded``."""
        return pd.DataFrame(
            {
                "group": ["test"],
                "statistic": [self.statistic],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the test, then each group's n, median and rank sum."""
        return pd.concat(
            [
                _frame_ard(self.to_frame(), "mann_whitney_test", ["group"]),
                _frame_ard(self.groups, "mann_whitney_test", ["group"]),
            ],
            ignore_index=True,
        )


@lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> tuple[float, ...]:
    """Number of arrangements giving each W = 0 .. m n (as R's cwilcox recursion)."""
    # f[j] holds the counts for (i, j) while i runs over 0..m; additions only, so the
    # counts are exact up to 2^53 and correctly rounded beyond.
    rows = [np.ones(1) for _ in range(n + 1)]  # i = 0: only W = 0
    for i in range(1, m + 1):
        new = [np.ones(1)]  # j = 0: only W = 0
        for j in range(1, n + 1):
            a = np.zeros(i * j + 1)
            prev_i = rows[j]  # (i - 1, j), shifted by j
            a[j : j + len(prev_i)] += prev_i
            left = new[j - 1]  # (i, j - 1)
            a[: len(left)] += left
            new.append(a)
        rows = new
    return tuple(rows[n].tolist())


def _wilcox_exact_p(w: float, m: int, n: int) -> float:
    counts = np.asarray(_wilcox_counts(m, n))
    total = counts.sum()
    q = round(w)
    # the tail on the side of W: P(W >= w) above the mean, P(W <= w) below (as R)
    tail = counts[q:] if w > m * n / 2 else counts[: q + 1]
    p = tail.sum() / total
    return float(min(2.0 * p, 1.0))


def mann_whitney_test(data: pd.DataFrame, *, value: str, by: str) -> MannWhitneyResult:
    """Wilcoxon rank-sum (Mann-Whitney U) test between two groups, as R's ``wilcox.test``.

    Parameters
    ----------
    data
        One row per observation.
    value
        Numeric (or ordinal numeric) column.
    by
        Grouping column with exactly two groups among complete rows.

    Returns
    -------
    MannWhitneyResult

    Raises
    ------
    AnalysisError
        Missing columns, non-numeric values, or not exactly two groups.
    DegenerateDataError
        All values are tied (the test is undefined).

    Notes
    -----
    ``W = R1 - n1 (n1 + 1) / 2`` with midranks for ties (R's statistic; scipy's
    ``mannwhitneyu`` returns the same U for the first sample). R's rule for the
    p-value is followed exactly: the exact null distribution when
    ``n1 < 50 and n2 < 50`` and there are no ties; otherwise the normal
    approximation ``z = (W - n1 n2 / 2 - sign * 0.5) / sigma`` with continuity
    correction and tie-corrected
    ``sigma^2 = n1 n2 / 12 * (N + 1 - sum(t^3 - t) / (N (N - 1)))``. The exact
    two-sided p-value doubles the smaller tail (capped at 1). scipy's default
    ``method="auto"`` switches to exact at a different size and treats ties
    differently, so its p-values can differ from R's.

    References
    ----------
    Mann HB, Whitney DR (1947). Ann Math Stat 18:50-60.
    Hollander M, Wolfe DA (1999). Nonparametric Statistical Methods, 2nd ed.

    Examples
    --------
    >>> df = pd.DataFrame({"v": [1.1, 2.3, 3.2, 4.8, 6.0, 9.5], "g": list("aaabbb")})
    >>> res = mann_whitney_test(df, value="v", by="g")
    >>> res.statistic, res.p_value
    (0.0, 0.1)
    """
    groups, _ = _groups(data, value, by)
    _exactly_two(groups, by, "mann_whitney_test")
    x, y = groups.values
    nx, ny = len(x), len(y)
    combined = np.concatenate([x, y])
    ranks = rankdata(combined)
    w = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    _, tie_counts = np.unique(combined, return_counts=True)
    ties = bool((tie_counts > 1).any())
    if nx < WILCOX_EXACT_MAX and ny < WILCOX_EXACT_MAX and not ties:
        p = _wilcox_exact_p(w, nx, ny)
        kind: Literal["exact", "normal"] = "exact"
    else:
        big_n = nx + ny
        t = tie_counts.astype(np.float64)
        var = nx * ny / 12 * ((big_n + 1) - (t**3 - t).sum() / (big_n * (big_n - 1)))
        if var <= 0:
            msg = f"All values of {value!r} are tied; the rank-sum test is undefined."
            raise DegenerateDataError(msg)
        z = w - nx * ny / 2
        z = (z - math.copysign(0.5, z) * (z != 0)) / math.sqrt(var)
        p = float(2.0 * min(norm_cdf(z), norm_sf(z)))
        kind = "normal"
    table = pd.DataFrame(
        {
            "group": [str(lv) for lv in groups.levels],
            "n": [nx, ny],
            "median": [float(np.median(x)), float(np.median(y))],
            "rank_sum": [float(ranks[:nx].sum()), float(ranks[nx:].sum())],
        }
    )
    method = MethodInfo(
        estimator="Wilcoxon rank-sum test",
        description=(
            "Wilcoxon rank-sum (Mann-Whitney) test, exact p-value."
            if kind == "exact"
            else "Wilcoxon rank-sum (Mann-Whitney) test, normal approximation with continuity "
            "correction and tie-corrected variance."
        ),
        options={"p_value": kind, "ties": ties, "alternative": "two-sided"},
        reference="R stats::wilcox.test",
    )
    return MannWhitneyResult(
        statistic=w,
        p_value=p,
        p_value_method=kind,
        n=nx + ny,
        n_excluded=groups.n_excluded,
        exclusions=groups.exclusions,
        groups=table,
        method=method,
    )


# --------------------------------------------------------------------------------------
# one-way ANOVA and Kruskal-Wallis
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AnovaResult:
    """One-way analysis of variance.

    Attributes
    ----------
    statistic, df, df_residual, p_value
        F statistic, between-groups df ``k - 1``, within-groups (residual) df
        ``N - k``, and the upper-tail p-value.
    n
        Number of observations used.
    groups
        Tidy table ``group, n, mean, sd``.
    table
        The ANOVA table ``term, df, sum_sq, mean_sq, statistic, p_value`` (terms
        ``"between"`` and ``"residuals"``), as R's ``summary(aov())``.
    """

    statistic: float
    df: float
    df_residual: float
    p_value: float
    n: int
    n_excluded: int
    exclusions: tuple[str, ...]
    groups: pd.DataFrame = field(compare=False, repr=False)
    table: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"AnovaResult(F={self.statistic:.4g}, df=({self.df:g}, {self.df_residual:g}), "
            f"p_value={self.p_value:.4g}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, df, df_residual, p_value, n, n_excluded``."""
        return pd.DataFrame(
            {
                "group": ["test"],
                "statistic": [self.statistic],
                "df": [self.df],
                "df_residual": [self.df_residual],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the test, then each group's n, mean and sd."""
        return pd.concat(
            [
                _frame_ard(self.to_frame(), "anova", ["group"]),
                _frame_ard(self.groups, "anova", ["group"]),
            ],
            ignore_index=True,
        )


def anova(data: pd.DataFrame, *, value: str, by: str) -> AnovaResult:
    """One-way ANOVA F-test, as R's ``summary(aov(value ~ by))``.

    Parameters
    ----------
    data
        One row per observation.
    value
        Numeric column.
    by
        Grouping column (at least 2 groups among complete rows).

    Returns
    -------
    AnovaResult

    Raises
    ------
    AnalysisError
        Missing or non-numeric columns.
    DegenerateDataError
        Fewer than 2 groups, no residual degrees of freedom, or zero variance
        within every group (F undefined).

    Warns
    -----
    DegenerateWarning
        A group has a single observation (its SD is undefined and reported NaN).

    Notes
    -----
    ``F = (SSB / (k - 1)) / (SSW / (N - k))``; identical to R's
    ``oneway.test(var.equal = TRUE)`` and scipy's ``f_oneway``. For unequal
    variances use Welch's ANOVA (``oneway.test`` default; not provided here).

    References
    ----------
    Fisher RA (1925). Statistical Methods for Research Workers.

    Examples
    --------
    >>> v = [1.0, 2.0, 3.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    >>> df = pd.DataFrame({"v": v, "g": list("aaabbbccc")})
    >>> round(anova(df, value="v", by="g").statistic, 4)
    13.0
    """
    groups, _ = _groups(data, value, by)
    collector = WarningCollector()
    values = groups.values
    k = len(values)
    n = sum(len(v) for v in values)
    if n - k < 1:
        msg = f"ANOVA needs more observations than groups; got {n} observations in {k} groups."
        raise DegenerateDataError(msg)
    grand = float(np.concatenate(values).mean())
    ssb = float(sum(len(v) * (v.mean() - grand) ** 2 for v in values))
    ssw = float(sum(((v - v.mean()) ** 2).sum() for v in values))
    if ssw <= 0:
        msg = f"{value!r} has zero variance within every group; the F statistic is undefined."
        raise DegenerateDataError(msg)
    singles = [str(lv) for lv, v in zip(groups.levels, values, strict=True) if len(v) == 1]
    if singles:
        collector.warn(
            f"Group(s) {singles} have a single observation; their SD is undefined (NaN).",
            DegenerateWarning,
        )
    df1, df2 = float(k - 1), float(n - k)
    f = (ssb / df1) / (ssw / df2)
    p = float(f_sf(f, df1, df2))
    table = pd.DataFrame(
        {
            "term": ["between", "residuals"],
            "df": [df1, df2],
            "sum_sq": [ssb, ssw],
            "mean_sq": [ssb / df1, ssw / df2],
            "statistic": [f, math.nan],
            "p_value": [p, math.nan],
        }
    )
    method = MethodInfo(
        estimator="one-way ANOVA",
        description="One-way analysis of variance F-test (equal variances).",
        options={"var_equal": True},
        reference="R stats::aov / oneway.test(var.equal = TRUE)",
    )
    return AnovaResult(
        statistic=f,
        df=df1,
        df_residual=df2,
        p_value=p,
        n=n,
        n_excluded=groups.n_excluded,
        exclusions=groups.exclusions,
        groups=_summary(groups.levels, values),
        table=table,
        method=method,
        warnings=collector.as_tuple(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class KruskalWallisResult:
    """Kruskal-Wallis rank-sum test.

    Attributes
    ----------
    statistic, df, p_value
        Tie-corrected H, ``k - 1`` and the chi-square upper-tail p-value.
    n
        Number of observations used.
    groups
        Tidy table ``group, n, median, mean_rank``.
    """

    statistic: float
    df: float
    p_value: float
    n: int
    n_excluded: int
    exclusions: tuple[str, ...]
    groups: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"KruskalWallisResult(statistic={self.statistic:.4g}, df={self.df:g}, "
            f"p_value={self.p_value:.4g}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, df, p_value, n, n_excluded``."""
        return pd.DataFrame(
            {
                "group": ["test"],
                "statistic": [self.statistic],
                "df": [self.df],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the test, then each group's n, median and mean rank."""
        return pd.concat(
            [
                _frame_ard(self.to_frame(), "kruskal_wallis_test", ["group"]),
                _frame_ard(self.groups, "kruskal_wallis_test", ["group"]),
            ],
            ignore_index=True,
        )


def kruskal_wallis_test(data: pd.DataFrame, *, value: str, by: str) -> KruskalWallisResult:
    """Kruskal-Wallis rank-sum test, as R's ``kruskal.test(value ~ by)``.

    Parameters
    ----------
    data
        One row per observation.
    value
        Numeric (or ordinal numeric) column.
    by
        Grouping column (at least 2 groups among complete rows).

    Returns
    -------
    KruskalWallisResult

    Raises
    ------
    AnalysisError
        Missing or non-numeric columns.
    DegenerateDataError
        Fewer than 2 groups, or all values tied.

    Notes
    -----
    ``H = (12 / (N (N + 1)) sum R_j^2 / n_j - 3 (N + 1)) / (1 - sum(t^3 - t) / (N^3 - N))``
    with midranks, referred to chi-square on ``k - 1`` df (R and scipy agree).

    References
    ----------
    Kruskal WH, Wallis WA (1952). JASA 47:583-621.

    Examples
    --------
    >>> df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "g": list("aabbcc")})
    >>> round(kruskal_wallis_test(df, value="v", by="g").statistic, 4)
    4.5714
    """
    groups, _ = _groups(data, value, by)
    values = groups.values
    combined = np.concatenate(values)
    n = len(combined)
    ranks = rankdata(combined)
    bounds = np.cumsum([0] + [len(v) for v in values])
    rank_sums = [float(ranks[a:b].sum()) for a, b in itertools.pairwise(bounds)]
    _, t = np.unique(combined, return_counts=True)
    correction = 1 - float((t.astype(np.float64) ** 3 - t).sum()) / (n**3 - n)
    if correction <= 0:
        msg = f"All values of {value!r} are tied; the Kruskal-Wallis test is undefined."
        raise DegenerateDataError(msg)
    h = sum(r**2 / len(v) for r, v in zip(rank_sums, values, strict=True))
    h = (12 * h / (n * (n + 1)) - 3 * (n + 1)) / correction
    df = float(len(values) - 1)
    table = pd.DataFrame(
        {
            "group": [str(lv) for lv in groups.levels],
            "n": [len(v) for v in values],
            "median": [float(np.median(v)) for v in values],
            "mean_rank": [r / len(v) for r, v in zip(rank_sums, values, strict=True)],
        }
    )
    method = MethodInfo(
        estimator="Kruskal-Wallis test",
        description="Kruskal-Wallis rank-sum test with tie correction (chi-square approximation).",
        options={"tie_correction": True},
        reference="R stats::kruskal.test",
    )
    return KruskalWallisResult(
        statistic=float(h),
        df=df,
        p_value=float(chi2_sf(h, df)),
        n=n,
        n_excluded=groups.n_excluded,
        exclusions=groups.exclusions,
        groups=table,
        method=method,
    )


# --------------------------------------------------------------------------------------
# correlation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationResult:
    """Pearson or Spearman correlation with its test.

    Attributes
    ----------
    estimate
        Pearson's r or Spearman's rho.
    lower, upper, confidence_level
        Pearson only (and n > 3): Fisher-z interval; ``None`` otherwise.
    statistic
        Pearson: t on ``n - 2`` df. Spearman: R's
        ``S = (n^3 - n)(1 - rho) / 6`` (the sum of squared rank differences
        without ties).
    df
        ``n - 2`` for Pearson; ``None`` for Spearman.
    p_value, p_value_method
        Two-sided p-value and how it was computed: ``"t"`` (Pearson, or Spearman
        with ties or n > 1290), ``"exact"`` (Spearman, n <= 9, no ties) or
        ``"edgeworth"`` (Spearman, 10 <= n <= 1290, no ties; AS 89).
    n
        Number of complete pairs.
    """

    estimate: float
    lower: float | None
    upper: float | None
    confidence_level: float
    statistic: float
    df: float | None
    p_value: float
    p_value_method: Literal["t", "exact", "edgeworth"]
    n: int
    n_excluded: int
    exclusions: tuple[str, ...]
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        ci = "" if self.lower is None else f" [{self.lower:.4g}, {self.upper:.4g}]"
        return (
            f"CorrelationResult({self.method.options.get('method')}: estimate="
            f"{self.estimate:.4g}{ci}, p_value={self.p_value:.4g}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate, lower, upper, confidence_level, statistic, df, p_value, n``."""
        nan = math.nan
        return pd.DataFrame(
            {
                "method": [str(self.method.options.get("method"))],
                "estimate": [self.estimate],
                "lower": [nan if self.lower is None else self.lower],
                "upper": [nan if self.upper is None else self.upper],
                "confidence_level": [nan if self.lower is None else self.confidence_level],
                "statistic": [self.statistic],
                "df": [nan if self.df is None else self.df],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows; statistics that do not apply are left out."""
        return _frame_ard(self.to_frame(), "correlation", ["method"])


def _pearson(x: FloatArray, y: FloatArray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    r = float((dx * dy).sum() / math.sqrt((dx * dx).sum() * (dy * dy).sum()))
    return max(-1.0, min(1.0, r))


@lru_cache(maxsize=16)
def _spearman_s_counts(n: int) -> tuple[int, ...]:
    """Number of permutations of 1..n giving each S = sum (i - p_i)^2 (n <= 9)."""
    s_max = n * (n * n - 1) // 3
    first = np.zeros(s_max + 1, dtype=np.int64)
    first[0] = 1
    dp: dict[int, npt.NDArray[np.int64]] = {0: first}
    for i in range(n):  # position i takes one unused value v
        nxt: dict[int, npt.NDArray[np.int64]] = {}
        for mask, counts in dp.items():
            for v in range(n):
                if mask >> v & 1:
                    continue
                d = (i - v) ** 2
                target = nxt.setdefault(mask | 1 << v, np.zeros(s_max + 1, dtype=np.int64))
                target[d:] += counts[: s_max + 1 - d]
        dp = nxt
    return tuple(int(c) for c in dp[(1 << n) - 1])


def _prho(n: int, s: float, *, lower_tail: bool) -> float:
    """P(S >= s) (upper) or P(S < s) (lower) under independence: R's AS 89 ``prho``."""
    p = 0.0 if lower_tail else 1.0
    if n <= 1 or s <= 0:
        return p
    n3 = n * (n * n - 1) / 3
    if s > n3:
        return 1 - p
    if n <= SPEARMAN_EXACT_MAX_N:
        counts = np.asarray(_spearman_s_counts(n), dtype=np.float64)
        support = np.arange(len(counts))
        at_least = counts[support >= s].sum()
        total = float(math.factorial(n))
        return float((total - at_least) / total if lower_tail else at_least / total)
    # Edgeworth series (Best & Roberts 1975, coefficients of AS 89)
    c = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831,
         0.0131, 4.6e-4)  # fmt: skip
    b = 1.0 / n
    x = (6.0 * (s - 1) * b / (n * n - 1.0) - 1.0) * math.sqrt(n - 1.0)
    y = x * x
    u = (
        x
        * b
        * (
            c[0]
            + b * (c[1] + c[2] * b)
            + y
            * (
                -c[3]
                + b * (c[4] + c[5] * b)
                - y * b * (c[6] + c[7] * b - y * (c[8] - c[9] * b + y * b * (c[10] - c[11] * y)))
            )
        )
    )
    y = u / math.exp(y / 2.0)
    tail = norm_cdf(x) if lower_tail else norm_sf(x)
    p = (-y if lower_tail else y) + float(tail)
    return min(1.0, max(0.0, p))


def _spearman_p(rho: float, s: float, n: int, *, ties: bool) -> tuple[float, str]:
    if ties or n > SPEARMAN_AS89_MAX_N:
        if n <= 2:
            msg = "A Spearman test with ties needs at least 3 complete pairs."
            raise DegenerateDataError(msg)
        return _t_from_r(rho, n), "t"
    q = float(round(s))
    p = _prho(n, q, lower_tail=False) if s > (n**3 - n) / 6 else _prho(n, q + 2, lower_tail=True)
    return min(2.0 * p, 1.0), "exact" if n <= SPEARMAN_EXACT_MAX_N else "edgeworth"


def _t_from_r(r: float, n: int) -> float:
    if abs(r) >= 1.0:
        return 0.0
    t = r / math.sqrt((1 - r * r) / (n - 2))
    return _two_sided_t(t, n - 2)


def correlation(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    method: CorrelationMethod = "pearson",
    confidence_level: float = 0.95,
) -> CorrelationResult:
    """Pearson or Spearman correlation test, as R's ``cor.test``.

    Parameters
    ----------
    data
        One row per subject.
    x, y
        Numeric columns.
    method
        ``"pearson"`` (default, as R) or ``"spearman"``.
    confidence_level
        Level of the Fisher-z interval (Pearson only).

    Returns
    -------
    CorrelationResult

    Raises
    ------
    AnalysisError
        Missing or non-numeric columns, or an unknown ``method``.
    DegenerateDataError
        Too few complete pairs (Pearson < 3, Spearman < 2) or a constant column.

    Notes
    -----
    Pearson: ``t = r sqrt(n - 2) / sqrt(1 - r^2)`` on ``n - 2`` df; the interval
    is ``tanh(atanh(r) +/- z_{(1+level)/2} / sqrt(n - 3))``, given only for
    n > 3 (as R).

    Spearman: ``rho`` is Pearson's r of the midranks and
    ``S = (n^3 - n)(1 - rho) / 6``. R's p-value rules are reproduced exactly:

    * no ties and n <= 1290: algorithm AS 89 as modified in R: exact
      enumeration of all permutations for n <= 9, the Edgeworth series
      approximation of Best & Roberts for 10 <= n <= 1290, applied to
      ``round(S)`` (lower tail at ``round(S) + 2``, i.e. P(S <= round(S)));
      the two-sided value doubles the tail on the side of S, capped at 1;
    * ties, or n > 1290: the t approximation ``t = rho sqrt((n - 2) / (1 - rho^2))``
      on ``n - 2`` df. (R also warns "Cannot compute exact p-value with ties";
      here the choice is recorded in ``p_value_method`` without a warning.)

    scipy's ``spearmanr`` always uses the t approximation, so its p-values
    differ from R's for data without ties.

    References
    ----------
    Best DJ, Roberts DE (1975). Algorithm AS 89: the upper tail probabilities of
    Spearman's rho. Applied Statistics 24:377-379.
    Fisher RA (1921). On the probable error of a coefficient of correlation
    deduced from a small sample. Metron 1:3-32.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [2.0, 1.0, 4.0, 3.0, 5.0]})
    >>> res = correlation(df, x="a", y="b", method="spearman")
    >>> res.estimate, round(res.p_value, 4)
    (0.8, 0.1333)
    """
    if method not in ("pearson", "spearman"):
        msg = f"`method` must be 'pearson' or 'spearman'; got {method!r}."
        raise AnalysisError(msg)
    level = _check_confidence_level(confidence_level)
    prepared = prepare(data, {"x": x, "y": y})
    xv = _numeric(prepared.frame[x], x)
    yv = _numeric(prepared.frame[y], y)
    n = len(xv)
    minimum = 3 if method == "pearson" else 2
    if n < minimum:
        msg = f"A {method} correlation test needs at least {minimum} complete pairs; got {n}."
        raise DegenerateDataError(msg)
    for name, v in ((x, xv), (y, yv)):
        if np.ptp(v) == 0:
            msg = f"Column {name!r} is constant among complete pairs; the correlation is undefined."
            raise DegenerateDataError(msg)
    lower = upper = df = None
    if method == "pearson":
        r = _pearson(xv, yv)
        df = float(n - 2)
        statistic = (
            math.copysign(math.inf, r) if abs(r) == 1 else math.sqrt(df) * r / math.sqrt(1 - r * r)
        )
        p = _two_sided_t(statistic, df) if math.isfinite(statistic) else 0.0
        kind = "t"
        if n > 3:
            z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
            half = float(norm_ppf((1 + level) / 2)) / math.sqrt(n - 3)
            lower, upper = math.tanh(z - half), math.tanh(z + half)
        description = "Pearson product-moment correlation, t-test and Fisher-z interval."
    else:
        rx, ry = rankdata(xv), rankdata(yv)
        r = _pearson(rx, ry)
        ties = min(len(np.unique(xv)), len(np.unique(yv))) < n
        statistic = (n**3 - n) * (1 - r) / 6
        p, kind = _spearman_p(r, statistic, n, ties=ties)
        description = {
            "exact": "Spearman rank correlation, exact permutation p-value (n <= 9).",
            "edgeworth": "Spearman rank correlation, AS 89 Edgeworth series p-value.",
            "t": "Spearman rank correlation, t-approximation p-value (ties or n > 1290).",
        }[kind]
    info = MethodInfo(
        estimator=f"{method.capitalize()} correlation",
        description=description,
        options={"method": method, "p_value": kind, "alternative": "two-sided"},
        reference="R stats::cor.test",
    )
    return CorrelationResult(
        estimate=r,
        lower=lower,
        upper=upper,
        confidence_level=level,
        statistic=float(statistic),
        df=df,
        p_value=float(p),
        p_value_method=kind,  # type: ignore[arg-type]
        n=n,
        n_excluded=prepared.n_excluded,
        exclusions=prepared.exclusions,
        method=info,
    )


__all__ = [
    "AnovaResult",
    "CorrelationResult",
    "KruskalWallisResult",
    "MannWhitneyResult",
    "TTestResult",
    "anova",
    "correlation",
    "kruskal_wallis_test",
    "mann_whitney_test",
    "t_test",
]
