"""ASTCT 2019 consensus grading of cytokine release syndrome (Lee DW et al., BBMT 2019;25:625).

Quotes are taken from verbatim reproductions of the consensus table and its
footnotes; the primary PDF could not be read here, so the status is
``"secondary"`` and each source is named. Where two reproductions differ (the
fever-waiver footnote), both are quoted and the choice is a setting.
"""

from __future__ import annotations

from cartcohort.derive.toxicity.criteria import Criterion, Scale

VERSION = "ASTCT-2019"

#: Fever threshold, inclusive: "Fever is defined as temperature >=38 C".
FEVER_C = 38.0
#: Low-flow nasal cannula upper limit, inclusive: "<= 6 L/min ... high flow > 6 L/min".
LOW_FLOW_MAX_L_MIN = 6.0

#: Grade of each oxygen device. Nasal cannulas are re-classified by flow when a
#: flow is recorded (see ``astct-crs-lowflow-def``).
DEVICE_GRADE: dict[str, int] = {
    "none": 0,
    "low_flow_nasal_cannula": 2,
    "blow_by": 2,
    "high_flow_nasal_cannula": 3,
    "facemask": 3,
    "non_rebreather_mask": 3,
    "venturi_mask": 3,
    "cpap": 4,
    "bipap": 4,
    "mechanical_ventilation": 4,
}
#: Devices whose category the recorded flow decides (<= 6 L/min low flow, > 6 high flow).
NASAL_CANNULAS: tuple[str, ...] = ("low_flow_nasal_cannula", "high_flow_nasal_cannula")

