"""Seeded generator of the SYNTHETIC relapsed/refractory B-ALL CAR-T demo cohort.

**Everything this module makes is simulated. No row describes a real patient.**

:func:`generate_synthetic` returns the eight tables of the cohort data standard
(:mod:`cartcohort.model.standard`) for ``n`` simulated patients. The parameters are
calibrated to the published figures of the seed papers; each target, with its source and
quoted number, is in :mod:`cartcohort.demo.calibration`. ``docs/demo-cohort.md`` explains
the model, and ``python -m cartcohort.demo`` rewrites the shipped files in
``cartcohort/demo/data/``.

Model, per patient (in this order, one random stream for the whole cohort):

1. baseline: tumour-burden subgroup of seed 000 (0 % blasts MRD-positive; 0-5; 5-20;
   20-50; >= 50 %), blasts/MRD, Ph, TP53, prior therapy, infusion date, product;
2. CRS: peak grade from the subgroup, onset day, a daily grade course; ICANS likewise,
   more likely with higher CRS grade; tocilizumab / corticosteroids / vasopressors by
   ASTCT-era practice; the daily bedside observations are then *written from* the
   daily grades so that ASTCT 2019 grading of the observations gives back exactly the
   patient's maximum grades;
3. response at day 28 from the subgroup; CR versus CRi from the day-28 blood counts;
4. labs (cytokines peak with the CRS peak, log-normal by grade and burden), CAR-T
   kinetics (qPCR, Cmax higher with CRS grade and in responders);
5. follow-up: relapse (piecewise-exponential hazard, lower after HSCT), consolidative
   HSCT, non-relapse mortality, deaths after relapse or refractory disease, a few CRS
   deaths (ASTCT grade 5), re-infusions.

Determinism: the stream is ``numpy.random.Generator(PCG64(seed))`` and only its
``random()`` and ``standard_normal()`` methods are used (all other distributions are
built from them here), so that the data depend on as little NumPy internals as
possible; floats are rounded to clinically sensible decimals so CSV files round-trip
exactly and a 1-ulp libm difference between platforms does not show.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from cartcohort._spreadsheet import safe_frame, write_csv
from cartcohort.model.cohort import METADATA_SHEET, apply_dtypes, metadata_rows
from cartcohort.model.standard import ANALYTE_BY_NAME, STANDARD_VERSION, TABLE_BY_NAME, Table

DEFAULT_SEED = 20260101
DEFAULT_N = 150

Format = Literal["csv", "xlsx", "parquet"]

#: Days with bedside observations (day -1 to day 28, or to death).
OBS_FIRST_DAY, OBS_LAST_DAY = -1, 28
#: Days with laboratory samples.
LAB_DAYS: tuple[int, ...] = (-5, 0, 1, 3, 5, 7, 10, 14, 21, 28)
#: Days with CAR-T kinetics samples after the first infusion (day 0 = pre-infusion).
KINETICS_DAYS: tuple[int, ...] = (0, 4, 7, 10, 14, 21, 28, 42, 60, 90, 120, 180, 270, 365)
#: Days (after the infusion) with kinetics samples after a re-infusion.
REINFUSION_KINETICS_DAYS: tuple[int, ...] = (0, 4, 7, 10, 14, 21, 28, 60, 90)
#: qPCR lower limit of quantification, copies/µg genomic DNA (typical transgene assay).
LLOQ = 50.0
#: Data cut-off; follow-up of survivors ends here (all dates are synthetic).
DATA_CUTOFF = dt.date(2024, 6, 30)
FIRST_INFUSION, LAST_INFUSION = dt.date(2019, 1, 1), dt.date(2023, 6, 30)

# --------------------------------------------------------------------------------------------
# Parameters. Targets with sources: cartcohort.demo.calibration.
# --------------------------------------------------------------------------------------------
SUBGROUPS: tuple[str, ...] = ("0_mrd_pos", "0-5", "5-20", "20-50", ">=50")
#: Subgroup probabilities; low burden (first two) = 0.42 (S000: 33/78).
SUBGROUP_P: tuple[float, ...] = (0.15, 0.27, 0.19, 0.17, 0.22)
#: P(CRS peak grade = 0..4) per subgroup (severe 3, 8, 20, 30, 40 %; S000 Fig. 4C, S004).
CRS_GRADE_P: tuple[tuple[float, ...], ...] = (
    (0.40, 0.45, 0.12, 0.03, 0.00),
    (0.25, 0.45, 0.22, 0.06, 0.02),
    (0.12, 0.35, 0.33, 0.15, 0.05),
    (0.08, 0.32, 0.30, 0.20, 0.10),
    (0.06, 0.25, 0.29, 0.26, 0.14),
)
#: P(death from CRS, ASTCT grade 5) given a grade-4 course.
P_CRS_DEATH_G4 = 0.30
#: P(CR/CRi at day 28) per subgroup (low ~0.94, high ~0.76; S000 Fig. 2B).
CR_P: tuple[float, ...] = (0.95, 0.93, 0.83, 0.77, 0.73)
#: P(MRD-negative | CR/CRi), low / high burden (S000: 29/78 MRD-negative CR overall).
MRD_NEG_P = {"low": 0.55, "high": 0.38}
#: P(ICANS) by CRS peak grade 0..4 (S004: 16/93; 15 of 16 with CRS).
ICANS_P: tuple[float, ...] = (0.03, 0.09, 0.22, 0.40, 0.55)
#: P(ICANS grade = 1..4 | ICANS) (S004: 8 of 16 severe).
ICANS_GRADE_P: tuple[float, ...] = (0.30, 0.25, 0.30, 0.15)
#: 2-year relapse probability of an MRD-negative low-burden responder without HSCT, and
#: hazard ratios (MRD-positive, high burden, after HSCT).
RELAPSE_2Y = 0.25
HR_MRD_POS, HR_HIGH_BURDEN, HR_AFTER_HSCT = 1.8, 2.0, 0.3
P_CD19_NEG = 0.30
#: P(consolidative HSCT | CR/CRi), Ph-positive / Ph-negative; day window.
P_HSCT = {"ph": 0.80, "other": 0.22}
HSCT_DAYS = (45, 120)
#: Non-relapse mortality: 2-year without HSCT; first year after HSCT.
NRM_2Y, TRM_1Y = 0.04, 0.15
#: Deaths after relapse / with refractory disease: probability and median days.
P_DEATH_AFTER_RELAPSE, MEDIAN_DAYS_RELAPSE_TO_DEATH = 0.80, 170.0
P_DEATH_REFRACTORY, MEDIAN_DAYS_NR_TO_DEATH = 0.90, 120.0
#: Re-infusion: after CD19-positive relapse, after no response, as consolidation.
P_REINF_RELAPSE, P_REINF_NR, P_REINF_CONSOLIDATION = 0.45, 0.30, 0.08
#: log10 Cmax model: intercept, responder, per CRS grade, high burden, SD.
CMAX_LOG10 = {"intercept": 4.35, "responder": 0.25, "crs": 0.12, "high": 0.0, "sd": 0.40}


# --------------------------------------------------------------------------------------------
# Random helpers: everything is built on Generator.random() and .standard_normal().
# --------------------------------------------------------------------------------------------
class _Rng:
    """A thin wrapper giving the few distributions the generator needs."""

    __slots__ = ("_g",)

    def __init__(self, seed: int) -> None:
        self._g = np.random.Generator(np.random.PCG64(seed))

    def u(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * float(self._g.random())

    def normal(self, mean: float = 0.0, sd: float = 1.0) -> float:
        return mean + sd * float(self._g.standard_normal())

    def lognormal(self, median: float, sdlog: float) -> float:
        return median * math.exp(self.normal(0.0, sdlog))

    def bern(self, p: float) -> bool:
        return self.u() < p

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high] inclusive."""
        return low + min(int(self.u() * (high - low + 1)), high - low)

    def choice(self, options: Sequence[Any], probs: Sequence[float] | None = None) -> Any:
        if probs is None:
            return options[self.integer(0, len(options) - 1)]
        x, acc = self.u() * sum(probs), 0.0
        for opt, p in zip(options, probs, strict=True):
            acc += p
            if x < acc:
                return opt
        return options[-1]

    def index(self, probs: Sequence[float]) -> int:
        return int(self.choice(range(len(probs)), probs))

    def poisson(self, lam: float) -> int:
        """Poisson variate by inversion (small ``lam`` only)."""
        x, p = 0, math.exp(-lam)
        s, target = p, self.u()
        while target > s and x < 100:
            x += 1
            p *= lam / x
            s += p
        return x

    def exponential(self) -> float:
        return -math.log(1.0 - self.u())


