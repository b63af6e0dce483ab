"""The 14 MRD-positive B-ALL patients of seed paper 002 (Table 2), as a patients table.

Source: Lu W, Wei Y, Cao Y, et al. *CD19 CAR-T cell treatment conferred sustained
remission in B-ALL patients with minimal residual disease.* Cancer Immunol Immunother
2021. doi:10.1007/s00262-021-02941-4 (open access, CC BY 4.0). Table 2 "Characteristics
of MRD-positive patients and CAR-T cells" and the Results text.

These are **published individual data of real patients**, reproduced as printed. Every
value the paper does not give is missing (``NA``); no value is imputed. Where a value is
derived from the text rather than read from Table 2, the comment at the column says so.

Column sources (standard ``patients`` columns)
----------------------------------------------
patient_id
    ``S002-01`` .. ``S002-14`` = Table 2 "Patient" 1..14.
age_years, sex
    Table 2 "Age, years", "Sex".
center, diagnosis
    Methods ("ethics commission of Tianjin First Center Hospital"; B-ALL).
ph_positive
    Table 2 "Malignancy" contains "Ph+" -> True. The others are False: Results
    "Eight of nine BCR-ABL negative patients" names the nine BCR-ABL-negative patients.
tp53_mutated
    True for patient 10 ("TP53+"). Missing for the others: the Methods list TP53 among
    the NGS targets but do not say every patient was tested.
cns_leukemia, prior_hsct
    False for all: Methods exclusion criteria "central nervous system leukemia; ... prior
    allogeneic or autologous HSCT".
extramedullary_disease
    False for all: the control group is defined as "blasts >= 5% or with extramedullary
    disease"; these 14 patients were "in CR".
prior_lines
    Table 2 "No. of prior therapies".
disease_status
    Table 2 "MRD refractory/Relapse": "Refractory" -> ``mrd_persistent``, "Relapse" ->
    ``mrd_relapse`` (Methods: "consistent MRD-positive state" / "converted to MRD positive").
bm_blasts_pct, mrd_pct
    Missing: patients were in morphological CR with MRD 0.01-5 % (Table 1) but the
    individual values are not published (0 would claim no blasts).
mrd_method
    ``flow``: Table 2 "Detection of MRD" includes "FCM" for every patient (other methods
    are kept in the extra column ``mrd_detection``).
dose_cells_per_kg
    Table 2 "CAR-T cell infused/kg" (e.g. 5.84x10^6 -> 5.84e6).
costim_domain, lymphodepletion
    Methods: "recombinant lentiviral vectors encoding the CD19-28 zeta CAR gene" -> CD28;
    "cyclophosphamide ... 750 mg/m2 ... fludarabine ... 30 mg/m2 for three days" -> Flu/Cy.
transduction_pct
    Missing: Methods give "approximately 50%" for all patients, not a per-patient value.
n_infusions
    Table 2 "Frequency of CAR-T infusion".
crs_grade
    Table 2 "CRS grade" (after the first infusion: Results "Most of the patients (71.4%) had
    grade 1 CRS after the first infusion"; patient 9's grade 2 CRS after the third infusion
    is not in this column).
crs_grading_system
    ``lee2014``: Methods "CRS and other adverse events were evaluated ... according to a
    previous study and Common Terminology Criteria for Adverse Events version 4.0 [10, 11]";
    reference 10 is Lee DW et al. Blood 2014;124:188 (the 2014 CRS grading). The sentence
    does not pair the two citations with CRS and "other adverse events" explicitly; with
    every grade 0 or 1 the choice does not change a grade (grade 1 = fever/constitutional
    symptoms in both scales).
crs_onset_day, icans_grade, seizure, tocilizumab
    Missing: not reported per patient (Table 3 has an empty "Nervous system event" row).
corticosteroids
    True for patients 5 and 7, False for the others: Results "Two patients with persistent
    high fever (Patients 5 and 7) ... were treated with steroids" and "Two patients received
    steroid therapy to ameliorate CRS".
best_response, response_day, mrd_negative
    Table 2 "MRD evaluation at 28th day after infusion": "MR" (molecular remission) ->
    ``mrd_negative`` True; "No response" -> False. ``best_response`` is ``CR`` for all 14:
    all were in morphological CR before infusion (Results "All patients had detectable MRD
    after initial therapy and were in CR") and none is reported to have lost it by day 28;
    the two "No response" patients stayed in MRD-positive CR. The paper's "response rate of
    85.7%" is the MRD-negative conversion rate, i.e. ``mrd_negative``. ``response_day`` = 28.
relapse, relapse_day, cd19_negative_relapse
    Results: "one patient (Patient 5) experienced a CD19-negative relapse and the other three
    patients (Patients 4, 7, and 9) experienced CD19-positive relapse"; "relapsed with
    CD19-positive leukemia at 740, 597, and 238 days respectively after the first infusion";
    patient 5 "suffered morphologic relapse with CD19-negative blasts at 238 days". The
    other ten have relapse False (Table 2 "Clinical outcomes" MR); cd19_negative_relapse is
    missing for them (not applicable). Patient 5's molecular relapse at day 123 is not a
    morphologic relapse and is only noted here.
hsct_after, hsct_day
    Table 2 "Additional therapy after CAR-T" mentions HSCT -> True (patients 1, 5, 6, 10,
    11, 12, 14; patient 5 after relapse and salvage). Day missing (only the median of 51
    days for the five Ph+ patients is given).
death, death_day, death_cause
    Patient 9: True ("Patient 9 failed to respond to CD19 CAR-T cells and ultimately died";
    Table 2 "Relapse (death)"), cause ``relapse``. The Results say "Two patients died due to
    transplant-related toxic effects" in the paragraph on the five BCR-ABL-positive patients
    bridged to HSCT (1, 6, 10, 12, 14) without naming them -> death missing for those five.
    The other eight: False, because the paper accounts for three deaths (patient 9 and the
    two transplant-related deaths), consistent with the 2-year OS of 78.6 % = 11/14.
    ``death_day`` missing for all.
last_followup_day
    Missing (only median 647, range 172-945 days).
peak_*
    Missing (shown only in figures).

Extra columns (not in the standard, kept as text): ``malignancy``, ``mrd_detection``,
``last_line_of_therapy``, ``mrd_day28`` (printed "MR" / "No response"),
``additional_therapy``, ``clinical_outcome`` — Table 2 verbatim.

Known inconsistencies in the paper (Table 2 is kept): the Discussion says "all five
BCR-ABL-positive patients converted to MRD negativity" but Table 2 gives patient 12 (Ph+)
"No response"; the Efficacy text says "12 patients were in persistent CR" although four of
the 14 relapsed.
"""

