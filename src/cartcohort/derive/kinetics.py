"""CAR-T cellular kinetics by non-compartmental analysis (NCA), per patient and infusion.

:func:`kinetics_nca` computes Cmax, Tmax, AUC0-28d, AUC0-84d, Tlast, the terminal
half-life and the persistence day from a long ``kinetics`` table (transgene copies/µg DNA
by qPCR, or CAR+ cells/µL by flow). Its defaults are those of R PKNCA, the de-facto open
standard for NCA (PKNCA.options, PKNCA 0.12): lin-up/log-down trapezoids,
below-LLOQ (BLQ) samples coded 0 and handled first keep / middle drop / last keep,
the first time of the maximum, and a log-linear terminal fit whose points are chosen
by adjusted r² (``adj.r.squared.factor = 1e-4``, ``min.hl.points = 3``, Tmax excluded).

Everything is vectorised over patient x infusion groups: the samples are sorted once by
(group, time) and every per-group quantity is a segment reduction (``ufunc.reduceat``),
a ``bincount`` or a segmented cumulative sum; the half-life fits of all candidate point
sets of all groups are computed at once from reverse cumulative sums.

:func:`compare_infusions` sets each re-infusion against the infusion before it
(Cmax and AUC ratios), as in seed 002 Fig. 3.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector, frame_to_ard
from cartcohort.errors import DerivationError
from cartcohort.model.standard import KINETICS_UNIT

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

AucMethod = Literal["lin-up/log-down", "linear"]
BLQAction = Literal["keep", "drop"]

#: Unit of a kinetics value when the table has no ``unit`` column (the standard's default).
DEFAULT_UNIT = "copies_per_ug_dna"

#: The AUC windows reported, in days after the infusion: column name -> end day.
AUC_WINDOWS: dict[str, float] = {"auc_0_28": 28.0, "auc_0_84": 84.0}

#: Columns of :attr:`KineticsResult.table`, in order.
NCA_COLUMNS = (
    "patient_id",
    "infusion",
    "infusion_day",
    "unit",
    "n_samples",
    "n_blq",
    "cmax",
    "tmax",
    "auc_0_28",
    "auc_0_84",
    "tlast",
    "half_life",
    "half_life_points",
    "half_life_adj_r2",
    "persistence_day",
)

#: Columns of :attr:`KineticsResult.exclusions`.
EXCLUSION_COLUMNS = ("patient_id", "infusion", "parameter", "reason")

HALF_LIFE_RULE = (
    "log-linear least squares of ln(value) on time over the last n quantifiable samples "
    "after Tmax (Tmax excluded), n = min_half_life_points ... all; among fits with "
    "lambda_z > 0 and adjusted r2 > (best adjusted r2 of all fits) - adj_r_squared_factor, "
    "the one with the most points (PKNCA pk.calc.half.life)"
)

_REFERENCE = (
    "R PKNCA 0.12 defaults (PKNCA.options: auc.method 'lin up/log down', conc.blq "
    "first='keep' middle='drop' last='keep', conc.na 'drop', first.tmax TRUE, "
    "min.hl.points 3, adj.r.squared.factor 1e-4, allow.tmax.in.half.life FALSE); "
    "AUC windows as PKNCA aucint.last, without its zero extrapolation past the last sample"
)


# ----------------------------------------------------------------------------------------------
# BLQ policy
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BLQPolicy:
    """What to do with below-LLOQ (BLQ) samples, by where they fall in the profile.

    The positions are those of PKNCA ``clean.conc.blq``: ``first`` is every BLQ sample
    at or before the first quantifiable one (all samples when none is quantifiable),
    ``last`` every BLQ sample at or after the last quantifiable one, and ``middle`` the
    BLQ samples in between.

    Attributes
    ----------
    first, middle, last
        ``"keep"`` keeps the sample with value 0; ``"drop"`` removes it before any
        parameter is computed. The default is PKNCA's: first keep, middle drop, last keep.
    """

    first: BLQAction = "keep"
    middle: BLQAction = "drop"
    last: BLQAction = "keep"

    def __post_init__(self) -> None:
        """Check that every position is ``"keep"`` or ``"drop"``."""
        for name in ("first", "middle", "last"):
            value = getattr(self, name)
            if value not in get_args(BLQAction):
                msg = f"`BLQPolicy.{name}` must be 'keep' or 'drop'; got {value!r}."
                raise DerivationError(msg)

    def describe(self) -> str:
        """One phrase for a methods paragraph, e.g. ``first keep (as 0), middle drop, ...``."""
        parts = [
            f"{name} {'keep (as 0)' if getattr(self, name) == 'keep' else 'drop'}"
            for name in ("first", "middle", "last")
        ]
        return "BLQ samples: " + ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KineticsResult:
    """Non-compartmental CAR-T kinetics, one row per patient and infusion.

    Attributes
    ----------
    table
        One row per patient x infusion with the columns of :data:`NCA_COLUMNS`:
        ``patient_id, infusion, infusion_day`` (day of that infusion, counted from the
        first), ``unit``, ``n_samples`` (non-missing samples on or after the infusion day),
        ``n_blq`` (of which below the LLOQ), ``cmax`` (unit), ``tmax`` (days after the
        infusion), ``auc_0_28`` and ``auc_0_84`` (unit x day), ``tlast`` (days after the
        infusion), ``half_life`` (days), ``half_life_points``, ``half_life_adj_r2``,
        ``persistence_day`` (days since the first infusion). Parameters that cannot be
        estimated are missing (``pd.NA``); the reason is in ``exclusions`` and ``warnings``.
    exclusions
        One row per missing parameter: ``patient_id, infusion, parameter, reason``.
    auc_method
        ``"lin-up/log-down"`` or ``"linear"``.
    blq_policy
        The :class:`BLQPolicy` applied.
    method
        How the numbers were computed (AUC method, BLQ policy, half-life rule, units).
    warnings
        One message per kind of problem, naming the patient-infusions affected.
    """

    table: pd.DataFrame
    exclusions: pd.DataFrame
    auc_method: AucMethod
    blq_policy: BLQPolicy
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of patient x infusion rows."""
        return len(self.table)

    def to_frame(self) -> pd.DataFrame:
        """The per patient x infusion table (a copy of ``table``)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: one row per patient, infusion and parameter."""
        return frame_to_ard(
            self.table, analysis="kinetics_nca", keys=["patient_id", "infusion", "unit"]
        )

    def __repr__(self) -> str:
        n_pat = self.table["patient_id"].nunique()
        return (
            f"KineticsResult(n={self.n}, patients={n_pat}, auc_method={self.auc_method!r}, "
            f"blq=({self.blq_policy.first}, {self.blq_policy.middle}, {self.blq_policy.last}), "
            f"warnings={len(self.warnings)})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InfusionComparisonResult:
    """Each re-infusion against the infusion before it (seed 002 Fig. 3).

    Attributes
    ----------
    table
        One row per patient and re-infusion: ``patient_id, infusion, previous_infusion``,
        then for each of ``cmax, auc_0_28, auc_0_84``: the value after this infusion, the
        value after the previous one (``<name>_previous``) and their ratio
        (``<name>_ratio`` = this / previous; missing when either is missing or the
        previous is 0).
    method
        How the comparison was made.
    warnings
        Problems met (e.g. ratios not computable).
    """

    table: pd.DataFrame
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The comparison table (a copy of ``table``)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: one row per patient, infusion and statistic."""
        return frame_to_ard(
            self.table,
            analysis="infusion_comparison",
            keys=["patient_id", "infusion", "previous_infusion"],
        )

    def __repr__(self) -> str:
        return (
            f"InfusionComparisonResult(n={len(self.table)}, "
            f"patients={self.table['patient_id'].nunique()})"
        )


# ----------------------------------------------------------------------------------------------
# preparation
# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reasons:
    """Per-group reasons why a parameter is missing (collected, then tabulated once)."""

    n_groups: int
    items: list[tuple[str, str, BoolArray]] = field(default_factory=list)

    def add(self, parameters: Sequence[str], reason: str, mask: BoolArray) -> None:
        if mask.any():
            for parameter in parameters:
                self.items.append((parameter, reason, mask))

    def __iter__(self) -> Iterator[tuple[str, str, BoolArray]]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class _Samples:
    """Post-infusion samples sorted by (group, time), plus per-group facts."""

    groups: pd.DataFrame  # patient_id, infusion, infusion_day, unit (one row per group)
    g: IntArray  # group index of each sample
    t: FloatArray  # days since the group's infusion
    v: FloatArray  # value
    quant: BoolArray  # quantifiable (value > 0 and not below the LLOQ)
    c0: FloatArray  # per group: value imputed at time 0 when no sample is there


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"`{table}` lacks column(s) {missing}; expected at least {list(columns)}. "
            "Load the data through cartcohort.validate.load_cohort, or rename the columns."
        )
        raise DerivationError(msg)


def _numeric(frame: pd.DataFrame, column: str, table: str) -> FloatArray:
    try:
        values = pd.to_numeric(frame[column]).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        msg = f"`{table}.{column}` must be numeric; validate the table first."
        raise DerivationError(msg) from exc
    return np.asarray(values, dtype=np.float64)


def _lloq_values(frame: pd.DataFrame, lloq: float | None) -> tuple[FloatArray, str]:
    """Per-row LLOQ (NaN = none) and a description of where it came from."""
    n = len(frame)
    if lloq is not None:
        number = isinstance(lloq, int | float | np.integer | np.floating)
        if isinstance(lloq, bool) or not number or not np.isfinite(lloq) or lloq < 0:
            msg = f"`lloq` must be a finite number >= 0 or None; got {lloq!r}."
            raise DerivationError(msg)
        return np.full(n, float(lloq)), f"{float(lloq):g} (argument, every sample)"
    if "lloq" in frame.columns:
        values = _numeric(frame, "lloq", "kinetics")
        if (values < 0).any():
            msg = "`kinetics.lloq` has negative values; an LLOQ is >= 0."
            raise DerivationError(msg)
        return values, "per-sample `lloq` column (missing LLOQ: value > 0 is quantifiable)"
    return np.full(n, np.nan), "none given (only values of 0 are below the limit)"


def _units(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.Series:
    """One unit per group; mixed units within a group or unknown units are errors."""
    if "unit" not in frame.columns:
        return pd.Series(DEFAULT_UNIT, index=keys.index)
    unit = frame["unit"].astype("string").fillna(DEFAULT_UNIT)
    unknown = sorted(set(unit.unique()) - set(KINETICS_UNIT))
    if unknown:
        msg = (
            f"`kinetics.unit` has {unknown}; allowed units are {list(KINETICS_UNIT)}. "
            "Validate the table first (cartcohort.validate.load_cohort)."
        )
        raise DerivationError(msg)
    per_group = unit.groupby([frame["patient_id"], frame["infusion"]], sort=True).agg(
        ["nunique", "first"]
    )
    mixed = per_group.index[per_group["nunique"] > 1]
    if len(mixed):
        msg = (
            f"Mixed units within one patient and infusion: {list(mixed[:5])}. "
            "NCA needs one unit per profile; convert or split the samples first."
        )
        raise DerivationError(msg)
    return pd.Series(per_group["first"].to_numpy(), index=keys.index)


def _infusion_days(
    frame: pd.DataFrame,
    keys: pd.DataFrame,
    infusions: pd.DataFrame | None,
    collector: WarningCollector,
) -> FloatArray:
    """Day of each group's infusion: from ``infusions``, else 0 / first sample day."""
    first_day = frame.groupby(["patient_id", "infusion"], sort=True)["day"].min()
    first_day_arr = first_day.to_numpy(dtype=np.float64)
    from_table = np.full(len(keys), np.nan)
    if infusions is not None:
        _require_columns(infusions, ("patient_id", "infusion", "day"), "infusions")
        inf = infusions[["patient_id", "infusion", "day"]].copy()
        inf["infusion"] = _numeric(inf, "infusion", "infusions").astype(np.int64)
        inf["day"] = _numeric(inf, "day", "infusions")
        inf = inf.drop_duplicates(["patient_id", "infusion"], keep="first")
        merged = keys.merge(inf, on=["patient_id", "infusion"], how="left")
        from_table = merged["day"].to_numpy(dtype=np.float64, na_value=np.nan)
    is_first = (keys["infusion"] == 1).to_numpy()
    # The standard counts days from the first infusion, so infusion 1 is on day 0.
    default = np.where(is_first, 0.0, first_day_arr)
    assumed = np.isnan(from_table) & ~is_first
    if assumed.any():
        where = "not in `infusions`" if infusions is not None else "no `infusions` table given"
        collector.warn(
            f"Infusion day assumed to be the first sample day for {int(assumed.sum())} "
            f"re-infusion(s) ({where}): {_examples(keys, assumed)}. Pass `infusions=` "
            "with the day of each infusion."
        )
    return np.where(np.isnan(from_table), default, from_table)


def _examples(keys: pd.DataFrame, mask: BoolArray, limit: int = 5) -> str:
    rows = np.flatnonzero(mask)
    pid = keys["patient_id"].to_numpy()
    inf = keys["infusion"].to_numpy()
    shown = ", ".join(f"{pid[i]}/{inf[i]}" for i in rows[:limit])
    more = len(rows) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _check_duplicates(keys: pd.DataFrame, g: IntArray, t: FloatArray) -> None:
    same = (g[1:] == g[:-1]) & (t[1:] == t[:-1])
    if same.any():
        idx = np.unique(g[1:][same])
        shown = ", ".join(
            f"{p}/{i}" for p, i in keys.iloc[idx[:5]][["patient_id", "infusion"]].to_numpy()
        )
        msg = (
            f"More than one sample on the same day for patient/infusion {shown}. The "
            "kinetics key is (patient_id, infusion, day); keep one value per day."
        )
        raise DerivationError(msg)


def _prepare(
    kinetics: pd.DataFrame,
    lloq: float | None,
    infusions: pd.DataFrame | None,
    collector: WarningCollector,
) -> tuple[_Samples, str]:
    _require_columns(kinetics, ("patient_id", "day", "value"), "kinetics")
    frame = kinetics.copy()
    if "infusion" not in frame.columns:
        frame["infusion"] = 1
    infusion = _numeric(frame, "infusion", "kinetics")
    frame["infusion"] = np.where(np.isnan(infusion), 1.0, infusion).astype(np.int64)
    frame["day"] = _numeric(frame, "day", "kinetics")
    if frame["day"].isna().any() or frame["patient_id"].isna().any():
        msg = "`kinetics` has rows without `patient_id` or `day`; validate the table first."
        raise DerivationError(msg)
    value = _numeric(frame, "value", "kinetics")
    if (value < 0).any():
        msg = "`kinetics.value` has negative values; levels are >= 0 (BLQ may be coded 0)."
        raise DerivationError(msg)
    lloq_row, lloq_source = _lloq_values(frame, lloq)
    grouped = frame.groupby(["patient_id", "infusion"], sort=True)
    gid = grouped.ngroup().to_numpy(np.int64)
    keys = grouped.size().reset_index()[["patient_id", "infusion"]]
    units = _units(frame, keys)
    inf_day = _infusion_days(frame, keys, infusions, collector)
    time = frame["day"].to_numpy(np.float64) - inf_day[gid]

    missing = np.isnan(value)
    if missing.any():
        collector.warn(
            f"{int(missing.sum())} kinetics sample(s) without a value were dropped "
            "(PKNCA conc.na = 'drop')."
        )
    quant_all = (value > 0) & ~(value < lloq_row)
    c0 = _predose_values(gid, time, np.where(quant_all, value, 0.0), missing, len(keys))

    keep = ~missing & (time >= 0)
    order = np.lexsort((time[keep], gid[keep]))
    g, t = gid[keep][order], time[keep][order]
    _check_duplicates(keys, g, t)
    groups = keys.assign(infusion_day=inf_day, unit=units.to_numpy())
    samples = _Samples(
        groups=groups, g=g, t=t, v=value[keep][order], quant=quant_all[keep][order], c0=c0
    )
    return samples, lloq_source


def _predose_values(
    gid: IntArray, time: FloatArray, value: FloatArray, missing: BoolArray, n_groups: int
) -> FloatArray:
    """Last pre-infusion value of each group (BLQ as 0), 0 when there is none."""
    c0 = np.zeros(n_groups)
    pre = (time < 0) & ~missing
    if pre.any():
        order = np.lexsort((time[pre], gid[pre]))
        pg, pv = gid[pre][order], value[pre][order]
        last = np.r_[pg[1:] != pg[:-1], True]
        c0[pg[last]] = pv[last]
    return c0


# ----------------------------------------------------------------------------------------------
# segment helpers
# ----------------------------------------------------------------------------------------------


def _segment_reduce(
    ufunc: np.ufunc, values: npt.NDArray[np.generic], g: IntArray, n_groups: int, fill: float
) -> FloatArray:
    """``ufunc.reduce`` of ``values`` within each group of the sorted index ``g``."""
    out = np.full(n_groups, fill, dtype=np.float64)
    if len(g):
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        out[g[starts]] = ufunc.reduceat(values, starts)
    return out


def _segment_cumsum(values: FloatArray, g: IntArray) -> FloatArray:
    """Cumulative sum restarting at each group of the sorted index ``g``."""
    total = np.cumsum(values)
    if not len(g):
        return total
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    counts = np.diff(np.r_[starts, len(g)])
    offset = total[starts] - values[starts]
    return total - np.repeat(offset, counts)


# ----------------------------------------------------------------------------------------------
# BLQ handling
# ----------------------------------------------------------------------------------------------


def _apply_blq(
    s: _Samples, policy: BLQPolicy, n_groups: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Drop or zero BLQ samples by position; returns the cleaned (g, t, conc)."""
    t_q = np.where(s.quant, s.t, np.inf)
    tfirst = _segment_reduce(np.minimum, t_q, s.g, n_groups, np.inf)
    tlast = _segment_reduce(np.maximum, np.where(s.quant, s.t, -np.inf), s.g, n_groups, -np.inf)
    blq = ~s.quant
    # PKNCA clean.conc.blq: with no quantifiable sample every sample is "first".
    first = blq & (s.t <= tfirst[s.g])
    last = blq & ~first & (s.t >= tlast[s.g])
    middle = blq & ~first & ~last
    drop = np.zeros(len(s.g), dtype=bool)
    for position, mask in (("first", first), ("middle", middle), ("last", last)):
        if getattr(policy, position) == "drop":
            drop |= mask
    conc = np.where(s.quant, s.v, 0.0)
    return s.g[~drop], s.t[~drop], conc[~drop]


# ----------------------------------------------------------------------------------------------
# AUC
# ----------------------------------------------------------------------------------------------


def _with_time_zero(
    g: IntArray, t: FloatArray, c: FloatArray, c0: FloatArray, n_groups: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Add a time-0 point (value ``c0``) to every group that has no sample at time 0."""
    has0 = np.zeros(n_groups, dtype=bool)
    has0[g[t == 0]] = True
    add = np.flatnonzero(~has0)
    ga = np.r_[g, add]
    ta = np.r_[t, np.zeros(len(add))]
    ca = np.r_[c, c0[add]]
    order = np.lexsort((ta, ga))
    return ga[order], ta[order], ca[order]


def _auc_windows(
    g: IntArray,
    t: FloatArray,
    c: FloatArray,
    tlast: FloatArray,
    ends: Sequence[float],
    *,
    log_down: bool,
    n_groups: int,
) -> list[FloatArray]:
    """AUC from time 0 to each end, PKNCA ``aucint.last`` style (zero after Tlast)."""
    same = g[1:] == g[:-1]
    gs = g[:-1][same]
    t1, t2 = t[:-1][same], t[1:][same]
    c1, c2 = c[:-1][same], c[1:][same]
    tl = tlast[gs]
    # After Tlast the AUClast convention integrates nothing (PKNCA choose_interval_method).
    live = ~np.isnan(tl) & (t1 < tl)
    is_log = live & (c2 < c1) & (c2 > 0) if log_down else np.zeros(len(gs), dtype=bool)
    out = []
    for end in ends:
        upper = np.minimum(t2, end)
        inside = live & (t1 < end)
        area = np.zeros(len(gs))
        frac = np.zeros(len(gs))
        frac[inside] = (upper[inside] - t1[inside]) / (t2[inside] - t1[inside])
        lin = inside & ~is_log
        c_end_lin = c1[lin] + frac[lin] * (c2[lin] - c1[lin])
        area[lin] = (upper[lin] - t1[lin]) * (c1[lin] + c_end_lin) / 2.0
        lg = inside & is_log
        # Log trapezoid: c(t) = c1 * exp(-k (t - t1)); area = dt * (c1 - c_end) / ln(c1 / c_end).
        # With L = ln(c1 / c_end) = frac * ln(c1 / c2) > 0 this is dt * c1 * -expm1(-L) / L,
        # which stays exact when c_end rounds to c1 (L tiny: the plain form is 0 / 0 = NaN).
        ell = frac[lg] * np.log(c1[lg] / c2[lg])
        shrink = np.ones_like(ell)
        np.divide(-np.expm1(-ell), ell, out=shrink, where=ell > 0)
        area[lg] = (upper[lg] - t1[lg]) * c1[lg] * shrink
        out.append(np.bincount(gs, weights=area, minlength=n_groups).astype(np.float64))
    return out


# ----------------------------------------------------------------------------------------------
# half-life
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _HalfLife:
    half_life: FloatArray
    n_points: FloatArray  # NaN where no fit was chosen
    adj_r2: FloatArray
    n_candidates: IntArray


def _half_life(
    g: IntArray,
    t: FloatArray,
    c: FloatArray,
    tmax: FloatArray,
    *,
    min_points: int,
    factor: float,
    n_groups: int,
) -> _HalfLife:
    """Terminal half-life of every group at once (PKNCA ``pk.calc.half.life``).

    Candidate points are the quantifiable samples after Tmax. Walking back from the last
    one, the fit on the last n points is computed for every n from reverse cumulative sums
    of time and ln(value), both centred on the group's last point for numerical stability.
    """
    cand = (c > 0) & (t > tmax[g])  # NaN tmax (nothing quantifiable) compares False
    gc = g[cand][::-1]  # groups descending, time descending within a group
    tc = t[cand][::-1]
    yc = np.log(c[cand][::-1])
    n_candidates = np.bincount(gc, minlength=n_groups).astype(np.int64)
    result = _HalfLife(
        half_life=np.full(n_groups, np.nan),
        n_points=np.full(n_groups, np.nan),
        adj_r2=np.full(n_groups, np.nan),
        n_candidates=n_candidates,
    )
    if not len(gc):
        return result
    starts = np.flatnonzero(np.r_[True, gc[1:] != gc[:-1]])
    counts = np.diff(np.r_[starts, len(gc)])
    # Centre on each group's last point (Tlast, ln Clast): the fit is unchanged.
    x = tc - np.repeat(tc[starts], counts)
    y = yc - np.repeat(yc[starts], counts)
    n = _segment_cumsum(np.ones(len(gc)), gc)
    sx, sy = _segment_cumsum(x, gc), _segment_cumsum(y, gc)
    sxx = _segment_cumsum(x * x, gc) - sx * sx / n
    syy = _segment_cumsum(y * y, gc) - sy * sy / n
    sxy = _segment_cumsum(x * y, gc) - sx * sy / n
    fitted = n >= min_points
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(fitted, sxy / sxx, np.nan)
        # r2 = 1 - SSR/SST = Sxy^2 / (Sxx Syy); undefined (NaN) when ln(value) is constant,
        # as in R where 0/0 is NaN. A relative tolerance treats rounding residue as 0.
        flat = syy <= 1e-12 * np.maximum(_segment_cumsum(y * y, gc), 1e-300)
        r2 = np.where(fitted & ~flat, sxy * sxy / (sxx * syy), np.nan)
        adj = 1.0 - (1.0 - r2) * (n - 1.0) / (n - 2.0)
    lam = -slope
    best_adj = _segment_reduce(
        np.maximum, np.where(np.isfinite(adj), adj, -np.inf), gc, n_groups, -np.inf
    )
    with np.errstate(invalid="ignore"):
        ok = fitted & (lam > 0) & (adj > best_adj[gc] - factor)
    chosen_n = _segment_reduce(np.maximum, np.where(ok, n, 0.0), gc, n_groups, 0.0)
    pick = ok & (n == chosen_n[gc])
    result.half_life[gc[pick]] = np.log(2.0) / lam[pick]
    result.n_points[gc[pick]] = n[pick]
    result.adj_r2[gc[pick]] = adj[pick]
    return result


# ----------------------------------------------------------------------------------------------
# assembly
# ----------------------------------------------------------------------------------------------


def _nullable_float(values: FloatArray) -> pd.arrays.FloatingArray:
    return pd.arrays.FloatingArray(np.nan_to_num(values, nan=0.0), np.isnan(values))


def _exclusion_frame(groups: pd.DataFrame, reasons: _Reasons) -> pd.DataFrame:
    items = list(reasons)
    if not items:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EXCLUSION_COLUMNS})
    idx = [np.flatnonzero(mask) for _, _, mask in items]
    rows = np.concatenate(idx)
    return pd.DataFrame(
        {
            "patient_id": groups["patient_id"].to_numpy()[rows],
            "infusion": groups["infusion"].to_numpy()[rows],
            "parameter": np.repeat([p for p, _, _ in items], [len(i) for i in idx]),
            "reason": np.repeat([r for _, r, _ in items], [len(i) for i in idx]),
        }
    )