def _r(x: float, decimals: int) -> float:
    """Round to ``decimals``, never to zero for a positive quantity."""
    floor = 10.0**-decimals
    return max(round(x, decimals), floor) if x > 0 else 0.0


def _sig(x: float, digits: int = 3) -> float:
    """Round to ``digits`` significant digits."""
    if x <= 0:
        return 0.0
    return float(round(x, digits - 1 - math.floor(math.log10(x))))


# --------------------------------------------------------------------------------------------
# The latent patient
# --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Course:
    """Daily grades (index = day) of one syndrome, days 0..28."""

    grades: list[int] = field(default_factory=lambda: [0] * (OBS_LAST_DAY + 1))

    @property
    def peak(self) -> int:
        return max(self.grades)

    def onset(self) -> int | None:
        return next((d for d, g in enumerate(self.grades) if g > 0), None)

    def first_day_at_least(self, grade: int) -> int | None:
        return next((d for d, g in enumerate(self.grades) if g >= grade), None)


@dataclass(slots=True)
class _Patient:
    """Latent state of one simulated patient."""

    pid: str
    subgroup: int
    base: dict[str, Any] = field(default_factory=dict)
    product: dict[str, Any] = field(default_factory=dict)
    crs: _Course = field(default_factory=_Course)
    icans: _Course = field(default_factory=_Course)
    toci_days: list[int] = field(default_factory=list)
    dex_days: list[int] = field(default_factory=list)
    mp_days: list[int] = field(default_factory=list)
    death_day: int | None = None
    death_cause: str | None = None
    responder: bool = False
    mrd_negative: bool | None = None
    best_response: str = "NE"
    cmax: float = 0.0
    tmax: int = 10
    relapse_day: int | None = None
    cd19_negative: bool | None = None
    hsct_day: int | None = None
    reinfusion_day: int | None = None
    reinfusion_product: dict[str, Any] = field(default_factory=dict)
    new_therapy: list[tuple[int, str]] = field(default_factory=list)
    progression_day: int | None = None
    followup: int = 0
    labs: dict[tuple[int, str], float] = field(default_factory=dict)
    obs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def low_burden(self) -> bool:
        return self.subgroup <= 1

    @property
    def last_alive_day(self) -> int:
        return self.death_day if self.death_day is not None else self.followup


# --------------------------------------------------------------------------------------------
# 1. Baseline and product
# --------------------------------------------------------------------------------------------
_BLAST_RANGES: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.1, 4.9),
    (5.0, 19.9),
    (20.0, 49.9),
    (50.0, 95.0),
)


def _baseline(rng: _Rng, pid: str) -> _Patient:
    p = _Patient(pid=pid, subgroup=rng.index(SUBGROUP_P))
    low = p.low_burden
    lo, hi = _BLAST_RANGES[p.subgroup]
    blasts = round(rng.u(lo, hi), 1)
    mrd: float | None = None
    if p.subgroup == 0:
        mrd = _sig(10 ** rng.u(-2.0, 0.0), 2)  # 0.01-1 % by flow, no morphological blasts
    elif p.subgroup == 1:
        mrd = min(_sig(blasts * rng.u(0.6, 1.2), 2), 4.99)
    age = rng.integer(14, 70) if rng.bern(0.85) else rng.integer(14, 24)
    status = (
        rng.choice(("mrd_relapse", "mrd_persistent"), (0.6, 0.4))
        if low
        else rng.choice(("relapsed", "refractory"), (0.65, 0.35))
    )
    offset = rng.integer(0, (LAST_INFUSION - FIRST_INFUSION).days)
    p.base = {
        "sex": rng.choice(("M", "F"), (0.54, 0.46)),
        "age_years": float(age),
        "center": rng.choice(("Synthetic Centre A", "Synthetic Centre B", "Synthetic Centre C")),
        "diagnosis": "B-ALL",
        "ph_positive": rng.bern(0.27 if low else 0.11),
        "tp53_mutated": rng.bern(0.03 if low else 0.045),
        "cytogenetic_risk": rng.choice(
            ("favorable", "intermediate", "poor"), (0.10, 0.57, 0.33) if low else (0.08, 0.63, 0.29)
        ),
        "cns_leukemia": rng.bern(0.04),
        "extramedullary_disease": (not low) and rng.bern(0.08),
        "prior_lines": 1 + rng.poisson(1.8),
        "prior_hsct": rng.bern(0.33 if low else 0.18),
        "disease_status": status,
        "bm_blasts_pct": blasts,
        "mrd_pct": mrd,
        "mrd_method": "flow" if low else None,
        "burden_assessed": "before_ld" if rng.bern(0.73) else "after_ld",
        "infusion_date": FIRST_INFUSION + dt.timedelta(days=offset),
    }
    p.product = _product(rng, costim=rng.choice(("4-1BB", "CD28"), (0.7, 0.3)))
    return p


def _product(rng: _Rng, *, costim: str) -> dict[str, Any]:
    subsets = [rng.lognormal(m, 0.35) for m in (10.0, 8.0, 25.0, 40.0, 17.0)]
    total = sum(subsets)
    pct = [round(100.0 * s / total, 1) for s in subsets[:4]]
    pct.append(round(100.0 - sum(pct), 1))
    return {
        "dose_cells_per_kg": _sig(min(max(rng.lognormal(3.0e6, 0.55), 0.5e6), 1.0e7), 3),
        "costim_domain": costim,
        "lymphodepletion": "Flu/Cy",
        "transduction_pct": round(min(max(rng.normal(45.0, 12.0), 15.0), 80.0), 1),
        "viability_pct": round(min(max(rng.normal(92.0, 3.0), 80.0), 99.5), 1),
        "cd4_cd8_ratio": round(rng.lognormal(1.2, 0.5), 2),
        **dict(zip(("tn_pct", "tscm_pct", "tcm_pct", "tem_pct", "temra_pct"), pct, strict=True)),
    }


