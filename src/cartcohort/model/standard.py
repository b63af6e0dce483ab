"""Cohort data standard v1: the tables and columns cartcohort reads, with types and units.

This module is the single source of truth for the standard. The documentation
(``docs/data-standard.md``), the JSON Schema (:func:`json_schema`), the Excel
template and the validator are all generated from, or driven by, the specs here.

Two shapes of one standard:

* the **patient sheet** — one row per patient (table ``patients``), the
  spreadsheet most centres keep, with summary columns such as ``crs_grade``;
* **detailed tables** — long-format raw data (``infusions``, ``marrow``,
  ``observations``, ``labs``, ``kinetics``, ``events``, ``treatments``) from which
  the summaries are derived.

Times are integer days since the first CAR-T infusion (day 0). A day column may
also hold an ISO date (``2021-03-04``), converted to days using the patient's
``infusion_date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

STANDARD_VERSION = "1.0"

ColumnType = Literal["string", "integer", "number", "boolean", "category", "date", "day"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of the standard.

    Attributes
    ----------
    name
        snake_case name; carries its unit when a number could be ambiguous.
    type
        ``string``; ``integer``; ``number``; ``boolean`` (yes/no, true/false, 1/0,
        Y/N); ``category`` (one of ``allowed``); ``date`` (ISO 8601); ``day``
        (integer days since first infusion, or an ISO date converted with
        ``infusion_date``).
    description
        What the column holds, for the documentation and the template.
    unit
        Unit of a numeric column (``None`` for unit-free values).
    allowed
        The vocabulary of a ``category`` column (canonical spellings).
    minimum, maximum
        Inclusive range of a numeric column; values outside are errors.
    soft_maximum
        Values above are accepted with a warning (plausibility check).
    required
        The table cannot be used without this column.
    """

    name: str
    type: ColumnType
    description: str
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    soft_maximum: float | None = None
    required: bool = False
    label: str | None = None

    @property
    def title(self) -> str:
        """Axis or table title: the display label with its unit ("Peak IL-6 (pg/mL)"), or
        the name with spaces when the column has no label."""
        if self.label is None:
            return self.name.replace("_", " ")
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One table of the standard: its columns and the key that identifies a row."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def column(self, name: str) -> Column:
        """The column spec called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of all columns in standard order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)


# --------------------------------------------------------------------------------------------
# Vocabularies (canonical spellings; readers accept case-insensitive variants and aliases)
# --------------------------------------------------------------------------------------------
SEX = ("M", "F")
DISEASE_STATUS = ("relapsed", "refractory", "mrd_persistent", "mrd_relapse")
MRD_METHOD = ("flow", "pcr", "ngs")
BURDEN_ASSESSED = ("before_ld", "after_ld")
COSTIM_DOMAIN = ("CD28", "4-1BB")
RESPONSE = ("CR", "CRi", "PR", "NR", "NE")
CYTOGENETIC_RISK = ("favorable", "intermediate", "poor")
CRS_GRADING_SYSTEM = ("astct", "lee2014", "penn", "mskcc", "cartox", "ctcae_v4.03", "ctcae_v5.0")
O2_DEVICE = (
    "none",
    "low_flow_nasal_cannula",
    "blow_by",
    "high_flow_nasal_cannula",
    "facemask",
    "non_rebreather_mask",
    "venturi_mask",
    "cpap",
    "bipap",
    "mechanical_ventilation",
)
CONSCIOUSNESS = (
    "alert",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_to_tactile",
    "unarousable",
)
SEIZURE = ("none", "resolved_rapidly", "prolonged_or_repetitive")
MOTOR_WEAKNESS = ("none", "deep_focal")
CEREBRAL_EDEMA = ("none", "focal", "diffuse")
EVENT = ("relapse", "death", "hsct", "new_therapy", "progression")
MARROW_RESPONSE = ("CR", "CRi", "PR", "NR", "NE", "relapse")
KINETICS_UNIT = ("copies_per_ug_dna", "cells_per_ul")

#: Tokens read as missing (case-insensitive, surrounding spaces ignored).
MISSING_TOKENS = ("", "na", "n/a", "nan", ".", "unknown", "none given", "null", "-")
#: Tokens read as booleans (case-insensitive).
TRUE_TOKENS = ("yes", "y", "true", "t", "1", "1.0")
FALSE_TOKENS = ("no", "n", "false", "f", "0", "0.0")

# --------------------------------------------------------------------------------------------
# Laboratory analytes: canonical unit and accepted units with the factor that converts a
# value in that unit to the canonical unit (value_canonical = value * factor).
# Units are matched case-insensitively after normalising µ/u and removing spaces.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Analyte:
    """A laboratory analyte with its canonical unit and unit conversions."""

    name: str
    label: str
    unit: str
    conversions: Mapping[str, float]
    aliases: tuple[str, ...] = ()
    minimum: float = 0.0


_CYTOKINE_UNITS: Mapping[str, float] = {"pg/mL": 1.0, "ng/L": 1.0, "ng/mL": 1000.0, "ng/dL": 10.0}

ANALYTES: tuple[Analyte, ...] = (
    Analyte(
        name="il6",
        label="IL-6",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("il-6", "interleukin-6", "interleukin 6"),
    ),
    Analyte(
        name="il2",
        label="IL-2",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("il-2", "interleukin-2", "interleukin 2"),
    ),
    Analyte(
        name="il10",
        label="IL-10",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("il-10", "interleukin-10", "interleukin 10"),
    ),
    Analyte(
        name="il8",
        label="IL-8",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("il-8", "interleukin-8", "interleukin 8"),
    ),
    Analyte(
        name="tnfa",
        label="TNF-α",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("tnf-a", "tnf-α", "tnf-alpha", "tnf", "tnfα"),
    ),
    Analyte(
        name="ifng",
        label="IFN-γ",
        unit="pg/mL",
        conversions=_CYTOKINE_UNITS,
        aliases=("ifn-g", "ifn-γ", "ifn-gamma", "ifnγ", "interferon gamma"),
    ),
    # Soluble IL-2 receptor is reported in U/mL by most assays; mass units are not
    # convertible to activity units, so only U/mL is accepted.
    Analyte(
        name="il2r",
        label="sIL-2R",
        unit="U/mL",
        conversions={"U/mL": 1.0, "IU/mL": 1.0},
        aliases=("il-2r", "sil-2r", "sil2r", "scd25", "sil2ra"),
    ),
    Analyte(
        name="crp",
        label="CRP",
        unit="mg/L",
        conversions={"mg/L": 1.0, "mg/dL": 10.0, "g/L": 1000.0, "ug/mL": 1.0},
        aliases=("c-reactive protein", "c reactive protein"),
    ),
    Analyte(
        name="ferritin",
        label="Ferritin",
        unit="ng/mL",
        conversions={"ng/mL": 1.0, "ug/L": 1.0, "mg/L": 1000.0},
        aliases=("serum ferritin",),
    ),
    Analyte(
        name="ldh",
        label="LDH",
        unit="U/L",
        conversions={"U/L": 1.0, "IU/L": 1.0, "ukat/L": 60.0},
        aliases=("lactate dehydrogenase", "ld"),
    ),
    Analyte(
        name="creatinine",
        label="Creatinine",
        unit="mg/dL",
        conversions={"mg/dL": 1.0, "umol/L": 1.0 / 88.42, "mg/L": 0.1},
        aliases=("creat", "serum creatinine", "cr"),
    ),
    Analyte(
        name="platelets",
        label="Platelets",
        unit="10^9/L",
        conversions={
            "10^9/L": 1.0,
            "10^3/uL": 1.0,
            "10^3/mm3": 1.0,
            "/uL": 1e-3,
            "/mm3": 1e-3,
            "G/L": 1.0,
        },
        aliases=("plt", "platelet count", "platelet"),
    ),
    Analyte(
        name="anc",
        label="ANC",
        unit="10^9/L",
        conversions={
            "10^9/L": 1.0,
            "10^3/uL": 1.0,
            "10^3/mm3": 1.0,
            "/uL": 1e-3,
            "/mm3": 1e-3,
            "G/L": 1.0,
        },
        aliases=("neutrophils", "absolute neutrophil count", "neut"),
    ),
    Analyte(
        name="wbc",
        label="WBC",
        unit="10^9/L",
        conversions={
            "10^9/L": 1.0,
            "10^3/uL": 1.0,
            "10^3/mm3": 1.0,
            "/uL": 1e-3,
            "/mm3": 1e-3,
            "G/L": 1.0,
        },
        aliases=("white blood cells", "leukocytes", "white cell count"),
    ),
    Analyte(
        name="alc",
        label="Lymphocytes",
        unit="10^9/L",
        conversions={
            "10^9/L": 1.0,
            "10^3/uL": 1.0,
            "10^3/mm3": 1.0,
            "/uL": 1e-3,
            "/mm3": 1e-3,
            "G/L": 1.0,
        },
        aliases=("lymphocytes", "absolute lymphocyte count", "lymph"),
    ),
    Analyte(
        name="haemoglobin",
        label="Haemoglobin",
        unit="g/dL",
        # 1 mmol/L (monomer) = 1.6114 g/dL (Hb monomer molar mass 16,114 g/mol).
        conversions={"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1.6114},
        aliases=("hemoglobin", "hb", "hgb"),
    ),
    Analyte(
        name="fibrinogen",
        label="Fibrinogen",
        unit="g/L",
        conversions={"g/L": 1.0, "mg/dL": 0.01},
        aliases=("fib",),
    ),
    Analyte(
        name="alt",
        label="ALT",
        unit="U/L",
        conversions={"U/L": 1.0, "IU/L": 1.0},
        aliases=("alanine aminotransferase", "sgpt"),
    ),
    Analyte(
        name="ast",
        label="AST",
        unit="U/L",
        conversions={"U/L": 1.0, "IU/L": 1.0},
        aliases=("aspartate aminotransferase", "sgot"),
    ),
    Analyte(
        name="ggt",
        label="GGT",
        unit="U/L",
        conversions={"U/L": 1.0, "IU/L": 1.0},
        aliases=("gamma-glutamyl transferase", "gamma gt"),
    ),
    Analyte(
        name="bilirubin",
        label="Total bilirubin",
        unit="mg/dL",
        conversions={"mg/dL": 1.0, "umol/L": 1.0 / 17.104},
        aliases=("total bilirubin", "tbil", "bili"),
    ),
    Analyte(
        name="albumin",
        label="Albumin",
        unit="g/dL",
        conversions={"g/dL": 1.0, "g/L": 0.1},
        aliases=("alb",),
    ),
    Analyte(
        name="procalcitonin",
        label="Procalcitonin",
        unit="ng/mL",
        conversions={"ng/mL": 1.0, "ug/L": 1.0},
        aliases=("pct",),
    ),
    # Serial peripheral-blood CD19+ B cells for B-cell aplasia (docs/methods/b-cell-aplasia.md):
    # an absolute count and a percentage of lymphocytes, the two denominators in use.
    Analyte(
        name="cd19_abs",
        label="CD19+ B cells",
        unit="cells/uL",
        conversions={"cells/uL": 1.0, "/uL": 1.0, "/mm3": 1.0, "10^9/L": 1000.0, "10^3/uL": 1000.0},
        aliases=("cd19 count", "cd19+ b cells", "b cells", "absolute cd19", "cd19 abs"),
    ),
    Analyte(
        name="cd19_pct",
        label="CD19+ B cells (% of lymphocytes)",
        unit="%",
        conversions={"%": 1.0},
        aliases=("cd19 %", "cd19 percent", "cd19+ %", "b cells %"),
    ),
)

ANALYTE_BY_NAME: Mapping[str, Analyte] = {a.name: a for a in ANALYTES}


def normalise_unit(unit: str) -> str:
    """Normalise a unit string for matching: µ→u, no spaces, lower case, ``x10^9`` → ``10^9``."""
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "").lower()
    u = u.replace("×", "x").replace("*", "x")
    if u.startswith("x10"):
        u = u[1:]
    return u.replace("e9/l", "^9/l").replace("e3/ul", "^3/ul")


def analyte_for(name: str) -> Analyte | None:
    """The analyte a (case-insensitive) name or alias refers to, or ``None``."""
    key = name.strip().lower()
    compact = key.replace("-", "").replace(" ", "").replace("_", "")
    for a in ANALYTES:
        names = (a.name, a.label.lower(), *a.aliases)
        if key in names or compact in {n.replace("-", "").replace(" ", "") for n in names}:
            return a
    return None


def conversion_factor(analyte: Analyte, unit: str) -> float | None:
    """Factor converting ``unit`` to the analyte's canonical unit, or ``None`` if unknown."""
    target = normalise_unit(unit)
    for u, factor in analyte.conversions.items():
        if normalise_unit(u) == target:
            return factor
    return None


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
_PID = Column(
    name="patient_id",
    type="string",
    required=True,
    description="Study identifier of the patient (a pseudonym, never a record number).",
)


