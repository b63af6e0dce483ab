"""Fine–Gray engine: weighted risk sets by sorted cumulative sums (``cmprsk::crr`` conventions).

For the subdistribution hazard of cause 1 at a cause-1 event time :math:`t`, the risk set is

* every subject with :math:`T_i \\ge t` (weight 1), plus
* every subject with a competing event at :math:`T_i < t`, with weight :math:`G(t-)/G(T_i-)`,

where :math:`G` is the Kaplan–Meier estimate of the censoring distribution. With the data
sorted by time, the first part is a reverse cumulative sum and the second is
:math:`G(t-)` times a forward cumulative sum of :math:`r_i / G(T_i-)` over competing events,
so each Newton iteration costs :math:`O(n p^2)` after one sort, and the data are never
expanded (``survival::finegray`` would create one row per subject and later event time).

Every quantity mirrors the Fortran routines of cmprsk 2.2-11 (``crrfsv`` for the
likelihood, score and information; ``crrvv`` for the sandwich variance), re-derived as
cumulative sums; the derivation is in ``docs/methods/competing-risks.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: crr's convergence criterion ``max|score|·max(|b|, 1) < max(|f|, 1)·gtol``, tighter than
#: crr's default 1e-6.
GTOL = 1e-10
MAX_ITER = 50
_MAX_HALVING = 20


@dataclass(frozen=True, slots=True)
class FineGrayFit:
    """Raw output of :func:`fit_fine_gray`."""

    coef: FloatArray
    covariance: FloatArray
    information: FloatArray
    information_null: FloatArray
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int


@dataclass(frozen=True, slots=True)
class _Data:
    """Time-sorted inputs and everything that does not depend on the coefficients."""

    x: FloatArray  # (n, p) centred covariates
    is1: BoolArray  # event of the cause of interest
    is2: BoolArray  # competing event
    start: IntArray  # first sorted index of each subject's time block
    gm: FloatArray  # G(T_i-) as crr evaluates it
    ev_start: IntArray  # first sorted index of each distinct cause-1 time
    ev_d: FloatArray  # number of cause-1 events at each distinct cause-1 time
    ev_g: FloatArray  # G(t-) at each distinct cause-1 time
    ev_le: IntArray  # per subject: number of distinct cause-1 times <= T_i
    sum_x1: FloatArray  # sum of x over cause-1 events


def _censoring_km(time: FloatArray, censored: BoolArray) -> tuple[FloatArray, IntArray]:
    """G at each subject's time as ``crr`` evaluates it, and each subject's block start.

    ``crr`` interpolates ``survfit(Surv(ftime, cenind) ~ 1)`` as a step function at
    ``ftime * (1 - 100 * .Machine$double.eps)``: just before each time, except at 0, where
    the point equals 0 and the censorings at 0 are included.
    """
    n = time.size
    new = np.r_[True, time[1:] != time[:-1]]
    start_blocks = np.flatnonzero(new)
    block = np.cumsum(new) - 1
    n_risk = (n - start_blocks).astype(np.float64)
    n_cens = np.bincount(block, weights=censored.astype(np.float64), minlength=start_blocks.size)
    g_at = np.cumprod(1.0 - n_cens / n_risk)
    g_before = np.r_[1.0, g_at[:-1]]
    g_block = np.where(time[start_blocks] == 0, g_at, g_before)
    return g_block[block], start_blocks[block].astype(np.int64)


def _setup(time: FloatArray, status: IntArray, x: FloatArray) -> _Data:
    order = np.argsort(time, kind="stable")
    time, status, x = time[order], status[order], x[order]
    x = x - x.mean(axis=0)  # the partial likelihood is invariant to centring; this is for exp()
    is1 = status == 1
    gm, start = _censoring_km(time, status == 0)
    ev_start = np.unique(start[is1])
    ev_time = time[ev_start]
    ev_d = np.bincount(np.searchsorted(ev_time, time[is1]), minlength=ev_time.size)
    return _Data(
        x=x,
        is1=is1,
        is2=status == 2,
        start=start,
        gm=gm,
        ev_start=ev_start,
        ev_d=ev_d.astype(np.float64),
        ev_g=gm[ev_start],
        ev_le=np.searchsorted(ev_time, time, side="right").astype(np.int64),
        sum_x1=x[is1].sum(axis=0),
    )


@dataclass(frozen=True, slots=True)
class _Eval:
    """Objective (negative log pseudo-likelihood), its gradient and Hessian at ``b``."""

    f: float
    grad: FloatArray
    hess: FloatArray
    r: FloatArray  # exp(x b - shift) per subject
    s0: FloatArray  # risk-set sums at distinct cause-1 times (same shift)
    xbar: FloatArray  # (k, p) weighted covariate means at distinct cause-1 times


def _risk_sums(d: _Data, r: FloatArray, values: FloatArray) -> FloatArray:
    """``sum_{T_i >= t} r_i v_i + G(t-) sum_{T_i < t, competing} r_i v_i / G(T_i-)``.

    ``values`` is (n, q); the result is (k, q) over distinct cause-1 times.
    """
    weighted = r[:, None] * values
    at_risk = np.cumsum(weighted[::-1], axis=0)[::-1]
    competing = np.where(d.is2[:, None], weighted / d.gm[:, None], 0.0)
    before = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(competing, axis=0)])
    out: FloatArray = at_risk[d.ev_start] + d.ev_g[:, None] * before[d.ev_start]
    return out


def _evaluate(d: _Data, b: FloatArray, *, derivatives: bool = True) -> _Eval:
    eta = d.x @ b
    shift = float(eta.max())
    r = np.exp(eta - shift)
    sums = _risk_sums(d, r, np.column_stack([np.ones(r.size), d.x]))
    s0 = sums[:, 0]
    f = -(float(d.sum_x1 @ b) - float(d.ev_d @ (np.log(s0) + shift)))
    p = b.size
    if not derivatives or not math.isfinite(f):
        empty = np.zeros((0, p))
        return _Eval(f=f, grad=np.zeros(p), hess=np.zeros((p, p)), r=r, s0=s0, xbar=empty)
    xbar = sums[:, 1:] / s0[:, None]
    grad = -(d.sum_x1 - d.ev_d @ xbar)
    # sum_k d_k S2_k / S0_k = X' diag(r w) X with w_i = (time-at-risk part) + (competing part).
    a0, b0 = _per_subject(d, (d.ev_d / s0)[:, None], (d.ev_d * d.ev_g / s0)[:, None])
    w = a0[:, 0] + np.where(d.is2, b0[:, 0] / d.gm, 0.0)
    hess = (d.x * (r * w)[:, None]).T @ d.x - (xbar * d.ev_d[:, None]).T @ xbar
    return _Eval(f=f, grad=grad, hess=hess, r=r, s0=s0, xbar=xbar)


def _per_subject(d: _Data, upto: FloatArray, after: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per subject: sum of ``upto`` over cause-1 times <= T_i, and of ``after`` over > T_i."""
    cum_upto = np.vstack([np.zeros((1, upto.shape[1])), np.cumsum(upto, axis=0)])
    cum_after = np.vstack([np.zeros((1, after.shape[1])), np.cumsum(after, axis=0)])
    return cum_upto[d.ev_le], cum_after[-1] - cum_after[d.ev_le]