# --------------------------------------------------------------------------------------------
# 2. CRS and ICANS courses, their treatment
# --------------------------------------------------------------------------------------------
def _profile(rng: _Rng, peak: int) -> list[int]:
    """Daily grades of one episode: optional grade-1 lead-in, rise, plateau, fall."""
    if peak == 1:
        return [1] * rng.integer(1, 4)
    lead = [1] * rng.integer(0, 2)
    rise = list(range(2, peak))
    hold = [peak] * rng.integer(1, 3)
    fall = list(range(peak - 1, 0, -1))
    return lead + [1] * (not lead) + rise + hold + fall


def _place(course: _Course, onset: int, days: list[int]) -> None:
    for i, g in enumerate(days):
        d = onset + i
        if d <= OBS_LAST_DAY:
            course.grades[d] = g


def _crs(rng: _Rng, p: _Patient) -> None:
    peak = rng.index(CRS_GRADE_P[p.subgroup])
    if peak == 0:
        return
    onset = min(1 + rng.poisson(3.0 if peak >= 3 else 4.2), 12)
    days = _profile(rng, peak)
    if peak == 4 and rng.bern(P_CRS_DEATH_G4):
        # ASTCT grade 5: death on the last day of the grade-4 plateau.
        days = days[: days.index(4) + days.count(4)]
        p.death_day = onset + len(days) - 1
        p.death_cause = "CRS"
    _place(p.crs, onset, days)


def _icans(rng: _Rng, p: _Patient) -> None:
    if not rng.bern(ICANS_P[p.crs.peak]):
        return
    peak = 1 + rng.index(ICANS_GRADE_P)
    crs_onset = p.crs.onset()
    onset = crs_onset + 2 + rng.poisson(1.5) if crs_onset is not None else 4 + rng.poisson(3.0)
    _place(p.icans, min(onset, 22), _profile(rng, peak))
    if p.death_day is not None:
        for d in range(p.death_day + 1, OBS_LAST_DAY + 1):
            p.icans.grades[d] = 0


def _treat(rng: _Rng, p: _Patient) -> None:
    """Tocilizumab, corticosteroids (S004 practice: tocilizumab first line for CRS,
    steroids for tocilizumab-refractory CRS or ICANS)."""
    crs_peak = p.crs.peak
    g2 = p.crs.first_day_at_least(2)
    if g2 is not None and (crs_peak >= 3 or rng.bern(0.85)):
        p.toci_days.append(g2)
        if crs_peak >= 3 and rng.bern(0.5):
            p.toci_days.append(g2 + 1)
    elif crs_peak == 1 and rng.bern(0.12):
        onset = p.crs.onset()
        assert onset is not None
        p.toci_days.append(onset + 1)  # persistent fever
    g3 = p.crs.first_day_at_least(3)
    if g3 is not None and rng.bern(0.9):
        p.dex_days.extend(range(g3, g3 + 3))
    elif crs_peak == 2 and g2 is not None and rng.bern(0.6):
        p.dex_days.extend(range(g2 + 1, g2 + 3))
    elif crs_peak == 1 and rng.bern(0.15):
        onset = p.crs.onset()
        assert onset is not None
        p.dex_days.extend(range(onset + 1, onset + 3))  # S002: steroids for persistent fever
    i2 = p.icans.first_day_at_least(2)
    if i2 is not None and rng.bern(0.9):
        p.dex_days.extend(range(i2, i2 + 4))
    i4 = p.icans.first_day_at_least(4)
    if i4 is not None:
        p.mp_days.extend(range(i4, i4 + 3))
    last = p.death_day if p.death_day is not None else OBS_LAST_DAY
    p.toci_days = sorted({d for d in p.toci_days if d <= last})
    p.dex_days = sorted({d for d in p.dex_days if d <= last})
    p.mp_days = sorted({d for d in p.mp_days if d <= last})


# --------------------------------------------------------------------------------------------
# Bedside observations written from the daily grades (ASTCT 2019, clinical-standards §1.1, §2)
# --------------------------------------------------------------------------------------------
_HIGH_FLOW_DEVICES: tuple[tuple[str, float, float], ...] = (
    ("high_flow_nasal_cannula", 10.0, 40.0),
    ("facemask", 8.0, 10.0),
    ("non_rebreather_mask", 10.0, 15.0),
    ("venturi_mask", 8.0, 12.0),
)
_POSITIVE_PRESSURE = ("cpap", "bipap", "mechanical_ventilation")


def _circulation(rng: _Rng, level: int) -> dict[str, Any]:
    """Hypotension component at ASTCT level 0 (none), 2 (fluids), 3 (one pressor),
    4 (two or more pressors, vasopressin not counted)."""
    if level <= 1:
        return {"hypotension": False, "vasopressors": 0, "vasopressin": False}
    if level == 2:
        return {"hypotension": True, "vasopressors": 0, "vasopressin": False}
    if level == 3:
        return {"hypotension": True, "vasopressors": 1, "vasopressin": rng.bern(0.15)}
    return {"hypotension": True, "vasopressors": rng.integer(2, 3), "vasopressin": rng.bern(0.3)}


def _oxygen(rng: _Rng, level: int) -> dict[str, Any]:
    """Hypoxia component at ASTCT level 0 (none), 2 (low flow <= 6 L/min), 3 (high flow
    > 6 L/min or masks), 4 (positive pressure)."""
    if level <= 1:
        return {"o2_device": "none", "o2_flow_l_min": None}
    if level == 2:
        return {"o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": float(rng.integer(1, 6))}
    if level == 3:
        device, lo, hi = rng.choice(_HIGH_FLOW_DEVICES, (0.55, 0.15, 0.2, 0.1))
        return {"o2_device": device, "o2_flow_l_min": float(rng.integer(int(lo), int(hi)))}
    return {"o2_device": rng.choice(_POSITIVE_PRESSURE, (0.3, 0.3, 0.4)), "o2_flow_l_min": None}


def _crs_components(rng: _Rng, grade: int) -> dict[str, Any]:
    """Hypotension and hypoxia whose ASTCT grade (the worse of the two) is ``grade``."""
    if grade <= 1:
        return {**_circulation(rng, 0), **_oxygen(rng, 0)}
    which = rng.choice(("circ", "oxy", "both"), (0.4, 0.35, 0.25))
    other = rng.integer(0, grade - 1) if which != "both" else grade
    other = 0 if other == 1 else other
    circ = grade if which in ("circ", "both") else other
    oxy = grade if which in ("oxy", "both") else other
    return {**_circulation(rng, circ), **_oxygen(rng, oxy)}


