"""CTCAE v5.0 and v6.0 "Cytokine release syndrome" (MedDRA 10052015).

The grade texts are the NCI wording as transcribed verbatim from the NCI spreadsheets
(status ``"secondary"``: the NCI documents themselves were not read here):

* v5.0 -- the R data ``data/ctcae5.rda`` of github.com/ajbarrows/tcoRs (commit
  14643bed, 2022-06-13), a data frame of the NCI CTCAE v5.0 spreadsheet's columns;
* v6.0 -- github.com/uscnewplatform/irccs-docker ``importCtcae/v6/ctcae-v6-bundle.json``
  (commit 8af5e85e), built from NCI "CTCAE v6.0 Final Clean-Tracked-Mapping_w_OS_Jan2026.xlsx".

CTCAE grades each finding on its own: fever is the grade-1 finding, not a gate, and there
is no fever waiver (unlike ASTCT), so rows must already be restricted to findings
attributed to CRS. Grade 4 is "Life-threatening consequences; urgent intervention
indicated" in both versions, without naming a finding; which findings meet it is our
reading (status ``"interpretation"``, listed in each scale's ``notes``). A user who
judges a day life-threatening can say so in the optional boolean column
``crs_life_threatening`` (:data:`EXTRA_COLUMNS`).
"""

from __future__ import annotations

from typing import Literal

from cartcohort.derive.toxicity.criteria import Criterion, Scale

OxygenRule = Literal["fio2", "device"]

#: Extra observation columns (outside the data standard) the CTCAE v5.0/v6.0 scales read.
EXTRA_COLUMNS: dict[str, str] = {
    "crs_life_threatening": (
        "Boolean, optional: CRS with life-threatening consequences, urgent intervention "
        "indicated (CTCAE v5.0/v6.0 grade 4), as judged by the clinician. Absent = grade 4 is "
        "read from two or more pressors or positive-pressure / mechanical ventilation only."
    ),
}

#: How each version grades oxygen: by FiO2 (v5.0: "<40% O2", ">= 40% O2") or by the
#: ASTCT device (v6.0: "low-flow nasal cannula or blow-by", "high-flow nasal cannula ...").
OXYGEN_RULE: dict[str, OxygenRule] = {"ctcae_v5.0": "fio2", "ctcae_v6.0": "device"}
#: Grade of two or more pressors: not listed (grade 3 is "one pressor"); read as grade 4.
MULTIPLE_PRESSORS_GRADE = 4

_V5 = (
    "NCI CTCAE v5.0 spreadsheet, term 'Cytokine release syndrome', as transcribed verbatim "
    "in github.com/ajbarrows/tcoRs data/ctcae5.rda (commit 14643bed)"
)
_V6 = (
    "NCI CTCAE v6.0 spreadsheet ('CTCAE v6.0 Final Clean-Tracked-Mapping_w_OS_Jan2026.xlsx'), "
    "term 'Cytokine release syndrome', as transcribed verbatim in "
    "github.com/uscnewplatform/irccs-docker importCtcae/v6/ctcae-v6-bundle.json "
    "(commit 8af5e85e)"
)
_G4 = "Life-threatening consequences; urgent intervention indicated"
_DEFINITION_V5 = (
    "A disorder characterized by fever, tachypnea, headache, tachycardia, hypotension, rash, "
    "and/or hypoxia caused by the release of cytokines."
)


def _shared(prefix: str, source: str) -> tuple[Criterion, ...]:
    """Criteria worded the same in v5.0 and v6.0: grade 1, hypotension, grade 4, death."""
    return (
        Criterion(
            id=f"{prefix}-1",
            grade=1,
            component="fever",
            rule="temp_c >= 38.0 -> 1 (constitutional symptoms without fever are not graded)",
            quote="Fever with or without constitutional symptoms",
            source=source,
        ),
        Criterion(
            id=f"{prefix}-hypotension-2",
            grade=2,
            component="hypotension",
            rule="hypotension=True with no pressor (vasopressin counts as a pressor) -> 2",
            quote="Hypotension responding to fluids",
            source=source,
        ),
        Criterion(
            id=f"{prefix}-hypotension-3",
            grade=3,
            component="hypotension",
            rule="exactly one pressor (vasopressors + vasopressin) -> 3",
            quote="Hypotension managed with one pressor",
            source=source,
        ),
        Criterion(
            id=f"{prefix}-hypotension-4",
            grade=4,
            component="hypotension",
            rule=f"two or more pressors (vasopressin counts) -> {MULTIPLE_PRESSORS_GRADE}",
            quote=_G4,
            source=source + " -- more than one pressor is not listed at any grade",
            status="interpretation",
        ),
        Criterion(
            id=f"{prefix}-4",
            grade=4,
            component="life_threatening",
            rule="optional column crs_life_threatening=True -> 4 (the clinician's judgement)",
            quote=_G4,
            source=source,
        ),
        Criterion(
            id=f"{prefix}-5",
            grade=5,
            component="death",
            rule="events row event='death' with cause CRS -> 5 on that day",
            quote="Death",
            source=source,
        ),
    )


