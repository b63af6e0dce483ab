"""ASTCT 2019 consensus grading of ICANS, adults (ICE) and children (CAPD).

Quotes come from verbatim reproductions of the consensus ICANS table and its
footnotes (PMC8403007 Table 4, PMC7990806 Table 2) and, for children, from the
MDedge report of the consensus; status ``"secondary"`` unless stated.
"""

from __future__ import annotations

from cartcohort.derive.toxicity.criteria import Criterion, Scale

VERSION = "ASTCT-2019"

#: ICE score (0-10) -> domain grade. ICE 0 with an unarousable patient is grade 4.
ICE_BANDS: tuple[tuple[int, int, int], ...] = ((10, 10, 0), (7, 9, 1), (3, 6, 2), (0, 2, 3))
#: CAPD score -> domain grade: 0 none, 1-8 grade 1, >= 9 grade 3 (children).
CAPD_DELIRIUM_CUTOFF = 9
#: ASTCT: "children younger than 12" use CAPD; NCIt C188936 says "12 and under" (=> 13).
CAPD_AGE_BELOW_DEFAULT = 12

CONSCIOUSNESS_GRADE: dict[str, int] = {
    "alert": 0,
    "awakens_spontaneously": 1,
    "awakens_to_voice": 2,
    "awakens_to_tactile": 3,
    "unarousable": 4,
}
SEIZURE_GRADE: dict[str, int] = {"none": 0, "resolved_rapidly": 3, "prolonged_or_repetitive": 4}
MOTOR_GRADE: dict[str, int] = {"none": 0, "deep_focal": 4}
EDEMA_GRADE: dict[str, int] = {"none": 0, "focal": 3, "diffuse": 4}