def _icans_components(rng: _Rng, grade: int) -> dict[str, Any]:
    """ICE score, consciousness, seizure, motor and oedema whose ASTCT ICANS grade is
    ``grade`` (the most severe domain); ICE 0 only when unarousable."""
    obs: dict[str, Any] = {
        "ice_score": 10,
        "consciousness": "alert",
        "seizure": "none",
        "motor_weakness": "none",
        "cerebral_edema": "none",
    }
    if grade == 1:
        obs["ice_score"] = rng.integer(7, 9)
        obs["consciousness"] = rng.choice(("alert", "awakens_spontaneously"))
    elif grade == 2:
        obs["ice_score"] = rng.integer(3, 6)
        obs["consciousness"] = rng.choice(("alert", "awakens_spontaneously", "awakens_to_voice"))
    elif grade == 3:
        domain = rng.choice(("ice", "loc", "seizure", "edema"), (0.45, 0.25, 0.2, 0.1))
        obs["ice_score"] = rng.integer(1, 2) if domain in ("ice", "loc") else rng.integer(3, 6)
        obs["consciousness"] = "awakens_to_tactile" if domain == "loc" else "awakens_to_voice"
        obs["seizure"] = "resolved_rapidly" if domain == "seizure" else "none"
        obs["cerebral_edema"] = "focal" if domain == "edema" else "none"
    elif grade >= 4:
        domain = rng.choice(("loc", "seizure", "motor", "edema"), (0.4, 0.3, 0.15, 0.15))
        obs["ice_score"] = 0 if domain == "loc" else rng.integer(1, 2)
        obs["consciousness"] = "unarousable" if domain == "loc" else "awakens_to_tactile"
        obs["seizure"] = "prolonged_or_repetitive" if domain == "seizure" else "none"
        obs["motor_weakness"] = "deep_focal" if domain == "motor" else "none"
        obs["cerebral_edema"] = "diffuse" if domain == "edema" else "none"
    return obs


def _observations(rng: _Rng, p: _Patient) -> None:
    last = p.death_day if p.death_day is not None else OBS_LAST_DAY
    treated = sorted({*p.toci_days, *p.dex_days, *p.mp_days})
    for day in range(OBS_FIRST_DAY, last + 1):
        g = p.crs.grades[day] if day >= 0 else 0
        h = p.icans.grades[day] if day >= 0 else 0
        # After tocilizumab/corticosteroids (given on an earlier day) fever may be absent:
        # ASTCT grades by hypotension/hypoxia from then on (clinical-standards §1.1).
        masked = g >= 1 and any(t < day for t in treated) and rng.bern(0.5)
        febrile = g >= 1 and not masked
        temp = round(rng.u(38.0, 40.2) if febrile else rng.u(36.2, 37.6), 1)
        p.obs.append(
            {
                "patient_id": p.pid,
                "day": day,
                "temp_c": temp,
                "antipyretic": g >= 1,
                "tocilizumab": day in p.toci_days,
                "corticosteroids": day in p.dex_days or day in p.mp_days,
                **_crs_components(rng, g),
                **_icans_components(rng, h),
                "capd_score": None,
            }
        )


# --------------------------------------------------------------------------------------------
# 3-4. Response, labs, kinetics
# --------------------------------------------------------------------------------------------
#: Cytokine-like analytes: baseline median, peak medians for CRS grade 0..4, SD(log), decimals.
#: Orders of magnitude: calibration target ``il6_peak_levels`` (assumption, cited there).
_PEAKED: dict[str, tuple[float, tuple[float, ...], float, int]] = {
    "il6": (4.0, (12.0, 45.0, 200.0, 900.0, 3000.0), 0.6, 1),
    "il2": (1.5, (2.5, 4.0, 8.0, 15.0, 30.0), 0.5, 1),
    "il10": (3.0, (6.0, 18.0, 60.0, 200.0, 600.0), 0.6, 1),
    "tnfa": (2.0, (3.0, 6.0, 12.0, 25.0, 50.0), 0.5, 1),
    "ifng": (3.0, (10.0, 40.0, 150.0, 600.0, 2000.0), 0.7, 1),
    "il8": (10.0, (20.0, 40.0, 80.0, 200.0, 500.0), 0.5, 1),
    "il2r": (600.0, (900.0, 1500.0, 3000.0, 6000.0, 10000.0), 0.4, 0),
    "crp": (5.0, (12.0, 45.0, 100.0, 170.0, 240.0), 0.4, 1),
    "ferritin": (700.0, (900.0, 1500.0, 3000.0, 8000.0, 20000.0), 0.5, 0),
}
#: Upper limits of what the assays report: CRP above ~500 mg/L is not seen in practice (and
#: the data standard warns above 1000 mg/L), so the simulated CRP peak is capped there.
_PEAK_CAP: dict[str, float] = {"crp": 480.0}
#: Chemistry: baseline median, fold change at the CRS peak for grade 0..4, SD(log), decimals.
_CHEMISTRY: dict[str, tuple[float, tuple[float, ...], float, int]] = {
    "ldh": (220.0, (1.1, 1.3, 1.6, 2.2, 3.0), 0.3, 0),
    "creatinine": (0.7, (1.0, 1.05, 1.2, 1.6, 2.5), 0.2, 2),
    "alt": (25.0, (1.1, 1.3, 1.8, 3.0, 5.0), 0.4, 0),
    "ast": (22.0, (1.1, 1.3, 1.8, 3.0, 5.0), 0.4, 0),
    "ggt": (35.0, (1.0, 1.2, 1.5, 2.0, 3.0), 0.4, 0),
    "bilirubin": (0.5, (1.0, 1.1, 1.3, 2.0, 3.0), 0.3, 2),
    "fibrinogen": (3.0, (1.0, 0.95, 0.85, 0.55, 0.4), 0.15, 2),
    "albumin": (3.8, (1.0, 0.97, 0.92, 0.82, 0.75), 0.06, 1),
}


def _shape(day: int, peak_day: int) -> float:
    """Relative cytokine level on ``day`` for a peak on ``peak_day`` (1 at the peak)."""
    if day <= 0:
        return 0.0
    return math.exp(-abs(day - peak_day) / (2.0 if day < peak_day else 3.0))


def _peak_day(p: _Patient) -> int:
    g = p.crs.grades
    return g.index(max(g)) if max(g) > 0 else 7


def _peaked_labs(rng: _Rng, p: _Patient, days: list[int]) -> None:
    grade, pk = p.crs.peak, _peak_day(p)
    burden = 1.0 if p.low_burden else 1.4  # S000 Fig. 5C: IL-6 higher with high burden
    for name, (base_med, peaks, sd, dec) in _PEAKED.items():
        base = rng.lognormal(base_med * (1.0 if p.low_burden else 1.3), 0.3)
        peak = max(rng.lognormal(peaks[grade] * burden, sd), base * 1.2)
        peak = min(peak, _PEAK_CAP.get(name, math.inf))
        for d in days:
            noise = rng.lognormal(1.0, 0.08)
            p.labs[(d, name)] = _r((base + (peak - base) * _shape(d, pk)) * noise, dec)


def _chemistry_labs(rng: _Rng, p: _Patient, days: list[int]) -> None:
    grade, pk = p.crs.peak, _peak_day(p)
    for name, (base_med, folds, sd, dec) in _CHEMISTRY.items():
        scale = 2.0 if name == "ldh" and not p.low_burden else 1.0
        base = rng.lognormal(base_med * scale, sd)
        for d in days:
            fold = 1.0 + (folds[grade] - 1.0) * _shape(d, pk)
            p.labs[(d, name)] = _r(base * fold * rng.lognormal(1.0, 0.05), dec)


