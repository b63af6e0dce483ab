"""Input preparation shared by every estimator.

One place decides how a DataFrame becomes arrays: which columns are needed,
which rows are dropped as incomplete (complete cases, as R's default
``na.action = na.omit``; the count and reason are reported, never silent), how
times and event indicators are checked, and how covariates become a design
matrix with R's treatment coding (first level is the reference).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cartcohort.errors import AnalysisError, CollinearityError, DegenerateDataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Roles whose columns are grouping factors: :func:`prepare` codes them once.
FACTOR_ROLES: tuple[str, ...] = ("by", "strata")


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """Complete-case rows of the needed columns, with what was excluded."""

    frame: pd.DataFrame
    n_excluded: int
    exclusions: tuple[str, ...] = field(default_factory=tuple)


def _missing_column_message(name: str, available: Sequence[str], role: str) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in available], n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"`{role}` column {name!r} is not in the data.{hint}"


def prepare(
    data: pd.DataFrame,
    columns: Mapping[str, str | Sequence[str] | None],
    *,
    factors: Sequence[str] = FACTOR_ROLES,
) -> Prepared:
    """Select the named columns and keep complete cases.

    Grouping columns (the roles in ``factors``) that hold strings or other
    objects are coded here, once: they come back as pandas ``Categorical`` with
    the levels in R's order (sorted, as ``factor()``), so the missing-value check
    and every later use of the groups work on integer codes, as for a column
    that already was a ``Categorical``. Labels and results are unchanged.

    Parameters
    ----------
    data
        The input frame.
    columns
        Role -> column name (or list of names, or ``None`` when the role is unused),
        e.g. ``{"time": "os_days", "event": "death", "by": None}``.

    Returns
    -------
    Prepared
        The selected columns (original names) of the complete rows, the number
        of rows excluded, and one reason per column that caused exclusions.

    Raises
    ------
    AnalysisError
        A named column does not exist (with close-match suggestions), or
        ``data`` is not a DataFrame.
    DegenerateDataError
        No complete rows remain.
    """
    if not isinstance(data, pd.DataFrame):
        msg = f"`data` must be a pandas DataFrame; got {type(data).__name__}."
        raise AnalysisError(msg)
    needed: list[str] = []
    problems: list[str] = []
    for role, spec in columns.items():
        if spec is None:
            continue
        names = [spec] if isinstance(spec, str) else list(spec)
        for name in names:
            if name not in data.columns:
                problems.append(_missing_column_message(name, list(data.columns), role))
            elif name not in needed:
                needed.append(name)
    if problems:
        raise AnalysisError(" ".join(problems))
    frame = data.loc[:, needed]
    frame = _code_factors(frame, [n for role in factors for n in _role_columns(columns.get(role))])
    missing = frame.isna()
    keep = ~missing.any(axis=1)
    if bool(keep.all()):  # the common case: nothing to exclude, no second copy of the data
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
            frame = frame.reset_index(drop=True)
        if len(frame) == 0:
            msg = "The data have no rows."
            raise DegenerateDataError(msg)
        return Prepared(frame=frame, n_excluded=0, exclusions=())
    exclusions = tuple(
        f"{int(missing[c].sum())} row(s) with missing {c!r}" for c in needed if missing[c].any()
    )
    n_excluded = int((~keep).sum())
    frame = frame.loc[keep].reset_index(drop=True)
    if len(frame) == 0:
        msg = "No complete rows remain after excluding missing values: " + "; ".join(exclusions)
        raise DegenerateDataError(msg if exclusions else "The data have no rows.")
    return Prepared(frame=frame, n_excluded=n_excluded, exclusions=exclusions)


def as_time(values: pd.Series, name: str) -> FloatArray:
    """Check and convert follow-up times: numeric, finite and non-negative."""
    try:
        arr = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"Time column {name!r} must be numeric (days since infusion); {exc}."
        raise AnalysisError(msg) from exc
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        msg = (
            f"Time column {name!r} must be finite and >= 0; rows {rows} have "
            f"{arr[bad][:5].tolist()}. Times are days since infusion; fix or remove those rows."
        )
        raise AnalysisError(msg)
    return np.asarray(arr, dtype=np.float64)


def as_event(values: pd.Series, name: str) -> npt.NDArray[np.bool_]:
    """Check and convert an event indicator: bool, or 0/1 (1 = event)."""
    if values.dtype == bool:
        return np.asarray(values.to_numpy(dtype=bool), dtype=np.bool_)
    try:
        arr = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"Event column {name!r} must be 0/1 or True/False; {exc}."
        raise AnalysisError(msg) from exc
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        msg = (
            f"Event column {name!r} must be 0 (censored) or 1 (event); found "
            f"{sorted(set(arr[bad].tolist()))[:5]}. For competing risks use cumulative_incidence."
        )
        raise AnalysisError(msg)
    return np.asarray(arr, dtype=np.bool_)


def as_cause(values: pd.Series, name: str) -> npt.NDArray[np.int64]:
    """Check and convert a competing-risks status: 0 censored, 1..K causes."""
    try:
        arr = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"Event column {name!r} must be integer codes (0 censored, 1..K causes); {exc}."
        raise AnalysisError(msg) from exc
    bad = (arr < 0) | (arr != np.round(arr))
    if bad.any():
        msg = f"Event column {name!r} must hold 0 (censored) or causes 1..K; found {arr[bad][:5]}."
        raise AnalysisError(msg)
    return np.asarray(arr, dtype=np.int64)


def _role_columns(spec: str | Sequence[str] | None) -> list[str]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else list(spec)


def _code_factors(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its string/object grouping columns ``names`` as Categoricals."""
    coded = {name: _as_categorical(frame[name]) for name in names if _needs_coding(frame[name])}
    return frame.assign(**coded) if coded else frame


