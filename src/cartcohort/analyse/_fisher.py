"""Exact two-sided Fisher p-value for 3 x k tables (column DP with exact last stage).

Used by :func:`cartcohort.analyse.contingency.fisher_exact` for tables with three rows
(or three columns) and at least three columns. Every table is either summed exactly
or excluded by an exact comparison; nothing is sampled or truncated (see
:func:`fisher_3xk`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Children (state x column vector) the 3 x k algorithm may list in all, counting a
#: row answered by binary search as ``_ROW_COST`` children and a child bounded over m
#: further columns as m + 1, before it gives up (about
#: a minute; R's FEXACT fails with workspace 2e8 on such tables, e.g. 3 x 5 at n = 1,000).
MAX_CHILDREN_3XK = 60_000_000
_ROW_COST = 20
#: (node, first-row count) rows the last stage may hold at once.
_MAX_ROWS = 30_000_000
#: Children examined per block.
_BLOCK = 1_000_000
#: A tail sum stops when the rest is provably below this fraction of what it holds.
_TAIL_EPS = 1e-18
#: Vertex orders of a column with three rows (fill one row, then the next).
_ORDERS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def search_mode(f: Callable[[IntArray], FloatArray], lo: IntArray, hi: IntArray) -> IntArray:
    """Where each concave ``f`` on ``[lo, hi]`` is largest (vectorised binary search; also
    used by the 2 x k test in :mod:`cartcohort.analyse.contingency`)."""
    a, b = lo.copy(), hi.copy()
    while (a < b).any():
        mid = (a + b) // 2
        down = f(np.minimum(mid + 1, hi)) < f(mid)
        active = a < b
        a = np.where(active & ~down, mid + 1, a)
        b = np.where(active & down, mid, b)
    return a


def first_above(
    f: Callable[[IntArray], FloatArray], lo: IntArray, hi: IntArray, level: float | FloatArray
) -> IntArray:
    """Smallest x in ``[lo, hi]`` with ``f(x) > level``; ``f`` increasing, ``f(hi) > level``."""
    a, b = lo.copy(), hi.copy()
    while (a < b).any():
        mid = (a + b) // 2
        above = f(mid) > level
        active = a < b
        a = np.where(active & ~above, mid + 1, a)
        b = np.where(active & above, mid, b)
    return a


def last_above(
    f: Callable[[IntArray], FloatArray], lo: IntArray, hi: IntArray, level: float | FloatArray
) -> IntArray:
    """Largest x in ``[lo, hi]`` with ``f(x) > level``; ``f`` decreasing, ``f(lo) > level``."""
    a, b = lo.copy(), hi.copy()
    while (a < b).any():
        mid = (a + b + 1) // 2
        above = f(mid) > level
        active = a < b
        a = np.where(active & above, mid, a)
        b = np.where(active & ~above, mid - 1, b)
    return a


class _Fisher3:
    """State shared by the stages of :func:`fisher_3xk` (log-factorial table, margins)."""

    def __init__(self, counts: IntArray, rel_tol: float) -> None:
        counts = counts[:, np.argsort(counts.sum(axis=0), kind="stable")]  # largest last
        self.c = counts.sum(axis=0).astype(np.int64)
        self.r = counts.sum(axis=1).astype(np.int64)
        self.n = int(self.c.sum())
        self.lf = special.gammaln(np.arange(self.n + 1, dtype=np.float64) + 1.0)
        lf = self.lf
        #: log of sum_j log(c_j! / prod_i x_ij!) for the observed table, plus R's tolerance
        self.threshold = float(lf[self.c].sum() - lf[counts].sum() + math.log1p(rel_tol))
        #: log(prod r_i! / n!): turns the column terms into the table probability
        self.k_global = float(lf[self.r].sum() - lf[self.n])
        self.k = len(self.c)
        self.remaining = np.concatenate([np.cumsum(self.c[::-1])[::-1], [0]]).astype(np.int64)
        self.budget = MAX_CHILDREN_3XK

    def spend(self, work: int) -> None:
        """Charge ``work`` to the budget; raise :class:`_WorkLimitError` when it runs out."""
        self.budget -= work
        if self.budget < 0:
            msg = "work limit"
            raise _WorkLimitError(msg)

    def lc(self, a: IntArray, b: IntArray) -> FloatArray:
        """log C(a, b) for 0 <= b <= a."""
        lf = self.lf
        return lf[a] - lf[b] - lf[a - b]  # type: ignore[no-any-return]

    # ----------------------------------------------------------------------------------
    # bounds on the completions of a node (state = remaining row totals, shape (m, 3))
    # ----------------------------------------------------------------------------------

    def through(self, s: IntArray) -> FloatArray:
        """log of the sum over completions of prod_j c_j! / prod x_ij! = N! / prod s_i!."""
        lf = self.lf
        return lf[s.sum(axis=1)] - lf[s].sum(axis=1)  # type: ignore[no-any-return]

    def upper(self, s: IntArray, j: int) -> FloatArray:
        """An upper bound on the best completion of columns j.. (Lagrangian relaxation).

        With column multipliers log c_l and row multipliers log(N / s_i), the rows
        separate and each cell's term ``b t - log t!`` is largest at ``t = floor(e^b)``
        (checked with its neighbours against rounding); by weak duality the sum bounds
        the best completion from above for every state.
        """
        lf = self.lf
        cols = self.c[j:]
        big_n = s.sum(axis=1)
        out = np.full(len(s), float(lf[cols].sum() - (cols * np.log(cols)).sum()))
        with np.errstate(divide="ignore"):
            log_s = np.log(s.astype(np.float64))
        log_n = np.log(big_n.astype(np.float64))
        for i in range(3):
            si = s[:, i]
            has = si > 0
            tau = np.where(has, log_n - log_s[:, i], 0.0)
            out += np.where(has, si * tau, 0.0)
            for cl in cols.tolist():
                beta = math.log(cl) - tau
                cap = np.minimum(si, cl)
                guess = np.floor(np.exp(np.minimum(beta, 50.0)))
                best = np.full(len(s), -np.inf)
                for d in (-1, 0, 1):
                    t = np.clip(guess + d, 0, cap).astype(np.int64)
                    best = np.maximum(best, beta * t - lf[t])
                out += np.where(has, best, 0.0)
        return out

    def lower(self, s: IntArray, j: int) -> FloatArray:
        """A lower bound on the least probable completion of columns j..

        Each column alone (rows capped by the state, coupling between columns
        dropped) is least probable at a vertex of its polytope: rows filled one after
        another in some order; the smallest over the six orders is exact for it.
        """
        out = np.zeros(len(s))
        for cl in self.c[j:].tolist():
            out += self.lf[cl] + self._vertex_min(s, np.full(len(s), cl), lambda x, _s: -self.lf[x])
        return out

    def _vertex_min(
        self,
        s: IntArray,
        c: IntArray,
        term: Callable[[IntArray, IntArray], FloatArray],
    ) -> FloatArray:
        """min over the vertices of {x : 0 <= x <= s, sum x = c} of sum_i term(x_i, s_i)."""
        best = np.full(len(s), np.inf)
        for order in _ORDERS:
            left = c.copy()
            value = np.zeros(len(s))
            for i in order:
                x = np.minimum(s[:, i], left)
                left = left - x
                value += term(x, s[:, i])
            best = np.minimum(best, value)
        return best

    # ----------------------------------------------------------------------------------
    # expanding a column
    # ----------------------------------------------------------------------------------

    def node_mass(self, s: IntArray, past: FloatArray, mult: FloatArray) -> FloatArray:
        """log probability of all tables through each node."""
        return np.log(mult) + past + self.through(s) + self.k_global

    def _row_best(
        self, s: IntArray, x0: IntArray, m: IntArray, base: FloatArray
    ) -> Callable[[IntArray], FloatArray]:
        """Best completion through the child (x0, x1, m - x1) of each row, as a function of x1."""

        def best(x1: IntArray) -> FloatArray:
            x2 = m - x1
            child = np.column_stack([s[:, 0] - x0, s[:, 1] - x1, s[:, 2] - x2])
            return (  # type: ignore[no-any-return]
                base
                - self.lf[x1]
                - self.lf[x2]
                - self.lf[child[:, 1]]
                - self.lf[child[:, 2]]
                + self.last_best(child)[0]
            )

        return best

    def _before_last_rows(
        self, s: IntArray, past: FloatArray, mult: FloatArray
    ) -> tuple[float, IntArray, FloatArray, FloatArray]:
        """Fill the third column from the end, one row of children (fixed x_0) at a time.

        The best completion through a child x is ``log_step(x) + K(s - x) +
        last_best(s - x)``, exact; along a row (x_1 up, x_2 down) it is a sum of
        concave functions (the last two columns' best completion is M-concave in the
        state, so concave along an exchange direction). The children that can beat
        the observed table are therefore an interval of x_1 per row (binary search);
        those outside count whole, as tails of the hypergeometric law of X_1 given
        x_0, and whole rows without such children count with the law of X_0.
        """
        j = self.k - 3
        c = int(self.c[j])
        tail_cols = float(self.lf[self.c[j + 1]] + self.lf[self.c[j + 2]])
        total = 0.0
        kids: list[tuple[IntArray, FloatArray, FloatArray]] = []
        per = max(1, _MAX_ROWS // 4 // (c + 1))
        for start in range(0, len(s), per):
            sb, pb, mb = (
                s[start : start + per],
                past[start : start + per],
                mult[start : start + per],
            )
            mass = self.node_mass(sb, pb, mb)
            lo0 = np.maximum(0, c - sb[:, 1] - sb[:, 2])
            hi0 = np.minimum(sb[:, 0], c)
            width = hi0 - lo0 + 1
            self.spend(int(width.sum()) * _ROW_COST)
            node = np.repeat(np.arange(len(sb)), width)
            x0 = (
                lo0[node] + np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width)
            )
            sn = sb[node]
            m = c - x0
            lo1, hi1 = np.maximum(0, m - sn[:, 2]), np.minimum(sn[:, 1], m)
            base = pb[node] + self.lf[c] - self.lf[x0] + tail_cols - self.lf[sn[:, 0] - x0]

            best = self._row_best(sn, x0, m, base)
            mode = search_mode(best, lo1, hi1)
            top = best(mode)
            log_p_x0 = (
                self.lc(sn[:, 0], x0)
                + self.lc(sn[:, 1] + sn[:, 2], m)
                - self.lc(sn.sum(axis=1), np.full(len(sn), c))
            )
            row_whole = top <= self.threshold
            total += float(np.exp(mass[node[row_whole]] + log_p_x0[row_whole]).sum())
            live = ~row_whole
            idx = np.flatnonzero(live)
            level = np.full(len(idx), self.threshold)

            best_live = self._row_best(sn[idx], x0[idx], m[idx], base[idx])
            alpha = first_above(best_live, lo1[idx], mode[idx], level)
            beta = last_above(best_live, mode[idx], hi1[idx], level)
            tails = _log_tails(self, sn[idx, 1], sn[idx, 2], m[idx], alpha, beta)
            total += float(np.exp(mass[node[idx]] + log_p_x0[idx] + tails).sum())
            # children inside the intervals: kept unless every completion beats the table
            n_in = beta - alpha + 1
            n_kids = int(n_in.sum())
            if n_kids > _MAX_ROWS:
                msg = "too many children"
                raise _WorkLimitError(msg)
            row = np.repeat(idx, n_in)
            x1 = (
                np.repeat(alpha, n_in) + np.arange(n_kids) - np.repeat(np.cumsum(n_in) - n_in, n_in)
            )
            x2 = m[row] - x1
            s_r = sn[row]
            child = np.column_stack([s_r[:, 0] - x0[row], s_r[:, 1] - x1, s_r[:, 2] - x2])
            lp = pb[node[row]] + self.lf[c] - self.lf[x0[row]] - self.lf[x1] - self.lf[x2]
            k_child = tail_cols - self.lf[child].sum(axis=1)
            alive = lp + k_child + self.last_least(child) <= self.threshold
            child = -np.sort(-child[alive], axis=1)
            kids.append((child, lp[alive], mb[node[row]][alive]))
        return (
            total,
            np.concatenate([q[0] for q in kids]),
            np.concatenate([q[1] for q in kids]),
            np.concatenate([q[2] for q in kids]),
        )

    # ----------------------------------------------------------------------------------
    # listing the children of each distinct state once (FEXACT's hashing of nodes)
    # ----------------------------------------------------------------------------------

    def _children(self, u: IntArray, c: int) -> tuple[IntArray, IntArray]:
        """(state index, x) for every column vector x <= u[state] summing to c."""
        xs = _compositions3(c, u.max(axis=0))
        per = max(1, _BLOCK // len(xs))
        grp: list[IntArray] = []
        xi: list[IntArray] = []
        for start in range(0, len(u), per):
            gi, xj = np.nonzero((xs[None, :, :] <= u[start : start + per, None, :]).all(axis=2))
            grp.append(gi + start)
            xi.append(xj)
        return np.concatenate(grp), xs[np.concatenate(xi)]

    def _n_children(self, u: IntArray, c: int) -> IntArray:
        """Number of column vectors x <= u summing to c, per state."""
        x0 = np.arange(c + 1)[None, :]
        lo1 = np.maximum(0, c - x0 - u[:, 2:3])
        hi1 = np.minimum(u[:, 1:2], c - x0)
        width = np.where(x0 <= u[:, 0:1], np.maximum(hi1 - lo1 + 1, 0), 0)
        return width.sum(axis=1)  # type: ignore[no-any-return]

    def _listed(
        self,
        s: IntArray,
        past: FloatArray,
        mult: FloatArray,
        j: int,
        best_fn: Callable[[IntArray], FloatArray],
        least_fn: Callable[[IntArray], FloatArray] | None,
    ) -> tuple[float, IntArray, FloatArray, FloatArray]:
        """:meth:`_listed_batch` over batches of states with about ``_BLOCK`` children."""
        empty = np.zeros(0)
        if len(s) == 0:
            return 0.0, np.zeros((0, 3), dtype=np.int64), empty, empty
        u, inv = np.unique(s, axis=0, return_inverse=True)
        inv = inv.ravel()
        sizes = self._n_children(u, int(self.c[j]))
        self.spend(int(sizes.sum()) * max(1, self.k - j - 2))
        batch = np.cumsum(sizes) // _BLOCK
        which = batch[inv]
        total = 0.0
        parts: list[tuple[IntArray, FloatArray, FloatArray]] = []
        n_kids = 0
        for b in np.unique(batch).tolist():
            sel = which == b
            got, kids, lp, w = self._listed_batch(
                s[sel], past[sel], mult[sel], j, best_fn, least_fn
            )
            total += got
            parts.append((kids, lp, w))
            n_kids += len(kids)
            if n_kids > _MAX_ROWS:
                msg = "too many children"
                raise _WorkLimitError(msg)
        return (
            total,
            np.concatenate([q[0] for q in parts]),
            np.concatenate([q[1] for q in parts]),
            np.concatenate([q[2] for q in parts]),
        )

    def _listed_batch(
        self,
        s: IntArray,
        past: FloatArray,
        mult: FloatArray,
        j: int,
        best_fn: Callable[[IntArray], FloatArray],
        least_fn: Callable[[IntArray], FloatArray] | None,
    ) -> tuple[float, IntArray, FloatArray, FloatArray]:
        """Fill column j by listing, once per distinct state, every child sorted by its
        best completion ``step + best_fn(child)``; each node counts whole the prefix of
        children that cannot beat the observed table (prefix sums of the children's
        hypergeometric probabilities, smallest first) and keeps the rest unless
        ``step + least_fn(child)`` shows every completion beats it. With
        ``least_fn=None`` there are no further columns: ``best_fn`` is exact and the
        rest is simply excluded.
        """
        empty = np.zeros(0)
        if len(s) == 0:
            return 0.0, np.zeros((0, 3), dtype=np.int64), empty, empty
        c = int(self.c[j])
        u, inv = np.unique(s, axis=0, return_inverse=True)
        inv = inv.ravel()
        grp, x = self._children(u, c)
        child = u[grp] - x
        step = self.lf[c] - self.lf[x].sum(axis=1)
        best = step + best_fn(child)
        # log P(x | u) = step + through(child) - through(u): multivariate hypergeometric
        log_p = step + self.through(child) - self.through(u)[grp]
        order = np.lexsort((best, grp))
        grp, child, step, best, log_p = (
            grp[order],
            child[order],
            step[order],
            best[order],
            log_p[order],
        )
        bounds = np.searchsorted(grp, np.arange(len(u) + 1))
        node_order = np.argsort(inv, kind="stable")
        node_bounds = np.searchsorted(inv[node_order], np.arange(len(u) + 1))
        mass = self.node_mass(s, past, mult)
        total = 0.0
        kid_rows: list[IntArray] = []
        kid_nodes: list[IntArray] = []
        for g in range(len(u)):
            a, b = int(bounds[g]), int(bounds[g + 1])
            nodes = node_order[node_bounds[g] : node_bounds[g + 1]]
            if a == b or len(nodes) == 0:
                continue
            p = np.exp(log_p[a:b])
            cum = np.cumsum(p)
            pos = np.searchsorted(best[a:b], self.threshold - past[nodes], side="right")
            got = pos > 0
            total += float((np.exp(mass[nodes[got]]) * cum[pos[got] - 1]).sum())
            if least_fn is None:
                continue
            n_kids = b - a - pos
            if n_kids.sum() == 0:
                continue
            node_rep = np.repeat(nodes, n_kids)
            kid_rows.append(
                a
                + np.repeat(pos, n_kids)
                + np.arange(int(n_kids.sum()))
                - np.repeat(np.cumsum(n_kids) - n_kids, n_kids)
            )
            kid_nodes.append(node_rep)
        if least_fn is None or not kid_rows:
            return total, np.zeros((0, 3), dtype=np.int64), empty, empty
        rows = np.concatenate(kid_rows)
        nodes = np.concatenate(kid_nodes)
        if len(rows) > _MAX_ROWS:
            msg = "too many children"
            raise _WorkLimitError(msg)
        uniq_rows, row_inv = np.unique(rows, return_inverse=True)
        least = least_fn(child[uniq_rows])[row_inv.ravel()]
        lp = past[nodes] + step[rows]
        alive = lp + least <= self.threshold
        kids = -np.sort(-child[rows[alive]], axis=1)
        return total, kids, lp[alive], mult[nodes[alive]]

    def expand(
        self, s: IntArray, past: FloatArray, mult: FloatArray, j: int
    ) -> tuple[float, IntArray, FloatArray, FloatArray]:
        """Fill column j (three or more columns left after it), bounding completions with
        :meth:`upper` and :meth:`lower`."""
        return self._listed(
            s, past, mult, j, lambda ch: self.upper(ch, j + 1), lambda ch: self.lower(ch, j + 1)
        )

    def _exact_after(self, child: IntArray) -> FloatArray:
        """Best completion of the last two columns from a state (exact)."""
        k_s = self.lf[self.c[self.k - 2]] + self.lf[self.c[self.k - 1]] - self.lf[child].sum(axis=1)
        return k_s + self.last_best(child)[0]  # type: ignore[no-any-return]

    def _least_after(self, child: IntArray) -> FloatArray:
        """Least probable completion of the last two columns from a state (exact)."""
        k_s = self.lf[self.c[self.k - 2]] + self.lf[self.c[self.k - 1]] - self.lf[child].sum(axis=1)
        return k_s + self.last_least(child)  # type: ignore[no-any-return]

    def _last_column(self, child: IntArray) -> FloatArray:
        """The forced last column's term, log(c_last! / prod_i child_i!)."""
        return self.lf[self.c[self.k - 1]] - self.lf[child].sum(axis=1)  # type: ignore[no-any-return]

    def _split(self, s: IntArray, c: int, cost_per_row: float) -> npt.NDArray[np.bool_]:
        """Nodes whose state is cheaper to list once than to answer row by row."""
        u, inv, q = np.unique(s, axis=0, return_inverse=True, return_counts=True)
        listed = self._n_children(u, c) <= q * (c + 1) * cost_per_row
        return listed[inv.ravel()]

    def before_last(
        self, s: IntArray, past: FloatArray, mult: FloatArray
    ) -> tuple[float, IntArray, FloatArray, FloatArray]:
        """Fill the third column from the end: list the children of states shared by
        many nodes (:meth:`_listed`), answer the others row by row
        (:meth:`_before_last_rows`)."""
        j = self.k - 3
        listed = self._split(s, int(self.c[j]), 8.0)
        w1, s1, p1, m1 = self._listed(
            s[listed], past[listed], mult[listed], j, self._exact_after, self._least_after
        )
        rest = ~listed
        if not rest.any():
            return w1, s1, p1, m1
        w2, s2, p2, m2 = self._before_last_rows(s[rest], past[rest], mult[rest])
        return w1 + w2, np.concatenate([s1, s2]), np.concatenate([p1, p2]), np.concatenate([m1, m2])

    def last_stage(self, s: IntArray, past: FloatArray, mult: FloatArray) -> float:
        """Mass of the tables through the nodes (two columns left) that are as or less
        probable than the observed one: listed per shared state, else row by row."""
        j = self.k - 2
        total = 0.0
        listed = self._split(s, int(self.c[j]), 4.0)
        if listed.any():
            total += self._listed(
                s[listed], past[listed], mult[listed], j, self._last_column, None
            )[0]
        rest = np.flatnonzero(~listed)
        if len(rest) == 0:
            return total
        s, past, mult = s[rest], past[rest], mult[rest]
        k_s = self.lf[self.c[j]] + self.lf[self.c[j + 1]] - self.lf[s].sum(axis=1)
        level = self.threshold - past - k_s
        log_mass = self.node_mass(s, past, mult)
        alive = np.flatnonzero(self.last_least(s) <= level)
        for start in range(0, len(alive), _BLOCK):
            sel = alive[start : start + _BLOCK]
            total += self._last_stage_rows(s[sel], level[sel], log_mass[sel])
        return total

    # ----------------------------------------------------------------------------------
    # the last stage: two columns left, the first of them free
    # ----------------------------------------------------------------------------------

    def _inner_mode(self, s: IntArray, m: IntArray) -> IntArray:
        """Mode of the hypergeometric count of row 1 when m are drawn from rows 1 and 2."""
        s1, s2 = s[:, 1], s[:, 2]
        lo, hi = np.maximum(0, m - s2), np.minimum(s1, m)
        return np.clip((m + 1) * (s1 + 1) // (s1 + s2 + 2), lo, hi)

    def last_best(self, s: IntArray) -> tuple[FloatArray, IntArray]:
        """Largest ``g(x) = sum_i log C(s_i, x_i)`` over the last free column, and its x_0.

        ``G(x0) = max_x1 g`` is concave (log C(s_0, .) plus a max-plus convolution of
        concave sequences); its inner maximum is the hypergeometric mode.
        """
        c = self.c[self.k - 2]
        lo = np.maximum(0, c - s[:, 1] - s[:, 2])
        hi = np.minimum(s[:, 0], c)
        g = self._outer(s, c)
        x0 = search_mode(g, lo, hi)
        return g(x0), x0

    def _outer(self, s: IntArray, c: int) -> Callable[[IntArray], FloatArray]:
        def g(x0: IntArray) -> FloatArray:
            m = c - x0
            x1 = self._inner_mode(s, m)
            return self.lc(s[:, 0], x0) + self.lc(s[:, 1], x1) + self.lc(s[:, 2], m - x1)

        return g

    def last_least(self, s: IntArray) -> FloatArray:
        """Smallest g over the last free column: g is concave, so at a vertex."""
        c = np.full(len(s), int(self.c[self.k - 2]))
        return self._vertex_min(s, c, lambda x, si: self.lc(si, x))

    def _last_stage_rows(self, s: IntArray, level: FloatArray, log_mass: FloatArray) -> float:
        """sum_node exp(log_mass) * P(g(X) <= level), X multivariate hypergeometric.

        ``log_mass`` is the log probability of all tables through the node. X_0 is
        hypergeometric; given X_0, X_1 is hypergeometric. ``G`` is concave, so the
        X_0 with a completion above ``level`` form an interval [a, b] (binary search)
        and every X_0 outside it counts whole (two tails of X_0); for each X_0 inside,
        the X_1 with g above ``level`` form an interval around the inner mode and
        the two tails of X_1 count. Tails are sums of positive terms (no cancellation).
        """
        c = int(self.c[self.k - 2])
        top, x0_mode = self.last_best(s)
        total = float(np.exp(log_mass[top <= level]).sum())
        keep = top > level
        s, level, log_mass, x0_mode = s[keep], level[keep], log_mass[keep], x0_mode[keep]
        if len(s) == 0:
            return total
        s0, rest = s[:, 0], s[:, 1] + s[:, 2]
        lo = np.maximum(0, c - rest)
        hi = np.minimum(s0, c)
        g = self._outer(s, c)
        a = first_above(g, lo, x0_mode, level)
        b = last_above(g, x0_mode, hi, level)
        n_all = s0 + rest
        cc = np.full(len(s), c)
        total += float(np.exp(log_mass + _log_tails(self, s0, rest, cc, a, b)).sum())
        width = b - a + 1
        n_rows = int(width.sum())
        self.spend(n_rows * _ROW_COST)
        if n_rows > _MAX_ROWS:
            msg = "too many rows"
            raise _WorkLimitError(msg)
        node = np.repeat(np.arange(len(s)), width)
        x0 = a[node] + np.arange(n_rows) - np.repeat(np.cumsum(width) - width, width)
        sn = s[node]
        m = c - x0
        lc_x0 = self.lc(sn[:, 0], x0)
        log_p_x0 = lc_x0 + self.lc(rest[node], m) - self.lc(n_all[node], cc[node])
        inner_level = level[node] - lc_x0
        s1, s2 = sn[:, 1], sn[:, 2]
        lo1, hi1 = np.maximum(0, m - s2), np.minimum(s1, m)
        mode1 = self._inner_mode(sn, m)

        def h(x1: IntArray) -> FloatArray:
            return self.lc(s1, x1) + self.lc(s2, m - x1)

        alpha = first_above(h, lo1, mode1, inner_level)
        beta = last_above(h, mode1, hi1, inner_level)
        tails = _log_tails(self, s1, s2, m, alpha, beta)
        total += float(np.exp(log_mass[node] + log_p_x0 + tails).sum())
        return total


class _WorkLimitError(Exception):
    """The table needs more work than the limits allow."""


def _log_tails(
    fs: _Fisher3, succ: IntArray, fail: IntArray, draws: IntArray, a: IntArray, b: IntArray
) -> FloatArray:
    """log(P(X < a) + P(X > b)), X hypergeometric (succ, fail, draws); -inf if both empty.

    Each tail is summed term by term outwards from its edge with the exact ratio of
    consecutive terms. The pmf is log-concave, so once the ratio r is below 1 the
    rest of a tail is at most ``term * r / (1 - r)``; a tail stops when that bound is
    below ``_TAIL_EPS`` times its sum (or at the end of the support): what is left
    out is below double precision of the sum.
    """
    lo = np.maximum(0, draws - fail)
    hi = np.minimum(succ, draws)
    norm = fs.lc(succ + fail, draws)

    def log_pmf(x: IntArray) -> FloatArray:
        return fs.lc(succ, x) + fs.lc(fail, draws - x) - norm

    up = _tail(log_pmf, succ, fail, draws, b + 1, hi, upward=True)
    down = _tail(log_pmf, succ, fail, draws, a - 1, lo, upward=False)
    return np.logaddexp(up, down)


def _tail(
    log_pmf: Callable[[IntArray], FloatArray],
    succ: IntArray,
    fail: IntArray,
    draws: IntArray,
    start: IntArray,
    end: IntArray,
    *,
    upward: bool,
) -> FloatArray:
    out = np.full(len(start), -np.inf)
    live = (start <= end) if upward else (start >= end)
    idx = np.flatnonzero(live)
    if len(idx) == 0:
        return out
    base = log_pmf(np.where(live, start, end))[idx]
    x = start[idx].astype(np.float64)
    last = end[idx].astype(np.float64)
    k, f, d = (v[idx].astype(np.float64) for v in (succ, fail, draws))
    term = np.ones(len(idx))
    acc = np.ones(len(idx))
    pos = np.arange(len(idx))
    while len(pos):
        if upward:
            ratio = (k - x) * (d - x) / ((x + 1.0) * (f - d + x + 1.0))
        else:
            ratio = x * (f - d + x) / ((k - x + 1.0) * (d - x + 1.0))
        more = x != last
        term = term * ratio
        acc_next = acc + np.where(more, term, 0.0)
        done = ~more | ((ratio < 1.0) & (term / (1.0 - ratio) <= _TAIL_EPS * acc_next))
        acc = acc_next
        finished = pos[done]
        out_idx = idx[finished]
        out[out_idx] = base[finished] + np.log(acc[done])
        keep = ~done
        pos, x, last, k, f, d = pos[keep], x[keep], last[keep], k[keep], f[keep], d[keep]
        term, acc = term[keep], acc[keep]
        x = x + 1.0 if upward else x - 1.0
    return out


def _compositions3(total: int, caps: IntArray) -> IntArray:
    """All (x0, x1, x2) >= 0 with x_i <= caps[i] and sum == total, one per row."""
    x0 = np.arange(min(total, int(caps[0])) + 1, dtype=np.int64)
    lo1 = np.maximum(0, total - x0 - int(caps[2]))
    hi1 = np.minimum(int(caps[1]), total - x0)
    width = np.maximum(hi1 - lo1 + 1, 0)
    rows = np.repeat(x0, width)
    x1 = (
        np.repeat(lo1, width)
        + np.arange(int(width.sum()))
        - np.repeat(np.cumsum(width) - width, width)
    )
    return np.column_stack([rows, x1, total - rows - x1])


def _merge(
    s: IntArray, past: FloatArray, mult: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge nodes with the same state and log past probability (to 1e-10): counts add."""
    key = np.round(past * 1e10).astype(np.int64)
    order = np.lexsort((key, s[:, 2], s[:, 1], s[:, 0]))
    s, key, past, mult = s[order], key[order], past[order], mult[order]
    start = np.ones(len(s), dtype=bool)
    start[1:] = (s[1:] != s[:-1]).any(axis=1) | (key[1:] != key[:-1])
    first = np.flatnonzero(start)
    return s[first], past[first], np.add.reduceat(mult, first)


def fisher_3xk(counts: IntArray, rel_tol: float) -> float | None:
    """Exact two-sided p-value of Fisher's test for a 3 x k table (k >= 3); None if too large.

    Given the margins a table has probability ``prod_i r_i! / n! * prod_j c_j! /
    prod_ij x_ij!``; columns are filled one at a time, smallest first. A node is the
    vector of row totals still to place (sorted: rows are exchangeable) with ``L``, the
    log of the product of the filled columns' terms; nodes with the same state and
    ``L`` merge and their path counts add. All tables through a node have total
    probability ``exp(L) * N! / prod s_i!`` times the constant, so a node is
    *counted whole* when no completion can be more probable than the observed table
    (times R's ``1 + 1e-7``), *dropped* when every completion is more probable, and
    expanded otherwise (FEXACT's past-path bounding). Before the last two columns the
    decision uses an upper bound (Lagrangian relaxation) and a lower bound (each
    column at its least probable vertex) on the completions, which are valid for every
    state, so a decision is never wrong (a loose bound only expands more nodes).

    At the last two columns the completion is one free column X, multivariate
    hypergeometric, with ``log`` probability ``sum_i log C(s_i, X_i)``: its largest
    value is exact (nested hypergeometric modes) and its smallest is at a vertex, so
    nodes are counted or dropped exactly, and the rest are answered in closed form:
    the tables more probable than the observed one form an interval of X_0 and, for
    each X_0, an interval of X_1 (concavity), and the others are summed as
    hypergeometric tails (see :meth:`_Fisher3.last_stage`). Every table is summed
    exactly or excluded by an exact comparison.
    """
    if counts.shape[0] != 3:
        counts = counts.T
    fs = _Fisher3(counts.astype(np.int64), rel_tol)
    k = fs.k
    s = np.sort(fs.r)[::-1][None, :].astype(np.int64)
    past = np.zeros(1)
    mult = np.ones(1)
    total = 0.0
    try:
        for j in range(k - 2):
            if j + 1 == k - 2:
                whole, s, past, mult = fs.before_last(s, past, mult)
                total += whole
            else:
                whole, s, past, mult = fs.expand(s, past, mult, j)
                total += whole
            if len(s) == 0:
                return min(1.0, total)
            s, past, mult = _merge(s, past, mult)
        total += fs.last_stage(s, past, mult)
    except _WorkLimitError:
        return None
    return min(1.0, total)