def _count_path(baseline: float, nadir: float, recovery: float, day: int) -> float:
    """Blood count after lymphodepletion (days -5..-3) and CAR-T: nadir days 3-10."""
    path = {
        -5: baseline,
        0: baseline * 0.6,
        1: baseline * 0.4,
        3: nadir * 1.6,
        5: nadir,
        7: nadir,
        10: nadir * 1.2,
        14: nadir + 0.35 * (recovery - nadir),
        21: nadir + 0.7 * (recovery - nadir),
        28: recovery,
    }
    return path[day]


def _blood_counts(rng: _Rng, p: _Patient, days: list[int]) -> None:
    low, grade = p.low_burden, p.crs.peak
    hit = 0.6 if grade >= 3 else 1.0  # severe CRS: deeper, slower recovery
    marrow = 1.0 if p.responder else 0.45  # refractory marrow
    anc0 = rng.lognormal(2.2 if low else 1.2, 0.5)
    plt0 = rng.lognormal(140.0 if low else 60.0, 0.5)
    hb0 = min(max(rng.normal(10.8 if low else 9.4, 1.1), 7.0), 15.0)
    alc0 = rng.lognormal(0.9 if low else 0.6, 0.4)
    anc = (anc0, rng.lognormal(0.15, 0.6) * hit, rng.lognormal(1.8, 0.5) * hit * marrow)
    plt = (plt0, plt0 * rng.u(0.15, 0.5) * hit, rng.lognormal(140.0, 0.5) * hit * marrow)
    hb = (hb0, max(hb0 - rng.u(1.0, 3.0), 6.8), max(hb0 - rng.u(-0.5, 1.5), 7.0))
    expansion = min(p.cmax / 5e4, 4.0)
    for d in days:
        a = _count_path(*anc, d)
        lym = (
            alc0
            if d < 0
            else rng.lognormal(0.1, 0.4)
            if d <= 5
            else rng.lognormal(0.4 + 0.4 * expansion * _shape(d, p.tmax), 0.4)
        )
        mono = rng.lognormal(0.2 if d < 0 or d >= 14 else 0.05, 0.4)
        p.labs[(d, "anc")] = _r(a * rng.lognormal(1.0, 0.1), 2)
        p.labs[(d, "alc")] = _r(lym, 2)
        p.labs[(d, "wbc")] = _r(p.labs[(d, "anc")] + p.labs[(d, "alc")] + mono, 2)
        p.labs[(d, "platelets")] = float(
            max(round(_count_path(*plt, d) * rng.lognormal(1, 0.1)), 1)
        )
        p.labs[(d, "haemoglobin")] = round(_count_path(*hb, d) if d < 28 else hb[2], 1)


def _respond(rng: _Rng, p: _Patient) -> None:
    if p.death_day is not None:
        return  # died before the day-28 assessment: NE
    p.responder = rng.bern(CR_P[p.subgroup])
    if p.responder:
        p.mrd_negative = rng.bern(MRD_NEG_P["low" if p.low_burden else "high"])
    else:
        p.mrd_negative = False
    p.best_response = "CR" if p.responder else "NR"  # CR vs CRi set from day-28 counts


def _cr_or_cri(p: _Patient) -> None:
    """CR needs count recovery at day 28 (ANC >= 1.0, platelets >= 100 x 10^9/L; CIBMTR);
    otherwise CRi."""
    if p.responder and (p.labs[(28, "anc")] < 1.0 or p.labs[(28, "platelets")] < 100.0):
        p.best_response = "CRi"


def _expansion(rng: _Rng, p: _Patient) -> None:
    c = CMAX_LOG10
    log10 = (
        c["intercept"]
        + c["responder"] * p.responder
        + c["crs"] * p.crs.peak
        + c["high"] * (not p.low_burden)
        + rng.normal(0.0, c["sd"])
    )
    p.cmax = 10 ** min(max(log10, 2.8), 6.5)
    crs_peak_day = _peak_day(p) if p.crs.peak > 0 else 8
    p.tmax = min(max(crs_peak_day + rng.integer(1, 4), 7), 14)


def _curve(cmax: float, tmax: int, half_life: float, t: float) -> float:
    """Copies/µg DNA ``t`` days after an infusion: log-linear rise, biphasic decline."""
    if t <= 0:
        return 0.0
    if t <= tmax:
        return 10 ** (1.5 + (math.log10(cmax) - 1.5) * t / tmax)
    dt_ = t - tmax
    fast = math.exp(-math.log(2.0) * dt_ / 4.0)
    slow = math.exp(-math.log(2.0) * dt_ / half_life)
    return cmax * (0.9 * fast + 0.1 * slow)


# --------------------------------------------------------------------------------------------
# 5. Follow-up
# --------------------------------------------------------------------------------------------
def _piecewise_time(e: float, change: float, rate_before: float, rate_after: float) -> float:
    """Time at which the cumulative hazard reaches ``e`` (hazard changes at ``change``)."""
    if e <= rate_before * change:
        return e / rate_before
    return change + (e - rate_before * change) / rate_after


def _followup(rng: _Rng, p: _Patient) -> None:
    infusion: dt.date = p.base["infusion_date"]
    p.followup = (DATA_CUTOFF - infusion).days
    if p.death_day is not None:
        return
    if p.responder:
        _responder_course(rng, p)
    else:
        _refractory_course(rng, p)
    if p.death_day is not None and p.death_day > p.followup:
        p.death_day, p.death_cause = None, None
    if p.relapse_day is not None and p.relapse_day > p.followup:
        p.relapse_day, p.cd19_negative = None, None
    if p.hsct_day is not None and p.hsct_day > p.followup:
        p.hsct_day = None
    if p.reinfusion_day is not None and p.reinfusion_day >= p.last_alive_day:
        p.reinfusion_day = None
    p.new_therapy = [(d, x) for d, x in p.new_therapy if d <= p.last_alive_day]


def _responder_course(rng: _Rng, p: _Patient) -> None:
    ph = bool(p.base["ph_positive"])
    hsct = rng.bern(P_HSCT["ph" if ph else "other"])
    hsct_day = rng.integer(*HSCT_DAYS) if hsct else 10**6
    hr = (HR_MRD_POS if not p.mrd_negative else 1.0) * (1.0 if p.low_burden else HR_HIGH_BURDEN)
    lam = -math.log(1.0 - RELAPSE_2Y) / 700.0 * hr
    relapse = 28 + _piecewise_time(rng.exponential(), hsct_day - 28, lam, lam * HR_AFTER_HSCT)
    nrm_rate = -math.log(1.0 - NRM_2Y) / 730.0
    trm_rate = -math.log(1.0 - TRM_1Y) / 365.0
    nrm = 28 + _piecewise_time(rng.exponential(), hsct_day - 28, nrm_rate, trm_rate)
    if hsct and hsct_day < min(relapse, nrm):
        p.hsct_day = hsct_day
    if nrm < relapse:
        p.death_day = max(int(nrm), 35)
        p.death_cause = rng.choice(("GVHD", "infection")) if p.hsct_day is not None else "infection"
        return
    p.relapse_day = max(int(relapse), 42)
    p.cd19_negative = rng.bern(P_CD19_NEG)
    _after_relapse(rng, p)
    no_other = p.reinfusion_day is None and p.hsct_day is None and p.relapse_day > 240
    if no_other and rng.bern(P_REINF_CONSOLIDATION):
        p.reinfusion_day = rng.integer(150, 210)  # consolidation, S002: interval ~6 months


