"""CTCAE v4.03 / v5.0 laboratory and clinical AE grading: one parametrized table per term.

Each case quotes the CTCAE grade text it checks (verbatim as transcribed in
pharmaverse/admiral ``ncictcaev4.json`` / ``ncictcaev5.json``; fever and febrile
neutropenia from the CTCAE v6.0 wording, see ``criteria/ctcae_labs.py``). ``None`` = not
gradable. Tests pass explicit limits of normal so that they do not depend on the defaults.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity.criteria.ctcae_labs import LAB_TERMS
from cartcohort.derive.toxicity.ctcae import (
    DEFAULT_REFERENCE_RANGES,
    GRADED_COLUMNS,
    WORST_COLUMNS,
    ae_grade_table,
    grade_clinical_aes,
    grade_lab_aes,
    worst_lab_aes,
)
from cartcohort.errors import DerivationError
from cartcohort.model.standard import ANALYTE_BY_NAME

RANGES: dict[str, Any] = {
    "platelets": (150.0, 400.0),
    "anc": (2.0, 7.5),
    "wbc": (4.0, 11.0),
    "alc": (1.0, 4.0),
    "haemoglobin": {"M": (13.0, 17.0), "F": (12.0, 15.0)},
    "fibrinogen": (2.0, 4.0),
    "alt": (0.0, 40.0),
    "ast": (0.0, 40.0),
    "ggt": (0.0, 50.0),
    "bilirubin": (0.1, 1.2),
    "creatinine": (0.5, 1.0),
    "albumin": (3.5, 5.0),
}


def labs_frame(analyte: str, value: float, baseline: float | None) -> pd.DataFrame:
    unit = ANALYTE_BY_NAME[analyte].unit
    rows = [{"patient_id": "P1", "day": 7, "analyte": analyte, "value": value, "unit": unit}]
    if baseline is not None:
        rows.insert(
            0, {"patient_id": "P1", "day": 0, "analyte": analyte, "value": baseline, "unit": unit}
        )
    return pd.DataFrame(rows)


def grade_of(
    analyte: str,
    value: float,
    baseline: float | None = None,
    *,
    version: str = "5.0",
    **kwargs: Any,
) -> int | None:
    kwargs.setdefault("reference_ranges", RANGES)
    kwargs.setdefault("sex", "M")
    graded = grade_lab_aes(labs_frame(analyte, value, baseline), version=version, **kwargs)
    g = graded.loc[graded["day"] == 7, "grade"].iloc[0]
    return None if pd.isna(g) else int(g)


# ---------------------------------------------------------------------------------------------
# Cytopenias: "<LLN - x" for grade 1, absolute limits for grades 2-4 (v4.03 = v5.0)
# ---------------------------------------------------------------------------------------------

CYTOPENIA_CASES = [
    # Platelet count decreased: "<LLN - 75.0 x 10e9 /L"; "<75.0 - 50.0 x 10e9 /L";
    # "<50.0 - 25.0 x 10e9 /L"; "<25.0 x 10e9 /L"  (LLN 150)
    pytest.param("platelets", 150.0, 0, id="plt-150-at-LLN-grade-0"),
    pytest.param("platelets", 149.9, 1, id="plt-149.9-below-LLN-grade-1"),
    pytest.param("platelets", 75.0, 1, id="plt-75.0-not-<75-grade-1"),
    pytest.param("platelets", 74.9, 2, id="plt-74.9-grade-2"),
    pytest.param("platelets", 50.0, 2, id="plt-50.0-grade-2"),
    pytest.param("platelets", 49.9, 3, id="plt-49.9-grade-3"),
    pytest.param("platelets", 25.0, 3, id="plt-25.0-grade-3"),
    pytest.param("platelets", 24.9, 4, id="plt-24.9-grade-4"),
    # Neutrophil count decreased: "<LLN - 1.5 x 10e9 /L"; "<1.5 - 1.0 x 10e9 /L";
    # "<1.0 - 0.5 x 10e9 /L"; "<0.5 x 10e9 /L"  (LLN 2.0)
    pytest.param("anc", 2.0, 0, id="anc-2.0-at-LLN-grade-0"),
    pytest.param("anc", 1.5, 1, id="anc-1.5-grade-1"),
    pytest.param("anc", 1.49, 2, id="anc-1.49-grade-2"),
    pytest.param("anc", 1.0, 2, id="anc-1.0-grade-2"),
    pytest.param("anc", 0.99, 3, id="anc-0.99-grade-3"),
    pytest.param("anc", 0.5, 3, id="anc-0.5-grade-3"),
    pytest.param("anc", 0.49, 4, id="anc-0.49-grade-4"),
    # Lymphocyte count decreased: "<LLN - 0.8 x 10e9/L"; "<0.8 - 0.5 x 10e9 /L";
    # "<0.5 - 0.2 x 10e9 /L"; "<0.2 x 10e9 /L"  (LLN 1.0)
    pytest.param("alc", 0.8, 1, id="alc-0.8-grade-1"),
    pytest.param("alc", 0.79, 2, id="alc-0.79-grade-2"),
    pytest.param("alc", 0.49, 3, id="alc-0.49-grade-3"),
    pytest.param("alc", 0.2, 3, id="alc-0.2-grade-3"),
    pytest.param("alc", 0.19, 4, id="alc-0.19-grade-4"),
    # White blood cell decreased: "<LLN - 3.0 x 10e9 /L"; "<3.0 - 2.0 x 10e9 /L";
    # "<2.0 - 1.0 x 10e9 /L"; "<1.0 x 10e9 /L"  (LLN 4.0)
    pytest.param("wbc", 3.0, 1, id="wbc-3.0-grade-1"),
    pytest.param("wbc", 2.99, 2, id="wbc-2.99-grade-2"),
    pytest.param("wbc", 1.99, 3, id="wbc-1.99-grade-3"),
    pytest.param("wbc", 1.0, 3, id="wbc-1.0-grade-3"),
    pytest.param("wbc", 0.99, 4, id="wbc-0.99-grade-4"),
    # Anemia: "Hgb <LLN - 10.0 g/dL"; "Hgb <10.0 - 8.0 g/dL"; "Hgb <8.0 g/dL; transfusion
    # indicated" (graded from Hgb alone); grade 4 "Life-threatening consequences" never from
    # labs  (male LLN 13.0)
    pytest.param("haemoglobin", 13.0, 0, id="hb-13.0-at-LLN-grade-0"),
    pytest.param("haemoglobin", 10.0, 1, id="hb-10.0-grade-1"),
    pytest.param("haemoglobin", 9.99, 2, id="hb-9.99-grade-2"),
    pytest.param("haemoglobin", 8.0, 2, id="hb-8.0-grade-2"),
    pytest.param("haemoglobin", 7.99, 3, id="hb-7.99-grade-3-from-hb-alone"),
    pytest.param("haemoglobin", 4.0, 3, id="hb-4.0-still-grade-3-no-lab-grade-4"),
    # Hypoalbuminemia: "<LLN - 3 g/dL"; "<3 - 2 g/dL"; "<2 g/dL"; grade 4 clinical (LLN 3.5)
    pytest.param("albumin", 3.0, 1, id="alb-3.0-grade-1"),
    pytest.param("albumin", 2.99, 2, id="alb-2.99-grade-2"),
    pytest.param("albumin", 2.0, 2, id="alb-2.0-grade-2"),
    pytest.param("albumin", 1.99, 3, id="alb-1.99-grade-3"),
    pytest.param("albumin", 1.0, 3, id="alb-1.0-no-lab-grade-4"),
]


@pytest.mark.parametrize("version", ["4.03", "5.0"])
@pytest.mark.parametrize(("analyte", "value", "expected"), CYTOPENIA_CASES)
def test_decrease_terms(analyte: str, value: float, expected: int, version: str) -> None:
    assert grade_of(analyte, value, version=version) == expected


# ---------------------------------------------------------------------------------------------
# Fibrinogen decreased
# ---------------------------------------------------------------------------------------------

FIBRINOGEN_CASES = [
    # v5.0 "<1.0 - 0.75 x LLN"; "<0.75 - 0.5 x LLN"; "<0.5 - 0.25 x LLN"; "<0.25 x LLN ...;
    # absolute value <50 mg/dL"  (LLN 2.0 g/L, baseline normal 3.0)
    pytest.param("5.0", 1.99, 3.0, 1, id="v5-1.99-grade-1"),
    pytest.param("5.0", 1.5, 3.0, 1, id="v5-1.5-is-0.75xLLN-grade-1"),
    pytest.param("5.0", 1.49, 3.0, 2, id="v5-1.49-grade-2"),
    pytest.param("5.0", 0.99, 3.0, 3, id="v5-0.99-grade-3"),
    pytest.param("5.0", 0.5, 3.0, 3, id="v5-0.5-not-<0.25xLLN-nor-<50mg/dL-grade-3"),
    pytest.param("5.0", 0.49, 3.0, 4, id="v5-0.49-grade-4"),
    # v5.0 "if abnormal, <25% decrease from baseline": a fall within the normal range from a
    # normal baseline is not graded in v5.0 ...
    pytest.param("5.0", 2.5, 4.0, 0, id="v5-normal-baseline-37.5pct-fall-grade-0"),
    # ... but v4.03 says "<1.0 - 0.75 x LLN or <25% decrease from baseline" and
    # "25 - <50% decrease from baseline" (grade 2): 25% exactly is grade 2
    pytest.param("4.03", 2.5, 4.0, 2, id="v4-37.5pct-fall-grade-2"),
    pytest.param("4.03", 3.0, 4.0, 2, id="v4-25pct-fall-exactly-grade-2"),
    pytest.param("4.03", 3.01, 4.0, 1, id="v4-24.75pct-fall-grade-1"),
    pytest.param("4.03", 4.0, 4.0, 0, id="v4-no-fall-grade-0"),
    # v4.03 "50 - <75% decrease from baseline" = grade 3
    pytest.param("4.03", 2.0, 4.0, 3, id="v4-50pct-fall-grade-3"),
]


@pytest.mark.parametrize(("version", "value", "baseline", "expected"), FIBRINOGEN_CASES)
def test_fibrinogen(version: str, value: float, baseline: float, expected: int) -> None:
    assert grade_of("fibrinogen", value, baseline, version=version) == expected


def test_fibrinogen_absolute_50_mg_dl_is_grade_4() -> None:
    # "absolute value <50 mg/dL" (0.5 g/L) is grade 4 even when 0.25 x LLN is lower
    ranges = {**RANGES, "fibrinogen": (1.5, 4.0)}
    assert grade_of("fibrinogen", 0.45, 3.0, reference_ranges=ranges) == 4


# ---------------------------------------------------------------------------------------------
# ALT / AST / GGT / bilirubin: v4.03 multiples of ULN; v5.0 baseline-dependent
# ---------------------------------------------------------------------------------------------

LIVER_CASES = [
    # v5.0 ALT, baseline normal (30 <= ULN 40): ">ULN - 3.0 x ULN if baseline was normal";
    # ">3.0 - 5.0 x ULN"; ">5.0 - 20.0 x ULN"; ">20.0 x ULN"
    pytest.param("alt", "5.0", 40.0, 30.0, 0, id="alt-v5-at-ULN-grade-0"),
    pytest.param("alt", "5.0", 40.1, 30.0, 1, id="alt-v5-40.1-grade-1"),
    pytest.param("alt", "5.0", 120.0, 30.0, 1, id="alt-v5-3.0xULN-exactly-grade-1"),
    pytest.param("alt", "5.0", 120.1, 30.0, 2, id="alt-v5-120.1-grade-2"),
    pytest.param("alt", "5.0", 200.1, 30.0, 3, id="alt-v5-200.1-grade-3"),
    pytest.param("alt", "5.0", 800.0, 30.0, 3, id="alt-v5-20xULN-exactly-grade-3"),
    pytest.param("alt", "5.0", 800.1, 30.0, 4, id="alt-v5-800.1-grade-4"),
    # v5.0 ALT, baseline abnormal (60 > ULN 40): "1.5 - 3.0 x baseline if baseline was
    # abnormal"; ">3.0 - 5.0 x baseline"; ">5.0 - 20.0 x baseline"; ">20.0 x baseline"
    pytest.param("alt", "5.0", 89.9, 60.0, 0, id="alt-v5-abn-1.49xBL-grade-0"),
    pytest.param("alt", "5.0", 90.0, 60.0, 1, id="alt-v5-abn-1.5xBL-grade-1"),
    pytest.param("alt", "5.0", 130.0, 60.0, 1, id="alt-v5-abn-130-grade-1"),
    pytest.param("alt", "5.0", 180.1, 60.0, 2, id="alt-v5-abn-180.1-grade-2"),
    pytest.param("alt", "5.0", 300.1, 60.0, 3, id="alt-v5-abn-300.1-grade-3"),
    pytest.param("alt", "5.0", 1200.1, 60.0, 4, id="alt-v5-abn-1200.1-grade-4"),
    # v4.03 ALT has no baseline rule: ">3.0 - 5.0 x ULN" (130 > 120)
    pytest.param("alt", "4.03", 130.0, 60.0, 2, id="alt-v4-130-grade-2-ignores-baseline"),
    # AST v5.0 uses the same wording as ALT
    pytest.param("ast", "5.0", 90.0, 60.0, 1, id="ast-v5-abn-1.5xBL-grade-1"),
    # GGT v5.0 (ULN 50): "2.0 - 2.5 x baseline if baseline was abnormal"; ">2.5 - 5.0 x
    # baseline"; normal baseline ">ULN - 2.5 x ULN"; ">2.5 - 5.0 x ULN"
    pytest.param("ggt", "5.0", 119.9, 60.0, 0, id="ggt-v5-abn-1.99xBL-grade-0"),
    pytest.param("ggt", "5.0", 120.0, 60.0, 1, id="ggt-v5-abn-2.0xBL-grade-1"),
    pytest.param("ggt", "5.0", 150.1, 60.0, 2, id="ggt-v5-abn-150.1-grade-2"),
    pytest.param("ggt", "5.0", 125.0, 40.0, 1, id="ggt-v5-normal-2.5xULN-grade-1"),
    pytest.param("ggt", "5.0", 125.1, 40.0, 2, id="ggt-v5-normal-125.1-grade-2"),
    pytest.param("ggt", "4.03", 125.1, 60.0, 2, id="ggt-v4-125.1-grade-2"),
    # Blood bilirubin increased v5.0 (ULN 1.2): "> 1.0 - 1.5 x baseline if baseline was
    # abnormal"; ">1.5 - 3.0 x baseline"; normal ">ULN - 1.5 x ULN"; ">1.5 - 3.0 x ULN"
    pytest.param("bilirubin", "5.0", 1.5, 1.5, 0, id="bili-v5-abn-equal-baseline-grade-0"),
    pytest.param("bilirubin", "5.0", 1.51, 1.5, 1, id="bili-v5-abn-above-baseline-grade-1"),
    pytest.param("bilirubin", "5.0", 2.26, 1.5, 2, id="bili-v5-abn-2.26-grade-2"),
    pytest.param("bilirubin", "5.0", 1.8, 0.8, 1, id="bili-v5-normal-1.5xULN-grade-1"),
    pytest.param("bilirubin", "5.0", 1.81, 0.8, 2, id="bili-v5-normal-1.81-grade-2"),
    pytest.param("bilirubin", "4.03", 12.01, 0.8, 4, id="bili-v4-above-10xULN-grade-4"),
]


@pytest.mark.parametrize(("analyte", "version", "value", "baseline", "expected"), LIVER_CASES)
def test_liver_terms(
    analyte: str, version: str, value: float, baseline: float, expected: int
) -> None:
    assert grade_of(analyte, value, baseline, version=version) == expected


# ---------------------------------------------------------------------------------------------
# Creatinine increased
# ---------------------------------------------------------------------------------------------

CREATININE_CASES = [
    # v5.0: ">ULN - 1.5 x ULN"; ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN";
    # ">3.0 baseline; >3.0 - 6.0 x ULN"; ">6.0 x ULN"  (ULN 1.0, baseline 0.6)
    pytest.param("5.0", 0.9, 0, id="v5-0.9-is-1.5xBL-grade-0"),
    pytest.param("5.0", 0.91, 2, id="v5-0.91-above-1.5xBL-grade-2-below-ULN"),
    pytest.param("5.0", 1.8, 2, id="v5-1.8-is-3xBL-grade-2"),
    pytest.param("5.0", 1.81, 3, id="v5-1.81-above-3xBL-grade-3"),
    pytest.param("5.0", 6.0, 3, id="v5-6.0xULN-exactly-grade-3"),
    pytest.param("5.0", 6.01, 4, id="v5-6.01-grade-4"),
    # v4.03 adds ">1 - 1.5 x baseline" to grade 1
    pytest.param("4.03", 0.6, 0, id="v4-equal-baseline-grade-0"),
    pytest.param("4.03", 0.61, 1, id="v4-0.61-above-baseline-grade-1"),
    pytest.param("5.0", 0.61, 0, id="v5-0.61-no-baseline-grade-1-rule"),
]


@pytest.mark.parametrize(("version", "value", "expected"), CREATININE_CASES)
def test_creatinine(version: str, value: float, expected: int) -> None:
    assert grade_of("creatinine", value, 0.6, version=version) == expected


# ---------------------------------------------------------------------------------------------
# Not gradable: missing LLN/ULN, baseline, sex
# ---------------------------------------------------------------------------------------------

NO_PLT = {"reference_ranges": {k: v for k, v in RANGES.items() if k != "platelets"}}
NO_ALT = {"reference_ranges": {k: v for k, v in RANGES.items() if k != "alt"}}

NOT_GRADABLE_CASES = [
    # "<LLN - 75.0": without an LLN, 120 could be grade 0 or 1 ...
    pytest.param("platelets", 120.0, None, NO_PLT, None, id="plt-no-LLN-120-not-gradable"),
    # ... but "<75.0 - 50.0" needs no LLN
    pytest.param("platelets", 70.0, None, NO_PLT, 2, id="plt-no-LLN-70-grade-2"),
    pytest.param("alt", 100.0, 30.0, NO_ALT, None, id="alt-no-ULN-not-gradable"),
    # v5.0 ALT without a baseline: grade 2 if the baseline was normal, unknown if abnormal
    pytest.param("alt", 130.0, None, {}, None, id="alt-v5-no-baseline-not-gradable"),
    # ... a value <= ULN cannot be >= 1.5 x a baseline above the ULN: grade 0 either way
    pytest.param("alt", 35.0, None, {}, 0, id="alt-v5-no-baseline-normal-value-grade-0"),
    pytest.param(
        "alt",
        130.0,
        None,
        {"missing_baseline": "ignore_baseline_criteria"},
        2,
        id="alt-v5-no-baseline-ignored-grade-2",
    ),
    # creatinine ">1.5 - 3.0 x baseline" could apply to any value without a baseline ...
    pytest.param("creatinine", 0.8, None, {}, None, id="creat-no-baseline-not-gradable"),
    # ... but ">6.0 x ULN" is grade 4 whatever the baseline
    pytest.param("creatinine", 7.0, None, {}, 4, id="creat-no-baseline-7.0-grade-4"),
    # haemoglobin LLN 13.0 (M) / 12.0 (F): 12.5 is grade 1 in a man, 0 in a woman
    pytest.param("haemoglobin", 12.5, None, {"sex": None}, None, id="hb-sex-unknown-ambiguous"),
    pytest.param("haemoglobin", 12.5, None, {"sex": "F"}, 0, id="hb-female-grade-0"),
    pytest.param("haemoglobin", 9.0, None, {"sex": None}, 2, id="hb-sex-unknown-agree-grade-2"),
]


@pytest.mark.parametrize(("analyte", "value", "baseline", "kwargs", "expected"), NOT_GRADABLE_CASES)
def test_not_gradable(
    analyte: str, value: float, baseline: float | None, kwargs: dict[str, Any], expected: int | None
) -> None:
    assert grade_of(analyte, value, baseline, **kwargs) == expected


def test_not_gradable_row_keeps_its_bounds() -> None:
    graded = grade_lab_aes(labs_frame("platelets", 120.0, None), reference_ranges={}, sex="M").iloc[
        0
    ]
    assert pd.isna(graded["grade"])
    assert (graded["grade_lower_bound"], graded["grade_upper_bound"]) == (0, 1)
    assert graded["criterion"].startswith("not gradable")


# ---------------------------------------------------------------------------------------------
# Output, units, options
# ---------------------------------------------------------------------------------------------


def test_output_columns_and_criterion_text() -> None:
    graded = grade_lab_aes(labs_frame("platelets", 40.0, None), reference_ranges=RANGES)
    assert tuple(graded.columns) == GRADED_COLUMNS
    row = graded.iloc[0]
    assert row["version"] == "CTCAE-5.0"
    assert row["term"] == "Platelet count decreased"
    assert row["criterion"] == "G3: <50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L"
    assert graded["grade"].dtype == "Int64"


def test_non_canonical_unit_is_refused_and_named() -> None:
    labs = labs_frame("platelets", 40000.0, None).assign(unit="/uL")
    with pytest.raises(DerivationError, match=r"'/uL'"):
        grade_lab_aes(labs)


def test_aliases_and_other_analytes() -> None:
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "day": [3, 3],
            "analyte": ["PLT", "il6"],
            "value": [40.0, 100.0],
            "unit": ["10^9/L", "pg/mL"],
        }
    )
    graded = grade_lab_aes(labs, reference_ranges=RANGES)
    assert list(graded["term"]) == ["Platelet count decreased"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"version": "3.0"}, "version", id="bad-version"),
        pytest.param({"missing_baseline": "guess"}, "missing_baseline", id="bad-option"),
        pytest.param({"sex": "X"}, "sex", id="bad-sex"),
        pytest.param({"reference_ranges": {"platelets": (150.0,)}}, "reference_ranges", id="rr"),
    ],
)
def test_invalid_options(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(DerivationError, match=match):
        grade_lab_aes(labs_frame("platelets", 40.0, None), **kwargs)


def test_duplicate_day_is_refused() -> None:
    labs = pd.concat([labs_frame("anc", 1.0, None)] * 2)
    with pytest.raises(DerivationError, match="More than one"):
        grade_lab_aes(labs)


def test_reference_ranges_as_frame_with_sex() -> None:
    ranges = pd.DataFrame(
        {
            "analyte": ["haemoglobin", "haemoglobin"],
            "sex": ["M", "F"],
            "lln": [13.0, 12.0],
            "uln": [17.0, 15.0],
        }
    )
    labs = pd.concat(
        [labs_frame("haemoglobin", 12.5, None), labs_frame("haemoglobin", 12.5, None)]
    ).assign(patient_id=["A", "B"])
    graded = grade_lab_aes(labs, reference_ranges=ranges, sex={"A": "M", "B": "F"})
    assert list(graded["grade"]) == [1, 0]
    assert list(graded["lln"]) == [13.0, 12.0]


def test_default_reference_ranges_cover_every_term() -> None:
    analytes = set(DEFAULT_REFERENCE_RANGES["analyte"])
    for terms in LAB_TERMS.values():
        assert {t.analyte for t in terms} <= analytes
    assert DEFAULT_REFERENCE_RANGES["source"].str.len().gt(0).all()


# ---------------------------------------------------------------------------------------------
# Fever and febrile neutropenia
# ---------------------------------------------------------------------------------------------

FEVER_CASES = [
    # "38.0 - 39.0 degrees C"; ">39.0 - 40.0 degrees C"; ">40.0 degrees C for <=24 hrs" (3) /
    # ">40.0 degrees C for >24 hrs" (4): a daily maximum cannot show the duration
    pytest.param(37.9, 0, id="37.9-no-fever"),
    pytest.param(38.0, 1, id="38.0-grade-1"),
    pytest.param(39.0, 1, id="39.0-grade-1"),
    pytest.param(39.1, 2, id="39.1-grade-2"),
    pytest.param(40.0, 2, id="40.0-grade-2"),
    pytest.param(40.1, None, id="40.1-grade-3-or-4-not-gradable"),
    pytest.param(np.nan, None, id="missing-not-gradable"),
]


@pytest.mark.parametrize(("temp", "expected"), FEVER_CASES)
def test_fever(temp: float, expected: int | None) -> None:
    obs = pd.DataFrame({"patient_id": ["P1"], "day": [2], "temp_c": [temp]})
    g = grade_clinical_aes(obs)["grade"].iloc[0]
    assert (None if pd.isna(g) else int(g)) == expected


FN_CASES = [
    # "ANC <1000/mm3 with a single temperature of >38.3 degrees C (101 degrees F) or a
    # sustained temperature of >=38 degrees C (100.4 degrees F) for more than one hour"
    pytest.param(0.9, 38.4, "single_above_38.3", 3, id="anc-0.9-38.4-grade-3"),
    pytest.param(0.9, 38.3, "single_above_38.3", None, id="anc-0.9-38.3-sustained-unknown"),
    pytest.param(0.9, 38.0, "any_fever", 3, id="anc-0.9-38.0-any-fever-grade-3"),
    pytest.param(0.9, 37.9, "any_fever", 0, id="anc-0.9-afebrile-grade-0"),
    pytest.param(1.0, 39.5, "single_above_38.3", 0, id="anc-1.0-not-<1000-grade-0"),
    pytest.param(np.nan, 37.0, "single_above_38.3", 0, id="no-anc-afebrile-grade-0"),
    pytest.param(np.nan, 39.0, "single_above_38.3", None, id="no-anc-febrile-not-gradable"),
]


@pytest.mark.parametrize(("anc", "temp", "mode", "expected"), FN_CASES)
def test_febrile_neutropenia(anc: float, temp: float, mode: str, expected: int | None) -> None:
    obs = pd.DataFrame({"patient_id": ["P1"], "day": [2], "temp_c": [temp]})
    labs = pd.DataFrame(
        {"patient_id": ["P1"], "day": [2], "analyte": ["anc"], "value": [anc], "unit": ["10^9/L"]}
    )
    graded = grade_clinical_aes(obs, labs, fn_fever=mode)  # type: ignore[arg-type]
    g = graded.loc[graded["term"] == "Febrile neutropenia", "grade"].iloc[0]
    assert (None if pd.isna(g) else int(g)) == expected


# ---------------------------------------------------------------------------------------------
# Worst grade per patient and the Table-3-shaped summary
# ---------------------------------------------------------------------------------------------


def cohort_labs() -> pd.DataFrame:
    rows = [
        # P1: ANC 2.5 at baseline (day 0, excluded), nadir 0.4 on day 5 -> grade 4
        ("P1", 0, "anc", 2.5),
        ("P1", 5, "anc", 0.4),
        ("P1", 9, "anc", 1.2),
        ("P1", 5, "platelets", 140.0),
        # P2: ANC 1.2 -> grade 2; platelets 60 -> grade 2
        ("P2", -3, "anc", 0.3),
        ("P2", 4, "anc", 1.2),
        ("P2", 4, "platelets", 60.0),
        # P3: ANC normal; platelets 20 -> grade 4
        ("P3", 7, "anc", 3.0),
        ("P3", 7, "platelets", 20.0),
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value"])
    frame["unit"] = "10^9/L"
    return frame


def test_worst_excludes_day_0_and_finds_nadir_day() -> None:
    worst = worst_lab_aes(grade_lab_aes(cohort_labs(), reference_ranges=RANGES))
    assert tuple(worst.columns) == WORST_COLUMNS
    anc = worst[worst["term"] == "Neutrophil count decreased"].set_index("patient_id")
    assert anc["grade"].to_dict() == {"P1": 4, "P2": 2, "P3": 0}
    assert anc.loc["P1", "day_of_worst"] == 5.0
    assert anc.loc["P2", "n_values"] == 1  # day -3 is before the infusion


def test_worst_not_gradable_only_if_it_could_change_the_worst() -> None:
    graded = grade_lab_aes(cohort_labs(), reference_ranges={})  # no LLN at all
    worst = worst_lab_aes(graded).set_index(["patient_id", "term"])
    # P1 reached grade 4 on day 5: a day with unknown grade 0-1 cannot change that
    assert worst.loc[("P1", "Neutrophil count decreased"), "grade"] == 4
    # P3's ANC 3.0 is grade 0 or 1 without an LLN: the worst is not gradable
    assert pd.isna(worst.loc[("P3", "Neutrophil count decreased"), "grade"])


def test_ae_grade_table_counts_each_patient_once_as_pct_of_cohort() -> None:
    worst = worst_lab_aes(grade_lab_aes(cohort_labs(), reference_ranges=RANGES))
    table = ae_grade_table(worst, n_patients=4).set_index("term")
    assert list(table.index) == ["Neutropenia", "Thrombocytopenia"]  # Table 3 order
    neut = table.loc["Neutropenia"]
    assert (neut["n_grade_1"], neut["n_grade_2"], neut["n_grade_3"], neut["n_grade_4"]) == (
        0,
        1,
        0,
        1,
    )
    assert neut["pct_grade_4"] == pytest.approx(25.0, rel=1e-12)  # 1 of 4 patients
    plt = table.loc["Thrombocytopenia"]
    assert (plt["n_grade_1"], plt["n_grade_2"], plt["n_grade_4"]) == (1, 1, 1)
    assert plt["pct_any"] == pytest.approx(75.0, rel=1e-12)
    assert table.loc["Neutropenia", "category"] == "Hematological event"


def test_ae_grade_table_seed_002_percentages() -> None:
    # seed 002 Table 3, 14 patients: "Anemia 28.6 / 28.6 / 7.1 / 7.1" = 4, 4, 1, 1 patients
    grades = [1] * 4 + [2] * 4 + [3, 4] + [0] * 4
    worst = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(14)],
            "label": "Anemia",
            "category": "Hematological event",
            "grade": pd.array(grades, dtype="Int64"),
        }
    )
    row = ae_grade_table(worst, n_patients=14).iloc[0]
    pct = [round(row[f"pct_grade_{g}"], 1) for g in (1, 2, 3, 4)]
    assert pct == [28.6, 28.6, 7.1, 7.1]


def test_ae_grade_table_uses_reported_grade_where_not_derivable() -> None:
    obs = pd.DataFrame({"patient_id": ["P1", "P2"], "day": [2, 2], "temp_c": [39.5, 40.5]})
    worst = worst_lab_aes(grade_clinical_aes(obs))
    reported = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "term": ["Fever", "fever", "Fever"], "grade": [1, 3, 2]}
    )
    row = ae_grade_table(worst, n_patients=3, reported=reported).iloc[0]
    # P1 derived grade 2 wins over the reported 1; P2 (>40 C, not gradable) and P3 (no
    # observations) take the reported grades 3 and 2
    assert (row["n_grade_1"], row["n_grade_2"], row["n_grade_3"]) == (0, 2, 1)
    assert row["n_reported"] == 2


def test_ae_grade_table_rejects_small_denominator() -> None:
    worst = worst_lab_aes(grade_lab_aes(cohort_labs(), reference_ranges=RANGES))
    with pytest.raises(DerivationError, match="n_patients"):
        ae_grade_table(worst, n_patients=2)


def test_synthetic_cohort_runs_fast_and_fully() -> None:
    from pathlib import Path

    import cartcohort

    data = Path(cartcohort.__file__).parent / "demo" / "data" / "synthetic"
    labs = pd.read_csv(data / "labs.csv")
    patients = pd.read_csv(data / "patients.csv")
    graded = grade_lab_aes(labs, sex=patients.set_index("patient_id")["sex"])
    worst = worst_lab_aes(graded)
    table = ae_grade_table(worst, n_patients=len(patients))
    assert len(table) == 12
    assert (table[[f"n_grade_{g}" for g in (1, 2, 3, 4)]].sum(axis=1) <= len(patients)).all()