def _bool(name: str, description: str) -> Column:
    return Column(name=name, type="boolean", description=description)


def _day(name: str, description: str, *, required: bool = False) -> Column:
    return Column(
        name=name,
        type="day",
        unit="days since first infusion",
        description=description,
        required=required,
    )


def _pct(name: str, description: str) -> Column:
    return Column(
        name=name, type="number", unit="%", minimum=0, maximum=100, description=description
    )


def _peak(name: str, label: str, unit: str, soft_max: float, *, short: str) -> Column:
    return Column(
        name=name,
        type="number",
        unit=unit,
        minimum=0,
        soft_maximum=soft_max,
        description=f"Peak {label} after infusion.",
        label=f"Peak {short}",
    )


_PRODUCT_COLUMNS: tuple[Column, ...] = (
    Column(
        name="dose_cells_per_kg",
        label="CAR-T dose",
        type="number",
        unit="CAR-T cells/kg",
        minimum=0,
        soft_maximum=1e9,
        description="Infused CAR-T cell dose per kg body weight (e.g. 5e6).",
    ),
    Column(
        name="costim_domain",
        type="category",
        allowed=COSTIM_DOMAIN,
        description="Costimulatory domain of the CAR construct.",
    ),
    Column(
        name="lymphodepletion", type="string", description="Lymphodepleting regimen, e.g. 'Flu/Cy'."
    ),
    _pct("transduction_pct", "Transduction efficiency of the product."),
    _pct("viability_pct", "Viability of the infused product."),
    Column(
        name="cd4_cd8_ratio",
        type="number",
        minimum=0,
        soft_maximum=100,
        description="CD4:CD8 ratio of the product.",
    ),
    _pct("tn_pct", "Naive T cells (Tn) in the product, % of CAR-T cells."),
    _pct("tscm_pct", "Stem-cell memory T cells (Tscm), %."),
    _pct("tcm_pct", "Central memory T cells (Tcm), %."),
    _pct("tem_pct", "Effector memory T cells (Tem), %."),
    _pct("temra_pct", "Terminally differentiated effector memory T cells (Temra), %."),
)

