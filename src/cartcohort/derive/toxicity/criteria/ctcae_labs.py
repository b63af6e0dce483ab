"""CTCAE v4.03 and v5.0 criteria for laboratory adverse events, fever and febrile neutropenia.

Each term is stored with the verbatim grade text of the CTCAE and the thresholds that the
grader in :mod:`cartcohort.derive.toxicity.ctcae` applies, so that the sentence and the
number can be read side by side.

Sources
-------
* Laboratory terms (v4.03 and v5.0): the grade texts below are the NCI CTCAE wording as
  transcribed verbatim, per version, in the metadata of the R package ``admiral``
  (pharmaverse/admiral, ``data-raw/adlb_grading/ncictcaev4.json`` and ``ncictcaev5.json``,
  commit 6eb5125a, 2026-07-14). The NCI documents themselves (CTCAE v4.03, 14 June 2010;
  CTCAE v5.0, 27 November 2017) were not read here, so these criteria have status
  ``"secondary"``.
* Fever and febrile neutropenia: the wording is the same in v4.03, v5.0 and v6.0, read in
  verbatim transcriptions of the NCI spreadsheets of each version (v4.03 and v6.0:
  github.com/uscnewplatform/irccs-docker ``importCtcae/v4/ctcae-v4-bundle.json``, commit
  0086ade8, and ``importCtcae/v6/ctcae-v6-bundle.json``, commit 8af5e85e; v5.0: the R data
  ``data/ctcae5.rda`` of github.com/ajbarrows/tcoRs, commit 14643bed). Status
  ``"secondary"``.

In CTCAE a semicolon separates alternatives ("or"); ``<LLN - 75.0`` means "below the lower
limit of normal and at least 75.0"; ``>3.0 - 5.0 x ULN`` means "above 3.0 x ULN and at most
5.0 x ULN". A range without a leading sign (v5.0 ALT/AST "1.5 - 3.0 x baseline", GGT
"2.0 - 2.5 x baseline") is read as inclusive of its lower end (``>=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Reference = Literal["absolute", "lln", "uln", "baseline"]
Operator = Literal["<", "<=", ">", ">="]
Branch = Literal["always", "baseline_normal", "baseline_abnormal"]
Status = Literal["secondary", "interpretation", "unconfirmed"]

VERSIONS: tuple[str, ...] = ("4.03", "5.0")

SOURCE_LABS = (
    "NCI CTCAE v{v} grade text as transcribed verbatim in pharmaverse/admiral "
    "data-raw/adlb_grading/ncictcaev{f}.json (commit 6eb5125a); NCI PDF not read"
)
SOURCE_CLINICAL = (
    "NCI CTCAE v4.03, v5.0 and v6.0 spreadsheets (identical wording), transcribed verbatim in "
    "github.com/uscnewplatform/irccs-docker importCtcae/v4/ctcae-v4-bundle.json (commit "
    "0086ade8) and importCtcae/v6/ctcae-v6-bundle.json (commit 8af5e85e), and "
    "github.com/ajbarrows/tcoRs data/ctcae5.rda (commit 14643bed); NCI documents not read"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """One numeric condition of a grade: ``value <op> factor * reference``.

    Attributes
    ----------
    grade
        The grade assigned when the condition holds.
    op
        Comparison of the measured value with the bound.
    reference
        ``"absolute"`` (the bound is ``factor`` in the canonical unit), ``"lln"``, ``"uln"``
        or ``"baseline"`` (the bound is ``factor`` times that reference).
    factor
        Multiplier of the reference, or the absolute bound.
    branch
        ``"always"``, or the baseline branch it belongs to (v5.0 "if baseline was normal" /
        "if baseline was abnormal").
    """

    grade: int
    op: Operator
    reference: Reference
    factor: float
    branch: Branch = "always"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabTerm:
    """A CTCAE laboratory term in one version, with its source text and thresholds.

    Attributes
    ----------
    term
        CTCAE term, e.g. ``"Platelet count decreased"``.
    label
        The label used in adverse-event tables such as seed 002's Table 3
        (``"Thrombocytopenia"``).
    category
        Section of the adverse-event table (``"Hematological event"`` ...).
    analyte
        Analyte name in the data standard's ``labs`` table.
    unit
        Canonical unit the thresholds are written in.
    direction
        ``"low"`` (decrease terms) or ``"high"`` (increase terms).
    version
        ``"CTCAE-4.03"`` or ``"CTCAE-5.0"``.
    grade_text
        Verbatim CTCAE text of grades 1-4.
    thresholds
        The numeric conditions, all evaluated; the grade is the highest one met.
    abnormal_baseline
        How a baseline is called abnormal for the ``"baseline_abnormal"`` branch:
        ``"above_uln"``, ``"below_lln"`` or ``None`` (the term has no such branch).
    max_lab_grade
        Highest grade gradable from the laboratory value alone.
    notes
        Interpretations, and grades defined by clinical consequences that labs cannot see.
    status
        ``"secondary"``, ``"interpretation"`` or ``"unconfirmed"``.
    source
        Where the grade text was read.
    """

    term: str
    label: str
    category: str
    analyte: str
    unit: str
    direction: Literal["low", "high"]
    version: str
    grade_text: Mapping[int, str]
    thresholds: tuple[Threshold, ...]
    abnormal_baseline: Literal["above_uln", "below_lln"] | None = None
    max_lab_grade: int = 4
    notes: tuple[str, ...] = ()
    status: Status = "secondary"
    source: str = ""

    @property
    def uses_baseline(self) -> bool:
        """Whether any threshold is relative to the baseline value."""
        return any(t.reference == "baseline" for t in self.thresholds) or (
            self.abnormal_baseline is not None
        )


def _t(grade: int, op: Operator, reference: Reference, factor: float) -> Threshold:
    return Threshold(grade=grade, op=op, reference=reference, factor=factor)


def _tb(grade: int, op: Operator, reference: Reference, factor: float, branch: Branch) -> Threshold:
    return Threshold(grade=grade, op=op, reference=reference, factor=factor, branch=branch)


def _low_absolute(g2: float, g3: float, g4: float | None) -> tuple[Threshold, ...]:
    """Grade 1 below LLN, grades 2-4 below absolute limits (cytopenias, albumin, Hb)."""
    out = [_t(1, "<", "lln", 1.0), _t(2, "<", "absolute", g2), _t(3, "<", "absolute", g3)]
    if g4 is not None:
        out.append(_t(4, "<", "absolute", g4))
    return tuple(out)


def _high_uln(f1: float, f2: float, f3: float, branch: Branch = "always") -> tuple[Threshold, ...]:
    """Grade 1 above ULN, grades 2-4 above multiples of the ULN."""
    return (
        _tb(1, ">", "uln", 1.0, branch),
        _tb(2, ">", "uln", f1, branch),
        _tb(3, ">", "uln", f2, branch),
        _tb(4, ">", "uln", f3, branch),
    )


_HEME = "Hematological event"
_CHEM = "Chemical laboratory abnormalities"
_INFL = "Inflammation-related event"

_NOT_LAB_G4 = (
    "Grade 4 is 'Life-threatening consequences; urgent intervention indicated': a clinical "
    "judgement that a laboratory value cannot show, so grade 4 is never assigned from labs."
)


def _cytopenias(version: str) -> tuple[LabTerm, ...]:
    v = f"CTCAE-{version}"
    src = SOURCE_LABS.format(v=version, f="4" if version == "4.03" else "5")
    return (
        LabTerm(
            term="Anemia",
            label="Anemia",
            category=_HEME,
            analyte="haemoglobin",
            unit="g/dL",
            direction="low",
            version=v,
            grade_text={
                1: "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
                2: "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
                3: "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
                4: "Life-threatening consequences; urgent intervention indicated",
            },
            thresholds=_low_absolute(10.0, 8.0, None),
            max_lab_grade=3,
            notes=(
                "Grade 3 is assigned from Hgb <8.0 g/dL alone: 'transfusion indicated' is an "
                "alternative criterion (';' = or) that the labs table cannot see, so a "
                "transfused patient with Hgb >=8.0 g/dL is under-graded.",
                _NOT_LAB_G4,
            ),
            source=src,
        ),
        LabTerm(
            term="White blood cell decreased",
            label="Leukopenia",
            category=_HEME,
            analyte="wbc",
            unit="10^9/L",
            direction="low",
            version=v,
            grade_text={
                1: "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
                2: "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
                3: "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
                4: "<1000/mm3; <1.0 x 10e9 /L",
            },
            thresholds=_low_absolute(3.0, 2.0, 1.0),
            source=src,
        ),
        LabTerm(
            term="Neutrophil count decreased",
            label="Neutropenia",
            category=_HEME,
            analyte="anc",
            unit="10^9/L",
            direction="low",
            version=v,
            grade_text={
                1: "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
                2: "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
                3: "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
                4: "<500/mm3; <0.5 x 10e9 /L",
            },
            thresholds=_low_absolute(1.5, 1.0, 0.5),
            source=src,
        ),
        LabTerm(
            term="Lymphocyte count decreased",
            label="Lymphopenia",
            category=_HEME,
            analyte="alc",
            unit="10^9/L",
            direction="low",
            version=v,
            grade_text={
                1: "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
                2: "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
                3: "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
                4: "<200/mm3; <0.2 x 10e9 /L",
            },
            thresholds=_low_absolute(0.8, 0.5, 0.2),
            source=src,
        ),
        LabTerm(
            term="Platelet count decreased",
            label="Thrombocytopenia",
            category=_HEME,
            analyte="platelets",
            unit="10^9/L",
            direction="low",
            version=v,
            grade_text={
                1: "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
                2: "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
                3: "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
                4: "<25,000/mm3; <25.0 x 10e9 /L",
            },
            thresholds=_low_absolute(75.0, 50.0, 25.0),
            source=src,
        ),
    )


def _fibrinogen(version: str) -> LabTerm:
    v = f"CTCAE-{version}"
    src = SOURCE_LABS.format(v=version, f="4" if version == "4.03" else "5")
    lln = (
        _t(1, "<", "lln", 1.0),
        _t(2, "<", "lln", 0.75),
        _t(3, "<", "lln", 0.5),
        _t(4, "<", "lln", 0.25),
        # "absolute value <50 mg/dL" = 0.5 g/L (canonical unit g/L)
        _t(4, "<", "absolute", 0.5),
    )
    if version == "4.03":
        # "or <25% decrease from baseline" ... "75% decrease from baseline": a decrease of
        # d% is value = (1 - d/100) x baseline; "25 - <50%" includes 25%, hence <=.
        pct = (
            _t(1, "<", "baseline", 1.0),
            _t(2, "<=", "baseline", 0.75),
            _t(3, "<=", "baseline", 0.5),
            _t(4, "<=", "baseline", 0.25),
        )
        return LabTerm(
            term="Fibrinogen decreased",
            label="Fibrinogen decreased",
            category=_HEME,
            analyte="fibrinogen",
            unit="g/L",
            direction="low",
            version=v,
            grade_text={
                1: "<1.0 - 0.75 x LLN or <25% decrease from baseline",
                2: "<0.75 - 0.5 x LLN or 25 - <50% decrease from baseline",
                3: "<0.5 - 0.25 x LLN or 50 - <75% decrease from baseline",
                4: "<0.25 x LLN or 75% decrease from baseline or absolute value <50 mg/dL",
            },
            thresholds=lln + pct,
            notes=(
                "v4.03 joins the LLN and the decrease-from-baseline criteria with 'or', so any "
                "fall below baseline is grade >=1 even within the normal range; this literal "
                "reading is also admiral's.",
            ),
            status="interpretation",
            source=src,
        )
    pct5 = (
        _tb(1, "<", "baseline", 1.0, "baseline_abnormal"),
        _tb(2, "<=", "baseline", 0.75, "baseline_abnormal"),
        _tb(3, "<=", "baseline", 0.5, "baseline_abnormal"),
        _tb(4, "<=", "baseline", 0.25, "baseline_abnormal"),
    )
    return LabTerm(
        term="Fibrinogen decreased",
        label="Fibrinogen decreased",
        category=_HEME,
        analyte="fibrinogen",
        unit="g/L",
        direction="low",
        version=v,
        grade_text={
            1: "<1.0 - 0.75 x LLN; if abnormal, <25% decrease from baseline",
            2: "<0.75 - 0.5 x LLN; if abnormal, 25 - <50% decrease from baseline",
            3: "<0.5 - 0.25 x LLN; if abnormal, 50 - <75% decrease from baseline",
            4: "<0.25 x LLN; if abnormal, 75% decrease from baseline; absolute value <50 mg/dL",
        },
        thresholds=lln + pct5,
        abnormal_baseline="below_lln",
        notes=(
            "'if abnormal' is read as 'if the baseline was abnormal' (baseline < LLN), as in "
            "v5.0's other baseline rules: the decrease-from-baseline criteria then apply in "
            "addition to the LLN multiples. admiral instead applies them when the current "
            "value is below the LLN.",
        ),
        status="interpretation",
        source=src,
    )


def _chem(
    *,
    term: str,
    label: str,
    analyte: str,
    unit: str,
    version: str,
    text: Mapping[int, str],
    thresholds: tuple[Threshold, ...],
    abnormal_baseline: Literal["above_uln", "below_lln"] | None = None,
    notes: tuple[str, ...] = (),
) -> LabTerm:
    """Build an increase term of the 'Chemical laboratory abnormalities' section."""
    return LabTerm(
        term=term,
        label=label,
        category=_CHEM,
        analyte=analyte,
        unit=unit,
        direction="high",
        version=f"CTCAE-{version}",
        grade_text=text,
        thresholds=thresholds,
        abnormal_baseline=abnormal_baseline,
        notes=notes,
        source=SOURCE_LABS.format(v=version, f="4" if version == "4.03" else "5"),
    )


_ALT = ("Alanine aminotransferase increased", "alt")
_AST = ("Aspartate aminotransferase increased", "ast")


def _liver_v4() -> tuple[LabTerm, ...]:
    transaminase = {
        1: ">ULN - 3.0 x ULN",
        2: ">3.0 - 5.0 x ULN",
        3: ">5.0 - 20.0 x ULN",
        4: ">20.0 x ULN",
    }
    return (
        *(
            _chem(
                term=name,
                label=name,
                analyte=analyte,
                unit="U/L",
                version="4.03",
                text=transaminase,
                thresholds=_high_uln(3.0, 5.0, 20.0),
            )
            for name, analyte in (_ALT, _AST)
        ),
        _chem(
            term="GGT increased",
            label="Gamma glutamyl transpeptidase increased",
            analyte="ggt",
            unit="U/L",
            version="4.03",
            text={
                1: ">ULN - 2.5 x ULN",
                2: ">2.5 - 5.0 x ULN",
                3: ">5.0 - 20.0 x ULN",
                4: ">20.0 x ULN",
            },
            thresholds=_high_uln(2.5, 5.0, 20.0),
        ),
        _chem(
            term="Blood bilirubin increased",
            label="Blood bilirubin increased",
            analyte="bilirubin",
            unit="mg/dL",
            version="4.03",
            text={
                1: ">ULN - 1.5 x ULN",
                2: ">1.5 - 3.0 x ULN",
                3: ">3.0 - 10.0 x ULN",
                4: ">10.0 x ULN",
            },
            thresholds=_high_uln(1.5, 3.0, 10.0),
        ),
    )


def _with_baseline_branch(
    normal: tuple[Threshold, ...], g1_op: Operator, f: tuple[float, float, float, float]
) -> tuple[Threshold, ...]:
    abnormal = (
        _tb(1, g1_op, "baseline", f[0], "baseline_abnormal"),
        _tb(2, ">", "baseline", f[1], "baseline_abnormal"),
        _tb(3, ">", "baseline", f[2], "baseline_abnormal"),
        _tb(4, ">", "baseline", f[3], "baseline_abnormal"),
    )
    return normal + abnormal


_BASELINE_NOTE = (
    "Baseline = the last value on or before the baseline day; 'baseline was abnormal' = "
    "baseline > ULN. The baseline-normal branch (multiples of ULN) and the baseline-abnormal "
    "branch (multiples of baseline) are exclusive."
)


def _liver_v5() -> tuple[LabTerm, ...]:
    transaminase_text = {
        1: ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
        2: ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was "
        "abnormal",
        3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was "
        "abnormal",
        4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
    }
    transaminase = _with_baseline_branch(
        _high_uln(3.0, 5.0, 20.0, "baseline_normal"), ">=", (1.5, 3.0, 5.0, 20.0)
    )
    return (
        *(
            _chem(
                term=name,
                label=name,
                analyte=analyte,
                unit="U/L",
                version="5.0",
                text=transaminase_text,
                thresholds=transaminase,
                abnormal_baseline="above_uln",
                notes=(_BASELINE_NOTE, "'1.5 - 3.0 x baseline' has no '>': read as >= 1.5."),
            )
            for name, analyte in (_ALT, _AST)
        ),
        _chem(
            term="GGT increased",
            label="Gamma glutamyl transpeptidase increased",
            analyte="ggt",
            unit="U/L",
            version="5.0",
            text={
                1: ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline "
                "was abnormal",
                2: ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline "
                "was abnormal",
                3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if "
                "baseline was abnormal",
                4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
            },
            thresholds=_with_baseline_branch(
                _high_uln(2.5, 5.0, 20.0, "baseline_normal"), ">=", (2.0, 2.5, 5.0, 20.0)
            ),
            abnormal_baseline="above_uln",
            notes=(
                _BASELINE_NOTE,
                "'2.0 - 2.5 x baseline' has no '>': read as >= 2.0 (admiral uses > 2.0).",
            ),
        ),
        _chem(
            term="Blood bilirubin increased",
            label="Blood bilirubin increased",
            analyte="bilirubin",
            unit="mg/dL",
            version="5.0",
            text={
                1: ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline "
                "was abnormal",
                2: ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline "
                "was abnormal",
                3: ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if "
                "baseline was abnormal",
                4: ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
            },
            thresholds=_with_baseline_branch(
                _high_uln(1.5, 3.0, 10.0, "baseline_normal"), ">", (1.0, 1.5, 3.0, 10.0)
            ),
            abnormal_baseline="above_uln",
            notes=(_BASELINE_NOTE,),
        ),
    )


def _creatinine(version: str) -> LabTerm:
    v = f"CTCAE-{version}"
    src = SOURCE_LABS.format(v=version, f="4" if version == "4.03" else "5")
    uln = (
        _t(1, ">", "uln", 1.0),
        _t(2, ">", "uln", 1.5),
        _t(3, ">", "uln", 3.0),
        _t(4, ">", "uln", 6.0),
    )
    base = (_t(2, ">", "baseline", 1.5), _t(3, ">", "baseline", 3.0))
    if version == "4.03":
        return LabTerm(
            term="Creatinine increased",
            label="Serum creatinine increased",
            category=_CHEM,
            analyte="creatinine",
            unit="mg/dL",
            direction="high",
            version=v,
            grade_text={
                1: ">1 - 1.5 x baseline; >ULN - 1.5 x ULN",
                2: ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
                3: ">3.0 baseline; >3.0 - 6.0 x ULN",
                4: ">6.0 x ULN",
            },
            thresholds=(*uln, _t(1, ">", "baseline", 1.0), *base),
            notes=(
                "Baseline and ULN criteria are alternatives (';' = or); the grade is the "
                "highest met. '>3.0 baseline' is read as > 3.0 x baseline.",
            ),
            source=src,
        )
    return LabTerm(
        term="Creatinine increased",
        label="Serum creatinine increased",
        category=_CHEM,
        analyte="creatinine",
        unit="mg/dL",
        direction="high",
        version=v,
        grade_text={
            1: ">ULN - 1.5 x ULN",
            2: ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
            3: ">3.0 baseline; >3.0 - 6.0 x ULN",
            4: ">6.0 x ULN",
        },
        thresholds=(*uln, *base),
        notes=(
            "v5.0 states no 'if baseline was abnormal' branch for creatinine: its baseline "
            "criteria (grades 2-3) are alternatives to the ULN criteria (';' = or) for every "
            "patient. '>3.0 baseline' is read as > 3.0 x baseline.",
        ),
        source=src,
    )


def _albumin(version: str) -> LabTerm:
    return LabTerm(
        term="Hypoalbuminemia",
        label="Hypoalbuminemia",
        category=_CHEM,
        analyte="albumin",
        unit="g/dL",
        direction="low",
        version=f"CTCAE-{version}",
        grade_text={
            1: "<LLN - 3 g/dL; <LLN - 30 g/L",
            2: "<3 - 2 g/dL; <30 - 20 g/L",
            3: "<2 g/dL; <20 g/L",
            4: "Life-threatening consequences; urgent intervention indicated",
        },
        thresholds=_low_absolute(3.0, 2.0, None),
        max_lab_grade=3,
        notes=(_NOT_LAB_G4,),
        source=SOURCE_LABS.format(v=version, f="4" if version == "4.03" else "5"),
    )


def _terms(version: str) -> tuple[LabTerm, ...]:
    liver = _liver_v4() if version == "4.03" else _liver_v5()
    return (
        *_cytopenias(version),
        _fibrinogen(version),
        *liver,
        _creatinine(version),
        _albumin(version),
    )


#: Laboratory terms by CTCAE version ("4.03", "5.0").
LAB_TERMS: Mapping[str, tuple[LabTerm, ...]] = {v: _terms(v) for v in VERSIONS}


# ---------------------------------------------------------------------------------------------
# Clinical terms graded from observations (fever) and observations + labs (febrile neutropenia)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalTerm:
    """A CTCAE clinical term graded from bedside observations, with its source text."""

    term: str
    label: str
    category: str
    grade_text: Mapping[int, str]
    notes: tuple[str, ...]
    status: Status = "secondary"
    source: str = SOURCE_CLINICAL


#: Fever grade 1 lower bound, inclusive: "38.0 - 39.0 degrees C".
FEVER_G1_MIN_C = 38.0
#: Upper bound of grade 1 and lower (exclusive) bound of grade 2: ">39.0 - 40.0 degrees C".
FEVER_G2_ABOVE_C = 39.0
#: Lower (exclusive) bound of grades 3-4: ">40.0 degrees C".
FEVER_G3_ABOVE_C = 40.0
#: Febrile neutropenia: "a single temperature of >38.3 degrees C".
FN_SINGLE_ABOVE_C = 38.3
#: Febrile neutropenia: "a sustained temperature of >=38 degrees C ... for more than one hour".
FN_SUSTAINED_MIN_C = 38.0
#: Febrile neutropenia: "ANC <1000/mm3" = 1.0 x 10^9/L.
FN_ANC_BELOW = 1.0

FEVER = ClinicalTerm(
    term="Fever",
    label="Fever",
    category=_INFL,
    grade_text={
        1: "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)",
        2: ">39.0 - 40.0 degrees C (102.3 - 104.0 degrees F)",
        3: ">40.0 degrees C (>104.0 degrees F) for <=24 hrs",
        4: ">40.0 degrees C (>104.0 degrees F) for >24 hrs",
    },
    notes=(
        "Graded from the day's maximum temperature (observations.temp_c). A day above "
        "40.0 C is grade 3 or 4 depending on whether it lasted more than 24 hours, which a "
        "daily maximum cannot show: such a day is not gradable (lower bound 3).",
        "CTCAE grades fever whatever its cause; it is not the ASTCT CRS fever criterion.",
    ),
)

FEBRILE_NEUTROPENIA = ClinicalTerm(
    term="Febrile neutropenia",
    label="Febrile neutropenia",
    category=_INFL,
    grade_text={
        3: "ANC <1000/mm3 with a single temperature of >38.3 degrees C (101 degrees F) or a "
        "sustained temperature of >=38 degrees C (100.4 degrees F) for more than one hour",
        4: "Life-threatening consequences; urgent intervention indicated",
    },
    notes=(
        "Graded from the same day's ANC (labs) and maximum temperature (observations). A "
        "maximum >38.3 C meets 'a single temperature of >38.3'. A maximum of 38.0-38.3 C "
        "meets the definition only if sustained for more than one hour, which a daily "
        "maximum cannot show: not gradable unless fn_fever='any_fever' is chosen.",
        "There are no grades 1-2; grade 4 is clinical and never assigned from data.",
    ),
)

CLINICAL_TERMS: tuple[ClinicalTerm, ...] = (FEVER, FEBRILE_NEUTROPENIA)

__all__ = [
    "CLINICAL_TERMS",
    "FEBRILE_NEUTROPENIA",
    "FEVER",
    "FEVER_G1_MIN_C",
    "FEVER_G2_ABOVE_C",
    "FEVER_G3_ABOVE_C",
    "FN_ANC_BELOW",
    "FN_SINGLE_ABOVE_C",
    "FN_SUSTAINED_MIN_C",
    "LAB_TERMS",
    "VERSIONS",
    "ClinicalTerm",
    "LabTerm",
    "Threshold",
]
