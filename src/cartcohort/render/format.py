"""Display formatting of numbers: half-up rounding, p-values, estimates with intervals.

This is the one place where numbers become text (house style B1). Results keep full
precision; tables, figures and reports call these functions at the edge.

Rounding is *half-up on the decimal value you see* (``decimal.ROUND_HALF_UP`` applied to
the shortest ``repr`` of the float), so 0.125 shows as 0.13 and 2.675 as 2.68. Python's
``round`` and ``format`` round half to even on the binary value (``round(2.675, 2) ==
2.67``), which readers comparing with SAS or Excel report as a bug.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Text shown for a number that cannot be displayed (NaN, infinite).
NOT_ESTIMABLE = "NE"


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
        ``"0"``.

    Examples
    --------
    >>> round_half_up(2.675, 2), round_half_up(0.125, 2), round_half_up(-0.5)
    ('2.68', '0.13', '-1')
    """
    if not math.isfinite(value):
        return NOT_ESTIMABLE
    if digits < 0:
        msg = f"`digits` must be >= 0; got {digits}."
        raise ValueError(msg)
    quantum = Decimal(1).scaleb(-digits)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:f}"


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
        ``"NE"`` for NaN or infinite values.

    Examples
    --------
    >>> round_significant(0.0456), round_significant(0.5), round_significant(0.996)
    ('0.046', '0.50', '1.0')
    """
    if not math.isfinite(value):
        return NOT_ESTIMABLE
    if value == 0:
        return round_half_up(0.0, significant - 1)
    exponent = Decimal(repr(float(abs(value)))).adjusted()
    text = round_half_up(value, max(significant - 1 - exponent, 0))
    # rounding can carry into a new digit (0.996 -> 1.00); keep `significant` digits
    new_exponent = Decimal(text.lstrip("-")).adjusted()
    if new_exponent > exponent:
        text = round_half_up(value, max(significant - 1 - new_exponent, 0))
    return text


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
    * NaN: ``"p = NE"`` (not estimable).

    A value that rounds to a boundary keeps the rule of its range: 0.00996 shows as
    ``"0.010"``.

    Examples
    --------
    >>> format_p(0.0312), format_p(0.00049), format_p(0.0042), format_p(0.5)
    ('p = 0.031', 'p < 0.001', 'p = 0.004', 'p = 0.50')
    >>> format_p(0.2, prefix="")
    '0.20'
    """
    if math.isnan(p):
        body = f"= {NOT_ESTIMABLE}"
    elif p < 0 or p > 1:
        msg = f"`p` must be in [0, 1]; got {p!r}."
        raise ValueError(msg)
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
    e, a, b = (round_half_up(v, digits) for v in (est, lo, hi))
    return f"{e} ({a}{sep}{b})"


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
    return f"{round_half_up(fraction * 100.0, digits)} %"


__all__ = [
    "NOT_ESTIMABLE",
    "format_estimate_ci",
    "format_p",
    "format_percent",
    "round_half_up",
    "round_significant",
]