def _report(groups: pd.DataFrame, reasons: _Reasons, collector: WarningCollector) -> None:
    """One warning per (reason, set of parameters), naming the groups affected."""
    merged: dict[tuple[str, bytes], tuple[list[str], BoolArray]] = {}
    for parameter, reason, mask in reasons:
        key = (reason, mask.tobytes())
        merged.setdefault(key, ([], mask))[0].append(parameter)
    for (reason, _), (params, mask) in merged.items():
        collector.warn(
            f"{', '.join(params)} not estimable for {int(mask.sum())} of {len(groups)} "
            f"patient-infusion(s): {reason} ({_examples(groups, mask)})."
        )


def _check_options(
    auc_method: object, blq: object, min_half_life_points: object, adj_r_squared_factor: object
) -> None:
    if auc_method not in get_args(AucMethod):
        msg = f"`auc_method` must be 'lin-up/log-down' or 'linear'; got {auc_method!r}."
        raise DerivationError(msg)
    if not isinstance(blq, BLQPolicy):
        msg = f"`blq` must be a BLQPolicy, e.g. BLQPolicy(middle='keep'); got {blq!r}."
        raise DerivationError(msg)
    if not isinstance(min_half_life_points, int) or min_half_life_points < 3:
        msg = (
            f"`min_half_life_points` must be an integer >= 3 (adjusted r2 needs 3 points); "
            f"got {min_half_life_points!r}."
        )
        raise DerivationError(msg)
    if not isinstance(adj_r_squared_factor, int | float) or not 0 < adj_r_squared_factor < 1:
        msg = f"`adj_r_squared_factor` must be in (0, 1), e.g. 1e-4; got {adj_r_squared_factor!r}."
        raise DerivationError(msg)