def _newton(d: _Data, p: int) -> tuple[FloatArray, _Eval, bool, int]:
    """Newton–Raphson with crr's step halving and convergence criterion."""
    b = np.zeros(p)
    cur = _evaluate(d, b)
    for iteration in range(MAX_ITER + 1):
        if np.max(np.abs(cur.grad) * np.maximum(np.abs(b), 1.0)) < max(abs(cur.f), 1.0) * GTOL:
            return b, cur, True, iteration
        if iteration == MAX_ITER:
            break
        try:
            step = -np.linalg.solve(cur.hess, cur.grad)
        except np.linalg.LinAlgError:
            break
        slope = float(step @ cur.grad)
        # crr's Armijo rule, plus the rounding noise of f: near the optimum a full Newton
        # step can raise f by a few ulps, which would otherwise force needless halvings.
        noise = 64 * np.finfo(float).eps * max(abs(cur.f), 1.0)
        for _ in range(_MAX_HALVING + 1):
            trial = _evaluate(d, b + step, derivatives=False)
            if math.isfinite(trial.f) and trial.f <= cur.f + 1e-4 * slope + noise:
                break
            step = step * 0.5
        else:
            return b, cur, False, iteration
        if np.max(np.abs(step)) < 1e-15 * max(1.0, float(np.max(np.abs(b)))):
            b = b + step
            return b, _evaluate(d, b), True, iteration + 1
        b = b + step
        cur = _evaluate(d, b)
    return b, cur, False, MAX_ITER


