"""CTCAE v4.03 / v5.0 grading of laboratory adverse events, fever and febrile neutropenia.

Public functions:

* :func:`grade_lab_aes` -- one row per patient, day and CTCAE laboratory term (anaemia,
  leukopenia, neutropenia, lymphopenia, thrombocytopenia, fibrinogen decreased,
  ALT/AST/GGT/bilirubin/creatinine increased, hypoalbuminaemia);
* :func:`grade_clinical_aes` -- fever (from ``observations.temp_c``) and febrile neutropenia
  (temperature and the same day's ANC) per patient-day;
* :func:`worst_lab_aes` -- worst grade per patient and term after the first infusion;
* :func:`ae_grade_table` -- the adverse-event table of seed 002 (Table 3): per term, the
  number and percentage of patients whose worst grade is 1, 2, 3 or 4.

The criteria (verbatim CTCAE text and thresholds) live in
:mod:`cartcohort.derive.toxicity.criteria.ctcae_labs`; this module only applies them.

Partial information
-------------------
As in the CRS grader, every row is graded as an interval ``[grade_lower_bound,
grade_upper_bound]`` of the grades it could have given what is known. ``grade`` is reported
only when the two agree; otherwise it is ``<NA>`` ("not gradable"), never 0 and never a guess.
A missing input that cannot change the answer does not make a row not gradable: a platelet
count of 20 x 10^9/L is grade 4 whatever the LLN, while 120 x 10^9/L without an LLN is not
gradable (it is grade 0 or 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort.derive.toxicity.criteria.ctcae_labs import (
    CLINICAL_TERMS,
    FEBRILE_NEUTROPENIA,
    FEVER,
    FEVER_G1_MIN_C,
    FEVER_G2_ABOVE_C,
    FEVER_G3_ABOVE_C,
    FN_ANC_BELOW,
    FN_SINGLE_ABOVE_C,
    FN_SUSTAINED_MIN_C,
    LAB_TERMS,
    VERSIONS,
    LabTerm,
    Threshold,
)
from cartcohort.errors import DerivationError
from cartcohort.model.standard import ANALYTE_BY_NAME, analyte_for, normalise_unit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Version = Literal["4.03", "5.0"]
MissingBaseline = Literal["not_gradable", "ignore_baseline_criteria"]
FnFever = Literal["single_above_38.3", "any_fever"]
SexInput: TypeAlias = "str | Mapping[str, str] | pd.Series[Any] | None"
RangeInput: TypeAlias = "pd.DataFrame | Mapping[str, object] | None"

#: Columns of :func:`grade_lab_aes` and :func:`grade_clinical_aes`, in order.
GRADED_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "day",
    "term",
    "value",
    "unit",
    "grade",
    "criterion",
    "version",
    "label",
    "category",
    "grade_lower_bound",
    "grade_upper_bound",
    "lln",
    "uln",
    "baseline",
)

#: Columns of :func:`worst_lab_aes`, in order.
WORST_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "term",
    "label",
    "category",
    "version",
    "grade",
    "grade_lower_bound",
    "grade_upper_bound",
    "day_of_worst",
    "n_values",
    "n_not_gradable",
)

#: Row order of :func:`ae_grade_table` (seed 002, Table 3); other labels follow.
TABLE_ORDER: tuple[str, ...] = (
    "Fever",
    "Febrile neutropenia",
    "Cytokine release syndrome",
    "Anemia",
    "Leukopenia",
    "Neutropenia",
    "Lymphopenia",
    "Thrombocytopenia",
    "Fibrinogen decreased",
    "Alanine aminotransferase increased",
    "Aspartate aminotransferase increased",
    "Gamma glutamyl transpeptidase increased",
    "Blood bilirubin increased",
    "Serum creatinine increased",
    "Hypoalbuminemia",
)

_SEXES = ("M", "F")

#: lower-cased CTCAE term or table label -> (table label, table category)
_TERM_INFO: dict[str, tuple[str, str]] = {}
for _t in LAB_TERMS["5.0"]:
    _TERM_INFO[_t.term.lower()] = _TERM_INFO[_t.label.lower()] = (_t.label, _t.category)
for _c in CLINICAL_TERMS:
    _TERM_INFO[_c.term.lower()] = _TERM_INFO[_c.label.lower()] = (_c.label, _c.category)
_ROUND = 9  # decimals; guards "exactly at the threshold" against 3.0 * 0.1-style float error

# ---------------------------------------------------------------------------------------------
# Reference ranges
# ---------------------------------------------------------------------------------------------

_BAIN = (
    "Bain BJ, adult normal ranges (FBC from Bain BJ, A Beginner's Guide to Blood Cells, 3rd "
    "edn, Wiley-Blackwell 2017), as tabulated in Bain's Haematology text"
)
_OHGP = "Simon C et al., Oxford Handbook of General Practice, 2nd edn, OUP 2005, p1086"
_CREAT_MG_DL_PER_UMOL = ANALYTE_BY_NAME["creatinine"].conversions["umol/L"]
_BILI_MG_DL_PER_UMOL = ANALYTE_BY_NAME["bilirubin"].conversions["umol/L"]


def _default_ranges() -> pd.DataFrame:
    rows: list[tuple[str, str | None, float, float, str]] = [
        ("haemoglobin", "M", 13.3, 16.7, _BAIN),  # 133-167 g/L
        ("haemoglobin", "F", 11.8, 14.8, _BAIN),  # 118-148 g/L
        ("wbc", "M", 3.7, 9.5, _BAIN),
        ("wbc", "F", 3.9, 11.1, _BAIN),
        ("anc", "M", 1.7, 6.1, _BAIN),
        ("anc", "F", 1.7, 7.5, _BAIN),
        ("alc", None, 1.0, 3.2, _BAIN),
        ("platelets", "M", 143.0, 332.0, _BAIN),
        ("platelets", "F", 169.0, 358.0, _BAIN),
        ("fibrinogen", None, 2.0, 4.5, _BAIN),
        ("albumin", None, 3.5, 5.0, _BAIN),  # 35-50 g/L
        ("alt", None, 0.0, 50.0, _BAIN),
        ("ast", None, 0.0, 40.0, _BAIN),
        ("bilirubin", None, 1.0 * _BILI_MG_DL_PER_UMOL, 20.0 * _BILI_MG_DL_PER_UMOL, _BAIN),
        ("ggt", "M", 10.0, 46.0, _OHGP),
        ("ggt", "F", 6.0, 29.0, _OHGP),
        (
            "creatinine",
            None,
            60.0 * _CREAT_MG_DL_PER_UMOL,
            125.0 * _CREAT_MG_DL_PER_UMOL,
            _OHGP,
        ),
    ]
    frame = pd.DataFrame(rows, columns=["analyte", "sex", "lln", "uln", "source"])
    frame["unit"] = [ANALYTE_BY_NAME[a].unit for a in frame["analyte"]]
    return frame[["analyte", "sex", "lln", "uln", "unit", "source"]]


#: Typical adult reference ranges in canonical units. DEFAULTS ONLY: limits of normal are
#: laboratory-, method-, age- and sex-specific, and a centre should pass its own through
#: ``reference_ranges``. ``sex`` is ``"M"``, ``"F"`` or ``None`` (both). Sources: Bain BJ
#: (blood counts, fibrinogen, albumin, ALT, AST, bilirubin) and the Oxford Handbook of
#: General Practice (GGT, creatinine); see ``source``.
DEFAULT_REFERENCE_RANGES: pd.DataFrame = _default_ranges()

_Ranges = dict[str, dict[str, tuple[float, float]]]


def _range_pair(analyte: str, value: object) -> tuple[float, float]:
    pair: tuple[object, ...] = tuple(value) if isinstance(value, Sequence) else ()
    try:
        if len(pair) != 2:
            raise ValueError(value)
        return float(pair[0]), float(pair[1])  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        msg = (
            f"reference_ranges[{analyte!r}] must be (lln, uln) or a mapping sex -> (lln, uln) "
            f"with sex 'M'/'F'; got {value!r}."
        )
        raise DerivationError(msg) from exc


def _ranges_from_frame(frame: pd.DataFrame) -> _Ranges:
    missing = [c for c in ("analyte", "lln", "uln") if c not in frame.columns]
    if missing:
        msg = f"reference_ranges lacks column(s) {missing}; expected analyte, lln, uln[, sex]."
        raise DerivationError(msg)
    out: _Ranges = {}
    for row in frame.itertuples(index=False):
        name = _canonical_analyte(getattr(row, "analyte"))  # noqa: B009
        sex = getattr(row, "sex", None) if "sex" in frame.columns else None
        pair = (float(getattr(row, "lln")), float(getattr(row, "uln")))  # noqa: B009
        targets = _SEXES if sex is None or pd.isna(sex) else (_sex_code(sex),)
        for s in targets:
            out.setdefault(name, {})[s] = pair
    return out


def _resolve_ranges(reference_ranges: RangeInput) -> _Ranges:
    if reference_ranges is None:
        return _ranges_from_frame(DEFAULT_REFERENCE_RANGES)
    if isinstance(reference_ranges, pd.DataFrame):
        return _ranges_from_frame(reference_ranges)
    out: _Ranges = {}
    for key, value in reference_ranges.items():
        name = _canonical_analyte(key)
        if isinstance(value, Mapping):
            out[name] = {_sex_code(s): _range_pair(name, v) for s, v in value.items()}
        else:
            pair = _range_pair(name, value)
            out[name] = dict.fromkeys(_SEXES, pair)
    return out


def _limits(ranges: _Ranges, analyte: str, sex: str) -> tuple[float, float]:
    return ranges.get(analyte, {}).get(sex, (np.nan, np.nan))


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _canonical_analyte(name: object) -> str:
    analyte = analyte_for(str(name)) if isinstance(name, str) else None
    if analyte is None:
        msg = f"Unknown analyte {name!r}; known analytes: {', '.join(sorted(ANALYTE_BY_NAME))}."
        raise DerivationError(msg)
    return analyte.name


def _sex_code(value: object) -> str:
    code = str(value).strip().upper()[:1]
    if code not in _SEXES:
        msg = f"sex must be 'M' or 'F' (as in the patients table); got {value!r}."
        raise DerivationError(msg)
    return code


def _check_version(version: str) -> str:
    v = str(version).removeprefix("CTCAE-").removeprefix("v")
    if v == "4":
        v = "4.03"
    if v not in VERSIONS:
        msg = f"`version` must be one of {list(VERSIONS)}; got {version!r}."
        raise DerivationError(msg)
    return v


def _require(frame: object, columns: Sequence[str], name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        msg = f"`{name}` must be a pandas DataFrame; got {type(frame).__name__}."
        raise DerivationError(msg)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"`{name}` lacks column(s) {missing}; expected {list(columns)}."
        raise DerivationError(msg)
    return frame


def _prepare_labs(labs: object, analytes: set[str]) -> pd.DataFrame:
    """Canonical analyte names, numeric values, canonical units only, one value per day."""
    frame = _require(labs, ("patient_id", "day", "analyte", "value", "unit"), "labs")
    frame = frame[["patient_id", "day", "analyte", "value", "unit"]].copy()
    frame["analyte"] = frame["analyte"].map(_canonical_analyte)
    frame = frame[frame["analyte"].isin(analytes)]
    try:
        frame["day"] = pd.to_numeric(frame["day"]).astype(np.float64)
        frame["value"] = pd.to_numeric(frame["value"]).astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = "`labs.day` and `labs.value` must be numeric; validate the table first."
        raise DerivationError(msg) from exc
    frame = frame[frame["value"].notna()]
    _check_units(frame)
    dup = frame.duplicated(["patient_id", "analyte", "day"])
    if dup.any():
        shown = frame.loc[dup, ["patient_id", "analyte", "day"]].head(3).to_dict("records")
        msg = f"More than one lab value per patient, analyte and day, e.g. {shown}."
        raise DerivationError(msg)
    return frame.sort_values(["patient_id", "analyte", "day"], kind="mergesort")


def _check_units(frame: pd.DataFrame) -> None:
    """Every value must be in its analyte's canonical unit; the validator converts them."""
    if frame["unit"].isna().any():
        msg = "`labs.unit` is missing on some rows; every lab value needs its unit."
        raise DerivationError(msg)
    for (name, unit), _ in frame.groupby(["analyte", "unit"], sort=True):
        canonical = ANALYTE_BY_NAME[str(name)].unit
        if normalise_unit(str(unit)) != normalise_unit(canonical):
            msg = (
                f"labs: {name} has values in {unit!r}, but CTCAE grading needs the canonical "
                f"unit {canonical!r}. Load the cohort with cartcohort.validate.load_cohort, "
                "which converts units, or convert first."
            )
            raise DerivationError(msg)


