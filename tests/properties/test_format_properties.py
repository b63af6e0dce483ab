"""Hypothesis properties of the display formatters: any float becomes sensible text.

A Cox upper limit of 4.5e49 (the seed-002 demo cohort) once reached ``round_half_up``,
which raised for anything from 1e26 on and stopped the whole report. Every public
formatter of :mod:`cartcohort.render.format`, the table-cell formatter the report uses
(:func:`cartcohort.render.tables.format_value`, :func:`~cartcohort.render.tables.format_table`)
and the report template's filters are fed extreme values here.
"""

from __future__ import annotations

import math
import re
import sys
from decimal import Decimal

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cartcohort.render import format as fmt
from cartcohort.render.report.html import _environment
from cartcohort.render.tables import DECIMALS, format_table, format_value

FAST = settings(max_examples=150, deadline=None)

#: Python's own notations that must never reach a reader.
_PYTHONIC = re.compile(r"\d[eE][+-]?\d|nan|inf|None", re.IGNORECASE)
_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?: × 10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?$")

EXTREMES = [
    1e300, -1e300, 1e-300, -1e-300, sys.float_info.max, -sys.float_info.max,
    sys.float_info.min, 5e-324, -5e-324, math.inf, -math.inf, math.nan, 0.0, -0.0,
    4.5e49, 1e26, 1e15, 999999999999999.9, 9.9999e14, 1e-6, 9.9999e-7, 0.5, 1.0, -1.0,
]  # fmt: skip

any_float = st.one_of(
    st.sampled_from(EXTREMES),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
)


def _value(text: str) -> Decimal:
    """The number a displayed text means (``"4.50 × 10⁴⁹"`` -> 4.5E+49), exactly."""
    match = _NUMBER.match(text)
    assert match is not None, text
    mantissa = Decimal(match.group(1))
    if match.group(2) is None:
        return mantissa
    return mantissa.scaleb(int(match.group(2).translate(_SUPERSCRIPT)))


def _check_number(text: str, value: float, *, rel: float, abs_: float, scale: int = 0) -> None:
    """``text`` is short, not Python's notation, "NE" exactly when ``value`` is not finite,
    and otherwise a number within ``rel``/``abs_`` of ``value`` x 10^``scale``."""
    assert isinstance(text, str)
    assert not _PYTHONIC.search(text), text
    assert len(text) <= 40, text
    if not math.isfinite(value):
        assert text == fmt.NOT_ESTIMABLE
        return
    expected = Decimal(repr(value)).scaleb(scale)
    error = abs(_value(text) - expected)
    assert error <= max(abs(expected) * Decimal(rel), Decimal(abs_)), (text, value)


@FAST
@given(any_float, st.integers(0, 4))
@example(4.5e49, 2)
def test_round_half_up_any_float(value: float, digits: int) -> None:
    text = fmt.round_half_up(value, digits)
    _check_number(text, value, rel=5e-3, abs_=0.5 * 10**-digits + 1e-12)
    if math.isfinite(value) and abs(value) < fmt.LARGE:
        assert "×" not in text
        assert text.count(".") == (1 if digits else 0)


@FAST
@given(any_float, st.integers(1, 5))
def test_round_significant_any_float(value: float, significant: int) -> None:
    text = fmt.round_significant(value, significant)
    _check_number(text, value, rel=0.5 * 10 ** (1 - significant) + 1e-12, abs_=0)


@FAST
@given(any_float, st.integers(1, 5))
def test_format_scientific_any_float(value: float, significant: int) -> None:
    text = fmt.format_scientific(value, significant)
    _check_number(text, value, rel=0.5 * 10 ** (1 - significant) + 1e-12, abs_=0)


@FAST
@given(any_float)
def test_format_p_any_float(value: float) -> None:
    for prefix in ("p", ""):
        text = fmt.format_p(value, prefix=prefix)
        assert not _PYTHONIC.search(text), text
        if not (math.isfinite(value) and -1e-9 <= value <= 1 + 1e-9):
            assert text.endswith(fmt.NOT_ESTIMABLE)
        elif value > 0.99:
            assert text.endswith(">0.99" if not prefix else "> 0.99")


@FAST
@given(any_float, any_float, any_float, st.integers(0, 3))
@example(0.8, 0.1, 4.5e49, 2)
@example(1.0, -math.inf, math.inf, 2)
def test_format_estimate_ci_any_floats(est: float, lo: float, hi: float, digits: int) -> None:
    text = fmt.format_estimate_ci(est, lo, hi, digits)
    assert not _PYTHONIC.search(text), text
    number = r"(\S+(?: × 10\S+)?)"
    match = re.fullmatch(rf"{number} \({number}(?:–| to ){number}\)", text)
    assert match is not None, text
    for shown, value in zip(match.groups(), (est, lo, hi), strict=True):
        assert shown == fmt.format_estimate(value, digits)
        if math.isfinite(value) and abs(value) >= fmt.SCIENTIFIC_FROM:
            assert " × 10" in shown  # never 1286181533.59
        else:
            assert shown == fmt.round_half_up(value, digits)


@FAST
@given(any_float, st.integers(0, 2))
def test_format_percent_any_float(value: float, digits: int) -> None:
    text = fmt.format_percent(value, digits)
    assert not _PYTHONIC.search(text), text
    if not math.isfinite(value):
        assert text == fmt.NOT_ESTIMABLE
        return
    assert text.endswith(" %")
    _check_number(text.removesuffix(" %"), value, rel=5e-3, abs_=0.5 * 10**-digits, scale=2)


@FAST
@given(any_float, st.sampled_from([None, "p", "percent", "percent1", "sci", *DECIMALS]))
def test_table_cells_any_float(value: float, kind: str | None) -> None:
    for column in ("n", "p_value", "estimate", "value"):
        text = format_value(value, kind, column)
        assert not _PYTHONIC.search(text), (text, kind, column)
        assert len(text) <= 40
        if math.isnan(value):
            assert text == ""  # a missing cell
        elif kind != "p" and not (kind is None and column == "p_value"):  # p: NE outside [0, 1]
            assert (text == fmt.NOT_ESTIMABLE) == math.isinf(value), (text, kind)


@settings(max_examples=40, deadline=None)
@given(any_float, any_float, any_float)
def test_table_with_interval_and_se_any_floats(est: float, lo: float, hi: float) -> None:
    frame = pd.DataFrame(
        {"estimate": [est], "lower": [lo], "upper": [hi], "rate_day_365": [est], "se_day_365": [hi]}
    )
    table = format_table(frame, {"estimate": "hr", "rate_day_365": "percent"}, caption="t")
    for cell in table.rows[0]:
        assert not _PYTHONIC.search(cell), cell


@settings(max_examples=60, deadline=None)
@given(any_float)
def test_report_template_filters_any_float(value: float) -> None:
    filters = _environment().filters
    for text in (filters["r"](value, 2), filters["pct"](value), filters["p"](value)):
        assert isinstance(text, str)
        assert not _PYTHONIC.search(text), text