PATIENTS = Table(
    name="patients",
    description="One row per patient: baseline characteristics and, in the patient-sheet shape, "
    "the summary outcomes centres usually keep.",
    key=("patient_id",),
    columns=(
        _PID,
        Column(name="sex", type="category", allowed=SEX, description="Sex: M or F."),
        Column(
            name="age_years",
            label="Age",
            type="number",
            unit="years",
            minimum=0,
            maximum=120,
            description="Age at first infusion.",
        ),
        _bool(
            "developmental_delay",
            "Baseline developmental delay: ICANS is assessed with CAPD instead of ICE at any "
            "age (ASTCT 2019).",
        ),
        Column(name="center", type="string", description="Treating centre."),
        Column(name="diagnosis", type="string", description="Diagnosis, e.g. 'B-ALL'."),
        _bool("ph_positive", "Philadelphia chromosome (BCR-ABL1) positive."),
        _bool("tp53_mutated", "TP53 mutation present."),
        Column(
            name="cytogenetic_risk",
            type="category",
            allowed=CYTOGENETIC_RISK,
            description="Cytogenetic risk group.",
        ),
        _bool("cns_leukemia", "CNS leukaemia at infusion."),
        _bool("extramedullary_disease", "Extramedullary disease at infusion."),
        Column(
            name="prior_lines",
            type="integer",
            minimum=0,
            soft_maximum=30,
            description="Number of prior lines of therapy.",
        ),
        _bool("prior_hsct", "Allogeneic HSCT before CAR-T."),
        Column(
            name="disease_status",
            type="category",
            allowed=DISEASE_STATUS,
            description="Disease status at infusion.",
        ),
        _pct("bm_blasts_pct", "Pre-infusion bone-marrow blasts (0-100)."),
        Column(
            name="mrd_pct",
            label="Marrow MRD",
            type="number",
            unit="%",
            minimum=0,
            maximum=100,
            description="Pre-infusion MRD level as % of nucleated cells (0.01 % = 1e-4).",
        ),
        Column(
            name="mrd_method",
            type="category",
            allowed=MRD_METHOD,
            description="Method of the MRD measurement.",
        ),
        Column(
            name="burden_assessed",
            type="category",
            allowed=BURDEN_ASSESSED,
            description="Whether the tumour burden was assessed before or after lymphodepletion.",
        ),
        Column(
            name="infusion_date",
            type="date",
            description="Date of the first CAR-T infusion (day 0); anchors ISO dates elsewhere.",
        ),
        *_PRODUCT_COLUMNS,
        Column(
            name="n_infusions",
            type="integer",
            minimum=1,
            soft_maximum=10,
            description="Number of CAR-T infusions received.",
        ),
        Column(
            name="crs_grade",
            label="CRS grade",
            type="integer",
            minimum=0,
            maximum=5,
            description="Maximum CRS grade (as reported).",
        ),
        Column(
            name="crs_grading_system",
            type="category",
            allowed=CRS_GRADING_SYSTEM,
            description="Grading system used for crs_grade.",
        ),
        _day("crs_onset_day", "Day of CRS onset."),
        Column(
            name="icans_grade",
            label="ICANS grade",
            type="integer",
            minimum=0,
            maximum=5,
            description="Maximum ICANS (neurotoxicity) grade (as reported).",
        ),
        _bool("seizure", "Any seizure after infusion."),
        _bool("tocilizumab", "Tocilizumab given."),
        _bool("corticosteroids", "Corticosteroids given for CRS/ICANS."),
        Column(
            name="best_response",
            type="category",
            allowed=RESPONSE,
            description="Best response (by day 28/30 unless stated): CR, CRi, PR, NR, NE.",
        ),
        _day("response_day", "Day the best response was assessed."),
        _bool("mrd_negative", "MRD-negative response (< 0.01 % by flow unless stated)."),
        _bool("relapse", "Relapse after response."),
        _day("relapse_day", "Day of relapse."),
        _bool("cd19_negative_relapse", "Relapse with CD19-negative blasts."),
        _bool("hsct_after", "Allogeneic HSCT after CAR-T."),
        _day("hsct_day", "Day of HSCT after CAR-T."),
        _bool("death", "Died during follow-up."),
        _day("death_day", "Day of death."),
        Column(
            name="death_cause", type="string", description="Cause of death, e.g. 'relapse', 'CRS'."
        ),
        _day("last_followup_day", "Last day the patient was known alive (or day of death)."),
        _peak("peak_il6_pg_ml", "IL-6", "pg/mL", 1e6, short="IL-6"),
        _peak("peak_il2_pg_ml", "IL-2", "pg/mL", 1e6, short="IL-2"),
        _peak("peak_il10_pg_ml", "IL-10", "pg/mL", 1e6, short="IL-10"),
        _peak("peak_tnfa_pg_ml", "TNF-α", "pg/mL", 1e6, short="TNF-α"),
        _peak("peak_ifng_pg_ml", "IFN-γ", "pg/mL", 1e6, short="IFN-γ"),
        _peak("peak_crp_mg_l", "CRP", "mg/L", 1000, short="CRP"),
        _peak("peak_ferritin_ng_ml", "ferritin", "ng/mL", 1e6, short="ferritin"),
        _peak("peak_il8_pg_ml", "IL-8", "pg/mL", 1e6, short="IL-8"),
        _peak("peak_il2r_u_ml", "soluble IL-2 receptor (sIL-2R)", "U/mL", 1e6, short="sIL-2R"),
        _peak(
            "peak_cart_copies_per_ug",
            "CAR-T expansion (transgene copies/µg DNA)",
            "copies/µg DNA",
            1e8,
            short="CAR-T expansion",
        ),
    ),
)

