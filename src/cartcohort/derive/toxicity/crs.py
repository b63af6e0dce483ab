"""Daily CRS grading from bedside observations: ASTCT 2019 and five legacy scales.

One row per patient-day is graded with whole-column numpy operations; the
per-patient state -- which CRS episode a day belongs to and whether the ASTCT
fever waiver is in force -- is computed with grouped running maxima/minima over
the sorted frame. No Python loop runs per patient or per day, so 100,000
patients x 30 days grade in a few seconds.

Partial information
-------------------
Every component (fever, hypotension, hypoxia, organ toxicity ...) is computed as
an interval ``[lower, upper]`` of the grades it could take given what was
recorded: a recorded value gives ``lower == upper``; a missing value gives the
whole range the component could reach (for example ``[0, 4]`` for hypoxia when
neither ``o2_device`` nor ``o2_flow_l_min`` is recorded). The day's grade is the
same maximum over the intervals, so

* ``grade`` is reported only when it is fully determined (``lower == upper``);
  otherwise it is ``<NA>`` -- "not gradable", never 0 and never a guess;
* ``grade_lower_bound`` / ``grade_upper_bound`` keep what *is* known: a febrile
  patient on a facemask whose blood pressure was not recorded is "at least 3,
  at most 4", so the grade is not gradable but the lower bound is 3;
* a missing input that cannot change the answer does not make the day not
  gradable (hypoxia on CPAP is grade 4 whatever the blood pressure was).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from cartcohort._pandas import category_codes
from cartcohort.derive.toxicity.criteria import Scale, astct_crs, ctcae_crs, legacy_crs
from cartcohort.errors import DerivationError, DerivationWarning
from cartcohort.model.standard import CORTICOSTEROIDS_REASON, O2_DEVICE, O2_REASON

Arr = npt.NDArray[Any]

CrsSystem = Literal[
    "astct", "lee2014", "penn", "mskcc", "cartox", "ctcae_v4.03", "ctcae_v5.0", "ctcae_v6.0"
]
FeverWaiver = Literal["within_episode", "after_treatment", "after_crs_onset_and_treatment"]
WaiverStart = Literal["same_day", "next_day"]
VasopressinAlone = Literal["one_vasopressor", "not_a_vasopressor"]
MissingTreatment = Literal["unknown", "not_given"]

#: Every CRS scale by its ``system=`` key.
CRS_SCALES: Mapping[str, Scale] = {
    "astct": astct_crs.SCALE,
    **legacy_crs.SCALES,
    **ctcae_crs.SCALES,
}
#: Provenance string per scale, written into the ``system`` column.
CRS_METHOD: Mapping[str, str] = {k: s.version for k, s in CRS_SCALES.items()}

_CRS_CAUSES = frozenset({"crs", "cytokine release syndrome", "cytokine_release_syndrome"})
_WAIVER_DRUGS = ("antipyretic", "tocilizumab", "corticosteroids", "anticytokine")
#: Waiver drugs whose column is newer than the others: an absent column reads as "not given".
_OPTIONAL_DRUGS = frozenset({"anticytokine"})
#: Default number of consecutive days without fever, hypotension or hypoxia that resolve
#: an episode (a project setting, not a consensus number; docs/methods/crs-grading.md).
RESOLUTION_DAYS = 3
_BIG = 99  # "any number of pressors" upper bound for a missing count


class GradingWarning(DerivationWarning):
    """Observations are inconsistent; the affected days are graded conservatively.

    Examples: ``o2_device == "none"`` with an oxygen flow recorded, or a nasal
    cannula whose recorded flow contradicts its low/high-flow label.
    """


# --------------------------------------------------------------------------------------
# Input parsing (shared with the ICANS grader)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Keys:
    """Sorted patient/day keys of an observations frame."""

    order: Arr  # positions of the input rows in (patient, day) order
    codes: Arr  # patient code per sorted row (0..n_patients-1, in sorted-id order)
    uniques: pd.Index
    day: Arr  # int64 day per sorted row
    starts: Arr  # index of the first row of the row's patient

    @property
    def n(self) -> int:
        return int(self.day.shape[0])

    def patient_ids(self) -> pd.Index:
        return self.uniques.take(self.codes)


class _Obs:
    """Typed, sorted column access with caching; absent columns read as all-missing."""

    def __init__(self, frame: pd.DataFrame, keys: _Keys) -> None:
        self.frame = frame
        self.keys = keys
        self._cache: dict[tuple[str, str], Any] = {}

    def has(self, col: str) -> bool:
        return col in self.frame.columns

    def bool3(self, col: str) -> tuple[Arr, Arr]:
        """``(is_true, is_missing)`` boolean arrays in sorted order."""
        key = (col, "bool")
        if key not in self._cache:
            n = self.keys.n
            if not self.has(col):
                self._cache[key] = (np.zeros(n, bool), np.ones(n, bool))
            else:
                s = self.frame[col]
                if s.dtype == bool:
                    true = s.to_numpy()
                    na = np.zeros(n, bool)
                else:
                    try:
                        b = s.astype("boolean")
                    except (TypeError, ValueError) as exc:
                        msg = (
                            f"column `{col}` must be boolean (True/False/missing); got values "
                            f"such as {s.dropna().unique()[:3].tolist()!r}. Run the validator "
                            "to normalise yes/no tokens."
                        )
                        raise DerivationError(msg) from exc
                    na = b.isna().to_numpy()
                    true = b.fillna(value=False).to_numpy(dtype=bool)
                o = self.keys.order
                self._cache[key] = (true[o], na[o])
        result: tuple[Arr, Arr] = self._cache[key]
        return result

    def num(self, col: str) -> Arr:
        """Float array in sorted order, NaN for missing."""
        key = (col, "num")
        if key not in self._cache:
            if not self.has(col):
                self._cache[key] = np.full(self.keys.n, np.nan)
            else:
                s = self.frame[col]
                try:
                    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":
                        v = s.to_numpy(dtype=np.float64)
                    else:
                        v = s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    msg = f"column `{col}` must be numeric; got {s.dtype} values."
                    raise DerivationError(msg) from exc
                self._cache[key] = v[self.keys.order]
        result: Arr = self._cache[key]
        return result

    def codes(self, col: str, vocab: Sequence[str]) -> Arr:
        """Integer codes into ``vocab`` in sorted order; -1 for missing."""
        key = (col, "codes")
        if key not in self._cache:
            if not self.has(col):
                self._cache[key] = np.full(self.keys.n, -1, dtype=np.int16)
            else:
                s = self.frame[col]
                codes = category_codes(s, list(vocab)).astype(np.int16)
                bad = (codes < 0) & s.notna().to_numpy()
                if bad.any():
                    values = sorted({str(v) for v in s[bad].unique()[:5]})
                    msg = (
                        f"column `{col}` has values outside the data standard: {values}; "
                        f"allowed: {list(vocab)}."
                    )
                    raise DerivationError(msg)
                self._cache[key] = codes[self.keys.order]
        result: Arr = self._cache[key]
        return result


def _check_frame(observations: object, name: str = "observations") -> pd.DataFrame:
    if not isinstance(observations, pd.DataFrame):
        msg = f"`{name}` must be a pandas DataFrame; got {type(observations).__name__}."
        raise DerivationError(msg)
    missing = [c for c in ("patient_id", "day") if c not in observations.columns]
    if missing:
        msg = f"`{name}` needs the columns {missing}; it has {list(observations.columns)}."
        raise DerivationError(msg)
    return observations


def _int_days(s: pd.Series, name: str) -> Arr:
    if s.isna().any():
        msg = f"`{name}.day` has {int(s.isna().sum())} missing values; every row needs a day."
        raise DerivationError(msg)
    try:
        v = s.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = (
            f"`{name}.day` must hold integer days since infusion; got {s.dtype} "
            "(convert ISO dates with the validator first)."
        )
        raise DerivationError(msg) from exc
    if not np.all(np.floor(v) == v):
        msg = f"`{name}.day` must hold whole days; got fractional values."
        raise DerivationError(msg)
    days: Arr = v.astype(np.int64)
    return days


def _sort_keys(frame: pd.DataFrame) -> _Keys:
    """Factorise patients, sort by (patient, day), reject duplicate patient-days."""
    codes, uniques = pd.factorize(frame["patient_id"], sort=True)
    if (codes < 0).any():  # factorize codes missing values as -1
        msg = f"`observations.patient_id` has {int((codes < 0).sum())} missing values."
        raise DerivationError(msg)
    day = _int_days(frame["day"], "observations")
    n = len(frame)
    if n and np.all(np.diff(codes) >= 0) and _sorted_within(codes, day):
        order = np.arange(n)
    else:
        order = np.lexsort((day, codes))
    codes_s = codes[order]
    day_s = day[order]
    same = (codes_s[1:] == codes_s[:-1]) & (day_s[1:] == day_s[:-1])
    if same.any():
        i = int(np.argmax(same))
        msg = (
            f"observations must have one row per patient and day; {int(same.sum())} duplicate "
            f"(patient_id, day) pairs, e.g. ({uniques[codes_s[i]]!r}, {int(day_s[i])})."
        )
        raise DerivationError(msg)
    idx = np.arange(n)
    new = np.ones(n, bool)
    new[1:] = codes_s[1:] != codes_s[:-1]
    starts = np.maximum.accumulate(np.where(new, idx, 0)) if n else idx
    return _Keys(order=order, codes=codes_s, uniques=pd.Index(uniques), day=day_s, starts=starts)


def _sorted_within(codes: Arr, day: Arr) -> bool:
    same = codes[1:] == codes[:-1]
    return bool(np.all(day[1:][same] > day[:-1][same]))


def _grouped_cumany(x: Arr, starts: Arr, *, exclusive: bool = False) -> Arr:
    """Within-patient running "any" (a grouped cumulative max) on sorted rows.

    ``out[i]`` is True when ``x`` is True on some row of the same patient at or
    before ``i`` (strictly before when ``exclusive``). The last True position is
    carried forward with ``np.maximum.accumulate`` and compared with the
    patient's first row -- the numpy form of ``groupby(patient).cummax()``.
    """
    n = x.shape[0]
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(x, idx, -1)) if n else idx
    if exclusive and n:
        last = np.concatenate(([-1], last[:-1]))
    result: Arr = last >= starts
    return result


def _deaths(events: pd.DataFrame | None, causes: frozenset[str]) -> pd.DataFrame:
    """Deaths from ``causes`` as a frame of unique (patient_id, day) pairs."""
    empty = pd.DataFrame({"patient_id": pd.Series([], dtype=object), "day": []})
    if events is None:
        return empty
    _check_frame(events, "events")
    if "event" not in events.columns:
        msg = "`events` needs an `event` column (values such as 'death')."
        raise DerivationError(msg)
    cause_col = "cause" if "cause" in events.columns else "detail"
    if cause_col not in events.columns:
        msg = "`events` needs a `cause` or `detail` column naming the cause of death."
        raise DerivationError(msg)
    ev = events["event"].astype("string").str.strip().str.lower()
    cause = events[cause_col].astype("string").str.strip().str.lower()
    mask = ((ev == "death") & cause.isin(list(causes))).fillna(value=False)
    deaths = events.loc[mask.to_numpy(dtype=bool), ["patient_id", "day"]]
    if deaths.empty:
        return empty
    deaths = deaths.assign(day=_int_days(deaths["day"], "events"))
    return deaths.drop_duplicates().reset_index(drop=True)


def _keys_with_deaths(frame: pd.DataFrame, deaths: pd.DataFrame) -> tuple[pd.DataFrame, _Keys, Arr]:
    """Sort keys; add a row for each death day without an observation; death mask."""
    keys = _sort_keys(frame)
    if deaths.empty:
        return frame, keys, np.zeros(keys.n, bool)
    present = _death_mask(keys, deaths, per_death=True)
    if not present.all():
        frame = pd.concat([frame, deaths.loc[~present]], ignore_index=True)
        keys = _sort_keys(frame)
    return frame, keys, _death_mask(keys, deaths)


def _death_mask(keys: _Keys, deaths: pd.DataFrame, *, per_death: bool = False) -> Arr:
    """Rows of ``keys`` that are death days (or, ``per_death``, deaths that have a row)."""
    dcodes = keys.uniques.get_indexer(pd.Index(deaths["patient_id"]))
    dkey = dcodes.astype(np.int64) * (1 << 32) + deaths["day"].to_numpy(np.int64)
    key = keys.codes.astype(np.int64) * (1 << 32) + keys.day
    if per_death:
        found: Arr = np.isin(dkey, key) & (dcodes >= 0)
        return found
    result: Arr = np.isin(key, dkey)
    return result


# --------------------------------------------------------------------------------------
# Bounds arithmetic
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Component:
    """Interval ``[lo, hi]`` of grades a component can take on each row."""

    name: str
    lo: Arr
    hi: Arr

    @property
    def known(self) -> Arr:
        result: Arr = self.lo == self.hi
        return result

    def grade(self) -> ExtensionArray:
        return _int_array(self.lo, ~self.known)


def _i8(x: Arr | int, n: int) -> Arr:
    return np.broadcast_to(np.asarray(x, dtype=np.int8), (n,)).astype(np.int8)


def _int_array(values: Arr, missing: Arr) -> ExtensionArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), missing.astype(bool))


def _bool_array(true: Arr, missing: Arr) -> ExtensionArray:
    return pd.arrays.BooleanArray(true.astype(bool), missing.astype(bool))


def _grade_from_table(value: Arr, table: Sequence[tuple[float, float, int]], hi_if_na: int) -> _C:
    """Grade of a numeric value by inclusive ranges; missing -> [0, hi_if_na]."""
    na = np.isnan(value)
    conds = [(value >= a) & (value <= b) for a, b, _ in table]
    g = np.select(conds, [np.int8(x) for _, _, x in table], default=np.int8(0)).astype(np.int8)
    return _C(lo=np.where(na, 0, g).astype(np.int8), hi=np.where(na, hi_if_na, g).astype(np.int8))


@dataclass(frozen=True, slots=True)
class _C:
    """An unnamed interval (built before naming)."""

    lo: Arr
    hi: Arr

    def named(self, name: str) -> _Component:
        return _Component(name, self.lo.astype(np.int8), self.hi.astype(np.int8))


def _combine(components: Sequence[_Component], n: int) -> tuple[Arr, Arr]:
    lo = _i8(0, n)
    hi = _i8(0, n)
    for c in components:
        lo = np.maximum(lo, c.lo)
        hi = np.maximum(hi, c.hi)
    return lo, hi


def _labels(names: Sequence[str], prefix: str, sep: str) -> list[str]:
    out = []
    for mask in range(1 << len(names)):
        parts = [nm for i, nm in enumerate(names) if mask >> i & 1]
        out.append(prefix + sep.join(parts))
    return out


def _driver(
    lo: Arr,
    hi: Arr,
    components: Sequence[_Component],
    death: Arr,
    extra_missing: Sequence[tuple[str, Arr]] = (),
) -> pd.Categorical:
    """Which component set the grade, or which missing inputs block it."""
    names = [c.name for c in components]
    det = lo == hi
    drv = np.zeros(lo.shape[0], np.int64)
    miss = np.zeros(lo.shape[0], np.int64)
    for i, c in enumerate(components):
        drv |= ((c.lo == c.hi) & (c.lo == lo) & (lo > 0)).astype(np.int64) << i
        miss |= ((c.lo != c.hi) & (c.hi > lo)).astype(np.int64) << i
    k = len(components)
    for j, (_, m) in enumerate(extra_missing):
        miss |= m.astype(np.int64) << (k + j)
    drv_labels = _labels(names, "", "+")
    drv_labels[0] = "none"
    miss_names = names + [nm for nm, _ in extra_missing]
    miss_labels = _labels(miss_names, "not_gradable: ", ", ")
    miss_labels[0] = "not_gradable"
    categories = [*drv_labels, *miss_labels, "death"]
    code = np.where(det, drv, len(drv_labels) + miss)
    code = np.where(death, len(categories) - 1, code)
    used = np.unique(code)
    remap = np.full(len(categories), -1, np.int64)
    remap[used] = np.arange(used.shape[0])
    return pd.Categorical.from_codes(remap[code], categories=[categories[u] for u in used])


# --------------------------------------------------------------------------------------
# Shared CRS features
# --------------------------------------------------------------------------------------

_DEV = {name: i for i, name in enumerate(O2_DEVICE)}


def _fever(obs: _Obs) -> tuple[Arr, Arr]:
    """``(febrile, missing)``: temp_c >= 38.0 C, inclusive."""
    t = obs.num("temp_c")
    na = np.isnan(t)
    return (~na) & (t >= astct_crs.FEVER_C), na


def _o2_state(obs: _Obs) -> tuple[Arr, Arr, Arr, Arr]:
    """Oxygen support: ``(device_code, flow, unknown, contradictory)``.

    ``unknown`` marks rows where no device is recorded and the flow does not
    settle the question (flow missing or > 0); ``contradictory`` marks
    ``o2_device == "none"`` with a positive flow. Both are graded as unknown.
    """
    d = obs.codes("o2_device", O2_DEVICE)
    f = obs.num("o2_flow_l_min")
    fna = np.isnan(f)
    contra = (d == _DEV["none"]) & ~fna & (f > 0)
    unknown = ((d < 0) & (fna | (f > 0))) | contra
    return d, f, unknown, contra


def _warn_o2(obs: _Obs, keys: _Keys) -> None:
    d, f, _, contra = _o2_state(obs)
    fna = np.isnan(f)
    nc_low = (d == _DEV["low_flow_nasal_cannula"]) & ~fna & (f > astct_crs.LOW_FLOW_MAX_L_MIN)
    nc_high = (d == _DEV["high_flow_nasal_cannula"]) & ~fna & (f <= astct_crs.LOW_FLOW_MAX_L_MIN)
    flow_only = (d < 0) & ~fna & (f > 0)
    checks = (
        (contra, "o2_device is 'none' but an oxygen flow is recorded; hypoxia is not gradable"),
        (nc_low, "low_flow_nasal_cannula with flow > 6 L/min is graded as high flow (ASTCT)"),
        (nc_high, "high_flow_nasal_cannula with flow <= 6 L/min is graded as low flow (ASTCT)"),
        (flow_only, "oxygen flow without o2_device: hypoxia graded only as a range"),
    )
    for mask, text in checks:
        if mask.any():
            i = int(np.argmax(mask))
            pid = keys.uniques[keys.codes[i]]
            warnings.warn(
                f"{int(mask.sum())} day(s): {text}; e.g. patient {pid!r} day {int(keys.day[i])}.",
                GradingWarning,
                stacklevel=3,
            )


def _pressor_count(obs: _Obs) -> tuple[Arr, Arr, Arr, Arr]:
    """All pressors *including* vasopressin (legacy scales): ``(n_lo, n_hi, hy_true, hy_false)``.

    ``hypotension == False`` is read as "no hypotension requiring fluids or
    vasopressors" (the data standard's definition), so a missing pressor count
    on such a day is taken as none.
    """
    vp = obs.num("vasopressors")
    vn_t, vn_na = obs.bool3("vasopressin")
    hy_t, hy_na = obs.bool3("hypotension")
    hy_f = ~hy_t & ~hy_na
    vp_na = np.isnan(vp)
    vpv = np.where(vp_na, 0, vp).astype(np.int64)
    n_lo = vpv + vn_t
    n_hi = np.where(vp_na, _BIG, vpv) + (vn_t | vn_na)
    n_hi = np.where(hy_f, n_lo, n_hi)
    return n_lo, n_hi, hy_t | (n_lo > 0), hy_f & (n_lo == 0)


# --------------------------------------------------------------------------------------
# ASTCT 2019
# --------------------------------------------------------------------------------------


def _astct_hypotension(obs: _Obs, vasopressin_alone: VasopressinAlone) -> _C:
    vp = obs.num("vasopressors")
    vn_t, vn_na = obs.bool3("vasopressin")
    hy_t, hy_na = obs.bool3("hypotension")
    vs = 3 if vasopressin_alone == "one_vasopressor" else 2
    vp_na = np.isnan(vp)
    # Pressor part (vasopressin excluded from the count; "with or without vasopressin").
    p_lo = np.select([vp >= 2, vp == 1, (vp == 0) & vn_t, vp_na & vn_t], [4, 3, vs, vs], default=0)
    p_hi = np.select(
        [vp >= 2, vp == 1, (vp == 0) & (vn_t | vn_na), vp_na], [4, 3, vs, 4], default=0
    )
    hy_f = ~hy_t & ~hy_na
    lo = np.maximum(p_lo, np.where(hy_t, 2, 0))
    hi = np.maximum(p_hi, np.where(hy_f, 0, 2))
    # hypotension == False: nothing beyond what pressors are actually recorded.
    hi = np.where(hy_f, p_lo, hi)
    lo = np.where(hy_f, p_lo, lo)
    return _C(lo, hi)


def _astct_hypoxia(obs: _Obs) -> _C:
    d, f, unknown, _ = _o2_state(obs)
    n = d.shape[0]
    dev_grade = np.zeros(len(O2_DEVICE), np.int8)
    for name, device_grade in astct_crs.DEVICE_GRADE.items():
        dev_grade[_DEV[name]] = device_grade
    g = np.where(d >= 0, dev_grade[np.maximum(d, 0)], 0).astype(np.int8)
    # Nasal cannula: a recorded flow decides low (<= 6 L/min) vs high (> 6 L/min) flow.
    nc = np.isin(d, [_DEV[x] for x in astct_crs.NASAL_CANNULAS]) & ~np.isnan(f)
    g = np.where(nc, np.where(f > astct_crs.LOW_FLOW_MAX_L_MIN, 3, 2), g)
    # No device but a positive flow: oxygen is given, so at least 2 (blow-by is low flow
    # at any flow rate, so even > 6 L/min does not prove 3); the device is unknown (<= 4).
    floor = np.where((d < 0) & ~np.isnan(f) & (f > 0), 2, 0)
    lo = np.where(unknown, floor, g)
    hi = np.where(unknown, 4, g)
    return _C(_i8(lo, n), _i8(hi, n))


def _waiver_drug_flags(
    obs: _Obs, waiver_drugs: Sequence[str], missing_treatment: MissingTreatment
) -> tuple[Arr, Arr, Arr]:
    """``(given, possibly_given, steroid_reason_code)`` of the waiver drugs per sorted row.

    Corticosteroids whose ``corticosteroids_reason`` is ``icans`` or ``other`` do not
    count (steroids for ICANS alone do not start the CRS waiver); a missing reason counts.
    An ``anticytokine`` column that is absent or empty reads as "not given" (the column
    is newer than the others); any other absent or missing flag follows
    ``missing_treatment``.
    """
    n = obs.keys.n
    t_true = np.zeros(n, bool)
    t_na = np.zeros(n, bool)
    reason = obs.codes("corticosteroids_reason", CORTICOSTEROIDS_REASON)
    not_for_crs = reason > CORTICOSTEROIDS_REASON.index("crs")
    for drug in waiver_drugs:
        tr, na = obs.bool3(drug)
        if drug in _OPTIONAL_DRUGS and na.all():
            continue  # not recorded at all (absent or empty column): not given
        if drug == "corticosteroids":
            tr = tr & ~not_for_crs
            na = na & ~not_for_crs
        t_true |= tr
        t_na |= na
    t_possible = t_true | (t_na if missing_treatment == "unknown" else np.zeros(n, bool))
    return t_true, t_possible, reason


def _episode_onsets(
    keys: _Keys, onset: Arr, clear: Arr, *, resolution_days: int, gaps_clear: bool
) -> tuple[Arr, Arr]:
    """Row index of the onset of the CRS episode each row belongs to, and the boundaries.

    An episode starts on an ``onset`` row outside an episode and ends before the first of
    ``resolution_days`` consecutive ``clear`` days. Days without a row count as clear when
    ``gaps_clear`` (the "possibly resolved" reading of a gap) and break a run otherwise.
    Returns ``(onset_idx, boundary)``: ``onset_idx[i] <= i`` when row ``i`` is in an
    episode (``>= n`` or a later row otherwise); ``boundary[i]`` marks an episode
    boundary just before row ``i``. All whole-column numpy: the state only depends on
    the patient's last non-clear row, last gap and last boundary (grouped running maxima).
    """
    n = keys.n
    idx = np.arange(n)
    if n == 0:
        return idx, np.zeros(0, bool)
    day = keys.day
    starts = keys.starts
    first = idx == starts
    last_nc = np.maximum.accumulate(np.where(clear, -1, idx))
    base = np.where(last_nc >= starts, day[np.maximum(last_nc, 0)], day[starts] - 1)
    if not gaps_clear:
        prev_day = np.concatenate(([0], day[:-1]))
        gap = first | (day - prev_day > 1)
        last_gap = np.maximum.accumulate(np.where(gap, idx, -1))
        base = np.maximum(base, day[last_gap] - 1)
    prev_base = np.concatenate(([0], base[:-1]))
    # Clear days before this row: recorded or not (gaps_clear), or the recorded run.
    run_before = day - 1 - prev_base if gaps_clear else np.concatenate(([0], (day - base)[:-1]))
    boundary = ~first & (run_before >= resolution_days)
    last_b = np.maximum(np.maximum.accumulate(np.where(boundary, idx, -1)), starts)
    next_onset = np.minimum.accumulate(np.where(onset, idx, n)[::-1])[::-1]
    onset_idx: Arr = next_onset[last_b]
    return onset_idx, boundary


@dataclass(frozen=True, slots=True)
class _Episodes:
    """Episode state per sorted row: sure and possible readings of missing inputs."""

    onset_sure: Arr  # onset index when missing inputs are read against an episode
    onset_possible: Arr  # ... and read in favour of an episode
    label: Arr  # episode number (1, 2 ...) on active days, 0 outside
    known: Arr  # the label is determined by the recorded inputs
    gap_before: Arr  # unrecorded days just before the row (within the patient's record)


def _episodes(
    keys: _Keys,
    onset: tuple[Arr, Arr],
    clear: tuple[Arr, Arr],
    *,
    resolution_days: int,
) -> _Episodes:
    """Episodes from ``(sure, possible)`` onset rows and ``(sure, possible)`` clear rows.

    The "sure" reading (fewest onsets, most resolutions, gaps possibly clear) gives the
    smallest episodes, the "possible" reading the largest; both only grow with more
    onsets and fewer clear days, so a waiver computed in each is a sound interval.
    Days without a row between two recorded days are unknown: in the "sure" reading
    they are clear, in the "possible" reading the episode may have started (and a drug
    been given) there, so the next recorded row is a possible onset. The episode
    number of a row is reported only when no input up to the row (and up to the next
    day with findings) is ambiguous; active days run from the onset to the last day
    with fever, hypotension or hypoxia before resolution.
    """
    n = keys.n
    idx = np.arange(n)
    prev_day = np.concatenate(([0], keys.day[:-1]))
    gap_before = (idx != keys.starts) & (keys.day - prev_day > 1)
    o_sure, o_poss = onset
    o_poss = o_poss | gap_before
    c_sure, c_poss = clear
    on_a, b_a = _episode_onsets(
        keys, o_sure, c_poss, resolution_days=resolution_days, gaps_clear=True
    )
    on_b, b_b = _episode_onsets(
        keys, o_poss, c_sure, resolution_days=resolution_days, gaps_clear=False
    )
    ambiguous = (o_sure != o_poss) | (c_sure != c_poss) | (b_a != b_b) | gap_before
    in_ep = on_a <= idx
    is_onset = in_ep & (on_a == idx)
    cs = np.cumsum(is_onset)
    number = cs - (cs[keys.starts] - is_onset[keys.starts]) if n else cs
    # Active: a day with findings (not clear) follows in the same episode.
    nxt = np.minimum.accumulate(np.where(~c_poss, idx, n)[::-1])[::-1] if n else idx
    has_next = nxt < n
    j = np.minimum(nxt, max(n - 1, 0))
    same = has_next & (keys.codes[j] == keys.codes)
    active = in_ep & same & in_ep[j] & (number[j] == number)
    amb_so_far = _grouped_cumany(ambiguous, keys.starts)
    patient_amb = (
        (np.bincount(keys.codes, weights=ambiguous, minlength=len(keys.uniques)) > 0)[keys.codes]
        if n
        else ambiguous
    )
    known = ~amb_so_far & np.where(same, ~amb_so_far[j], ~patient_amb)
    return _Episodes(on_a, on_b, np.where(active, number, 0), known, gap_before)


def _astct_waiver(
    obs: _Obs,
    keys: _Keys,
    febrile: Arr,
    fever_na: Arr,
    episodes: _Episodes,
    *,
    fever_waiver: FeverWaiver,
    waiver_start: WaiverStart,
    waiver_drugs: Sequence[str],
    missing_treatment: MissingTreatment,
) -> tuple[Arr, Arr, Arr]:
    """``(waived_for_sure, waived_possibly, steroid_reason)`` per row.

    ``within_episode``: the waiver holds on a day of an episode once a waiver drug was
    given on or after the episode's onset (a fever day); it ends with the episode.
    The other readings are permanent running states (grouped cumulative maxima).
    """
    n = keys.n
    t_true, t_possible, reason = _waiver_drug_flags(obs, waiver_drugs, missing_treatment)
    exclusive = waiver_start == "next_day"
    if fever_waiver == "within_episode":
        idx = np.arange(n)
        out = []
        for drug, onset_idx, gap in (
            (t_true, episodes.onset_sure, np.zeros(n, bool)),
            (t_possible, episodes.onset_possible, episodes.gap_before),
        ):
            last = np.maximum.accumulate(np.where(drug, idx, -1)) if n else idx
            if exclusive and n:
                last = np.concatenate(([-1], last[:-1]))
            # A drug may have been given on an unrecorded day just before a row.
            last = np.maximum(last, np.maximum.accumulate(np.where(gap, idx, -1)) if n else idx)
            out.append((onset_idx <= idx) & (last >= onset_idx))
        return out[0], out[1], reason
    if fever_waiver == "after_crs_onset_and_treatment":
        had_crs = _grouped_cumany(febrile, keys.starts)
        had_crs_possible = _grouped_cumany(febrile | fever_na, keys.starts)
        t_true = t_true & had_crs
        t_possible = t_possible & had_crs_possible
    return (
        _grouped_cumany(t_true, keys.starts, exclusive=exclusive),
        _grouped_cumany(t_possible, keys.starts, exclusive=exclusive),
        reason,
    )


@dataclass(frozen=True, slots=True)
class _Graded:
    lo: Arr
    hi: Arr
    components: tuple[_Component, ...]
    columns: dict[str, Any]
    extra_missing: tuple[tuple[str, Arr], ...] = ()


def _grade_astct(
    obs: _Obs,
    keys: _Keys,
    death: Arr,
    *,
    fever_waiver: FeverWaiver,
    waiver_start: WaiverStart,
    waiver_drugs: Sequence[str],
    vasopressin_alone: VasopressinAlone,
    missing_treatment: MissingTreatment,
    resolution_days: int,
) -> _Graded:
    n = keys.n
    febrile, fever_na = _fever(obs)
    fever_c = _C(_i8(febrile, n), _i8(febrile | fever_na, n)).named("fever")
    # Attribution: support or hypotension recorded as due to another cause is not CRS.
    hypot_raw = _astct_hypotension(obs, vasopressin_alone)
    other_cause, _ = obs.bool3("hypotension_other_cause")
    hypot = _C(np.where(other_cause, 0, hypot_raw.lo), np.where(other_cause, 0, hypot_raw.hi))
    hypox_raw = _astct_hypoxia(obs)
    o2_reason = obs.codes("o2_reason", O2_REASON)
    not_hypoxia = o2_reason > O2_REASON.index("hypoxia")
    hypox = _C(np.where(not_hypoxia, 0, hypox_raw.lo), np.where(not_hypoxia, 0, hypox_raw.hi))
    hypot_c = hypot.named("hypotension")
    hypox_c = hypox.named("hypoxia")
    # Episodes: onset on a fever day (or a death from CRS); clear = no fever, hypotension
    # or hypoxia counted for CRS.
    findings_lo = np.maximum(hypot_c.lo, hypox_c.lo)
    findings_hi = np.maximum(hypot_c.hi, hypox_c.hi)
    episodes = _episodes(
        keys,
        (febrile | death, febrile | fever_na | death),
        (
            ~febrile & ~fever_na & (findings_hi == 0) & ~death,
            ~febrile & (findings_lo == 0) & ~death,
        ),
        resolution_days=resolution_days,
    )
    w_true, w_possible, steroid_reason = _astct_waiver(
        obs,
        keys,
        febrile,
        fever_na,
        episodes,
        fever_waiver=fever_waiver,
        waiver_start=waiver_start,
        waiver_drugs=waiver_drugs,
        missing_treatment=missing_treatment,
    )
    comps = (fever_c, hypot_c, hypox_c)
    inner_lo, inner_hi = _combine(comps, n)
    # "Fever ... and/or": without fever (and no waiver) the day is grade 0.
    gate_true = febrile | w_true
    gate_possible = febrile | fever_na | w_possible
    lo = np.where(gate_true, inner_lo, 0).astype(np.int8)
    hi = np.where(gate_possible, inner_hi, 0).astype(np.int8)
    w_missing = w_possible & ~w_true
    treatment_blocks = w_missing & ~febrile & (hi > lo)
    # Afebrile hypotension/hypoxia outside any CRS episode after an earlier one: flagged.
    idx = np.arange(n)
    earlier_episode = _grouped_cumany(febrile | death, keys.starts, exclusive=True)
    late = (
        ~febrile
        & ~fever_na
        & (findings_lo >= 2)
        & ~w_possible
        & ~(episodes.onset_possible <= idx)
        & earlier_episode
    )
    steroids_given, _ = obs.bool3("corticosteroids")
    steroid_note = np.where(
        steroids_given & ("corticosteroids" in waiver_drugs), np.maximum(steroid_reason, 0), 0
    )
    d, f, _, _ = _o2_state(obs)
    support = ((d >= 0) & (d != _DEV["none"])) | ((d < 0) & ~np.isnan(f) & (f > 0))
    columns = {
        "fever": _bool_array(febrile, fever_na),
        "fever_waived": _bool_array(w_true, w_missing),
        "hypotension_grade": hypot_c.grade(),
        "hypoxia_grade": hypox_c.grade(),
        "episode": _int_array(episodes.label, ~episodes.known),
        "late_afebrile_finding": late,
        "note": _note(
            o2_reason=np.where(not_hypoxia & support, o2_reason, 0),
            other_cause=other_cause & (hypot_raw.hi > 0),
            steroid_reason=steroid_note,
            late=late,
        ),
    }
    return _Graded(lo, hi, comps, columns, (("treatment", treatment_blocks),))


def _note(*, o2_reason: Arr, other_cause: Arr, steroid_reason: Arr, late: Arr) -> pd.Categorical:
    """Why a finding did not count for CRS, per row ("none" when nothing was set aside)."""
    o2_words = ["", *(f"oxygen for {r} not counted as hypoxia" for r in O2_REASON[1:])]
    steroid_words = [
        "",  # given for CRS, or no reason recorded
        *(
            f"corticosteroids for {r} do not start the fever waiver"
            for r in CORTICOSTEROIDS_REASON[1:]
        ),
    ]
    hyp_words = ["", "hypotension from another cause not counted"]
    late_words = ["", "afebrile hypotension/hypoxia outside a CRS episode: not graded as CRS"]
    parts = (o2_words, hyp_words, steroid_words, late_words)
    code = np.zeros(o2_reason.shape[0], np.int64)
    for part, values in zip(parts, (o2_reason, other_cause, steroid_reason, late), strict=True):
        code = code * len(part) + np.asarray(values, dtype=np.int64)
    labels = []
    for combo in np.ndindex(*(len(p) for p in parts)):
        words = [p[i] for p, i in zip(parts, combo, strict=True) if p[i]]
        labels.append("; ".join(words) or "none")
    used = np.unique(code)
    remap = np.full(len(labels), -1, np.int64)
    remap[used] = np.arange(used.shape[0])
    categories = pd.Index([labels[u] for u in used], dtype=object)
    note: pd.Categorical = pd.Categorical.from_codes(remap[code], categories=categories)
    return note


# --------------------------------------------------------------------------------------
# Legacy scales (Lee 2014, Penn, MSKCC, CARTOX, CTCAE v4.03)
# --------------------------------------------------------------------------------------


def _fever_symptoms(obs: _Obs, *, symptoms: bool) -> _C:
    febrile, na = _fever(obs)
    lo = febrile.copy()
    hi = febrile | na
    if symptoms and obs.has("crs_symptoms"):
        st, sna = obs.bool3("crs_symptoms")
        lo |= st
        hi |= st | sna
    return _C(lo.astype(np.int8), hi.astype(np.int8))


def _fio2_oxygen(obs: _Obs) -> _C:
    """O2 by FiO2 (Lee, CARTOX, MSKCC): < 40 % -> 2, >= 40 % -> 3, ventilator -> 4."""
    d, _, unknown, _ = _o2_state(obs)
    phi = obs.num("fio2_pct")
    pna = np.isnan(phi)
    mv = d == _DEV["mechanical_ventilation"]
    on_o2 = (d >= 0) & (d != _DEV["none"]) & ~mv
    # "none" with FiO2 above room air contradicts itself: graded as unknown, not guessed.
    unknown = unknown | ((d == _DEV["none"]) & (phi > 21))
    by_fio2_lo = np.where(pna, 2, np.where(phi >= 40, 3, 2))
    by_fio2_hi = np.where(pna, 3, np.where(phi >= 40, 3, 2))
    unk_lo = np.where(pna, 0, np.where(phi >= 40, 3, np.where(phi > 21, 2, 0)))
    lo = np.select([mv, on_o2, unknown], [4, by_fio2_lo, unk_lo], default=0)
    hi = np.select([mv, on_o2, unknown], [4, by_fio2_hi, 4], default=0)
    return _C(lo, hi)


def _device_oxygen(obs: _Obs, *, any_o2: int) -> _C:
    """O2 by device only: ventilator -> 4, other oxygen -> ``any_o2``, none -> 0."""
    d, _, unknown, _ = _o2_state(obs)
    mv = d == _DEV["mechanical_ventilation"]
    on_o2 = (d >= 0) & (d != _DEV["none"]) & ~mv
    lo = np.select([mv, on_o2], [4, any_o2], default=0)
    hi = np.select([mv, on_o2, unknown], [4, any_o2, 4], default=0)
    return _C(lo, hi)


def _lee_hypotension(obs: _Obs, *, life_threatening: bool) -> _C:
    """Lee 2014 / CARTOX: fluids or one low-dose pressor 2; high-dose or multiple 3."""
    n_lo, n_hi, hy_t, hy_f = _pressor_count(obs)
    hd_t, hd_na = obs.bool3("high_dose_vasopressor")
    hd_f = ~hd_t & ~hd_na
    lo = np.select([n_lo >= 2, n_lo == 1], [3, np.where(hd_t, 3, 2)], default=np.where(hy_t, 2, 0))
    hi = np.select([n_hi >= 2, n_hi == 1], [3, np.where(hd_f, 2, 3)], default=np.where(hy_f, 0, 2))
    if life_threatening:
        lt_t, lt_na = obs.bool3("life_threatening_hypotension")
        lo = np.where(lt_t & (n_lo >= 1), 4, lo)
        hi = np.where((lt_t | lt_na) & (n_hi >= 1), 4, hi)
    return _C(lo, hi)


def _organ(obs: _Obs, *, grade1: bool) -> _C:
    table = [(2, 2, 2), (3, 3, 3), (4, 4, 4)] + ([(1, 1, 1)] if grade1 else [])
    return _grade_from_table(obs.num("organ_toxicity_grade"), table, hi_if_na=4)


def _transaminitis(obs: _Obs, table: Sequence[tuple[float, float, int]]) -> _C:
    return _grade_from_table(
        obs.num("transaminitis_grade"), table, hi_if_na=max(t[2] for t in table)
    )


def _flag(obs: _Obs, col: str, grade: int) -> _C:
    t, na = obs.bool3(col)
    return _C(np.where(t, grade, 0), np.where(t | na, grade, 0))


def _lee(obs: _Obs) -> tuple[_Component, ...]:
    return (
        _fever_symptoms(obs, symptoms=True).named("fever"),
        _lee_hypotension(obs, life_threatening=False).named("hypotension"),
        _fio2_oxygen(obs).named("hypoxia"),
        _organ(obs, grade1=False).named("organ"),
        _transaminitis(obs, [(4, 4, 3)]).named("liver"),
    )


def _cartox(obs: _Obs) -> tuple[_Component, ...]:
    return (
        _fever_symptoms(obs, symptoms=False).named("fever"),
        _lee_hypotension(obs, life_threatening=True).named("hypotension"),
        _fio2_oxygen(obs).named("hypoxia"),
        _organ(obs, grade1=True).named("organ"),
        _transaminitis(obs, [(4, 4, 3)]).named("liver"),
    )


def _mskcc(obs: _Obs) -> tuple[_Component, ...]:
    n_lo, n_hi, hy_t, hy_f = _pressor_count(obs)
    h24_t, h24_na = obs.bool3("vasopressor_24h")
    ref_t, ref_na = obs.bool3("vasopressor_refractory")
    h24_f = ~h24_t & ~h24_na
    lo = np.where(n_lo >= 1, np.where(ref_t, 4, np.where(h24_t, 3, 2)), np.where(hy_t, 1, 0))
    hi = np.where(
        n_hi >= 1, np.where(ref_t | ref_na, 4, np.where(h24_f, 2, 3)), np.where(hy_f, 0, 1)
    )
    return (
        _fever_symptoms(obs, symptoms=True).named("fever"),
        _C(lo, hi).named("hypotension"),
        _fio2_oxygen(obs).named("hypoxia"),
    )


def _penn(obs: _Obs) -> tuple[_Component, ...]:
    n_lo, n_hi, hy_t, hy_f = _pressor_count(obs)
    hd_t, hd_na = obs.bool3("high_dose_vasopressor")
    mfb_t, mfb_na = obs.bool3("multiple_fluid_boluses")
    hd_f = ~hd_t & ~hd_na
    mfb_f = ~mfb_t & ~mfb_na
    lo = np.where(n_lo >= 1, np.where(hd_t, 4, 3), np.where(hy_t, np.where(mfb_t, 3, 1), 0))
    hi = np.where(n_hi >= 1, np.where(hd_f, 3, 4), np.where(hy_f, 0, np.where(mfb_f, 1, 3)))
    return (
        _fever_symptoms(obs, symptoms=True).named("fever"),
        _C(lo, hi).named("hypotension"),
        _device_oxygen(obs, any_o2=3).named("hypoxia"),
        _grade_from_table(obs.num("creatinine_grade"), [(2, 2, 2), (3, 4, 3)], hi_if_na=3).named(
            "renal"
        ),
        _transaminitis(obs, [(3, 3, 2), (4, 4, 3)]).named("liver"),
        _flag(obs, "coagulopathy_transfusion", 3).named("coagulopathy"),
        _flag(obs, "hospitalized_for_crs", 2).named("hospitalisation"),
    )


def _ctcae403(obs: _Obs) -> tuple[_Component, ...]:
    n_lo, n_hi, hy_t, hy_f = _pressor_count(obs)
    fever = _fever_symptoms(obs, symptoms=True)
    hyp = _C(
        np.where(n_lo >= 1, 4, np.where(hy_t, 2, 0)), np.where(n_hi >= 1, 4, np.where(hy_f, 0, 2))
    )
    vent = _device_oxygen(obs, any_o2=0)
    reaction_possible = (fever.hi > 0) | (hyp.hi > 0) | (vent.hi > 0)
    pr_t, pr_na = obs.bool3("ctcae_prolonged")
    course = _C(np.where(pr_t, 3, 0), np.where((pr_t | pr_na) & reaction_possible, 3, 0))
    return (
        fever.named("fever"),
        hyp.named("hypotension"),
        vent.named("ventilation"),
        course.named("course"),
    )


def _ctcae_newer(obs: _Obs, oxygen: ctcae_crs.OxygenRule) -> tuple[_Component, ...]:
    """CTCAE v5.0 / v6.0 (criteria.ctcae_crs): fever 1; fluids 2, one pressor 3, more 4."""
    n_lo, n_hi, hy_t, hy_f = _pressor_count(obs)
    many = ctcae_crs.MULTIPLE_PRESSORS_GRADE
    hyp = _C(
        np.select([n_lo >= 2, n_lo == 1], [many, 3], default=np.where(hy_t, 2, 0)),
        np.select([n_hi >= 2, n_hi == 1], [many, 3], default=np.where(hy_f, 0, 2)),
    )
    comps = [
        _fever_symptoms(obs, symptoms=False).named("fever"),
        hyp.named("hypotension"),
        (_fio2_oxygen(obs) if oxygen == "fio2" else _astct_hypoxia(obs)).named("hypoxia"),
    ]
    if obs.has("crs_life_threatening"):
        comps.append(_flag(obs, "crs_life_threatening", 4).named("life_threatening"))
    return tuple(comps)


_LEGACY: dict[str, Callable[[_Obs], tuple[_Component, ...]]] = {
    "lee2014": _lee,
    "penn": _penn,
    "mskcc": _mskcc,
    "cartox": _cartox,
    "ctcae_v4.03": _ctcae403,
    **{key: partial(_ctcae_newer, oxygen=rule) for key, rule in ctcae_crs.OXYGEN_RULE.items()},
}


def _grade_legacy(obs: _Obs, keys: _Keys, system: str) -> _Graded:
    comps = _LEGACY[system](obs)
    lo, hi = _combine(comps, keys.n)
    columns = {f"{c.name}_grade": c.grade() for c in comps if c.name != "fever"}
    febrile, fever_na = _fever(obs)
    columns = {"fever": _bool_array(febrile, fever_na), **columns}
    return _Graded(lo, hi, comps, columns)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _check_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        msg = f"`{name}` must be one of {list(allowed)}; got {value!r}."
        raise DerivationError(msg)


def _assemble(
    keys: _Keys, graded: _Graded, death: Arr, version: str, resolution_days: int | None = None
) -> pd.DataFrame:
    """The output frame; with ``resolution_days`` (CRS) an ``episode`` column is ensured."""
    lo = np.where(death, 5, graded.lo).astype(np.int8)
    hi = np.where(death, 5, graded.hi).astype(np.int8)
    det = lo == hi
    columns = dict(graded.columns)
    if resolution_days is not None and "episode" not in columns:
        # Scales without a fever gate: an episode starts on a day with grade >= 1 and
        # resolves with `resolution_days` days of grade 0.
        ep = _episodes(
            keys, (lo >= 1, hi >= 1), (hi == 0, lo == 0), resolution_days=resolution_days
        )
        columns["episode"] = _int_array(ep.label, ~ep.known)
    driver = _driver(lo, hi, graded.components, death, graded.extra_missing)
    data: dict[str, Any] = {
        "patient_id": keys.patient_ids(),
        "day": keys.day,
        "system": pd.Categorical.from_codes(np.zeros(keys.n, np.int8), categories=[version]),
        "grade": _int_array(lo, ~det),
        "grade_lower_bound": _int_array(lo, np.zeros(keys.n, bool)),
        "grade_upper_bound": _int_array(hi, np.zeros(keys.n, bool)),
        "driver": driver,
        **columns,
    }
    return pd.DataFrame(data, index=pd.RangeIndex(keys.n), copy=False)


def grade_crs(
    observations: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    system: CrsSystem = "astct",
    fever_waiver: FeverWaiver = "within_episode",
    waiver_start: WaiverStart = "same_day",
    waiver_drugs: Sequence[str] = _WAIVER_DRUGS,
    vasopressin_alone: VasopressinAlone = "one_vasopressor",
    missing_treatment: MissingTreatment = "unknown",
    resolution_days: int = RESOLUTION_DAYS,
) -> pd.DataFrame:
    """Grade cytokine release syndrome for every patient-day.

    Parameters
    ----------
    observations
        The data standard's ``observations`` table: one row per ``patient_id``
        and ``day`` (integer days since infusion), with any of ``temp_c`` (deg C),
        ``hypotension``, ``vasopressors`` (count, vasopressin excluded),
        ``vasopressin``, ``o2_device``, ``o2_flow_l_min`` (L/min), ``antipyretic``,
        ``tocilizumab``, ``corticosteroids``, and the attribution columns
        ``o2_reason``, ``hypotension_other_cause``, ``anticytokine``,
        ``corticosteroids_reason`` (ASTCT only; missing = counted as CRS).
        Legacy scales also read the extra columns listed in
        :data:`cartcohort.derive.toxicity.criteria.legacy_crs.EXTRA_COLUMNS`.
        An absent column means that input is missing on every row. Nullable
        (``Int64``, ``boolean``, categorical) and plain dtypes are accepted.
    events
        Optional ``events`` table (``patient_id, day, event`` and ``cause`` or
        ``detail``). A row ``event == "death"`` whose cause is CRS
        (case-insensitive) gives grade 5 on that day; a row is added if there is
        no observation that day.
    system
        ``"astct"`` (ASTCT 2019, default), ``"lee2014"``, ``"penn"``, ``"mskcc"``,
        ``"cartox"``, ``"ctcae_v4.03"``, ``"ctcae_v5.0"`` or ``"ctcae_v6.0"``.
    fever_waiver
        ASTCT only. ``"within_episode"`` (default, the literal reading of Lee 2019:
        "In patients who have CRS then receive antipyretic or anticytokine therapy
        such as tocilizumab or steroids, fever is no longer required to grade
        subsequent CRS severity"): fever is waived on the days of a CRS episode
        (which always starts on a fever day) once a ``waiver_drugs`` drug was given
        on or after the episode's onset, and the waiver ends with the episode.
        ``"after_treatment"`` (the lenient PMC8021214 paraphrase, "when antipyretic
        or anticytokine therapy is initiated"): once any such drug has been given,
        fever is never required again. ``"after_crs_onset_and_treatment"``: only a
        drug given on or after the first febrile day starts the waiver, which never
        ends.
    waiver_start
        ASTCT only. ``"same_day"`` (default): the waiver covers the day the drug
        is given. ``"next_day"``: it starts the following day.
    waiver_drugs
        ASTCT only. Boolean columns that start the waiver (default: antipyretic,
        tocilizumab, corticosteroids, anticytokine; an ``anticytokine`` column
        that is absent or has no recorded value reads as not given); use
        ``("tocilizumab", "corticosteroids")`` for the SITC wording. Corticosteroids
        with ``corticosteroids_reason`` ``icans`` or ``other`` never start the waiver.
    vasopressin_alone
        ASTCT only. Vasopressin with ``vasopressors == 0``: ``"one_vasopressor"``
        (grade 3, default) or ``"not_a_vasopressor"`` (grade 2).
    missing_treatment
        ASTCT only. A missing drug flag is ``"unknown"`` (default: the waiver may
        or may not apply) or ``"not_given"``.
    resolution_days
        An episode resolves on the first of this many consecutive days without
        fever, hypotension or hypoxia counted for CRS (default 3; a project
        setting, not a consensus number). Days without a row may or may not be
        clear, so a gap can leave the episode state (and grades that depend on it)
        undetermined.

    Returns
    -------
    pandas.DataFrame
        One row per patient-day, sorted by ``patient_id`` and ``day``:
        ``patient_id, day, system`` (e.g. ``"ASTCT-2019"``), ``grade`` (``Int64``;
        ``<NA>`` = not gradable), ``grade_lower_bound``, ``grade_upper_bound``,
        ``driver`` (``"fever"``, ``"hypotension"``, ``"hypoxia"``,
        ``"hypotension+hypoxia"``, ``"death"``, ``"none"`` or
        ``"not_gradable: <components>"``), then the components: ``fever``
        (boolean), and for ASTCT ``fever_waived``, ``hypotension_grade``,
        ``hypoxia_grade`` (after attribution); for legacy scales one
        ``<component>_grade`` each. Then ``episode`` (``Int64``: number of the CRS
        episode the day is an active day of, 0 outside an episode, ``<NA>`` when
        the inputs do not determine it) and, for ASTCT, ``late_afebrile_finding``
        (bool: afebrile hypotension or hypoxia outside any episode after an earlier
        one, not graded as CRS) and ``note`` (what was not counted and why, e.g.
        "oxygen for airway_protection not counted as hypoxia"; ``"none"``).

    Raises
    ------
    DerivationError
        Missing ``patient_id``/``day``, duplicate patient-days, values outside
        the data standard's vocabularies, an unknown option, or a
        ``resolution_days`` that is not a positive integer.

    Warns
    -----
    GradingWarning
        ``o2_device == "none"`` with a flow, nasal-cannula label contradicted by
        the flow, or a flow without a device.

    Notes
    -----
    ASTCT: the grade is the worse of hypotension (no pressor 2, one pressor
    with or without vasopressin 3, several pressors excluding vasopressin 4) and
    hypoxia (low-flow nasal cannula <= 6 L/min or blow-by 2; nasal cannula
    > 6 L/min, facemask, non-rebreather or Venturi 3; CPAP, BiPAP or mechanical
    ventilation 4), given fever >= 38.0 C; fever alone is grade 1; without fever
    (and no waiver) the day is grade 0. Support given for another reason
    (``o2_reason`` other than ``hypoxia``) and hypotension flagged
    ``hypotension_other_cause`` do not count ("not attributable to any other
    cause"). Episodes and the waiver are running states computed with grouped
    cumulative maxima (no loop per patient). A grade is reported only when the
    recorded inputs determine it; see the module docstring and
    ``docs/methods/crs-grading.md``.

    Legacy scales grade each component on its own (fever is a grade-1 symptom,
    not a gate), so rows must be restricted to findings attributed to CRS.

    References
    ----------
    Lee DW et al. Biol Blood Marrow Transplant 2019;25:625-638 (ASTCT).
    Lee DW et al. Blood 2014;124:188-195. Porter D et al. J Hematol Oncol
    2018;11:35. Park JH et al. N Engl J Med 2018;378:449. Neelapu SS et al. Nat
    Rev Clin Oncol 2018;15:47. NCI CTCAE v4.03.

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"patient_id": ["A", "A"], "day": [1, 2],
    ...                     "temp_c": [38.0, 37.0], "hypotension": [False, False],
    ...                     "vasopressors": [0, 0], "vasopressin": [False, False],
    ...                     "o2_device": ["none", "none"],
    ...                     "antipyretic": [False, False], "tocilizumab": [False, False],
    ...                     "corticosteroids": [False, False]})
    >>> grade_crs(obs)["grade"].tolist()
    [1, 0]
    """
    _check_choice("system", system, list(CRS_SCALES))
    _check_choice(
        "fever_waiver",
        fever_waiver,
        ["within_episode", "after_treatment", "after_crs_onset_and_treatment"],
    )
    if (
        isinstance(resolution_days, bool)
        or not isinstance(resolution_days, int | np.integer)
        or resolution_days < 1
    ):
        msg = f"`resolution_days` must be a positive integer; got {resolution_days!r}."
        raise DerivationError(msg)
    _check_choice("waiver_start", waiver_start, ["same_day", "next_day"])
    _check_choice("vasopressin_alone", vasopressin_alone, ["one_vasopressor", "not_a_vasopressor"])
    _check_choice("missing_treatment", missing_treatment, ["unknown", "not_given"])
    if isinstance(waiver_drugs, str) or not waiver_drugs:
        msg = f"`waiver_drugs` must be a non-empty sequence of column names; got {waiver_drugs!r}."
        raise DerivationError(msg)
    frame, keys, death = _keys_with_deaths(_check_frame(observations), _deaths(events, _CRS_CAUSES))
    obs = _Obs(frame, keys)
    _warn_o2(obs, keys)
    if system == "astct":
        graded = _grade_astct(
            obs,
            keys,
            death,
            resolution_days=int(resolution_days),
            fever_waiver=fever_waiver,
            waiver_start=waiver_start,
            waiver_drugs=tuple(waiver_drugs),
            vasopressin_alone=vasopressin_alone,
            missing_treatment=missing_treatment,
        )
    else:
        graded = _grade_legacy(obs, keys, system)
    return _assemble(keys, graded, death, CRS_METHOD[system], int(resolution_days))


# --------------------------------------------------------------------------------------
# Per-patient summary
# --------------------------------------------------------------------------------------


def _patient_flag(observations: pd.DataFrame | None, col: str, ids: pd.Index) -> ExtensionArray:
    """Any True -> True; all False -> False; otherwise missing."""
    if observations is None or col not in observations.columns:
        return _bool_array(np.zeros(len(ids), bool), np.ones(len(ids), bool))
    try:
        b = observations[col].astype("boolean")
    except (TypeError, ValueError) as exc:
        msg = f"column `{col}` must be boolean (True/False/missing)."
        raise DerivationError(msg) from exc
    df = pd.DataFrame(
        {"pid": observations["patient_id"].to_numpy(), "t": b.fillna(value=False), "na": b.isna()}
    )
    g = df.groupby("pid", sort=False)[["t", "na"]].any().reindex(ids)
    t = g["t"].fillna(value=False).to_numpy(dtype=bool)
    na = (g["na"].fillna(value=True).to_numpy(dtype=bool)) & ~t
    return _bool_array(t, na)


def _episode_summary(grades: pd.DataFrame) -> pd.DataFrame:
    """Per-patient max grade, onset and duration with the bounds rule."""
    need = ["patient_id", "day", "grade_lower_bound", "grade_upper_bound", "system"]
    missing = [c for c in need if c not in grades.columns]
    if missing:
        msg = f"`grades` must come from grade_crs/grade_icans; missing columns {missing}."
        raise DerivationError(msg)
    if grades["system"].nunique() > 1:
        msg = (
            f"`grades` mixes systems {sorted(grades['system'].astype(str).unique())}; "
            "summarise one system at a time (crs_concordance compares systems)."
        )
        raise DerivationError(msg)
    lo = grades["grade_lower_bound"].to_numpy(dtype=np.int64)
    hi = grades["grade_upper_bound"].to_numpy(dtype=np.int64)
    day = grades["day"].to_numpy(dtype=np.int64)
    certain = lo >= 1
    uncertain = (lo < 1) & (hi >= 1)
    big = np.iinfo(np.int64).max
    df = pd.DataFrame(
        {
            "patient_id": grades["patient_id"].to_numpy(),
            "lo": lo,
            "hi": hi,
            "first_c": np.where(certain, day, big),
            "last_c": np.where(certain, day, -big),
            "first_u": np.where(uncertain, day, big),
            "n_c": certain.astype(np.int64),
            "n_u": uncertain.astype(np.int64),
            "n_ng": (lo != hi).astype(np.int64),
            "system": grades["system"].astype(str).to_numpy(),
        }
    )
    g = df.groupby("patient_id", sort=True)
    agg = g.agg(
        max_lo=("lo", "max"),
        max_hi=("hi", "max"),
        first_c=("first_c", "min"),
        last_c=("last_c", "max"),
        first_u=("first_u", "min"),
        n_c=("n_c", "sum"),
        n_u=("n_u", "sum"),
        n_days=("lo", "size"),
        n_not_gradable=("n_ng", "sum"),
        system=("system", "first"),
    )
    max_lo = agg["max_lo"].to_numpy()
    max_hi = agg["max_hi"].to_numpy()
    first_c = agg["first_c"].to_numpy()
    first_u = agg["first_u"].to_numpy()
    has_c = first_c != big
    n_u = agg["n_u"].to_numpy()
    onset_known = has_c & (first_c < first_u)
    out = pd.DataFrame(
        {
            "patient_id": agg.index.to_numpy(),
            "system": agg["system"].to_numpy(),
            "max_grade": _int_array(max_lo, max_lo != max_hi),
            "max_grade_lower_bound": _int_array(max_lo, np.zeros(len(agg), bool)),
            "max_grade_upper_bound": _int_array(max_hi, np.zeros(len(agg), bool)),
            "onset_day": _int_array(np.where(onset_known, first_c, 0), ~onset_known),
            "duration_days": _int_array(agg["n_c"].to_numpy(), n_u > 0),
            "span_days": _int_array(
                np.where(has_c, agg["last_c"].to_numpy() - first_c + 1, 0), n_u > 0
            ),
            "n_days": agg["n_days"].to_numpy(),
            "n_not_gradable": agg["n_not_gradable"].to_numpy(),
        }
    )
    return out


def _episode_counts(grades: pd.DataFrame, ids: pd.Index) -> tuple[ExtensionArray, ExtensionArray]:
    """Per patient: number of episodes and days from onset to the last active day, summed."""
    n = len(ids)
    if "episode" not in grades.columns:
        missing = np.ones(n, bool)
        return _int_array(np.zeros(n), missing), _int_array(np.zeros(n), missing)
    ep = grades["episode"].astype("Int64")
    df = pd.DataFrame(
        {
            "pid": grades["patient_id"].to_numpy(),
            "ep": ep.fillna(0).to_numpy(dtype=np.int64),
            "na": ep.isna().to_numpy(),
            "day": grades["day"].to_numpy(dtype=np.int64),
        }
    )
    per_patient = df.groupby("pid", sort=False).agg(n_ep=("ep", "max"), na=("na", "any"))
    active = df[df["ep"] > 0].groupby(["pid", "ep"], sort=False)["day"].agg(["min", "max"])
    days = (active["max"] - active["min"] + 1).groupby(level="pid").sum()
    per_patient = per_patient.reindex(ids)
    unknown = per_patient["na"].fillna(value=True).to_numpy(dtype=bool)
    n_ep = per_patient["n_ep"].fillna(0).to_numpy(dtype=np.int64)
    total = days.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    return _int_array(n_ep, unknown), _int_array(total, unknown)


def summarize_crs(
    grades: pd.DataFrame, *, observations: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per-patient CRS summary of a :func:`grade_crs` table.

    Parameters
    ----------
    grades
        Output of :func:`grade_crs` (one system).
    observations
        The observations that were graded; used for the ``tocilizumab`` and
        ``corticosteroids`` flags. Without it both flags are missing.

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``patient_id, system, max_grade`` (``Int64``),
        ``max_grade_lower_bound``, ``max_grade_upper_bound``, ``onset_day``,
        ``duration_days``, ``span_days``, ``n_days``, ``n_not_gradable``,
        ``n_episodes``, ``episode_days`` (``Int64``), ``tocilizumab``,
        ``corticosteroids`` (nullable booleans).

    Notes
    -----
    ``max_grade`` is reported when the not-gradable days cannot exceed the
    maximum of the others (the largest lower bound equals the largest upper
    bound); otherwise it is missing and ``max_grade_lower_bound`` keeps what is
    known. ``onset_day`` is the first day with grade >= 1, missing if an earlier
    day might have been >= 1. ``duration_days`` counts days with grade >= 1 and
    ``span_days`` is last - first + 1 of those days (equal when observations are
    daily and the episode is uninterrupted); both are missing when any day might
    or might not have been CRS. ``n_episodes`` counts the CRS episodes of
    :func:`grade_crs` (its ``episode`` column) and ``episode_days`` adds up, over
    the episodes, the days from onset to the last day with fever, hypotension or
    hypoxia counted for CRS; both are missing when any day's episode is not
    determined (or the grades have no ``episode`` column). Drug flags: True if
    given on any day, False if recorded as not given on every day, else missing.
    """
    out = _episode_summary(grades)
    ids = pd.Index(out["patient_id"])
    out["n_episodes"], out["episode_days"] = _episode_counts(grades, ids)
    out["tocilizumab"] = _patient_flag(observations, "tocilizumab", ids)
    out["corticosteroids"] = _patient_flag(observations, "corticosteroids", ids)
    return out


__all__ = [
    "CRS_METHOD",
    "CRS_SCALES",
    "RESOLUTION_DAYS",
    "CrsSystem",
    "FeverWaiver",
    "GradingWarning",
    "MissingTreatment",
    "VasopressinAlone",
    "WaiverStart",
    "grade_crs",
    "summarize_crs",
]