CTCAE_V50 = Scale(
    key="ctcae_v5.0",
    version="CTCAE-5.0",
    title="CTCAE v5.0 cytokine release syndrome",
    reference=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE), "
        "version 5.0, 27 November 2017: Cytokine release syndrome (MedDRA 10052015)."
    ),
    required_inputs=(
        "temp_c",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "o2_device",
        "fio2_pct",
    ),
    optional_inputs=("crs_life_threatening", "o2_flow_l_min"),
    criteria=(
        *_shared("ctcae50", _V5),
        Criterion(
            id="ctcae50-hypoxia-2",
            grade=2,
            component="hypoxia",
            rule="on oxygen (any device but mechanical_ventilation) with fio2_pct < 40 -> 2",
            quote="hypoxia responding to <40% O2",
            source=_V5,
        ),
        Criterion(
            id="ctcae50-hypoxia-3",
            grade=3,
            component="hypoxia",
            rule="on oxygen with fio2_pct >= 40 -> 3 (CPAP/BiPAP are graded by their FiO2)",
            quote="hypoxia requiring ≥ 40% O2",
            source=_V5,
        ),
        Criterion(
            id="ctcae50-hypoxia-4",
            grade=4,
            component="hypoxia",
            rule="mechanical_ventilation -> 4",
            quote=_G4,
            source=_V5 + " -- ventilation is not named at any grade",
            status="interpretation",
        ),
        Criterion(
            id="ctcae50-definition",
            grade=None,
            component="all",
            rule="grade = the most severe finding; rows are findings attributed to CRS",
            quote=_DEFINITION_V5,
            source=_V5,
        ),
    ),
    notes=(
        "Fever is the grade-1 finding, not a gate; no fever waiver (CTCAE has none).",
        "Two or more pressors are graded 4 and mechanical ventilation 4 (interpretations of "
        "'Life-threatening consequences; urgent intervention indicated'); CPAP/BiPAP are "
        "graded by their FiO2, as in Lee 2014.",
        "Oxygen is graded by FiO2 (extra column fio2_pct); without it a day on oxygen is "
        "'2 or 3', not gradable.",
    ),
)

CTCAE_V60 = Scale(
    key="ctcae_v6.0",
    version="CTCAE-6.0",
    title="CTCAE v6.0 cytokine release syndrome",
    reference=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE), "
        "version 6.0 (2025; spreadsheet of January 2026): Cytokine release syndrome "
        "(MedDRA 10052015)."
    ),
    required_inputs=("temp_c", "hypotension", "vasopressors", "vasopressin", "o2_device"),
    optional_inputs=("crs_life_threatening", "o2_flow_l_min"),
    criteria=(
        *_shared("ctcae60", _V6),
        Criterion(
            id="ctcae60-hypoxia-2",
            grade=2,
            component="hypoxia",
            rule="low_flow_nasal_cannula (<= 6 L/min when a flow is recorded) or blow_by -> 2",
            quote="hypoxia requiring low-flow nasal cannula or blow-by",
            source=_V6,
        ),
        Criterion(
            id="ctcae60-hypoxia-3",
            grade=3,
            component="hypoxia",
            rule=(
                "high_flow_nasal_cannula (> 6 L/min), facemask, non_rebreather_mask, "
                "venturi_mask -> 3"
            ),
            quote=(
                "hypoxia requiring high-flow nasal cannula, facemask, nonrebreather mask, or "
                "Venturi mask"
            ),
            source=_V6,
        ),
        Criterion(
            id="ctcae60-lowflow-def",
            grade=None,
            component="hypoxia",
            rule="nasal cannula <= 6.0 L/min is low flow, > 6.0 high flow (the ASTCT definition)",
            quote=(
                "Low-flow nasal cannula refers to oxygen delivered at <= 6 L/min, whereas high "
                "flow refers to delivery at >6 L/min"
            ),
            source=(
                "ASTCT 2019 footnote (PMC8021214 Table 1); CTCAE v6.0 uses the ASTCT device "
                "words without defining them"
            ),
            status="interpretation",
        ),
        Criterion(
            id="ctcae60-hypoxia-4",
            grade=4,
            component="hypoxia",
            rule="cpap, bipap, mechanical_ventilation -> 4",
            quote=_G4,
            source=_V6 + " -- positive pressure is not named at any grade",
            status="interpretation",
        ),
    ),
    notes=(
        "Fever is the grade-1 finding, not a gate; no fever waiver (CTCAE has none).",
        "Oxygen is graded by the ASTCT devices (v6.0 'Clarification: Grade 2, 3'); positive "
        "pressure (CPAP, BiPAP, mechanical ventilation) and two or more pressors are graded 4 "
        "(interpretations of 'Life-threatening consequences; urgent intervention indicated').",
    ),
)

SCALES: dict[str, Scale] = {s.key: s for s in (CTCAE_V50, CTCAE_V60)}

__all__ = [
    "CTCAE_V50",
    "CTCAE_V60",
    "EXTRA_COLUMNS",
    "MULTIPLE_PRESSORS_GRADE",
    "OXYGEN_RULE",
    "SCALES",
    "OxygenRule",
]
