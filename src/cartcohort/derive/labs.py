"""Cytokine and laboratory summaries after CAR-T infusion: baseline, peak, nadir, AUC.

:func:`summarize_labs` gives one row per patient and analyte (baseline, peak and day of
peak, nadir and day of nadir, fold change from baseline, AUC over days 0-28) from the
long ``labs`` table of the data standard. :func:`peak_table` gives the patient-sheet
columns ``peak_il6_pg_ml`` ... ``peak_ferritin_ng_ml`` and ``peak_cart_copies_per_ug``.

Values must already be in each analyte's canonical unit (pg/mL for cytokines, mg/L for
CRP, ng/mL for ferritin, ...; see :data:`cartcohort.model.standard.ANALYTES`). Loading a
cohort through :func:`cartcohort.validate.load_cohort` converts them; a table in another
unit is refused rather than silently mixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort.errors import DerivationError
from cartcohort.model.standard import (
    ANALYTE_BY_NAME,
    Analyte,
    analyte_for,
    conversion_factor,
    normalise_unit,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Columns of :attr:`LabSummaryResult.table`, in order.
LAB_SUMMARY_COLUMNS = (
    "patient_id",
    "analyte",
    "unit",
    "n_samples",
    "baseline",
    "baseline_day",
    "peak",
    "peak_day",
    "nadir",
    "nadir_day",
    "fold_change",
    "auc_0_28",
)

#: Patient-sheet peak column -> analyte (all in the analyte's canonical unit).
PEAK_COLUMNS: Mapping[str, str] = {
    "peak_il6_pg_ml": "il6",
    "peak_il2_pg_ml": "il2",
    "peak_il10_pg_ml": "il10",
    "peak_tnfa_pg_ml": "tnfa",
    "peak_ifng_pg_ml": "ifng",
    "peak_crp_mg_l": "crp",
    "peak_ferritin_ng_ml": "ferritin",
    "peak_il8_pg_ml": "il8",
    "peak_il2r_u_ml": "il2r",
}

#: Patient-sheet column for the peak CAR-T level (qPCR, transgene copies/µg DNA).
PEAK_CART_COLUMN = "peak_cart_copies_per_ug"

_AUC_END = 28.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LabSummaryResult:
    """Per patient and analyte summaries of laboratory values after infusion.

    Attributes
    ----------
    table
        One row per patient x analyte with the columns of :data:`LAB_SUMMARY_COLUMNS`:
        ``baseline`` (last value in the baseline window) and ``baseline_day``; ``peak``
        and ``peak_day`` (first day of the largest value on or after ``after_day``);
        ``nadir`` and ``nadir_day`` (first day of the smallest); ``fold_change``
        (peak / baseline); ``auc_0_28`` (linear trapezoid, unit x day); ``unit`` (the
        canonical unit); ``n_samples``. Missing where not estimable (``pd.NA``).
    exclusions
        One row per missing statistic: ``patient_id, analyte, parameter, reason``.
    baseline_window
        Inclusive (first, last) day of the baseline window.
    after_day
        First day counted for peak and nadir.
    method
        How the numbers were computed.
    warnings
        One message per kind of missing statistic.
    """

    table: pd.DataFrame
    exclusions: pd.DataFrame
    baseline_window: tuple[float, float]
    after_day: float
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per patient x analyte table (a copy of ``table``)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: one row per patient, analyte and statistic."""
        return frame_to_ard(
            self.table, analysis="lab_summary", keys=["patient_id", "analyte", "unit"]
        )

    def __repr__(self) -> str:
        return (
            f"LabSummaryResult(n={len(self.table)}, "
            f"patients={self.table['patient_id'].nunique()}, "
            f"analytes={self.table['analyte'].nunique()}, warnings={len(self.warnings)})"
        )


# ----------------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"`{table}` lacks column(s) {missing}; expected {list(columns)}. Load the data "
            "through cartcohort.validate.load_cohort, or rename the columns."
        )
        raise DerivationError(msg)


def _resolve(name: object) -> Analyte:
    analyte = analyte_for(str(name)) if isinstance(name, str) else None
    if analyte is None:
        known = ", ".join(sorted(ANALYTE_BY_NAME))
        msg = f"Unknown analyte {name!r}; known analytes are: {known}."
        raise DerivationError(msg)
    return analyte


