"""ICAHT: immune effector cell-associated haematotoxicity (EHA/EBMT consensus).

:func:`grade_icaht` grades, per patient, the neutropenia (N-ICAHT) and thrombocytopenia
(T-ICAHT) after CAR-T infusion from the long ``labs`` table (analytes ``anc`` and
``platelets``, canonical unit 10^9/L), with censoring from the ``events`` table and
platelet transfusions from the ``treatments`` table.

Sources (quote, address and status in ``docs/methods/icaht.md``):

* N-ICAHT: Rejeski K et al., "Immune effector cell-associated hematotoxicity: EHA/EBMT
  consensus grading and best practice recommendations", Blood 2023;142(10):865-877,
  https://discovery.ucl.ac.uk/id/eprint/10172207/ -- abstract read (status S): "a
  classification system based on depth and duration of neutropenia was developed for
  early (day 0-30) and late cytopenia (after day +30)". **The grading table itself could
  not be read in any primary or verbatim secondary source: :data:`N_ICAHT_TABLE` is
  UNVERIFIED** (from recollection, cross-checked with one open implementation). It is
  data: pass a confirmed table as ``neutropenia_table=``. Every result's ``method``
  names its status.
* T-ICAHT (2025 thrombocytopenia extension), Table 1 "Definition of T-ICAHT grading",
  http://www.ash-sap.org/view-large/12809257 (status S, verbatim): early days 0-30, PLT
  <50 x 10^9/L for 1-6 days grade 1, >=7 days grade 2; PLT <20 x 10^9/L for 1-13 days
  grade 3, >=14 days grade 4; late days 31-100 (two or more laboratory tests), PLT <100
  grade 1, <50 grade 2, <20 for 1-13 days grade 3, >=14 days grade 4.
* Counting rules (same table footnote, S): "the cumulative length beneath the respective
  threshold is calculated, censoring at the time of disease progression, subsequent line
  of therapy, or death. Days of nonstable count recovery (<3 days) are counted to the
  cumulative total of days"; platelet recovery is "the first of 3 consecutive days with a
  PLT count of >=20 x 10^9/L in the absence of a PLT transfusion for 7 consecutive days".

Interpretations the sources leave open (status N; each is a setting):

* Days without a measurement take the last value for at most ``carry_forward_days``
  days (default 3); later days are *unassessed* and reported per patient. Like a
  nonstable recovery, a run of fewer than 3 days that are not below the threshold (above
  it or unassessed) between two days below it counts as below; longer gaps do not count.
* Censoring: days on and after the first ``censor_events`` event are not counted
  (default progression, relapse, new therapy, HSCT, death).
* Late ICAHT ends at ``late_end_day`` (default 100, the T-ICAHT study's limit; the N-ICAHT
  abstract gives no end) and needs ``late_min_tests`` (default 2) measurements meeting the
  threshold ("two or more laboratory tests or nontransient").
* Recovery day: the first of ``recovery_days`` (3) consecutive assessed days above the
  threshold after the last day below it in days 0 to ``late_end_day``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._results import MethodInfo, WarningCollector
from cartcohort.derive.labs import numeric_labs
from cartcohort.errors import DerivationError, DerivationWarning

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

Phase = Literal["early", "late"]
Comparison = Literal["<", "<="]


@dataclass(frozen=True, slots=True, kw_only=True)
class IcahtCriterion:
    """One cell of an ICAHT grading table: a grade reached by depth and duration.

    Attributes
    ----------
    phase
        ``"early"`` (days 0-30) or ``"late"`` (day 31 to ``late_end_day``).
    comparison, threshold
        The count is "below" when ``count <comparison> threshold`` (10^9/L).
    grade
        Grade given when the criterion is met (1-4).
    min_days
        Minimum cumulative days below the threshold in the phase.
    max_days
        Only for display (the table's upper bound, e.g. 6 in "1-6 days"); the grade is the
        highest grade whose criterion is met, so upper bounds follow from the next row.
    """

    phase: Phase
    comparison: Comparison
    threshold: float
    grade: int
    min_days: int
    max_days: int | None = None

    def below(self, values: FloatArray) -> BoolArray:
        """Whether each value is below this criterion's threshold (NaN -> False)."""
        with np.errstate(invalid="ignore"):
            if self.comparison == "<":
                return np.asarray(values < self.threshold, dtype=bool)
            return np.asarray(values <= self.threshold, dtype=bool)

    def text(self, unit_label: str) -> str:
        """Short description, e.g. ``"early: <= 0.5 x10^9/L for >= 7 days -> grade 2"``."""
        days = (
            f"{self.min_days}-{self.max_days} days"
            if self.max_days is not None
            else f">= {self.min_days} days"
        )
        return (
            f"{self.phase}: {unit_label} {self.comparison} {self.threshold:g} x10^9/L for "
            f"{days} -> grade {self.grade}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IcahtTable:
    """A grading table with its source and status.

    Attributes
    ----------
    name
        Short name (``"N-ICAHT"``, ``"T-ICAHT"``).
    analyte
        ``anc`` or ``platelets`` (data-standard analyte name).
    criteria
        The table's cells.
    status
        ``"secondary"`` (verbatim in a reliable secondary source), ``"unverified"`` or
        ``"user"`` (a table supplied by the user).
    source
        Citation with address.
    """

    name: str
    analyte: str
    criteria: tuple[IcahtCriterion, ...]
    status: str
    source: str


#: N-ICAHT (neutropenia) table -- UNVERIFIED: not found in any readable primary source.
#: Early: ANC <= 500/uL for 1-6 days G1, 7-13 G2, >= 14 G3, >= 30 G4; ANC <= 100/uL for
#: >= 7 days G3, >= 14 days G4. Late (>= 2 tests): ANC <= 1500 G1, <= 1000 G2, <= 500 G3,
#: <= 100 G4.
N_ICAHT_TABLE = IcahtTable(
    name="N-ICAHT",
    analyte="anc",
    status="unverified",
    source="Rejeski K et al. Blood 2023;142(10):865-877 (EHA/EBMT consensus); grading table "
    "UNVERIFIED (abstract only: https://discovery.ucl.ac.uk/id/eprint/10172207/)",
    criteria=(
        IcahtCriterion(
            phase="early", comparison="<=", threshold=0.5, grade=1, min_days=1, max_days=6
        ),
        IcahtCriterion(
            phase="early", comparison="<=", threshold=0.5, grade=2, min_days=7, max_days=13
        ),
        IcahtCriterion(phase="early", comparison="<=", threshold=0.5, grade=3, min_days=14),
        IcahtCriterion(phase="early", comparison="<=", threshold=0.1, grade=3, min_days=7),
        IcahtCriterion(phase="early", comparison="<=", threshold=0.5, grade=4, min_days=30),
        IcahtCriterion(phase="early", comparison="<=", threshold=0.1, grade=4, min_days=14),
        IcahtCriterion(phase="late", comparison="<=", threshold=1.5, grade=1, min_days=1),
        IcahtCriterion(phase="late", comparison="<=", threshold=1.0, grade=2, min_days=1),
        IcahtCriterion(phase="late", comparison="<=", threshold=0.5, grade=3, min_days=1),
        IcahtCriterion(phase="late", comparison="<=", threshold=0.1, grade=4, min_days=1),
    ),
)

#: T-ICAHT (thrombocytopenia) table, 2025 -- verbatim in the ASH table (status S).
T_ICAHT_TABLE = IcahtTable(
    name="T-ICAHT",
    analyte="platelets",
    status="secondary",
    source="T-ICAHT 2025, Table 1 'Definition of T-ICAHT grading', "
    "http://www.ash-sap.org/view-large/12809257",
    criteria=(
        IcahtCriterion(
            phase="early", comparison="<", threshold=50, grade=1, min_days=1, max_days=6
        ),
        IcahtCriterion(phase="early", comparison="<", threshold=50, grade=2, min_days=7),
        IcahtCriterion(
            phase="early", comparison="<", threshold=20, grade=3, min_days=1, max_days=13
        ),
        IcahtCriterion(phase="early", comparison="<", threshold=20, grade=4, min_days=14),
        IcahtCriterion(phase="late", comparison="<", threshold=100, grade=1, min_days=1),
        IcahtCriterion(phase="late", comparison="<", threshold=50, grade=2, min_days=1),
        IcahtCriterion(
            phase="late", comparison="<", threshold=20, grade=3, min_days=1, max_days=13
        ),
        IcahtCriterion(phase="late", comparison="<", threshold=20, grade=4, min_days=14),
    ),
)

#: Last day of early ICAHT (days 0-30, both tables).
EARLY_END_DAY = 30
#: Events after which days are not counted ("progression, subsequent line of therapy, or death").
CENSOR_EVENTS: tuple[str, ...] = ("progression", "relapse", "new_therapy", "hsct", "death")
#: Drug names in the treatments table read as a platelet transfusion (case-insensitive).
PLATELET_TRANSFUSION_DRUGS: tuple[str, ...] = (
    "platelet transfusion",
    "platelets",
    "plt transfusion",
    "platelet concentrate",
)

#: Columns of :attr:`IcahtResult.table`, in order.
ICAHT_COLUMNS = (
    "patient_id",
    "icaht_early_grade",
    "icaht_late_grade",
    "t_icaht_early_grade",
    "t_icaht_late_grade",
    "anc_days_le500_d0_30",
    "anc_days_le100_d0_30",
    "plt_days_lt50_d0_30",
    "plt_days_lt20_d0_30",
    "plt_days_lt20_late",
    "anc_recovery_day",
    "plt_recovery_day",
    "censor_day",
    "anc_days_unassessed_d0_30",
    "plt_days_unassessed_d0_30",
    "icaht_reason",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IcahtResult:
    """ICAHT grades per patient.

    Attributes
    ----------
    table
        One row per patient with the columns of :data:`ICAHT_COLUMNS`. Grades are
        ``Int64``; ``<NA>`` means not gradable (no value measured in the phase), never 0.
        ``*_days_*`` are cumulative days below the threshold (with nonstable recoveries
        counted, censored); ``*_recovery_day`` the first of three consecutive days above
        the grade-1 threshold (ANC > 0.5; PLT >= 20 without transfusion) after the last day
        below; ``censor_day`` the first censoring event.
    daily
        The daily grid used: ``patient_id, day, anc, platelets, anc_carried,
        platelets_carried, platelet_transfusion, censored``.
    tables
        The N-ICAHT and T-ICAHT tables used.
    method
        How the grades were computed; names the status of each table.
    warnings
        Problems found (each also emitted as a :class:`DerivationWarning`).
    """

    table: pd.DataFrame
    daily: pd.DataFrame
    tables: tuple[IcahtTable, IcahtTable]
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-patient table (a copy of ``table``)."""
        return self.table.copy()

    def __repr__(self) -> str:
        return f"IcahtResult(patients={len(self.table)}, warnings={len(self.warnings)})"


# ----------------------------------------------------------------------------------------------
# input
# ----------------------------------------------------------------------------------------------
def _labs_frame(labs: pd.DataFrame, analytes: Sequence[str]) -> pd.DataFrame:
    frame = numeric_labs(labs, analytes, unknown="drop")
    if (frame["day"] != np.round(frame["day"])).any():
        msg = "`labs.day` must hold whole days since infusion for ICAHT."
        raise DerivationError(msg)
    frame = frame.dropna(subset=["value"])
    # several values on one day: the lowest counts (the day was below if any value was)
    lowest: pd.DataFrame = frame.groupby(["patient_id", "analyte", "day"], as_index=False).agg(
        value=("value", "min")
    )
    return lowest


def _censor_days(events: pd.DataFrame | None, censor_events: Sequence[str]) -> pd.Series:
    if events is None or len(events) == 0:
        return pd.Series(dtype=np.float64)
    for col in ("patient_id", "day", "event"):
        if col not in events.columns:
            msg = f"`events` lacks column `{col}`."
            raise DerivationError(msg)
    kinds = events["event"].astype("object").astype("string").str.strip().str.lower()
    rows = events[kinds.isin([e.lower() for e in censor_events]).fillna(value=False).to_numpy()]
    day = pd.to_numeric(rows["day"], errors="coerce")
    return day.groupby(rows["patient_id"].to_numpy()).min().astype(np.float64)


def _transfusion_days(
    treatments: pd.DataFrame | None, drugs: Sequence[str]
) -> dict[object, set[int]]:
    if treatments is None or len(treatments) == 0:
        return {}
    for col in ("patient_id", "day", "drug"):
        if col not in treatments.columns:
            msg = f"`treatments` lacks column `{col}`."
            raise DerivationError(msg)
    names = treatments["drug"].astype("object").astype("string").str.strip().str.lower()
    rows = treatments[names.isin([d.lower() for d in drugs]).fillna(value=False).to_numpy()]
    out: dict[object, set[int]] = {}
    for pid, day in zip(rows["patient_id"], pd.to_numeric(rows["day"]), strict=True):
        if pd.notna(day):
            out.setdefault(pid, set()).add(int(day))
    return out


# ----------------------------------------------------------------------------------------------
# daily grid and counting
# ----------------------------------------------------------------------------------------------
def _grid(
    days: FloatArray, values: FloatArray, end: int, carry: int
) -> tuple[FloatArray, BoolArray]:
    """Daily values on days 0..end: measured, else carried forward <= ``carry`` days."""
    grid = np.full(end + 1, np.nan)
    carried = np.zeros(end + 1, dtype=bool)
    keep = (days >= 0) & (days <= end)
    idx = days[keep].astype(np.int64)
    grid[idx] = values[keep]
    last_day, last_val = -1, np.nan
    for d in range(end + 1):
        if not np.isnan(grid[d]):
            last_day, last_val = d, grid[d]
        elif last_day >= 0 and d - last_day <= carry:
            grid[d] = last_val
            carried[d] = True
    return grid, carried


def fill_nonstable(below: BoolArray, recovery_days: int) -> BoolArray:
    """Count short interruptions between two days below a threshold as days below.

    "Days of nonstable count recovery (<3 days) are counted to the cumulative total of
    days": a run of fewer than ``recovery_days`` days that are not below the threshold
    (above it, or without a value) between two days below it cannot hold a stable
    recovery, so its days count as below. Runs at either end are left alone.

    Parameters
    ----------
    below
        Daily: the count is below the threshold (``False`` for days without a value).
    recovery_days
        Length of a stable recovery (3 in the consensus).

    Returns
    -------
    numpy.ndarray
        ``below`` with the nonstable recoveries filled.
    """
    out = below.copy()
    hits = np.flatnonzero(below)
    for a, b in itertools.pairwise(hits):
        if 1 < b - a <= recovery_days:
            out[a + 1 : b] = True
    return out


def _recovery_day(above: BoolArray, below: BoolArray, recovery_days: int) -> int | None:
    """First of ``recovery_days`` consecutive ``above`` days after the last ``below`` day."""
    hits = np.flatnonzero(below)
    if hits.size == 0:
        return None
    d = int(hits[-1]) + 1
    run = 0
    for day in range(d, len(above)):
        run = run + 1 if above[day] else 0
        if run >= recovery_days:
            return day - recovery_days + 1
    return None


def grade_from_counts(
    table: IcahtTable,
    phase: Phase,
    days_below: Mapping[float, int],
    *,
    tests_below: Mapping[float, int] | None = None,
    min_tests: int = 1,
) -> tuple[int, IcahtCriterion | None]:
    """ICAHT grade of one phase from the days (and tests) below each threshold.

    The one place where a table is applied: :func:`grade_icaht` counts days from daily
    values, the bedside calculator takes the counts from a form.

    Parameters
    ----------
    table
        Grading table (:data:`N_ICAHT_TABLE`, :data:`T_ICAHT_TABLE` or a user table).
    phase
        ``"early"`` or ``"late"``.
    days_below
        Cumulative days below each of the phase's thresholds (keyed by threshold, 10^9/L).
    tests_below
        Measured values below each threshold (default: as many as the days).
    min_tests
        Tests needed for a criterion (late ICAHT: 2).

    Returns
    -------
    tuple
        The grade (0-4) and the criterion that decided it (``None`` for grade 0).

    Raises
    ------
    DerivationError
        When a threshold of the phase has no count.
    """
    grade, decided = 0, None
    for crit in table.criteria:
        if crit.phase != phase:
            continue
        if crit.threshold not in days_below:
            msg = f"{table.name} {phase}: no count of days below {crit.threshold:g} x10^9/L."
            raise DerivationError(msg)
        n_days = int(days_below[crit.threshold])
        n_tests = int((tests_below or days_below).get(crit.threshold, 0))
        if n_days >= crit.min_days and n_tests >= min_tests and crit.grade > grade:
            grade, decided = crit.grade, crit
    return grade, decided


def _grade(
    table: IcahtTable,
    phase: Phase,
    grid: FloatArray,
    measured: BoolArray,
    window: slice,
    recovery_days: int,
    min_tests: int,
) -> tuple[object, dict[float, int]]:
    """Grade of one phase and the cumulative days below each threshold."""
    days_below: dict[float, int] = {}
    tests_below: dict[float, int] = {}
    if not measured[window].any():  # values carried into the phase do not make it gradable
        return pd.NA, days_below
    for crit in table.criteria:
        if crit.phase != phase:
            continue
        below = crit.below(grid)
        days_below[crit.threshold] = int(fill_nonstable(below, recovery_days)[window].sum())
        tests_below[crit.threshold] = int((below & measured)[window].sum())
    grade, _ = grade_from_counts(
        table, phase, days_below, tests_below=tests_below, min_tests=min_tests
    )
    return grade, days_below


def _check_settings(
    carry_forward_days: int, recovery_days: int, late_end_day: int, late_min_tests: int
) -> None:
    for name, value, low in (
        ("carry_forward_days", carry_forward_days, 0),
        ("recovery_days", recovery_days, 1),
        ("late_min_tests", late_min_tests, 1),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            msg = f"`{name}` must be an integer >= {low}; got {value!r}."
            raise DerivationError(msg)
    if not isinstance(late_end_day, int | np.integer) or late_end_day <= EARLY_END_DAY:
        msg = f"`late_end_day` must be an integer > {EARLY_END_DAY}; got {late_end_day!r}."
        raise DerivationError(msg)


def _check_table(table: IcahtTable, analyte: str, argument: str) -> None:
    if not isinstance(table, IcahtTable) or table.analyte != analyte:
        msg = f"`{argument}` must be an IcahtTable for analyte {analyte!r}."
        raise DerivationError(msg)
    for crit in table.criteria:
        if crit.phase not in ("early", "late") or crit.comparison not in ("<", "<="):
            msg = f"`{argument}`: bad criterion {crit!r} (phase early/late, comparison < or <=)."
            raise DerivationError(msg)
        if not 1 <= crit.grade <= 4 or crit.min_days < 1 or not crit.threshold > 0:
            msg = f"`{argument}`: bad criterion {crit!r} (grade 1-4, min_days >= 1, threshold > 0)."
            raise DerivationError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Settings:
    neutropenia: IcahtTable
    thrombocytopenia: IcahtTable
    carry: int
    recovery: int
    end: int
    late_min_tests: int
    transfusion_free_days: int


def _patient(
    pid: object, sub: pd.DataFrame, cday: float, tdays: set[int], cfg: _Settings
) -> tuple[dict[str, object], pd.DataFrame, bool]:
    """One patient's row, daily grid and whether days 0-30 had unassessed days."""
    end, carry_forward_days, recovery_days = cfg.end, cfg.carry, cfg.recovery
    neutropenia_table, thrombocytopenia_table = cfg.neutropenia, cfg.thrombocytopenia
    late_min_tests, transfusion_free_days = cfg.late_min_tests, cfg.transfusion_free_days
    early = slice(0, EARLY_END_DAY + 1)
    late = slice(EARLY_END_DAY + 1, end + 1)
    grids: dict[str, tuple[FloatArray, BoolArray, BoolArray]] = {}
    for analyte in ("anc", "platelets"):
        one = sub[sub["analyte"] == analyte]
        d = one["day"].to_numpy(dtype=np.float64)
        v = one["value"].to_numpy(dtype=np.float64)
        if not np.isnan(cday):
            keep = d < cday
            d, v = d[keep], v[keep]
        grid, carried = _grid(d, v, end, carry_forward_days)
        if not np.isnan(cday):
            grid[int(max(cday, 0)) :] = np.nan
            carried[int(max(cday, 0)) :] = False
        measured = ~np.isnan(grid) & ~carried
        grids[analyte] = (grid, carried, measured)
    t_flag = np.array([d in tdays for d in range(end + 1)], dtype=bool)
    anc, anc_carried, anc_measured = grids["anc"]
    plt, plt_carried, plt_measured = grids["platelets"]
    n_early, n_days = _grade(neutropenia_table, "early", anc, anc_measured, early, recovery_days, 1)
    n_late, _ = _grade(
        neutropenia_table, "late", anc, anc_measured, late, recovery_days, late_min_tests
    )
    t_early, t_days = _grade(
        thrombocytopenia_table, "early", plt, plt_measured, early, recovery_days, 1
    )
    t_late, t_late_days = _grade(
        thrombocytopenia_table, "late", plt, plt_measured, late, recovery_days, late_min_tests
    )
    anc_assessed = ~np.isnan(anc)
    anc_below = fill_nonstable(np.asarray(anc <= 0.5, dtype=bool), recovery_days)
    anc_rec = _recovery_day(anc_assessed & (anc > 0.5), anc_below, recovery_days)
    plt_assessed = ~np.isnan(plt)
    plt_below = fill_nonstable(np.asarray(plt < 20, dtype=bool), recovery_days)
    recent_tx = np.array(
        [bool(t_flag[max(0, d - transfusion_free_days + 1) : d + 1].any()) for d in range(end + 1)]
    )
    plt_rec = _recovery_day(plt_assessed & (plt >= 20) & ~recent_tx, plt_below, recovery_days)
    un_anc = int((~anc_assessed[early]).sum())
    un_plt = int((~plt_assessed[early]).sum())
    if not np.isnan(cday):
        un_anc = int((~anc_assessed[0 : int(min(max(cday, 0), EARLY_END_DAY + 1))]).sum())
        un_plt = int((~plt_assessed[0 : int(min(max(cday, 0), EARLY_END_DAY + 1))]).sum())
    is_sparse = un_anc > 0 and n_early is not pd.NA
    reason = []
    if n_early is pd.NA:
        reason.append("early N-ICAHT not gradable: no ANC on days 0-30")
    if t_early is pd.NA:
        reason.append("early T-ICAHT not gradable: no platelets on days 0-30")
    if not np.isnan(cday):
        reason.append(f"counting censored from day {int(cday)}")
    if un_anc:
        reason.append(f"{un_anc} day(s) of days 0-30 without an ANC value")
    row: dict[str, object] = {
        "patient_id": pid,
        "icaht_early_grade": n_early,
        "icaht_late_grade": n_late,
        "t_icaht_early_grade": t_early,
        "t_icaht_late_grade": t_late,
        "anc_days_le500_d0_30": n_days.get(0.5, pd.NA),
        "anc_days_le100_d0_30": n_days.get(0.1, pd.NA),
        "plt_days_lt50_d0_30": t_days.get(50.0, pd.NA),
        "plt_days_lt20_d0_30": t_days.get(20.0, pd.NA),
        "plt_days_lt20_late": t_late_days.get(20.0, pd.NA),
        "anc_recovery_day": anc_rec if anc_rec is not None else pd.NA,
        "plt_recovery_day": plt_rec if plt_rec is not None else pd.NA,
        "censor_day": int(cday) if not np.isnan(cday) else pd.NA,
        "anc_days_unassessed_d0_30": un_anc,
        "plt_days_unassessed_d0_30": un_plt,
        "icaht_reason": "; ".join(reason) if reason else "graded",
    }
    grid_frame = pd.DataFrame(
        {
            "patient_id": pid,
            "day": np.arange(end + 1),
            "anc": anc,
            "platelets": plt,
            "anc_carried": anc_carried,
            "platelets_carried": plt_carried,
            "platelet_transfusion": t_flag,
            "censored": (np.arange(end + 1) >= cday)
            if not np.isnan(cday)
            else np.zeros(end + 1, dtype=bool),
        }
    )
    return row, grid_frame, is_sparse


# ----------------------------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------------------------
def grade_icaht(
    labs: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    treatments: pd.DataFrame | None = None,
    patient_ids: Sequence[object] | None = None,
    neutropenia_table: IcahtTable = N_ICAHT_TABLE,
    thrombocytopenia_table: IcahtTable = T_ICAHT_TABLE,
    carry_forward_days: int = 3,
    recovery_days: int = 3,
    late_end_day: int = 100,
    late_min_tests: int = 2,
    censor_events: Sequence[str] = CENSOR_EVENTS,
    transfusion_drugs: Sequence[str] = PLATELET_TRANSFUSION_DRUGS,
    transfusion_free_days: int = 7,
) -> IcahtResult:
    """Grade early and late N-ICAHT and T-ICAHT per patient from daily blood counts.

    Parameters
    ----------
    labs
        Long ``labs`` table (``patient_id, day, analyte, value, unit``); rows for ``anc``
        and ``platelets`` (aliases accepted) in 10^9/L are used, days 0 to ``late_end_day``.
    events
        Optional ``events`` table; the first ``censor_events`` event ends counting.
    treatments
        Optional ``treatments`` table; ``transfusion_drugs`` rows are platelet transfusions.
    patient_ids
        Patients to report (default: every patient with ANC or platelet values); a patient
        without values gets missing grades.
    neutropenia_table, thrombocytopenia_table
        Grading tables (default :data:`N_ICAHT_TABLE` -- UNVERIFIED -- and
        :data:`T_ICAHT_TABLE`). Supply a confirmed table with ``status="user"``.
    carry_forward_days
        A day without a measurement takes the last value measured at most this many days
        before (default 3; a setting, not from the source). Other days are unassessed.
    recovery_days
        Consecutive days above a threshold that make a stable recovery (3, as published).
        Shorter runs between days below count as below.
    late_end_day
        Last day of late ICAHT (default 100, the T-ICAHT study's limit).
    late_min_tests
        Measured values meeting a late criterion's threshold needed for that grade
        ("two or more laboratory tests", default 2).
    censor_events
        Event types (``events.event``) that end counting on their day.
    transfusion_drugs, transfusion_free_days
        Treatments read as platelet transfusions, and the transfusion-free days before and
        during a platelet recovery (7, as published).

    Returns
    -------
    IcahtResult
        Per-patient grades and day counts, the daily grid, the tables, method, warnings.

    Raises
    ------
    DerivationError
        For missing columns, non-canonical units, fractional days or bad settings.

    Notes
    -----
    The grade of a phase is the highest grade whose criterion is met: cumulative days
    below the threshold (nonstable recoveries counted, censored days not) at least
    ``min_days`` and, in the late phase, at least ``late_min_tests`` measured values below
    it. A phase without any measured value is not gradable (``<NA>``). Days 0-30 are early
    and days 31 to ``late_end_day`` late. "Not attributable to other causes" (late
    N-ICAHT) cannot be judged from counts: censoring at relapse/progression covers the
    commonest other cause; other causes need review.

    Examples
    --------
    >>> labs = pd.DataFrame({"patient_id": "p", "day": range(0, 31), "analyte": "anc",
    ...                      "value": [0.2] * 10 + [2.0] * 21, "unit": "10^9/L"})
    >>> r = grade_icaht(labs)
    >>> int(r.table.loc[0, "icaht_early_grade"]), int(r.table.loc[0, "anc_days_le500_d0_30"])
    (2, 10)
    """
    _check_settings(carry_forward_days, recovery_days, late_end_day, late_min_tests)
    _check_table(neutropenia_table, "anc", "neutropenia_table")
    _check_table(thrombocytopenia_table, "platelets", "thrombocytopenia_table")
    if not isinstance(labs, pd.DataFrame):
        msg = f"`labs` must be a DataFrame; got {type(labs).__name__}."
        raise DerivationError(msg)
    collector = WarningCollector()
    frame = _labs_frame(labs, ("anc", "platelets"))
    censor = _censor_days(events, censor_events)
    transfused = _transfusion_days(treatments, transfusion_drugs)
    ids = (
        list(dict.fromkeys(patient_ids))
        if patient_ids is not None
        else list(dict.fromkeys(frame["patient_id"].tolist()))
    )
    end = late_end_day
    rows: list[dict[str, object]] = []
    daily: list[pd.DataFrame] = []
    sparse: list[str] = []
    cfg = _Settings(
        neutropenia=neutropenia_table,
        thrombocytopenia=thrombocytopenia_table,
        carry=carry_forward_days,
        recovery=recovery_days,
        end=end,
        late_min_tests=late_min_tests,
        transfusion_free_days=transfusion_free_days,
    )
    for pid in ids:
        row, grid_frame, is_sparse = _patient(
            pid,
            frame[frame["patient_id"] == pid],
            float(censor.get(pid, np.nan)),
            transfused.get(pid, set()),
            cfg,
        )
        rows.append(row)
        daily.append(grid_frame)
        if is_sparse:
            sparse.append(str(pid))
    table = pd.DataFrame(rows, columns=list(ICAHT_COLUMNS))
    for col in ICAHT_COLUMNS[1:-1]:
        table[col] = pd.array(table[col].tolist(), dtype="Int64")
    table["icaht_reason"] = table["icaht_reason"].astype("string")
    if sparse:
        shown = ", ".join(sparse[:5])
        collector.warn(
            f"ICAHT: {len(sparse)} patient(s) have days 0-30 without an ANC value even after "
            f"carrying values forward {carry_forward_days} day(s) (e.g. {shown}); those days "
            "are not counted, so early grades may be too low.",
            DerivationWarning,
        )
    if neutropenia_table.status == "unverified":
        # recorded with the result (and in ``method``), not emitted: it applies to every call
        collector.extend(
            [
                "ICAHT: the N-ICAHT neutropenia table is UNVERIFIED (not found in a readable "
                "primary source); confirm it against Rejeski et al. Blood 2023 or pass "
                "neutropenia_table=."
            ]
        )
    empty_daily = pd.DataFrame(
        columns=[
            "patient_id",
            "day",
            "anc",
            "platelets",
            "anc_carried",
            "platelets_carried",
            "platelet_transfusion",
            "censored",
        ]
    )
    method = MethodInfo(
        estimator="ICAHT (EHA/EBMT)",
        description=(
            f"Early (days 0-{EARLY_END_DAY}) and late (days {EARLY_END_DAY + 1}-{end}) "
            f"{neutropenia_table.name} [table status: {neutropenia_table.status.upper()}] and "
            f"{thrombocytopenia_table.name} [table status: {thrombocytopenia_table.status}] "
            "grades from cumulative days below each threshold (nonstable recoveries of "
            f"< {recovery_days} days counted, censored at {', '.join(censor_events)}); values "
            f"carried forward at most {carry_forward_days} day(s)."
        ),
        options={
            "neutropenia_table_status": neutropenia_table.status,
            "thrombocytopenia_table_status": thrombocytopenia_table.status,
            "carry_forward_days": carry_forward_days,
            "recovery_days": recovery_days,
            "late_end_day": late_end_day,
            "late_min_tests": late_min_tests,
            "transfusion_free_days": transfusion_free_days,
            "censor_events": ",".join(censor_events),
        },
        reference=f"{neutropenia_table.source}; {thrombocytopenia_table.source}",
    )
    return IcahtResult(
        table=table,
        daily=pd.concat(daily, ignore_index=True) if daily else empty_daily,
        tables=(neutropenia_table, thrombocytopenia_table),
        method=method,
        warnings=collector.as_tuple(),
    )


__all__ = [
    "CENSOR_EVENTS",
    "EARLY_END_DAY",
    "ICAHT_COLUMNS",
    "N_ICAHT_TABLE",
    "PLATELET_TRANSFUSION_DRUGS",
    "T_ICAHT_TABLE",
    "IcahtCriterion",
    "IcahtResult",
    "IcahtTable",
    "fill_nonstable",
    "grade_from_counts",
    "grade_icaht",
]