_S2 = (
    "PMC8021214 Table 1 (verbatim adaptation of Lee 2019), pmc.ncbi.nlm.nih.gov/articles/PMC8021214"
)
_S3 = "PMC9327779 Table 2 (adapted from Lee 2019), pmc.ncbi.nlm.nih.gov/articles/PMC9327779"
_S4 = "CancerCalc ASTCT CRS calculator, cancercalc.com/CRS_grade.php"
_S5 = "SITC CRS guideline table (JITC 2020), jitc.bmj.com/highwire/markup/13993"
_PRIMARY_QUOTED = (
    "Lee 2019 footnote as quoted verbatim in public CRS graders (GitHub, two files); "
    "primary PDF not read"
)
_EBMT = "EBMT registry guidance part 4, ebmt.org (grade 5 = CRS main cause of death)"
_NCCN = (
    "NCCN Guidelines, Management of CAR T-Cell-Related Toxicities v2.2026, CART-6 "
    "(ASTCT grading), as transcribed in a public dataset file; "
    "eguideline.guidelinecentral.com/i/1475467/5"
)

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="astct-crs-fever-def",
        grade=1,
        component="fever",
        rule="fever = temp_c >= 38.0 (inclusive; 37.9 is not fever)",
        quote="Fever is defined as temperature >=38 C not attributable to any other cause.",
        source=_S4 + "; " + _S2,
    ),
    Criterion(
        id="astct-crs-fever-waiver",
        grade=None,
        component="fever",
        rule=(
            "fever_waiver='after_treatment' (lenient option, named for this paraphrase): from "
            "the day antipyretic, tocilizumab, corticosteroids or an anti-cytokine drug are "
            "first given, fever is never required again; the grade is the worse of "
            "hypotension and hypoxia (and 1 if still febrile)."
        ),
        quote=(
            "when antipyretic or anticytokine therapy is initiated (e.g., tocilizumab or "
            "steroids), CRS grading is driven by hypotension and hypoxia only"
        ),
        source=_S2 + "; similar: " + _S4,
        status="interpretation",
    ),
    Criterion(
        id="astct-crs-fever-waiver-strict",
        grade=None,
        component="fever",
        rule=(
            "fever_waiver='after_crs_onset_and_treatment': the waiver starts only with a "
            "treatment given on or after the first febrile (CRS) day. Use "
            "waiver_drugs=('tocilizumab', 'corticosteroids') for the SITC wording."
        ),
        quote=(
            "In patients who have CRS then receive antipyretic or anticytokine therapy such "
            "as tocilizumab or steroids, fever is no longer required to grade subsequent CRS "
            "severity. In this case, CRS grading is driven by hypotension and/or hypoxia."
        ),
        source=_PRIMARY_QUOTED + "; SITC wording (tocilizumab or steroids only): " + _S5,
        status="interpretation",
    ),
    Criterion(
        id="astct-crs-fever-waiver-episode",
        grade=None,
        component="episode",
        rule=(
            "fever_waiver='within_episode' (default): an episode starts on a fever day "
            "(grade >= 1) and resolves on the first of resolution_days (default 3, a "
            "project setting) consecutive days without fever, hypotension or hypoxia "
            "counted for CRS; fever is waived on the days of the episode from the day "
            "(waiver_start) a waiver drug is given on or after its onset, and the waiver "
            "ends with the episode. Afebrile findings outside an episode are not CRS "
            "(flagged late_afebrile_finding after an earlier episode)."
        ),
        quote=(
            "In patients who have CRS then receive antipyretic or anticytokine therapy such "
            "as tocilizumab or steroids, fever is no longer required to grade subsequent CRS "
            "severity. In this case, CRS grading is driven by hypotension and/or hypoxia."
        ),
        source=_PRIMARY_QUOTED + "; same sentence in " + _NCCN + "; SITC: " + _S5,
        status="interpretation",
    ),
    Criterion(
        id="astct-crs-attribution",
        grade=None,
        component="attribution",
        rule=(
            "hypotension_other_cause=True -> hypotension not counted; o2_reason other than "
            "'hypoxia' (airway_protection, chronic, comfort, procedure) -> oxygen or "
            "ventilation not counted; missing -> counted (today's data contract). "
            "corticosteroids_reason 'icans' or 'other' -> the steroids do not start the "
            "fever waiver. Airway protection, chronic and procedural support are our "
            "reading: no source sentence names them."
        ),
        quote=(
            "CRS grade is determined by the more severe event, hypotension or hypoxia, not "
            "attributable to any other cause"
        ),
        source=_NCCN + "; " + _S4 + " (oxygen 'given for comfort should not be considered')",
        status="interpretation",
    ),
    Criterion(
        id="astct-crs-most-severe",
        grade=None,
        component="all",
        rule="grade = max(1 if fever, hypotension grade, hypoxia grade) when fever or waived",
        quote=(
            "CRS grading is defined by the more severe event, e.g., a febrile patient on a "
            "single vasopressor and low-flow nasal cannula would be classified as Grade 3 CRS"
        ),
        source=_S2,
    ),
    Criterion(
        id="astct-crs-grade1",
        grade=1,
        component="fever",
        rule="fever, no hypotension, no hypoxia -> 1",
        quote="Grade 1: Temperature >= 38 C | Hypotension: None | Hypoxia: None",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypotension-2",
        grade=2,
        component="hypotension",
        rule="hypotension=True and vasopressors=0 (and no vasopressin) -> 2",
        quote="Hypotension: None requiring vasopressors (Grade 2)",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypotension-3",
        grade=3,
        component="hypotension",
        rule="vasopressors == 1 (vasopressin True or False) -> 3",
        quote="Requiring a vasopressor with or without vasopressin (Grade 3)",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypotension-4",
        grade=4,
        component="hypotension",
        rule="vasopressors >= 2 (vasopressin not counted) -> 4",
        quote="Multiple vasopressors (excluding vasopressin) (Grade 4)",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-vasopressin-alone",
        grade=3,
        component="hypotension",
        rule=(
            "vasopressin=True with vasopressors=0: vasopressin_alone='one_vasopressor' "
            "(default) -> 3; 'not_a_vasopressor' -> 2"
        ),
        quote=(
            "Requiring a vasopressor with or without vasopressin (Grade 3); Multiple "
            "vasopressors (excluding vasopressin) (Grade 4)"
        ),
        source=_S2 + " -- the text does not address vasopressin as the only pressor",
        status="interpretation",
    ),
    Criterion(
        id="astct-crs-hypotension-def",
        grade=None,
        component="hypotension",
        rule="hypotension=False means no hypotension requiring fluids or vasopressors",
        quote=(
            "For practical purposes, a patient requiring IV fluid boluses or vasopressor to "
            "maintain blood pressure is considered to have hypotension."
        ),
        source=_S4,
    ),
    Criterion(
        id="astct-crs-lowflow-def",
        grade=None,
        component="hypoxia",
        rule=(
            "nasal cannula (either label) with o2_flow_l_min <= 6.0 -> low flow (2); "
            "> 6.0 -> high flow (3); no flow recorded -> the device label decides"
        ),
        quote=(
            "Low-flow nasal cannula refers to oxygen delivered at <= 6 L/min, whereas high "
            "flow refers to delivery at >6 L/min"
        ),
        source=_S2 + "; " + _S3 + " ('HFNC, high-flow nasal cannula (>6 L/min)')",
    ),
    Criterion(
        id="astct-crs-hypoxia-2",
        grade=2,
        component="hypoxia",
        rule="low_flow_nasal_cannula (<= 6 L/min) or blow_by -> 2",
        quote="Requiring low-flow nasal cannula or blow-by oxygen (Grade 2)",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypoxia-3",
        grade=3,
        component="hypoxia",
        rule=(
            "high_flow_nasal_cannula (> 6 L/min), facemask, non_rebreather_mask, venturi_mask -> 3"
        ),
        quote="Requiring HFNC, facemask, non-rebreather, or Venturi mask (Grade 3)",
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypoxia-4",
        grade=4,
        component="hypoxia",
        rule="cpap, bipap, mechanical_ventilation -> 4",
        quote=(
            "Requiring positive pressure (e.g., CPAP, BiPAP, intubation and mechanical "
            "ventilation) (Grade 4)"
        ),
        source=_S2,
    ),
    Criterion(
        id="astct-crs-hypoxia-def",
        grade=None,
        component="hypoxia",
        rule="o2_device records oxygen given to correct an oxygenation deficit (data contract)",
        quote=(
            "A patient requiring supplemental oxygen to correct an oxygenation deficit is "
            "considered to have hypoxia. Supplemental oxygen given for comfort should not be "
            "considered as meeting the criteria for hypoxia."
        ),
        source=_S4,
    ),
    Criterion(
        id="astct-crs-organ",
        grade=None,
        component="organ",
        rule="organ toxicity columns are not read by the ASTCT grader",
        quote=(
            "Organ toxicities associated with CRS may be graded according to CTCAE v5.0 but "
            "they do not influence CRS grading."
        ),
        source="NCCN/ASTCT management table, eguideline.guidelinecentral.com/i/1475467",
    ),
    Criterion(
        id="astct-crs-grade5",
        grade=5,
        component="death",
        rule="events row event='death' with cause/detail 'CRS' -> 5 on that day",
        quote=(
            "For patients in which cytokine release syndrome (CRS) is determined as the main "
            "cause of death and no other cause is the principle factor leading to this "
            "outcome, CRS should be reported as grade 5 CRS"
        ),
        source=_EBMT,
    ),
)

