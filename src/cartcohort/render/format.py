"""Display formatting of numbers: half-up rounding, p-values, estimates with intervals.

This is the one place where numbers become text (house style B1). Results keep full
precision; tables, figures and reports call these functions at the edge.

Rounding is *half-up on the decimal value you see* (``decimal.ROUND_HALF_UP`` applied to
the shortest ``repr`` of the float), so 0.125 shows as 0.13 and 2.675 as 2.68. Python's
``round`` and ``format`` round half to even on the binary value (``round(2.675, 2) ==
2.67``), which readers comparing with SAS or Excel report as a bug.

Every formatter takes any float: NaN and infinities show as ``"NE"`` (not estimable;
a confidence limit of infinity is one that could not be estimated), and magnitudes a
fixed-point display cannot hold (from :data:`LARGE` = 10¹⁵ on, and below
:data:`SMALL` = 10⁻⁶ where significant digits are asked for) show in scientific
notation as tables show large numbers, ``4.50 × 10⁴⁹`` (:func:`format_scientific`),
never as Python's ``4.5e+49``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

#: Text shown for a number that cannot be displayed (NaN, infinite).
NOT_ESTIMABLE = "NE"
#: From this magnitude on, numbers show in scientific notation (beyond it a float holds
#: no more integer digits, and a Cox limit of 4.5e49 would fill a table cell).
LARGE = 1e15
#: Below this magnitude, :func:`round_significant` shows scientific notation.
SMALL = 1e-6
#: From this magnitude on, an estimate, a confidence limit or a number without a declared
#: format shows in scientific notation (``1.29 × 10⁹``): more digits than a reader can take
#: in, such as the hazard ratio of a coefficient that diverged, are not information.
SCIENTIFIC_FROM = 1e5

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decimal(value: float) -> Decimal:
    """The shortest decimal that reads back as the float ``value`` (finite)."""
    return Decimal(repr(float(value)))


def _fixed(number: Decimal, digits: int) -> str:
    """``number`` rounded half-up to ``digits`` decimals, as fixed-point text."""
    # enough precision for every digit kept (the default 28 fails from 1e26 on)
    context = Context(prec=max(number.adjusted(), 0) + digits + 2)
    rounded = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=context)
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:f}"


def _scientific(number: Decimal, significant: int) -> str:
    if number.is_zero():
        return "0"
    exponent = number.adjusted()
    mantissa = _fixed(number.scaleb(-exponent), significant - 1)
    if mantissa.lstrip("-").startswith("10"):  # 9.996 rounds up to 10.0
        exponent += 1
        mantissa = _fixed(number.scaleb(-exponent), significant - 1)
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def format_scientific(value: float, significant: int = 3) -> str:
    """Format ``value`` in scientific notation: ``3410000 -> "3.41 × 10⁶"``.

    Parameters
    ----------
    value
        Any float.
    significant
        Significant digits of the mantissa (>= 1), rounded half-up, trailing zeros kept.

    Returns
    -------
    str
        ``"m × 10ᵉ"`` with a superscript exponent; ``"0"`` for zero; ``"NE"`` for NaN or
        infinite values.

    Examples
    --------
    >>> format_scientific(4.5e49), format_scientific(-0.000123, 2), format_scientific(9.996e5)
    ('4.50 × 10⁴⁹', '-1.2 × 10⁻⁴', '1.00 × 10⁶')
    """
    if not math.isfinite(value):
        return NOT_ESTIMABLE
    if significant < 1:
        msg = f"`significant` must be >= 1; got {significant}."
        raise ValueError(msg)
    return _scientific(_decimal(value), significant)


def round_half_up(value: float, digits: int = 0) -> str:
    """Round ``value`` half-up to ``digits`` decimals and return it as text.

    Parameters
    ----------
    value
        A finite number.
    digits
        Decimals to keep (>= 0). Trailing zeros are kept: ``round_half_up(0.8, 2)`` is
        ``"0.80"``.

    Returns
    -------
    str
        The rounded number; ``"NE"`` when ``value`` is NaN or infinite. ``-0`` shows as
        ``"0"``. From :data:`LARGE` on, three significant digits in scientific notation
        (:func:`format_scientific`).

    Examples
    --------
    >>> round_half_up(2.675, 2), round_half_up(0.125, 2), round_half_up(-0.5)
    ('2.68', '0.13', '-1')
    >>> round_half_up(4.5e49, 2)
    '4.50 × 10⁴⁹'
    """
    if not math.isfinite(value):
        return NOT_ESTIMABLE
    if digits < 0:
        msg = f"`digits` must be >= 0; got {digits}."
        raise ValueError(msg)
    if abs(value) >= LARGE:
        return format_scientific(value)
    return _fixed(_decimal(value), digits)


def round_significant(value: float, significant: int = 2) -> str:
    """Round ``value`` half-up to ``significant`` significant digits, keeping trailing zeros.

    Parameters
    ----------
    value
        A finite number.
    significant
        Significant digits (>= 1).

    Returns
    -------
    str
        E.g. ``round_significant(0.0456) == "0.046"``, ``round_significant(0.5) == "0.50"``;
        ``"NE"`` for NaN or infinite values; scientific notation below :data:`SMALL` and
        from :data:`LARGE` on (``"1.2 × 10⁻⁸"``).

    Examples
    --------
    >>> round_significant(0.0456), round_significant(0.5), round_significant(0.996)
    ('0.046', '0.50', '1.0')
    """
    if not math.isfinite(value):
        return NOT_ESTIMABLE
    if significant < 1:
        msg = f"`significant` must be >= 1; got {significant}."
        raise ValueError(msg)
    if value == 0:
        return _fixed(Decimal(0), significant - 1)
    if not SMALL <= abs(value) < LARGE:
        return format_scientific(value, significant)
    number = _decimal(value)
    exponent = number.adjusted()
    text = _fixed(number, max(significant - 1 - exponent, 0))
    # rounding can carry into a new digit (0.996 -> 1.00); keep `significant` digits
    new_exponent = Decimal(text.lstrip("-")).adjusted()
    if new_exponent > exponent:
        text = _fixed(number, max(significant - 1 - new_exponent, 0))
    return text


#: How far outside [0, 1] a computed p-value may be from rounding error alone.
_P_SLACK = 1e-9


def format_p(p: float, *, prefix: str = "p") -> str:
    """Format a p-value for display.

    Parameters
    ----------
    p
        The p-value, in [0, 1].
    prefix
        Text before the relation (``"p"`` gives ``"p = 0.031"``); ``""`` gives the bare
        value for a table column (``"0.031"``, ``"<0.001"``).

    Returns
    -------
    str
        The formatted p-value.

    Notes
    -----
    The rule (as NEJM and Lancet author guidelines), rounding half-up:

    * p < 0.001: ``"p < 0.001"``;
    * 0.001 <= p < 0.01: three decimals (``"p = 0.004"``);
    * 0.01 <= p <= 0.99: two significant digits (``"p = 0.031"``, ``"p = 0.12"``,
      ``"p = 0.50"``);
    * p > 0.99: ``"p > 0.99"``;
    * NaN, or a value outside [0, 1] (beyond rounding error of 1e-9): ``"p = NE"`` (not
      estimable).

    A value that rounds to a boundary keeps the rule of its range: 0.00996 shows as
    ``"0.010"``.

    Examples
    --------
    >>> format_p(0.0312), format_p(0.00049), format_p(0.0042), format_p(0.5)
    ('p = 0.031', 'p < 0.001', 'p = 0.004', 'p = 0.50')
    >>> format_p(0.2, prefix="")
    '0.20'
    """
    if math.isnan(p) or p < -_P_SLACK or p > 1 + _P_SLACK:
        body = f"= {NOT_ESTIMABLE}"
    elif p < 0.001:
        body = "< 0.001"
    elif p < 0.01:
        body = f"= {round_half_up(p, 3)}"
    elif p <= 0.99:
        body = f"= {round_significant(p, 2)}"
    else:
        body = "> 0.99"
    if not prefix:
        return body.removeprefix("= ").replace("< ", "<").replace("> ", ">")
    return f"{prefix} {body}"


def format_estimate_ci(est: float, lo: float, hi: float, digits: int = 2) -> str:
    """Format an estimate with its confidence interval: ``"0.58 (0.41–0.80)"``.

    Parameters
    ----------
    est, lo, hi
        Estimate and confidence limits.
    digits
        Decimals, rounded half-up; trailing zeros kept so columns line up.

    Returns
    -------
    str
        ``"est (lo–hi)"`` with an en dash, or ``"est (lo to hi)"`` when a limit is
        negative (a dash would read as a minus sign). Non-finite numbers show as ``"NE"``.

    Examples
    --------
    >>> format_estimate_ci(0.5812, 0.41, 0.8)
    '0.58 (0.41–0.80)'
    >>> format_estimate_ci(-0.2, -0.5, 0.1, digits=1)
    '-0.2 (-0.5 to 0.1)'
    """
    sep = " to " if (lo < 0 or hi < 0) else "–"
    e, a, b = (format_estimate(v, digits) for v in (est, lo, hi))
    return f"{e} ({a}{sep}{b})"


def format_estimate(value: float, digits: int = 2) -> str:
    """An estimate or confidence limit: ``digits`` decimals, rounded half-up, or three
    significant digits in scientific notation from :data:`SCIENTIFIC_FROM` on.

    >>> format_estimate(0.5812)
    '0.58'
    >>> format_estimate(1286181533.59)
    '1.29 × 10⁹'
    """
    if math.isfinite(value) and abs(value) >= SCIENTIFIC_FROM:
        return format_scientific(value, 3)
    return round_half_up(value, digits)


def format_percent(fraction: float, digits: int = 0) -> str:
    """Format a proportion as a percentage: ``0.6123 -> "61 %"``.

    Parameters
    ----------
    fraction
        A proportion (0.61 means 61 %).
    digits
        Decimals of the percentage, rounded half-up.

    Returns
    -------
    str
        The percentage with a space before the sign (ISO 80000), or ``"NE"``.

    Examples
    --------
    >>> format_percent(0.6125), format_percent(0.6125, 1)
    ('61 %', '61.3 %')
    """
    if not math.isfinite(fraction):
        return NOT_ESTIMABLE
    if digits < 0:
        msg = f"`digits` must be >= 0; got {digits}."
        raise ValueError(msg)
    percent = fraction * 100.0
    if math.isfinite(percent) and abs(percent) < LARGE:
        return f"{_fixed(_decimal(percent), digits)} %"
    return f"{_scientific(_decimal(fraction).scaleb(2), 3)} %"  # exact: no overflow


__all__ = [
    "LARGE",
    "NOT_ESTIMABLE",
    "SCIENTIFIC_FROM",
    "SMALL",
    "format_estimate",
    "format_estimate_ci",
    "format_p",
    "format_percent",
    "format_scientific",
    "round_half_up",
    "round_significant",
]
