"""Daily ICANS grading (ASTCT 2019; CTCAE v6.0) with ICE for adults and CAPD for children.

Each domain -- ICE (or CAPD), level of consciousness, seizure, motor findings,
raised ICP / cerebral oedema -- is an interval of grades given what was
recorded, exactly as in :mod:`cartcohort.derive.toxicity.crs`; the day's grade
is the most severe domain and is reported only when the recorded domains
determine it. Tremor and myoclonus are not inputs: the consensus says they "do
not influence ICANS grading".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from cartcohort.derive.toxicity.criteria import Scale, astct_icans, ctcae_icans
from cartcohort.derive.toxicity.crs import (
    _C,
    Arr,
    _assemble,
    _bool_array,
    _check_choice,
    _check_frame,
    _Component,
    _deaths,
    _episode_summary,
    _Graded,
    _i8,
    _int_array,
    _Keys,
    _keys_with_deaths,
    _Obs,
)
from cartcohort.errors import DerivationError
from cartcohort.model.standard import CEREBRAL_EDEMA, CONSCIOUSNESS, MOTOR_WEAKNESS, SEIZURE

IcansSystem = Literal["astct", "ctcae_v6.0"]

#: Every ICANS scale by its ``system=`` key.
ICANS_SCALES: Mapping[str, Scale] = {"astct": astct_icans.SCALE, "ctcae_v6.0": ctcae_icans.SCALE}
#: Provenance string per ICANS system.
ICANS_METHOD: Mapping[str, str] = {k: v.version for k, v in ICANS_SCALES.items()}

_ICANS_CAUSES = frozenset(
    {"icans", "immune effector cell-associated neurotoxicity syndrome", "neurotoxicity"}
)
_MISSING_AS_NONE_ALLOWED = ("seizure", "motor_weakness", "cerebral_edema")
_UNAROUSABLE = CONSCIOUSNESS.index("unarousable")


def _table(vocab: Sequence[str], grades: Mapping[str, int]) -> Arr:
    return np.array([grades[v] for v in vocab], dtype=np.int8)


def _categorical_domain(
    obs: _Obs, col: str, vocab: Sequence[str], grades: Mapping[str, int], *, missing_as_none: bool
) -> _C:
    codes = obs.codes(col, vocab)
    table = _table(vocab, grades)
    g = table[np.maximum(codes, 0)]
    na = codes < 0
    if missing_as_none:
        g = np.where(na, 0, g)
        return _C(g, g)
    return _C(np.where(na, 0, g), np.where(na, max(grades.values()), g))


def _ice(obs: _Obs, unarousable: Arr, consciousness_na: Arr) -> _C:
    s = obs.num("ice_score")
    conds = [(s >= a) & (s <= b) for a, b, _ in astct_icans.ICE_BANDS]
    g = np.select(conds, [g for _, _, g in astct_icans.ICE_BANDS], default=0)
    na = np.isnan(s)
    # "ICE score of 0 ... grade 4 ICANS if unarousable": an unarousable patient cannot do ICE.
    lo = np.where(unarousable, 4, np.where(na, 0, g))
    hi = np.where(unarousable, 4, np.where(na, np.where(consciousness_na, 4, 3), g))
    return _C(lo, hi)


def _capd(obs: _Obs, unarousable: Arr, consciousness_na: Arr) -> _C:
    c = obs.num("capd_score")
    na = np.isnan(c)
    g = np.select([c >= astct_icans.CAPD_DELIRIUM_CUTOFF, c >= 1], [3, 1], default=0)
    lo = np.where(unarousable, 4, np.where(na, 0, g))
    hi = np.where(unarousable, 4, np.where(na, np.where(consciousness_na, 4, 3), g))
    return _C(lo, hi)


def _ages(
    frame: pd.DataFrame,
    keys: _Keys,
    age_years: Mapping[Hashable, float] | pd.Series | None,
) -> tuple[Arr, bool]:
    """Age per sorted row (NaN unknown) and whether any age information was given."""
    if age_years is not None:
        series = age_years if isinstance(age_years, pd.Series) else pd.Series(dict(age_years))
        try:
            ages = pd.to_numeric(series, errors="raise").astype(float)
        except (TypeError, ValueError) as exc:
            msg = "`age_years` must map patient_id to a number of years."
            raise DerivationError(msg) from exc
        per_patient = ages.reindex(keys.uniques).to_numpy(dtype=np.float64)
        return per_patient[keys.codes], True
    if "age_years" in frame.columns:
        return _Obs(frame, keys).num("age_years"), True
    return np.full(keys.n, np.nan), False


def _delays(
    frame: pd.DataFrame,
    keys: _Keys,
    developmental_delay: Mapping[Hashable, bool | None] | pd.Series | None,
) -> tuple[Arr, Arr]:
    """``(delayed, unknown)`` per sorted row; both False when no delay information is given."""
    if developmental_delay is not None:
        series = (
            developmental_delay
            if isinstance(developmental_delay, pd.Series)
            else pd.Series(dict(developmental_delay), dtype=object)
        )
        try:
            flags = series.astype("boolean").reindex(keys.uniques)
        except (TypeError, ValueError) as exc:
            msg = "`developmental_delay` must map patient_id to True, False or missing."
            raise DerivationError(msg) from exc
        true = flags.fillna(value=False).to_numpy(dtype=bool)
        na = flags.isna().to_numpy()
        return true[keys.codes], na[keys.codes]
    if "developmental_delay" in frame.columns:
        return _Obs(frame, keys).bool3("developmental_delay")
    return np.zeros(keys.n, bool), np.zeros(keys.n, bool)


def _instrument(
    ages: Arr, *, age_given: bool, delays: tuple[Arr, Arr], capd_age_below: float
) -> tuple[Arr, Arr, Arr]:
    """``(child, unknown, adult)`` per row: CAPD, either instrument, or ICE."""
    n = ages.shape[0]
    if age_given:
        child = ages < capd_age_below
        unknown = np.isnan(ages)
    else:  # no age information: the ICE (adult) instrument is used for everyone
        child = np.zeros(n, bool)
        unknown = np.zeros(n, bool)
    # Developmental delay routes an older patient to CAPD; a delay not known for a patient
    # who is not a child by age leaves the instrument unknown (ICE or CAPD).
    delayed, delay_unknown = delays
    child = child | delayed
    unknown = ~child & (unknown | delay_unknown)
    return child, unknown, ~child & ~unknown


def _grade_astct_icans(
    obs: _Obs,
    keys: _Keys,
    ages: Arr,
    *,
    age_given: bool,
    delays: tuple[Arr, Arr],
    capd_age_below: float,
    missing_as_none: Sequence[str],
) -> _Graded:
    n = keys.n
    cons_codes = obs.codes("consciousness", CONSCIOUSNESS)
    cons_na = cons_codes < 0
    unarousable = cons_codes == _UNAROUSABLE
    cons = _categorical_domain(
        obs,
        "consciousness",
        CONSCIOUSNESS,
        astct_icans.CONSCIOUSNESS_GRADE,
        missing_as_none=False,
    ).named("consciousness")
    ice = _ice(obs, unarousable, cons_na)
    capd = _capd(obs, unarousable, cons_na)
    child, unknown, adult = _instrument(
        ages, age_given=age_given, delays=delays, capd_age_below=capd_age_below
    )
    zero = _i8(0, n)
    ice_c = _Component(
        "ice",
        np.where(adult, ice.lo, np.where(unknown, np.minimum(ice.lo, capd.lo), zero)).astype(
            np.int8
        ),
        np.where(adult, ice.hi, np.where(unknown, np.maximum(ice.hi, capd.hi), zero)).astype(
            np.int8
        ),
    )
    capd_c = _Component(
        "capd",
        np.where(child, capd.lo, zero).astype(np.int8),
        np.where(child, capd.hi, zero).astype(np.int8),
    )
    seizure = _categorical_domain(
        obs,
        "seizure",
        SEIZURE,
        astct_icans.SEIZURE_GRADE,
        missing_as_none="seizure" in missing_as_none,
    ).named("seizure")
    motor = _categorical_domain(
        obs,
        "motor_weakness",
        MOTOR_WEAKNESS,
        astct_icans.MOTOR_GRADE,
        missing_as_none="motor_weakness" in missing_as_none,
    ).named("motor")
    edema = _categorical_domain(
        obs,
        "cerebral_edema",
        CEREBRAL_EDEMA,
        astct_icans.EDEMA_GRADE,
        missing_as_none="cerebral_edema" in missing_as_none,
    ).named("edema")
    comps = (ice_c, capd_c, cons, seizure, motor, edema)
    lo = _i8(0, n)
    hi = _i8(0, n)
    for c in comps:
        lo = np.maximum(lo, c.lo)
        hi = np.maximum(hi, c.hi)
    assessment = pd.Categorical.from_codes(
        np.where(unknown, -1, np.where(child, 1, 0)).astype(np.int8), categories=["ice", "capd"]
    )
    none = np.zeros(n, bool)
    columns: dict[str, Any] = {
        "assessment": assessment,
        "ice_grade": _int_array(ice_c.lo, ~(ice_c.known & (adult | unknown))),
        "capd_grade": _int_array(capd_c.lo, ~(capd_c.known & child)),
        "consciousness_grade": cons.grade(),
        "seizure_grade": seizure.grade(),
        "motor_grade": motor.grade(),
        "edema_grade": edema.grade(),
        "age_known": _bool_array(~unknown, none),
    }
    return _Graded(lo, hi, comps, columns)


def _grade_ctcae6_icans(
    obs: _Obs,
    keys: _Keys,
    ages: Arr,
    *,
    age_given: bool,
    delays: tuple[Arr, Arr],
    capd_age_below: float,
) -> _Graded:
    """CTCAE v6.0 ICANS (criteria.ctcae_icans): ICE bands; CAPD with consciousness."""
    n = keys.n
    cons = obs.codes("consciousness", CONSCIOUSNESS)
    cons_na = cons < 0
    unarousable = cons == _UNAROUSABLE
    # Adults: ICE band; unarousable "3 or 4"; ICE missing -> up to 3 (4 if possibly unarousable).
    s = obs.num("ice_score")
    band = np.select(
        [(s >= a) & (s <= b) for a, b, _ in ctcae_icans.ICE_BANDS],
        [g for _, _, g in ctcae_icans.ICE_BANDS],
        default=0,
    )
    s_na = np.isnan(s)
    u_lo, u_hi = ctcae_icans.UNAROUSABLE_ADULT
    ice_lo = np.where(unarousable, u_lo, np.where(s_na, 0, band))
    # An ICE of 0 with consciousness not recorded may be an unarousable patient ("3 or 4").
    maybe_unarousable = cons_na & (s_na | (s == 0))
    ice_hi = np.where(unarousable | maybe_unarousable, u_hi, np.where(s_na, 3, band))
    # Children: the (CAPD band, consciousness) table; a missing input -> union over it.
    c = obs.num("capd_score")
    c_band = np.select([c >= 9, c >= 1, c >= 0], [2, 1, 0], default=-1)
    table_lo = np.zeros((len(ctcae_icans.CAPD_BANDS), len(CONSCIOUSNESS)), np.int8)
    table_hi = np.zeros_like(table_lo)
    for (b, level), (lo_, hi_) in ctcae_icans.CAPD_TABLE.items():
        table_lo[ctcae_icans.CAPD_BANDS.index(b), CONSCIOUSNESS.index(level)] = lo_
        table_hi[ctcae_icans.CAPD_BANDS.index(b), CONSCIOUSNESS.index(level)] = hi_
    lo_by_cons = table_lo.min(axis=0)  # CAPD missing
    hi_by_cons = table_hi.max(axis=0)
    lo_by_band = table_lo.min(axis=1)  # consciousness missing
    hi_by_band = table_hi.max(axis=1)
    bi, ci = np.maximum(c_band, 0), np.maximum(cons, 0)
    b_na = c_band < 0
    capd_lo = np.select(
        [b_na & cons_na, b_na, cons_na],
        [0, lo_by_cons[ci], lo_by_band[bi]],
        default=table_lo[bi, ci],
    )
    capd_hi = np.select(
        [b_na & cons_na, b_na, cons_na],
        [table_hi.max(), hi_by_cons[ci], hi_by_band[bi]],
        default=table_hi[bi, ci],
    )
    child, unknown, adult = _instrument(
        ages, age_given=age_given, delays=delays, capd_age_below=capd_age_below
    )
    zero = _i8(0, n)
    ice_c = _Component(
        "ice",
        np.where(adult, ice_lo, np.where(unknown, np.minimum(ice_lo, capd_lo), zero)).astype(
            np.int8
        ),
        np.where(adult, ice_hi, np.where(unknown, np.maximum(ice_hi, capd_hi), zero)).astype(
            np.int8
        ),
    )
    capd_c = _Component(
        "capd",
        np.where(child, capd_lo, zero).astype(np.int8),
        np.where(child, capd_hi, zero).astype(np.int8),
    )
    comps = [ice_c, capd_c]
    if obs.has("icans_symptom_grade"):
        g = obs.num("icans_symptom_grade")
        bad = ~np.isnan(g) & ~np.isin(g, [0, 1, 2, 3, 4])
        if bad.any():
            msg = "column `icans_symptom_grade` must hold whole grades 0-4."
            raise DerivationError(msg)
        g_na = np.isnan(g)
        gi = np.where(g_na, 0, g).astype(np.int8)
        comps.append(_Component("symptoms", gi, np.where(g_na, 4, gi).astype(np.int8)))
    lo = _i8(0, n)
    hi = _i8(0, n)
    for comp in comps:
        lo = np.maximum(lo, comp.lo)
        hi = np.maximum(hi, comp.hi)
    assessment = pd.Categorical.from_codes(
        np.where(unknown, -1, np.where(child, 1, 0)).astype(np.int8), categories=["ice", "capd"]
    )
    columns: dict[str, Any] = {
        "assessment": assessment,
        "ice_grade": _int_array(ice_c.lo, ~(ice_c.known & (adult | unknown))),
        "capd_grade": _int_array(capd_c.lo, ~(capd_c.known & child)),
        "age_known": _bool_array(~unknown, np.zeros(n, bool)),
    }
    if obs.has("icans_symptom_grade"):
        columns["symptom_grade"] = comps[-1].grade()
    return _Graded(lo, hi, tuple(comps), columns)


def grade_icans(
    observations: pd.DataFrame,
    *,
    system: IcansSystem = "astct",
    events: pd.DataFrame | None = None,
    age_years: Mapping[Hashable, float] | pd.Series | None = None,
    capd_age_below: float = astct_icans.CAPD_AGE_BELOW_DEFAULT,
    missing_as_none: Sequence[str] = (),
    developmental_delay: Mapping[Hashable, bool | None] | pd.Series | None = None,
) -> pd.DataFrame:
    """Grade ICANS for every patient-day (ASTCT 2019).

    Parameters
    ----------
    observations
        The ``observations`` table with ``patient_id``, ``day`` and any of
        ``ice_score`` (0-10), ``capd_score`` (0-32), ``consciousness``,
        ``seizure``, ``motor_weakness``, ``cerebral_edema`` (the data standard's
        vocabularies) and optionally ``age_years``. Absent columns are missing
        on every row.
    system
        ``"astct"`` (ASTCT 2019, default) or ``"ctcae_v6.0"`` (NCI CTCAE v6.0 "Immune
        effector cell-associated neurotoxicity syndrome": ICE bands for adults, CAPD *and*
        consciousness for children, no seizure/motor/oedema domains; the optional column
        ``icans_symptom_grade`` carries the clinician's grade by the symptom/ADL wording;
        see :mod:`cartcohort.derive.toxicity.criteria.ctcae_icans`).
    events
        Optional ``events`` table; ``event == "death"`` with cause ICANS
        (case-insensitive, ``cause`` or ``detail`` column) gives grade 5.
    age_years
        Age per patient (a mapping or a Series indexed by ``patient_id``). When
        omitted, an ``age_years`` column is used if present; with no age
        information at all every patient is graded with the adult ICE.
    capd_age_below
        Patients younger than this (years) are graded with CAPD instead of ICE.
        12 follows ASTCT ("children younger than 12"); 13 reproduces NCIt's
        "12 and under".
    missing_as_none
        Columns among ``seizure``, ``motor_weakness``, ``cerebral_edema`` whose
        missing values mean "not present" (charts that record positives only).
        Default: none -- a missing domain is unknown.
    developmental_delay
        Baseline developmental delay per patient (the patients table's
        ``developmental_delay``; a mapping or a Series indexed by ``patient_id``). A
        delayed patient is graded with CAPD at any age ("older patients with baseline
        developmental delays", ASTCT 2019); a patient whose flag is missing and who is not
        a child by age is graded with the range of both instruments. When omitted, a
        ``developmental_delay`` column of ``observations`` is used if present; otherwise
        no patient is delayed.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, day, system, grade`` (``Int64``, ``<NA>`` = not gradable),
        ``grade_lower_bound, grade_upper_bound, driver``, then ``assessment``
        (``"ice"``/``"capd"``), ``ice_grade, capd_grade, consciousness_grade,
        seizure_grade, motor_grade, edema_grade, age_known``.

    Raises
    ------
    DerivationError
        Missing keys, duplicate patient-days, values outside the vocabularies,
        unknown options.

    Notes
    -----
    Domain grades (ASTCT adult table): ICE 7-9 -> 1, 3-6 -> 2, 0-2 -> 3, and 4 if
    unarousable ("ICE 0 ... grade 3 if awake with global aphasia, grade 4 if
    unarousable"); awakens spontaneously 1, to voice 2, only to touch 3,
    unarousable 4; seizure resolving rapidly 3, prolonged or repetitive 4;
    deep focal motor weakness 4; focal oedema 3, diffuse 4. Children: CAPD 1-8
    -> 1, >= 9 -> 3, unable to perform (unarousable) -> 4; CAPD 0 -> 0. When an
    age is given but missing for a patient, the ICE/CAPD domain is the range of
    both instruments. Tremor and myoclonus do not count and are not read.

    References
    ----------
    Lee DW et al. Biol Blood Marrow Transplant 2019;25:625-638.

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"patient_id": ["A"], "day": [4], "ice_score": [3],
    ...                     "consciousness": ["alert"], "seizure": ["resolved_rapidly"],
    ...                     "motor_weakness": ["none"], "cerebral_edema": ["none"]})
    >>> int(grade_icans(obs)["grade"].iloc[0])
    3
    """
    _check_choice("system", system, list(ICANS_METHOD))
    bad = [c for c in missing_as_none if c not in _MISSING_AS_NONE_ALLOWED]
    if isinstance(missing_as_none, str) or bad:
        msg = (
            f"`missing_as_none` may name only {list(_MISSING_AS_NONE_ALLOWED)}; got "
            f"{missing_as_none!r}."
        )
        raise DerivationError(msg)
    if not np.isfinite(capd_age_below) or capd_age_below < 0:
        msg = f"`capd_age_below` must be a non-negative number of years; got {capd_age_below!r}."
        raise DerivationError(msg)
    frame, keys, death = _keys_with_deaths(
        _check_frame(observations), _deaths(events, _ICANS_CAUSES)
    )
    obs = _Obs(frame, keys)
    ages, age_given = _ages(frame, keys, age_years)
    delays = _delays(frame, keys, developmental_delay)
    if system == "ctcae_v6.0":
        graded = _grade_ctcae6_icans(
            obs, keys, ages, age_given=age_given, delays=delays, capd_age_below=capd_age_below
        )
    else:
        graded = _grade_astct_icans(
            obs,
            keys,
            ages,
            age_given=age_given,
            delays=delays,
            capd_age_below=capd_age_below,
            missing_as_none=tuple(missing_as_none),
        )
    return _assemble(keys, graded, death, ICANS_METHOD[system])


def summarize_icans(grades: pd.DataFrame) -> pd.DataFrame:
    """Per-patient ICANS summary, with the seeds' "severe neurotoxicity" flag.

    Parameters
    ----------
    grades
        Output of :func:`grade_icans`.

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``patient_id, system, max_grade, max_grade_lower_bound,
        max_grade_upper_bound, onset_day, duration_days, span_days, n_days,
        n_not_gradable, any_seizure, severe_neurotoxicity`` (nullable booleans).

    Notes
    -----
    Max grade, onset and duration follow :func:`~cartcohort.summarize_crs`. CTCAE v6.0
    grades have no seizure domain: ``any_seizure`` is missing, and ``severe_neurotoxicity``
    is True only from a grade >= 3.
    ``severe_neurotoxicity`` = a seizure of any grade or a maximum grade >= 3.
    The definition is quoted from this project's seed papers ("Severe
    neurotoxic effects were defined as a seizure of any grade or a toxic effect
    of grade 3 or higher"); it is not part of the ASTCT consensus and no
    consensus source for it was found. It is True when a seizure or a grade >= 3
    is recorded, False when every day's seizure status is known to be none and
    no day can reach grade 3, and missing otherwise.
    """
    out = _episode_summary(grades)
    if "seizure_grade" in grades.columns:
        sz = grades["seizure_grade"]
    elif (grades["system"].astype(str) == ctcae_icans.VERSION).all():
        # CTCAE v6.0 has no seizure domain: whether there was a seizure is not known.
        sz = pd.Series(pd.NA, index=grades.index, dtype="Int64")
    else:
        msg = "`grades` must come from grade_icans (no `seizure_grade` column)."
        raise DerivationError(msg)
    df = pd.DataFrame(
        {
            "patient_id": grades["patient_id"].to_numpy(),
            "yes": (sz >= 3).fillna(value=False).to_numpy(dtype=bool),
            "unknown": sz.isna().to_numpy(),
        }
    )
    g = df.groupby("patient_id", sort=True)[["yes", "unknown"]].any()
    g = g.reindex(out["patient_id"])
    yes = g["yes"].to_numpy(dtype=bool)
    unknown = g["unknown"].to_numpy(dtype=bool) & ~yes
    out["any_seizure"] = _bool_array(yes, unknown)
    lo = out["max_grade_lower_bound"].to_numpy(dtype=np.int64)
    hi = out["max_grade_upper_bound"].to_numpy(dtype=np.int64)
    severe = yes | (lo >= 3)
    maybe = ~severe & (unknown | (hi >= 3))
    out["severe_neurotoxicity"] = _bool_array(severe, maybe)
    return out


__all__ = ["ICANS_METHOD", "ICANS_SCALES", "IcansSystem", "grade_icans", "summarize_icans"]