from __future__ import annotations

import pandas as pd

from cartcohort.demo.generator import to_standard_dtypes
from cartcohort.model.standard import PATIENTS

SOURCE = (
    "Lu W, Wei Y, Cao Y, et al. CD19 CAR-T cell treatment conferred sustained remission in "
    "B-ALL patients with minimal residual disease. Cancer Immunol Immunother 2021. "
    "doi:10.1007/s00262-021-02941-4 (CC BY 4.0), Table 2"
)

_NA = pd.NA

# Table 2, verbatim, one tuple per row:
# (patient, age, sex, malignancy, detection of MRD, MRD refractory/relapse, no. of prior
#  therapies, last line of therapy, CAR-T cells infused/kg, frequency of infusion,
#  MRD evaluation at day 28, additional therapy after CAR-T, CRS grade, clinical outcome)
TABLE2: tuple[tuple[int, int, str, str, str, str, int, str, float, int, str, str, int, str], ...]
TABLE2 = (
    (1, 46, "M", "B-ALL Ph+", "FCM, BCR/ABL", "Relapse", 8, "VDCLP", 5.84e6, 1, "MR",
     "Son/Haplo-HSCT(5/10)", 1, "MR"),
    (2, 13, "F", "B-ALL", "FCM", "Refractory", 2, "CAMVL", 2.60e6, 2, "MR",
     "Consolidation& maintenance therapy", 0, "MR"),
    (3, 19, "M", "B-ALL", "FCM", "Refractory", 2, "CAMVL", 2.37e6, 2, "MR",
     "Consolidation& maintenance therapy", 1, "MR"),
    (4, 17, "F", "B-ALL", "FCM", "Relapse", 14, "VP", 5.57e6, 3, "MR", "No", 0, "Relapse"),
    (5, 27, "M", "B-ALL", "FCM", "Refractory", 3, "FLAG", 6.98e6, 1, "MR",
     "Consolidation therapy&Consolidation therapy&Father/Haplo-HSCT (5/10)", 1, "Relapse"),
    (6, 40, "F", "B-ALL Ph+", "FCM, BCR/ABL", "Refractory", 3, "FLAG", 8.77e6, 1, "MR",
     "Daughter/Haplo-HSCT (5/10)", 1, "MR"),
    (7, 62, "M", "B-ALL TET2 mutation", "FCM, TET2", "Relapse", 10, "VDCP", 7.13e6, 3, "MR",
     "No", 1, "Relapse"),
    (8, 41, "F", "B-ALL", "FCM", "Relapse", 11, "VMMP", 6.57e6, 1, "MR", "No", 1, "MR"),
    (9, 17, "M", "B-ALL", "FCM", "Refractory", 2, "CAMVL", 9.22e6, 3, "MR",
     "Consolidation therapy", 1, "Relapse (death)"),
    (10, 42, "F", "B-ALL Ph+, TP53+, C-kit+", "FCM, BCR/ABL, TP53", "Refractory", 4,
     "VMCP+ Imatinib", 9.25e6, 1, "MR", "Sibling HSCT", 0, "MR"),
    (11, 29, "M", "B-ALL IKZF1 +", "FCM, IKZF1", "Refractory", 4, "EOACP", 10.4e6, 1,
     "No response", "Father/Haplo-HSCT (5/10)", 1, "MR"),
    (12, 45, "F", "B-ALL Ph+, IKZF1 +", "FCM, BCR/ABL, IKZF1", "Refractory", 5,
     "VTCD+Dasatinib", 8.77e6, 1, "No response", "Sibling HSCT", 1, "MR"),
    (13, 38, "M", "B-ALL", "FCM", "Relapse", 8, "VDLD", 2.2e6, 1, "MR", "No", 1, "MR"),
    (14, 37, "F", "B-ALL Ph+", "FCM, BCR/ABL", "Relapse", 8, "VDCP+Dasatinib", 3.1e6, 1, "MR",
     "Sibling HSCT", 0, "MR"),
)  # fmt: skip

