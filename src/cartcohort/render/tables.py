"""Display tables: a :class:`~cartcohort.ard.TableOutput` frame as formatted text.

An analysis hands the renderer a tidy frame at full precision and, per column, how it is
meant to be read (``formats``: ``"p"``, ``"percent"``, ``"count"``, ``"estimate"``,
``"days"`` ...). :func:`format_table` turns it into a :class:`DisplayTable` of strings with
readable headers, ready for HTML; this is the only place a table's numbers are rounded
(half-up, through :mod:`cartcohort.render.format`).

Two column pairings make tables shorter for a clinical reader:

* an estimate with its limits (``median_days`` + ``median_lower`` + ``median_upper``, or
  ``estimate`` + ``lower`` + ``upper``) becomes one column ``"770 (612–917)"``;
* a rate with its standard error (``rate_day_365`` + ``se_day_365``) becomes
  ``"61 % ± 4 %"``.

The CSV and XLSX files keep the unformatted frame (full precision); see
:mod:`cartcohort.render.report.build`.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cartcohort.render.format import (
    NOT_ESTIMABLE,
    SCIENTIFIC_FROM,
    format_estimate,
    format_p,
    format_percent,
    format_scientific,
    round_half_up,
    round_significant,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Decimals per format name (for plain numbers and estimates with limits).
DECIMALS: dict[str, int] = {
    "count": 0,
    "int": 0,
    "days": 0,
    "months": 1,
    "years": 1,
    "estimate": 2,
    "ratio": 2,
    "hr": 2,
    "or": 2,
    "decimal1": 1,
    "decimal2": 2,
    "decimal3": 3,
}
#: Formats of estimates and ratios: scientific notation from SCIENTIFIC_FROM on.
_ESTIMATES = frozenset({"estimate", "ratio", "hr", "or"})

#: Headers for common column names (anything else: underscores become spaces).
HEADERS: dict[str, str] = {
    "group": "Group",
    "n": "n",
    "n_events": "Events",
    "n_event": "Events",
    "n_censor": "Censored",
    "n_risk": "At risk",
    "n_excluded": "Excluded",
    "estimate": "Estimate",
    "lower": "Lower limit",
    "upper": "Upper limit",
    "std_err": "SE",
    "p_value": "p",
    "p": "p",
    "statistic": "Statistic",
    "df": "df",
    "mean": "Mean",
    "sd": "SD",
    "median": "Median",
    "q1": "Q1",
    "q3": "Q3",
    "median_days": "Median, days",
    "percent": "%",
    "variable": "Variable",
    "level": "Level",
    "term": "Term",
}

_LOWER_SUFFIXES = ("_lower", "_lo")
_UPPER_SUFFIXES = ("_upper", "_hi")
_UNIT_SUFFIXES = ("_days", "_months", "_estimate")
_RATE = re.compile(r"^(?P<name>[a-z0-9]+)_(?P<rest>.+)$")


@dataclass(frozen=True, slots=True)
class DisplayTable:
    """A table of display strings.

    Attributes
    ----------
    caption
        The table caption.
    headers
        Column headers, in order.
    rows
        One tuple of strings per row.
    numeric
        Per column, whether it holds numbers (right-aligned in HTML).
    """

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def header_for(column: str) -> str:
    """Return a readable header for ``column`` (``"n_events"`` -> ``"Events"``).

    Parameters
    ----------
    column
        A tidy column name.

    Returns
    -------
    str
        The header shown in the report.
    """
    if column in HEADERS:
        return HEADERS[column]
    match = re.fullmatch(r"rate_day_(\d+)", column)
    if match:
        return f"Rate at day {match.group(1)}"
    text = column.replace("_", " ")
    for unit in ("days", "months", "pct", "pg ml", "mg l", "ng ml"):
        if text.endswith(f" {unit}"):
            shown = {"pct": "%", "pg ml": "pg/mL", "mg l": "mg/L", "ng ml": "ng/mL"}.get(unit, unit)
            text = f"{text.removesuffix(' ' + unit)}, {shown}"
            break
    return text[:1].upper() + text[1:]


def format_value(value: object, fmt: str | None, column: str = "") -> str:
    """Format one cell.

    Parameters
    ----------
    value
        The cell (number, text, missing).
    fmt
        The column's format name (see module docstring), or ``None`` to infer one from
        the column name and the value.
    column
        The column name (used to infer ``p``/``count`` when ``fmt`` is ``None``).

    Returns
    -------
    str
        Half-up rounded text; ``""`` for a missing value; ``"NE"`` for a non-finite
        number.
    """
    if _is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if not _is_number(value):
        return str(value)
    x = float(value)  # type: ignore[arg-type]
    kind = fmt or _infer_format(column, x)
    if not math.isfinite(x):
        return NOT_ESTIMABLE
    if kind == "p":
        return format_p(x, prefix="") if 0 <= x <= 1 else NOT_ESTIMABLE
    if kind == "percent":
        return format_percent(x)
    if kind == "percent1":
        return format_percent(x, 1)
    if kind == "sci":
        return _scientific(x)
    if kind in _ESTIMATES:
        return format_estimate(x, DECIMALS[kind])
    if kind in DECIMALS:
        return round_half_up(x, DECIMALS[kind])
    # a number without a declared format: integers as integers, from 1 up one decimal,
    # below 1 three significant digits
    return _plain_number(x)


def _scientific(x: float) -> str:
    """``3.41 × 10⁶`` (three significant digits, half-up; any float)."""
    return format_scientific(x, 3)


def _plain_number(x: float) -> str:
    """Integers as integers; from 1e5 on ``3.41 × 10⁶``; from 1 one decimal; else 3 digits."""
    if abs(x) >= SCIENTIFIC_FROM:
        return _scientific(x)
    if x.is_integer():
        return round_half_up(x, 0)
    if abs(x) >= 1:
        return round_half_up(x, 1)
    return round_significant(x, 3)


def _infer_format(column: str, value: float) -> str | None:
    if column in ("p", "p_value") or column.endswith("_p_value"):
        return "p"
    if (column == "n" or column.startswith("n_")) and value.is_integer():
        return "count"
    return None


def _interval_partner(column: str, columns: list[str]) -> tuple[str, str] | None:
    """Find the (lower, upper) columns of estimate column ``column``, if any."""
    if column == "estimate" and "lower" in columns and "upper" in columns:
        return "lower", "upper"
    stems = [column] + [column.removesuffix(s) for s in _UNIT_SUFFIXES if column.endswith(s)]
    for stem in stems:
        for lo_s, hi_s in zip(_LOWER_SUFFIXES, _UPPER_SUFFIXES, strict=True):
            lo, hi = f"{stem}{lo_s}", f"{stem}{hi_s}"
            if lo in columns and hi in columns:
                return lo, hi
    return None


def _se_partner(column: str, columns: list[str]) -> str | None:
    """Find the standard-error column of a rate column (``rate_day_365`` -> ``se_day_365``)."""
    match = _RATE.match(column)
    if match is None or match.group("name") == "se":
        return None
    se = f"se_{match.group('rest')}"
    return se if se in columns else None


def _plan_columns(
    columns: list[str],
) -> list[tuple[str, tuple[str, str] | None, str | None]]:
    """Which columns are shown, each with its interval or SE partner (partners not shown)."""
    absorbed: set[str] = set()
    plan: list[tuple[str, tuple[str, str] | None, str | None]] = []
    for column in columns:
        interval = _interval_partner(column, columns)
        se = None if interval else _se_partner(column, columns)
        if interval:
            absorbed.update(interval)
        if se:
            absorbed.add(se)
        plan.append((column, interval, se))
    return [p for p in plan if p[0] not in absorbed]


def _cell(
    row: Mapping[str, object],
    column: str,
    interval: tuple[str, str] | None,
    se: str | None,
    formats: Mapping[str, str],
) -> str:
    fmt = formats.get(column)
    main = format_value(row[column], fmt, column)
    if interval is not None and main not in ("", NOT_ESTIMABLE):
        lo, hi = (format_value(row[c], formats.get(c, fmt), c) for c in interval)
        lo, hi = lo or NOT_ESTIMABLE, hi or NOT_ESTIMABLE
        sep = " to " if lo.startswith("-") or hi.startswith("-") else "–"
        return f"{main} ({lo}{sep}{hi})"
    if se is not None and main not in ("", NOT_ESTIMABLE):
        err = format_value(row[se], formats.get(se, fmt), se)
        return f"{main} ± {err}" if err else main
    return main


def _header(column: str, interval: tuple[str, str] | None, se: str | None) -> str:
    text = header_for(column)
    if interval is not None:
        return f"{text} (95% CI)"
    if se is not None:
        return f"{text} ± SE"
    return text


#: Columns of a long "Table 1" frame (one row per variable, level and group).
SUMMARY_KEYS = ("variable", "group", "summary")


def _summary_cell(row: Mapping[str, object]) -> str:
    """One Table-1 cell: ``41.3 (17.4)``, ``4.7 (1.5–41.3)`` or ``63 (53 %)``."""
    kind = str(row.get("summary", ""))

    def num(key: str) -> str:
        value = row.get(key)
        if _is_missing(value):
            return ""
        x = float(value)  # type: ignore[arg-type]
        return _plain_number(x) if abs(x) >= SCIENTIFIC_FROM else round_half_up(x, 1)

    if kind == "mean_sd":
        return f"{num('mean')} ({num('sd')})" if num("mean") else ""
    if kind == "median_iqr":
        return f"{num('median')} ({num('q1')}–{num('q3')})" if num("median") else ""
    if kind == "n_percent":
        n = row.get("n")
        if _is_missing(n):
            return ""
        pct = row.get("percent")
        shown = "" if _is_missing(pct) else f" ({format_percent(float(pct))})"  # type: ignore[arg-type]
        return f"{round_half_up(float(n), 0)}{shown}"  # type: ignore[arg-type]
    return format_value(row.get("n"), "count", "n")


def summary_table(frame: pd.DataFrame, *, caption: str = "") -> DisplayTable:
    """A long baseline-characteristics frame as the usual wide "Table 1".

    Parameters
    ----------
    frame
        One row per ``variable`` (and ``level``) and ``group`` with a ``summary`` kind
        (``mean_sd``, ``median_iqr``, ``n_percent``) and the statistics it names
        (``mean, sd`` / ``median, q1, q3`` / ``n, percent``).
    caption
        The caption.

    Returns
    -------
    DisplayTable
        One row per variable (categorical: one per level, labelled ``variable: level``),
        one column per group in order of appearance, cells such as ``41.3 (17.4)``,
        ``4.7 (1.5–41.3)`` (median, IQR) or ``63 (53 %)``; the summary kind is named in
        the row label.
    """
    groups = list(dict.fromkeys(str(g) for g in frame["group"]))
    label_of = {"mean_sd": "mean (SD)", "median_iqr": "median (IQR)", "n_percent": "n (%)"}
    rows: dict[tuple[str, str], dict[str, str]] = {}
    kinds: dict[tuple[str, str], str] = {}
    for rec in frame.to_dict(orient="records"):
        level = "" if "level" not in rec or _is_missing(rec["level"]) else str(rec["level"])
        key = (str(rec["variable"]), level)
        rows.setdefault(key, {})[str(rec["group"])] = _summary_cell(rec)
        kinds[key] = str(rec.get("summary", ""))
    body = []
    for (variable, level), cells in rows.items():
        kind = label_of.get(kinds[(variable, level)], kinds[(variable, level)])
        label = f"{variable}: {level}" if level else variable
        body.append((f"{label}, {kind}", *(cells.get(g, "") for g in groups)))
    headers = ("Characteristic", *groups)
    return DisplayTable(
        caption=caption,
        headers=headers,
        rows=tuple(body),
        numeric=(False, *(True for _ in groups)),
    )


def format_table(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    caption: str = "",
    confidence_level: float = 0.95,
) -> DisplayTable:
    """Format a tidy result frame for display.

    Parameters
    ----------
    frame
        The tidy frame (full precision), one row per line of the table.
    formats
        Column -> format name: ``"p"`` (p-value rules of :func:`format_p`),
        ``"percent"`` (a proportion shown as %), ``"percent1"``, ``"count"``,
        ``"estimate"`` (2 decimals), ``"days"`` (0), ``"months"`` (1), ``"ratio"``/``"hr"``/
        ``"or"`` (2), ``"text"``. Columns without a format: ``p``/``p_value`` as p-values,
        ``n``/``n_*`` as counts, booleans as yes/no, other integers as integers, numbers
        from 100,000 on as ``3.41 × 10⁶``, from 1 on with one decimal, smaller numbers to
        3 significant digits.
    caption
        The caption.
    confidence_level
        Shown in the header of columns that carry an interval (``"(95% CI)"``).

    Returns
    -------
    DisplayTable
        Strings only; estimates with limits share one column. A long baseline frame
        (columns ``variable, group, summary``) becomes a wide Table 1
        (:func:`summary_table`).
    """
    formats = dict(formats or {})
    columns = [str(c) for c in frame.columns]
    if set(SUMMARY_KEYS) <= set(columns) and not frame.empty:
        return summary_table(frame, caption=caption)
    if {"kind", "statistic", "interval", "unit", "note"} <= set(columns):
        from cartcohort.render.describe import describe_table

        return describe_table(frame, caption=caption)
    data = frame.copy()
    data.columns = pd.Index(columns)
    for column in columns:
        # one notation per column: if any value needs powers of ten, every value gets them
        series = data[column]
        if (
            column not in formats
            and pd.api.types.is_numeric_dtype(series)
            and not pd.api.types.is_bool_dtype(series)
            and not (column == "n" or column.startswith("n_"))
            and bool((series.astype("float64").abs() >= SCIENTIFIC_FROM).any())
        ):
            formats[column] = "sci"
    shown = _plan_columns(columns)
    level = f"{round_half_up(confidence_level * 100, 0)}% CI"
    headers = tuple(_header(c, iv, se).replace("95% CI", level) for c, iv, se in shown)
    records = data.to_dict(orient="records")
    rows = tuple(tuple(_cell(rec, c, iv, se, formats) for c, iv, se in shown) for rec in records)
    numeric = tuple(
        formats.get(c) not in (None, "text")
        or bool(pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c]))
        for c, _, _ in shown
    )
    return DisplayTable(caption=caption, headers=headers, rows=rows, numeric=numeric)


__all__ = [
    "DECIMALS",
    "HEADERS",
    "SUMMARY_KEYS",
    "DisplayTable",
    "format_table",
    "format_value",
    "header_for",
    "summary_table",
]