def _needs_coding(values: pd.Series) -> bool:
    """Strings and other objects (not Categoricals, booleans or numbers) are hashed."""
    return pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)


def _as_categorical(values: pd.Series) -> pd.Categorical:
    levels, codes = factor_codes(values)
    dtype = pd.CategoricalDtype(pd.Index(levels, dtype=object))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def factor_codes(values: pd.Series) -> tuple[list[object], IntArray]:
    """Levels in R's order (as :func:`group_levels`) and each row's level code, in one pass.

    The one place where a grouping column is hashed. A ``Categorical`` keeps its
    category order (unused categories dropped) and costs nothing; a pyarrow-backed
    string column is dictionary-encoded by pyarrow; anything else is hashed once
    by ``pd.factorize``; then only the distinct values are sorted (R's
    ``factor()`` order). Missing values get code -1 and are not a level.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = group_levels(values)
        position = {level: i for i, level in enumerate(levels)}
        lookup = np.array(
            [position.get(c, -1) for c in values.cat.categories.tolist()] + [-1], dtype=np.int64
        )
        return levels, lookup[values.cat.codes.to_numpy()]  # code -1 (missing) -> -1
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        encoded = pc.dictionary_encode(pa.array(values.array))
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        indices = encoded.indices.fill_null(-1) if encoded.null_count else encoded.indices
        raw = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        distinct: list[object] = list(encoded.dictionary.to_pylist())
    else:
        raw_codes, uniques = pd.factorize(values.to_numpy(), sort=False)
        raw = np.asarray(raw_codes, dtype=np.int64)
        distinct = list(np.asarray(uniques, dtype=object).tolist())
    levels = sorted(distinct)  # R's factor() order, as group_levels()
    position = {level: i for i, level in enumerate(levels)}
    remap = np.array([position[u] for u in distinct] + [-1], dtype=np.int64)
    return levels, remap[raw]


def group_levels(values: pd.Series) -> list[object]:
    """Levels of a grouping column in R's order.

    A pandas ``Categorical`` keeps its category order (unused levels dropped);
    anything else is sorted, as R's ``factor()`` does.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        return [c for c, u in zip(values.cat.categories.tolist(), used, strict=True) if u]
    return sorted(values.dropna().unique().tolist())


def require_groups(levels: Sequence[object], name: str, minimum: int = 2) -> None:
    """Raise a named error when a comparison has fewer than ``minimum`` groups."""
    if len(levels) < minimum:
        msg = (
            f"Column {name!r} has {len(levels)} group(s) ({list(levels)}) among complete rows; "
            f"a comparison needs at least {minimum}."
        )
        raise DegenerateDataError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class Design:
    """A numeric design matrix with R-style term names.

    ``terms[i]`` names column ``i`` of ``matrix``: a numeric covariate keeps its
    name; a factor level is ``variable[level]`` (treatment coding, the first level
    is the reference and has no column). ``variables[i]`` is the covariate that
    column ``i`` came from; ``reference`` maps each factor to its reference level.
    """

    matrix: FloatArray
    terms: tuple[str, ...]
    variables: tuple[str, ...]
    reference: dict[str, object]