def _method_info(
    auc_method: AucMethod,
    blq: BLQPolicy,
    lloq_source: str,
    units: Sequence[str],
    min_points: int,
    factor: float,
) -> MethodInfo:
    trapezoid = (
        "linear-up/log-down trapezoidal rule"
        if auc_method == "lin-up/log-down"
        else "linear trapezoidal rule"
    )
    return MethodInfo(
        estimator="Non-compartmental analysis of CAR-T kinetics",
        description=(
            "Per patient and infusion: Cmax and Tmax (first time of the maximum), AUC from "
            f"the infusion day to day 28 and day 84 after it by the {trapezoid} (area after "
            "Tlast counted as 0; not computed when sampling ended earlier), Tlast, terminal "
            "half-life by log-linear regression on automatically selected points, and the "
            f"last quantifiable day. {blq.describe()}."
        ),
        options={
            "auc_method": auc_method,
            "blq_first": blq.first,
            "blq_middle": blq.middle,
            "blq_last": blq.last,
            "blq_coded_as": 0.0,
            "lloq": lloq_source,
            "tmax": "first",
            "half_life_rule": HALF_LIFE_RULE,
            "min_half_life_points": min_points,
            "adj_r_squared_factor": factor,
            "tmax_in_half_life": False,
            "auc_extrapolation": "none (missing if the last sample is before the window end)",
            "time_zero_value": "sample on the infusion day; else the last pre-infusion sample "
            "of that infusion (BLQ as 0); else 0",
            "time_unit": "days since the infusion (persistence_day: since the first infusion)",
            "unit": ", ".join(units),
            "auc_unit": ", ".join(f"{u} x day" for u in units),
        },
        reference=_REFERENCE,
    )


