"""Tests for contingency tables: Fisher's exact test, Pearson's chi-square, Cochran-Armitage.

Every function takes a table of counts (a 2-D array-like or a pandas crosstab)
and returns a frozen result. The numbers reproduce R's ``fisher.test``,
``chisq.test`` and ``prop.trend.test``; where R's own root finder is imprecise
(the conditional odds-ratio interval of ``fisher.test``) the exact root is
returned and the difference is documented.

Fisher's exact test for r x c tables is computed exactly, deterministically,
with algorithms written here (2 x k and 3 x k column enumeration, a network
algorithm otherwise; see :func:`fisher_exact`); scipy's r x c ``fisher_exact`` is a
Monte-Carlo or permutation approximation and is not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort._types import Alternative
from cartcohort.analyse._dist import chi2_sf
from cartcohort.analyse._fisher import first_above, fisher_3xk, last_above, search_mode
from cartcohort.errors import AnalysisError, DegenerateDataError, DegenerateWarning

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


_ALTERNATIVES: tuple[str, ...] = ("two-sided", "less", "greater")

#: R's relative tolerance when comparing table probabilities with the observed one
#: (``relErr <- 1 + 10^(-7)`` in ``fisher.test``): tables whose probability is within
#: this factor of the observed table's count as "as or more extreme".
FISHER_REL_TOL = 1e-7

#: Work limits for the exact r x c algorithm (numbers of array elements). Above
#: them :func:`fisher_exact` refuses rather than running for minutes.
_MAX_BOUND_WORK = 60_000_000
_MAX_PATHS = 20_000_000
_CHUNK = 2_000_000
_MAX_COMPLETIONS = 2_000_000


# --------------------------------------------------------------------------------------
# argument checks shared with compare.py
# --------------------------------------------------------------------------------------


def _check_confidence_level(confidence_level: float) -> float:
    try:
        value = float(confidence_level)
    except (TypeError, ValueError):
        msg = f"`confidence_level` must be a number in (0, 1); got {confidence_level!r}."
        raise AnalysisError(msg) from None
    if not 0.0 < value < 1.0 or not math.isfinite(value):
        hint = f" Did you mean {value / 100:g}?" if 1.0 < value < 100.0 else ""
        msg = f"`confidence_level` must be in (0, 1); got {confidence_level!r}.{hint}"
        raise AnalysisError(msg)
    return value


def _check_alternative(alternative: str) -> Alternative:
    if alternative in _ALTERNATIVES:
        return cast("Alternative", alternative)
    hint = " Use 'two-sided' (R spells it 'two.sided')." if alternative == "two.sided" else ""
    msg = f"`alternative` must be one of {list(_ALTERNATIVES)}; got {alternative!r}.{hint}"
    raise AnalysisError(msg)


def _frame_ard(frame: pd.DataFrame, analysis: str, keys: list[str]) -> pd.DataFrame:
    """ARD rows of ``frame``, leaving out statistics that do not apply (missing)."""
    long = frame_to_ard(frame, analysis=analysis, keys=keys)
    return long.loc[long["stat_value"].notna()].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    counts: IntArray
    rows: list[object]
    cols: list[object]


def _as_table(table: object) -> _Table:
    """Check a table of counts and return it with its labels."""
    if isinstance(table, pd.DataFrame):
        rows, cols = list(table.index), list(table.columns)
        if rows and cols and str(rows[-1]) == "All" and str(cols[-1]) == "All":
            msg = (
                "`table` looks like a crosstab with margins (last row and column 'All'); "
                "pass pd.crosstab(..., margins=False)."
            )
            raise AnalysisError(msg)
        raw = table.to_numpy()
    else:
        raw = np.asarray(table)
        rows, cols = [], []
    if raw.ndim != 2:
        msg = f"`table` must be 2-dimensional (rows x columns of counts); got {raw.ndim} dim(s)."
        raise AnalysisError(msg)
    try:
        values = raw.astype(np.float64)
    except (TypeError, ValueError):
        msg = "`table` must contain numbers (counts); found non-numeric entries."
        raise AnalysisError(msg) from None
    if not np.isfinite(values).all():
        msg = "`table` must not contain missing or infinite values."
        raise AnalysisError(msg)
    if (values < 0).any():
        msg = "`table` entries must be counts >= 0; found negative values."
        raise AnalysisError(msg)
    if (values != np.round(values)).any():
        msg = "`table` entries must be whole-number counts; found non-integer values."
        raise AnalysisError(msg)
    if min(values.shape) < 2:
        msg = f"`table` must have at least 2 rows and 2 columns; got shape {values.shape}."
        raise AnalysisError(msg)
    counts = values.astype(np.int64)
    if not rows:
        rows = list(range(counts.shape[0]))
        cols = list(range(counts.shape[1]))
    return _Table(counts=counts, rows=rows, cols=cols)


def _drop_empty(tab: _Table, collector: WarningCollector, test: str) -> _Table:
    """Drop all-zero rows and columns with a warning; error if < 2 x 2 remains."""
    if tab.counts.sum() == 0:
        msg = "`table` has no observations (all counts are 0)."
        raise DegenerateDataError(msg)
    keep_r = tab.counts.sum(axis=1) > 0
    keep_c = tab.counts.sum(axis=0) > 0
    if keep_r.all() and keep_c.all():
        return tab
    dropped = [f"row {r!r}" for r, k in zip(tab.rows, keep_r, strict=True) if not k]
    dropped += [f"column {c!r}" for c, k in zip(tab.cols, keep_c, strict=True) if not k]
    counts = tab.counts[np.ix_(keep_r, keep_c)]
    if min(counts.shape) < 2:
        msg = (
            f"After dropping empty {', '.join(dropped)}, the table is {counts.shape[0]} x "
            f"{counts.shape[1]}; {test} needs at least 2 non-empty rows and columns."
        )
        raise DegenerateDataError(msg)
    collector.warn(
        f"Dropped empty {', '.join(dropped)} (all counts 0); {test} uses the remaining "
        f"{counts.shape[0]} x {counts.shape[1]} table.",
        DegenerateWarning,
    )
    rows = [r for r, k in zip(tab.rows, keep_r, strict=True) if k]
    cols = [c for c, k in zip(tab.cols, keep_c, strict=True) if k]
    return _Table(counts=counts, rows=rows, cols=cols)


def _labelled(values: npt.NDArray[np.generic], tab: _Table) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(tab.rows), columns=pd.Index(tab.cols))


# --------------------------------------------------------------------------------------
# Fisher's exact test: 2 x 2 (conditional MLE odds ratio, exact interval)
# --------------------------------------------------------------------------------------


class _NoncentralHypergeometric:
    """Fisher's noncentral hypergeometric law of cell [0, 0] given the margins."""

    def __init__(self, counts: IntArray) -> None:
        m = int(counts[:, 0].sum())  # first column total
        n = int(counts[:, 1].sum())
        k = int(counts[0, :].sum())  # first row total
        self.x = int(counts[0, 0])
        self.lo = max(0, k - n)
        self.hi = min(k, m)
        self.support = np.arange(self.lo, self.hi + 1, dtype=np.float64)
        s = self.support
        self.logdc = (
            _log_choose(m, s) + _log_choose(n, k - s) - float(_log_choose(m + n, np.float64(k)))
        )

    def density(self, log_psi: float) -> FloatArray:
        d = self.logdc + log_psi * self.support
        d = np.exp(d - d.max())
        return cast("FloatArray", d / d.sum())

    def mean(self, log_psi: float) -> float:
        return float((self.support * self.density(log_psi)).sum())

    def lower_tail(self, log_psi: float) -> float:
        """P(X <= x) at odds ratio exp(log_psi)."""
        return float(self.density(log_psi)[self.support <= self.x].sum())

    def upper_tail(self, log_psi: float) -> float:
        """P(X >= x) at odds ratio exp(log_psi)."""
        return float(self.density(log_psi)[self.support >= self.x].sum())


