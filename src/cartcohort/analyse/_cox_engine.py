"""Vectorised Cox partial-likelihood engine (private).

The rows are sorted once by stratum and *descending* time, so the risk set of a
death at time ``t`` (everyone in its stratum with time >= ``t``) is a prefix of
its stratum: risk-set sums are cumulative sums read at the last row of the
death's (stratum, time) tie group.

Efron's approximation for ``d`` tied deaths uses the fractions ``0, 1/d, ...,
(d-1)/d``: the ``k``-th term removes ``k/d`` of the tied deaths' risk from the
risk set. Each death gets its own fraction (its rank within the tie group), so
the correction is one vectorised expression over all tie groups; Breslow is the
case where every fraction is 0.

The information matrix is never formed per death time. With ``inv_k = 1/S0_k``
and ``f_k`` the Efron fraction of death ``k``,

    I = sum_i r_i x_i x_i' (C1_i - delta_i C2_i) - sum_k xbar_k xbar_k',

where ``C1_i`` sums ``inv_k`` over the deaths whose risk set contains row ``i``
(a reverse cumulative sum over rows) and ``C2_i`` sums ``f_k inv_k`` over the
deaths tied with row ``i``. That is one ``X' diag(w) X`` product per evaluation:
O(n p^2), no loop over subjects or over death times. Work arrays are allocated
once per fit and reused across Newton steps (large fresh temporaries cost as
much as the arithmetic).

With entry (interval start) times, as R's ``Surv(tstart, tstop, event)``, the
risk set of a death at ``t`` is ``{i : start_i < t <= stop_i}``: the prefix sums
above minus the sums over the rows of the stratum with ``start_i >= t`` (a
second cumulative sum over the rows sorted by descending start, read at each
death). In the information, ``C1_i`` likewise loses the deaths at or before
``start_i``. This is R's ``agfit4.c`` risk set; without entry times nothing
changes.

The Newton-Raphson iteration follows R survival 3.5-3 ``coxfit6.c`` (see
:func:`newton_raphson`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_CHUNK = 32768


@dataclass(frozen=True, slots=True)
class RiskSets:
    """Sorted layout of one data set (rows sorted by stratum, then time descending)."""

    order: IntArray  # original row index of each sorted row
    time: FloatArray  # sorted times
    event: BoolArray  # sorted event indicator
    row_stratum: IntArray  # stratum code of each sorted row
    stratified: bool
    group_of_row: IntArray  # (stratum, time) tie-group index of each sorted row
    group_last: IntArray  # last sorted row of each tie group
    death_rows: IntArray  # sorted row of each death; tied deaths are consecutive
    death_risk_row: IntArray  # row whose cumulative sum is the death's risk set
    death_group: IntArray  # tie-group index of each death
    frac: FloatArray  # Efron fraction k/d of each death (0 for Breslow / untied)
    tied: IntArray  # positions (into death_rows) of deaths tied with another death
    tied_start: IntArray  # start (into ``tied``) of each tied-death group
    tied_of: IntArray  # tied-death group (0..) of each entry of ``tied``
    efron: bool
    start: FloatArray | None = None  # sorted entry times (None: everyone enters at 0)
    entry_order: IntArray | None = None  # sorted rows ordered by stratum, start descending
    entry_stratum: IntArray | None = None  # stratum code in ``entry_order``
    death_entry_row: IntArray | None = None  # last entry-order row with start >= death time
    entry_first_row: IntArray | None = None  # first sorted row (stratum) with time <= start
    entry_has_row: BoolArray | None = None  # whether ``entry_first_row`` is in the stratum

    @property
    def n_deaths(self) -> int:
        """Number of deaths."""
        return int(self.death_rows.size)


def build_risk_sets(
    time: FloatArray,
    event: BoolArray,
    strata: IntArray | None,
    *,
    efron: bool,
    start: FloatArray | None = None,
) -> RiskSets:
    """Sort once and precompute the tie-group and tied-death structure.

    ``time`` is the interval end; ``start`` (optional) the entry or interval start,
    each strictly below its ``time`` (checked by the caller).
    """
    n = time.size
    stratified = strata is not None
    st = np.zeros(n, dtype=np.intp) if strata is None else strata.astype(np.intp)
    order = np.argsort(-time)
    if stratified:
        order = order[np.argsort(st[order], kind="stable")]
    t_s = time[order]
    e_s = event[order]
    st_s = st[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (t_s[1:] != t_s[:-1]) | (st_s[1:] != st_s[:-1])
    group_last = np.append(np.flatnonzero(new)[1:], n) - 1
    group_of_row = np.cumsum(new) - 1
    death_rows = np.flatnonzero(e_s)
    death_group = group_of_row[death_rows]
    dnew = np.ones(death_rows.size, dtype=bool)
    dnew[1:] = death_group[1:] != death_group[:-1]
    dstart = np.flatnonzero(dnew)
    dg = np.cumsum(dnew) - 1
    counts = np.diff(np.append(dstart, death_rows.size))
    rank = np.arange(death_rows.size) - dstart[dg]
    frac = rank / counts[dg] if efron else np.zeros(death_rows.size)
    tied = np.flatnonzero(counts[dg] > 1)
    tnew = np.ones(tied.size, dtype=bool)
    tnew[1:] = dg[tied[1:]] != dg[tied[:-1]]
    entry = {} if start is None else _entry_layout(t_s, start[order], st_s, death_rows)
    return RiskSets(
        order=order,
        time=t_s,
        event=e_s,
        row_stratum=st_s,
        stratified=stratified,
        group_of_row=group_of_row,
        group_last=group_last,
        death_rows=death_rows,
        death_risk_row=group_last[death_group],
        death_group=death_group,
        frac=frac.astype(np.float64),
        tied=tied,
        tied_start=np.flatnonzero(tnew),
        tied_of=np.cumsum(tnew) - 1,
        efron=efron,
        **entry,
    )


def _entry_layout(
    t_s: FloatArray, start_s: FloatArray, st_s: IntArray, death_rows: IntArray
) -> dict[str, Any]:
    """Index arrays that remove the not-yet-entered rows from each risk set.

    Times and starts are ranked together, so "start >= t" and "time <= start" are
    comparisons of integer keys ``stratum * (R + 1) + (R - 1 - rank)`` (ascending key
    = stratum ascending, value descending), answered by ``searchsorted``.
    """
    values, inverse = np.unique(np.concatenate([t_s, start_s]), return_inverse=True)
    n = t_s.size
    big = np.int64(values.size + 1)
    desc = np.int64(values.size - 1) - inverse.astype(np.int64)
    st = st_s.astype(np.int64)
    time_key = st * big + desc[:n]  # ascending along the sorted rows
    start_key = st * big + desc[n:]
    entry_order = np.argsort(start_key, kind="stable")
    entry_sorted = start_key[entry_order]
    # Deaths: the last entry-order row of the stratum with start >= death time.
    dkey = time_key[death_rows]
    last = np.searchsorted(entry_sorted, dkey, side="right") - 1
    first_of_stratum = np.searchsorted(entry_sorted, st[death_rows] * big, side="left")
    death_entry_row = np.where(last >= first_of_stratum, last, -1)
    # Rows: the first sorted row of the stratum whose time is <= the row's start.
    first = np.searchsorted(time_key, start_key, side="left")
    stratum_end = np.searchsorted(time_key, (st + 1) * big, side="left")
    has = first < stratum_end
    return {
        "start": start_s,
        "entry_order": entry_order.astype(np.intp),
        "entry_stratum": st_s[entry_order],
        "death_entry_row": death_entry_row.astype(np.intp),
        "entry_first_row": np.where(has, first, 0).astype(np.intp),
        "entry_has_row": has,
    }


def _cumsum_rows(values: FloatArray, rs: RiskSets, stratum: IntArray | None = None) -> None:
    """In-place cumulative sum along the rows (last axis), restarting at each stratum.

    Strata use pandas' grouped cumulative sum, so no stratum inherits rounding
    error from the totals of the strata sorted before it. ``stratum`` overrides
    the strata of the rows (for another row order).
    """
    if not rs.stratified:
        np.cumsum(values, axis=-1, out=values)
        return
    frame = pd.DataFrame(values.T)
    by = rs.row_stratum if stratum is None else stratum
    values[...] = frame.groupby(by, sort=False).cumsum().to_numpy().T


def _revcumsum_rows(values: FloatArray, rs: RiskSets) -> FloatArray:
    """Reverse cumulative sum over rows (towards earlier times), within stratum."""
    if not rs.stratified:
        return np.asarray(np.cumsum(values[::-1])[::-1], dtype=np.float64)
    series = pd.Series(values[::-1])
    out = series.groupby(rs.row_stratum[::-1], sort=False).cumsum().to_numpy(dtype=np.float64)
    return np.asarray(out[::-1], dtype=np.float64)


def xtwx(xt: FloatArray, w: FloatArray) -> FloatArray:
    """``xt diag(w) xt'`` accumulated over cache-sized blocks of rows."""
    p, n = xt.shape
    out = np.zeros((p, p))
    for start in range(0, n, _CHUNK):  # blocks of rows, not single subjects
        block = xt[:, start : start + _CHUNK]
        out += (block * w[start : start + _CHUNK]) @ block.T
    return out


