"""Proportional-hazards test of R survival >= 3.0 ``cox.zph`` (private).

For each covariate column ``x_j`` the test asks whether adding ``g(t) * x_j`` to
the fitted model improves it, with ``g`` a transform of time centred at its mean
over the deaths. It is the score test of the 2p-parameter model
``(beta, gamma)`` at ``(beta_hat, 0)``: the score for ``beta`` is zero at the
fit, the score for ``gamma`` is ``U_g = sum_k g_k (x_k - xbar_k)`` over the
deaths, and the information is the full 2p x 2p matrix

    [ sum V_k        sum g_k V_k   ]
    [ sum g_k V_k    sum g_k^2 V_k ]

with ``V_k`` the Efron/Breslow risk-set covariance of death term ``k``. A set of
columns ``J`` (one variable, or all for ``GLOBAL``) is tested with the first p
rows plus the rows ``p + J``: ``T = u' I[kk, kk]^-1 u`` on ``|J|`` degrees of
freedom. This is R's ``zph1.c`` algorithm (survival 3.x), not the older
Grambsch-Therneau approximation based on scaled Schoenfeld residuals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.analyse._cox_engine import CoxEngine
from cartcohort.analyse._dist import chi2_sf, rankdata
from cartcohort.errors import AnalysisError, DegenerateDataError

FloatArray = npt.NDArray[np.float64]


def time_transform(
    time: FloatArray,
    event: npt.NDArray[np.bool_],
    transform: str,
    start: FloatArray | None = None,
) -> FloatArray:
    """``g(t)`` before centring, for every row (any order).

    ``km`` is ``1 - S(t-)`` with ``S`` the Kaplan-Meier estimate of all rows,
    ignoring strata (as R); with entry times ``start`` a row is at risk on
    ``(start, time]`` (R's ``survfitKM`` on ``Surv(start, stop, event)``).
    ``rank`` is the average rank of the time among all rows; ``identity`` and
    ``log`` are the time itself and its logarithm.
    """
    if transform == "identity":
        return time.astype(np.float64)
    if transform == "log":
        if np.any(time <= 0):
            msg = (
                "`transform='log'` needs positive times, but some times are 0; "
                "use transform='km' (R's default) or 'rank'."
            )
            raise AnalysisError(msg)
        return np.log(time)
    if transform == "rank":
        return np.asarray(rankdata(time), dtype=np.float64)
    # Kaplan-Meier just before each time.
    uniq, inverse = np.unique(time, return_inverse=True)
    at_time = np.bincount(inverse, minlength=uniq.size)
    deaths = np.bincount(inverse, weights=event.astype(np.float64), minlength=uniq.size)
    at_risk = np.cumsum(at_time[::-1])[::-1].astype(np.float64)
    if start is not None:  # not yet entered: start >= u
        at_risk -= start.size - np.searchsorted(np.sort(start), uniq, side="left")
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.concatenate(([1.0], surv[:-1]))
    return np.asarray(1.0 - before[inverse], dtype=np.float64)


def zph_table(
    engine: CoxEngine,
    beta: FloatArray,
    transform: str,
    groups: Sequence[tuple[str, Sequence[int]]],
) -> pd.DataFrame:
    """Score tests of ``g(t) * x`` per group of columns plus ``GLOBAL``.

    ``groups`` gives (row name, design column indices) per row of the table.
    """
    rs = engine.rs
    xt = engine.xt
    p = xt.shape[0]
    g_row = time_transform(rs.time, rs.event, transform, rs.start)
    g_row = g_row - g_row[rs.event].mean()
    g = g_row[rs.death_rows]
    terms = engine.terms(beta)
    u = ((xt[:, rs.death_rows] - terms.xbar) * g).sum(axis=1)
    i11 = engine.information(terms)
    i12 = engine.information(terms, g)
    i22 = engine.information(terms, g * g)
    imat = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for name, cols in [*groups, ("GLOBAL", list(range(p)))]:
        kk = list(range(p)) + [p + j for j in cols]
        vec = np.concatenate([np.zeros(p), u[list(cols)]])
        statistic = _score_statistic(imat[np.ix_(kk, kk)], vec, name)
        df = len(cols)
        rows.append(
            {
                "term": name,
                "statistic": statistic,
                "df": df,
                "p_value": float(chi2_sf(statistic, df)),
            }
        )
    return pd.DataFrame(rows, columns=["term", "statistic", "df", "p_value"])


def _score_statistic(info: FloatArray, vec: FloatArray, name: str) -> float:
    """``vec' info^-1 vec``; a named error when ``info`` is (numerically) singular.

    Singularity is judged on the matrix scaled to unit diagonal, so the time unit of
    ``g(t)`` does not matter. R would return an arbitrary number or fail in solve().
    """
    diag = np.diag(info)
    singular = bool(np.any(diag <= 0))
    if not singular:
        scale = 1.0 / np.sqrt(diag)
        singular = bool(np.linalg.cond(info * np.outer(scale, scale)) > 1e12)
    if singular:
        msg = (
            f"The proportional-hazards test for {name!r} is undefined: its information "
            "matrix is singular (g(t) * x does not vary over the risk sets at the event "
            "times, e.g. all events share one time or x is constant after the first "
            "event). It needs events at two or more distinct times with x varying."
        )
        raise DegenerateDataError(msg)
    return float(vec @ np.linalg.solve(info, vec))


__all__ = ["time_transform", "zph_table"]