def _sex_per_row(patient_ids: pd.Series, sex: SexInput) -> npt.NDArray[np.object_]:
    if sex is None:
        return np.full(len(patient_ids), None, dtype=object)
    if isinstance(sex, str):
        return np.full(len(patient_ids), _sex_code(sex), dtype=object)
    mapping = dict(sex.items())
    codes = [mapping.get(p) for p in patient_ids]
    return np.array(
        [None if c is None or pd.isna(c) else _sex_code(c) for c in codes], dtype=object
    )


# ---------------------------------------------------------------------------------------------
# Grading kernel: thresholds -> grade interval
# ---------------------------------------------------------------------------------------------


def _compare(value: FloatArray, op: str, bound: FloatArray) -> BoolArray:
    v = np.round(value, _ROUND)
    b = np.round(bound, _ROUND)
    if op == "<":
        return v < b
    if op == "<=":
        return v <= b
    if op == ">":
        return v > b
    return v >= b


def _interval(
    term: LabTerm,
    value: FloatArray,
    refs: Mapping[str, FloatArray],
    branch: str | None,
    ignored: BoolArray,
) -> tuple[IntArray, IntArray]:
    """Grade interval when the baseline branch is ``branch`` (None: term has no branch).

    A threshold whose reference is missing may or may not be met: it raises the upper bound
    only. ``ignored`` marks rows whose missing baseline is to be ignored (criteria not met).
    In the "baseline was abnormal" branch a missing baseline is still known to lie beyond the
    ULN (or LLN), which settles some thresholds: ALT <= 1.5 x ULN cannot be >= 1.5 x a
    baseline above the ULN.
    """
    n = len(value)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    for t in term.thresholds:
        if t.branch not in ("always", branch):
            continue
        ref = np.ones(n) if t.reference == "absolute" else refs[t.reference]
        present = ~np.isnan(ref)
        known = present
        if t.reference == "baseline":
            known = present | ignored | _excluded_by_branch(term, t, value, refs, branch)
        met = present & _compare(value, t.op, t.factor * np.where(present, ref, 0.0))
        lo = np.where(met, np.maximum(lo, t.grade), lo)
        hi = np.where(met | ~known, np.maximum(hi, t.grade), hi)
    return lo, np.maximum(lo, hi)