def _after_relapse(rng: _Rng, p: _Patient) -> None:
    assert p.relapse_day is not None
    r = p.relapse_day
    if p.cd19_negative:
        p.new_therapy.append((r + rng.integer(7, 21), "inotuzumab ozogamicin"))
    elif rng.bern(P_REINF_RELAPSE):
        p.reinfusion_day = r + rng.integer(14, 35)
    else:
        p.new_therapy.append((r + rng.integer(7, 21), "salvage chemotherapy"))
    if rng.bern(P_DEATH_AFTER_RELAPSE):
        p.death_day = r + max(int(rng.lognormal(MEDIAN_DAYS_RELAPSE_TO_DEATH, 0.7)), 40)
        p.death_cause = "relapse"


def _refractory_course(rng: _Rng, p: _Patient) -> None:
    # Refractory disease is documented at the day-28 marrow assessment (no random draw here,
    # so the rest of the simulated cohort is unchanged): the PFS event of seed 003.
    p.progression_day = 28
    p.new_therapy.append((rng.integer(30, 45), "salvage chemotherapy"))
    if rng.bern(P_REINF_NR):
        p.reinfusion_day = rng.integer(50, 75)
    if rng.bern(P_DEATH_REFRACTORY):
        p.death_day = 28 + max(int(rng.lognormal(MEDIAN_DAYS_NR_TO_DEATH, 0.6)), 20)
        p.death_cause = "refractory disease"


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------
def _simulate(rng: _Rng, pid: str) -> _Patient:
    p = _baseline(rng, pid)
    _crs(rng, p)
    _icans(rng, p)
    _treat(rng, p)
    _observations(rng, p)
    _respond(rng, p)
    _expansion(rng, p)
    last = p.death_day if p.death_day is not None else OBS_LAST_DAY
    days = [d for d in LAB_DAYS if d <= last]
    _peaked_labs(rng, p, days)
    _chemistry_labs(rng, p, days)
    _blood_counts(rng, p, days)
    if p.death_day is None:
        _cr_or_cri(p)
    _followup(rng, p)
    if p.reinfusion_day is not None:
        p.reinfusion_product = _product(rng, costim=p.product["costim_domain"])
    return p


def _kinetics_rows(rng: _Rng, p: _Patient) -> list[dict[str, Any]]:
    half_life = rng.u(10.0, 20.0) if p.responder else rng.u(5.0, 10.0)
    end = min(p.last_alive_day, 365)
    rows = []
    stop1 = p.reinfusion_day if p.reinfusion_day is not None else end + 1
    for d in KINETICS_DAYS:
        if d <= end and d < stop1:
            v = _curve(p.cmax, p.tmax, half_life, d) * rng.lognormal(1.0, 0.15)
            rows.append((1, d, v))
    if p.reinfusion_day is not None:
        r = p.reinfusion_day
        cmax2 = p.cmax * rng.u(0.05, 0.3)  # S002 Fig. 3: mild re-expansion
        tmax2 = rng.integer(7, 14)
        for k in REINFUSION_KINETICS_DAYS:
            d = r + k
            if d <= p.last_alive_day:
                v = _curve(p.cmax, p.tmax, half_life, d) + _curve(cmax2, tmax2, half_life, k)
                rows.append((2, d, v * rng.lognormal(1.0, 0.15)))
    return [
        {
            "patient_id": p.pid,
            "infusion": inf,
            "day": d,
            "value": _sig(v, 3) if v >= LLOQ else 0.0,  # BLQ coded 0 (PKNCA convention)
            "unit": "copies_per_ug_dna",
            "lloq": LLOQ,
        }
        for inf, d, v in rows
    ]


_MARROW_SENSITIVITY = 0.01  # flow MRD, 10^-4 (clinical-standards §5)
_DONORS = ("matched sibling", "matched unrelated", "haploidentical")


def _marrow_rows(rng: _Rng, p: _Patient) -> list[dict[str, Any]]:
    b = p.base
    screen_day = -7 if b["burden_assessed"] == "before_ld" else -2
    rows: list[dict[str, Any]] = [
        {
            "patient_id": p.pid,
            "day": screen_day,
            "bm_blasts_pct": b["bm_blasts_pct"],
            "mrd_pct": b["mrd_pct"],
            "mrd_method": b["mrd_method"],
            "mrd_sensitivity_pct": _MARROW_SENSITIVITY if b["mrd_method"] else None,
            "response": None,
            "extramedullary_disease": b["extramedullary_disease"],
        }
    ]
    if p.best_response in ("CR", "CRi"):
        mrd = 0.0 if p.mrd_negative else _sig(10 ** rng.u(-2.0, 0.0), 2)
        rows.append(
            {
                "patient_id": p.pid,
                "day": 28,
                "bm_blasts_pct": round(rng.u(0.0, 3.5), 1),
                "mrd_pct": mrd,
                "mrd_method": "flow",
                "mrd_sensitivity_pct": _MARROW_SENSITIVITY,
                "response": p.best_response,
                "extramedullary_disease": False,
            }
        )
    elif p.best_response == "NR":
        blasts = max(float(b["bm_blasts_pct"]) * rng.u(0.4, 1.2), rng.u(5.0, 15.0))
        rows.append(
            {
                "patient_id": p.pid,
                "day": 28,
                "bm_blasts_pct": round(min(blasts, 98.0), 1),
                "mrd_pct": None,
                "mrd_method": None,
                "mrd_sensitivity_pct": None,
                "response": "NR",
                "extramedullary_disease": b["extramedullary_disease"],
            }
        )
    if p.relapse_day is not None:
        rows.append(
            {
                "patient_id": p.pid,
                "day": p.relapse_day,
                "bm_blasts_pct": round(rng.u(5.0, 60.0), 1),
                "mrd_pct": None,
                "mrd_method": None,
                "mrd_sensitivity_pct": None,
                "response": "relapse",
                "extramedullary_disease": False,
            }
        )
    return rows


def _event_rows(rng: _Rng, p: _Patient) -> list[dict[str, Any]]:
    ev: list[tuple[int, str, str]] = []
    if p.relapse_day is not None:
        ev.append(
            (p.relapse_day, "relapse", "CD19-negative" if p.cd19_negative else "CD19-positive")
        )
    if p.hsct_day is not None:
        ev.append((p.hsct_day, "hsct", f"allogeneic HSCT ({rng.choice(_DONORS)} donor)"))
    ev.extend((d, "new_therapy", x) for d, x in p.new_therapy)
    if p.progression_day is not None:
        ev.append((p.progression_day, "progression", "refractory disease at day-28 marrow"))
    if p.death_day is not None:
        assert p.death_cause is not None
        ev.append((p.death_day, "death", p.death_cause))
    return [{"patient_id": p.pid, "day": d, "event": e, "detail": x} for d, e, x in sorted(ev)]