INFUSIONS = Table(
    name="infusions",
    description="One row per CAR-T infusion; re-infusions numbered 1, 2, 3 ...",
    key=("patient_id", "infusion"),
    columns=(
        _PID,
        Column(
            name="infusion",
            type="integer",
            minimum=1,
            maximum=20,
            required=True,
            description="Infusion number (1 = first).",
        ),
        _day("day", "Day of this infusion (0 for the first).", required=True),
        *_PRODUCT_COLUMNS,
    ),
)

MARROW = Table(
    name="marrow",
    description="Bone-marrow assessments: blasts, MRD and the response called at that assessment.",
    key=("patient_id", "day"),
    columns=(
        _PID,
        _day("day", "Day of the marrow assessment (negative = before infusion).", required=True),
        _pct("bm_blasts_pct", "Marrow blasts by morphology."),
        Column(
            name="mrd_pct",
            type="number",
            unit="%",
            minimum=0,
            maximum=100,
            description="MRD level, % of nucleated cells.",
        ),
        Column(name="mrd_method", type="category", allowed=MRD_METHOD, description="MRD method."),
        Column(
            name="mrd_sensitivity_pct",
            type="number",
            unit="%",
            minimum=0,
            maximum=100,
            description="Sensitivity (limit of detection) of the MRD assay, e.g. 0.01 or 0.0001.",
        ),
        Column(
            name="response",
            type="category",
            allowed=MARROW_RESPONSE,
            description="Response called at this assessment.",
        ),
        _bool("extramedullary_disease", "Extramedullary disease present at this assessment."),
    ),
)