def _check_units(frame: pd.DataFrame) -> None:
    """Every (analyte, unit) pair must be the analyte's canonical unit."""
    if frame["unit"].isna().any():
        msg = "`labs.unit` is missing on some rows; every lab value needs its unit."
        raise DerivationError(msg)
    for (name, unit), _ in frame.groupby(["analyte", "unit"], sort=True):
        analyte = ANALYTE_BY_NAME[str(name)]
        if normalise_unit(str(unit)) == normalise_unit(analyte.unit):
            continue
        factor = conversion_factor(analyte, str(unit))
        hint = (
            f" (multiply by {factor:g} to convert)"
            if factor is not None
            else " (not a unit this analyte can be converted from)"
        )
        msg = (
            f"labs: {analyte.label} ({name}) has values in {unit!r}; summaries need its "
            f"canonical unit {analyte.unit!r}{hint}. Load the data with "
            "cartcohort.validate.load_cohort, which converts units, or convert first."
        )
        raise DerivationError(msg)


def numeric_labs(
    labs: pd.DataFrame,
    analytes: Sequence[str] | None = None,
    *,
    unknown: Literal["error", "drop"] = "error",
) -> pd.DataFrame:
    """The ``labs`` rows of ``analytes`` (default all) with canonical analyte names, numeric
    ``day`` and ``value`` (missing values kept), each value in its analyte's canonical unit.

    ``unknown="drop"`` leaves out analytes that the standard does not know instead of refusing
    them (for a derivation that reads only a few analytes). Raises :class:`DerivationError`
    for missing columns, non-numeric days or values, rows without a patient or day, and values
    in another unit (load the data with :func:`cartcohort.validate.load_cohort`, which converts).
    """
    _require_columns(labs, ("patient_id", "day", "analyte", "value", "unit"), "labs")
    frame = labs[["patient_id", "day", "analyte", "value", "unit"]].copy()
    if unknown == "error":
        names = {n: _resolve(n).name for n in frame["analyte"].dropna().unique()}
    else:
        found = {n: analyte_for(str(n)) for n in frame["analyte"].dropna().unique()}
        names = {n: a.name for n, a in found.items() if a is not None}
    frame["analyte"] = frame["analyte"].map(names)
    if analytes is not None:
        wanted = {_resolve(a).name for a in analytes}
        frame = frame[frame["analyte"].isin(wanted)]
    elif unknown == "drop":
        frame = frame[frame["analyte"].notna()]
    try:
        frame["day"] = pd.to_numeric(frame["day"]).astype(np.float64)
        frame["value"] = pd.to_numeric(frame["value"]).astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = "`labs.day` and `labs.value` must be numeric; validate the table first."
        raise DerivationError(msg) from exc
    if frame["day"].isna().any() or frame["patient_id"].isna().any():
        msg = "`labs` has rows without `patient_id` or `day`; validate the table first."
        raise DerivationError(msg)
    _check_units(frame[frame["value"].notna()])
    return frame


def _prepare(
    labs: pd.DataFrame, analytes: Sequence[str] | None, collector: WarningCollector
) -> pd.DataFrame:
    """Canonical analyte names, numeric day/value, unit-checked, sorted, no duplicates."""
    frame = numeric_labs(labs, analytes)
    missing = frame["value"].isna()
    if missing.any():
        collector.warn(f"{int(missing.sum())} lab value(s) missing were dropped.")
        frame = frame[~missing]
    frame = frame.sort_values(["patient_id", "analyte", "day"], kind="mergesort")
    dup = frame.duplicated(["patient_id", "analyte", "day"])
    if dup.any():
        shown = frame.loc[dup, ["patient_id", "analyte", "day"]].head(5).to_dict("records")
        msg = (
            f"More than one value per patient, analyte and day, e.g. {shown}. The labs key "
            "is (patient_id, day, analyte); keep one value per day."
        )
        raise DerivationError(msg)
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# computations
# ----------------------------------------------------------------------------------------------


def _first_extreme(
    frame: pd.DataFrame, mask: BoolArray, gid: IntArray, n_groups: int, *, largest: bool
) -> tuple[FloatArray, FloatArray]:
    """Value and first day of the largest (or smallest) value of each group, within ``mask``."""
    value = np.full(n_groups, np.nan)
    day = np.full(n_groups, np.nan)
    sub = frame.loc[mask, ["value", "day"]].assign(_g=gid[mask])
    if sub.empty:
        return value, day
    # Stable sort by value keeps day order among ties, so the first row is the first day.
    ordered = sub.sort_values(["_g", "value"], ascending=[True, not largest], kind="mergesort")
    top = ordered.drop_duplicates("_g", keep="first")
    idx = top["_g"].to_numpy(np.int64)
    value[idx] = top["value"].to_numpy(np.float64)
    day[idx] = top["day"].to_numpy(np.float64)
    return value, day