def _excluded_by_branch(
    term: LabTerm,
    t: Threshold,
    value: FloatArray,
    refs: Mapping[str, FloatArray],
    branch: str | None,
) -> BoolArray:
    """Rows where a baseline threshold cannot be met whatever the (missing) baseline."""
    if branch != "baseline_abnormal":
        return np.zeros(len(value), dtype=bool)
    if term.abnormal_baseline == "above_uln" and t.op in (">", ">="):
        # baseline > ULN, so factor x baseline > factor x ULN
        return _compare(value, "<=", t.factor * refs["uln"])
    if term.abnormal_baseline == "below_lln" and t.op in ("<", "<="):
        # baseline < LLN, so factor x baseline < factor x LLN
        return _compare(value, ">=", t.factor * refs["lln"])
    return np.zeros(len(value), dtype=bool)


def _baseline_state(
    term: LabTerm, refs: Mapping[str, FloatArray], ignored: BoolArray
) -> tuple[BoolArray, BoolArray]:
    """(known, abnormal) for the term's "if baseline was abnormal" branch."""
    base = refs["baseline"]
    if term.abnormal_baseline == "above_uln":
        limit = refs["uln"]
        abnormal = _compare(base, ">", limit)
    else:
        limit = refs["lln"]
        abnormal = _compare(base, "<", limit)
    present = ~np.isnan(base) & ~np.isnan(limit)
    return present | ignored, present & abnormal


