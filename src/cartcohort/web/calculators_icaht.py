"""Bedside ICAHT calculator: early and late N-ICAHT and T-ICAHT from counted days.

Nothing is graded here: the form's counts go to
:func:`cartcohort.derive.toxicity.icaht.grade_from_counts`, the function that applies the
grading tables for whole cohorts too. Every field is optional and an unanswered field is
"not assessed", never the worst value: a section without its fields says "not gradable"
and lists what is missing. The N-ICAHT table is shown as UNVERIFIED (docs/methods/icaht.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cartcohort.derive.toxicity.icaht import (
    EARLY_END_DAY,
    N_ICAHT_TABLE,
    T_ICAHT_TABLE,
    IcahtTable,
    grade_from_counts,
)
from cartcohort.web._common import render
from cartcohort.web.calculators import CalculatorInputError

Form = Mapping[str, str]

#: Form fields: (name, label, kind) -- kind "days" (0-31 whole days) or a count unit.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("anc_days_le500", "Days 0-30 with ANC ≤ 500/µL (cumulative)", "days"),
    ("anc_days_le100", "Days 0-30 with ANC ≤ 100/µL (cumulative)", "days"),
    ("plt_days_lt50", "Days 0-30 with platelets < 50 × 10⁹/L (cumulative)", "days"),
    ("plt_days_lt20", "Days 0-30 with platelets < 20 × 10⁹/L (cumulative)", "days"),
    ("anc_late_lowest", "After day 30: lowest ANC seen on ≥ 2 tests", "/µL"),
    ("plt_late_lowest", "After day 30: lowest platelets seen on ≥ 2 tests", "× 10⁹/L"),
    ("plt_late_days_lt20", "After day 30: days with platelets < 20 × 10⁹/L", "days"),
)
_LABEL = {name: label for name, label, _ in FIELDS}
_LATE_DAYS_MAX = 70  # days 31-100


@dataclass(frozen=True, slots=True, kw_only=True)
class IcahtSection:
    """One graded phase: its grade or why it is not gradable."""

    title: str
    grade: int | None
    decided_by: str
    missing: tuple[str, ...]
    status: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IcahtCalculation:
    """The four ICAHT grades of the bedside form."""

    sections: tuple[IcahtSection, ...]

    @property
    def gradable(self) -> bool:
        """Whether any section could be graded."""
        return any(s.grade is not None for s in self.sections)

    @property
    def missing(self) -> tuple[str, ...]:
        """Every field still needed, in form order."""
        needed = {m for s in self.sections for m in s.missing}
        return tuple(label for _, label, _ in FIELDS if label in needed)


def _value(form: Form, name: str, kind: str, errors: dict[str, str]) -> float | None:
    text = form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    label = _LABEL[name]
    if not math.isfinite(value) or value < 0:
        errors[name] = f"{label}: '{text}' is not a number >= 0."
        return None
    if kind == "days":
        high = EARLY_END_DAY + 1 if "late" not in name else _LATE_DAYS_MAX
        if not value.is_integer() or value > high:
            errors[name] = f"{label} must be a whole number of days from 0 to {high}; got {text}."
            return None
    return value


def _section(
    title: str,
    table: IcahtTable,
    phase: str,
    days: dict[float, int] | None,
    missing: list[str],
    *,
    min_tests: int = 1,
) -> IcahtSection:
    status = "UNVERIFIED table" if table.status == "unverified" else f"table status: {table.status}"
    if missing or days is None:
        return IcahtSection(
            title=title,
            grade=None,
            decided_by="",
            missing=tuple(missing),
            status=status,
            source=table.source,
        )
    grade, crit = grade_from_counts(
        table,
        phase,  # type: ignore[arg-type]
        days,
        tests_below={k: (min_tests if v > 0 else 0) for k, v in days.items()},
        min_tests=min_tests,
    )
    label = "ANC" if table.analyte == "anc" else "platelets"
    return IcahtSection(
        title=title,
        grade=grade,
        decided_by=crit.text(label) if crit is not None else "no criterion met",
        missing=(),
        status=status,
        source=table.source,
    )


def icaht_grade(form: Form) -> IcahtCalculation:
    """Early and late N-ICAHT and T-ICAHT from the bedside form.

    Parameters
    ----------
    form
        Field name -> text (:data:`FIELDS`); empty fields are not assessed.

    Returns
    -------
    IcahtCalculation
        One section per phase and table, graded or listing what is missing.

    Raises
    ------
    CalculatorInputError
        For values that are not numbers, out of range, or inconsistent (more days below
        the deeper threshold than below the shallower one).
    """
    errors: dict[str, str] = {}
    v = {name: _value(form, name, kind, errors) for name, _, kind in FIELDS}
    for deep, shallow in (("anc_days_le100", "anc_days_le500"), ("plt_days_lt20", "plt_days_lt50")):
        d, s = v[deep], v[shallow]
        if d is not None and s is not None and d > s:
            errors[deep] = f"{_LABEL[deep]} cannot exceed {_LABEL[shallow].lower()}."
    if errors:
        raise CalculatorInputError(errors)

    def need(*names: str) -> list[str]:
        return [_LABEL[n] for n in names if v[n] is None]

    sections = []
    miss = need("anc_days_le500", "anc_days_le100")
    days = (
        None if miss else {0.5: int(v["anc_days_le500"] or 0), 0.1: int(v["anc_days_le100"] or 0)}
    )
    sections.append(_section("Early N-ICAHT (days 0-30)", N_ICAHT_TABLE, "early", days, miss))
    miss = need("plt_days_lt50", "plt_days_lt20")
    days = (
        None if miss else {50.0: int(v["plt_days_lt50"] or 0), 20.0: int(v["plt_days_lt20"] or 0)}
    )
    sections.append(_section("Early T-ICAHT (days 0-30)", T_ICAHT_TABLE, "early", days, miss))
    miss = need("anc_late_lowest")
    days = None
    if not miss:
        anc = (v["anc_late_lowest"] or 0.0) / 1000.0  # /uL -> 10^9/L
        days = {
            c.threshold: int(anc <= c.threshold)
            for c in N_ICAHT_TABLE.criteria
            if c.phase == "late"
        }
    sections.append(
        _section("Late N-ICAHT (after day 30)", N_ICAHT_TABLE, "late", days, miss, min_tests=2)
    )
    miss = need("plt_late_lowest")
    days = None
    lowest = v["plt_late_lowest"]
    if lowest is not None and lowest < 20 and v["plt_late_days_lt20"] is None:
        miss = need("plt_late_days_lt20")
    if not miss and lowest is not None:
        days = {100.0: int(lowest < 100), 50.0: int(lowest < 50), 20.0: 0}
        if lowest < 20:
            days[20.0] = max(1, int(v["plt_late_days_lt20"] or 0))
    sections.append(
        _section("Late T-ICAHT (days 31-100)", T_ICAHT_TABLE, "late", days, miss, min_tests=2)
    )
    return IcahtCalculation(sections=tuple(sections))


async def icaht(request: Request) -> Response:
    """ICAHT grades from counted days below each threshold (same flow as the other
    calculators, with this form's fields in the page context)."""
    form: dict[str, str] = {}
    result: IcahtCalculation | None = None
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        async with request.form(max_files=0, max_fields=30) as data:
            form = {k: v for k, v in data.items() if isinstance(v, str)}
        try:
            result = icaht_grade(form)
        except CalculatorInputError as exc:
            errors, status = exc.errors, 400
    context: dict[str, object] = {
        "section": "calculators",
        "fields": FIELDS,
        "form": form,
        "result": result,
        "errors": errors,
    }
    return render(request, "calc_icaht.html", context, status=status)


ROUTES: list[BaseRoute] = [Route("/calculators/icaht", icaht, methods=["GET", "POST"])]

__all__ = ["FIELDS", "ROUTES", "IcahtCalculation", "IcahtSection", "icaht_grade"]