@dataclass(frozen=True, slots=True)
class DeathTerms:
    """Per-death Efron/Breslow terms at one coefficient vector.

    The arrays are views of the engine's work buffers: they are valid until the
    next evaluation.
    """

    eta: FloatArray  # linear predictor of the sorted rows
    r: FloatArray  # exp(eta - shift)
    shift: float
    s0k: FloatArray  # per death: risk-set sum of r minus the Efron share
    xbar: FloatArray  # per death: risk-set weighted mean of x, shape (p, n_deaths)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Log partial likelihood, score and information at one beta."""

    loglik: float
    score: FloatArray
    information: FloatArray


class CoxEngine:
    """Evaluate the Cox partial likelihood for one sorted design.

    ``xt`` is the centred design, transposed (p x n) and in sorted row order.
    """

    def __init__(self, xt: FloatArray, rs: RiskSets, weights: FloatArray | None = None) -> None:
        self.xt = xt
        self.rs = rs
        p, n = xt.shape
        nd = rs.n_deaths
        #: case weights in sorted row order (None: all 1); see :func:`death_weights`
        self.weights = weights
        self.death_weight = None if weights is None else death_weights(rs, weights)
        if weights is None:
            self.xsum = xt[:, rs.death_rows].sum(axis=1)  # constant in beta
        else:
            self.xsum = xt[:, rs.death_rows] @ weights[rs.death_rows]
        self._stack = np.empty((p + 1, n))
        self._per_death = np.empty((p + 1, nd))
        self._eta = np.empty(n)
        self._r = np.empty(n)
        self._efron_ties = bool(rs.efron and rs.tied.size)

    def terms(self, beta: FloatArray) -> DeathTerms:
        """Risk-set sums and per-death weighted covariate means at ``beta``."""
        rs = self.rs
        # einsum avoids a multithreaded BLAS matrix-vector product, which is much
        # slower than a plain loop for tall, thin matrices on a busy machine.
        eta = np.einsum("ki,k->i", self.xt, beta, out=self._eta)
        shift = float(eta.max())
        r = np.exp(np.subtract(eta, shift, out=self._r), out=self._r)
        if self.weights is not None:
            np.multiply(r, self.weights, out=r)
        stack = self._stack
        stack[0] = r
        np.multiply(self.xt, r, out=stack[1:])
        # Row-by-row 1-d gathers: fancy indexing along the second axis of a 2-d
        # array is several times slower than numpy.take on each row.
        tied_sums = None
        if self._efron_ties:
            rows = rs.death_rows[rs.tied]
            tied_sums = [np.add.reduceat(np.take(row, rows), rs.tied_start) for row in stack]
        entered = None
        if rs.entry_order is not None:
            # Sums over the rows not yet entered (start >= death time), per death.
            entered = np.take(stack, rs.entry_order, axis=1)
            _cumsum_rows(entered, rs, rs.entry_stratum)
        _cumsum_rows(stack, rs)
        per_death = self._per_death
        for k in range(stack.shape[0]):  # p + 1 rows, not subjects
            np.take(stack[k], rs.death_risk_row, out=per_death[k])
        if entered is not None and rs.death_entry_row is not None:
            late = rs.death_entry_row >= 0
            per_death[:, late] -= entered[:, rs.death_entry_row[late]]
        if tied_sums is not None:
            f = rs.frac[rs.tied]
            for k in range(stack.shape[0]):
                per_death[k, rs.tied] -= f * tied_sums[k][rs.tied_of]
        s0k = per_death[0]
        xbar = np.divide(per_death[1:], s0k, out=per_death[1:])
        return DeathTerms(eta=eta, r=r, shift=shift, s0k=s0k, xbar=xbar)

    def information(self, terms: DeathTerms, death_weight: FloatArray | None = None) -> FloatArray:
        """Sum over deaths of ``h_k V_k``: the information matrix when ``h = 1``.

        ``V_k`` is the risk-set covariance of x for death term ``k`` (with its
        Efron share removed); ``death_weight`` gives ``h_k`` (default 1). With
        case weights, each term is further weighted by the mean case weight of its
        tied deaths (R's Efron with case weights).
        """
        if self.death_weight is not None:
            death_weight = (
                self.death_weight if death_weight is None else death_weight * self.death_weight
            )
        inv = 1.0 / terms.s0k
        if death_weight is not None:
            inv = inv * death_weight
        w = terms.r * self.risk_sums(inv)
        xbar_h = terms.xbar if death_weight is None else terms.xbar * death_weight
        info = xtwx(self.xt, w) - xbar_h @ terms.xbar.T
        return np.asarray((info + info.T) / 2.0, dtype=np.float64)

    def risk_sums(self, per_death: FloatArray) -> FloatArray:
        """Per sorted row ``i``: the sum of ``per_death[k]`` over the death terms whose
        risk set contains row ``i``, a tied death counting ``1 - f_k`` in its own tie
        group's term ``k`` (Efron; Breslow: fully)."""
        rs = self.rs
        n = self.xt.shape[1]
        c1 = np.asarray(np.bincount(rs.death_risk_row, per_death, minlength=n), dtype=np.float64)
        c1 = _revcumsum_rows(c1, rs)
        if rs.entry_first_row is not None and rs.entry_has_row is not None:
            # deaths at or before a row's start are not in its risk set
            c1 = c1 - np.where(rs.entry_has_row, c1[rs.entry_first_row], 0.0)
        if self._efron_ties:
            # tied deaths are only partly in the risk set of their own tie group
            tied = rs.tied
            c2 = np.bincount(rs.tied_of, rs.frac[tied] * per_death[tied])
            if not c1.flags.writeable:  # a pandas result may be read-only
                c1 = c1.copy()
            c1[rs.death_rows[tied]] -= c2[rs.tied_of]
        return c1

    def evaluate(self, beta: FloatArray) -> Evaluation:
        """Log partial likelihood (Efron or Breslow), its gradient and information."""
        t = self.terms(beta)
        if self.death_weight is None:
            nd = self.rs.n_deaths
            loglik = float(self.xsum @ beta - nd * t.shift - np.sum(np.log(t.s0k)))
            score = self.xsum - t.xbar.sum(axis=1)
        else:
            dw = self.death_weight
            loglik = float(self.xsum @ beta - dw @ (np.log(t.s0k) + t.shift))
            score = self.xsum - t.xbar @ dw
        return Evaluation(loglik=loglik, score=score, information=self.information(t))

    def score_residuals(self, beta: FloatArray) -> FloatArray:
        """Case-weighted score residuals ``w_i U_i`` at ``beta``, shape (n, p), sorted order.

        R's ``residuals(fit, type = "score", weighted = TRUE)``: for row ``i``,
        ``U_i = delta_i (x_i - abar_i) - sum_k h_k r_i c_ik (x_i - xbar_k) / S0_k``
        over the death terms ``k`` whose risk set contains ``i`` (``c_ik = 1 - f_k``
        for a tied death in its own group, else 1), ``abar_i`` the mean of ``xbar_k``
        over the terms of its tie group and ``h_k`` the mean case weight of the tied
        deaths. The rows sum to the score.
        """
        rs = self.rs
        t = self.terms(beta)
        dw = np.ones(rs.n_deaths) if self.death_weight is None else self.death_weight
        a = dw / t.s0k
        xt = self.xt
        p, n = xt.shape
        out = np.empty((n, p))
        c_a = self.risk_sums(a)
        # mean of xbar_k over the terms of each death's tie group
        gstart = np.flatnonzero(np.r_[True, rs.death_group[1:] != rs.death_group[:-1]])
        gcount = np.diff(np.append(gstart, rs.n_deaths))
        gof = np.cumsum(np.r_[True, rs.death_group[1:] != rs.death_group[:-1]]) - 1
        w = np.ones(n) if self.weights is None else self.weights
        wd = w[rs.death_rows]
        for j in range(p):  # covariates, not subjects
            xbar = t.xbar[j]
            c_b = self.risk_sums(a * xbar)
            col = -t.r * (xt[j] * c_a - c_b)
            abar = (np.add.reduceat(xbar, gstart) / gcount)[gof]
            col[rs.death_rows] += wd * (xt[j, rs.death_rows] - abar)
            out[:, j] = col
        return out