def _grade_one_sex(
    term: LabTerm, value: FloatArray, refs: Mapping[str, FloatArray], ignored: BoolArray
) -> tuple[IntArray, IntArray]:
    if term.abnormal_baseline is None:
        return _interval(term, value, refs, None, ignored)
    known, abnormal = _baseline_state(term, refs, ignored)
    lo_n, hi_n = _interval(term, value, refs, "baseline_normal", ignored)
    lo_a, hi_a = _interval(term, value, refs, "baseline_abnormal", ignored)
    # unknown branch: the grade is one of the two branches' grades
    lo = np.where(known, np.where(abnormal, lo_a, lo_n), np.minimum(lo_n, lo_a))
    hi = np.where(known, np.where(abnormal, hi_a, hi_n), np.maximum(hi_n, hi_a))
    return lo, hi


def _baselines(frame: pd.DataFrame, baseline_day: float) -> pd.Series:
    """Last value on or before ``baseline_day`` per (patient_id, analyte), mapped to rows."""
    pre = frame[frame["day"] <= baseline_day]
    last = pre.groupby(["patient_id", "analyte"], sort=False)["value"].last()
    keys = pd.MultiIndex.from_frame(frame[["patient_id", "analyte"]])
    return pd.Series(last.reindex(keys).to_numpy(dtype=np.float64), index=frame.index)


def _pick(
    sex: npt.NDArray[np.object_],
    male: npt.NDArray[Any],
    female: npt.NDArray[Any],
    unknown: npt.NDArray[Any],
) -> npt.NDArray[Any]:
    return np.where(sex == "M", male, np.where(sex == "F", female, unknown))


def _grade_term(
    term: LabTerm,
    rows: pd.DataFrame,
    sex: npt.NDArray[np.object_],
    ranges: _Ranges,
    missing_baseline: MissingBaseline,
) -> pd.DataFrame:
    n = len(rows)
    value = rows["value"].to_numpy(dtype=np.float64)
    baseline = rows["baseline"].to_numpy(dtype=np.float64)
    ignored = np.isnan(baseline) & (missing_baseline == "ignore_baseline_criteria")
    per_sex: dict[str, tuple[IntArray, IntArray, float, float]] = {}
    for s in _SEXES:
        lln, uln = _limits(ranges, term.analyte, s)
        refs = {"lln": np.full(n, lln), "uln": np.full(n, uln), "baseline": baseline}
        per_sex[s] = (*_grade_one_sex(term, value, refs, ignored), lln, uln)
    lo_m, hi_m, lln_m, uln_m = per_sex["M"]
    lo_f, hi_f, lln_f, uln_f = per_sex["F"]
    # sex unknown: the grade is one of the two; it is determined only if both agree
    lo = _pick(sex, lo_m, lo_f, np.minimum(lo_m, lo_f)).astype(np.int64)
    hi = _pick(sex, hi_m, hi_f, np.maximum(hi_m, hi_f)).astype(np.int64)
    lims = {
        "lln": _pick(
            sex,
            np.full(n, lln_m),
            np.full(n, lln_f),
            np.full(n, lln_m if lln_m == lln_f else np.nan),
        ),
        "uln": _pick(
            sex,
            np.full(n, uln_m),
            np.full(n, uln_f),
            np.full(n, uln_m if uln_m == uln_f else np.nan),
        ),
    }
    return _assemble(term, rows, lo, hi, lims, baseline)


def _assemble(
    term: LabTerm,
    rows: pd.DataFrame,
    lo: IntArray,
    hi: IntArray,
    lims: Mapping[str, FloatArray],
    baseline: FloatArray,
) -> pd.DataFrame:
    grade = pd.array(np.where(lo == hi, lo, 0), dtype="Int64")
    grade[lo != hi] = pd.NA
    criterion = [_criterion_text(term, int(a), int(b)) for a, b in zip(lo, hi, strict=True)]
    return pd.DataFrame(
        {
            "patient_id": rows["patient_id"].to_numpy(),
            "day": rows["day"].to_numpy(),
            "term": term.term,
            "value": rows["value"].to_numpy(dtype=np.float64),
            "unit": term.unit,
            "grade": grade,
            "criterion": criterion,
            "version": term.version,
            "label": term.label,
            "category": term.category,
            "grade_lower_bound": pd.array(lo, dtype="Int64"),
            "grade_upper_bound": pd.array(hi, dtype="Int64"),
            "lln": lims["lln"],
            "uln": lims["uln"],
            "baseline": baseline if term.uses_baseline else np.nan,
        }
    )