def kinetics_nca(
    kinetics: pd.DataFrame,
    *,
    auc_method: AucMethod = "lin-up/log-down",
    lloq: float | None = None,
    blq: BLQPolicy = BLQPolicy(),
    infusions: pd.DataFrame | None = None,
    min_half_life_points: int = 3,
    adj_r_squared_factor: float = 1e-4,
) -> KineticsResult:
    """Non-compartmental CAR-T kinetics per patient and infusion.

    Parameters
    ----------
    kinetics
        Long table with ``patient_id``, ``infusion`` (default 1 when absent), ``day``
        (days since the first infusion), ``value`` (level in ``unit``), and optionally
        ``unit`` (``copies_per_ug_dna`` or ``cells_per_ul``; default
        ``copies_per_ug_dna``) and ``lloq`` (same unit as ``value``).
    auc_method
        ``"lin-up/log-down"`` (default, as PKNCA): linear trapezoid while the level rises,
        stays level or either end is 0; log trapezoid when it falls between two positive
        values. ``"linear"``: linear trapezoid everywhere.
    lloq
        Lower limit of quantification for every sample, or ``None`` to use the ``lloq``
        column when present (rows with a missing LLOQ are quantifiable when > 0). A value
        below the LLOQ, or equal to 0, is below the limit (BLQ).
    blq
        What to do with BLQ samples first / in the middle / last; default PKNCA's
        ``BLQPolicy(first="keep", middle="drop", last="keep")``, kept samples coded 0.
    infusions
        Optional ``infusions`` table (``patient_id, infusion, day``) giving the day of
        each infusion. Without it, infusion 1 is on day 0 and a re-infusion on the day of
        its first sample (with a warning).
    min_half_life_points
        Fewest points in the terminal fit (PKNCA ``min.hl.points``, default 3; >= 3).
    adj_r_squared_factor
        Fits within this much of the best adjusted r² are acceptable; the acceptable fit
        with the most points is chosen (PKNCA ``adj.r.squared.factor``, default 1e-4).

    Returns
    -------
    KineticsResult
        ``.table`` has one row per patient and infusion with ``cmax, tmax, auc_0_28,
        auc_0_84, tlast, half_life, persistence_day`` (missing where not estimable, the
        reason in ``.exclusions`` and ``.warnings``) plus ``n_samples, n_blq,
        half_life_points, half_life_adj_r2, unit, infusion_day``.

    Raises
    ------
    DerivationError
        Missing columns, non-numeric or negative values, unknown or mixed units, two
        samples on the same day of one profile, or invalid options.

    Warns
    -----
    StatisticalWarning
        One per kind of non-estimable parameter, naming the patient-infusions affected.

    See Also
    --------
    compare_infusions : Cmax and AUC of each re-infusion against the one before.

    Notes
    -----
    *Time.* Each infusion is analysed on its own clock, ``time = day - infusion_day``.
    Samples before the infusion day are not part of the profile; the last one supplies
    the time-0 value when there is no sample on the infusion day (PKNCA's
    ``start_predose`` imputation); with neither, the time-0 value is 0, as PKNCA's
    ``interpolate.conc`` (``conc.origin = 0``) and as expected before a first CAR-T
    infusion. The time-0 point is used for the AUC only.

    *BLQ.* Positions are those of PKNCA ``clean.conc.blq``; with no quantifiable sample
    all samples are "first". ``n_blq`` counts BLQ samples before the policy is applied.

    *Cmax, Tmax, Tlast.* Cmax is the largest retained value; Tmax the first time it is
    reached (PKNCA ``first.tmax = TRUE``); Tlast the last time with a quantifiable value.
    With no quantifiable sample Cmax is 0 and Tmax, Tlast, half-life and persistence are
    missing (as PKNCA ``pk.calc.cmax``/``pk.calc.tmax``/``pk.calc.tlast``).

    *AUC windows.* AUC0-28d and AUC0-84d integrate from the infusion to day 28 / 84 after
    it. A window end between two samples is interpolated with the segment's rule (log when
    falling between two positive values under lin-up/log-down). Segments starting at or
    after Tlast add nothing (PKNCA AUClast convention, ``aucint.last``). If the last
    sample (quantifiable or not) is before the window end the AUC is missing: PKNCA's
    ``aucint.last`` would instead count the unobserved time after Tlast as 0, and
    ``aucint.inf.obs`` would extrapolate with lambda_z; neither is done here.

    *Half-life.* As PKNCA ``pk.calc.half.life``: candidate points are the quantifiable
    retained samples strictly after Tmax; the last n of them are fitted for every n from
    ``min_half_life_points`` up; among fits with lambda_z > 0 and adjusted r² greater
    than the best adjusted r² of all fits minus ``adj_r_squared_factor``, the one with
    the most points is chosen; half-life = ln 2 / lambda_z.

    *Persistence.* ``persistence_day`` is the last day with a value at or above the LLOQ,
    counted from the first infusion (the ``day`` column's scale) so that it can be set
    against follow-up and relapse days; ``tlast`` is the same sample counted from its own
    infusion. The CIBMTR F4100 persistence item (PCR; date of the last positive test, or
    of the first negative when all are negative) is a reporting rule for forms and is not
    reproduced: with no quantifiable sample ``persistence_day`` is missing.

    References
    ----------
    Denney W, Duvvuri S, Buckeridge C. Simple, automatic noncompartmental analysis:
    the PKNCA R package. J Pharmacokinet Pharmacodyn 2015;42(1):11-107,S65.

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"patient_id": "P1", "infusion": 1, "day": [0, 7, 14, 28, 56, 84],
    ...                   "value": [0.0, 8000.0, 4000.0, 1000.0, 250.0, 62.5], "lloq": 50.0})
    >>> res = kinetics_nca(k)
    >>> r = res.table.iloc[0]
    >>> float(r["cmax"]), float(r["tmax"]), float(r["tlast"])
    (8000.0, 7.0, 84.0)
    >>> round(float(r["half_life"]), 6), int(r["half_life_points"])
    (14.0, 3)
    """
    _check_options(auc_method, blq, min_half_life_points, adj_r_squared_factor)
    collector = WarningCollector()
    samples, lloq_source = _prepare(kinetics, lloq, infusions, collector)
    groups = samples.groups
    n_groups = len(groups)
    reasons = _Reasons(n_groups)

    n_samples = np.bincount(samples.g, minlength=n_groups)
    n_blq = np.bincount(samples.g[~samples.quant], minlength=n_groups)
    t_end = _segment_reduce(np.maximum, samples.t, samples.g, n_groups, np.nan)
    g, t, c = _apply_blq(samples, blq, n_groups)

    cmax = _segment_reduce(np.maximum, c, g, n_groups, np.nan)
    positive = cmax > 0
    tmax = _segment_reduce(np.minimum, np.where(c == cmax[g], t, np.inf), g, n_groups, np.nan)
    tmax[~positive] = np.nan
    tlast = _segment_reduce(np.maximum, np.where(c > 0, t, -np.inf), g, n_groups, np.nan)
    tlast[~positive] = np.nan

    ga, ta, ca = _with_time_zero(g, t, c, samples.c0, n_groups)
    aucs = _auc_windows(
        ga,
        ta,
        ca,
        tlast,
        list(AUC_WINDOWS.values()),
        log_down=auc_method == "lin-up/log-down",
        n_groups=n_groups,
    )
    hl = _half_life(
        g,
        t,
        c,
        tmax,
        min_points=min_half_life_points,
        factor=float(adj_r_squared_factor),
        n_groups=n_groups,
    )

    empty = n_samples == 0
    reasons.add(
        ("cmax", "tmax", "auc_0_28", "auc_0_84", "tlast", "half_life", "persistence_day"),
        "no sample on or after the infusion day",
        empty,
    )
    reasons.add(
        ("cmax",),
        "every sample is below the LLOQ and the BLQ policy drops them",
        ~empty & np.isnan(cmax),
    )
    reasons.add(
        ("tmax", "tlast", "half_life", "persistence_day"),
        "no sample at or above the LLOQ",
        ~empty & ~positive,
    )
    for (name, end), auc in zip(AUC_WINDOWS.items(), aucs, strict=True):
        short = ~empty & (t_end < end)
        auc[short | empty] = np.nan
        reasons.add(
            (name,),
            f"sampling ended before day {end:g} after the infusion (no extrapolation)",
            short,
        )
    few = positive & (hl.n_candidates < min_half_life_points)
    reasons.add(
        ("half_life",),
        f"fewer than {min_half_life_points} quantifiable samples after Tmax",
        few,
    )
    reasons.add(
        ("half_life",),
        "no terminal decline (no acceptable fit with lambda_z > 0)",
        positive & ~few & np.isnan(hl.half_life),
    )
    _report(groups, reasons, collector)

    table = pd.DataFrame(
        {
            "patient_id": groups["patient_id"].to_numpy(),
            "infusion": groups["infusion"].to_numpy(np.int64),
            "infusion_day": _nullable_float(groups["infusion_day"].to_numpy(np.float64)),
            "unit": groups["unit"].to_numpy(),
            "n_samples": n_samples.astype(np.int64),
            "n_blq": n_blq.astype(np.int64),
            "cmax": _nullable_float(cmax),
            "tmax": _nullable_float(tmax),
            "auc_0_28": _nullable_float(aucs[0]),
            "auc_0_84": _nullable_float(aucs[1]),
            "tlast": _nullable_float(tlast),
            "half_life": _nullable_float(hl.half_life),
            "half_life_points": pd.arrays.IntegerArray(
                np.nan_to_num(hl.n_points).astype(np.int64), np.isnan(hl.n_points)
            ),
            "half_life_adj_r2": _nullable_float(hl.adj_r2),
            "persistence_day": _nullable_float(groups["infusion_day"].to_numpy(np.float64) + tlast),
        },
        columns=list(NCA_COLUMNS),
    )
    units = sorted(set(table["unit"])) or [DEFAULT_UNIT]
    return KineticsResult(
        table=table,
        exclusions=_exclusion_frame(groups, reasons),
        auc_method=auc_method,
        blq_policy=blq,
        method=_method_info(
            auc_method, blq, lloq_source, units, min_half_life_points, adj_r_squared_factor
        ),
        warnings=collector.as_tuple(),
    )