def _baseline(
    frame: pd.DataFrame, gid: IntArray, n_groups: int, window: tuple[float, float]
) -> tuple[FloatArray, FloatArray]:
    """Last value (and its day) within the inclusive baseline window."""
    day = frame["day"].to_numpy(np.float64)
    inside = (day >= window[0]) & (day <= window[1])
    value = np.full(n_groups, np.nan)
    when = np.full(n_groups, np.nan)
    g = gid[inside]
    if len(g):
        last = np.r_[g[1:] != g[:-1], True]  # rows are sorted by group then day
        value[g[last]] = frame["value"].to_numpy(np.float64)[inside][last]
        when[g[last]] = day[inside][last]
    return value, when


def _auc_linear(
    gid: IntArray, day: FloatArray, value: FloatArray, n_groups: int, start: float, end: float
) -> FloatArray:
    """Linear-trapezoid area of the piecewise-linear profile over [start, end].

    Missing unless the samples reach from ``start`` or before to ``end`` or after.
    """
    same = gid[1:] == gid[:-1]
    g = gid[:-1][same]
    d1, d2 = day[:-1][same], day[1:][same]
    v1, v2 = value[:-1][same], value[1:][same]
    lo, hi = np.maximum(d1, start), np.minimum(d2, end)
    part = hi > lo
    slope = (v2[part] - v1[part]) / (d2[part] - d1[part])
    c_lo = v1[part] + slope * (lo[part] - d1[part])
    c_hi = v1[part] + slope * (hi[part] - d1[part])
    area = np.zeros(len(g))
    area[part] = (hi[part] - lo[part]) * (c_lo + c_hi) / 2.0
    auc = np.bincount(g, weights=area, minlength=n_groups).astype(np.float64)
    first = np.full(n_groups, np.inf)
    last = np.full(n_groups, -np.inf)
    np.minimum.at(first, gid, day)
    np.maximum.at(last, gid, day)
    auc[(first > start) | (last < end)] = np.nan
    return auc


def _nullable(values: FloatArray) -> pd.arrays.FloatingArray:
    return pd.arrays.FloatingArray(np.nan_to_num(values, nan=0.0), np.isnan(values))


def _exclusions(
    keys: pd.DataFrame, items: list[tuple[str, str, BoolArray]], collector: WarningCollector
) -> pd.DataFrame:
    parts = []
    for parameter, reason, mask in items:
        if not mask.any():
            continue
        hit = keys.loc[mask, ["patient_id", "analyte"]]
        parts.append(hit.assign(parameter=parameter, reason=reason))
        examples = ", ".join(f"{p}/{a}" for p, a in hit.head(5).itertuples(index=False))
        more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
        collector.warn(
            f"{parameter} not estimable for {len(hit)} of {len(keys)} patient-analyte(s): "
            f"{reason} ({examples}{more})."
        )
    if not parts:
        cols = ("patient_id", "analyte", "parameter", "reason")
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.concat(parts, ignore_index=True)


def _check_window(baseline_window: object, after_day: object) -> tuple[tuple[float, float], float]:
    ok = (
        isinstance(baseline_window, tuple | list)
        and len(baseline_window) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in baseline_window)
    )
    if not ok:
        msg = (
            "`baseline_window` must be (first_day, last_day), e.g. (-7, 0); "
            f"got {baseline_window!r}."
        )
        raise DerivationError(msg)
    lo, hi = float(baseline_window[0]), float(baseline_window[1])  # type: ignore[index]
    if not lo <= hi <= 0:
        msg = (
            f"`baseline_window` must satisfy first <= last <= 0 (baseline is before the "
            f"infusion); got {baseline_window!r}."
        )
        raise DerivationError(msg)
    if isinstance(after_day, bool) or not isinstance(after_day, int | float):
        msg = f"`after_day` must be a number of days, e.g. 0; got {after_day!r}."
        raise DerivationError(msg)
    return (lo, hi), float(after_day)