_T4 = (
    "PMC8403007 Table 4 (ASTCT ICANS adult table + footnotes), "
    "pmc.ncbi.nlm.nih.gov/articles/PMC8403007"
)
_T2 = "PMC7990806 Table 2 (adapted from Lee 2019 with permission)"
_MD = (
    "MDedge report of the consensus (children < 12), mdedge.com/hematology-oncology/article/192202"
)
_NCIT = "NCIt C188936 ICANS grade 1 definition, cismef.org/page/detail/en/NCI_CO_C188936"

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="astct-icans-most-severe",
        grade=None,
        component="all",
        rule="grade = max of the domain grades",
        quote=(
            "ICANS grade is determined by the most severe event (ICE score, level of "
            "consciousness, seizure, motor findings, raised ICP/cerebral edema) not "
            "attributable to any other cause; for example, a patient with an ICE score of 3 "
            "who has generalized seizure is classified as grade 3 ICANS."
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-ice",
        grade=None,
        component="ice",
        rule="ice_score 10 -> 0; 7-9 -> 1; 3-6 -> 2; 0-2 -> 3",
        quote="ICE score: 7-9 (Grade 1); 3-6 (Grade 2); 0-2 (Grade 3); 0 (Grade 4)",
        source=_T4,
    ),
    Criterion(
        id="astct-icans-ice0",
        grade=4,
        component="ice",
        rule="ice_score 0 and consciousness unarousable -> 4; ice_score 0 awake -> 3",
        quote=(
            "A patient with an ICE score of 0 may be classified as grade 3 ICANS if awake "
            "with global aphasia, but a patient with an ICE score of 0 may be classified as "
            "grade 4 ICANS if unarousable."
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-consciousness",
        grade=None,
        component="consciousness",
        rule=(
            "alert 0; awakens_spontaneously 1; awakens_to_voice 2; awakens_to_tactile 3; "
            "unarousable 4"
        ),
        quote=(
            "Depressed level of consciousness: Awakens spontaneously (1); Awakens to voice "
            "(2); Awakens only to tactile stimulus (3); Patient is unarousable or requires "
            "vigorous or repetitive tactile stimuli to arouse. Stupor or coma (4)"
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-consciousness-cause",
        grade=None,
        component="consciousness",
        rule="the data contract: consciousness records depression not due to sedation",
        quote=(
            "Depressed level of consciousness should be attributable to no other cause (eg, "
            "no sedating medication)."
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-seizure",
        grade=None,
        component="seizure",
        rule="seizure none 0; resolved_rapidly 3; prolonged_or_repetitive 4",
        quote=(
            "Any clinical seizure focal or generalized that resolves rapidly or nonconvulsive "
            "seizures on EEG that resolve with intervention (3); Life-threatening prolonged "
            "seizure (>5 min); or Repetitive clinical or electrical seizures without return "
            "to baseline in between (4)"
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-motor",
        grade=4,
        component="motor",
        rule="motor_weakness deep_focal -> 4",
        quote="Deep focal motor weakness such as hemiparesis or paraparesis (4)",
        source=_T4,
    ),
    Criterion(
        id="astct-icans-edema",
        grade=None,
        component="edema",
        rule="cerebral_edema focal -> 3; diffuse (or raised-ICP signs) -> 4",
        quote=(
            "Focal/local edema on neuroimaging (3); Diffuse cerebral edema on neuroimaging; "
            "decerebrate or decorticate posturing; or cranial nerve VI palsy; or "
            "papilledema; or Cushing's triad (4)"
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-tremor",
        grade=None,
        component="excluded",
        rule="tremor and myoclonus are not inputs and never change the grade",
        quote=(
            "Tremors and myoclonus associated with immune effector cell therapies may be "
            "graded according to CTCAE v5.0, but they do not influence ICANS grading."
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-ich",
        grade=None,
        component="excluded",
        rule="cerebral_edema must not record haemorrhage-associated oedema (data contract)",
        quote=(
            "Intracranial hemorrhage with or without associated edema is not considered a "
            "neurotoxicity feature and is excluded from ICANS grading."
        ),
        source=_T4,
    ),
    Criterion(
        id="astct-icans-capd",
        grade=None,
        component="capd",
        rule=(
            "children (age < capd_age_below): capd_score 0 -> 0; 1-8 -> 1; >= 9 -> 3; "
            "unarousable (cannot perform CAPD) -> 4; ICE not used"
        ),
        quote=(
            "Grade 1-Patient has a CAPD score lower than 9 and awakens spontaneously; Grade "
            "2-... lower than 9 and will awaken to the sound of a voice; Grade 3-Patient has "
            "a CAPD score of 9 or higher, awakens only to tactile stimulus ...; Grade "
            "4-Patient is unable to perform CAPD, is unarousable ..."
        ),
        source=_MD,
    ),
    Criterion(
        id="astct-icans-capd-zero",
        grade=0,
        component="capd",
        rule="capd_score 0 -> domain grade 0 (a CAPD of 0 records no delirium feature)",
        quote="CAPD score lower than 9 (grades 1-2)",
        source=_MD + " -- whether 0 belongs to grade 1 is not stated",
        status="interpretation",
    ),
    Criterion(
        id="astct-icans-capd-age",
        grade=None,
        component="capd",
        rule="CAPD for age_years < capd_age_below (default 12); set 13 for NCIt '12 and under'",
        quote=(
            "ICE ... 7, 8, or 9 (for adults and children over 12), or a Cornell Assessment of "
            "Pediatric Delirium (CAPD) score of less than 9 (for children 12 and under)"
        ),
        source=_NCIT + " vs " + _MD + " ('children younger than 12')",
        status="interpretation",
    ),
    Criterion(
        id="astct-icans-developmental-delay",
        grade=None,
        component="capd",
        rule=(
            "developmental_delay=True (patient-level) -> CAPD at any age; a delay flag given "
            "but missing for a patient aged >= capd_age_below -> ICE or CAPD (range of both)"
        ),
        quote=(
            "the ICE assessment is not suitable for children younger than 12. For these "
            "patients (and older patients with baseline developmental delays), ICANS can be "
            "assessed using the Cornell Assessment of Pediatric Delirium (CAPD)."
        ),
        source=_MD,
    ),
    Criterion(
        id="astct-icans-grade5",
        grade=5,
        component="death",
        rule="events row event='death' with cause/detail 'ICANS' -> 5 on that day",
        quote=(
            "Grade 5-Death due to ICANS when there is no other 'principle factor' leading to death."
        ),
        source=_MD,
    ),
    Criterion(
        id="severe-neurotoxicity",
        grade=None,
        component="derived",
        rule="severe_neurotoxicity = any seizure (seizure grade >= 3) or max ICANS grade >= 3",
        quote=(
            "Severe neurotoxic effects were defined as a seizure of any grade or a toxic "
            "effect of grade 3 or higher."
        ),
        source=(
            "seed papers of this project (r/r B-ALL CAR-T cohorts, shared/seeds 000 and 004); "
            "no consensus source found"
        ),
        status="unconfirmed",
    ),
)

SCALE = Scale(
    key="astct",
    version=VERSION,
    title="ASTCT consensus ICANS grading (2019)",
    reference=(
        "Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine "
        "Release Syndrome and Neurologic Toxicity Associated with Immune Effector Cells. "
        "Biol Blood Marrow Transplant. 2019;25(4):625-638."
    ),
    required_inputs=(
        "ice_score",
        "consciousness",
        "seizure",
        "motor_weakness",
        "cerebral_edema",
    ),
    optional_inputs=("capd_score", "age_years", "developmental_delay"),
    criteria=CRITERIA,
    notes=(
        "Tremor and myoclonus are not inputs (they do not influence ICANS grade).",
        "CAPD age boundary is the setting capd_age_below (ASTCT '<12' default; NCIt "
        "'12 and under' = 13).",
        "Older patients with baseline developmental delay are graded with CAPD "
        "(patient-level developmental_delay; the consensus says CAPD 'can' be used, the flag "
        "is the user's choice).",
    ),
)

__all__ = [
    "CAPD_AGE_BELOW_DEFAULT",
    "CAPD_DELIRIUM_CUTOFF",
    "CONSCIOUSNESS_GRADE",
    "CRITERIA",
    "EDEMA_GRADE",
    "ICE_BANDS",
    "MOTOR_GRADE",
    "SCALE",
    "SEIZURE_GRADE",
    "VERSION",
]