def _criterion_text(term: LabTerm, lo: int, hi: int) -> str:
    if lo != hi:
        return f"not gradable: grade {lo}-{hi} depending on a missing LLN/ULN, baseline or sex"
    if lo == 0:
        return "no grade-1 criterion met"
    return f"G{lo}: {term.grade_text[lo]}"


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def grade_lab_aes(
    labs: pd.DataFrame,
    *,
    version: Version | str = "5.0",
    reference_ranges: RangeInput = None,
    sex: SexInput = None,
    after_day: int = 0,
    missing_baseline: MissingBaseline = "not_gradable",
) -> pd.DataFrame:
    """Grade laboratory adverse events by CTCAE v4.03 or v5.0, one row per value and term.

    Parameters
    ----------
    labs
        The data standard's ``labs`` table (``patient_id, day, analyte, value, unit``), values
        in canonical units: haemoglobin g/dL, WBC/ANC/lymphocytes/platelets 10^9/L,
        fibrinogen g/L, ALT/AST/GGT U/L, bilirubin and creatinine mg/dL, albumin g/dL.
        Analytes no term uses are ignored.
    version
        ``"5.0"`` (default) or ``"4.03"``, chosen per cohort.
    reference_ranges
        Limits of normal in canonical units: a DataFrame ``analyte, lln, uln[, sex]`` or a
        mapping ``analyte -> (lln, uln)`` or ``analyte -> {"M": (lln, uln), "F": ...}``.
        ``None`` uses :data:`DEFAULT_REFERENCE_RANGES` (typical adult ranges from textbooks;
        a centre should pass its own). An analyte absent from the mapping has no limits: the
        grades that depend on them are not gradable.
    sex
        ``"M"``/``"F"`` for every patient, a mapping or Series ``patient_id -> sex``, or
        ``None``. When a patient's sex is unknown and the limits differ by sex, a value is
        graded under both and is not gradable only if the two grades differ.
    after_day
        Day of the first infusion. The baseline of each patient and analyte is the last value
        on or before this day; it is used by the baseline-dependent criteria.
    missing_baseline
        ``"not_gradable"`` (default): without a baseline, a grade that a baseline criterion
        could change is not gradable. ``"ignore_baseline_criteria"``: grade such patients on
        the LLN/ULN criteria alone (admiral's behaviour for a missing baseline indicator).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GRADED_COLUMNS`: ``grade`` is ``Int64`` (0 = no grade-1 criterion met,
        ``<NA>`` = not gradable), ``criterion`` the CTCAE text of the grade met, ``version``
        e.g. ``"CTCAE-5.0"``; ``grade_lower_bound``/``grade_upper_bound`` bound a not-gradable
        grade; ``lln``/``uln``/``baseline`` are the references used.

    Raises
    ------
    DerivationError
        If a column is missing, a unit is not canonical (the message names it), an analyte
        is unknown, a patient has two values of one analyte on one day, or an option is
        invalid.

    Notes
    -----
    Each grade is the highest CTCAE criterion met. CTCAE's ``<`` and ``>`` are applied as
    written: a platelet count of exactly 75.0 is grade 1 (``<LLN - 75.0``), not 2
    (``<75.0 - 50.0``); an ALT of exactly 3.0 x ULN is grade 1. Grades that CTCAE defines
    by clinical consequences cannot be seen in labs: anaemia grade 3 is assigned from
    Hgb <8.0 g/dL alone ("transfusion indicated" is not seen) and anaemia and
    hypoalbuminaemia grade 4 ("life-threatening consequences") are never assigned. v5.0's
    "if baseline was abnormal" rules (ALT, AST, GGT, bilirubin; fibrinogen "if abnormal")
    and the baseline criteria of creatinine are applied; see the methods page
    ``docs/methods/ctcae-lab-grading.md``.

    References
    ----------
    National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
    v4.03 (2010) and v5.0 (2017), as transcribed in pharmaverse/admiral.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": ["P1"], "day": [7], "analyte": ["platelets"],
    ...                      "value": [40.0], "unit": ["10^9/L"]})
    >>> g = grade_lab_aes(labs)
    >>> int(g["grade"].iloc[0]), g["criterion"].iloc[0]
    (3, 'G3: <50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L')
    """
    v = _check_version(str(version))
    if missing_baseline not in ("not_gradable", "ignore_baseline_criteria"):
        msg = (
            "`missing_baseline` must be 'not_gradable' or 'ignore_baseline_criteria'; "
            f"got {missing_baseline!r}."
        )
        raise DerivationError(msg)
    terms = LAB_TERMS[v]
    ranges = _resolve_ranges(reference_ranges)
    frame = _prepare_labs(labs, {t.analyte for t in terms})
    frame["baseline"] = _baselines(frame, float(after_day))
    pieces: list[pd.DataFrame] = []
    for term in terms:
        rows = frame[frame["analyte"] == term.analyte]
        if rows.empty:
            continue
        pieces.append(
            _grade_term(term, rows, _sex_per_row(rows["patient_id"], sex), ranges, missing_baseline)
        )
    if not pieces:
        return _empty_graded()
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["patient_id", "day", "term"], kind="mergesort").reset_index(drop=True)