# CRS attribution (ASTCT: findings "not attributable to any other cause"); missing = CRS.
O2_REASON = ("hypoxia", "airway_protection", "chronic", "comfort", "procedure")
CORTICOSTEROIDS_REASON = ("crs", "icans", "other")
_CRS_ATTRIBUTION_COLUMNS: tuple[Column, ...] = (
    Column(
        name="o2_reason",
        type="category",
        allowed=O2_REASON,
        description=(
            "Why oxygen or ventilation was given: hypoxia, airway_protection, chronic, "
            "comfort, procedure. Only hypoxia counts for CRS; missing is read as hypoxia."
        ),
    ),
    _bool(
        "hypotension_other_cause",
        "Hypotension due to another cause (sepsis, bleeding ...): not counted for CRS.",
    ),
    _bool("anticytokine", "Anakinra, siltuximab or another anti-cytokine drug given that day."),
    Column(
        name="corticosteroids_reason",
        type="category",
        allowed=CORTICOSTEROIDS_REASON,
        description=(
            "Why corticosteroids were given: crs, icans, other. Only crs (or missing) starts "
            "the CRS fever waiver."
        ),
    ),
)

OBSERVATIONS = Table(
    name="observations",
    description="Daily bedside observations used to grade CRS and ICANS (one row per patient-day).",
    key=("patient_id", "day"),
    columns=(
        _PID,
        _day("day", "Day of the observation.", required=True),
        Column(
            name="temp_c",
            type="number",
            unit="°C",
            minimum=25,
            maximum=45,
            description="Maximum body temperature that day.",
        ),
        _bool("antipyretic", "Antipyretic given that day or before."),
        _bool("tocilizumab", "Tocilizumab given that day."),
        _bool("corticosteroids", "Corticosteroids given that day (for CRS/ICANS)."),
        _bool("hypotension", "Hypotension requiring fluids or vasopressors."),
        Column(
            name="vasopressors",
            type="integer",
            minimum=0,
            maximum=6,
            description="Number of vasopressors, not counting vasopressin.",
        ),
        _bool("vasopressin", "Vasopressin given."),
        Column(
            name="o2_device",
            type="category",
            allowed=O2_DEVICE,
            description="Oxygen delivery device (highest that day).",
        ),
        Column(
            name="o2_flow_l_min",
            type="number",
            unit="L/min",
            minimum=0,
            maximum=80,
            description="Oxygen flow.",
        ),
        *_CRS_ATTRIBUTION_COLUMNS,
        Column(
            name="ice_score",
            type="integer",
            minimum=0,
            maximum=10,
            description="Immune effector cell encephalopathy (ICE) score, lowest that day.",
        ),
        Column(
            name="capd_score",
            type="integer",
            minimum=0,
            maximum=32,
            description="Cornell Assessment of Pediatric Delirium score (children).",
        ),
        Column(
            name="consciousness",
            type="category",
            allowed=CONSCIOUSNESS,
            description="Level of consciousness (worst that day).",
        ),
        Column(name="seizure", type="category", allowed=SEIZURE, description="Seizure that day."),
        Column(
            name="motor_weakness",
            type="category",
            allowed=MOTOR_WEAKNESS,
            description="Deep focal motor weakness.",
        ),
        Column(
            name="cerebral_edema",
            type="category",
            allowed=CEREBRAL_EDEMA,
            description="Cerebral oedema on imaging / raised ICP.",
        ),
    ),
)