# Results text: "relapsed with CD19-positive leukemia at 740, 597, and 238 days respectively"
# (patients 4, 7, 9); patient 5 "morphologic relapse with CD19-negative blasts at 238 days".
RELAPSES: dict[int, tuple[int, bool]] = {4: (740, False), 7: (597, False), 9: (238, False),
                                         5: (238, True)}  # fmt: skip
#: Results: "Two patients with persistent high fever (Patients 5 and 7) ... treated with steroids".
STEROIDS: frozenset[int] = frozenset({5, 7})
#: The five BCR-ABL-positive patients bridged to HSCT, two of whom died of transplant-related
#: toxicity (not named): vital status unknown.
DEATH_UNKNOWN: frozenset[int] = frozenset({1, 6, 10, 12, 14})
#: Results: "Patient 9 failed to respond to CD19 CAR-T cells and ultimately died".
DIED: frozenset[int] = frozenset({9})


def _row(
    rec: tuple[int, int, str, str, str, str, int, str, float, int, str, str, int, str],
) -> dict[str, object]:
    pid, age, sex, malig, detect, status, lines, last, dose, freq, mrd28, extra, crs, outc = rec
    relapse = RELAPSES.get(pid)
    death: object = _NA if pid in DEATH_UNKNOWN else pid in DIED
    return {
        "patient_id": f"S002-{pid:02d}",
        "sex": sex,
        "age_years": float(age),
        "center": "Tianjin First Central Hospital",
        "diagnosis": "B-ALL",
        "ph_positive": "Ph+" in malig,
        "tp53_mutated": True if "TP53+" in malig else _NA,
        "cns_leukemia": False,
        "extramedullary_disease": False,
        "prior_lines": lines,
        "prior_hsct": False,
        "disease_status": {"Refractory": "mrd_persistent", "Relapse": "mrd_relapse"}[status],
        "bm_blasts_pct": _NA,
        "mrd_pct": _NA,
        "mrd_method": "flow" if "FCM" in detect else _NA,
        "dose_cells_per_kg": dose,
        "costim_domain": "CD28",
        "lymphodepletion": "Flu/Cy",
        "n_infusions": freq,
        "crs_grade": crs,
        "crs_grading_system": "lee2014",
        "corticosteroids": pid in STEROIDS,
        "best_response": "CR",
        "response_day": 28,
        "mrd_negative": {"MR": True, "No response": False}[mrd28],
        "relapse": relapse is not None,
        "relapse_day": relapse[0] if relapse else _NA,
        "cd19_negative_relapse": relapse[1] if relapse else _NA,
        "hsct_after": "HSCT" in extra,
        "death": death,
        "death_cause": "relapse" if pid in DIED else _NA,
        "malignancy": malig,
        "mrd_detection": detect,
        "last_line_of_therapy": last,
        "mrd_day28": mrd28,
        "additional_therapy": extra,
        "clinical_outcome": outc,
    }


def seed002_patients() -> pd.DataFrame:
    """The 14 MRD-positive patients of seed 002, Table 2, as a standard patients table.

    Returns
    -------
    pandas.DataFrame
        One row per patient: the standard ``patients`` columns in standard order (all of
        them, missing where the paper gives no value) followed by the extra columns
        ``malignancy, mrd_detection, last_line_of_therapy, mrd_day28, additional_therapy,
        clinical_outcome``. Typed with :func:`cartcohort.demo.generator.to_standard_dtypes`.

    Notes
    -----
    Real, published patient data (CC BY 4.0), not synthetic. The mapping of every column
    and the choices for values the paper leaves open are documented in this module's
    docstring and in ``docs/demo-cohort.md``.
    """
    frame = pd.DataFrame([_row(r) for r in TABLE2])
    for col in PATIENTS.column_names:
        if col not in frame.columns:
            frame[col] = _NA
    extras = [c for c in frame.columns if c not in PATIENTS.column_names]
    frame = frame[[*PATIENTS.column_names, *extras]]
    return to_standard_dtypes(PATIENTS, frame)


__all__ = ["SOURCE", "TABLE2", "seed002_patients"]
