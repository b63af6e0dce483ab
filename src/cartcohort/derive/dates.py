"""Study days and the one day-to-month conversion used everywhere in cartcohort.

Times are stored as integer days since the first CAR-T infusion (day 0), as the data
standard prescribes (:mod:`cartcohort.model.standard`). Durations are computed in
integer days and converted to months or years only for display or for reporting a
time unit, always with :data:`DAYS_PER_MONTH` / :data:`DAYS_PER_YEAR` defined here
(house style B3). Working in integer days avoids the "tied but not quite tied"
floating-point times that arise when months are computed before ties are formed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Days in an average Julian year (leap years included).
DAYS_PER_YEAR: float = 365.25
#: Days in an average month, ``365.25 / 12 = 30.4375``; the ONLY definition in the package.
DAYS_PER_MONTH: float = DAYS_PER_YEAR / 12

_FloatArray = npt.NDArray[np.float64]


def days_to_months(
    days: float | pd.Series | npt.NDArray[np.generic],
) -> float | pd.Series | _FloatArray:
    """Convert days to months with :data:`DAYS_PER_MONTH`.

    Parameters
    ----------
    days
        A number of days, or a Series/array of them (missing values stay missing).

    Returns
    -------
    float or pandas.Series or numpy.ndarray
        Months, as floats; the same container type as the input.

    Examples
    --------
    >>> days_to_months(365.25)
    12.0
    """
    if isinstance(days, pd.Series):
        return days.astype("Float64") / DAYS_PER_MONTH
    if isinstance(days, np.ndarray):
        return days.astype(np.float64) / DAYS_PER_MONTH
    return float(days) / DAYS_PER_MONTH


def months_to_days(
    months: float | pd.Series | npt.NDArray[np.generic],
) -> float | pd.Series | _FloatArray:
    """Convert months to days with :data:`DAYS_PER_MONTH` (not rounded).

    Parameters
    ----------
    months
        A number of months, or a Series/array of them.

    Returns
    -------
    float or pandas.Series or numpy.ndarray
        Days as floats. Round explicitly (e.g. ``round(months_to_days(24))``) when an
        integer study day is needed, so the rounding is visible at the call site.

    Examples
    --------
    >>> months_to_days(12)
    365.25
    """
    if isinstance(months, pd.Series):
        return months.astype("Float64") * DAYS_PER_MONTH
    if isinstance(months, np.ndarray):
        return months.astype(np.float64) * DAYS_PER_MONTH
    return float(months) * DAYS_PER_MONTH


def days_to_years(days: float) -> float:
    """Convert days to years with :data:`DAYS_PER_YEAR`.

    Parameters
    ----------
    days
        A number of days.

    Returns
    -------
    float
        Years.

    Examples
    --------
    >>> days_to_years(730.5)
    2.0
    """
    return float(days) / DAYS_PER_YEAR


def study_day(date: pd.Series, infusion_date: pd.Series) -> pd.Series:
    """Integer study day of ``date`` counted from ``infusion_date`` (infusion = day 0).

    Parameters
    ----------
    date
        Calendar dates (datetime-like; missing allowed).
    infusion_date
        Date of the first CAR-T infusion of the same rows.

    Returns
    -------
    pandas.Series
        ``Int64`` days; there is no day-1 convention shift (the infusion day is day 0,
        the next day is day 1, the day before is day -1), as in the data standard.

    Examples
    --------
    >>> d = pd.Series(pd.to_datetime(["2021-03-04", "2021-03-01"]))
    >>> study_day(d, pd.Series(pd.to_datetime(["2021-03-01", "2021-03-01"]))).tolist()
    [3, 0]
    """
    delta = pd.to_datetime(date) - pd.to_datetime(infusion_date)
    return delta.dt.days.astype("Int64")


__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "days_to_months",
    "days_to_years",
    "months_to_days",
    "study_day",
]