def _empty_graded() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in GRADED_COLUMNS})
    for c in ("grade", "grade_lower_bound", "grade_upper_bound"):
        frame[c] = frame[c].astype("Int64")
    return frame


def _fever_interval(temp: FloatArray) -> tuple[IntArray, IntArray]:
    lo = np.zeros(len(temp), dtype=np.int64)
    lo = np.where(temp >= FEVER_G1_MIN_C, 1, lo)
    lo = np.where(temp > FEVER_G2_ABOVE_C, 2, lo)
    lo = np.where(temp > FEVER_G3_ABOVE_C, 3, lo)
    hi = np.where(temp > FEVER_G3_ABOVE_C, 4, lo)
    missing = np.isnan(temp)
    return np.where(missing, 0, lo), np.where(missing, 4, hi)


def _fn_interval(temp: FloatArray, anc: FloatArray, fn_fever: FnFever) -> tuple[IntArray, IntArray]:
    neutropenic = anc < FN_ANC_BELOW
    febrile = temp > FN_SINGLE_ABOVE_C
    if fn_fever == "any_fever":
        febrile = temp >= FN_SUSTAINED_MIN_C
    present = neutropenic & febrile
    absent = (anc >= FN_ANC_BELOW) | (temp < FN_SUSTAINED_MIN_C)
    if fn_fever == "single_above_38.3":
        absent = absent | (~np.isnan(temp) & ~(temp >= FN_SUSTAINED_MIN_C))
    lo = np.where(present, 3, 0).astype(np.int64)
    hi = np.where(present | ~absent, 3, 0).astype(np.int64)
    return lo, hi


def grade_clinical_aes(
    observations: pd.DataFrame,
    labs: pd.DataFrame | None = None,
    *,
    version: Version | str = "5.0",
    fn_fever: FnFever = "single_above_38.3",
) -> pd.DataFrame:
    """Grade fever and febrile neutropenia by CTCAE from daily observations and the ANC.

    Parameters
    ----------
    observations
        The ``observations`` table (``patient_id, day, temp_c``); ``temp_c`` is the day's
        maximum temperature in °C.
    labs
        The ``labs`` table, for the same day's ANC (10^9/L). Without it only fever is graded.
    version
        ``"5.0"`` (default) or ``"4.03"``; recorded in ``version``.
    fn_fever
        Which temperatures make a neutropenic day febrile. ``"single_above_38.3"`` (default):
        a maximum >38.3 °C ("a single temperature of >38.3 degrees C"); a maximum of
        38.0-38.3 °C is not gradable, because "a sustained temperature of >=38 degrees C for
        more than one hour" cannot be seen in a daily maximum. ``"any_fever"``: any maximum
        >=38.0 °C counts (assumes it was sustained).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GRADED_COLUMNS`, terms ``"Fever"`` and ``"Febrile neutropenia"``;
        ``value`` is the temperature (°C).

    Raises
    ------
    DerivationError
        If a column is missing, ``temp_c`` is not numeric, the ANC is not in 10^9/L, or an
        option is invalid.

    Notes
    -----
    Fever: grade 1 38.0-39.0 °C (inclusive), 2 >39.0-40.0, 3 >40.0 for <=24 h, 4 >40.0
    for >24 h. A day >40.0 °C is not gradable (lower bound 3): a daily maximum does not show
    whether it lasted more than 24 h. Febrile neutropenia is grade 3 ("ANC <1000/mm3 with a
    single temperature of >38.3 degrees C ... or a sustained temperature of >=38 degrees C
    ... for more than one hour"); its grade 4 is clinical and never assigned. The v4.03 and
    v5.0 wording is taken to be that of v6.0, where it was read (see the criteria module).

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"patient_id": ["P1"], "day": [2], "temp_c": [39.5]})
    >>> int(grade_clinical_aes(obs)["grade"].iloc[0])
    2
    """
    v = _check_version(str(version))
    if fn_fever not in ("single_above_38.3", "any_fever"):
        msg = f"`fn_fever` must be 'single_above_38.3' or 'any_fever'; got {fn_fever!r}."
        raise DerivationError(msg)
    obs = _require(observations, ("patient_id", "day", "temp_c"), "observations")
    obs = obs[["patient_id", "day", "temp_c"]].copy()
    try:
        obs["day"] = pd.to_numeric(obs["day"]).astype(np.float64)
        obs["temp_c"] = pd.to_numeric(obs["temp_c"]).astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = "`observations.day` and `observations.temp_c` must be numeric."
        raise DerivationError(msg) from exc
    obs = obs.sort_values(["patient_id", "day"], kind="mergesort").reset_index(drop=True)
    temp = obs["temp_c"].to_numpy(dtype=np.float64)
    pieces = [_clinical_frame(obs, FEVER.term, v, *_fever_interval(temp))]
    if labs is not None:
        anc = _prepare_labs(labs, {"anc"})[["patient_id", "day", "value"]]
        merged = obs.merge(anc, on=["patient_id", "day"], how="left")
        lo, hi = _fn_interval(temp, merged["value"].to_numpy(dtype=np.float64), fn_fever)
        pieces.append(_clinical_frame(obs, FEBRILE_NEUTROPENIA.term, v, lo, hi))
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["patient_id", "day", "term"], kind="mergesort").reset_index(drop=True)


