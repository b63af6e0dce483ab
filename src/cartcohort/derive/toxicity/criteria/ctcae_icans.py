"""CTCAE v6.0 "Immune effector cell-associated neurotoxicity syndrome" (MedDRA 10083347).

A new term in CTCAE v6.0. The grade texts are the NCI wording as transcribed verbatim from
the NCI v6.0 spreadsheet in github.com/uscnewplatform/irccs-docker
``importCtcae/v6/ctcae-v6-bundle.json`` (commit 8af5e85e; NCI "CTCAE v6.0 Final
Clean-Tracked-Mapping_w_OS_Jan2026.xlsx"); status ``"secondary"`` (the NCI document itself
was not read here). The grade-3 text is quoted only as far as it was read.

Unlike ASTCT, the term has no seizure, motor or oedema domains, and for children it joins
the CAPD score and the level of consciousness with "AND". Each grade also has symptom or
activity-of-daily-living alternatives ("Mild symptoms", "limiting instrumental ADL" ...)
that observations do not record: they are read only from the optional column
``icans_symptom_grade`` (:data:`EXTRA_COLUMNS`), the grade a clinician gives by that wording.
Without it the grade is read from ICE (adults) or CAPD with consciousness (children) --
status ``"interpretation"``.

CAPD with consciousness (children and patients with developmental delay) is a lookup table
:data:`CAPD_TABLE`: the three combinations the NCI text names get their grade; every other
combination is not named by the text, and gets the range of grades it could be read as
(not gradable unless other inputs settle it). An unarousable patient cannot be assessed and
is "3 or 4" (grade 4 is "Life-threatening consequences; urgent intervention indicated").
"""

from __future__ import annotations

from cartcohort.derive.toxicity.criteria import Criterion, Scale

VERSION = "CTCAE-6.0"

#: Extra observation column (outside the data standard) read when present.
EXTRA_COLUMNS: dict[str, str] = {
    "icans_symptom_grade": (
        "Integer 0-4, optional: the CTCAE v6.0 ICANS grade a clinician gives by the symptom, "
        "ADL and life-threatening wording ('Mild symptoms', 'Moderate symptoms; ... limiting "
        "instrumental ADL', 'Severe symptoms; ... limiting self-care ADL', 'Life-threatening "
        "consequences; urgent intervention indicated'). Absent = not read."
    ),
}

#: ICE score band -> grade: "ICE score 7 - 9" (1), "3 - 6" (2), "0 - 2" (3); 10 -> 0.
ICE_BANDS: tuple[tuple[int, int, int], ...] = ((10, 10, 0), (7, 9, 1), (3, 6, 2), (0, 2, 3))
#: CAPD bands: 0, "1 - 8", ">=9".
CAPD_BANDS: tuple[str, ...] = ("0", "1-8", ">=9")
#: (CAPD band, consciousness) -> (lowest, highest) grade. Named by the NCI text:
#: ("1-8", awakens_spontaneously) 1, ("1-8", awakens_to_voice) 2, (">=9",
#: awakens_to_tactile) 3; "alert" is read as meeting "awakens spontaneously" (1-8 -> 1);
#: every other cell is a range (not named by the text).
CAPD_TABLE: dict[tuple[str, str], tuple[int, int]] = {
    ("0", "alert"): (0, 0),
    ("0", "awakens_spontaneously"): (0, 1),
    ("0", "awakens_to_voice"): (0, 2),
    ("0", "awakens_to_tactile"): (0, 3),
    ("0", "unarousable"): (3, 4),
    ("1-8", "alert"): (1, 1),
    ("1-8", "awakens_spontaneously"): (1, 1),
    ("1-8", "awakens_to_voice"): (2, 2),
    ("1-8", "awakens_to_tactile"): (2, 3),
    ("1-8", "unarousable"): (3, 4),
    (">=9", "alert"): (1, 3),
    (">=9", "awakens_spontaneously"): (1, 3),
    (">=9", "awakens_to_voice"): (2, 3),
    (">=9", "awakens_to_tactile"): (3, 3),
    (">=9", "unarousable"): (3, 4),
}
#: An unarousable adult (ICE cannot be done): "3 or 4".
UNAROUSABLE_ADULT: tuple[int, int] = (3, 4)