SCALE = Scale(
    key="astct",
    version=VERSION,
    title="ASTCT consensus CRS grading (2019)",
    reference=(
        "Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine "
        "Release Syndrome and Neurologic Toxicity Associated with Immune Effector Cells. "
        "Biol Blood Marrow Transplant. 2019;25(4):625-638."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "o2_device",
        "antipyretic",
        "tocilizumab",
        "corticosteroids",
    ),
    optional_inputs=(
        "o2_flow_l_min",
        "o2_reason",
        "hypotension_other_cause",
        "anticytokine",
        "corticosteroids_reason",
    ),
    criteria=CRITERIA,
    notes=(
        "Fever waiver default 'within_episode': the primary footnote (quoted verbatim in "
        "NCCN and SITC) says 'patients who have CRS then receive ...'; the waiver holds "
        "inside the episode in which the drug was given. The PMC8021214 paraphrase is the "
        "option fever_waiver='after_treatment'.",
        "An episode resolves after resolution_days (default 3) days without fever, "
        "hypotension or hypoxia: a project setting, not a consensus number.",
        "Support given for another reason (o2_reason) and hypotension from another cause "
        "(hypotension_other_cause) do not count: 'not attributable to any other cause'.",
        "The waiver applies from the day the drug is given (waiver_start='same_day'); "
        "'next_day' reads 'subsequent' strictly.",
        "Vasopressin as the only pressor counts as one vasopressor (grade 3) by default.",
    ),
)

__all__ = [
    "CRITERIA",
    "DEVICE_GRADE",
    "FEVER_C",
    "LOW_FLOW_MAX_L_MIN",
    "NASAL_CANNULAS",
    "SCALE",
    "VERSION",
]
