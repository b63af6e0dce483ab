"""The few distribution functions the estimators need, from ``scipy.special``.

``scipy.stats`` computes these with exactly the ``scipy.special`` functions used here
(``chi2.sf`` is ``chdtrc``, ``norm.ppf`` is ``ndtri``, ``t.sf`` is ``stdtr(df, -x)`` ...),
so the numbers are the same to the last bit (``tests/unit/analyse/test_dist.py``), but
importing ``scipy.stats`` builds a hundred distribution objects and takes about 0.4 s,
a fifth of the start-up of ``cartcohort report``. The wrappers keep ``scipy.stats``'s
answers at the edges the bare special functions treat differently: a statistic below
the support gives a survival probability of 1, and a non-positive ``df`` gives NaN.
Ranks come from pandas (average ranks for ties, as ``scipy.stats.rankdata``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

FloatLike = Any  # a float or an array of floats


def _sf(value: Any, x: FloatLike, df_ok: Any) -> Any:
    out = np.where(np.asarray(x) < 0, 1.0, value)
    out = np.where(df_ok, out, np.nan)
    return out[()] if out.ndim == 0 else out


def chi2_sf(x: FloatLike, df: FloatLike) -> Any:
    """P(X > x) for a chi-square with ``df`` degrees of freedom."""
    with np.errstate(invalid="ignore"):
        return _sf(special.chdtrc(df, x), x, np.asarray(df) > 0)


def chi2_ppf(q: FloatLike, df: FloatLike) -> Any:
    """The ``q`` quantile of a chi-square with ``df`` degrees of freedom."""
    return 2.0 * special.gammaincinv(np.asarray(df) / 2.0, q)


def norm_cdf(x: FloatLike) -> Any:
    """Standard normal distribution function."""
    return special.ndtr(x)


def norm_sf(x: FloatLike) -> Any:
    """Standard normal upper tail, P(Z > x)."""
    return special.ndtr(-np.asarray(x))[()]


def norm_ppf(q: FloatLike) -> Any:
    """Standard normal quantile."""
    return special.ndtri(q)


def t_cdf(x: FloatLike, df: FloatLike) -> Any:
    """Student t distribution function."""
    return special.stdtr(df, x)


def t_sf(x: FloatLike, df: FloatLike) -> Any:
    """Student t upper tail."""
    return special.stdtr(df, -np.asarray(x))[()]


def t_ppf(q: FloatLike, df: FloatLike) -> Any:
    """Student t quantile."""
    return special.stdtrit(df, q)


def f_sf(x: FloatLike, df1: FloatLike, df2: FloatLike) -> Any:
    """P(F > x) for an F distribution with ``(df1, df2)`` degrees of freedom."""
    ok = (np.asarray(df1) > 0) & (np.asarray(df2) > 0)
    with np.errstate(invalid="ignore"):
        return _sf(special.fdtrc(df1, df2, x), x, ok)


def rankdata(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Ranks 1..n, ties given their average rank."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    ranks: npt.NDArray[np.float64] = (
        pd.Series(flat).rank(method="average").to_numpy(dtype=np.float64)
    )
    return ranks


__all__ = [
    "chi2_ppf",
    "chi2_sf",
    "f_sf",
    "norm_cdf",
    "norm_ppf",
    "norm_sf",
    "rankdata",
    "t_cdf",
    "t_ppf",
    "t_sf",
]
