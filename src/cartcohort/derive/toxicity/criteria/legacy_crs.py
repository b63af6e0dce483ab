"""CRS scales that predate ASTCT 2019, for re-grading legacy cohorts.

Lee 2014 ("2014 NCI consensus"), Penn (Porter 2018), MSKCC (Park 2018), CARTOX
(Neelapu 2018) and CTCAE v4.03. Quotes are from verbatim reproductions of the
scales in review tables and, for CTCAE v4.03, from a verbatim transcription of the
NCI v4.03 spreadsheet; the primary documents were not read here (status
``"secondary"``). CTCAE v5.0 and v6.0 CRS are in :mod:`.ctcae_crs`.

Inputs outside the data standard are *extra observation columns* a scale needs
(:data:`EXTRA_COLUMNS`). When one is absent, the grades it could change are not
gradable -- never guessed.
"""

from __future__ import annotations

from cartcohort.derive.toxicity.criteria import Criterion, Scale

#: Extra observation columns (not in the data standard) read by the legacy scales.
EXTRA_COLUMNS: dict[str, str] = {
    "fio2_pct": "Fraction of inspired oxygen, % (21 = room air); Lee/CARTOX/MSKCC 40 % cut-off.",
    "high_dose_vasopressor": (
        "Boolean: vasopressor dose meets the scale's 'high-dose' definition (derive it with "
        "your protocol's table; the Lee 2014 table is UNCONFIRMED here)."
    ),
    "vasopressor_24h": "Boolean: any vasopressor given for >= 24 h (MSKCC).",
    "vasopressor_refractory": (
        "Boolean: hypotension refractory to high-dose vasopressors (MSKCC 4)."
    ),
    "life_threatening_hypotension": "Boolean: life-threatening hypotension (CARTOX 4).",
    "organ_toxicity_grade": (
        "Integer 0-4: worst CTCAE grade of CRS-related organ toxicity, transaminases excluded."
    ),
    "transaminitis_grade": "Integer 0-4: CTCAE grade of CRS-related transaminase elevation.",
    "creatinine_grade": "Integer 0-4: CTCAE grade of CRS-related creatinine elevation (Penn).",
    "hospitalized_for_crs": "Boolean: hospitalisation / IV therapy for CRS symptoms (Penn 2).",
    "coagulopathy_transfusion": "Boolean: coagulopathy needing FFP, cryo or fibrinogen (Penn 3).",
    "multiple_fluid_boluses": "Boolean: hypotension treated with multiple fluid boluses (Penn 3).",
    "ctcae_prolonged": (
        "Boolean: reaction prolonged / recurring after improvement / hospitalisation indicated "
        "for sequelae (CTCAE v4.03 grade 3)."
    ),
    "crs_symptoms": (
        "Boolean, optional: CRS constitutional symptoms without fever (nausea, fatigue, "
        "headache, myalgia, malaise). Absent = grade 1 is decided by fever alone."
    ),
}

_T2 = (
    "PMC7006459 Table 2 (MSKCC, Lee, Penn, CARTOX, ASTCT), pmc.ncbi.nlm.nih.gov/articles/PMC7006459"
)
_ASH = "Blood review Table 2 'Grading schemes for CRS', ashpublications.net/view-large/6500909"
_PENN = "Blood review Table 4 (UPenn criteria), ashpublications.net/view-large/6544574"
_JHO = "J Hematol Oncol 2018 s13045-018-0653-x Table 1 (Penn, CTCAE v4.0, Lee, MDACC)"
_NCI403 = (
    "NCI CTCAE v4.03 spreadsheet ('CTCAE_4.03_2010-06-14.xlsx') as transcribed verbatim in "
    "github.com/uscnewplatform/irccs-docker importCtcae/v4/ctcae-v4-bundle.json "
    "(commit 0086ade8), term 'Cytokine release syndrome' (MedDRA 10052015)"
)

_DEATH = "Grade 5: Death"