def _treatment_rows(rng: _Rng, p: _Patient) -> list[dict[str, Any]]:
    rows: list[tuple[int, str, float, str]] = []
    rows += [(d, "tocilizumab", 8.0, "mg/kg") for d in p.toci_days]
    rows += [(d, "dexamethasone", 10.0, "mg") for d in p.dex_days]
    rows += [(d, "methylprednisolone", 1000.0, "mg") for d in p.mp_days]
    for o in p.obs:
        d, n = o["day"], o["vasopressors"]
        if n >= 1:
            rows.append((d, "norepinephrine", round(rng.u(0.05, 0.3), 2), "ug/kg/min"))
        if n >= 2:
            rows.append((d, "phenylephrine", round(rng.u(0.5, 2.0), 1), "ug/kg/min"))
        if n >= 3:
            rows.append((d, "epinephrine", round(rng.u(0.05, 0.2), 2), "ug/kg/min"))
        if o["vasopressin"]:
            rows.append((d, "vasopressin", 0.03, "U/min"))
        if o["seizure"] != "none":
            rows.append((d, "levetiracetam", 500.0, "mg"))
    return [
        {"patient_id": p.pid, "day": d, "drug": x, "dose": dose, "unit": u}
        for d, x, dose, u in sorted(rows)
    ]


def _infusion_rows(p: _Patient) -> list[dict[str, Any]]:
    rows = [{"patient_id": p.pid, "infusion": 1, "day": 0, **p.product}]
    if p.reinfusion_day is not None:
        rows.append(
            {"patient_id": p.pid, "infusion": 2, "day": p.reinfusion_day, **p.reinfusion_product}
        )
    return rows


def _lab_rows(p: _Patient) -> list[dict[str, Any]]:
    return [
        {
            "patient_id": p.pid,
            "day": d,
            "analyte": a,
            "value": v,
            "unit": ANALYTE_BY_NAME[a].unit,
        }
        for (d, a), v in sorted(p.labs.items())
    ]


_PEAK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("peak_il6_pg_ml", "il6"),
    ("peak_il2_pg_ml", "il2"),
    ("peak_il10_pg_ml", "il10"),
    ("peak_tnfa_pg_ml", "tnfa"),
    ("peak_ifng_pg_ml", "ifng"),
    ("peak_crp_mg_l", "crp"),
    ("peak_ferritin_ng_ml", "ferritin"),
)


def _patient_row(p: _Patient, kinetics: list[dict[str, Any]]) -> dict[str, Any]:
    assessed = p.best_response != "NE"
    crs_grade = 5 if p.death_cause == "CRS" else p.crs.peak
    peaks = {
        col: max(v for (d, a), v in p.labs.items() if a == analyte and d >= 1)
        for col, analyte in _PEAK_COLUMNS
    }
    return {
        "patient_id": p.pid,
        **p.base,
        **p.product,
        "n_infusions": 1 + (p.reinfusion_day is not None),
        "crs_grade": crs_grade,
        "crs_grading_system": "astct",
        "crs_onset_day": p.crs.onset(),
        "icans_grade": p.icans.peak,
        "seizure": any(o["seizure"] != "none" for o in p.obs),
        "tocilizumab": bool(p.toci_days),
        "corticosteroids": bool(p.dex_days or p.mp_days),
        "best_response": p.best_response,
        "response_day": 28 if assessed else None,
        "mrd_negative": p.mrd_negative if assessed else None,
        "relapse": p.relapse_day is not None,
        "relapse_day": p.relapse_day,
        "cd19_negative_relapse": p.cd19_negative if p.relapse_day is not None else None,
        "hsct_after": p.hsct_day is not None,
        "hsct_day": p.hsct_day,
        "death": p.death_day is not None,
        "death_day": p.death_day,
        "death_cause": p.death_cause,
        "last_followup_day": p.last_alive_day,
        **peaks,
        "peak_cart_copies_per_ug": max(k["value"] for k in kinetics),
    }


def to_standard_dtypes(spec: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a frame of clean Python values to the standard's dtypes.

    Parameters
    ----------
    spec
        The table of the standard.
    frame
        Values valid for their columns; ``None``/``pd.NA`` for missing.

    Returns
    -------
    pandas.DataFrame
        Standard columns in standard order (those present), then extra columns, typed by
        :func:`cartcohort.model.cohort.apply_dtypes`.
    """
    clean = frame.copy()
    for col in spec.columns:
        if col.name in clean.columns and col.type == "number":
            values = clean[col.name].astype(object)
            clean[col.name] = pd.to_numeric(values.where(values.notna(), np.nan)).astype(float)
    return apply_dtypes(spec, clean)


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    spec = TABLE_BY_NAME[table]
    frame = pd.DataFrame(rows, columns=list(spec.column_names))
    frame = frame.astype(object).where(frame.notna(), None)
    return to_standard_dtypes(spec, frame).sort_values(list(spec.key), ignore_index=True)


def generate_synthetic(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Generate the SYNTHETIC r/r B-ALL CAR-T demo cohort.

    Parameters
    ----------
    n
        Number of simulated patients (ids ``SYN-001`` ...).
    seed
        Seed of the ``numpy.random.PCG64`` stream; the same seed gives the same cohort
        on every run and platform (for a given NumPy version).

    Returns
    -------
    dict of str to pandas.DataFrame
        The standard's eight tables (``patients, infusions, marrow, observations, labs,
        kinetics, events, treatments``) with exactly the standard's columns, typed, sorted
        by each table's key.

    Notes
    -----
    Simulated data, calibrated to published summary figures (see
    :mod:`cartcohort.demo.calibration`); not real patients. ``infusion_date`` holds
    synthetic dates between 2019-01-01 and 2023-06-30 and follow-up of survivors ends at
    the synthetic data cut-off 2024-06-30.

    Examples
    --------
    >>> tables = generate_synthetic(n=5, seed=1)
    >>> sorted(tables)[:3]
    ['events', 'infusions', 'kinetics']
    >>> tables["patients"]["patient_id"].tolist()
    ['SYN-001', 'SYN-002', 'SYN-003', 'SYN-004', 'SYN-005']
    """
    if n < 1:
        msg = f"`n` must be at least 1; got {n}."
        raise ValueError(msg)
    rng = _Rng(seed)
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLE_BY_NAME}
    width = max(3, len(str(n)))
    for i in range(1, n + 1):
        p = _simulate(rng, f"SYN-{i:0{width}d}")
        kinetics = _kinetics_rows(rng, p)
        out["patients"].append(_patient_row(p, kinetics))
        out["infusions"].extend(_infusion_rows(p))
        out["marrow"].extend(_marrow_rows(rng, p))
        out["observations"].extend(p.obs)
        out["labs"].extend(_lab_rows(p))
        out["kinetics"].extend(kinetics)
        out["events"].extend(_event_rows(rng, p))
        out["treatments"].extend(_treatment_rows(rng, p))
    return {t: _frame(t, rows) for t, rows in out.items()}


# --------------------------------------------------------------------------------------------
# Writing the demo datasets
# --------------------------------------------------------------------------------------------
DATA_DIR = Path(__file__).parent / "data"
SYNTHETIC_LABEL = "SYNTHETIC — simulated patients, not real data"

