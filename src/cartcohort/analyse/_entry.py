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


__all__ = ["as_start"]