def summarize_labs(
    labs: pd.DataFrame,
    *,
    analytes: Sequence[str] | None = None,
    baseline_window: tuple[float, float] = (-7, 0),
    after_day: float = 1,
) -> LabSummaryResult:
    """Baseline, peak, nadir, fold change and AUC of each analyte for each patient.

    Parameters
    ----------
    labs
        Long table with ``patient_id, day, analyte, value, unit`` (the standard's
        ``labs`` table; ``day`` in days since the first infusion). Analyte aliases
        (``"IL-6"``, ``"C-reactive protein"``) are accepted.
    analytes
        Analytes to summarise (names or aliases); default all present.
    baseline_window
        Inclusive (first, last) day of the baseline window, last <= 0; default (-7, 0).
    after_day
        Peak and nadir are taken over days >= ``after_day``; default 1 (the day after the
        infusion; day 0 is the pre-infusion baseline, see :func:`peak_table`).

    Returns
    -------
    LabSummaryResult
        ``.table`` has one row per patient and analyte with ``unit, n_samples,
        baseline, baseline_day, peak, peak_day, nadir, nadir_day, fold_change,
        auc_0_28``; statistics that cannot be computed are missing, the reason in
        ``.exclusions`` and ``.warnings``.

    Raises
    ------
    DerivationError
        Missing columns, an unknown analyte, a value not in the analyte's canonical unit
        (load through :func:`cartcohort.validate.load_cohort`, which converts), two
        values on the same day, or an invalid window.

    See Also
    --------
    peak_table : The patient-sheet ``peak_*`` columns.

    Notes
    -----
    ``baseline`` is the last value in the window (the one closest to the infusion).
    ``peak_day`` and ``nadir_day`` are the first day the extreme is reached.
    ``fold_change`` = peak / baseline; missing when the baseline is missing or 0.
    ``auc_0_28`` integrates the straight lines joining the samples from day 0 to day 28
    (linear trapezoids; a window end between two samples is interpolated linearly). It
    is missing unless there is a sample on or before day 0 and one on or after day 28:
    nothing is extrapolated. Cytokines often rise and fall within days, so an AUC over
    sparse samples is coarse; it is reported as measured.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": "P1", "day": [-2, 0, 3, 7, 28],
    ...                      "analyte": "il6", "unit": "pg/mL",
    ...                      "value": [5.0, 6.0, 250.0, 40.0, 4.0]})
    >>> row = summarize_labs(labs).table.iloc[0]
    >>> float(row["peak"]), float(row["peak_day"]), float(row["fold_change"])
    (250.0, 3.0, 41.666666666666664)
    """
    window, after = _check_window(baseline_window, after_day)
    collector = WarningCollector()
    frame = _prepare(labs, analytes, collector)
    grouped = frame.groupby(["patient_id", "analyte"], sort=True)
    gid = grouped.ngroup().to_numpy(np.int64)
    keys = grouped.size().reset_index(name="n_samples")
    n_groups = len(keys)
    day = frame["day"].to_numpy(np.float64)
    value = frame["value"].to_numpy(np.float64)

    after_mask = day >= after
    peak, peak_day = _first_extreme(frame, after_mask, gid, n_groups, largest=True)
    nadir, nadir_day = _first_extreme(frame, after_mask, gid, n_groups, largest=False)
    base, base_day = _baseline(frame, gid, n_groups, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        fold = np.where(base > 0, peak / base, np.nan)
    auc = _auc_linear(gid, day, value, n_groups, 0.0, _AUC_END)

    no_after = np.isnan(peak)
    items = [
        ("peak, peak_day, nadir, nadir_day", f"no value on or after day {after:g}", no_after),
        ("baseline", f"no value in the baseline window {window}", np.isnan(base)),
        ("fold_change", "baseline is 0", base == 0),
        (
            "auc_0_28",
            "samples do not reach from day 0 or before to day 28 or after",
            np.isnan(auc),
        ),
    ]
    exclusions = _exclusions(keys, items, collector)
    table = pd.DataFrame(
        {
            "patient_id": keys["patient_id"].to_numpy(),
            "analyte": keys["analyte"].to_numpy(),
            "unit": [ANALYTE_BY_NAME[a].unit for a in keys["analyte"]],
            "n_samples": keys["n_samples"].to_numpy(np.int64),
            "baseline": _nullable(base),
            "baseline_day": _nullable(base_day),
            "peak": _nullable(peak),
            "peak_day": _nullable(peak_day),
            "nadir": _nullable(nadir),
            "nadir_day": _nullable(nadir_day),
            "fold_change": _nullable(fold),
            "auc_0_28": _nullable(auc),
        },
        columns=list(LAB_SUMMARY_COLUMNS),
    )
    method = MethodInfo(
        estimator="Laboratory summaries after infusion",
        description=(
            f"Per patient and analyte: baseline = last value from day {window[0]:g} to day "
            f"{window[1]:g}; peak and nadir = largest and smallest value from day {after:g} "
            "(first day if tied); fold change = peak / baseline; AUC from day 0 to day 28 by "
            "the linear trapezoidal rule, only when the samples cover that window."
        ),
        options={
            "baseline_window_first": window[0],
            "baseline_window_last": window[1],
            "baseline": "last value in window",
            "after_day": after,
            "auc_method": "linear",
            "auc_window": "0-28",
            "auc_extrapolation": "none",
            "units": "canonical (cartcohort.model.standard.ANALYTES)",
            "time_unit": "days since first infusion",
        },
        reference="cartcohort data standard (labs table, canonical units)",
    )
    return LabSummaryResult(
        table=table,
        exclusions=exclusions,
        baseline_window=window,
        after_day=after,
        method=method,
        warnings=collector.as_tuple(),
    )


def _peak_cart(kinetics: pd.DataFrame, after: float) -> pd.Series:
    """Largest quantifiable qPCR level (copies/µg DNA) on or after ``after``, per patient."""
    _require_columns(kinetics, ("patient_id", "day", "value"), "kinetics")
    k = kinetics.copy()
    if "unit" in k.columns:
        k = k[k["unit"].fillna("copies_per_ug_dna") == "copies_per_ug_dna"]
    day = pd.to_numeric(k["day"]).to_numpy(np.float64)
    value = pd.to_numeric(k["value"]).to_numpy(np.float64)
    if "lloq" in k.columns:
        lloq = pd.to_numeric(k["lloq"]).to_numpy(np.float64)
        # Below the LLOQ counts as 0, as in kinetics_nca (PKNCA BLQ coding).
        value = np.where(value < lloq, 0.0, value)
    keep = (day >= after) & ~np.isnan(value)
    return pd.Series(value[keep]).groupby(k["patient_id"].to_numpy()[keep]).max()


def peak_table(
    labs: pd.DataFrame, kinetics: pd.DataFrame | None = None, *, after_day: float = 1
) -> pd.DataFrame:
    """Patient-sheet peak columns: cytokines, CRP, ferritin and CAR-T expansion.

    Parameters
    ----------
    labs
        Long ``labs`` table (``patient_id, day, analyte, value, unit``), canonical units.
    kinetics
        Optional long ``kinetics`` table; gives ``peak_cart_copies_per_ug`` from rows in
        ``copies_per_ug_dna`` (all rows when there is no ``unit`` column).
    after_day
        First day counted; default 1, the day after the infusion: a day-0 sample is
        drawn before the cells are given and is the baseline (it lies in the default
        baseline window of :func:`summarize_labs`), so it is not a post-infusion peak.

    Returns
    -------
    pandas.DataFrame
        One row per patient in ``labs`` or ``kinetics`` with ``patient_id`` and
        ``peak_il6_pg_ml, peak_il2_pg_ml, peak_il10_pg_ml, peak_tnfa_pg_ml,
        peak_ifng_pg_ml, peak_crp_mg_l, peak_ferritin_ng_ml`` (and
        ``peak_cart_copies_per_ug`` when ``kinetics`` is given); missing (``pd.NA``)
        when the patient has no value on or after ``after_day``.

    Raises
    ------
    DerivationError
        As :func:`summarize_labs` (unknown analyte, non-canonical unit, ...).

    Notes
    -----
    The peak is the largest value over all follow-up on or after ``after_day``
    (all infusions). A CAR-T level below its LLOQ counts as 0, so a patient with no
    quantifiable sample has a peak of 0, like ``cmax`` of :func:`kinetics_nca`.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": "P1", "day": [-1, 2, 5], "analyte": "crp",
    ...                      "unit": "mg/L", "value": [3.0, 180.0, 90.0]})
    >>> float(peak_table(labs).loc[0, "peak_crp_mg_l"])
    180.0
    """
    _, after = _check_window((-7, 0), after_day)
    frame = _prepare(labs, list(PEAK_COLUMNS.values()), WarningCollector())
    frame = frame[frame["day"] >= after]
    peaks = frame.groupby(["patient_id", "analyte"])["value"].max().unstack("analyte")
    patients = pd.Index(pd.unique(labs["patient_id"].dropna()))
    cart = None
    if kinetics is not None:
        cart = _peak_cart(kinetics, after)
        patients = patients.append(pd.Index(pd.unique(kinetics["patient_id"].dropna())))
    patients = pd.Index(sorted(patients.unique()), name="patient_id")
    out = pd.DataFrame(index=patients)
    for column, analyte in PEAK_COLUMNS.items():
        values = peaks[analyte] if analyte in peaks.columns else pd.Series(dtype=np.float64)
        out[column] = values.reindex(patients).astype("Float64")
    if cart is not None:
        out[PEAK_CART_COLUMN] = cart.reindex(patients).astype("Float64")
    return out.reset_index()


__all__ = [
    "LAB_SUMMARY_COLUMNS",
    "PEAK_CART_COLUMN",
    "PEAK_COLUMNS",
    "LabSummaryResult",
    "peak_table",
    "summarize_labs",
]
