"""Case weights and cluster identifiers for the regression estimators (private).

:func:`check_weights` validates a weight column on the caller's rows (before
incomplete rows are dropped, so the message names the caller's row labels) and
reports every problem at once; :func:`cluster_codes` turns a cluster column into
integer codes for summing influence rows within clusters (R's ``cluster(id)``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.analyse._data import factor_codes
from cartcohort.errors import AnalysisError, DegenerateDataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SHOWN = 5


def _rows(index: pd.Index, mask: npt.NDArray[np.bool_]) -> str:
    labels = index[mask].tolist()
    more = f" and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else ""
    return f"{labels[:_SHOWN]}{more}"


def check_weights(data: pd.DataFrame, column: str, *, zero_allowed: bool) -> None:
    """Raise one :class:`AnalysisError` listing every invalid weight, naming the rows.

    Missing weights are not checked here: the row is excluded as incomplete, as
    R's ``na.omit``. Weights must be numeric, finite and >= 0 (> 0 when
    ``zero_allowed`` is false, as R's ``coxph``: "Invalid weights, must be >0"),
    and not all zero.
    """
    if column not in data.columns:
        return  # reported with the other missing columns by prepare()
    values = data[column]
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna().to_numpy() & values.notna().to_numpy()
        if pd.api.types.is_bool_dtype(values.dtype):
            bad = values.notna().to_numpy()
        if bad.any():
            msg = (
                f"Weights column {column!r} must be numeric; rows {_rows(data.index, bad)} hold "
                f"{values[bad].head(_SHOWN).tolist()}. Give one non-negative number per row."
            )
            raise AnalysisError(msg)
        values = numeric
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    present = ~np.isnan(arr)
    problems: list[str] = []
    infinite = present & ~np.isfinite(arr)
    if infinite.any():
        problems.append(f"rows {_rows(data.index, infinite)} are infinite")
    negative = present & np.isfinite(arr) & (arr < 0)
    if negative.any():
        problems.append(
            f"rows {_rows(data.index, negative)} are negative ({arr[negative][:_SHOWN].tolist()})"
        )
    zero = present & (arr == 0)
    if zero.any() and not zero_allowed:
        problems.append(
            f"rows {_rows(data.index, zero)} are 0 (this model needs weights > 0, as R's "
            "coxph; remove those rows instead)"
        )
    if present.any() and not (arr[present & np.isfinite(arr)] > 0).any():
        problems.append("no row has a positive weight")
    if problems:
        msg = (
            f"Weights column {column!r} must hold finite numbers >= 0"
            f"{'' if zero_allowed else ' (here > 0)'}, not all zero: "
            + "; ".join(problems)
            + ". Fix or remove those rows."
        )
        raise AnalysisError(msg)


def weight_values(frame: pd.DataFrame, column: str | None) -> FloatArray | None:
    """The checked weight column of the complete rows as floats (None without weights)."""
    if column is None:
        return None
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values.dtype):
        values = pd.to_numeric(values, errors="raise")
    return np.array(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def cluster_codes(frame: pd.DataFrame, column: str | None) -> IntArray | None:
    """Integer code 0..G-1 of each complete row's cluster (None without a cluster)."""
    if column is None:
        return None
    levels, codes = factor_codes(frame[column])
    if len(levels) < 2:
        msg = (
            f"Cluster column {column!r} has {len(levels)} distinct value(s) among the "
            f"{len(frame)} rows used; a clustered (sandwich) variance needs at least 2 "
            "clusters (with one, the summed score is 0 and the variance degenerates). "
            "Check the column, or drop `cluster`."
        )
        raise DegenerateDataError(msg)
    return np.asarray(codes, dtype=np.int64)


def sum_within(rows: FloatArray, codes: IntArray | None) -> FloatArray:
    """Influence rows (n x p) summed within clusters (G x p); unchanged without clusters."""
    if codes is None:
        return rows
    size = int(codes.max()) + 1
    return np.column_stack(
        [np.bincount(codes, rows[:, j], minlength=size) for j in range(rows.shape[1])]
    )


def check_column_argument(value: object, name: str) -> str | None:
    """``value`` must be a column name or None."""
    if value is not None and not isinstance(value, str):
        msg = f"`{name}` must be a column name or None; got {value!r}."
        raise AnalysisError(msg)
    return value


def check_robust_arguments(weights: object, robust: object, cluster: object) -> bool:
    """Check ``weights``/``robust``/``cluster`` as the estimators take them; return whether
    the robust (sandwich) variance is asked for (``robust=True``, or a ``cluster``, which
    implies it, as in R)."""
    check_column_argument(weights, "weights")
    check_column_argument(cluster, "cluster")
    if robust is not None and not isinstance(robust, bool):
        msg = f"`robust` must be True, False or None; got {robust!r}."
        raise AnalysisError(msg)
    if robust is False and cluster is not None:
        msg = (
            f"`cluster={cluster!r}` asks for the clustered robust variance but `robust=False`; "
            "drop `robust=False` (a cluster implies the robust variance, as in R)."
        )
        raise AnalysisError(msg)
    return bool(robust) or cluster is not None


__all__ = [
    "check_column_argument",
    "check_robust_arguments",
    "check_weights",
    "cluster_codes",
    "sum_within",
    "weight_values",
]