LABS = Table(
    name="labs",
    description="Laboratory values in long format; every value carries its unit.",
    key=("patient_id", "day", "analyte"),
    columns=(
        _PID,
        _day("day", "Day of the sample.", required=True),
        Column(
            name="analyte",
            type="category",
            allowed=tuple(a.name for a in ANALYTES),
            required=True,
            description="Analyte (IL-6, CRP, ferritin ...; aliases accepted).",
        ),
        Column(
            name="value", type="number", minimum=0, required=True, description="Measured value."
        ),
        Column(
            name="unit",
            type="string",
            required=True,
            description="Unit of the value; converted to the analyte's canonical unit.",
        ),
    ),
)

KINETICS = Table(
    name="kinetics",
    description="CAR-T cell kinetics in peripheral blood (qPCR transgene copies or flow counts).",
    key=("patient_id", "infusion", "day"),
    columns=(
        _PID,
        Column(
            name="infusion",
            type="integer",
            minimum=1,
            maximum=20,
            description="Infusion the sample follows (default 1).",
        ),
        _day("day", "Day of the sample, counted from the first infusion.", required=True),
        Column(
            name="value",
            type="number",
            minimum=0,
            required=True,
            description="CAR-T level in the stated unit.",
        ),
        Column(
            name="unit",
            type="category",
            allowed=KINETICS_UNIT,
            description="copies_per_ug_dna (qPCR) or cells_per_ul (flow); "
            "default copies_per_ug_dna.",
        ),
        Column(
            name="lloq",
            type="number",
            minimum=0,
            description="Lower limit of quantification of the assay, in the same unit.",
        ),
    ),
)

