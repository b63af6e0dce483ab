"""CTCAE v6.0 "Secondary hemophagocytic lymphohistiocytosis" (MedDRA 10081409).

A new term in CTCAE v6.0. The grade texts are the NCI wording as transcribed verbatim from
the NCI v6.0 spreadsheet in github.com/uscnewplatform/irccs-docker
``importCtcae/v6/ctcae-v6-bundle.json`` (commit 8af5e85e; NCI "CTCAE v6.0 Final
Clean-Tracked-Mapping_w_OS_Jan2026.xlsx"); status ``"secondary"``.

The grades are defined by symptoms and by the care the condition needs (intervention,
hospitalisation, urgent intervention), not by laboratory thresholds. Whether a patient has
secondary HLH at all is a diagnosis. So the grader reads clinician-recorded flags, the extra
observation columns :data:`EXTRA_COLUMNS`; it does not diagnose HLH from ferritin or
fibrinogen. (The ASTCT IEC-HS definition, Hines et al. 2023, is a different, consensus
definition whose tables could not be confirmed here; it is not implemented.)
"""

from __future__ import annotations

from cartcohort.derive.toxicity.criteria import Criterion, Scale

VERSION = "CTCAE-6.0"

#: Extra observation columns (outside the data standard), all boolean, per patient-day.
EXTRA_COLUMNS: dict[str, str] = {
    "shlh": (
        "Secondary HLH present this day (diagnosed and attributed to therapy). Required: "
        "missing = not known."
    ),
    "shlh_intervention": (
        "Intervention indicated for the HLH this day (e.g. immunosuppressive agents: "
        "steroids, anakinra, ruxolitinib, emapalumab, etoposide) -> grade 2."
    ),
    "shlh_hospitalized": (
        "Hospitalisation or prolongation of an existing hospitalisation indicated for the "
        "HLH -> grade 3."
    ),
    "shlh_life_threatening": (
        "Life-threatening consequences; urgent intervention indicated -> grade 4."
    ),
}

_V6 = (
    "NCI CTCAE v6.0 spreadsheet ('CTCAE v6.0 Final Clean-Tracked-Mapping_w_OS_Jan2026.xlsx'), "
    "term 'Secondary hemophagocytic lymphohistiocytosis' (MedDRA 10081409), as transcribed "
    "verbatim in github.com/uscnewplatform/irccs-docker importCtcae/v6/ctcae-v6-bundle.json "
    "(commit 8af5e85e)"
)

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="ctcae60-shlh-definition",
        grade=None,
        component="all",
        rule="shlh records the diagnosis (clinician's flag); shlh False -> 0, flags not read",
        quote=(
            "A disorder characterized by the development of a pathological and biochemical "
            "hyperinflammatory syndrome characterized by fever, cytopenias, hyperferritinemia, "
            "coagulopathy, hypofibrinogenemia and/or transaminitis and is attributable to "
            "therapy."
        ),
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-1",
        grade=1,
        component="present",
        rule="shlh True -> at least 1",
        quote=(
            "Asymptomatic or mild symptoms; requiring clinical and/or diagnostic evaluation; "
            "intervention not indicated"
        ),
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-2",
        grade=2,
        component="intervention",
        rule="shlh True and shlh_intervention True -> at least 2",
        quote="Moderate symptoms; intervention indicated (e.g., immunosuppressive agents)",
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-3",
        grade=3,
        component="hospitalisation",
        rule="shlh True and shlh_hospitalized True -> at least 3",
        quote=(
            "Severe or medically significant but not immediately life threatening; "
            "hospitalization or prolongation of existing hospitalization indicated"
        ),
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-4",
        grade=4,
        component="life_threatening",
        rule="shlh True and shlh_life_threatening True -> 4",
        quote="Life-threatening consequences; urgent intervention indicated",
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-5",
        grade=5,
        component="death",
        rule="events row event='death' with cause HLH / secondary HLH -> 5 on that day",
        quote="Death",
        source=_V6,
    ),
    Criterion(
        id="ctcae60-shlh-flags",
        grade=None,
        component="all",
        rule=(
            "each flag is one grade's care criterion; the grade is the highest flag that is "
            "True (a missing flag leaves that grade possible)"
        ),
        quote="Moderate symptoms; intervention indicated (e.g., immunosuppressive agents)",
        source=_V6 + " -- symptoms alone (mild/moderate/severe) are not recorded",
        status="interpretation",
    ),
)

SCALE = Scale(
    key="ctcae_v6.0",
    version=VERSION,
    title="CTCAE v6.0 secondary hemophagocytic lymphohistiocytosis",
    reference=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE), "
        "version 6.0 (2025; spreadsheet of January 2026): Secondary hemophagocytic "
        "lymphohistiocytosis (MedDRA 10081409)."
    ),
    required_inputs=("shlh", "shlh_intervention", "shlh_hospitalized", "shlh_life_threatening"),
    optional_inputs=(),
    criteria=CRITERIA,
    notes=(
        "Graded from clinician-recorded flags; HLH is not diagnosed from laboratory values.",
        "The symptom wording (mild, moderate, severe) is read through the care each grade "
        "names (intervention, hospitalisation, urgent intervention): interpretation.",
    ),
)

__all__ = ["CRITERIA", "EXTRA_COLUMNS", "SCALE", "VERSION"]