def _is_factor(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == bool
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
    )


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> Design:
    """Build the design matrix for ``covariates`` (no intercept column).

    Numeric columns enter as they are. Booleans, strings and Categoricals are
    factors with treatment coding: a Categorical's first category is the
    reference; booleans use ``False``; strings use sorted order (as R's
    ``factor()``). Term names are ``variable[level]``.
    """
    cols: list[FloatArray] = []
    terms: list[str] = []
    variables: list[str] = []
    reference: dict[str, object] = {}
    for var in covariates:
        s = frame[var]
        if _is_factor(s):
            if s.dtype == bool:
                levels: list[object] = [False, True]
                present = set(s.unique().tolist())
                levels = [lv for lv in levels if lv in present]
            else:
                levels = group_levels(s)
            if len(levels) < 2:
                msg = (
                    f"Covariate {var!r} has a single level ({levels}) among complete rows; "
                    "it cannot be estimated. Remove it from the model."
                )
                raise DegenerateDataError(msg)
            reference[var] = levels[0]
            values = s.to_numpy(dtype=object)
            for lv in levels[1:]:
                cols.append((values == lv).astype(np.float64))
                terms.append(f"{var}[{lv}]")
                variables.append(var)
        else:
            try:
                cols.append(pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64))
            except (TypeError, ValueError) as exc:
                msg = f"Covariate {var!r} must be numeric or categorical; {exc}."
                raise AnalysisError(msg) from exc
            terms.append(var)
            variables.append(var)
    matrix = np.column_stack(cols) if cols else np.empty((len(frame), 0))
    return Design(
        matrix=matrix, terms=tuple(terms), variables=tuple(variables), reference=reference
    )


def check_full_rank(matrix: FloatArray, terms: Sequence[str], *, intercept: bool) -> None:
    """Raise :class:`CollinearityError` naming the collinear terms, if any.

    Works on the p x p Gram matrix of the column-scaled design (one pass over the
    n rows, so it costs little even at a million rows): its eigenvalues are the
    squared singular values of the design. An eigenvalue below ``1e-14`` of the
    largest (a singular value below ``1e-7`` of the largest) is a linear dependence,
    and the terms with weight in its eigenvector are the ones involved, so both sides
    of ``x3 = 2 * x1 + 1`` are named. Constant columns are collinear with the
    intercept (logistic regression) or carry no information (Cox).
    """
    n = matrix.shape[0]
    if matrix.shape[1] == 0:
        return
    x = np.column_stack([np.ones(n), matrix]) if intercept else matrix
    names = (["(Intercept)"] if intercept else []) + list(terms)
    # Scale columns so the tolerance is unit free.
    scale = np.sqrt(np.einsum("ij,ij->j", x, x))
    scale[scale == 0] = 1.0
    xs = x / scale
    eigenvalues, vectors = np.linalg.eigh(xs.T @ xs)
    largest = max(float(eigenvalues[-1]), np.finfo(float).tiny)
    null = eigenvalues <= largest * 1e-14
    constant = [
        names[j] for j in range(x.shape[1]) if np.ptp(x[:, j]) == 0 and names[j] != "(Intercept)"
    ]
    if null.any() or (not intercept and constant):
        weights = np.abs(vectors[:, null]).max(axis=1) if null.any() else np.zeros(len(names))
        dependent = [names[j] for j in np.flatnonzero(weights > 1e-6)]
        involved = sorted(set(dependent) | set(constant))
        msg = (
            f"Covariates are collinear: {', '.join(involved)} "
            f"{'is' if len(involved) == 1 else 'are'} linearly dependent "
            "(one is a combination of the others, or constant). "
            "Remove one of them or combine levels."
        )
        raise CollinearityError(msg)


__all__ = [
    "Design",
    "Prepared",
    "as_cause",
    "as_event",
    "as_time",
    "check_full_rank",
    "design_matrix",
    "factor_codes",
    "group_levels",
    "prepare",
    "require_groups",
]