EVENTS = Table(
    name="events",
    description="Clinical events after infusion: relapse, death, HSCT, new therapy, progression.",
    key=("patient_id", "day", "event"),
    columns=(
        _PID,
        _day("day", "Day of the event.", required=True),
        Column(
            name="event", type="category", allowed=EVENT, required=True, description="Event type."
        ),
        Column(
            name="detail",
            type="string",
            description="Detail: e.g. 'CD19-negative' for a relapse, cause of death ('CRS', "
            "'infection', 'relapse'), type of HSCT.",
        ),
    ),
)

TREATMENTS = Table(
    name="treatments",
    description="Drugs given after infusion (tocilizumab, corticosteroids, vasopressors ...).",
    key=("patient_id", "day", "drug"),
    columns=(
        _PID,
        _day("day", "Day the drug was given.", required=True),
        Column(name="drug", type="string", required=True, description="Drug name."),
        Column(name="dose", type="number", minimum=0, description="Dose."),
        Column(name="unit", type="string", description="Dose unit, e.g. 'mg/kg'."),
    ),
)

TABLES: tuple[Table, ...] = (
    PATIENTS,
    INFUSIONS,
    MARROW,
    OBSERVATIONS,
    LABS,
    KINETICS,
    EVENTS,
    TREATMENTS,
)
TABLE_BY_NAME: Mapping[str, Table] = {t.name: t for t in TABLES}