def _clinical_frame(
    obs: pd.DataFrame, name: str, v: str, lo: IntArray, hi: IntArray
) -> pd.DataFrame:
    term = next(t for t in CLINICAL_TERMS if t.term == name)
    grade = pd.array(np.where(lo == hi, lo, 0), dtype="Int64")
    grade[lo != hi] = pd.NA
    criterion = []
    for a, b in zip(lo, hi, strict=True):
        if a != b:
            criterion.append(f"not gradable: grade {a}-{b} (duration or ANC not recorded)")
        elif a == 0:
            criterion.append("no grade criterion met")
        else:
            criterion.append(f"G{a}: {term.grade_text[int(a)]}")
    return pd.DataFrame(
        {
            "patient_id": obs["patient_id"].to_numpy(),
            "day": obs["day"].to_numpy(),
            "term": term.term,
            "value": obs["temp_c"].to_numpy(dtype=np.float64),
            "unit": "°C",
            "grade": grade,
            "criterion": criterion,
            "version": f"CTCAE-{v}",
            "label": term.label,
            "category": term.category,
            "grade_lower_bound": pd.array(lo, dtype="Int64"),
            "grade_upper_bound": pd.array(hi, dtype="Int64"),
            "lln": np.nan,
            "uln": np.nan,
            "baseline": np.nan,
        }
    )


def worst_lab_aes(graded: pd.DataFrame, *, after_day: int = 0) -> pd.DataFrame:
    """Worst CTCAE grade per patient and term after the first infusion.

    Parameters
    ----------
    graded
        Output of :func:`grade_lab_aes` and/or :func:`grade_clinical_aes` (concatenated).
    after_day
        Only rows with ``day > after_day`` count (default 0: after the first infusion; a day-0
        sample is taken as pre-infusion).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WORST_COLUMNS`, one row per patient and term with at least one value
        after ``after_day``. ``grade`` is the worst grade when it is determined: the highest
        known grade is at least as high as any not-gradable day could be; otherwise
        ``<NA>`` with ``grade_lower_bound``/``grade_upper_bound``. ``day_of_worst`` is the
        first day the worst (lower-bound) grade was reached.

    Raises
    ------
    DerivationError
        If ``graded`` lacks a column of :func:`grade_lab_aes`'s output.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({"patient_id": ["P1"] * 3, "day": [0, 5, 9],
    ...                      "analyte": ["anc"] * 3, "value": [2.0, 0.4, 1.2],
    ...                      "unit": ["10^9/L"] * 3})
    >>> w = worst_lab_aes(grade_lab_aes(labs))
    >>> int(w["grade"].iloc[0]), float(w["day_of_worst"].iloc[0])
    (4, 5.0)
    """
    frame = _require(
        graded,
        (
            "patient_id",
            "day",
            "term",
            "label",
            "category",
            "version",
            "grade_lower_bound",
            "grade_upper_bound",
            "grade",
        ),
        "graded",
    )
    frame = frame[pd.to_numeric(frame["day"]) > after_day]
    if frame.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in WORST_COLUMNS})
        for c in ("grade", "grade_lower_bound", "grade_upper_bound"):
            empty[c] = empty[c].astype("Int64")
        return empty
    frame = frame.assign(
        _lo=frame["grade_lower_bound"].astype("int64"),
        _hi=frame["grade_upper_bound"].astype("int64"),
        _ng=frame["grade"].isna(),
    )
    keys = ["patient_id", "term"]
    g = frame.groupby(keys, sort=True)
    out = g.agg(
        label=("label", "first"),
        category=("category", "first"),
        version=("version", "first"),
        grade_lower_bound=("_lo", "max"),
        grade_upper_bound=("_hi", "max"),
        n_values=("_lo", "size"),
        n_not_gradable=("_ng", "sum"),
    ).reset_index()
    worst_lo = out[[*keys, "grade_lower_bound"]].rename(columns={"grade_lower_bound": "_worst"})
    at_worst = frame.merge(worst_lo, on=keys)
    at_worst = at_worst[at_worst["_lo"] == at_worst["_worst"]]
    first_day = at_worst.groupby(keys, sort=True)["day"].min()
    out["day_of_worst"] = first_day.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    lo = out["grade_lower_bound"].to_numpy(dtype=np.int64)
    hi = out["grade_upper_bound"].to_numpy(dtype=np.int64)
    grade = pd.array(lo, dtype="Int64")
    grade[lo != hi] = pd.NA
    out["grade"] = grade
    out["day_of_worst"] = out["day_of_worst"].where(out["grade_lower_bound"] > 0)
    for c in ("grade_lower_bound", "grade_upper_bound", "n_values", "n_not_gradable"):
        out[c] = out[c].astype("Int64")
    return out[list(WORST_COLUMNS)]


