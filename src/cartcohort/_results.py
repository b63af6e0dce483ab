"""Result conventions shared by every estimator.

Every estimator returns a frozen dataclass that carries how it was computed
(:class:`MethodInfo`), the warnings raised while computing it, and how many
rows were excluded and why. Tables inside results are tidy DataFrames with
fixed column names; ``to_frame()`` returns the main one and ``to_ard()`` the
same numbers as long "analysis results data" rows (one number per row), the
single table of numbers that reports and ``results.json`` are built from.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pandas as pd

from cartcohort.errors import StatisticalWarning

OptionValue = str | float | int | bool | None


def _version() -> str:
    try:
        return metadata.version("cartcohort")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodInfo:
    """How a result was computed.

    Attributes
    ----------
    estimator
        Short name of the statistic, e.g. ``"Kaplan-Meier"``.
    description
        One sentence suitable for a methods paragraph.
    options
        The choices that change the numbers (CI transform, ties, correction ...).
    reference
        The R function (and package) whose numbers this reproduces, or the paper.
    software
        ``cartcohort <version>``.
    """

    estimator: str
    description: str
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    reference: str = ""
    software: str = field(default_factory=lambda: f"cartcohort {_version()}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON export."""
        return {
            "estimator": self.estimator,
            "description": self.description,
            "options": dict(self.options),
            "reference": self.reference,
            "software": self.software,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareTest:
    """A test statistic referred to a chi-square (or stated) distribution."""

    statistic: float
    df: float
    p_value: float

    def to_dict(self) -> dict[str, float]:
        """Plain-dict form."""
        return {"statistic": self.statistic, "df": self.df, "p_value": self.p_value}


def frame_to_ard(frame: pd.DataFrame, *, analysis: str, keys: list[str]) -> pd.DataFrame:
    """Melt a tidy result frame into long ARD rows.

    ``keys`` are the identifying columns (kept on every row); every other numeric
    column becomes ``stat_name`` / ``stat_value`` rows.
    """
    value_cols = [c for c in frame.columns if c not in keys]
    long = frame.melt(
        id_vars=keys, value_vars=value_cols, var_name="stat_name", value_name="stat_value"
    )
    long.insert(0, "analysis", analysis)
    return long.reset_index(drop=True)


class WarningCollector:
    """Collect warnings for a result and emit each as a Python warning too.

    Estimators create one, call :meth:`warn` for each problem, and store
    ``tuple(collector)`` in the result's ``warnings`` field, so a warning is both
    visible at the call site and carried with the numbers into the report.
    """

    def __init__(self) -> None:
        self._messages: list[str] = []

    def warn(self, message: str, category: type[Warning] = StatisticalWarning) -> None:
        """Record ``message`` and emit it as ``category``."""
        self._messages.append(message)
        _warnings.warn(message, category, stacklevel=3)

    def extend(self, messages: tuple[str, ...] | list[str]) -> None:
        """Record messages already emitted elsewhere."""
        self._messages.extend(messages)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._messages)

    def as_tuple(self) -> tuple[str, ...]:
        """The recorded messages."""
        return tuple(self._messages)


__all__ = ["ChiSquareTest", "MethodInfo", "WarningCollector", "frame_to_ard"]