LEE2014 = Scale(
    key="lee2014",
    version="Lee-2014",
    title="Lee 2014 / NCI consensus CRS grading",
    reference=(
        "Lee DW, Gardner R, Porter DL, et al. Current concepts in the diagnosis and "
        "management of cytokine release syndrome. Blood. 2014;124(2):188-195."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "high_dose_vasopressor",
        "o2_device",
        "fio2_pct",
        "organ_toxicity_grade",
        "transaminitis_grade",
    ),
    optional_inputs=("crs_symptoms", "o2_flow_l_min"),
    criteria=(
        Criterion(
            id="lee2014-1",
            grade=1,
            component="fever",
            rule="temp_c >= 38.0 or crs_symptoms -> 1",
            quote=(
                "Symptoms are not life-threatening and require symptomatic treatment only; "
                "eg fever, nausea, fatigue, headache, myalgias, malaise"
            ),
            source=_ASH,
        ),
        Criterion(
            id="lee2014-2",
            grade=2,
            component="hypotension/hypoxia/organ",
            rule=(
                "fio2_pct < 40 on oxygen; hypotension without pressor; one non-high-dose "
                "pressor (vasopressin counts); organ_toxicity_grade 2 -> 2"
            ),
            quote=(
                "Symptoms require and respond to moderate intervention: Oxygen requirement "
                "< 40% or hypotension responsive to fluids or low-dose of one vasopressor or "
                "grade 2 organ toxicity"
            ),
            source=_T2 + "; " + _JHO,
        ),
        Criterion(
            id="lee2014-3",
            grade=3,
            component="hypotension/hypoxia/organ",
            rule=(
                "fio2_pct >= 40; >= 2 pressors (vasopressin counts) or high_dose_vasopressor; "
                "organ_toxicity_grade 3 or transaminitis_grade 4 -> 3"
            ),
            quote=(
                "Symptoms require and respond to aggressive intervention: Oxygen requirement "
                ">= 40% or hypotension requiring high-dose or multiple vasopressors or grade 3 "
                "organ toxicity or grade 4 transaminitis"
            ),
            source=_T2 + "; " + _JHO,
        ),
        Criterion(
            id="lee2014-4",
            grade=4,
            component="hypoxia/organ",
            rule="mechanical_ventilation; organ_toxicity_grade 4 -> 4",
            quote=(
                "Life-threatening symptoms; requirement for ventilator support or grade 4 "
                "organ toxicity (excluding transaminitis)"
            ),
            source=_ASH,
        ),
        Criterion(
            id="lee2014-ventilator",
            grade=4,
            component="hypoxia",
            rule=(
                "'ventilator support' = mechanical_ventilation; CPAP/BiPAP are graded by their FiO2"
            ),
            quote="requirement for ventilator support",
            source=_ASH,
            status="interpretation",
        ),
        Criterion(
            id="lee2014-high-dose",
            grade=3,
            component="hypotension",
            rule="high_dose_vasopressor is a user-derived boolean column",
            quote="hypotension requiring high-dose or multiple pressors",
            source="Lee 2014 high-dose vasopressor table: not retrieved",
            status="unconfirmed",
        ),
        Criterion(
            id="lee2014-5",
            grade=5,
            component="death",
            rule="death from CRS",
            quote=_DEATH,
            source=_T2,
        ),
    ),
    notes=(
        "Fever is a grade-1 symptom, not a gate: the observation rows must already be "
        "restricted to findings attributed to CRS.",
        "'High-dose' vasopressor is a user-supplied boolean; the Lee 2014 dose table is "
        "UNCONFIRMED here.",
    ),
)

PENN = Scale(
    key="penn",
    version="Penn-2018",
    title="Penn (UPenn/CHOP) CRS grading scale",
    reference=(
        "Porter D, Frey N, Wood PA, Weng Y, Grupp SA. Grading of cytokine release syndrome "
        "associated with the CAR T cell therapy tisagenlecleucel. J Hematol Oncol. "
        "2018;11:35."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "high_dose_vasopressor",
        "multiple_fluid_boluses",
        "o2_device",
        "creatinine_grade",
        "transaminitis_grade",
        "coagulopathy_transfusion",
        "hospitalized_for_crs",
    ),
    optional_inputs=("crs_symptoms", "o2_flow_l_min"),
    criteria=(
        Criterion(
            id="penn-1",
            grade=1,
            component="fever",
            rule="temp_c >= 38.0 or crs_symptoms; hypotension with a single fluid bolus -> 1",
            quote="Mild reaction treated with supportive care, such as antipyretics, antiemetics",
            source=_PENN,
        ),
        Criterion(
            id="penn-2",
            grade=2,
            component="organ/hospitalisation",
            rule="creatinine_grade 2; transaminitis_grade 3; hospitalized_for_crs -> 2",
            quote=(
                "Moderate reaction with signs of organ dysfunction related to CRS, not "
                "attributable to other etiologies (eg, grade 2 creatinine or grade 3 LFT "
                "elevation). Hospitalization for management of CRS-related symptoms, including "
                "fevers with associated neutropenia or need for intravenous therapies (other "
                "than intravenous fluids for hypotension)"
            ),
            source=_PENN,
        ),
        Criterion(
            id="penn-3",
            grade=3,
            component="hypotension/hypoxia/organ",
            rule=(
                "creatinine_grade >= 3; transaminitis_grade 4; multiple_fluid_boluses; any "
                "non-high-dose pressor; coagulopathy_transfusion; any supplemental O2 other "
                "than mechanical ventilation -> 3"
            ),
            quote=(
                "Hospitalization required for organ dysfunction, including grade 4 LFT "
                "elevation or grade 3 creatinine elevation related to CRS ... includes "
                "hypotension treated with intravenous fluids defined as multiple fluid boluses "
                "for blood pressure support or low-dose vasopressors; Coagulopathy requiring "
                "fresh frozen plasma, cryoprecipitate, or fibrinogen concentrate; Hypoxia "
                "requiring supplemental oxygen (nasal cannula oxygen, high-flow oxygen, CPAP, "
                "or BiPAP)"
            ),
            source=_PENN,
        ),
        Criterion(
            id="penn-4",
            grade=4,
            component="hypotension/hypoxia",
            rule="high_dose_vasopressor; mechanical_ventilation -> 4",
            quote=(
                "Life-threatening complications such as hypotension requiring high-dose "
                "vasopressors; hypoxia requiring mechanical ventilation"
            ),
            source=_PENN + "; " + _T2,
        ),
        Criterion(
            id="penn-creatinine-4",
            grade=3,
            component="organ",
            rule="creatinine_grade 4 is graded as 3 (not listed at grade 4)",
            quote="grade 3 creatinine elevation (Grade 3)",
            source=_PENN,
            status="interpretation",
        ),
        Criterion(
            id="penn-5", grade=5, component="death", rule="death from CRS", quote=_DEATH, source=_T2
        ),
    ),
    notes=(
        "Hypotension with a single fluid bolus is grade 1 (supportive care); multiple boluses "
        "need the extra column multiple_fluid_boluses.",
    ),
)