def _merge_reported(worst: pd.DataFrame, reported: pd.DataFrame | None) -> pd.DataFrame:
    """Take derived grades where determined, otherwise the reported grade (label or term)."""
    base = worst[["patient_id", "label", "category", "grade"]].copy()
    base["source"] = "derived"
    if reported is None:
        return base
    rep = _require(reported, ("patient_id", "term", "grade"), "reported")
    labels = [_TERM_INFO.get(str(x).lower(), (str(x), "")) for x in rep["term"]]
    rep = pd.DataFrame(
        {
            "patient_id": rep["patient_id"].to_numpy(),
            "label": [lab for lab, _ in labels],
            "category": [cat for _, cat in labels],
            "grade": pd.array(pd.to_numeric(rep["grade"]), dtype="Int64"),
            "source": "reported",
        }
    )
    rep = rep.sort_values("grade", na_position="first").drop_duplicates(
        ["patient_id", "label"], keep="last"
    )
    known = base[base["grade"].notna()]
    keep = rep.merge(known[["patient_id", "label"]], how="left", indicator=True)
    keep = keep[keep["_merge"] == "left_only"].drop(columns="_merge")
    unknown_base = base[base["grade"].isna()].merge(
        keep[["patient_id", "label"]], how="left", indicator=True
    )
    unknown_base = unknown_base[unknown_base["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([known, unknown_base, keep], ignore_index=True)


def ae_grade_table(
    worst: pd.DataFrame,
    *,
    n_patients: int,
    terms: Sequence[str] | None = None,
    reported: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Adverse events by worst grade, as in seed 002's Table 3 (n and % of the cohort).

    Parameters
    ----------
    worst
        Output of :func:`worst_lab_aes` (lab and clinical terms). Other terms graded
        elsewhere (e.g. CRS) can be appended with columns ``patient_id, label, category,
        grade``.
    n_patients
        Size of the cohort: the denominator of every percentage, as in seed 002 (14 patients;
        a patient without a value of a term counts as not having it).
    terms
        Labels (``"Thrombocytopenia"``) or CTCAE terms to show, in this order; default all
        terms present, in :data:`TABLE_ORDER`.
    reported
        Optional reported-AE table ``patient_id, term, grade`` (term = label or CTCAE term),
        used for a patient and term whose grade could not be derived from the data.

    Returns
    -------
    pandas.DataFrame
        One row per term: ``category, term, n_patients, n_grade_1 ... n_grade_4,
        pct_grade_1 ... pct_grade_4, n_any, pct_any, n_not_gradable, n_reported``. Each
        patient is counted once, at the worst grade; percentages are unrounded (rounding
        belongs to rendering).

    Raises
    ------
    DerivationError
        If ``n_patients`` is smaller than the number of patients in ``worst``.

    Examples
    --------
    >>> import pandas as pd
    >>> worst = pd.DataFrame({"patient_id": ["P1", "P2"], "label": ["Anemia", "Anemia"],
    ...                       "category": ["Hematological event"] * 2,
    ...                       "grade": pd.array([2, 0], dtype="Int64")})
    >>> t = ae_grade_table(worst, n_patients=4)
    >>> int(t["n_grade_2"].iloc[0]), float(t["pct_grade_2"].iloc[0])
    (1, 25.0)
    """
    frame = _require(worst, ("patient_id", "label", "category", "grade"), "worst")
    n_seen = pd.concat(
        [frame["patient_id"], reported["patient_id"] if reported is not None else pd.Series()]
    ).nunique()
    if int(n_patients) < n_seen:
        msg = f"`n_patients` ({n_patients}) is smaller than the {n_seen} patients in the data."
        raise DerivationError(msg)
    merged = _merge_reported(frame, reported)
    order = _table_order(merged, terms)
    rows = [_table_row(merged[merged["label"] == lab], lab, int(n_patients)) for lab in order]
    return pd.DataFrame(rows)


def _table_order(merged: pd.DataFrame, terms: Sequence[str] | None) -> list[str]:
    if terms is None:
        present = list(dict.fromkeys(merged["label"]))
        ranked = [t for t in TABLE_ORDER if t in present]
        return ranked + [t for t in present if t not in ranked]
    return [_TERM_INFO.get(str(t).lower(), (str(t), ""))[0] for t in terms]


def _table_row(sub: pd.DataFrame, label: str, n: int) -> dict[str, object]:
    cats = sub["category"].dropna()
    row: dict[str, object] = {
        "category": cats.iloc[0] if len(cats) else _TERM_INFO.get(label.lower(), ("", ""))[1],
        "term": label,
        "n_patients": n,
    }
    grades = sub["grade"]
    for g in (1, 2, 3, 4):
        count = int((grades == g).sum())
        row[f"n_grade_{g}"] = count
        row[f"pct_grade_{g}"] = 100.0 * count / n
    any_ = int((grades >= 1).sum())
    row["n_any"] = any_
    row["pct_any"] = 100.0 * any_ / n
    row["n_not_gradable"] = int(grades.isna().sum())
    row["n_reported"] = int((sub["source"] == "reported").sum())
    return row


__all__ = [
    "DEFAULT_REFERENCE_RANGES",
    "GRADED_COLUMNS",
    "TABLE_ORDER",
    "WORST_COLUMNS",
    "ae_grade_table",
    "grade_clinical_aes",
    "grade_lab_aes",
    "worst_lab_aes",
]