_V6 = (
    "NCI CTCAE v6.0 spreadsheet ('CTCAE v6.0 Final Clean-Tracked-Mapping_w_OS_Jan2026.xlsx'), "
    "term 'Immune effector cell-associated neurotoxicity syndrome' (MedDRA 10083347), as "
    "transcribed verbatim in github.com/uscnewplatform/irccs-docker "
    "importCtcae/v6/ctcae-v6-bundle.json (commit 8af5e85e)"
)
_G1 = (
    "Mild symptoms; Immune Effector Cell-Associated Encephalopathy (ICE) score 7 - 9; Cornell "
    "Assessment of Pediatric Delirium (CAPD) score 1 - 8 AND awakens spontaneously"
)
_G2 = (
    "Moderate symptoms; ICE score 3 - 6; CAPD score 1 - 8 AND awakens to voice; limiting "
    "instrumental ADL or mild/moderate impact on age-appropriate normal daily activity "
    "(pediatric)"
)
_G3 = (
    "Severe symptoms; ICE score 0 - 2; CAPD score >=9 AND awakens only to tactile stimulus; "
    "limiting self-care ADL or severe impact ..."
)
_G4 = "Life-threatening consequences; urgent intervention indicated"

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="ctcae60-icans-ice",
        grade=None,
        component="ice",
        rule="ICE patients: ice_score 10 -> 0; 7-9 -> 1; 3-6 -> 2; 0-2 -> 3",
        quote="ICE score 7 - 9 (grade 1); ICE score 3 - 6 (grade 2); ICE score 0 - 2 (grade 3)",
        source=_V6,
    ),
    Criterion(
        id="ctcae60-icans-1", grade=1, component="all", rule="see ice/capd", quote=_G1, source=_V6
    ),
    Criterion(
        id="ctcae60-icans-2", grade=2, component="all", rule="see ice/capd", quote=_G2, source=_V6
    ),
    Criterion(
        id="ctcae60-icans-3", grade=3, component="all", rule="see ice/capd", quote=_G3, source=_V6
    ),
    Criterion(
        id="ctcae60-icans-capd",
        grade=None,
        component="capd",
        rule=(
            "CAPD patients: (capd 1-8, awakens spontaneously or alert) -> 1; (1-8, to voice) "
            "-> 2; (>= 9, only to tactile) -> 3; capd 0 and alert -> 0"
        ),
        quote=(
            "CAPD score 1 - 8 AND awakens spontaneously (grade 1); CAPD score 1 - 8 AND awakens "
            "to voice (grade 2); CAPD score >=9 AND awakens only to tactile stimulus (grade 3)"
        ),
        source=_V6,
    ),
    Criterion(
        id="ctcae60-icans-capd-unnamed",
        grade=None,
        component="capd",
        rule=(
            "combinations of CAPD and consciousness the text does not name -> a range (e.g. "
            "CAPD >= 9 while alert: 1-3); alert read as 'awakens spontaneously' or better"
        ),
        quote="CAPD score >=9 AND awakens only to tactile stimulus",
        source=_V6 + " -- the 'AND' leaves the other combinations unnamed",
        status="interpretation",
    ),
    Criterion(
        id="ctcae60-icans-unarousable",
        grade=None,
        component="consciousness",
        rule="unarousable (cannot be assessed) -> 3 or 4 (not gradable without symptom grade)",
        quote=_G4,
        source=_V6 + " -- consciousness is not a domain of its own in v6.0",
        status="interpretation",
    ),
    Criterion(
        id="ctcae60-icans-symptoms",
        grade=None,
        component="symptoms",
        rule="optional column icans_symptom_grade (0-4) -> that grade (the clinician's)",
        quote=_G4 + "; " + _G2,
        source=_V6,
    ),
    Criterion(
        id="ctcae60-icans-instrument",
        grade=None,
        component="capd",
        rule=(
            "CAPD for age < capd_age_below (12) or developmental delay; ICE otherwise -- the "
            "ASTCT routing (CTCAE v6.0 names both scores but no age)"
        ),
        quote=(
            "the ICE assessment is not suitable for children younger than 12. For these "
            "patients (and older patients with baseline developmental delays), ICANS can be "
            "assessed using the Cornell Assessment of Pediatric Delirium (CAPD)."
        ),
        source=(
            "MDedge report of the ASTCT consensus, mdedge.com/hematology-oncology/article/192202"
        ),
        status="interpretation",
    ),
    Criterion(
        id="ctcae60-icans-5",
        grade=5,
        component="death",
        rule="events row event='death' with cause ICANS -> 5 on that day",
        quote="Death",
        source=_V6,
    ),
)

SCALE = Scale(
    key="ctcae_v6.0",
    version=VERSION,
    title="CTCAE v6.0 immune effector cell-associated neurotoxicity syndrome",
    reference=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE), "
        "version 6.0 (2025; spreadsheet of January 2026): Immune effector cell-associated "
        "neurotoxicity syndrome (MedDRA 10083347)."
    ),
    required_inputs=("ice_score", "consciousness"),
    optional_inputs=(
        "capd_score",
        "age_years",
        "developmental_delay",
        "icans_symptom_grade",
    ),
    criteria=CRITERIA,
    notes=(
        "No seizure, motor or oedema domains (not part of the CTCAE v6.0 term).",
        "The symptom/ADL alternatives are read only from icans_symptom_grade; without it the "
        "grade is read from ICE or CAPD with consciousness (interpretation).",
        "CAPD combinations the text does not name are ranges; unarousable is '3 or 4'.",
    ),
)

__all__ = [
    "CAPD_BANDS",
    "CAPD_TABLE",
    "CRITERIA",
    "EXTRA_COLUMNS",
    "ICE_BANDS",
    "SCALE",
    "UNAROUSABLE_ADULT",
    "VERSION",
]
