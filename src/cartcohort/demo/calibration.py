"""Calibration targets of the synthetic demo cohort, each with its source.

Every number the synthetic generator (:mod:`cartcohort.demo.generator`) is tuned to
reproduce is written here once, with the paper, the place in the paper and the quoted
words. A target is one of three kinds:

``published``
    a number printed in a seed paper (quoted);
``derived``
    a number computed from printed numbers (the derivation is given);
``assumption``
    a value the seeds do not give, chosen to be clinically plausible; the note says
    why and where the order of magnitude comes from. These are the demo's own choices,
    not facts about any cohort.

:func:`calibration_report` computes the achieved value of each checkable target from
a generated cohort, so that the documentation table and the tests use the same
definitions.

Seed papers (``/work/shared/seeds``):

* **S000** — tumour burden and ssCART-19 in r/r B-ALL, 78 patients (Sci Rep; trial
  NCT03919240).
* **S002** — Lu W et al. CD19 CAR-T cell treatment conferred sustained remission in B-ALL
  patients with minimal residual disease. Cancer Immunol Immunother 2021;
  doi:10.1007/s00262-021-02941-4.
* **S003** — abstract: 24 r/r B-ALL patients, factors of survival and severe CRS
  (NCT02349698).
* **S004** — multicentre retrospective study, 93 r/r B-ALL patients: impact of CRS and
  ICANS on outcome (Front Immunol).
* **Park 2018** — Park JH et al. N Engl J Med 2018;378:449-459 (clinical-standards.md S28).
* **Mueller 2018** — Mueller KT et al. Clin Cancer Res 2018;24:6175 (clinical-standards.md
  S30).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

TargetKind = Literal["published", "derived", "assumption"]

S000 = "S000: tumour burden and ssCART-19 in r/r B-ALL (n = 78; NCT03919240)"
S002 = "S002: Lu W et al., Cancer Immunol Immunother 2021 (MRD-positive B-ALL, n = 14)"
S003 = "S003: abstract, r/r B-ALL CD19 CAR-T (n = 24; NCT02349698)"
S004 = "S004: CRS/ICANS and outcome after CD19 CAR-T in r/r B-ALL (n = 93, 4 centres)"
PARK2018 = "Park JH et al. N Engl J Med 2018;378:449-459"
MUELLER2018 = "Mueller KT et al. Clin Cancer Res 2018;24:6175-6184"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationTarget:
    """One calibration target of the synthetic cohort.

    Attributes
    ----------
    name
        Identifier (snake_case), used by :func:`calibration_report` and the tests.
    value
        Target value (a proportion in [0, 1], a day, a ratio or a level).
    unit
        Unit of ``value`` (``"proportion"``, ``"day"``, ``"ratio"``, ``"pg/mL"`` ...).
    kind
        ``published``, ``derived`` or ``assumption`` (see the module docstring).
    source
        The paper.
    location
        Where in the paper (section, figure, table).
    quote
        The quoted words (or, for ``derived`` and ``assumption``, the derivation or reason).
    tolerance
        Absolute tolerance the n = 150 demo is tested against (``None``: not tested as a
        number, e.g. a direction-only target).
    """

    name: str
    value: float
    unit: str
    kind: TargetKind
    source: str
    location: str
    quote: str
    tolerance: float | None = None


TARGETS: tuple[CalibrationTarget, ...] = (
    # ---------------------------------------------------------------- tumour burden
    CalibrationTarget(
        name="low_burden_fraction",
        value=33 / 78,
        unit="proportion",
        kind="published",
        source=S000,
        location="Results, Patient characteristics",
        quote="Thirty-three patients were included in the low tumor burden group and had "
        "minimal residual disease (MRD) with bone marrow blast percentages ranging from 0.01 "
        "to less than 5; the remaining 45 patients were in the high tumor burden group",
        tolerance=0.10,
    ),
    CalibrationTarget(
        name="burden_assessed_before_ld_fraction",
        value=57 / 78,
        unit="proportion",
        kind="derived",
        source=S000,
        location="Results, after Table 1",
        quote="the tumor burdens of 25 (75.76%) people in the low tumor burden group were "
        "evaluated prior to FC treatment, while those of 32 (71.11%) people in the high tumor "
        "burden group were evaluated before FC treatment  [(25 + 32) / 78 = 73.1 %]",
        tolerance=0.10,
    ),
    CalibrationTarget(
        name="subgroup_fractions",
        value=float("nan"),
        unit="proportion",
        kind="assumption",
        source=S000,
        location="Results, Safety analysis; Fig. 4C",
        quote="The five subgroups ((a) 0 % with MRD positivity; (b) 0-5 %; (c) 5-20 %; "
        "(d) 20-50 %; (e) >= 50 %) are defined in the text but their sizes are not printed. "
        "Chosen: a 0.15, b 0.27 (low burden 0.42), c 0.19, d 0.17, e 0.22.",
    ),
    # ---------------------------------------------------------------- response
    CalibrationTarget(
        name="cr_rate_overall",
        value=65 / 78,
        unit="proportion",
        kind="published",
        source=S000,
        location="Results, Response rates; Fig. 2A",
        quote="The overall CR rate reached 83.33% (Fig. 2A).",
        tolerance=0.08,
    ),
    CalibrationTarget(
        name="cr_rate_low_burden",
        value=31 / 33,
        unit="proportion",
        kind="derived",
        source=S000,
        location="Fig. 2B",
        quote="CR rate of the low tumor burden group was significantly higher than that of the "
        "high tumor burden group (P = 0.0358, Fig. 2B)  [31/33 vs 34/45 is the only split of the "
        "65 CRs among 33 low- and 45 high-burden patients that gives Fisher P = 0.0358]",
        tolerance=0.10,
    ),
    CalibrationTarget(
        name="cr_rate_high_burden",
        value=34 / 45,
        unit="proportion",
        kind="derived",
        source=S000,
        location="Fig. 2B",
        quote="see cr_rate_low_burden  [34/45 = 75.6 %]",
        tolerance=0.12,
    ),
    CalibrationTarget(
        name="mrd_negative_cr_rate",
        value=29 / 78,
        unit="proportion",
        kind="published",
        source=S000,
        location="Results, Response rates; Fig. 2A",
        quote="29 achieved MRD-negative CR (37.18%), 36 achieved MRD-positive or MRD "
        "status-unknown CR (46.15%), and 13 patients had no response (NR) (16.67%)",
        tolerance=0.10,
    ),
    # ---------------------------------------------------------------- CRS / ICANS
    CalibrationTarget(
        name="crs_any_rate",
        value=76 / 93,
        unit="proportion",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="CRS ... occurred in 76 (81.7%) patients, with 19 (20.4%) patients developing "
        "severe CRS",
        tolerance=0.08,
    ),
    CalibrationTarget(
        name="severe_crs_rate",
        value=19 / 93,
        unit="proportion",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="19 (20.4%) patients developing severe CRS [grade >= 3, ASTCT]; cf. Park 2018: "
        "severe cytokine release syndrome occurred in 14 of 53 patients (26%)",
        tolerance=0.08,
    ),
    CalibrationTarget(
        name="severe_crs_high_minus_low",
        value=0.24,
        unit="difference in proportion",
        kind="assumption",
        source=S000,
        location="Fig. 4B (P = 0.0053) and Fig. 4C (P = 0.0224)",
        quote="the high tumor burden group had ... a higher incidence of sCRS ... (Fig. 4A,B) "
        "... the CRS reaction became increasingly severe as the tumor burden increased. "
        "Rates are not printed; chosen per subgroup a-e: 3, 8, 20, 30, 40 % (low ~6 %, high "
        "~30 %, overall ~20 %, as S004's 20.4 %; Park 2018: 26 %).",
    ),
    CalibrationTarget(
        name="mrd_subgroup_crs_grade_le1",
        value=0.85,
        unit="proportion",
        kind="assumption",
        source=S002,
        location="Results, Adverse events; Discussion",
        quote="Most of the patients (71.4%) had grade 1 CRS after the first infusion ... no "
        "patients in the MRD-positive group had grade 2 or higher CRS. Chosen for subgroup a "
        "(0 % blasts, MRD-positive): P(grade <= 1) = 0.85 (the synthetic cohort is ASTCT-graded "
        "and not restricted to one centre).",
    ),
    CalibrationTarget(
        name="crs_onset_median_day",
        value=5.0,
        unit="day",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="The median time for CRS and severe CRS occurrence was day 5 (range: 1-14 and 1-13 "
        "days, respectively).",
        tolerance=2.0,
    ),
    CalibrationTarget(
        name="icans_rate",
        value=16 / 93,
        unit="proportion",
        kind="derived",
        source=S004,
        location="Results, Patient characteristics",
        quote="16 (5.3%) experienced ICANS, with 8 (2.65%) experiencing severe ICANS  [the "
        "printed percentages do not match the counts; 16/93 = 17.2 %, 8/93 = 8.6 %]",
        tolerance=0.08,
    ),
    CalibrationTarget(
        name="severe_icans_rate",
        value=8 / 93,
        unit="proportion",
        kind="derived",
        source=S004,
        location="Results, Patient characteristics",
        quote="see icans_rate  [8/93 = 8.6 %]",
        tolerance=0.06,
    ),
    CalibrationTarget(
        name="icans_onset_median_day",
        value=8.0,
        unit="day",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="The median time for ICANS and severe ICANS occurrence was days 8 and 7 (range: "
        "4-19 and 5-19 days, respectively).",
        tolerance=3.0,
    ),
    CalibrationTarget(
        name="tocilizumab_rate",
        value=45 / 93,
        unit="proportion",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="Forty-five (48.3%) patients received tocilizumab. ... The median time for "
        "tocilizumab administration was day 7 (range: 2-15 days).",
        tolerance=0.12,
    ),
    CalibrationTarget(
        name="corticosteroid_rate",
        value=51 / 93,
        unit="proportion",
        kind="published",
        source=S004,
        location="Results, Patient characteristics",
        quote="51 (54.8%) received corticosteroids for managing CAR-T therapy-associated "
        "toxicities. ... The median time for corticosteroid administration was day 8. The "
        "synthetic cohort gives steroids by ASTCT-era practice (grade >= 3 CRS, grade >= 2 "
        "ICANS, some grade 2 CRS) and is expected to fall below this centre's liberal use.",
        tolerance=0.20,
    ),
    # ---------------------------------------------------------------- cytokines
    CalibrationTarget(
        name="il6_peak_high_over_low_burden",
        value=1.0,
        unit="ratio of medians (target: > 1)",
        kind="assumption",
        source=S000,
        location="Results, Cytokine release; Fig. 5C",
        quote="The amount of IL-6 released in the high tumor burden group was significantly "
        "higher than that released in the low tumor burden group (Fig. 5C, P = 0.0427). "
        "S004 Discussion: the group with >= 20% blast cells had higher IL-6 levels "
        "(p < 0.001). Ratio not printed: only the direction is a target (ratio > 1); the size "
        "follows from the CRS-grade mix of each burden group and the x1.4 burden factor.",
    ),
    CalibrationTarget(
        name="il6_peak_levels",
        value=float("nan"),
        unit="pg/mL",
        kind="assumption",
        source="Teachey DT et al. Cancer Discov 2016;6:664; Davila ML et al. Sci Transl Med "
        "2014;6:224ra25",
        location="order of magnitude only",
        quote="Peak IL-6 log-normal with median 12, 45, 200, 900, 3000 pg/mL for CRS grade "
        "0-4 (x1.4 in high burden), baseline 2-8 pg/mL. The seeds give no absolute levels "
        "(S002: 'in most MRD-positive patients, CAR-T yielded only a mild cytokine response'); "
        "levels of tens of pg/mL in mild and thousands in severe CRS are the published order of "
        "magnitude; exact values UNCONFIRMED.",
    ),
    # ---------------------------------------------------------------- kinetics
    CalibrationTarget(
        name="cart_tmax_range",
        value=10.0,
        unit="day",
        kind="published",
        source=S002,
        location="Results, CAR-T cell expansion",
        quote="the peak expansion of CAR-T cells occurred within 7-14 days and the number "
        "decreased to low or undetectable levels by 3 months",
        tolerance=4.0,
    ),
    CalibrationTarget(
        name="cmax_responder_ratio",
        value=1.74,
        unit="ratio of geometric means",
        kind="published",
        source=MUELLER2018,
        location="Abstract (as quoted in clinical-standards.md §4, S30)",
        quote="responders 74% higher geometric-mean Cmax and 104% higher AUC0-28d; Cmax rises "
        "with CRS grade",
    ),
    CalibrationTarget(
        name="reinfusion_fraction",
        value=0.17,
        unit="proportion",
        kind="assumption",
        source=S002,
        location="Results, Effect of repeated infusion; Fig. 3",
        quote="five patients received two or more CAR-T cell infusions ... repeated CAR-T cell "
        "infusion only resulted in mild proliferation of CAR-T cells (Fig. 3). 5/14 in an MRD "
        "cohort; chosen 15-20 % for an r/r cohort, re-expansion Cmax 5-30 % of the first.",
        tolerance=0.08,
    ),
    # ---------------------------------------------------------------- survival
    CalibrationTarget(
        name="os_2y_low_burden",
        value=0.70,
        unit="proportion",
        kind="assumption",
        source=S002,
        location="Abstract; Fig. 1",
        quote="the 2-year event-free survival rate in MRD-positive patients was 61.2% +- 14.0% "
        "and the 2-year overall survival was 78.6 +- 11.0%, which were significantly higher "
        "than patients with active disease. Park 2018: low burden median OS 20.1 months. "
        "Chosen target 0.70 for the low-burden group.",
        tolerance=0.15,
    ),
    CalibrationTarget(
        name="os_2y_high_burden",
        value=0.45,
        unit="proportion",
        kind="assumption",
        source=PARK2018,
        location="Abstract",
        quote="median overall survival was 12.9 months ... Patients with a low disease burden "
        "(<5% bone marrow blasts) before treatment had markedly enhanced remission duration "
        "and survival. S000 Fig. 2C: OS better with low burden (P = 0.2). Chosen 0.45.",
        tolerance=0.15,
    ),
    CalibrationTarget(
        name="efs_2y_overall",
        value=0.40,
        unit="proportion",
        kind="assumption",
        source=S002,
        location="Abstract",
        quote="2-year EFS 61.2 % in MRD-positive patients, lower with active disease; Park 2018 "
        "median EFS 6.1 months. Chosen 0.40 overall (EFS events: no response at day 28, relapse, "
        "death).",
        tolerance=0.15,
    ),
    CalibrationTarget(
        name="cd19_negative_relapse_fraction",
        value=0.30,
        unit="proportion of relapses",
        kind="assumption",
        source=S002,
        location="Results, Efficacy",
        quote="Of the four patients who experienced a morphologic relapse, one patient (Patient "
        "5) experienced a CD19-negative relapse and the other three ... CD19-positive relapse. "
        "Chosen 30 % of relapses.",
    ),
    CalibrationTarget(
        name="hsct_after_fraction_of_responders",
        value=0.35,
        unit="proportion",
        kind="assumption",
        source=S002,
        location="Results, Efficacy",
        quote="All five BCR-ABL-positive patients were directly bridged to allo-HSCT with a "
        "median time to transplantation of 51 days ... Two patients died due to "
        "transplant-related toxic effects. Chosen: 35 % of responders (80 % if Ph+), day 45-120.",
    ),
)

TARGET_BY_NAME: Mapping[str, CalibrationTarget] = {t.name: t for t in TARGETS}


def target(name: str) -> CalibrationTarget:
    """The calibration target called ``name``.

    Parameters
    ----------
    name
        A name from :data:`TARGETS`.

    Returns
    -------
    CalibrationTarget
        The target with its source.

    Raises
    ------
    KeyError
        If there is no such target.
    """
    return TARGET_BY_NAME[name]


# --------------------------------------------------------------------------------------------
# Achieved values
# --------------------------------------------------------------------------------------------
#: Seed 000's five tumour-burden subgroups, in order.
SUBGROUPS: tuple[str, ...] = ("0_mrd_pos", "0-5", "5-20", "20-50", ">=50")


def burden_subgroup(patients: pd.DataFrame) -> pd.Series:
    """Seed 000's tumour-burden subgroup of each patient, from marrow blasts and MRD.

    Parameters
    ----------
    patients
        Patients table with ``bm_blasts_pct``.

    Returns
    -------
    pandas.Series
        One of :data:`SUBGROUPS` per patient (``"0_mrd_pos"``: 0 % blasts, MRD-positive).
    """
    blasts = patients["bm_blasts_pct"].astype(float).to_numpy()
    bins = np.digitize(blasts, [1e-9, 5.0, 20.0, 50.0])
    return pd.Series([SUBGROUPS[int(b)] for b in bins], index=patients.index, name="subgroup")


def is_low_burden(patients: pd.DataFrame) -> pd.Series:
    """Whether each patient had low tumour burden (marrow blasts < 5 %, seed 000)."""
    return patients["bm_blasts_pct"].astype(float) < 5.0


def km_at(time: np.ndarray, event: np.ndarray, at: float) -> float:
    """Kaplan-Meier survival estimate at ``at`` (naive product-limit; for calibration only).

    Parameters
    ----------
    time
        Follow-up times in days.
    event
        ``True`` where the time is an event, ``False`` where censored.
    at
        Time at which the estimate is read.

    Returns
    -------
    float
        S(at).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    surv = 1.0
    for u in np.unique(t[e & (t <= at)]):
        n_risk = int(np.sum(t >= u))
        d = int(np.sum((t == u) & e))
        surv *= 1.0 - d / n_risk
    return surv