def _score_residuals(d: _Data, ev: _Eval) -> FloatArray:
    """Per-subject influence terms ``eta_i + psi_i`` of crr's sandwich (``crrvv``)."""
    x, r, s0, xbar = d.x, ev.r, ev.s0, ev.xbar
    n, p = x.shape
    dk = d.ev_d
    upto = np.column_stack([dk / s0, dk[:, None] * xbar / s0[:, None]])
    gk = dk * d.ev_g / s0
    after = np.column_stack([gk, gk[:, None] * xbar])
    a, bsum = _per_subject(d, upto, after)
    # eta_i: dN_i part minus the d Lambda part of the subject's weighted at-risk process.
    own = np.zeros((n, p))
    k_own = d.ev_le - 1
    own[d.is1] = x[d.is1] - xbar[k_own[d.is1]]
    eta = own - r[:, None] * (x * a[:, :1] - a[:, 1:])
    comp = np.where(d.is2, r / d.gm, 0.0)
    eta -= comp[:, None] * (x * bsum[:, :1] - bsum[:, 1:])
    return eta + _psi(d, ev, gk, after[:, 1:])


def _psi(d: _Data, ev: _Eval, gk: FloatArray, gkx: FloatArray) -> FloatArray:
    """Censoring-martingale part ``psi_i`` of crr's influence function."""
    x, r = d.x, ev.r
    n, p = x.shape
    censored = ~(d.is1 | d.is2)
    block_first = d.start == np.arange(n)
    cens_blocks = np.flatnonzero(block_first)
    n_cens = np.add.reduceat(censored.astype(np.float64), cens_blocks)
    keep = n_cens > 0
    u_start = cens_blocks[keep]
    if u_start.size == 0:
        return np.zeros((n, p))
    c_u = n_cens[keep]
    y_u = (n - u_start).astype(np.float64)
    comp = np.where(d.is2, r / d.gm, 0.0)
    ccum = np.vstack(
        [np.zeros((1, p + 1)), np.cumsum(comp[:, None] * np.column_stack([np.ones(n), x]), axis=0)]
    )
    c0, c1 = ccum[u_start, 0], ccum[u_start, 1:]
    # P(u): sums over cause-1 event times >= u.
    ev_before_u = np.searchsorted(d.ev_start, u_start, side="left")
    rev = np.vstack(
        [np.cumsum(np.column_stack([gk, gkx])[::-1], axis=0)[::-1], np.zeros((1, p + 1))]
    )
    p0, p1 = rev[ev_before_u, 0], rev[ev_before_u, 1:]
    q = c1 * p0[:, None] - c0[:, None] * p1
    cum_psi = np.vstack([np.zeros((1, p)), -np.cumsum(q * (c_u / y_u**2)[:, None], axis=0)])
    n_u_le = np.searchsorted(u_start, d.start, side="right")
    psi = cum_psi[n_u_le]
    own = censored
    psi[own] += q[n_u_le[own] - 1] / y_u[n_u_le[own] - 1][:, None]
    return psi


def fit_fine_gray(time: FloatArray, status: IntArray, x: FloatArray) -> FineGrayFit:
    """Fit the Fine–Gray model; ``status`` is 0 censored, 1 cause of interest, 2 competing."""
    d = _setup(
        np.asarray(time, dtype=np.float64), np.asarray(status), np.asarray(x, dtype=np.float64)
    )
    p = d.x.shape[1]
    b, ev, converged, iterations = _newton(d, p)
    null = _evaluate(d, np.zeros(p))
    try:
        inv = np.linalg.inv(ev.hess)
    except np.linalg.LinAlgError:
        inv = np.full((p, p), np.nan)
    u = _score_residuals(d, ev)
    covariance = inv @ (u.T @ u) @ inv.T
    return FineGrayFit(
        coef=b,
        covariance=covariance,
        information=ev.hess,
        information_null=null.hess,
        loglik=-ev.f,
        loglik_null=-null.f,
        converged=converged,
        iterations=iterations,
    )