MSKCC = Scale(
    key="mskcc",
    version="MSKCC-2018",
    title="MSKCC CRS grading (Park et al.)",
    reference=(
        "Park JH, Riviere I, Gonen M, et al. Long-term follow-up of CD19 CAR therapy in acute "
        "lymphoblastic leukemia. N Engl J Med. 2018;378:449-459."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "vasopressor_24h",
        "vasopressor_refractory",
        "o2_device",
        "fio2_pct",
    ),
    optional_inputs=("crs_symptoms", "o2_flow_l_min"),
    criteria=(
        Criterion(
            id="mskcc-1",
            grade=1,
            component="fever",
            rule="temp_c >= 38.0 or crs_symptoms; hypotension on fluids only -> 1",
            quote="Mild symptoms requiring observation or supportive care only",
            source=_T2,
        ),
        Criterion(
            id="mskcc-2",
            grade=2,
            component="hypotension/hypoxia",
            rule="any pressor (vasopressin counts) with vasopressor_24h False; fio2_pct < 40 -> 2",
            quote="Hypotension requiring any vasopressors <24 h; Hypoxia/dyspnea requiring O2 <40%",
            source=_T2,
        ),
        Criterion(
            id="mskcc-3",
            grade=3,
            component="hypotension/hypoxia",
            rule="vasopressor_24h True; fio2_pct >= 40 -> 3",
            quote=(
                "Hypotension requiring any vasopressors >=24 h; Hypoxia/dyspnea requiring O2 >=40%"
            ),
            source=_T2,
        ),
        Criterion(
            id="mskcc-4",
            grade=4,
            component="hypotension/hypoxia",
            rule="vasopressor_refractory True; mechanical_ventilation -> 4",
            quote=(
                "Hypotension refractory to high-dose vasopressors; Hypoxia/dyspnea requiring "
                "mechanical ventilation"
            ),
            source=_T2,
        ),
        Criterion(
            id="mskcc-5",
            grade=5,
            component="death",
            rule="death from CRS",
            quote=_DEATH,
            source=_T2,
        ),
    ),
)

CARTOX = Scale(
    key="cartox",
    version="CARTOX-2018",
    title="CARTOX (MD Anderson) CRS grading",
    reference=(
        "Neelapu SS, Tummala S, Kebriaei P, et al. Chimeric antigen receptor T-cell therapy - "
        "assessment and management of toxicities. Nat Rev Clin Oncol. 2018;15:47-62."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "high_dose_vasopressor",
        "life_threatening_hypotension",
        "o2_device",
        "fio2_pct",
        "organ_toxicity_grade",
        "transaminitis_grade",
    ),
    optional_inputs=("o2_flow_l_min",),
    criteria=(
        Criterion(
            id="cartox-1",
            grade=1,
            component="fever/organ",
            rule="temp_c >= 38.0; organ_toxicity_grade 1 -> 1",
            quote="Temperature >=38 C; Grade 1 organ toxicity",
            source=_T2,
        ),
        Criterion(
            id="cartox-2",
            grade=2,
            component="hypotension/hypoxia/organ",
            rule=(
                "hypotension without pressor or one non-high-dose pressor; fio2_pct < 40; "
                "organ_toxicity_grade 2 -> 2"
            ),
            quote=(
                "Hypotension responsive to IV fluids or low-dose vasopressors; Hypoxia "
                "requiring FiO2 <40%; Grade 2 organ toxicity"
            ),
            source=_T2,
        ),
        Criterion(
            id="cartox-3",
            grade=3,
            component="hypotension/hypoxia/organ",
            rule=(
                "high_dose_vasopressor or >= 2 pressors; fio2_pct >= 40; organ_toxicity_grade "
                "3 or transaminitis_grade 4 -> 3"
            ),
            quote=(
                "Hypotension needing high-dose or multiple vasopressors; Hypoxia requiring "
                "FiO2 >=40%; Grade 3 organ toxicity or grade 4 transaminitis"
            ),
            source=_T2,
        ),
        Criterion(
            id="cartox-4",
            grade=4,
            component="hypotension/hypoxia/organ",
            rule=(
                "life_threatening_hypotension; mechanical_ventilation; organ_toxicity_grade 4 -> 4"
            ),
            quote=(
                "Life-threatening hypotension needing ventilator support; Grade 4 organ "
                "toxicity except grade 4 transaminitis"
            ),
            source=_T2,
        ),
        Criterion(
            id="cartox-5",
            grade=5,
            component="death",
            rule="death from CRS",
            quote=_DEATH,
            source=_T2,
        ),
    ),
)