def _os(patients: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    time = patients["last_followup_day"].astype(float).to_numpy()
    event = patients["death"].astype(bool).to_numpy()
    return time, event


def _efs(patients: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    # EFS events (S000 Methods: "the earliest of no response, relapse, or death"): no response
    # counted at the day-28 assessment, relapse at relapse_day, death at death_day; censored at
    # last follow-up otherwise.
    nr = ~patients["best_response"].astype(str).isin(["CR", "CRi"]).to_numpy()
    relapse = patients["relapse"].astype(bool).to_numpy()
    death = patients["death"].astype(bool).to_numpy()
    last = patients["last_followup_day"].astype(float).to_numpy()
    time = np.where(relapse, patients["relapse_day"].astype(float).to_numpy(), last)
    time = np.where(nr, np.minimum(last, 28.0), time)
    return time, nr | relapse | death


def _flag(series: pd.Series) -> pd.Series:
    """A nullable boolean column as plain bool, missing read as False."""
    return series.astype("boolean").fillna(value=False).astype(bool)


def _rate(mask: pd.Series, sel: pd.Series | None = None) -> float:
    if sel is not None:
        mask = mask[sel]
    return float(mask.astype(bool).mean())


def _achievers(
    tables: Mapping[str, pd.DataFrame],
) -> dict[str, Callable[[], float]]:
    p = tables["patients"]
    low = is_low_burden(p)
    cr = p["best_response"].astype(str).isin(["CR", "CRi"])
    crs = p["crs_grade"].astype(float)
    icans = p["icans_grade"].astype(float)
    il6 = p["peak_il6_pg_ml"].astype(float)
    kin = tables["kinetics"]
    k1 = kin[kin["infusion"] == 1]
    tmax = k1.loc[k1.groupby("patient_id")["value"].idxmax(), "day"].astype(float)
    two_years = 730.0
    return {
        "low_burden_fraction": lambda: _rate(low),
        "burden_assessed_before_ld_fraction": lambda: _rate(p["burden_assessed"] == "before_ld"),
        "cr_rate_overall": lambda: _rate(cr),
        "cr_rate_low_burden": lambda: _rate(cr, low),
        "cr_rate_high_burden": lambda: _rate(cr, ~low),
        "mrd_negative_cr_rate": lambda: _rate(cr & _flag(p["mrd_negative"])),
        "crs_any_rate": lambda: _rate(crs >= 1),
        "severe_crs_rate": lambda: _rate(crs >= 3),
        "severe_crs_high_minus_low": lambda: _rate(crs >= 3, ~low) - _rate(crs >= 3, low),
        "mrd_subgroup_crs_grade_le1": lambda: _rate(crs <= 1, burden_subgroup(p) == SUBGROUPS[0]),
        "crs_onset_median_day": lambda: float(p["crs_onset_day"].astype(float).median()),
        "icans_rate": lambda: _rate(icans >= 1),
        "severe_icans_rate": lambda: _rate(icans >= 3),
        "icans_onset_median_day": lambda: _icans_onset_median(tables),
        "tocilizumab_rate": lambda: _rate(p["tocilizumab"]),
        "corticosteroid_rate": lambda: _rate(p["corticosteroids"]),
        "il6_peak_high_over_low_burden": lambda: float(il6[~low].median() / il6[low].median()),
        "cart_tmax_range": lambda: float(tmax.median()),
        "cmax_responder_ratio": lambda: _geo_ratio(p, cr),
        "reinfusion_fraction": lambda: _rate(p["n_infusions"].astype(int) >= 2),
        "os_2y_low_burden": lambda: km_at(*_os(p[low]), at=two_years),
        "os_2y_high_burden": lambda: km_at(*_os(p[~low]), at=two_years),
        "efs_2y_overall": lambda: km_at(*_efs(p), at=two_years),
        "cd19_negative_relapse_fraction": lambda: _rate(
            _flag(p["cd19_negative_relapse"]), p["relapse"].astype(bool)
        ),
        "hsct_after_fraction_of_responders": lambda: _rate(p["hsct_after"], cr),
    }


def _icans_onset_median(tables: Mapping[str, pd.DataFrame]) -> float:
    obs = tables["observations"]
    sick = obs[(obs["ice_score"].astype(float) < 10) | (obs["seizure"].astype(str) != "none")]
    return float(sick.groupby("patient_id")["day"].min().astype(float).median())


def _geo_ratio(p: pd.DataFrame, cr: pd.Series) -> float:
    cmax = np.log(p["peak_cart_copies_per_ug"].astype(float))
    return float(np.exp(cmax[cr].mean() - cmax[~cr].mean()))


def calibration_report(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Target versus achieved value for every checkable calibration target.

    Parameters
    ----------
    tables
        A generated cohort (table name -> frame), e.g. from
        :func:`cartcohort.demo.generator.generate_synthetic`.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, target, achieved, tolerance, unit, source``; one row per
        target that has an achieved-value definition.
    """
    achievers = _achievers(tables)
    rows = []
    for t in TARGETS:
        fn = achievers.get(t.name)
        if fn is None:
            continue
        rows.append(
            {
                "name": t.name,
                "kind": t.kind,
                "target": t.value,
                "achieved": fn(),
                "tolerance": t.tolerance,
                "unit": t.unit,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "SUBGROUPS",
    "TARGETS",
    "TARGET_BY_NAME",
    "CalibrationTarget",
    "burden_subgroup",
    "calibration_report",
    "is_low_burden",
    "km_at",
    "target",
]