SYNTHETIC_README = f"""# SYNTHETIC demo cohort — simulated patients, not real data

**{SYNTHETIC_LABEL}.** Every row in these files was produced by a random-number
generator. No row describes a real person; identifiers (`SYN-001` ...), centres
("Synthetic Centre A") and dates are invented.

- Generator: `cartcohort.demo.generator.generate_synthetic(n={DEFAULT_N}, seed={DEFAULT_SEED})`
- Regenerate: `python -m cartcohort.demo`
- Data standard: cartcohort cohort data standard v{STANDARD_VERSION}
- Model and calibration (each target with its published source): `docs/demo-cohort.md`
  and `cartcohort.demo.calibration`

The cohort imitates relapsed/refractory B-ALL treated with CD19 CAR-T cells: tumour
burden in the five subgroups of the seed paper (0 % blasts with MRD positivity, 0-5,
5-20, 20-50, >= 50 %), CR rates and severe CRS by burden, IL-6 and CAR-T expansion,
survival, relapses (some CD19-negative), HSCT and re-infusions. Daily observations are
written so that ASTCT 2019 grading gives back `crs_grade` and `icans_grade`; a
`crs_grade` of 5 means death from CRS (observed maximum grade 4 plus the death event).

Do not use these data for clinical or scientific conclusions. They exist to demonstrate
and test software.

Tables: patients, infusions, marrow, observations, labs, kinetics, events, treatments.
Kinetics values below the LLOQ ({LLOQ:g} copies/µg DNA) are written as 0.
"""


def _seed002_readme(source: str) -> str:
    return f"""# Seed 002: 14 MRD-positive B-ALL patients (published data)

Published individual data of real patients, reproduced from Table 2 and the Results text
of: {source}.

Values the paper does not give are left empty (missing); nothing is imputed. The mapping
of every column, and the choices where the paper is ambiguous, are documented in
`cartcohort.demo.seed002` and `docs/demo-cohort.md`. Extra columns (`malignancy`,
`mrd_detection`, `last_line_of_therapy`, `mrd_day28`, `additional_therapy`,
`clinical_outcome`) keep Table 2's text verbatim.

Only a patients table: the paper has no per-patient daily data.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Dataset:
    folder: str
    tables: dict[str, pd.DataFrame]
    meta: dict[str, Any]
    readme: str


def _datasets() -> list[_Dataset]:
    from cartcohort.demo.seed002 import SOURCE, seed002_patients

    synthetic = generate_synthetic()
    return [
        _Dataset(
            folder="seed002_mrd",
            tables={"patients": seed002_patients()},
            meta={
                "name": "seed002-mrd",
                "synthetic": False,
                "description": "Published individual data of 14 MRD-positive B-ALL patients "
                f"treated with CD19 CAR-T cells. Source: {SOURCE}.",
                "source": SOURCE,
                "license": "CC BY 4.0",
                "standard_version": STANDARD_VERSION,
                "tables": ["patients"],
            },
            readme=_seed002_readme(SOURCE),
        ),
        _Dataset(
            folder="synthetic",
            tables=synthetic,
            meta={
                "name": "synthetic-rr-ball",
                "synthetic": True,
                "description": f"{SYNTHETIC_LABEL}. Relapsed/refractory B-ALL CD19 CAR-T "
                f"cohort of {DEFAULT_N} simulated patients, calibrated to published figures "
                "(cartcohort.demo.calibration).",
                "generator": "cartcohort.demo.generator.generate_synthetic",
                "seed": DEFAULT_SEED,
                "n_patients": DEFAULT_N,
                "standard_version": STANDARD_VERSION,
                "tables": list(synthetic),
            },
            readme=SYNTHETIC_README,
        ),
    ]


def _write_tables(
    folder: Path, name: str, tables: dict[str, pd.DataFrame], fmt: Format, meta: dict[str, Any]
) -> list[Path]:
    if fmt == "csv":
        paths = []
        for table, frame in tables.items():
            path = folder / f"{table}.csv"
            write_csv(frame, path, index=False, lineterminator="\n")
            paths.append(path)
        return paths
    if fmt == "parquet":
        paths = []
        for table, frame in tables.items():
            path = folder / f"{table}.parquet"
            frame.to_parquet(path, index=False)
            paths.append(path)
        return paths
    path = folder / f"{name}.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table, frame in tables.items():
            excel = frame.copy()
            for col in excel.columns:
                if isinstance(excel[col].dtype, pd.DatetimeTZDtype) or str(
                    excel[col].dtype
                ).startswith("datetime"):
                    excel[col] = excel[col].dt.strftime("%Y-%m-%d")
            safe_frame(excel.astype(object).where(excel.notna(), None)).to_excel(
                writer, sheet_name=table, index=False
            )
        rows = metadata_rows(
            name=str(meta["name"]),
            synthetic=bool(meta["synthetic"]),
            description=str(meta.get("description", "")),
        )
        safe_frame(pd.DataFrame(rows)).to_excel(
            writer, sheet_name=METADATA_SHEET, index=False, header=False
        )
    return [path]


def write_demo(out_dir: str | Path, *, fmt: Format = "csv") -> list[Path]:
    """Write both demo datasets, ``seed002_mrd/`` and ``synthetic/``, under ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).
    fmt
        ``"csv"`` (one file per table; byte-identical to the shipped files),
        ``"xlsx"`` (one workbook per dataset, one sheet per table) or ``"parquet"``
        (one file per table).

    Returns
    -------
    list of pathlib.Path
        Every file written, data files then ``cohort.yaml`` and ``README.md`` per dataset.

    Raises
    ------
    ValueError
        If ``fmt`` is not one of the three formats.
    """
    if fmt not in ("csv", "xlsx", "parquet"):
        msg = f"`fmt` must be 'csv', 'xlsx' or 'parquet'; got {fmt!r}."
        raise ValueError(msg)
    root = Path(out_dir)
    written: list[Path] = []
    for ds in _datasets():
        folder = root / ds.folder
        folder.mkdir(parents=True, exist_ok=True)
        written += _write_tables(folder, ds.folder, ds.tables, fmt, ds.meta)
        meta_path = folder / "cohort.yaml"
        meta_path.write_text(
            yaml.safe_dump(ds.meta, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
            newline="\n",
        )
        readme = folder / "README.md"
        readme.write_text(ds.readme, encoding="utf-8", newline="\n")
        written += [meta_path, readme]
    return written


def regenerate(data_dir: str | Path | None = None) -> list[Path]:
    """Rewrite the shipped demo files (``cartcohort/demo/data/``) from the generator.

    Parameters
    ----------
    data_dir
        Target folder; default the package's ``demo/data`` folder.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    return write_demo(DATA_DIR if data_dir is None else data_dir, fmt="csv")


def _main(argv: Sequence[str] | None = None, *, echo: Callable[[str], None] = print) -> int:
    paths = regenerate()
    echo(f"wrote {len(paths)} files under {DATA_DIR}")
    return 0


__all__ = [
    "DEFAULT_N",
    "DEFAULT_SEED",
    "LLOQ",
    "SYNTHETIC_LABEL",
    "generate_synthetic",
    "regenerate",
    "to_standard_dtypes",
    "write_demo",
]

if __name__ == "__main__":
    raise SystemExit(_main())