CTCAE_V403 = Scale(
    key="ctcae_v4.03",
    version="CTCAE-4.03",
    title="CTCAE v4.03 cytokine release syndrome",
    reference=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events, version "
        "4.03 (2010): Cytokine release syndrome."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "o2_device",
        "ctcae_prolonged",
    ),
    optional_inputs=("crs_symptoms", "o2_flow_l_min"),
    criteria=(
        Criterion(
            id="ctcae403-1",
            grade=1,
            component="fever",
            rule="temp_c >= 38.0 or crs_symptoms -> 1",
            quote="Mild reaction; infusion interruption not indicated; intervention not indicated",
            source=_NCI403 + "; also " + _JHO,
        ),
        Criterion(
            id="ctcae403-fever",
            grade=1,
            component="fever",
            rule="fever (temp_c >= 38.0) alone is read as a 'mild reaction' -> 1",
            quote=(
                "A disorder characterized by nausea, headache, tachycardia, hypotension, rash, "
                "and shortness of breath; it is caused by the release of cytokines from the cells."
            ),
            source=_NCI403 + " (definition; v4.03 grade 1 does not mention fever)",
            status="interpretation",
        ),
        Criterion(
            id="ctcae403-2",
            grade=2,
            component="hypotension",
            rule="hypotension treated with fluids only (no pressor) -> 2",
            quote=(
                "Therapy or infusion interruption indicated but responds promptly to symptomatic "
                "treatment (e.g., antihistamines, NSAIDS, narcotics, IV fluids); prophylactic "
                "medications indicated for <=24 hrs"
            ),
            source=_NCI403,
            status="interpretation",
        ),
        Criterion(
            id="ctcae403-3",
            grade=3,
            component="course",
            rule="ctcae_prolonged True -> 3 (read only on days with a reaction)",
            quote=(
                "Prolonged (e.g., not rapidly responsive to symptomatic medication and/or brief "
                "interruption of infusion); recurrence of symptoms following initial "
                "improvement; hospitalization indicated for clinical sequelae (e.g., renal "
                "impairment, pulmonary infiltrates)"
            ),
            source=_NCI403,
        ),
        Criterion(
            id="ctcae403-4",
            grade=4,
            component="hypotension/hypoxia",
            rule="any pressor (vasopressin counts) or mechanical_ventilation -> 4",
            quote="Life-threatening consequences; pressor or ventilatory support indicated",
            source=_NCI403,
        ),
        Criterion(
            id="ctcae403-ventilatory",
            grade=4,
            component="ventilation",
            rule=(
                "'ventilatory support' = mechanical_ventilation only; CPAP/BiPAP (non-invasive "
                "ventilation) are not counted"
            ),
            quote="pressor or ventilatory support indicated",
            source=_NCI403 + " -- the text does not say whether non-invasive support counts",
            status="interpretation",
        ),
        Criterion(
            id="ctcae403-5",
            grade=5,
            component="death",
            rule="death from CRS",
            quote=_DEATH,
            source=_NCI403,
        ),
    ),
    notes=(
        "CTCAE v5.0 and v6.0 CRS are separate scales (criteria.ctcae_crs).",
        "'Ventilatory support' = mechanical_ventilation (CPAP/BiPAP not counted): an "
        "interpretation.",
        "v4.03 grade 1 does not mention fever; fever alone graded 1 is an interpretation.",
    ),
)

SCALES: dict[str, Scale] = {s.key: s for s in (LEE2014, PENN, MSKCC, CARTOX, CTCAE_V403)}

__all__ = ["CARTOX", "CTCAE_V403", "EXTRA_COLUMNS", "LEE2014", "MSKCC", "PENN", "SCALES"]