def _log_choose(a: float, b: FloatArray | np.float64) -> FloatArray:
    b = np.asarray(b, dtype=np.float64)
    return cast(
        "FloatArray",
        special.gammaln(a + 1.0) - special.gammaln(b + 1.0) - special.gammaln(a - b + 1.0),
    )


def _solve_log(fun: Callable[[float], float]) -> float:
    """Root of a monotone ``fun`` of log(odds ratio), to full double precision."""
    lo, hi = -1.0, 1.0
    for _ in range(200):
        if np.sign(fun(lo)) != np.sign(fun(hi)):
            break
        lo, hi = lo * 2.0, hi * 2.0
    root = optimize.brentq(fun, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(root)


def _fisher_2x2(
    counts: IntArray, alternative: Alternative, confidence_level: float
) -> tuple[float, float, float, float]:
    """(p, estimate, lower, upper) for a 2 x 2 table, as R's fisher.test."""
    nh = _NoncentralHypergeometric(counts)
    x, lo, hi = nh.x, nh.lo, nh.hi
    d = nh.density(0.0)
    if alternative == "less":
        p = float(d[nh.support <= x].sum())
    elif alternative == "greater":
        p = float(d[nh.support >= x].sum())
    else:
        p = float(d[d <= d[x - lo] * (1.0 + FISHER_REL_TOL)].sum())
    p = min(1.0, p)

    if x == lo:
        estimate = 0.0
    elif x == hi:
        estimate = math.inf
    else:
        estimate = math.exp(_solve_log(lambda t: nh.mean(t) - x))

    def upper_limit(alpha: float) -> float:
        if x == hi:
            return math.inf
        return math.exp(_solve_log(lambda t: nh.lower_tail(t) - alpha))

    def lower_limit(alpha: float) -> float:
        if x == lo:
            return 0.0
        return math.exp(_solve_log(lambda t: nh.upper_tail(t) - alpha))

    if alternative == "less":
        lower, upper = 0.0, upper_limit(1.0 - confidence_level)
    elif alternative == "greater":
        lower, upper = lower_limit(1.0 - confidence_level), math.inf
    else:
        alpha = (1.0 - confidence_level) / 2.0
        lower, upper = lower_limit(alpha), upper_limit(alpha)
    return p, estimate, lower, upper


# --------------------------------------------------------------------------------------
# Fisher's exact test: r x c network algorithm
# --------------------------------------------------------------------------------------


def _compositions(total: int, caps: Sequence[int]) -> IntArray:
    """All integer vectors v with 0 <= v[i] <= caps[i] and sum(v) == total, one per row."""
    caps_arr = np.asarray(caps, dtype=np.int64)
    # remaining capacity after position i, to prune partial vectors that cannot finish
    room_after = np.concatenate([np.cumsum(caps_arr[::-1])[::-1][1:], [0]])
    partial = np.zeros((1, 0), dtype=np.int64)
    sums = np.zeros(1, dtype=np.int64)
    for i, cap in enumerate(caps_arr.tolist()):
        values = np.arange(cap + 1, dtype=np.int64)
        rep_sums = np.repeat(sums, len(values)) + np.tile(values, len(sums))
        ok = (rep_sums <= total) & (rep_sums + room_after[i] >= total)
        partial = np.column_stack(
            [np.repeat(partial, len(values), axis=0), np.tile(values, len(sums))]
        )[ok]
        sums = rep_sums[ok]
    return partial


def _count_compositions(total: int, caps: Sequence[int]) -> int:
    """Number of vectors :func:`_compositions` would return (polynomial product)."""
    poly = np.array([1.0])
    for cap in caps:
        poly = np.convolve(poly, np.ones(int(cap) + 1))[: total + 1]
    return round(poly[total]) if total < len(poly) else 0


def _log_step_matrix(
    states: IntArray, xs: IntArray, log_choose_tables: list[FloatArray], norm: float
) -> FloatArray:
    """log P(column = x | remaining row margins = R) for every pair; -inf if x > R."""
    out = np.full((states.shape[0], xs.shape[0]), -norm, dtype=np.float64)
    for i, table in enumerate(log_choose_tables):
        out += table[states[:, i][:, None], xs[:, i][None, :]]
    return out


def _too_large(shape: tuple[int, ...], n: int) -> AnalysisError:
    msg = (
        f"The {shape[0]} x {shape[1]} table with n = {n} is too large for the exact test in "
        "reasonable time. Collapse sparse categories, or use chi_square_test() when expected "
        "counts are large enough (>= 5)."
    )
    return AnalysisError(msg)


class _FisherNetwork:
    """Exact two-sided p-value of Fisher's test for an r x c table.

    The table is built one column at a time. A node is the vector R of row
    margins still to be filled; an edge (a column vector x <= R summing to the
    column total c) has probability prod_i C(R_i, x_i) / C(N, c), a multivariate
    hypergeometric step, so the completions of a node have probabilities summing
    to 1 and a table's probability is the product along its path. Rows are
    exchangeable, so a node is the *sorted* vector R.

    For every node the largest and smallest completion probabilities are found
    exactly by backward recursion. Moving forward, a (node, past probability)
    pair is resolved at once when even its most probable completion is as or
    less probable than the observed table (all of it counts: add the past
    probability) or when its least probable completion is more probable (none
    counts); otherwise it is expanded. Pairs reaching the same node with the
    same past probability are merged. When two columns remain, the sorted
    completion probabilities of each node are tabulated once and every pair is
    answered by binary search (meet in the middle). This is Mehta and Patel's
    network algorithm with exact path bounds, vectorised over nodes.
    """

    def __init__(self, counts: IntArray) -> None:
        if counts.shape[0] > counts.shape[1]:
            counts = counts.T
        # rows by decreasing total (so a sorted state stays inside the box of row totals);
        # columns by decreasing total (more merging of paths early)
        counts = counts[np.argsort(-counts.sum(axis=1), kind="stable")]
        counts = counts[:, np.argsort(-counts.sum(axis=0), kind="stable")]
        self.counts = counts
        self.row_totals = counts.sum(axis=1).astype(np.int64)
        self.col_totals = counts.sum(axis=0).astype(np.int64)
        self.n = int(counts.sum())
        self.remaining = np.cumsum(self.col_totals[::-1])[::-1].astype(np.int64)
        k = counts.shape[0]
        self.strides = np.ones(k, dtype=np.int64)
        for i in range(k - 2, -1, -1):
            self.strides[i] = self.strides[i + 1] * (self.row_totals[i + 1] + 1)
        self.size = int(self.strides[0] * (self.row_totals[0] + 1))
        self.lc_tables: list[FloatArray] = []
        for r in self.row_totals.tolist():
            a = np.arange(r + 1, dtype=np.float64)[:, None]
            b = np.arange(r + 1, dtype=np.float64)[None, :]
            with np.errstate(invalid="ignore"):
                t = special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)
            self.lc_tables.append(np.where(b <= a, t, -np.inf))

    def check_size(self) -> None:
        caps = self.row_totals.tolist()
        work = 0
        for j in range(len(self.col_totals) - 1):
            n_states = _count_compositions(int(self.remaining[j]), caps)
            work += n_states * _count_compositions(int(self.col_totals[j]), caps)
        if work > _MAX_BOUND_WORK * len(caps) or self.size > _MAX_BOUND_WORK // 8:
            raise _too_large(self.counts.shape, self.n)
        # canonical (descending-sorted) state of every vector in the box of row totals
        box = np.indices(tuple(int(r) + 1 for r in caps)).reshape(len(caps), -1).T
        self.canon = -np.sort(-box, axis=1) @ self.strides

    def _canonical_states(self, total: int) -> IntArray:
        states = _compositions(total, self.row_totals.tolist())
        return states[(np.diff(states, axis=1) <= 0).all(axis=1)]

    def _norm(self, j: int) -> float:
        return float(_log_choose(float(self.remaining[j]), np.float64(self.col_totals[j])))

    def _xs(self, j: int) -> IntArray:
        return _compositions(int(self.col_totals[j]), self.row_totals.tolist())

    def _node_steps(self, j: int) -> tuple[IntArray, IntArray, FloatArray]:
        """Canonical states at stage j, the column vectors, and the log step matrix."""
        states = self._canonical_states(int(self.remaining[j]))
        xs = self._xs(j)
        return states, xs, _log_step_matrix(states, xs, self.lc_tables, self._norm(j))

    def completions(self) -> tuple[int, dict[int, tuple[FloatArray, FloatArray]]]:
        """Sorted completion log-probabilities (and cumulative sums) of every node.

        Tabulated for the last stages, going back while the tables stay small
        (``_MAX_COMPLETIONS`` values in total); returns the first tabulated stage.
        """
        m = len(self.col_totals)
        j = m - 2
        states, _, step = self._node_steps(j)
        table: dict[int, tuple[FloatArray, FloatArray]] = {}
        for flat, row in zip((states @ self.strides).tolist(), step, strict=True):
            values = np.sort(row[np.isfinite(row)])
            table[flat] = (values, np.exp(values))
        while j > 1:
            states, xs, step = self._node_steps(j - 1)
            valid = np.isfinite(step)
            child = (states @ self.strides)[:, None] - (xs @ self.strides)[None, :]
            child = self.canon[np.where(valid, child, 0)]
            sizes = np.array([len(v[0]) for v in table.values()])
            lookup = dict(zip(table.keys(), sizes.tolist(), strict=True))
            size = sum(lookup[c] for c in child[valid].tolist())
            if size > _MAX_COMPLETIONS or int(valid.sum()) > _MAX_COMPLETIONS // 100:
                break
            table = self._deeper(table, states, step, valid, child)
            j -= 1
        return j, {k: (v, np.cumsum(mass)) for k, (v, mass) in table.items()}

    def _deeper(
        self,
        table: dict[int, tuple[FloatArray, FloatArray]],
        states: IntArray,
        step: FloatArray,
        valid: npt.NDArray[np.bool_],
        child: IntArray,
    ) -> dict[int, tuple[FloatArray, FloatArray]]:
        out: dict[int, tuple[FloatArray, FloatArray]] = {}
        for i, flat in enumerate((states @ self.strides).tolist()):
            cols = np.flatnonzero(valid[i])
            parts = [table[int(child[i, c])] for c in cols]
            values = np.concatenate([step[i, c] + v for c, (v, _) in zip(cols, parts, strict=True)])
            masses = np.concatenate(
                [math.exp(step[i, c]) * w for c, (_, w) in zip(cols, parts, strict=True)]
            )
            order = np.argsort(values, kind="stable")
            values, masses = values[order], masses[order]
            # merge equal probabilities (identical up to rounding), keeping their total mass
            key = np.round(values * 1e10).astype(np.int64)
            first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            out[flat] = (values[first], np.add.reduceat(masses, first))
        return out

    def bounds(
        self, split: int, completions: dict[int, tuple[FloatArray, FloatArray]]
    ) -> list[tuple[FloatArray, FloatArray]]:
        """Dense arrays of max and min log completion probability, stages 0 .. split."""
        last_max = np.full(self.size, np.nan)
        last_min = np.full(self.size, np.nan)
        for flat, (values, _) in completions.items():
            last_max[flat], last_min[flat] = values[-1], values[0]
        out: list[tuple[FloatArray, FloatArray]] = [(last_max, last_min)]
        for j in range(split - 1, -1, -1):
            nxt_max, nxt_min = out[0]
            states, xs, step = self._node_steps(j)
            valid = np.isfinite(step)
            child = (states @ self.strides)[:, None] - (xs @ self.strides)[None, :]
            child = self.canon[np.where(valid, child, 0)]
            hi = np.where(valid, step + nxt_max[child], -np.inf).max(axis=1)
            lo = np.where(valid, step + nxt_min[child], np.inf).min(axis=1)
            cur_max = np.full(self.size, np.nan)
            cur_min = np.full(self.size, np.nan)
            idx = states @ self.strides
            cur_max[idx], cur_min[idx] = hi, lo
            out.insert(0, (cur_max, cur_min))
        return out

    def observed_log_prob(self) -> float:
        c = self.counts.astype(np.float64)
        return float(
            special.gammaln(self.row_totals + 1.0).sum()
            + special.gammaln(self.col_totals + 1.0).sum()
            - special.gammaln(self.n + 1.0)
            - special.gammaln(c + 1.0).sum()
        )

    def p_value(self) -> float:
        self.check_size()
        split, completions = self.completions()
        bounds = self.bounds(split, completions)
        threshold = self.observed_log_prob() + math.log1p(FISHER_REL_TOL)
        nodes = np.array([int(self.row_totals @ self.strides)], dtype=np.int64)
        states = self.row_totals[None, :].astype(np.int64)
        log_past = np.zeros(1)
        weight = np.ones(1)
        total = 0.0
        for j, (bmax, bmin) in enumerate(bounds):
            counted = log_past + bmax[nodes] <= threshold
            total += float(weight[counted].sum())
            keep = ~counted & (log_past + bmin[nodes] <= threshold)
            nodes, states, log_past, weight = (
                nodes[keep],
                states[keep],
                log_past[keep],
                weight[keep],
            )
            if len(nodes) == 0:
                break
            if j == len(bounds) - 1:
                total += self._query(completions, nodes, log_past, weight, threshold)
                break
            nodes, states, log_past, weight = self._expand(states, log_past, weight, j)
        return min(1.0, total)

    @staticmethod
    def _query(
        completions: dict[int, tuple[FloatArray, FloatArray]],
        nodes: IntArray,
        log_past: FloatArray,
        weight: FloatArray,
        threshold: float,
    ) -> float:
        """Sum of past * P(completion) over completions within the threshold."""
        order = np.argsort(nodes, kind="stable")
        nodes, log_past, weight = nodes[order], log_past[order], weight[order]
        starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
        ends = np.r_[starts[1:], len(nodes)]
        total = 0.0
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            values, cum = completions[int(nodes[a])]
            idx = np.searchsorted(values, threshold - log_past[a:b], side="right")
            mass = np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)
            total += float((weight[a:b] * mass).sum())
        return total

    def _expand(
        self, states: IntArray, log_past: FloatArray, weight: FloatArray, j: int
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        xs = self._xs(j)
        norm = self._norm(j)
        chunk = max(1, _CHUNK // xs.shape[0])
        parts: list[tuple[IntArray, FloatArray, FloatArray]] = []
        n_paths = 0
        for a in range(0, states.shape[0], chunk):
            step = _log_step_matrix(states[a : a + chunk], xs, self.lc_tables, norm)
            pi, xi = np.nonzero(np.isfinite(step))
            n_paths += len(pi)
            if n_paths > _MAX_PATHS:
                raise _too_large(self.counts.shape, self.n)
            s = step[pi, xi]
            parts.append(
                (
                    self.canon[(states[a + pi] - xs[xi]) @ self.strides],
                    log_past[a + pi] + s,
                    weight[a + pi] * np.exp(s),
                )
            )
        new_nodes = np.concatenate([q[0] for q in parts])
        new_log = np.concatenate([q[1] for q in parts])
        new_weight = np.concatenate([q[2] for q in parts])
        # merge paths that reach the same node with the same past probability
        key = np.round(new_log * 1e10).astype(np.int64)
        order = np.lexsort((key, new_nodes))
        new_nodes, key = new_nodes[order], key[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = (new_nodes[1:] != new_nodes[:-1]) | (key[1:] != key[:-1])
        first = np.flatnonzero(start)
        merged_weight = np.add.reduceat(new_weight[order], first)
        nodes = new_nodes[first]
        return nodes, self._decode(nodes), new_log[order][first], merged_weight

    def _decode(self, flat: IntArray) -> IntArray:
        out = np.empty((len(flat), len(self.strides)), dtype=np.int64)
        rest = flat.copy()
        for i, stride in enumerate(self.strides.tolist()):
            out[:, i], rest = np.divmod(rest, stride)
        return out


# --------------------------------------------------------------------------------------
# Fisher's exact test: 2 x k, column by column with concave intervals
# --------------------------------------------------------------------------------------

#: Partial tables the 2 x k algorithm may hold at one column before it refuses (R's
#: FEXACT runs out of its largest workspace long before).
_MAX_NODES_2XK = 20_000_000
#: Array elements per block when summing hypergeometric tails.
_TAIL_CHUNK = 4_000_000
#: Listing the completions of the remaining columns replaces expanding them when the
#: lists hold at most this many values per node (or this many values in all).
_LIST_PER_NODE = 40
_LIST_ALWAYS = 20_000


def _log_choose_row(total: int) -> FloatArray:
    """``log C(total, x)`` for ``x = 0 .. total``."""
    x = np.arange(total + 1, dtype=np.float64)
    return cast(
        "FloatArray",
        special.gammaln(total + 1.0) - special.gammaln(x + 1.0) - special.gammaln(total - x + 1.0),
    )


def _best_completions(u: list[FloatArray], r1: int) -> tuple[list[FloatArray], list[FloatArray]]:
    """Largest and smallest ``sum_{l >= j} log C(c_l, x_l)`` subject to ``sum_l x_l = s``.

    For every column ``j >= 1`` and every ``s = 0 .. r1``: backward (max, +) and
    (min, +) convolutions over the columns, by brute force (one shifted vector
    operation per value of the column's count). Totals no completion reaches are
    ``-inf`` (largest) and ``+inf`` (smallest).
    """
    k = len(u)
    top: list[FloatArray] = [np.empty(0)] * k
    low: list[FloatArray] = [np.empty(0)] * k
    last = np.full(r1 + 1, -np.inf)
    n_last = min(len(u[-1]), r1 + 1)
    last[:n_last] = u[-1][:n_last]
    top[-1] = last
    low[-1] = np.where(np.isfinite(last), last, np.inf)
    for j in range(k - 2, 0, -1):
        hi = np.full(r1 + 1, -np.inf)
        lo = np.full(r1 + 1, np.inf)
        for x in range(min(len(u[j]) - 1, r1) + 1):
            np.maximum(hi[x:], u[j][x] + top[j + 1][: r1 + 1 - x], out=hi[x:])
            np.minimum(lo[x:], u[j][x] + low[j + 1][: r1 + 1 - x], out=lo[x:])
        top[j], low[j] = hi, lo
    return top, low


def _hypergeometric_tails(
    u_col: FloatArray, rest: int, t: IntArray, x_lo: IntArray, x_hi: IntArray
) -> FloatArray:
    """``P(X < x_lo) + P(X > x_hi)`` for X hypergeometric (column of ``len(u_col) - 1``,
    the other columns ``rest``, ``t`` drawn), summed term by term from each end."""
    width = len(u_col)
    lc_rest = _log_choose_row(rest)
    lc_all = _log_choose_row(rest + width - 1)
    uniq, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    sorted_inv = inv[order]
    out = np.zeros(len(t))
    xs = np.arange(width)
    per_block = max(1, _TAIL_CHUNK // width)
    for a in range(0, len(uniq), per_block):
        tt = uniq[a : a + per_block]
        s = tt[:, None] - xs[None, :]
        valid = (s >= 0) & (s <= rest)
        log_pmf = u_col[None, :] + lc_rest[np.clip(s, 0, rest)] - lc_all[tt][:, None]
        pmf = np.where(valid, np.exp(np.where(valid, log_pmf, 0.0)), 0.0)
        below = np.cumsum(pmf, axis=1)  # P(X <= x)
        above = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]  # P(X >= x)
        first, last = np.searchsorted(sorted_inv, [a, a + len(tt)])
        sel = order[first:last]
        r = inv[sel] - a
        lo_, hi_ = x_lo[sel], x_hi[sel]
        out[sel] = np.where(lo_ > 0, below[r, np.maximum(lo_ - 1, 0)], 0.0) + np.where(
            hi_ < width - 1, above[r, np.minimum(hi_ + 1, width - 1)], 0.0
        )
    return out


def _merge_nodes(
    t: IntArray, past: FloatArray, mult: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge nodes with the same remaining total and log-probability (to 1e-9): counts add."""
    key = np.round(past * 1e9).astype(np.int64)
    order = np.lexsort((key, t))
    t, key, past, mult = t[order], key[order], past[order], mult[order]
    start = np.ones(len(t), dtype=bool)
    start[1:] = (t[1:] != t[:-1]) | (key[1:] != key[:-1])
    first = np.flatnonzero(start)
    return t[first], past[first], np.add.reduceat(mult, first)


def _completion_mass(
    u: list[FloatArray],
    t: IntArray,
    past: FloatArray,
    mult: FloatArray,
    threshold: float,
    log_norm: float,
) -> float | None:
    """Mass of the tables through the nodes that are as or less probable than observed.

    ``u`` are the remaining columns' ``log C(c, x)``. Every completion of every
    remaining total ``t`` is listed (the last column is forced), sorted, and each
    node is answered by binary search over the cumulative masses (meet in the
    middle). Returns None when the lists would exceed ``_TAIL_CHUNK`` values, or
    ``_LIST_PER_NODE`` values per node (then expanding a column costs less).
    """
    uniq, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    free, last = u[:-1], u[-1]
    width = math.prod(len(v) for v in free)
    size = width * len(uniq)
    if size > _TAIL_CHUNK or size > max(_LIST_ALWAYS, _LIST_PER_NODE * len(t)):
        return None  # too long, or longer than a few more columns of binary searches
    value = np.zeros(1)
    placed = np.zeros(1, dtype=np.int64)
    for v in free:
        value = (value[:, None] + v[None, :]).ravel()
        placed = (placed[:, None] + np.arange(len(v))[None, :]).ravel()
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    total = 0.0
    for i, tt in enumerate(uniq.tolist()):
        rest = tt - placed
        ok = (rest >= 0) & (rest < len(last))
        vals = np.sort(value[ok] + last[rest[ok]])
        top = vals[-1]
        cum = np.cumsum(np.exp(vals - top))
        sel = order[starts[i] : starts[i + 1]]
        idx = np.searchsorted(vals, threshold - past[sel], side="right")
        mass = np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)
        total += float((mult[sel] * np.exp(past[sel] + top - log_norm) * mass).sum())
    return total


def _fisher_2xk(counts: IntArray) -> float:
    """Exact two-sided p-value of Fisher's test for a 2 x k table (k >= 3).

    The table is fixed by its row with the smaller total ``r1``, ``x``; given the
    margins its probability is ``prod_j C(c_j, x_j) / C(N, r1)``, so ``log P`` is a
    sum over columns of the concave sequences ``log C(c_j, x_j)``. Columns are
    filled one at a time, largest last. A node is (columns filled, first-row
    total still to place ``t``, ``L`` = log of the product so far); nodes with the
    same ``t`` and ``L`` (paths through columns of equal total) are merged and their
    path counts add.

    From a node, child ``x`` has best completion ``L + phi(x)`` with
    ``phi(x) = log C(c_j, x) + U(t - x)``, ``U(s)`` being the largest completion of
    the remaining columns (an exact backward max-plus convolution). ``phi`` is
    concave (a max-plus convolution of concave sequences is concave), so the
    children with a completion more probable than the observed table form one
    interval ``[x_lo, x_hi]`` around the maximum of ``phi``, found by binary
    search. Every table through a child outside it is at most as probable as the
    observed one (times R's ``1 + 1e-7``), so those children count whole: by
    Vandermonde's identity their probability is the node's probability times a
    hypergeometric tail, summed term by term. Children inside are expanded, and
    dropped when even their *smallest* completion (backward min-plus convolution)
    is more probable than the observed table. At the last two columns the
    interval is exactly the set of more probable tables, so every table is either
    summed in a tail or excluded by an exact comparison: nothing is sampled or
    truncated.
    """
    if counts.shape[0] != 2:
        counts = counts.T
    order = np.argsort(counts.sum(axis=0), kind="stable")
    c = counts.sum(axis=0)[order].astype(np.int64)
    x_obs = counts[int(np.argmin(counts.sum(axis=1)))][order].astype(np.int64)
    k, r1, n = len(c), int(x_obs.sum()), int(c.sum())
    remaining = np.concatenate([np.cumsum(c[::-1])[::-1], [0]]).astype(np.int64)
    u = [_log_choose_row(int(cj)) for cj in c.tolist()]
    log_norm = float(_log_choose(float(n), np.float64(r1)))
    threshold = float(sum(u[j][x_obs[j]] for j in range(k))) + math.log1p(FISHER_REL_TOL)
    top, low = _best_completions(u, r1)

    t = np.array([r1], dtype=np.int64)
    past = np.zeros(1)
    mult = np.ones(1)
    total = 0.0
    for j in range(k - 1):
        listed = _completion_mass(u[j:], t, past, mult, threshold, log_norm)
        if listed is not None:
            total += listed
            break
        uj, nxt = u[j], top[j + 1]
        through = _log_choose_row(int(remaining[j]))  # log C(R_j, t): all tables via a node
        lo = np.maximum(0, t - remaining[j + 1])
        hi = np.minimum(c[j], t)

        def phi(
            x: IntArray, t: IntArray = t, uj: FloatArray = uj, nxt: FloatArray = nxt
        ) -> FloatArray:
            return cast("FloatArray", uj[x] + nxt[t - x])

        mode = search_mode(phi, lo, hi)
        whole = past + phi(mode) <= threshold
        total += float((mult[whole] * np.exp(past[whole] + through[t[whole]] - log_norm)).sum())
        keep = ~whole
        t, past, mult = t[keep], past[keep], mult[keep]
        lo, hi, mode = lo[keep], hi[keep], mode[keep]
        if len(t) == 0:
            break

        def best(
            x: IntArray,
            t: IntArray = t,
            past: FloatArray = past,
            uj: FloatArray = uj,
            nxt: FloatArray = nxt,
        ) -> FloatArray:
            return cast("FloatArray", past + uj[x] + nxt[t - x])

        x_lo = first_above(best, lo, mode, threshold)
        x_hi = last_above(best, mode, hi, threshold)
        tails = _hypergeometric_tails(uj, int(remaining[j + 1]), t, x_lo, x_hi)
        total += float((mult * np.exp(past + through[t] - log_norm) * tails).sum())
        if j == k - 2:
            break
        width = x_hi - x_lo + 1
        n_children = int(width.sum())
        if n_children > _MAX_NODES_2XK:
            raise _too_large(counts.shape, n)
        parent = np.repeat(np.arange(len(t)), width)
        x = x_lo[parent] + np.arange(n_children) - np.repeat(np.cumsum(width) - width, width)
        t_new = t[parent] - x
        past_new = past[parent] + uj[x]
        alive = past_new + low[j + 1][t_new] <= threshold
        t, past, mult = t_new[alive], past_new[alive], mult[parent][alive]
        if len(np.unique(c[: j + 1])) <= j:
            # two filled columns of equal total: permuted paths reach the same node
            t, past, mult = _merge_nodes(t, past, mult)
        if len(t) == 0:
            break
    return min(1.0, total)


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FisherExactResult:
    """Fisher's exact test of independence in a contingency table.

    Attributes
    ----------
    p_value
        Exact p-value (two-sided unless ``alternative`` says otherwise).
    statistic
        For a 2 x 2 table the conditional maximum-likelihood odds ratio (the same
        number as ``estimate``; R's ``fisher.test`` reports it as the estimate and
        has no separate statistic). ``None`` for larger tables: there the test
        statistic is the table probability itself and no single effect size exists.
    estimate, lower, upper
        2 x 2 only: conditional MLE odds ratio of cell [0, 0] and its exact
        conditional confidence interval; ``None`` for larger tables.
    confidence_level
        Level of the interval.
    alternative
        ``"two-sided"``, ``"less"`` or ``"greater"`` (2 x 2 only; r x c is two-sided).
    n
        Total count of the table.
    n_excluded, exclusions
        Always 0 / empty: a table carries no missing values. Dropped empty rows or
        columns are reported in ``warnings``.
    table
        The observed table actually tested (labelled; empty rows/columns removed).
    method, warnings
        How it was computed; problems found.
    """

    p_value: float
    statistic: float | None
    estimate: float | None
    lower: float | None
    upper: float | None
    confidence_level: float
    alternative: Alternative
    n: int
    n_excluded: int = 0
    exclusions: tuple[str, ...] = ()
    table: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        shape = f"{self.table.shape[0]}x{self.table.shape[1]}"
        if self.estimate is None:
            return f"FisherExactResult({shape}, p_value={self.p_value:.4g}, n={self.n})"
        return (
            f"FisherExactResult({shape}, odds_ratio={self.estimate:.4g} "
            f"[{self.lower:.4g}, {self.upper:.4g}], p_value={self.p_value:.4g}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate, lower, upper, confidence_level, p_value, n, n_excluded``.

        ``estimate``/``lower``/``upper`` are missing (NaN) for r x c tables, where
        they do not exist.
        """
        nan = math.nan
        return pd.DataFrame(
            {
                "test": ["fisher_exact"],
                "estimate": [nan if self.estimate is None else self.estimate],
                "lower": [nan if self.lower is None else self.lower],
                "upper": [nan if self.upper is None else self.upper],
                "confidence_level": [self.confidence_level if self.estimate is not None else nan],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows; statistics that do not apply (r x c odds ratio) are left out."""
        return _frame_ard(self.to_frame(), "fisher_exact", ["test"])


def fisher_exact(
    table: object,
    *,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> FisherExactResult:
    """Fisher's exact test for a 2 x 2 or r x c table of counts, as R's ``fisher.test``.

    Parameters
    ----------
    table
        2-D array-like of non-negative whole-number counts, or a pandas crosstab
        (without margins). At least 2 x 2.
    alternative
        ``"two-sided"`` (default), ``"less"`` or ``"greater"``; the one-sided
        alternatives concern the odds ratio of a 2 x 2 table and are not defined
        for larger tables.
    confidence_level
        Level of the odds-ratio interval (2 x 2 only), in (0, 1).

    Returns
    -------
    FisherExactResult

    Raises
    ------
    AnalysisError
        The table is not a 2-D table of counts; a one-sided alternative for an
        r x c table; or the r x c table is too large to enumerate exactly.
    DegenerateDataError
        Fewer than 2 non-empty rows or columns.

    Warns
    -----
    DegenerateWarning
        Empty rows or columns were dropped (the p-value is unchanged by them).

    Notes
    -----
    The two-sided p-value is the total probability, under independence with all
    margins fixed, of the tables whose probability is at most the observed
    table's times ``1 + 1e-7`` (R's relative tolerance, so tables tied with the
    observed one count despite rounding).

    *2 x 2*: the first row/first column cell follows Fisher's noncentral
    hypergeometric law. ``estimate`` is the conditional maximum-likelihood odds
    ratio (R's, not the sample odds ratio ad/bc that scipy's ``fisher_exact``
    reports) and the interval inverts the two one-sided exact tests at
    ``(1 - confidence_level) / 2`` each. All roots are solved on the log scale
    to double precision. R solves them with ``uniroot`` at its default tolerance
    (about 1.2e-4 absolute on the odds ratio or its reciprocal), so R's printed
    estimate and limits can differ from the exact root in the 4th digit (for
    [[8, 2], [1, 5]] R's upper limit is 1049.79; the exact root is 1059.64).
    p-values agree with R to rounding error.

    *2 x k* (k >= 3, either orientation): exact enumeration over columns on
    log-probabilities. ``log P`` is a sum over columns of the concave sequences
    ``log C(c_j, x_j)`` of the first row, so at each column the children that can
    still beat the observed table form one interval (found by binary search on the
    concave best-completion function, an exact max-plus convolution); the children
    outside it are counted whole through exact hypergeometric tails, and the last
    columns are listed and queried by binary search. Every table is summed exactly
    or excluded by an exact comparison, so the p-value is exact (see
    ``_fisher_2xk``). It answers the 2 x k tables of registries (n = 10^3-10^4) in
    well under a second where R's FEXACT takes seconds to minutes.

    *3 x k* (k >= 3, either orientation): exact enumeration over columns with
    FEXACT's past-path bounding and hashing of nodes, and a closed-form last stage
    (see :func:`cartcohort.analyse._fisher.fisher_3xk`): nodes are counted whole or
    dropped only by bounds valid for every state (a loose bound expands more, never
    changes the answer), and the last free column is answered by hypergeometric tails
    around the concave intervals of more probable tables. Every table is summed
    exactly or excluded by an exact comparison. It answers 3 x 3 tables of 1,000-10,000
    and 3 x 4 tables of 1,000 (R: 45 s to minutes at n = 3,000, fails at 10,000);
    larger tables are refused with advice after a bounded amount of work.

    *r x c* otherwise: an exact network algorithm (Mehta & Patel 1983) with exact
    bounds on the longest and shortest remaining paths; deterministic, unlike
    scipy's default Monte-Carlo for r x c. Empty rows/columns are dropped with a
    warning; if this leaves a 2 x 2 table, its odds ratio is reported (R would
    treat the original as r x c and report none; the p-value is the same).
    Tables that are too large to enumerate raise :class:`AnalysisError`.

    References
    ----------
    Fisher RA (1935). The logic of inductive inference. JRSS 98:39-82.
    Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact
    test in r x c contingency tables. JASA 78:427-434.
    Agresti A (2002). Categorical Data Analysis, 2nd ed., sections 3.5-3.6.

    Examples
    --------
    >>> res = fisher_exact([[8, 2], [1, 5]])
    >>> round(res.p_value, 6)
    0.034965
    >>> round(fisher_exact([[3, 1, 4], [1, 5, 2]]).p_value, 6)
    0.230769
    """
    alternative = _check_alternative(alternative)
    confidence_level = _check_confidence_level(confidence_level)
    collector = WarningCollector()
    tab = _drop_empty(_as_table(table), collector, "Fisher's exact test")
    is_2x2 = tab.counts.shape == (2, 2)
    if not is_2x2 and alternative != "two-sided":
        msg = (
            f"`alternative={alternative!r}` is defined only for 2 x 2 tables (an odds ratio); "
            f"this table is {tab.counts.shape[0]} x {tab.counts.shape[1]}. Use 'two-sided'."
        )
        raise AnalysisError(msg)
    if is_2x2:
        p, est, lower, upper = _fisher_2x2(tab.counts, alternative, confidence_level)
        estimate: float | None = est
        lo_: float | None = lower
        up_: float | None = upper
        description = (
            "Fisher's exact test with conditional maximum-likelihood odds ratio and exact "
            "conditional confidence interval."
        )
    elif min(tab.counts.shape) == 2:
        p = _fisher_2xk(tab.counts)
        estimate = lo_ = up_ = None
        description = (
            "Fisher's exact test for a 2 x k table (exact enumeration over columns with "
            "concave-interval tails)."
        )
    elif min(tab.counts.shape) == 3:
        p3 = fisher_3xk(tab.counts, FISHER_REL_TOL)
        if p3 is None:
            raise _too_large(tab.counts.shape, int(tab.counts.sum()))
        p = p3
        estimate = lo_ = up_ = None
        description = (
            "Fisher's exact test for a 3 x k table (exact column enumeration with bounded "
            "subtrees and a closed-form last stage)."
        )
    else:
        p = _FisherNetwork(tab.counts).p_value()
        estimate = lo_ = up_ = None
        description = "Fisher's exact test for an r x c table (exact network algorithm)."
    method = MethodInfo(
        estimator="Fisher's exact test",
        description=description,
        options={
            "alternative": alternative,
            "confidence_level": confidence_level,
            "relative_tolerance": FISHER_REL_TOL,
            "algorithm": (
                "noncentral hypergeometric"
                if is_2x2
                else "2 x k columns (exact)"
                if min(tab.counts.shape) == 2
                else "3 x k columns (exact)"
                if min(tab.counts.shape) == 3
                else "network (exact)"
            ),
        },
        reference="R stats::fisher.test",
    )
    return FisherExactResult(
        p_value=p,
        statistic=estimate,
        estimate=estimate,
        lower=lo_,
        upper=up_,
        confidence_level=confidence_level,
        alternative=alternative,
        n=int(tab.counts.sum()),
        table=_labelled(tab.counts, tab),
        method=method,
        warnings=collector.as_tuple(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareTestResult:
    """Pearson's chi-square test of independence.

    Attributes
    ----------
    statistic, df, p_value
        X-squared, its degrees of freedom ``(r - 1)(c - 1)``, upper-tail p-value.
    correction
        Whether Yates' continuity correction was applied (2 x 2 only).
    n
        Total count.
    observed, expected, residuals, std_residuals
        Labelled tables: counts, expected counts under independence, Pearson
        residuals ``(O - E) / sqrt(E)`` and standardized residuals, as R's
        ``chisq.test()$observed``, ``$expected``, ``$residuals`` and ``$stdres``.
    """

    statistic: float
    df: int
    p_value: float
    correction: bool
    n: int
    n_excluded: int = 0
    exclusions: tuple[str, ...] = ()
    observed: pd.DataFrame = field(compare=False, repr=False)
    expected: pd.DataFrame = field(compare=False, repr=False)
    residuals: pd.DataFrame = field(compare=False, repr=False)
    std_residuals: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"ChiSquareTestResult(statistic={self.statistic:.4g}, df={self.df}, "
            f"p_value={self.p_value:.4g}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, df, p_value, n, n_excluded``."""
        return pd.DataFrame(
            {
                "test": ["chi_square"],
                "statistic": [self.statistic],
                "df": [float(self.df)],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows."""
        return _frame_ard(self.to_frame(), "chi_square_test", ["test"])


def chi_square_test(table: object, *, correction: bool = True) -> ChiSquareTestResult:
    """Pearson's chi-square test of independence, as R's ``chisq.test``.

    Parameters
    ----------
    table
        2-D array-like of non-negative whole-number counts, or a pandas crosstab.
    correction
        Apply Yates' continuity correction. As in R it only affects 2 x 2 tables;
        R's default (``TRUE``) is kept.

    Returns
    -------
    ChiSquareTestResult

    Raises
    ------
    AnalysisError
        Not a 2-D table of counts.
    DegenerateDataError
        Fewer than 2 non-empty rows or columns.

    Warns
    -----
    StatisticalWarning
        Some expected count is below 5 ("Chi-squared approximation may be
        incorrect" in R); consider :func:`fisher_exact`.
    DegenerateWarning
        Empty rows/columns were dropped (R returns NaN for such tables).

    Notes
    -----
    ``X2 = sum((|O - E| - Y)^2 / E)`` with ``E = row total * column total / n``,
    ``df = (r - 1)(c - 1)``. With the correction on a 2 x 2 table
    ``Y = min(0.5, |O - E|)`` (R's rule, so the correction never overshoots);
    otherwise ``Y = 0``. gtsummary uses ``correction=False`` in summary tables;
    scipy's ``chi2_contingency`` corrects by default like R.

    References
    ----------
    Pearson K (1900). Philosophical Magazine 50:157-175.
    Yates F (1934). Contingency tables involving small numbers and the chi-square
    test. Suppl JRSS 1:217-235.

    Examples
    --------
    >>> round(chi_square_test([[12, 5], [7, 9]]).statistic, 6)
    1.455996
    """
    collector = WarningCollector()
    tab = _drop_empty(_as_table(table), collector, "the chi-square test")
    obs = tab.counts.astype(np.float64)
    n = obs.sum()
    sr, sc = obs.sum(axis=1), obs.sum(axis=0)
    expected = np.outer(sr, sc) / n
    is_2x2 = obs.shape == (2, 2)
    yates = min(0.5, float(np.abs(obs - expected).min())) if correction and is_2x2 else 0.0
    statistic = float((((np.abs(obs - expected) - yates) ** 2) / expected).sum())
    df = (obs.shape[0] - 1) * (obs.shape[1] - 1)
    p_value = float(chi2_sf(statistic, df))
    small = expected < 5
    if small.any():
        collector.warn(
            f"Chi-squared approximation may be incorrect: {int(small.sum())} of {small.size} "
            f"expected counts are below 5 (smallest {expected.min():.3g}). Consider fisher_exact()."
        )
    variance = np.outer(sr * (n - sr), sc * (n - sc)) / n**3
    method = MethodInfo(
        estimator="Pearson's chi-square test",
        description=(
            "Pearson's chi-square test of independence"
            + (" with Yates' continuity correction." if yates > 0 else ".")
        ),
        options={"correction": bool(correction), "yates_applied": yates > 0},
        reference="R stats::chisq.test",
    )
    return ChiSquareTestResult(
        statistic=statistic,
        df=df,
        p_value=p_value,
        correction=yates > 0,
        n=int(n),
        observed=_labelled(tab.counts, tab),
        expected=_labelled(expected, tab),
        residuals=_labelled((obs - expected) / np.sqrt(expected), tab),
        std_residuals=_labelled((obs - expected) / np.sqrt(variance), tab),
        method=method,
        warnings=collector.as_tuple(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendTestResult:
    """Cochran-Armitage chi-square test for trend in proportions.

    Attributes
    ----------
    statistic, df, p_value
        X-squared (1 df) and its upper-tail p-value.
    direction
        ``"increasing"`` or ``"decreasing"`` proportion with increasing score
        (``"none"`` when the statistic is 0).
    n
        Total number of subjects (sum of ``totals``).
    groups
        Tidy table ``group, score, events, n, proportion``.
    """

    statistic: float
    df: int
    p_value: float
    direction: Literal["increasing", "decreasing", "none"]
    n: int
    n_excluded: int = 0
    exclusions: tuple[str, ...] = ()
    groups: pd.DataFrame = field(compare=False, repr=False)
    method: MethodInfo = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"TrendTestResult(statistic={self.statistic:.4g}, df=1, p_value={self.p_value:.4g}, "
            f"direction={self.direction!r}, n={self.n})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``statistic, df, p_value, n, n_excluded``."""
        return pd.DataFrame(
            {
                "test": ["cochran_armitage"],
                "statistic": [self.statistic],
                "df": [float(self.df)],
                "p_value": [self.p_value],
                "n": [self.n],
                "n_excluded": [self.n_excluded],
            }
        )

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: the test, then each group's events, n and proportion."""
        groups = self.groups.astype({"group": str}).rename(columns={"group": "test"})
        return pd.concat(
            [
                _frame_ard(self.to_frame(), "cochran_armitage_test", ["test"]),
                _frame_ard(groups, "cochran_armitage_test", ["test"]),
            ],
            ignore_index=True,
        )


def _as_vector(values: object, name: str) -> FloatArray:
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    try:
        out = arr.astype(np.float64).ravel()
    except (TypeError, ValueError):
        msg = f"`{name}` must be numeric; got {arr.dtype}."
        raise AnalysisError(msg) from None
    if not np.isfinite(out).all():
        msg = f"`{name}` must not contain missing or infinite values."
        raise AnalysisError(msg)
    return out


def cochran_armitage_test(
    events: Sequence[float] | npt.ArrayLike,
    totals: Sequence[float] | npt.ArrayLike,
    *,
    scores: Sequence[float] | npt.ArrayLike | None = None,
) -> TrendTestResult:
    """Cochran-Armitage test for a linear trend in proportions, as R's ``prop.trend.test``.

    Parameters
    ----------
    events
        Number of subjects with the event in each ordered group.
    totals
        Number of subjects in each group (same length as ``events``).
    scores
        Score of each group; default ``1, 2, ..., k`` (R's default).

    Returns
    -------
    TrendTestResult

    Raises
    ------
    AnalysisError
        Lengths differ, fewer than 2 groups, counts are not whole numbers, or
        ``events > totals``.
    DegenerateDataError
        No events or only events overall, or all scores equal.

    Notes
    -----
    With ``p = sum(events) / N`` and the weighted mean score
    ``s_bar = sum(n_i s_i) / N``::

        X2 = (sum x_i (s_i - s_bar))^2 / (p (1 - p) sum n_i (s_i - s_bar)^2)

    on 1 df. This is R's form (the weighted regression sum of squares in
    ``prop.trend.test``). statsmodels' ``test_ordinal_association`` and SAS's
    linear-by-linear statistic use ``N - 1`` in place of ``N`` in the variance and
    are smaller by the factor ``(N - 1) / N``.

    References
    ----------
    Cochran WG (1954). Some methods for strengthening the common chi-square
    tests. Biometrics 10:417-451.
    Armitage P (1955). Tests for linear trends in proportions and frequencies.
    Biometrics 11:375-386.

    Examples
    --------
    >>> round(cochran_armitage_test([2, 5, 9, 12], [20, 20, 20, 20]).statistic, 3)
    12.703
    """
    x = _as_vector(events, "events")
    n = _as_vector(totals, "totals")
    s = np.arange(1.0, len(x) + 1.0) if scores is None else _as_vector(scores, "scores")
    if not len(x) == len(n) == len(s):
        msg = (
            f"`events`, `totals` and `scores` must have the same length; got {len(x)}, "
            f"{len(n)} and {len(s)}."
        )
        raise AnalysisError(msg)
    if len(x) < 2:
        msg = f"A trend test needs at least 2 groups; got {len(x)}."
        raise AnalysisError(msg)
    if (x < 0).any() or (n <= 0).any() or (x != np.round(x)).any() or (n != np.round(n)).any():
        msg = "`events` must be whole numbers >= 0 and `totals` whole numbers > 0."
        raise AnalysisError(msg)
    if (x > n).any():
        msg = f"`events` cannot exceed `totals`; got events {x.tolist()} of totals {n.tolist()}."
        raise AnalysisError(msg)
    big_n = n.sum()
    p = x.sum() / big_n
    if p in (0.0, 1.0):
        msg = "The trend test is undefined when no subject or every subject has the event."
        raise DegenerateDataError(msg)
    s_bar = (n * s).sum() / big_n
    spread = (n * (s - s_bar) ** 2).sum()
    if spread <= 0:
        msg = "`scores` must not all be equal (among groups with subjects); no trend to test."
        raise DegenerateDataError(msg)
    numerator = float((x * (s - s_bar)).sum())
    statistic = numerator**2 / (p * (1 - p) * spread)
    direction: Literal["increasing", "decreasing", "none"] = (
        "increasing" if numerator > 0 else "decreasing" if numerator < 0 else "none"
    )
    groups = pd.DataFrame(
        {
            "group": np.arange(1, len(x) + 1),
            "score": s,
            "events": x,
            "n": n,
            "proportion": x / n,
        }
    )
    method = MethodInfo(
        estimator="Cochran-Armitage trend test",
        description="Chi-square test for a linear trend in proportions (Cochran-Armitage, N form).",
        options={"scores": "1..k" if scores is None else ",".join(f"{v:g}" for v in s)},
        reference="R stats::prop.trend.test",
    )
    return TrendTestResult(
        statistic=float(statistic),
        df=1,
        p_value=float(chi2_sf(statistic, 1)),
        direction=direction,
        n=int(big_n),
        groups=groups,
        method=method,
    )


# --------------------------------------------------------------------------------------
# one proportion: exact (Clopper-Pearson) interval
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ProportionResult:
    """A proportion ``x / n`` with its exact (Clopper-Pearson) confidence interval.

    Attributes
    ----------
    x, n
        Successes and trials.
    estimate, lower, upper
        ``x / n`` and the exact limits (``lower = 0`` when ``x = 0``, ``upper = 1`` when
        ``x = n``, as R).
    confidence_level
        Level of the interval.
    method, warnings
        How this was computed; warnings raised.
    """

    x: int
    n: int
    estimate: float
    lower: float
    upper: float
    confidence_level: float
    method: MethodInfo
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def table(self) -> pd.DataFrame:
        """One row: ``x, n, estimate, lower, upper, confidence_level``."""
        return pd.DataFrame(
            {
                "x": [self.x],
                "n": [self.n],
                "estimate": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "confidence_level": [self.confidence_level],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The one-row table (:attr:`table`)."""
        return self.table

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows."""
        frame = self.table
        frame.insert(0, "group", "all")
        return frame_to_ard(frame, analysis="proportion", keys=["group"])


def proportion_ci(x: int, n: int, *, confidence_level: float = 0.95) -> ProportionResult:
    """A proportion with its exact Clopper-Pearson interval, as R ``binom.test(x, n)``.

    Parameters
    ----------
    x
        Number of successes (0 <= x <= n).
    n
        Number of trials (>= 1).
    confidence_level
        Level of the two-sided interval, in (0, 1).

    Returns
    -------
    ProportionResult
        ``estimate = x / n`` and the limits ``qbeta(a/2, x, n - x + 1)`` and
        ``qbeta(1 - a/2, x + 1, n - x)`` (``a = 1 - confidence_level``).

    Raises
    ------
    AnalysisError
        ``x`` or ``n`` not whole numbers, or ``x`` outside ``0..n``.
    DegenerateDataError
        ``n = 0``: there is no proportion.

    Notes
    -----
    Equals R ``binom.test(x, n, conf.level = confidence_level)$conf.int`` (the
    Clopper-Pearson interval, which inverts two one-sided exact binomial tests; its
    coverage is at least the nominal level), computed as R does, from beta quantiles
    (:func:`scipy.special.betaincinv`).

    References
    ----------
    .. [1] Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated
       in the case of the binomial. Biometrika 1934;26:404-413.

    Examples
    --------
    >>> r = proportion_ci(12, 14)
    >>> round(r.lower, 4), round(r.upper, 4)
    (0.5719, 0.9822)
    """
    level = _check_confidence_level(confidence_level)
    for name, value in (("x", x), ("n", n)):
        if isinstance(value, bool) or not float(value).is_integer():
            msg = f"proportion_ci: {name} must be a whole number; got {value!r}"
            raise AnalysisError(msg)
    xi, ni = int(x), int(n)
    if ni == 0:
        msg = "proportion_ci: n = 0 (no patient in the denominator), so there is no proportion"
        raise DegenerateDataError(msg)
    if not 0 <= xi <= ni:
        msg = f"proportion_ci: x must be between 0 and n = {ni}; got {xi}"
        raise AnalysisError(msg)
    alpha = 1.0 - level
    lower = 0.0 if xi == 0 else float(special.betaincinv(xi, ni - xi + 1, alpha / 2))
    upper = 1.0 if xi == ni else float(special.betaincinv(xi + 1, ni - xi, 1 - alpha / 2))
    return ProportionResult(
        x=xi,
        n=ni,
        estimate=xi / ni,
        lower=lower,
        upper=upper,
        confidence_level=level,
        method=MethodInfo(
            estimator="Clopper-Pearson",
            description=(
                "Proportions are given with exact (Clopper-Pearson) "
                f"{level * 100:g}% confidence intervals."
            ),
            options={"confidence_level": level},
            reference="R stats::binom.test",
        ),
    )


__all__ = [
    "Alternative",
    "ChiSquareTestResult",
    "FisherExactResult",
    "ProportionResult",
    "TrendTestResult",
    "chi_square_test",
    "cochran_armitage_test",
    "fisher_exact",
    "proportion_ci",
]