# ----------------------------------------------------------------------------------------------
# successive infusions
# ----------------------------------------------------------------------------------------------

_COMPARED = ("cmax", "auc_0_28", "auc_0_84")


def compare_infusions(nca: KineticsResult | pd.DataFrame) -> InfusionComparisonResult:
    """Cmax and AUC after each re-infusion against the infusion before it.

    Parameters
    ----------
    nca
        A :class:`KineticsResult` or its ``table`` (needs ``patient_id, infusion`` and
        ``cmax, auc_0_28, auc_0_84``).

    Returns
    -------
    InfusionComparisonResult
        One row per patient and infusion k that has an earlier infusion in ``nca``, set
        against the closest earlier one (normally k - 1): the values, the previous values
        and the ratios this / previous. Patients with a single infusion have no row.

    Raises
    ------
    DerivationError
        If a required column is missing.

    Notes
    -----
    A ratio is missing when either value is missing or the previous value is 0 (no
    quantifiable expansion after the previous infusion); the count is reported in
    ``warnings``. Ratios are of levels in the same unit; rows whose units differ get no
    ratio.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"patient_id": ["P1", "P1"], "infusion": [1, 2],
    ...                   "unit": "copies_per_ug_dna", "cmax": [1e4, 2.5e3],
    ...                   "auc_0_28": [1e5, 5e4], "auc_0_84": [1.2e5, 6e4]})
    >>> float(compare_infusions(t).table.loc[0, "cmax_ratio"])
    0.25
    """
    table = nca.table if isinstance(nca, KineticsResult) else nca
    _require_columns(table, ("patient_id", "infusion", *_COMPARED), "nca")
    frame = table.sort_values(["patient_id", "infusion"]).reset_index(drop=True)
    prev = frame.groupby("patient_id", sort=False).shift(1)
    has_prev = prev["infusion"].notna().to_numpy()
    out = pd.DataFrame(
        {
            "patient_id": frame.loc[has_prev, "patient_id"].to_numpy(),
            "infusion": frame.loc[has_prev, "infusion"].to_numpy(np.int64),
            "previous_infusion": prev.loc[has_prev, "infusion"].to_numpy(np.int64),
        }
    )
    same_unit = np.ones(len(out), dtype=bool)
    if "unit" in frame.columns:
        same_unit = (
            frame.loc[has_prev, "unit"].to_numpy() == prev.loc[has_prev, "unit"]
        ).to_numpy()
    collector = WarningCollector()
    for name in _COMPARED:
        cur = pd.to_numeric(frame.loc[has_prev, name]).to_numpy(np.float64, na_value=np.nan)
        before = pd.to_numeric(prev.loc[has_prev, name]).to_numpy(np.float64, na_value=np.nan)
        ok = same_unit & ~np.isnan(cur) & ~np.isnan(before) & (before > 0)
        ratio = np.full(len(out), np.nan)
        ratio[ok] = cur[ok] / before[ok]
        out[name] = _nullable_float(cur)
        out[f"{name}_previous"] = _nullable_float(before)
        out[f"{name}_ratio"] = _nullable_float(ratio)
        n_bad = int((~ok).sum())
        if n_bad:
            collector.warn(
                f"{name}_ratio missing for {n_bad} of {len(out)} re-infusion(s): a value is "
                "missing, the previous one is 0, or the units differ."
            )
    method = MethodInfo(
        estimator="Comparison of successive CAR-T infusions",
        description=(
            "For each re-infusion, Cmax and AUC0-28d/AUC0-84d after it divided by those "
            "after the closest earlier infusion of the same patient."
        ),
        options={"ratio": "this / previous", "previous": "closest earlier infusion"},
        reference="seed 002 Fig. 3",
    )
    return InfusionComparisonResult(table=out, method=method, warnings=collector.as_tuple())


__all__ = [
    "AUC_WINDOWS",
    "DEFAULT_UNIT",
    "HALF_LIFE_RULE",
    "NCA_COLUMNS",
    "AucMethod",
    "BLQAction",
    "BLQPolicy",
    "InfusionComparisonResult",
    "KineticsResult",
    "compare_infusions",
    "kinetics_nca",
]
