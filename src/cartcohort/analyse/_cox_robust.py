"""Robust (sandwich) variance and case-weighted concordance for the Cox model (private).

The robust variance is R's ``coxph(..., robust = TRUE)`` / ``cluster(id)``: the
case-weighted dfbeta residuals ``D = (w_i U_i) V`` (``U_i`` the score residuals,
``V`` the inverse information), summed within clusters, give ``D' D``. The robust
score test is ``u' (S' S)^-1 u`` with ``S`` the weighted score residuals at
beta = 0, summed within clusters, and ``u`` their column sums (R's ``fit$rscore``).

:func:`pairwise_concordance` is R's ``concordance()`` with case weights and
clusters: each comparable pair (death ``i``, row ``j``) counts ``w_i w_j``, and the
infinitesimal-jackknife influence of row ``i`` is
``w_i ((c_i - d_i) - S (c_i + d_i + t_i)) / N``, summed within clusters. It
compares every death with every row of its stratum in blocks, O(n x deaths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cartcohort.analyse._cox_engine import CoxEngine, RiskSets, solve_information
from cartcohort.analyse._weights import sum_within

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_BLOCK = 4_000_000  # pair comparisons per block


@dataclass(frozen=True, slots=True)
class RobustVariance:
    """Sandwich variance of the coefficients and the robust score test statistic."""

    covariance: FloatArray
    score_statistic: float
    n_clusters: int


def robust_variance(
    engine: CoxEngine, beta: FloatArray, naive: FloatArray, clusters: IntArray | None
) -> RobustVariance:
    """R's robust variance ``crossprod(residuals(fit, "dfbeta", collapse, weighted = TRUE))``.

    ``clusters`` are the cluster codes in the engine's sorted row order (None: each
    row is its own cluster).
    """
    dfbeta = sum_within(engine.score_residuals(beta) @ naive, clusters)
    cov = dfbeta.T @ dfbeta
    cov = (cov + cov.T) / 2.0
    null = sum_within(engine.score_residuals(np.zeros_like(beta)), clusters)
    u = null.sum(axis=0)
    statistic = float(u @ solve_information(null.T @ null, u))
    return RobustVariance(
        covariance=np.asarray(cov, dtype=np.float64),
        score_statistic=statistic,
        n_clusters=int(dfbeta.shape[0]),
    )


@dataclass(frozen=True, slots=True)
class WeightedConcordance:
    """Weighted pair sums and the clustered infinitesimal-jackknife standard error."""

    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    estimate: float
    std_err: float


def pairwise_concordance(
    rs: RiskSets, lp: FloatArray, weights: FloatArray | None, clusters: IntArray | None
) -> WeightedConcordance:
    """Harrell's C as R's ``concordance(fit)`` for a fit with case weights or clusters.

    All arrays are in the sorted row order of ``rs``. A death ``i`` is compared with
    every row ``j`` of its stratum at risk at its time (``time_j > time_i``, or
    censored at ``time_i``; with entry times also ``start_j < time_i``); two deaths
    at the same time are ``tied_y`` (``tied_xy`` when their ``lp`` are equal too).
    """
    n = lp.size
    w = np.ones(n) if weights is None else weights
    dead = rs.death_rows
    infl = np.zeros((3, n))  # concordant, discordant, tied_x per row
    totals = np.zeros(5)
    step = max(1, _BLOCK // max(n, 1))
    for first in range(0, dead.size, step):  # blocks of deaths, not single subjects
        rows = dead[first : first + step]
        ti = rs.time[rows][:, None]
        same = rs.row_stratum[rows][:, None] == rs.row_stratum[None, :]
        later = (rs.time[None, :] > ti) | ((rs.time[None, :] == ti) & ~rs.event[None, :])
        comparable = same & later
        if rs.start is not None:
            comparable &= rs.start[None, :] < ti
        tie_y = same & (rs.time[None, :] == ti) & rs.event[None, :]
        tie_y[np.arange(rows.size), rows] = False
        diff = lp[rows][:, None] - lp[None, :]
        wi = w[rows][:, None]
        pair_w = wi * w[None, :]
        for k, kind in enumerate((diff > 0, diff < 0, diff == 0)):
            mask = comparable & kind
            totals[k] += float(np.sum(pair_w, where=mask))
            infl[k] += np.sum(np.where(mask, wi, 0.0), axis=0)  # j's partner weight
            infl[k, rows] += np.sum(np.where(mask, w[None, :], 0.0), axis=1)
        tied_pairs = float(np.sum(pair_w, where=tie_y)) / 2.0
        tied_xy = float(np.sum(pair_w, where=tie_y & (diff == 0))) / 2.0
        totals[3] += tied_pairs - tied_xy
        totals[4] += tied_xy
    npair = float(totals[:3].sum())
    if npair == 0:
        estimate = std_err = float("nan")
    else:
        somer = (totals[0] - totals[1]) / npair
        dfbeta = w * ((infl[0] - infl[1]) - somer * infl.sum(axis=0)) / npair
        dfbeta = sum_within(dfbeta[:, None], clusters)[:, 0]
        estimate = (somer + 1.0) / 2.0
        std_err = float(np.sqrt(np.sum(dfbeta**2) / 4.0))
    return WeightedConcordance(
        concordant=float(totals[0]),
        discordant=float(totals[1]),
        tied_x=float(totals[2]),
        tied_y=float(totals[3]),
        tied_xy=float(totals[4]),
        estimate=float(estimate),
        std_err=std_err,
    )


__all__ = ["RobustVariance", "WeightedConcordance", "pairwise_concordance", "robust_variance"]
