"""Bedside calculators: thin adapters from form fields to the library's graders.

Nothing is graded here. Each calculator turns the form into the one-row table the
library reads (the data standard's ``observations`` or ``labs`` columns), calls
:func:`cartcohort.grade_crs`, :func:`cartcohort.grade_icans`, :func:`cartcohort.easix` or
:func:`cartcohort.m_easix`, and picks the criteria that decided the grade from the
versioned criteria tables (:mod:`cartcohort.derive.toxicity.criteria`), with their
source text. Input ranges come from the data standard.

The only arithmetic here is the ICE score: the sum of the ten ICE points the user
marks as scored (Lee 2019, Table 5: orientation 4, naming 3, commands 1, writing 1,
attention 1).

Unanswered is not assessed
--------------------------
A field left empty (or "not recorded") is passed to the grader as *missing*, never as
the best or the worst value: the grader then reports the grade only when the answered
fields determine it, and otherwise "not gradable" with the range of grades still
possible. Every decision lists the fields that were not answered
(:attr:`GradeDecision.missing`). The ICE score in particular counts only when the user
says the assessment was done *and* answers each of the ten items: ICE not done, or an
item left unanswered, makes the ICE domain unknown -- not ICE 0, which would be grade 3.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartcohort.derive.risk_scores import EASIX_PRE_CUTOFF, PublishedCutoff, easix, m_easix
from cartcohort.derive.toxicity import (
    CRS_SCALES,
    ICANS_SCALES,
    grade_crs,
    grade_icans,
    grade_secondary_hlh,
)
from cartcohort.derive.toxicity.criteria import Criterion, Scale
from cartcohort.derive.toxicity.criteria import astct_crs as crs_criteria
from cartcohort.derive.toxicity.criteria import astct_icans as icans_criteria
from cartcohort.derive.toxicity.criteria import ctcae_hlh as hlh_criteria
from cartcohort.errors import DerivationError
from cartcohort.model.standard import (
    ANALYTE_BY_NAME,
    CEREBRAL_EDEMA,
    CONSCIOUSNESS,
    MOTOR_WEAKNESS,
    O2_DEVICE,
    OBSERVATIONS,
    SEIZURE,
    conversion_factor,
)

Form = Mapping[str, str]
_PATIENT = "bedside"
_WAIVER_DRUG_FIELDS = ("tocilizumab", "antipyretic", "corticosteroids")

#: The ten ICE points (Lee 2019, Table 5), as (form field, label, points).
ICE_ITEMS: tuple[tuple[str, str, int], ...] = (
    ("ice_year", "Orientation: year", 1),
    ("ice_month", "Orientation: month", 1),
    ("ice_city", "Orientation: city", 1),
    ("ice_hospital", "Orientation: hospital", 1),
    ("ice_name_1", "Naming: first object (e.g. clock)", 1),
    ("ice_name_2", "Naming: second object (e.g. pen)", 1),
    ("ice_name_3", "Naming: third object (e.g. button)", 1),
    ("ice_commands", "Follows simple commands (e.g. 'show me two fingers')", 1),
    ("ice_writing", "Writes a standard sentence", 1),
    ("ice_attention", "Counts backwards from 100 by 10", 1),
)
ICE_SOURCE = (
    "ICE (Immune Effector Cell-associated Encephalopathy) score, Lee DW et al. Biol Blood "
    "Marrow Transplant 2019;25:625-638, Table 5: orientation 4 points, naming 3, following "
    "commands 1, writing 1, attention 1."
)

_DRIVER_WORDS = {
    "fever": "fever",
    "hypotension": "hypotension",
    "hypoxia": "hypoxia",
    "ice": "the ICE score",
    "capd": "the CAPD score",
    "consciousness": "the level of consciousness",
    "seizure": "seizure",
    "motor": "motor findings",
    "edema": "cerebral oedema",
    "death": "death",
    "treatment": "whether antipyretic or anti-cytokine drugs were given",
    "present": "whether secondary HLH is present",
    "intervention": "whether an intervention is indicated",
    "hospitalisation": "whether hospitalisation is indicated",
    "life_threatening": "whether it is life-threatening",
}


class CalculatorInputError(ValueError):
    """Form values that cannot be used; ``errors`` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeDecision:
    """A grade from the library with what decided it and where the rule comes from."""

    title: str
    version: str
    grade: int | None
    lower: int | None
    upper: int | None
    driver: str
    explanation: str
    components: tuple[tuple[str, str], ...]
    criteria: tuple[Criterion, ...]
    warnings: tuple[str, ...]
    reference: str
    notes: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """Labels of the fields left unanswered (passed to the grader as not assessed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreValue:
    """One risk score from the library, with the inputs that entered it (canonical units)."""

    score: str
    value: float | None
    log2_value: float | None
    formula: str
    inputs: tuple[tuple[str, float, str], ...]
    not_computable: str
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskScores:
    """EASIX and m-EASIX for one set of labs."""

    scores: tuple[ScoreValue, ...]
    cutoff: PublishedCutoff
    warnings: tuple[str, ...] = field(default_factory=tuple)


# -----------------------------------------------------------------------------------------
# Reading form fields (ranges from the data standard)
# -----------------------------------------------------------------------------------------
def _number(
    form: Form, name: str, label: str, errors: dict[str, str], *, column: str | None = None
) -> float | None:
    text = form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = f"{label}: '{text}' is not a number."
        return None
    if not math.isfinite(value):
        errors[name] = f"{label}: '{text}' is not a number."
        return None
    if column is not None:
        spec = OBSERVATIONS.column(column)
        low = spec.minimum if spec.minimum is not None else -math.inf
        high = spec.maximum if spec.maximum is not None else math.inf
        if not low <= value <= high:
            unit = f" {spec.unit}" if spec.unit else ""
            errors[name] = f"{label} must be between {low:g} and {high:g}{unit}; got {text}."
            return None
    return value


def _integer(form: Form, name: str, label: str, errors: dict[str, str], column: str) -> int | None:
    value = _number(form, name, label, errors, column=column)
    if value is None:
        return None
    if not value.is_integer():
        errors[name] = f"{label} must be a whole number; got {value:g}."
        return None
    return int(value)


def _yes_no(form: Form, name: str, label: str, errors: dict[str, str]) -> bool | None:
    text = form.get(name, "").strip()
    if text in ("", "unknown"):
        return None
    if text in ("yes", "no"):
        return text == "yes"
    errors[name] = f"{label}: choose yes, no or not recorded."
    return None


def _choice(
    form: Form, name: str, label: str, allowed: tuple[str, ...], errors: dict[str, str]
) -> str | None:
    text = form.get(name, "").strip()
    if text in ("", "unknown"):
        return None
    if text not in allowed:
        errors[name] = f"{label}: {text!r} is not one of the choices."
        return None
    return text


def _one_row(values: Mapping[str, object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"patient_id": [_PATIENT], "day": [0], **{k: [v] for k, v in values.items()}}
    )


def _unanswered(form: Form, fields: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """Labels of the ``(field, label)`` pairs left empty or "not recorded" in ``form``."""
    return tuple(label for name, label in fields if form.get(name, "").strip() in ("", "unknown"))


def _deciding(scale: Scale, driver: str, grades: Mapping[str, int | None]) -> tuple[Criterion, ...]:
    """The criteria of the components named in ``driver``, at the grade each reached."""
    if driver.startswith("not_gradable") or driver == "none":
        return ()
    chosen = []
    for component in driver.split("+"):
        grade = grades.get(component)
        for c in scale.criteria:
            if c.component == component and c.grade in (None, grade) and "strict" not in c.id:
                chosen.append(c)
    chosen.extend(c for c in scale.criteria if c.component == "all")
    return tuple(chosen)


def _as_int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _explain(driver: str, grade: int | None, lower: int | None, upper: int | None) -> str:
    if driver.startswith("not_gradable"):
        _, _, missing = driver.partition(": ")
        names = ", ".join(_DRIVER_WORDS.get(n.strip(), n.strip()) for n in missing.split(","))
        between = f"between {lower} and {upper}" if lower is not None else "unknown"
        return (
            f"Not gradable from what was entered: the grade is {between}. It depends on "
            f"{names or 'inputs not recorded'}: record what is missing to get one grade."
        )
    if driver == "none":
        return f"Grade {grade}: no criterion of a higher grade is met."
    words = " and ".join(_DRIVER_WORDS.get(p, p) for p in driver.split("+"))
    return f"Grade {grade}, decided by {words}."


def _captured(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(w.message) for w in caught))


# -----------------------------------------------------------------------------------------
# CRS
# -----------------------------------------------------------------------------------------
#: The CRS form's fields as (name, label); each one unanswered is not assessed.
CRS_FIELDS: tuple[tuple[str, str], ...] = (
    ("temp_c", "Temperature"),
    ("tocilizumab", "Tocilizumab"),
    ("corticosteroids", "Corticosteroids"),
    ("antipyretic", "Antipyretic"),
    ("hypotension", "Hypotension"),
    ("vasopressors", "Number of vasopressors"),
    ("vasopressin", "Vasopressin"),
    ("o2_device", "Oxygen device"),
)
#: CRS scales the calculator offers (``scale`` field; unanswered = ASTCT).
CRS_CALCULATOR_SCALES: tuple[str, ...] = ("astct", "ctcae_v5.0", "ctcae_v6.0")
_CTCAE_FIELDS = tuple(f for f in CRS_FIELDS if f[0] not in _WAIVER_DRUG_FIELDS)
#: The fields each scale reads (CTCAE has no fever waiver; v5.0 grades oxygen by FiO2).
CRS_SCALE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "astct": CRS_FIELDS,
    "ctcae_v5.0": (*_CTCAE_FIELDS, ("fio2_pct", "FiO2")),
    "ctcae_v6.0": _CTCAE_FIELDS,
}


def crs_grade(form: Form) -> GradeDecision:
    """CRS grade of one patient-day from the form (see :func:`cartcohort.grade_crs`).

    Fields: ``scale`` (``astct`` -- the default --, ``ctcae_v5.0`` or ``ctcae_v6.0``),
    ``temp_c`` (°C), ``hypotension``, ``vasopressin``, ``tocilizumab``, ``antipyretic``,
    ``corticosteroids`` (yes/no; unanswered = not assessed), ``vasopressors`` (count,
    vasopressin excluded), ``o2_device`` (data-standard vocabulary), ``o2_flow_l_min``,
    ``fio2_pct`` (CTCAE v5.0). Drugs are "given today or earlier in this episode": for
    ASTCT the fever waiver starts the day they are given (the library's
    ``waiver_start="same_day"`` default); CTCAE has no waiver and does not read them.

    Raises
    ------
    CalculatorInputError
        A field cannot be used; ``errors`` names each one.
    """
    errors: dict[str, str] = {}
    system = form.get("scale", "").strip() or "astct"
    if system not in CRS_CALCULATOR_SCALES:
        errors["scale"] = f"Scale: {system!r} is not one of the choices."
    values: dict[str, object] = {
        "temp_c": _number(form, "temp_c", "Temperature", errors, column="temp_c"),
        "hypotension": _yes_no(form, "hypotension", "Hypotension", errors),
        "vasopressors": _integer(form, "vasopressors", "Vasopressors", errors, "vasopressors"),
        "vasopressin": _yes_no(form, "vasopressin", "Vasopressin", errors),
        "o2_device": _choice(form, "o2_device", "Oxygen device", O2_DEVICE, errors),
        "o2_flow_l_min": _number(
            form, "o2_flow_l_min", "Oxygen flow", errors, column="o2_flow_l_min"
        ),
        "fio2_pct": _fio2(form, errors),
        "tocilizumab": _yes_no(form, "tocilizumab", "Tocilizumab", errors),
        "antipyretic": _yes_no(form, "antipyretic", "Antipyretic", errors),
        "corticosteroids": _yes_no(form, "corticosteroids", "Corticosteroids", errors),
    }
    if errors:
        raise CalculatorInputError(errors)
    frame = _one_row(values).astype(
        {
            "vasopressors": "Int64",
            "temp_c": "Float64",
            "o2_flow_l_min": "Float64",
            "fio2_pct": "Float64",
        }
    )
    for name in ("hypotension", "vasopressin", *_WAIVER_DRUG_FIELDS):
        frame[name] = frame[name].astype("boolean")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # One day: the form's drugs are "given in this episode", so no episode model.
            row = grade_crs(
                frame,
                system=system,  # type: ignore[arg-type]
                fever_waiver="after_treatment",
            ).iloc[0]
        except DerivationError as exc:
            raise CalculatorInputError({"form": str(exc)}) from exc
    scale = CRS_SCALES[system]
    grades = {
        "fever": 1 if _known(row["fever"]) and bool(row["fever"]) else 0,
        "hypotension": _as_int(row["hypotension_grade"]),
        "hypoxia": _as_int(row["hypoxia_grade"]),
    }
    driver = str(row["driver"])
    criteria = list(_deciding(scale, driver, grades))
    components = [("Fever (≥ 38.0 °C)", _text(row["fever"]))]
    if system == "astct":
        if values["vasopressin"] is not True or values["vasopressors"] != 0:
            # The vasopressin-alone footnote explains the grade only when it was the only
            # pressor.
            criteria = [c for c in criteria if c.id != "astct-crs-vasopressin-alone"]
        if _known(row["fever_waived"]) and bool(row["fever_waived"]):
            criteria.insert(0, crs_criteria.SCALE.criterion("astct-crs-fever-waiver"))
        if driver == "none":
            criteria.append(crs_criteria.SCALE.criterion("astct-crs-fever-def"))
        components.append(
            (
                "Fever requirement waived (antipyretic or anti-cytokine therapy)",
                _text(row["fever_waived"]),
            )
        )
    components += [
        ("Hypotension grade", _text(row["hypotension_grade"])),
        ("Hypoxia grade", _text(row["hypoxia_grade"])),
    ]
    grade = _as_int(row["grade"])
    lower, upper = _as_int(row["grade_lower_bound"]), _as_int(row["grade_upper_bound"])
    return GradeDecision(
        title=_CRS_TITLES[system],
        version=str(row["system"]),
        grade=grade,
        lower=lower,
        upper=upper,
        driver=driver,
        explanation=_explain(driver, grade, lower, upper),
        components=tuple(components),
        criteria=tuple(criteria),
        warnings=_captured(caught),
        reference=scale.reference,
        notes=scale.notes,
        missing=_unanswered(form, CRS_SCALE_FIELDS[system]),
    )


_CRS_TITLES = {
    "astct": "ASTCT CRS grade",
    "ctcae_v5.0": "CTCAE v5.0 CRS grade",
    "ctcae_v6.0": "CTCAE v6.0 CRS grade",
}


def _fio2(form: Form, errors: dict[str, str]) -> float | None:
    value = _number(form, "fio2_pct", "FiO2", errors)
    if value is not None and not 21 <= value <= 100:
        errors["fio2_pct"] = f"FiO2 must be between 21 and 100 %; got {value:g}."
        return None
    return value


def _known(value: object) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)))


def _text(value: object) -> str:
    if not _known(value):
        return "not known"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


# -----------------------------------------------------------------------------------------
# ICANS
# -----------------------------------------------------------------------------------------
#: Values of an ICE item: scored the point, did not, or not answered.
_ICE_SCORED = ("yes", "on")
_ICE_NOT_SCORED = ("no",)


def _ice_assessed(form: Form, errors: dict[str, str] | None = None) -> bool:
    """Whether the user said the ICE assessment was done (unanswered = not done)."""
    text = form.get("ice_assessed", "").strip()
    if text not in ("", "unknown", "yes", "no") and errors is not None:
        errors["ice_assessed"] = "ICE assessment: choose done, not done or not recorded."
    return text == "yes"


def _ice_unanswered(form: Form) -> tuple[str, ...]:
    """Labels of the ICE items neither marked scored nor marked not scored."""
    return tuple(
        label
        for name, label, _ in ICE_ITEMS
        if form.get(name, "").strip() not in (*_ICE_SCORED, *_ICE_NOT_SCORED)
    )


#: The ICANS form's fields besides the ICE items, as (name, label).
ICANS_FIELDS: tuple[tuple[str, str], ...] = (
    ("consciousness", "Level of consciousness"),
    ("seizure", "Seizure"),
    ("motor_weakness", "Motor findings"),
    ("cerebral_edema", "Cerebral oedema"),
)


def ice_score_from_items(form: Form) -> int | None:
    """The ICE score from the ten items; ``None`` when it is not known.

    The score is known only when ``ice_assessed == "yes"`` and every item is answered
    (``"yes"``/``"on"`` = the point was scored, ``"no"`` = it was not). ICE not done,
    ICE not answered, or any item left unanswered gives ``None`` (not assessed): an
    unanswered item is never counted as 0 points.
    """
    if not _ice_assessed(form) or _ice_unanswered(form):
        return None
    return sum(points for name, _, points in ICE_ITEMS if form.get(name, "").strip() in _ICE_SCORED)


#: ICANS scales the calculator offers (``scale`` field; unanswered = ASTCT).
ICANS_CALCULATOR_SCALES: tuple[str, ...] = ("astct", "ctcae_v6.0")
#: The domain fields each ICANS scale reads besides age, delay, ICE and CAPD.
ICANS_SCALE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "astct": ICANS_FIELDS,
    "ctcae_v6.0": (("consciousness", "Level of consciousness"),),
}
_ICANS_TITLES = {"astct": "ASTCT ICANS grade", "ctcae_v6.0": "CTCAE v6.0 ICANS grade"}
_DOMAIN_COLUMNS = (
    ("consciousness", "consciousness_grade", "Consciousness grade"),
    ("seizure", "seizure_grade", "Seizure grade"),
    ("motor", "motor_grade", "Motor findings grade"),
    ("edema", "edema_grade", "Cerebral oedema grade"),
)


def icans_grade(form: Form) -> GradeDecision:
    """ICANS grade (ASTCT 2019 or CTCAE v6.0) from the form (see :func:`cartcohort.grade_icans`).

    Fields: ``scale`` (``astct`` -- the default -- or ``ctcae_v6.0``); ``developmental_delay``
    (yes/no: CAPD at any age, ASTCT 2019; unanswered for a patient of 12 or older leaves the
    instrument open); ``ice_assessed`` (``yes``/``no``; unanswered = not assessed) and, when
    it is ``yes``, each ICE item (``yes``/``on`` scored, ``no`` not scored, see
    :data:`ICE_ITEMS`; an unanswered item makes the ICE score unknown, see
    :func:`ice_score_from_items`); ``age_years`` (children below 12 are graded with
    ``capd_score``); ``consciousness``, ``seizure``, ``motor_weakness``, ``cerebral_edema``
    (data-standard vocabularies; CTCAE v6.0 reads consciousness only).

    Raises
    ------
    CalculatorInputError
        A field cannot be used; ``errors`` names each one.
    """
    errors: dict[str, str] = {}
    system = form.get("scale", "").strip() or "astct"
    if system not in ICANS_CALCULATOR_SCALES:
        errors["scale"] = f"Scale: {system!r} is not one of the choices."
    _ice_assessed(form, errors)
    for name, label, _ in ICE_ITEMS:
        if form.get(name, "").strip() not in ("", *_ICE_SCORED, *_ICE_NOT_SCORED):
            errors[name] = f"ICE item '{label}': choose scored, not scored or not answered."
    age = _number(form, "age_years", "Age", errors)
    if age is not None and not 0 <= age <= 120:
        errors["age_years"] = f"Age must be between 0 and 120 years; got {age:g}."
    delay = _yes_no(form, "developmental_delay", "Developmental delay", errors)
    values: dict[str, object] = {
        "ice_score": ice_score_from_items(form),
        "capd_score": _integer(form, "capd_score", "CAPD score", errors, "capd_score"),
        "consciousness": _choice(form, "consciousness", "Consciousness", CONSCIOUSNESS, errors),
        "seizure": _choice(form, "seizure", "Seizure", SEIZURE, errors),
        "motor_weakness": _choice(form, "motor_weakness", "Motor findings", MOTOR_WEAKNESS, errors),
        "cerebral_edema": _choice(
            form, "cerebral_edema", "Cerebral oedema", CEREBRAL_EDEMA, errors
        ),
    }
    if errors:
        raise CalculatorInputError(errors)
    frame = _one_row(values).astype({"ice_score": "Int64", "capd_score": "Int64"})
    # An unanswered age is unknown (the grader takes the range of ICE and CAPD), not adult.
    ages: dict[Hashable, float] = {_PATIENT: math.nan if age is None else age}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            row = grade_icans(
                frame,
                system=system,  # type: ignore[arg-type]
                age_years=ages,
                developmental_delay={_PATIENT: delay},
            ).iloc[0]
        except DerivationError as exc:
            raise CalculatorInputError({"form": str(exc)}) from exc
    scale = ICANS_SCALES[system]
    domains = [d for d in _DOMAIN_COLUMNS if d[1] in row.index]
    grades = {
        "ice": _as_int(row["ice_grade"]),
        "capd": _as_int(row["capd_grade"]),
        **{name: _as_int(row[column]) for name, column, _ in domains},
    }
    driver = str(row["driver"])
    grade = _as_int(row["grade"])
    lower, upper = _as_int(row["grade_lower_bound"]), _as_int(row["grade_upper_bound"])
    ice = values["ice_score"]
    instrument = str(row["assessment"]) if _known(row["assessment"]) else None
    adult = instrument == "ice"
    child = instrument == "capd"
    criteria = _deciding(scale, driver, grades)
    if system == "ctcae_v6.0" and grade is not None and 1 <= grade <= 3:
        criteria = (*criteria, scale.criterion(f"ctcae60-icans-{grade}"))
    return GradeDecision(
        title=_ICANS_TITLES[system],
        version=str(row["system"]),
        grade=grade,
        lower=lower,
        upper=upper,
        driver=driver,
        explanation=_explain(driver, grade, lower, upper),
        components=(
            (
                "Assessment used",
                "ICE" if adult else "CAPD (child)" if child else "not known (age not entered)",
            ),
            ("ICE score (0–10)", "not assessed" if ice is None else f"{ice}"),
            ("ICE domain grade", "not used" if child else _text(row["ice_grade"])),
            (
                "CAPD domain grade",
                _text(row["capd_grade"]) if child else "not used" if adult else "not known",
            ),
            *((label, _text(row[column])) for _, column, label in domains),
        ),
        criteria=criteria,
        warnings=_captured(caught),
        reference=scale.reference,
        notes=scale.notes,
        missing=_icans_missing(form, instrument, age=age, system=system),
    )


def _icans_missing(
    form: Form, instrument: str | None, *, age: float | None, system: str
) -> tuple[str, ...]:
    """Unanswered ICANS fields: age and delay, the assessment(s) they call for, the domains."""
    missing: list[str] = []
    if age is None:
        missing.append("Age (decides ICE or CAPD)")
    child_by_age = age is not None and age < icans_criteria.CAPD_AGE_BELOW_DEFAULT
    if not child_by_age and form.get("developmental_delay", "").strip() in ("", "unknown"):
        missing.append("Developmental delay (CAPD at any age)")
    if instrument != "capd":
        if form.get("ice_assessed", "").strip() in ("", "unknown"):
            missing.append("ICE assessment (done or not)")
        elif _ice_assessed(form):
            missing.extend(f"ICE item: {label}" for label in _ice_unanswered(form))
    if instrument != "ice" and form.get("capd_score", "").strip() == "":
        missing.append("CAPD score")
    return (*missing, *_unanswered(form, ICANS_SCALE_FIELDS[system]))


# -----------------------------------------------------------------------------------------
# Secondary HLH (CTCAE v6.0)
# -----------------------------------------------------------------------------------------
#: The secondary-HLH form's fields as (name, label): the clinician's flags.
HLH_FIELDS: tuple[tuple[str, str], ...] = (
    ("shlh", "Secondary HLH present"),
    ("shlh_intervention", "Intervention indicated"),
    ("shlh_hospitalized", "Hospitalisation indicated"),
    ("shlh_life_threatening", "Life-threatening, urgent intervention indicated"),
)


def hlh_grade(form: Form) -> GradeDecision:
    """CTCAE v6.0 secondary HLH grade from the form (see ``grade_secondary_hlh``).

    Fields: ``shlh``, ``shlh_intervention``, ``shlh_hospitalized``,
    ``shlh_life_threatening`` (yes/no; unanswered = not assessed).

    Raises
    ------
    CalculatorInputError
        A field cannot be used; ``errors`` names each one.
    """
    errors: dict[str, str] = {}
    values = {name: _yes_no(form, name, label, errors) for name, label in HLH_FIELDS}
    if errors:
        raise CalculatorInputError(errors)
    frame = _one_row(values).astype({name: "boolean" for name, _ in HLH_FIELDS})
    row = grade_secondary_hlh(frame).iloc[0]
    driver = str(row["driver"])
    grade = _as_int(row["grade"])
    lower, upper = _as_int(row["grade_lower_bound"]), _as_int(row["grade_upper_bound"])
    scale = hlh_criteria.SCALE
    grades = {c.component: c.grade for c in scale.criteria if c.grade is not None}
    return GradeDecision(
        title="CTCAE v6.0 secondary HLH grade",
        version=str(row["system"]),
        grade=grade,
        lower=lower,
        upper=upper,
        driver=driver,
        explanation=_explain(driver, grade, lower, upper),
        components=tuple((label, _text(values[name])) for name, label in HLH_FIELDS),
        criteria=_deciding(scale, driver, grades),
        warnings=(),
        reference=scale.reference,
        notes=scale.notes,
        missing=_unanswered(form, HLH_FIELDS),
    )


# -----------------------------------------------------------------------------------------
# EASIX and m-EASIX
# -----------------------------------------------------------------------------------------
#: Form field -> (analyte, label); units offered are the analyte's known conversions.
LAB_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("ldh", "ldh", "LDH"),
    ("creatinine", "creatinine", "Creatinine"),
    ("platelets", "platelets", "Platelets"),
    ("crp", "crp", "CRP"),
)
_FORMULAS = {
    "EASIX": "LDH (U/L) × creatinine (mg/dL) ÷ platelets (10⁹/L)",
    "m-EASIX": "LDH (U/L) × CRP (mg/dL) ÷ platelets (10⁹/L)",
}
_SCORE_REFERENCE = (
    "Luft T et al. Lancet Haematol 2017;4:e414 (EASIX); Pennisi M et al. Blood Adv "
    "2021;5(17):3397-3406 (m-EASIX, CRP in mg/dL); Korell F et al. Front Immunol "
    "2022;13:877477 (EASIX-pre cut-off)."
)


def lab_units(analyte: str) -> tuple[str, ...]:
    """Units the library converts for ``analyte``, canonical first."""
    spec = ANALYTE_BY_NAME[analyte]
    return (spec.unit, *(u for u in spec.conversions if u != spec.unit))


def _labs(form: Form) -> pd.DataFrame:
    """The labs long table in canonical units (converted with the standard's factors)."""
    errors: dict[str, str] = {}
    rows = []
    for name, analyte, label in LAB_FIELDS:
        value = _number(form, name, label, errors)
        if value is None:
            continue
        if value < 0:
            errors[name] = f"{label} cannot be negative; got {value:g}."
            continue
        spec = ANALYTE_BY_NAME[analyte]
        unit = form.get(f"{name}_unit", spec.unit)
        factor = conversion_factor(spec, unit)
        if factor is None:
            errors[f"{name}_unit"] = f"{label}: unit {unit!r} is not one of the choices."
            continue
        rows.append((analyte, value * factor, spec.unit))
    if errors:
        raise CalculatorInputError(errors)
    return pd.DataFrame(
        {
            "patient_id": [_PATIENT] * len(rows),
            "day": [0] * len(rows),
            "analyte": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "unit": [r[2] for r in rows],
        }
    )


def _score(frame: pd.DataFrame, components: tuple[tuple[str, str, str], ...]) -> ScoreValue:
    row = frame.iloc[0]
    value = float(row["value"])
    name = str(row["score"])
    return ScoreValue(
        score=name,
        value=None if math.isnan(value) else value,
        log2_value=None if math.isnan(value) else float(row["log2_value"]),
        formula=_FORMULAS[name],
        inputs=tuple(
            (label, float(row[col]), unit) for col, label, unit in components if pd.notna(row[col])
        ),
        not_computable=str(row["not_computable"] or ""),
        reference=_SCORE_REFERENCE,
    )


def risk_scores(form: Form) -> RiskScores:
    """EASIX and m-EASIX from one set of labs (see :func:`cartcohort.easix` and `m_easix`).

    Fields: ``ldh``, ``creatinine``, ``platelets``, ``crp`` with ``<field>_unit`` (any unit
    the data standard converts; CRP may be mg/L or mg/dL — the library converts it to
    mg/dL for m-EASIX).

    Raises
    ------
    CalculatorInputError
        A field cannot be used, or a platelet count of 0.

    Notes
    -----
    An empty form is not an error: both scores are "not computable" and name the labs
    that were not entered.
    """
    labs = _labs(form)
    if labs.empty:  # nothing entered: neither score is computable; say what is missing
        return RiskScores(
            scores=tuple(
                ScoreValue(
                    score=name,
                    value=None,
                    log2_value=None,
                    formula=_FORMULAS[name],
                    inputs=(),
                    not_computable="not entered: " + ", ".join(needs),
                    reference=_SCORE_REFERENCE,
                )
                for name, needs in (
                    ("EASIX", ("LDH", "creatinine", "platelets")),
                    ("m-EASIX", ("LDH", "CRP", "platelets")),
                )
            ),
            cutoff=EASIX_PRE_CUTOFF,
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            e = easix(labs, window=(0, 0))
            m = m_easix(labs, window=(0, 0))
        except DerivationError as exc:
            raise CalculatorInputError({"form": str(exc)}) from exc
    scores = (
        _score(
            e,
            (
                ("ldh_u_l", "LDH", "U/L"),
                ("creatinine_mg_dl", "Creatinine", "mg/dL"),
                ("platelets_10e9_l", "Platelets", "10⁹/L"),
            ),
        ),
        _score(
            m,
            (
                ("ldh_u_l", "LDH", "U/L"),
                ("crp_mg_dl", "CRP", "mg/dL"),
                ("platelets_10e9_l", "Platelets", "10⁹/L"),
            ),
        ),
    )
    return RiskScores(scores=scores, cutoff=EASIX_PRE_CUTOFF, warnings=_captured(caught))


__all__ = [
    "CRS_CALCULATOR_SCALES",
    "CRS_FIELDS",
    "CRS_SCALE_FIELDS",
    "HLH_FIELDS",
    "ICANS_CALCULATOR_SCALES",
    "ICANS_FIELDS",
    "ICANS_SCALE_FIELDS",
    "ICE_ITEMS",
    "ICE_SOURCE",
    "LAB_FIELDS",
    "CalculatorInputError",
    "GradeDecision",
    "RiskScores",
    "ScoreValue",
    "crs_grade",
    "hlh_grade",
    "icans_grade",
    "ice_score_from_items",
    "lab_units",
    "risk_scores",
]
