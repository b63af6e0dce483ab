"""Entry (interval start) times shared by the survival estimators (private).

R's ``Surv(start, stop, event)``: a row is at risk at ``t`` when
``start < t <= stop``. One check for every estimator that accepts ``start=``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.analyse._data import as_time
from cartcohort.errors import AnalysisError

FloatArray = npt.NDArray[np.float64]


def as_start(values: pd.Series, stop: FloatArray, *, start: str, time: str) -> FloatArray:
    """Check and convert entry times: numeric, finite, >= 0 and below the row's ``time``.

    Raises
    ------
    AnalysisError
        Non-numeric, negative or infinite starts, or ``start >= time`` on some row
        (R's ``Surv`` gives "Stop time must be > start time" and drops the row;
        here it is an error, because such a row is a data error).
    """
    arr = as_time(values, start)
    bad = arr >= stop
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        msg = (
            f"Start column {start!r} must be below the time column {time!r} on every row "
            f"(an interval (start, time] must not be empty); rows {rows} have start "
            f"{arr[bad][:5].tolist()} and time {stop[bad][:5].tolist()}. A subject who "
            "enters at the time of its event or censoring contributes nothing; remove the row."
        )
        raise AnalysisError(msg)
    return arr


def count_not_entered(
    entry: FloatArray,
    entry_group: npt.NDArray[np.int64],
    at: FloatArray,
    at_group: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Per query ``(at, at_group)``: rows of that group with ``entry >= at``.

    These rows have not entered yet, so they are not at risk at ``at``: the number
    at risk with entry times is the right-censored count (``time >= at``) minus this.
    Entries and query times are ranked together, so each count is two
    ``searchsorted`` calls on integer keys ``group * (R + 1) + rank``.
    """
    n = entry.size
    values, inverse = np.unique(np.concatenate([entry, at]), return_inverse=True)
    span = np.int64(values.size + 1)
    rank = inverse.astype(np.int64)
    keys = np.sort(entry_group.astype(np.int64) * span + rank[:n])
    base = at_group.astype(np.int64) * span
    upper = np.searchsorted(keys, base + span - 1, side="right")
    lower = np.searchsorted(keys, base + rank[n:], side="left")
    return np.asarray(upper - lower, dtype=np.int64)


__all__ = ["as_start", "count_not_entered"]