def _column_schema(col: Column) -> dict[str, Any]:
    types: dict[str, dict[str, Any]] = {
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "number": {"type": "number"},
        "boolean": {"type": "boolean"},
        "category": {"type": "string", "enum": list(col.allowed)},
        "date": {"type": "string", "format": "date"},
        "day": {"type": "integer"},
    }
    schema: dict[str, Any] = dict(types[col.type])
    schema["description"] = col.description
    if col.unit:
        schema["x-unit"] = col.unit
    if col.minimum is not None:
        schema["minimum"] = col.minimum
    if col.maximum is not None:
        schema["maximum"] = col.maximum
    if col.soft_maximum is not None:
        schema["x-soft-maximum"] = col.soft_maximum
    if not col.required:
        schema = {"anyOf": [schema, {"type": "null"}], "description": col.description}
    return schema


def json_schema() -> dict[str, Any]:
    """The data standard as a JSON Schema (draft 2020-12) document.

    The document describes a cohort as an object with one array per table; each
    array item is a row. Units, soft maxima and canonical lab units are given in
    ``x-`` extension keywords.
    """
    defs: dict[str, Any] = {}
    for table in TABLES:
        defs[table.name] = {
            "type": "object",
            "description": table.description,
            "properties": {c.name: _column_schema(c) for c in table.columns},
            "required": list(table.required),
            "additionalProperties": True,
            "x-key": list(table.key),
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"cartcohort-data-standard-{STANDARD_VERSION}",
        "title": f"cartcohort cohort data standard v{STANDARD_VERSION}",
        "type": "object",
        "properties": {
            t.name: {"type": "array", "items": {"$ref": f"#/$defs/{t.name}"}} for t in TABLES
        },
        "required": ["patients"],
        "$defs": defs,
        "x-lab-units": {
            a.name: {"canonical": a.unit, "accepted": dict(a.conversions)} for a in ANALYTES
        },
        "x-missing-tokens": list(MISSING_TOKENS),
        "x-boolean-tokens": {"true": list(TRUE_TOKENS), "false": list(FALSE_TOKENS)},
    }


__all__ = [
    "ANALYTES",
    "ANALYTE_BY_NAME",
    "STANDARD_VERSION",
    "TABLES",
    "TABLE_BY_NAME",
    "Analyte",
    "Column",
    "Table",
    "analyte_for",
    "conversion_factor",
    "json_schema",
    "normalise_unit",
]
