"""Analysis plans: the YAML format, validated with messages that name the line and key.

A plan says which patients to analyse (``population``), how to group them
(``groups``), and what to compute (``analyses``). Example::

    name: my-plan
    title: Tumour burden and outcome
    population:
      - {column: diagnosis, in: [B-ALL]}
    groups:
      burden:
        column: burden_group
        levels: [low, high]
        labels: {low: "Low burden", high: "High burden"}
      blasts:
        cut: {column: bm_blasts_pct, breaks: [5, 20, 50]}
    analyses:
      - id: cr_by_burden
        type: compare_proportions
        title: CR/CRi by tumour burden
        outcome: responder
        by: burden
        test: fisher

Every analysis type is a model below with a ``type`` tag; unknown keys are errors
(a typo must not silently change an analysis). ``docs/analysis-plans.md`` documents
every key.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cartcohort.derive.response import RELAPSE_RULES
from cartcohort.derive.toxicity.crs import CRS_SCALES
from cartcohort.derive.toxicity.icans import ICANS_SCALES
from cartcohort.errors import PlanError

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Filter(_Spec):
    """Keep patients whose ``column`` satisfies every condition given."""

    column: str
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    equals: Any | None = None
    present: bool | None = None
    label: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Cut(_Spec):
    """Cut a numeric column into ordered groups: ``[breaks[i], breaks[i+1])``."""

    column: str
    breaks: list[float] = Field(min_length=1)
    labels: list[str] | None = None

    @field_validator("breaks")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(v)):
            msg = f"breaks must increase strictly; got {v}"
            raise ValueError(msg)
        return v


class Group(_Spec):
    """A grouping of patients: an existing column (optionally recoded) or a cut."""

    column: str | None = None
    cut: Cut | None = None
    levels: list[Any] | None = None
    labels: dict[str, str] | None = None
    title: str | None = None


# ----------------------------------------------------------------------------------------
# Definitions: how the plan's paper defines burden, grades, events and follow-up
# ----------------------------------------------------------------------------------------


class BurdenDefinition(_Spec):
    """Tumour burden groups (``burden_group``): low (MRD-positive, blasts below the cut)
    vs high (blasts at or above it, and, when ``emd_makes_high``, extramedullary disease)."""

    blasts_cut_pct: float = Field(default=5.0, gt=0, le=100)
    #: Extramedullary disease makes a patient high burden whatever the blasts (seed 002).
    emd_makes_high: bool = True
    #: With ``emd_makes_high``: a missing extramedullary status of a patient below the cut
    #: is read as present (``high``), absent (``low``), or leaves the patient ungrouped.
    missing_emd: Literal["high", "low", "exclude"] = "exclude"


EfsEvent = Literal["nonresponse", "progression", "relapse", "death"]
_DEFAULT_EFS: tuple[EfsEvent, ...] = ("nonresponse", "relapse", "death")
#: The EFS event sets the endpoint derivation offers.
EFS_EVENT_SETS: dict[tuple[str, ...], str] = {
    ("death", "nonresponse", "relapse"): "EFS",
    ("death", "progression", "relapse"): "PFS",
}


class Definitions(_Spec):
    """Definitions every analysis of the plan uses (docs/analysis-plans.md).

    Every field has a default (the package's defaults); a plan sets those its paper
    defines. The derivation settings (:meth:`derive_options`) select the analysis
    dataset: plans with different settings get their own.
    """

    burden: BurdenDefinition = Field(default_factory=BurdenDefinition)
    #: CRS grading scale: reported grades on another scale are graded again or refused;
    #: ``as_reported``: reported grades on whatever scale they declare (a paper naming none).
    crs_scale: str = "astct"
    #: Neurotoxicity (ICANS) scale for grades derived from daily observations.
    icans_scale: str = "astct"
    severe_crs_min_grade: int = Field(default=3, ge=1, le=5)
    severe_icans_min_grade: int = Field(default=3, ge=1, le=5)
    #: Best response by this day after infusion (the marrow assessment).
    response_by_day: int = Field(default=28, ge=1, le=365)
    #: MRD below this percent is negative.
    mrd_negative_below_pct: float = Field(default=0.01, gt=0, lt=5)
    #: Events of event-free survival.
    efs_events: list[EfsEvent] = Field(default_factory=lambda: list(_DEFAULT_EFS))
    #: When non-response is an EFS event: at day 0 or at the response assessment.
    efs_nonresponse_day: Literal["day0", "assessment"] = "day0"
    relapse_rule: str = "bbmt2010"
    relapse_blasts_pct: float | None = Field(default=None, gt=0, le=100)
    #: Median follow-up: reverse Kaplan-Meier, or median (range) of observed follow-up.
    followup: Literal["reverse_km", "observed_median_range"] = "reverse_km"

    @field_validator("crs_scale")
    @classmethod
    def _crs(cls, v: str) -> str:
        if v not in CRS_SCALES and v != "as_reported":
            msg = f"unknown CRS scale {v!r}; allowed: {', '.join(CRS_SCALES)}, as_reported"
            raise ValueError(msg)
        return v

    @field_validator("icans_scale")
    @classmethod
    def _icans(cls, v: str) -> str:
        if v not in ICANS_SCALES:
            msg = (
                f"unknown ICANS scale {v!r}; allowed: {', '.join(ICANS_SCALES)} (the scales "
                "cartcohort can grade from daily observations)"
            )
            raise ValueError(msg)
        return v

    @field_validator("relapse_rule")
    @classmethod
    def _relapse(cls, v: str) -> str:
        if v not in RELAPSE_RULES:
            msg = f"unknown relapse rule {v!r}; allowed: {', '.join(RELAPSE_RULES)}"
            raise ValueError(msg)
        return v

    @field_validator("efs_events")
    @classmethod
    def _efs(cls, v: list[str]) -> list[str]:
        if tuple(sorted(set(v))) not in EFS_EVENT_SETS:
            allowed = " or ".join(f"[{', '.join(k)}]" for k in EFS_EVENT_SETS)
            msg = f"efs_events {v} is not an event set cartcohort derives; allowed: {allowed}"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _threshold(self) -> Definitions:
        if (self.relapse_rule == "threshold") != (self.relapse_blasts_pct is not None):
            msg = "relapse_blasts_pct goes with relapse_rule: threshold, and only with it"
            raise ValueError(msg)
        return self

    @property
    def efs_endpoint(self) -> str:
        """The derived endpoint the plan's EFS is: ``EFS`` (with non-response) or ``PFS``."""
        return EFS_EVENT_SETS[tuple(sorted(set(self.efs_events)))]

    def derive_options(self) -> dict[str, object]:
        """Keyword arguments of :func:`cartcohort.derive` set by this plan (explicitly set
        fields only: the others keep the caller's settings, e.g. the CLI's)."""
        given = self.model_fields_set
        out: dict[str, object] = {}
        if "crs_scale" in given:
            if self.crs_scale == "as_reported":
                out["crs_any_reported_scale"] = True
            else:
                out["crs_system"] = self.crs_scale
                out["crs_any_reported_scale"] = False
        for key, option in (
            ("icans_scale", "icans_system"),
            ("severe_crs_min_grade", "severe_crs_grade"),
            ("severe_icans_min_grade", "severe_icans_grade"),
            ("response_by_day", "response_by_day"),
            ("mrd_negative_below_pct", "mrd_negative_below_pct"),
            ("efs_nonresponse_day", "efs_nonresponse"),
            ("relapse_rule", "relapse_rule"),
            ("relapse_blasts_pct", "relapse_blasts_pct"),
        ):
            if key in given:
                out[option] = getattr(self, key)
        if "relapse_rule" in given and "relapse_blasts_pct" not in given:
            out["relapse_blasts_pct"] = None
        if "burden" in given:
            b, bgiven = self.burden, self.burden.model_fields_set
            missing = {"high": "present", "low": "absent", "exclude": "unknown"}
            for key, option, value in (
                ("blasts_cut_pct", "burden_blasts_cut_pct", b.blasts_cut_pct),
                ("emd_makes_high", "burden_emd_makes_high", b.emd_makes_high),
                ("missing_emd", "burden_missing_emd", missing[b.missing_emd]),
            ):
                if key in bgiven:
                    out[option] = value
        return out

    def rows(self, settings: dict[str, object]) -> list[tuple[str, str]]:
        """The definitions in use, as (item, definition) rows for the report, from the
        derivation ``settings`` (:attr:`AnalysisDataset.settings`) and this block."""

        def get(key: str, default: object) -> object:
            return settings.get(key, default)

        cut = float(str(get("burden_blasts_cut_pct", 5.0)))
        if get("burden_emd_makes_high", True):
            read = {"present": "high", "absent": "low", "unknown": "no group"}
            emd = (
                f"high = blasts >= {cut:g} % or extramedullary disease; low = MRD-positive, "
                f"blasts < {cut:g} % without it (missing extramedullary status: "
                f"{read[str(get('burden_missing_emd', 'unknown'))]})"
            )
        else:
            emd = f"marrow blasts alone: low = MRD-positive, < {cut:g} %; high = >= {cut:g} %"
        rule = str(get("relapse_rule", "bbmt2010"))
        if rule == "threshold":
            rule += f" (marrow blasts >= {float(str(get('relapse_blasts_pct', 0))):g} %)"
        efs = ", ".join(e.replace("nonresponse", "non-response") for e in self.efs_events)
        if "nonresponse" in self.efs_events:
            at = "day 0" if get("efs_nonresponse", "day0") == "day0" else "the assessment"
            efs += f" (non-response counted at {at})"
        return [
            ("Tumour burden", emd),
            (
                "CRS grading",
                f"as reported (any declared scale); missing grades derived by "
                f"{get('crs_system', 'astct')}"
                if get("crs_any_reported_scale", False)
                else str(get("crs_system", "astct")),
            ),
            ("Neurotoxicity (ICANS) grading", str(get("icans_system", "astct"))),
            ("Severe CRS", f"grade >= {get('severe_crs_grade', 3)}"),
            ("Severe neurotoxicity", f"seizure or grade >= {get('severe_icans_grade', 3)}"),
            ("Best response", f"by day {get('response_by_day', 28)}"),
            ("MRD-negative", f"MRD < {float(str(get('mrd_negative_below_pct', 0.01))):g} %"),
            ("EFS events", efs),
            ("Relapse rule", rule),
            (
                "Median follow-up",
                "reverse Kaplan-Meier"
                if self.followup == "reverse_km"
                else "median (range) of observed follow-up (time to death or last follow-up)",
            ),
        ]


class Published(_Spec):
    """The seed paper's value of an analysis, shown beside the cohort's own."""

    value: str | float
    source: str = ""

    def text(self) -> str:
        """``value (source)``."""
        value = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{value} ({self.source})" if self.source else value


Test2 = Literal["fisher", "chi_square", "trend"]


class _Analysis(_Spec):
    id: str
    title: str
    description: str | None = None
    #: Patients of this analysis only (on top of the plan's population), e.g. CR patients.
    population: list[Filter] = Field(default_factory=list)
    #: The seed paper's value, shown as "published (seed paper): ..." beside the result.
    published: Published | None = None

    @field_validator("id")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not _ID.match(v):
            msg = f"ids are lower snake_case (a-z, 0-9, _), starting with a letter; got {v!r}"
            raise ValueError(msg)
        return v


class CompareProportions(_Analysis):
    """A yes/no (or categorical) outcome across groups: Fisher, chi-square or trend test."""

    type: Literal["compare_proportions"]
    outcome: str
    by: str
    test: Test2 = "fisher"
    #: ``test: chi_square`` on a 2 x 2 table: Yates' continuity correction (R's
    #: ``chisq.test`` default); ``false`` for the uncorrected Pearson test a paper used.
    correction: bool = True
    figure: bool = True


class CompareValues(_Analysis):
    """A numeric value across groups: t, Welch, Mann–Whitney, ANOVA or Kruskal–Wallis."""

    type: Literal["compare_values"]
    value: str
    by: str
    test: Literal["t", "welch", "mann_whitney", "anova", "kruskal_wallis"] = "mann_whitney"
    log_scale: bool = False
    figure: bool = True


class Survival(_Analysis):
    """Kaplan–Meier by group with the log-rank test, landmark rates and median follow-up."""

    type: Literal["survival"]
    endpoint: str
    by: str | None = None
    strata: str | None = None
    landmarks_days: list[int] = Field(default_factory=list)
    start_at_day: int | None = None
    ci_method: Literal["log-log", "log", "plain"] = "log-log"
    trend: bool = False
    time_unit: Literal["months", "days"] = "months"
    figure: bool = True


class CumulativeIncidence(_Analysis):
    """Cumulative incidence of relapse with non-relapse mortality competing, Gray's test."""

    type: Literal["cumulative_incidence"]
    endpoint: str = "CIR"
    by: str | None = None
    landmarks_days: list[int] = Field(default_factory=list)
    time_unit: Literal["months", "days"] = "months"


class RMST(_Analysis):
    """Restricted mean survival time up to ``tau_days`` by group, difference and ratio."""

    type: Literal["rmst"]
    endpoint: str
    by: str | None = None
    tau_days: int = Field(gt=0)
    milestones_days: list[int] = Field(default_factory=list)


class Imputation(_Spec):
    """Multiple imputation of the multivariable model (docs/methods/multiple-imputation.md)."""

    m: int = Field(default=20, ge=2)
    seed: int
    iterations: int = Field(default=10, ge=1)


class Regression(_Analysis):
    """Shared keys of Cox and logistic regression."""

    covariates: list[str] = Field(min_length=1)
    univariable: bool = True
    multivariable: Literal["all", "select", "none"] = "select"
    select_p: float = Field(default=0.1, gt=0, lt=1)
    #: Covariates always in the multivariable model ("clinically relevant", seed 004).
    force: list[str] = Field(default_factory=list)
    #: Covariates entered as log10(value) (e.g. CAR-T copies); values <= 0 are excluded.
    log10: list[str] = Field(default_factory=list)
    figure: bool = True
    #: Also fit the multivariable model on M imputed datasets, pooled by Rubin's rules.
    imputation: Imputation | None = None
    #: Column of case weights (Cox: > 0; logistic: >= 0), e.g. inverse-probability weights.
    weights: str | None = None
    #: Robust (sandwich) standard errors; default: on when ``cluster`` is given.
    robust: bool | None = None
    #: Column of correlated rows' cluster (e.g. patient_id with time_dependent, a centre).
    cluster: str | None = None


class Cox(Regression):
    """Cox regression for an endpoint: univariable, then multivariable by a selection rule."""

    type: Literal["cox"]
    endpoint: str
    ties: Literal["efron", "breslow"] = "efron"
    #: Time-dependent yes/no covariates: name -> column of the day it switches on
    #: (days since infusion), e.g. {hsct: hsct_day}; see docs/analysis-plans.md.
    time_dependent: dict[str, str] = Field(default_factory=dict)


class Logistic(Regression):
    """Logistic regression for a yes/no outcome (ML or Firth)."""

    type: Literal["logistic"]
    outcome: str
    method: Literal["ml", "firth"] = "ml"


class Correlation(_Analysis):
    """Correlation of two numeric columns (Pearson or Spearman)."""

    type: Literal["correlation"]
    x: str
    y: str
    method: Literal["pearson", "spearman"] = "pearson"
    log_x: bool = False
    log_y: bool = False


class Dynamics(_Analysis):
    """Levels over time by group (CAR-T copies or a lab analyte), mean ± SEM on a log axis."""

    type: Literal["dynamics"]
    source: Literal["kinetics", "labs"]
    analyte: str | None = None
    by: str | None = None
    days: tuple[int, int] = (0, 28)
    stat: Literal["mean_sem", "median_iqr"] = "mean_sem"


class Table1(_Analysis):
    """Baseline characteristics by group with the appropriate test per variable."""

    type: Literal["table1"]
    variables: list[str] = Field(min_length=1)
    by: str | None = None
    nonnormal: list[str] = Field(default_factory=list)


class Distribution(_Analysis):
    """Stacked bars of a category (e.g. CRS grade, best response) across groups."""

    type: Literal["distribution"]
    category: str
    by: str
    test: Test2 | None = None


class Listing(_Analysis):
    """A patient listing (one row per patient) of chosen columns, without identifiers."""

    type: Literal["listing"]
    columns: list[str] = Field(min_length=1)


class Swimmer(_Analysis):
    """One lane per patient: infusions, response, MRD, HSCT, relapse, death."""

    type: Literal["swimmer"]
    max_patients: int = 60


class AETable(_Analysis):
    """Adverse events after the first infusion by worst CTCAE grade (seed 002, Table 3)."""

    type: Literal["ae_table"]
    version: Literal["4.03", "5.0"] = "5.0"
    #: Add ICAHT rows (early/late N-ICAHT and T-ICAHT worst grade; docs/methods/icaht.md).
    icaht: bool = True


class InfusionComparison(_Analysis):
    """CAR-T expansion after successive infusions (seed 002, Fig. 3)."""

    type: Literal["infusion_comparison"]


class TimeDependentExposure(_Analysis):
    """A yes/no exposure that starts during follow-up (HSCT after CAR-T): time-dependent
    Cox, Mantel-Byar test and Simon-Makuch curves, without immortal-time bias."""

    type: Literal["time_dependent_exposure"]
    endpoint: str
    #: Name of the exposure (the model term), e.g. ``hsct``.
    exposure: str = Field(default="hsct", pattern=r"^[a-z][a-z0-9_]*$")
    #: Patient column of the day the exposure starts (days since infusion); empty = never.
    change_day: str = "hsct_day"
    #: Display name of the exposure, e.g. "HSCT" (default: the name in capitals).
    label: str | None = None
    #: Baseline covariates of an adjusted model (reported next to the unadjusted one).
    covariates: list[str] = Field(default_factory=list)
    ties: Literal["efron", "breslow"] = "efron"
    time_unit: Literal["months", "days"] = "months"
    figure: bool = True


class RateItem(_Spec):
    """``{rate: column}``: how many patients have a yes/no column true, x/n with an exact CI.

    ``of`` restricts the denominator to patients with another yes/no column true (e.g.
    MRD-negative CR ``of: responder``).
    """

    rate: str
    of: str | None = None
    label: str | None = None


class KmItem(_Spec):
    """``{km: endpoint}``: Kaplan–Meier estimates at fixed times (± Greenwood SE) and the
    median with its CI."""

    km: str
    at_months: list[float] = Field(default_factory=list)
    at_days: list[int] = Field(default_factory=list)
    se: bool = True
    median: bool = True
    ci_method: Literal["log-log", "log", "plain"] = "log-log"
    label: str | None = None


class MedianItem(_Spec):
    """``{median: column}``: median of a numeric column with its range and/or IQR."""

    median: str
    range: bool = True
    iqr: bool = False
    label: str | None = None


class FollowupItem(_Spec):
    """``{followup: endpoint}``: median follow-up, by the reverse Kaplan–Meier method or as
    the median (range) of observed times, of all patients or of those censored (alive)."""

    followup: str
    method: Literal["reverse_km", "observed_median_range"] = "reverse_km"
    among: Literal["all", "censored"] = "all"
    label: str | None = None


class OnsetItem(_Spec):
    """``{onset: crs}``: median (range) day of CRS or ICANS onset among patients with it."""

    onset: Literal["crs", "icans"]
    label: str | None = None


class IncidenceItem(_Spec):
    """``{incidence: crs}``: any and severe (grade >= ``severe_grade``) CRS or ICANS."""

    incidence: Literal["crs", "icans"]
    severe_grade: int = Field(default=3, ge=1, le=5)
    label: str | None = None


DescribeItem = RateItem | KmItem | MedianItem | FollowupItem | OnsetItem | IncidenceItem

#: The key that names each kind of ``describe`` item, and its model.
DESCRIBE_ITEMS: dict[str, type[_Spec]] = {
    "rate": RateItem,
    "km": KmItem,
    "median": MedianItem,
    "followup": FollowupItem,
    "onset": OnsetItem,
    "incidence": IncidenceItem,
}


class Describe(_Analysis):
    """Single-arm descriptive results: rates with exact CIs, KM estimates at fixed times,
    medians with range or IQR, follow-up, onset days and incidences (one compact table)."""

    type: Literal["describe"]
    items: list[DescribeItem] = Field(min_length=1)
    by: str | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _dispatch(cls, v: Any) -> Any:
        # each item starts with the key naming its kind (rate, km, median ...; a km item
        # may also have `median: false`): validate it as that kind, so that a mistake is
        # reported against the right keys
        if not isinstance(v, list):
            return v
        out: list[Any] = []
        problems: list[str] = []
        for i, item in enumerate(v, start=1):
            if not isinstance(item, dict):
                out.append(item)
                continue
            first = next(iter(item), None)
            kinds = [first] if first in DESCRIBE_ITEMS else []
            if not kinds:
                problems.append(
                    f"item {i} must start with its kind, one of {', '.join(DESCRIBE_ITEMS)} "
                    f"(it starts with {first!r})"
                )
                continue
            try:
                out.append(DESCRIBE_ITEMS[kinds[0]].model_validate(item))
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or kinds[0]
                    text = err["msg"].removeprefix("Value error, ")
                    if err["type"] == "extra_forbidden":
                        text = "unknown key (check the spelling; see docs/analysis-plans.md)"
                    problems.append(f"item {i} ({kinds[0]}), key {where}: {text}")
        if problems:
            raise ValueError("; ".join(problems))
        return out


Analysis = Annotated[
    CompareProportions
    | CompareValues
    | Survival
    | CumulativeIncidence
    | Cox
    | Logistic
    | Correlation
    | Dynamics
    | Table1
    | Distribution
    | Listing
    | Swimmer
    | AETable
    | InfusionComparison
    | RMST
    | TimeDependentExposure
    | Describe,
    Field(discriminator="type"),
]

ANALYSIS_TYPES = (
    "compare_proportions",
    "compare_values",
    "survival",
    "cumulative_incidence",
    "cox",
    "logistic",
    "correlation",
    "dynamics",
    "table1",
    "distribution",
    "listing",
    "swimmer",
    "ae_table",
    "infusion_comparison",
    "rmst",
    "time_dependent_exposure",
    "describe",
)


class Plan(_Spec):
    """A validated analysis plan."""

    name: str
    title: str
    description: str = ""
    reference: str = ""
    population: list[Filter] = Field(default_factory=list)
    definitions: Definitions = Field(default_factory=Definitions)
    groups: dict[str, Group] = Field(default_factory=dict)
    analyses: list[Analysis] = Field(min_length=1)

    @field_validator("analyses")
    @classmethod
    def _unique_ids(cls, v: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for a in v:
            if a.id in seen:
                msg = f"analysis id {a.id!r} is used twice; ids must be unique"
                raise ValueError(msg)
            seen.add(a.id)
        return v


# ----------------------------------------------------------------------------------------
# Loading with line numbers
# ----------------------------------------------------------------------------------------


def _node_at(root: yaml.Node, loc: tuple[int | str, ...]) -> yaml.Node:
    node = root
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                # A missing key: point at the mapping itself.
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # Drop pydantic's discriminator tags (e.g. 'survival') from the location.
    return tuple(p for p in loc if not (isinstance(p, str) and p in ANALYSIS_TYPES))


#: The YAML loader: libyaml's safe loader when PyYAML was built with it.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_plan(text: str, *, source: str = "<plan>") -> Plan:
    """Parse and validate a plan from YAML text.

    Raises
    ------
    PlanError
        With every problem at once, each as ``source line N, key K: message``.
    """
    try:
        # libyaml when available (ten times faster); the node tree with line numbers is
        # built only when there are problems to locate
        data = yaml.load(text, Loader=_LOADER)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})."
        raise PlanError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{source}: a plan is a YAML mapping with name, title and analyses."
        raise PlanError(msg)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=_LOADER)  # a safe loader
        problems = []
        for err in exc.errors():
            loc = _clean_loc(tuple(err["loc"]))
            node = _node_at(root, loc)
            line = node.start_mark.line + 1
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "union_tag_invalid":
                message = (
                    f"unknown analysis type {err.get('input', {}).get('type')!r}; allowed: "
                    + ", ".join(ANALYSIS_TYPES)
                )
            elif err["type"] == "extra_forbidden":
                message = "unknown key (check the spelling; see docs/analysis-plans.md)"
            elif err["type"] == "literal_error":
                message = f"{message}; got {err.get('input')!r}"
            problems.append(f"{source} line {line}, key {_loc_text(loc)}: {message}")
        msg = f"The analysis plan has {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        raise PlanError(msg) from None


BUILTIN_DIR = Path(__file__).with_name("builtin")


def builtin_plans() -> tuple[str, ...]:
    """Names of the plans shipped with cartcohort."""
    return tuple(sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml")))


def load_plan(name_or_path: str | Path) -> Plan:
    """Load a built-in plan by name (e.g. ``"tumor-burden"``) or a plan file by path."""
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            msg = f"Plan file {str(path)!r} does not exist."
            raise PlanError(msg)
        return parse_plan(path.read_text(encoding="utf-8"), source=path.name)
    candidate = BUILTIN_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return parse_plan(candidate.read_text(encoding="utf-8"), source=candidate.name)
    msg = (
        f"Unknown plan {str(name_or_path)!r}. Built-in plans: {', '.join(builtin_plans())}; "
        "or give the path of a .yaml plan file."
    )
    raise PlanError(msg)


__all__ = [
    "ANALYSIS_TYPES",
    "DESCRIBE_ITEMS",
    "Analysis",
    "BurdenDefinition",
    "Definitions",
    "Describe",
    "DescribeItem",
    "Filter",
    "Group",
    "Plan",
    "Published",
    "builtin_plans",
    "load_plan",
    "parse_plan",
]