def death_weights(rs: RiskSets, weights: FloatArray) -> FloatArray:
    """Per death term: the mean case weight of the deaths tied with it.

    R's Efron approximation with case weights gives each of the ``d`` terms of a tie
    group the mean weight of its deaths; with Breslow the ``d`` terms are equal, so
    the same weights give the sum of the deaths' weights.
    """
    wd = weights[rs.death_rows]
    new = np.r_[True, rs.death_group[1:] != rs.death_group[:-1]]
    start = np.flatnonzero(new)
    mean = np.add.reduceat(wd, start) / np.diff(np.append(start, wd.size))
    return np.asarray(mean[np.cumsum(new) - 1], dtype=np.float64)


def solve_information(information: FloatArray, rhs: FloatArray) -> FloatArray:
    """Solve ``I a = rhs`` by Cholesky; fall back to a pseudo-inverse when singular."""
    try:
        chol = np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(information, hermitian=True) @ rhs, dtype=np.float64)
    y = np.linalg.solve(chol, rhs)
    return np.asarray(np.linalg.solve(chol.T, y), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class NewtonFit:
    """Result of the Newton-Raphson iteration."""

    beta: FloatArray
    loglik_null: float
    loglik: float
    score_test: float
    iterations: int
    converged: bool
    final: Evaluation
    initial: Evaluation


def _relative_change(old: float, new: float) -> float:
    """``|1 - old/new|``, R's convergence criterion; 0 when the two are equal (a partial
    log-likelihood of exactly 0, where each event is alone in its risk set, would
    otherwise divide by zero) and infinite when only ``new`` is 0."""
    if new == old:
        return 0.0
    if new == 0.0:
        return math.inf
    return abs(1.0 - old / new)


def _finite(ev: Evaluation) -> bool:
    return bool(
        np.isfinite(ev.loglik)
        and np.all(np.isfinite(ev.score))
        and np.all(np.isfinite(ev.information))
    )


def newton_raphson(engine: CoxEngine, *, eps: float, iter_max: int) -> NewtonFit:
    """Maximise the log partial likelihood as R survival 3.5-3 ``coxfit6`` does.

    Start at beta = 0; the score test is ``U(0)' I(0)^-1 U(0)``. Each iteration
    evaluates the proposed beta; it has converged when ``|1 - best/new| <= eps``
    (relative change of the log likelihood). A step that lowers the likelihood
    (or overflows) is pulled back towards the last good beta, more strongly each
    time: ``(new + h * old) / (h + 1)``; otherwise a full Newton step is taken.
    If the iterations run out, the last good beta is returned, not converged.
    """
    beta = np.zeros(engine.xt.shape[0])
    first = engine.evaluate(beta)
    step = solve_information(first.information, first.score)
    score_test = float(first.score @ step)
    best = first.loglik
    last_good = first
    newbeta = beta + step
    halving = 0
    for iteration in range(1, iter_max + 1):
        ev = engine.evaluate(newbeta)
        finite = _finite(ev)
        if finite and _relative_change(best, ev.loglik) <= eps:
            return NewtonFit(
                beta=newbeta,
                loglik_null=first.loglik,
                loglik=ev.loglik,
                score_test=score_test,
                iterations=iteration,
                converged=True,
                final=ev,
                initial=first,
            )
        if not finite or ev.loglik < best:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = ev.loglik
            last_good = ev
            step = solve_information(ev.information, ev.score)
            beta = newbeta
            newbeta = beta + step
    return NewtonFit(
        beta=beta,
        loglik_null=first.loglik,
        loglik=last_good.loglik,
        score_test=score_test,
        iterations=iter_max,
        converged=False,
        final=last_good,
        initial=first,
    )


# --------------------------------------------------------------------------------------
# Concordance (Harrell's C as R's concordance(fit) reports it)
# --------------------------------------------------------------------------------------


def count_before_smaller(
    key: npt.NDArray[np.int64], flag: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each position ``i``: how many ``j < i`` have ``key[j] < key[i]``, and how many
    of those have ``flag[j]``.

    An offline two-dimensional dominance count in one vectorised pass per bit of
    the key (most significant first; about log2 n passes). After the bits above
    ``b`` have been processed, the elements are stably partitioned so that equal
    key prefixes are contiguous and keep their original order (a "wavelet
    matrix"); for an element whose bit ``b`` is 1, the earlier elements of its
    prefix group whose bit ``b`` is 0 are exactly the earlier elements whose key
    first differs from it at bit ``b`` and is smaller. Each pass is a few
    cumulative sums and scatters; int32 keeps the passes memory-light.
    """
    m = key.size
    if m == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nbits = max(int(key.max()).bit_length(), 1)
    it = np.int32 if (m < 2**31 - 1 and nbits < 31) else np.int64
    k: npt.NDArray[Any] = key.astype(it)
    f: npt.NDArray[Any] = flag.astype(it)
    gs: npt.NDArray[Any] = np.zeros(m, dtype=it)  # start of each element's prefix group
    n_all: npt.NDArray[Any] = np.zeros(m, dtype=it)
    n_flag: npt.NDArray[Any] = np.zeros(m, dtype=it)
    ident: npt.NDArray[Any] = np.arange(m, dtype=it)
    pos: npt.NDArray[Any] = np.arange(m, dtype=it)
    zpad: npt.NDArray[Any] = np.zeros(m + 1, dtype=it)
    fpad: npt.NDArray[Any] = np.zeros(m + 1, dtype=it)
    for level in range(nbits - 1, -1, -1):  # one pass per key bit
        bit = ((k >> level) & 1).astype(bool)
        zero = ~bit
        np.cumsum(zero, out=zpad[1:])
        np.cumsum(f * zero, out=fpad[1:])
        zex = zpad[:-1]
        zg = zpad[gs]
        n_all += (zex - zg) * bit
        n_flag += (fpad[:-1] - fpad[gs]) * bit
        zeros = zpad[m]
        newpos = np.where(bit, zeros + pos - zex, zex)
        newgs = np.where(bit, zeros + gs - zg, zg)
        k = _moved(k, newpos)
        f = _moved(f, newpos)
        n_all = _moved(n_all, newpos)
        n_flag = _moved(n_flag, newpos)
        ident = _moved(ident, newpos)
        gs = _moved(newgs, newpos)
    out_all = np.empty(m, dtype=np.int64)
    out_flag = np.empty(m, dtype=np.int64)
    out_all[ident] = n_all
    out_flag[ident] = n_flag
    return out_all, out_flag


def _moved(values: npt.NDArray[Any], newpos: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = np.empty_like(values)
    out[newpos] = values
    return out


@dataclass(frozen=True, slots=True)
class ConcordanceCounts:
    """Pair counts and the infinitesimal-jackknife variance of Harrell's C."""

    concordant: int
    discordant: int
    tied_x: int
    tied_y: int
    tied_xy: int
    estimate: float
    std_err: float


def _runs(*columns: IntArray | FloatArray | BoolArray) -> tuple[IntArray, IntArray]:
    """Run start flags -> (run index of each element, start position of its run)."""
    m = columns[0].size
    new = np.zeros(m, dtype=bool)
    if m:
        new[0] = True
    for col in columns:
        new[1:] |= col[1:] != col[:-1]
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    return run, starts[run]


def concordance(rs: RiskSets, lp: FloatArray) -> ConcordanceCounts:
    """Harrell's C of ``lp`` (higher = earlier death) as R's ``concordance(coxph)``.

    ``lp`` is the linear predictor in the sorted row order of ``rs``.
    Comparable pairs are (death ``i``, subject ``j`` in the same stratum with
    ``time_j > time_i``, or censored at ``time_i``); pairs of deaths at the same
    time are ``tied_y`` and excluded. ``C = (concordant + tied_x / 2) / (concordant
    + discordant + tied_x)``. The standard error is R's infinitesimal jackknife:
    with ``c_i, d_i, t_i`` the concordant, discordant and tied pairs containing
    subject ``i``, ``var(C) = sum_i ((c_i - d_i) - S (c_i + d_i + t_i))^2 / (4 N^2)``
    where ``S`` is Somers' d and ``N`` the number of comparable pairs.

    All counts come from one dominance count over the subjects sorted by stratum,
    descending time (censored before deaths at a tie) and descending ``lp``.
    """
    n = lp.size
    levels, rk = np.unique(lp, return_inverse=True)
    n_rank = np.int64(levels.size)
    distinct_lp = levels.size == n
    time_ties = rs.group_last.size < n
    if time_ties:
        # Within each (stratum, time) tie group: censored first, then lp descending.
        within = (rs.group_of_row.astype(np.int64) * 2 + rs.event) * n_rank + (n_rank - 1 - rk)
        order = np.argsort(within)
        d, g, r = rs.event[order], rs.group_of_row[order], rk[order].astype(np.int64)
        s = rs.row_stratum[order].astype(np.int64)
    else:  # every row is its own tie group: rs's order already is the sequence
        d, g, r = rs.event, rs.group_of_row, rk.astype(np.int64)
        s = rs.row_stratum.astype(np.int64)
    # Earlier strata get larger keys, so only the same stratum counts as "smaller".
    key = (s.max() - s) * n_rank + r if rs.stratified else r
    lt_all, lt_dead = count_before_smaller(key, d)
    idx = np.arange(n, dtype=np.int64)
    di = d.astype(np.int64)
    cum_dead = np.cumsum(di) - di
    # Earlier elements / deaths in the same stratum; deaths in the stratum.
    if rs.stratified:
        _, sstart = _runs(s)
        bef_all = idx - sstart
        bef_dead = cum_dead - cum_dead[sstart]
        tot_dead = np.bincount(s, weights=di).astype(np.int64)[s]
    else:
        bef_all, bef_dead, tot_dead = idx, cum_dead, np.full(n, di.sum())
    if distinct_lp and not rs.stratified:  # key = rank, all distinct: no equal keys
        dead_by_rank = np.zeros(n, dtype=np.int64)
        dead_by_rank[r] = di
        tot_gt = (di.sum() - np.cumsum(dead_by_rank))[r]
        eq_all = eq_dead = np.zeros(n, dtype=np.int64)
        tot_eq = di
    else:
        eq_all, eq_dead, tot_gt, tot_eq = _equal_and_higher(key, di, s, stratified=rs.stratified)
    # Position of each death inside its tie group (sorted by lp descending), and
    # inside its run of deaths with equal lp.
    if time_ties:
        grun, gstart = _runs(g, d)
        gsize = np.bincount(grun)[grun]
        k_in = idx - gstart
    else:
        gsize, k_in = np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if time_ties and not distinct_lp:
        erun, estart = _runs(g, d, r)
        esize = np.bincount(erun)[erun]
        e_in = idx - estart
    else:
        esize, e_in = np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    # Death i against its risk set (earlier tied deaths all have lp >= lp_i).
    dead = np.flatnonzero(d)
    less = lt_all[dead]
    equal = (eq_all - e_in)[dead]
    greater = (bef_all - lt_all - eq_all - (k_in - e_in))[dead]
    # Subject j against the deaths earlier in time (later in this order), minus its
    # own tied deaths.
    da_gt = tot_gt - (bef_dead - lt_dead - eq_dead)
    da_eq = tot_eq - eq_dead - di * (esize - e_in)
    da_all = tot_dead - bef_dead - di * (gsize - k_in)
    c_i = da_gt
    d_i = da_all - da_gt - da_eq
    t_i = da_eq
    c_i[dead] += less
    d_i[dead] += greater
    t_i[dead] += equal
    conc, disc, tied_x = int(less.sum()), int(greater.sum()), int(equal.sum())
    if rs.start is not None:
        # Remove the pairs of a death with a row that has not entered yet (start >= t).
        adj_c, adj_d, adj_t, totals = _not_entered_pairs(rs, rk.astype(np.int64))
        seq = order if time_ties else np.arange(n)
        c_i -= adj_c[seq]
        d_i -= adj_d[seq]
        t_i -= adj_t[seq]
        conc, disc, tied_x = conc - totals[0], disc - totals[1], tied_x - totals[2]
    heads = d & (k_in == 0)
    tied_pairs = int(np.sum(gsize[heads] * (gsize[heads] - 1) // 2))
    heads = d & (e_in == 0)
    tied_xy = int(np.sum(esize[heads] * (esize[heads] - 1) // 2))
    npair = conc + disc + tied_x
    if npair == 0:
        estimate = std_err = float("nan")
    else:
        somer = (conc - disc) / npair
        dfbeta = ((c_i - d_i) - somer * (c_i + d_i + t_i)) / npair
        estimate = (somer + 1.0) / 2.0
        std_err = float(np.sqrt(np.sum(dfbeta**2) / 4.0))
    return ConcordanceCounts(
        concordant=conc,
        discordant=disc,
        tied_x=tied_x,
        tied_y=tied_pairs - tied_xy,
        tied_xy=tied_xy,
        estimate=estimate,
        std_err=std_err,
    )


Int64Array = npt.NDArray[np.int64]


def _smaller_flagged(
    stratum: Int64Array, value_desc: Int64Array, first: BoolArray, keys: Int64Array, span: int
) -> Int64Array:
    """Per element: earlier elements of its stratum with ``first`` set and a smaller key.

    The sequence is stratum ascending, then ``value_desc`` ascending, then ``first``
    elements before the others; within a stratum, "earlier" is that order.
    """
    seq = np.lexsort((~first, value_desc, stratum))
    s = stratum[seq]
    key = (s.max() - s) * span + keys[seq]  # earlier strata get larger keys
    _, flagged = count_before_smaller(key, first[seq])
    out = np.empty(seq.size, dtype=np.int64)
    out[seq] = flagged
    return out


def _not_entered_pairs(
    rs: RiskSets, rank: Int64Array
) -> tuple[Int64Array, Int64Array, Int64Array, tuple[int, int, int]]:
    """Pairs (death at ``t``, row of its stratum with ``start >= t``) by linear predictor.

    :func:`concordance` counts every row with a later end as comparable; with entry
    times the rows not yet entered are not in the risk set (R's ``concordance`` for
    ``(start, stop]`` data compares a death with its risk set). Returns, per sorted
    row, the concordant, discordant and tied-in-lp pairs to remove (each pair counts
    for both of its rows) and the three totals.
    """
    assert rs.start is not None
    n = rank.size
    n_rank = int(rank.max()) + 1
    span = 2 * n_rank
    _, inverse = np.unique(np.concatenate([rs.time, rs.start]), return_inverse=True)
    t_rank, s_rank = inverse[:n].astype(np.int64), inverse[n:].astype(np.int64)
    st = rs.row_stratum.astype(np.int64)
    dead = rs.death_rows
    nd = dead.size
    both_st = np.concatenate([st, st[dead]])
    rows_first = np.concatenate([np.ones(n, dtype=bool), np.zeros(nd, dtype=bool)])
    # Deaths: rows entering at or after the death (start >= t), by descending value.
    desc = np.concatenate([-s_rank, -t_rank[dead]])
    r_both = np.concatenate([rank, rank[dead]])
    lt = _smaller_flagged(both_st, desc, rows_first, 2 * r_both + rows_first, span)[n:]
    le = _smaller_flagged(both_st, desc, rows_first, 2 * r_both + ~rows_first, span)[n:]
    later = _count_flagged_before(both_st, desc, rows_first)[n:]
    d_conc, d_tied = lt, le - lt
    d_disc = later - le
    # Rows: deaths at or before the row's start (t <= start), by ascending value.
    deaths_first = ~rows_first[::-1]  # deaths then rows
    st2 = np.concatenate([st[dead], st])
    asc = np.concatenate([t_rank[dead], s_rank])
    rr = (n_rank - 1) - np.concatenate([rank[dead], rank])  # reversed: smaller = higher lp
    gt = _smaller_flagged(st2, asc, deaths_first, 2 * rr + deaths_first, span)[nd:]
    ge = _smaller_flagged(st2, asc, deaths_first, 2 * rr + ~deaths_first, span)[nd:]
    before = _count_flagged_before(st2, asc, deaths_first)[nd:]
    adj_c = gt.copy()
    adj_t = ge - gt
    adj_d = before - ge
    adj_c[dead] += d_conc
    adj_d[dead] += d_disc
    adj_t[dead] += d_tied
    totals = (int(d_conc.sum()), int(d_disc.sum()), int(d_tied.sum()))
    return adj_c, adj_d, adj_t, totals


def _count_flagged_before(stratum: Int64Array, value: Int64Array, first: BoolArray) -> Int64Array:
    """Per element: earlier elements of its stratum with ``first`` set (same order as
    :func:`_smaller_flagged`)."""
    seq = np.lexsort((~first, value, stratum))
    s = stratum[seq]
    f = first[seq].astype(np.int64)
    cum = np.cumsum(f) - f
    _, sstart = _runs(s)
    out = np.empty(seq.size, dtype=np.int64)
    out[seq] = cum - cum[sstart]
    return out


def _equal_and_higher(
    key: Int64Array, dead: Int64Array, stratum: Int64Array, *, stratified: bool
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array]:
    """Per element: earlier elements and earlier deaths with an equal key, and deaths
    (any time) of the same stratum with a higher / equal linear predictor.

    ``key`` orders the linear predictor within stratum (ascending) and separates strata.
    """
    n = key.size
    # Group equal keys, keeping the sequence order inside a group.
    if int(key.max()) < (2**62) // max(n, 1):
        by_key = np.argsort(key * n + np.arange(n, dtype=np.int64))
    else:  # pragma: no cover - astronomically many strata x distinct predictors
        by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    d_sorted = dead[by_key]
    new = np.ones(n, dtype=bool)
    new[1:] = sorted_key[1:] != sorted_key[:-1]
    run = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    deaths_in_run = np.add.reduceat(d_sorted, first)
    # Deaths in later runs of the same stratum = higher linear predictor (exact: integers).
    after = np.cumsum(deaths_in_run[::-1])[::-1] - deaths_in_run  # all later runs
    if stratified:
        run_stratum = stratum[by_key][first]
        last_of_stratum = np.append(np.flatnonzero(np.diff(run_stratum) != 0), first.size - 1)
        snew = np.ones(first.size, dtype=bool)
        snew[1:] = run_stratum[1:] != run_stratum[:-1]
        srun = np.cumsum(snew) - 1
        after = after - after[last_of_stratum][srun]
    tot_gt = np.empty(n, dtype=np.int64)
    tot_gt[by_key] = after[run]
    tot_eq = np.empty(n, dtype=np.int64)
    tot_eq[by_key] = deaths_in_run[run]
    start = first[run]
    eq_all = np.empty(n, dtype=np.int64)
    eq_all[by_key] = np.arange(n) - start
    cum = np.cumsum(d_sorted) - d_sorted
    eq_dead = np.empty(n, dtype=np.int64)
    eq_dead[by_key] = cum - cum[start]
    return eq_all, eq_dead, tot_gt, tot_eq


__all__ = [
    "ConcordanceCounts",
    "CoxEngine",
    "DeathTerms",
    "Evaluation",
    "NewtonFit",
    "RiskSets",
    "build_risk_sets",
    "concordance",
    "count_before_smaller",
    "death_weights",
    "newton_raphson",
    "solve_information",
    "xtwx",
]
