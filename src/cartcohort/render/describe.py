"""The compact table of a ``describe`` analysis: statistic, value, CI or range, n.

The analysis (:mod:`cartcohort.plan.analyses.describe`) returns a tidy frame with the
columns :data:`DESCRIBE_COLUMNS` at full precision; :func:`describe_table` formats it for
the report, one line per statistic:

========================  ======================  =====================  ====
statistic                 value                   CI / range             n
========================  ======================  =====================  ====
MRD-negative CR           12/14 (85.7 %)          57.2–98.2 % (95% CI)   14
EFS at 24 months          61.2 % ± 14.0 %         31.2–81.6 % (95% CI)   14
Dose (cells/kg)           6.78 × 10⁶              2.20 × 10⁶–1.04 × 10⁷  14
                                                  (range)
========================  ======================  =====================  ====

Proportions show one decimal (as the papers do), ``x/n`` counts in full; days as whole
days (one decimal for a median between two days); other numbers as
:func:`cartcohort.render.tables.format_value` does without a declared format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from cartcohort.render.format import NOT_ESTIMABLE, format_percent, round_half_up
from cartcohort.render.tables import DisplayTable, format_value

#: Columns of a describe frame (:func:`format_table` recognises the table by them).
DESCRIBE_COLUMNS = (
    "group",
    "kind",
    "statistic",
    "x",
    "n",
    "estimate",
    "std_err",
    "lower",
    "upper",
    "interval",
    "unit",
    "note",
)

_PROPORTIONS = ("rate", "incidence", "km")
_NBSP = "\u00a0"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, unit: str) -> str:
    if _missing(value):
        return ""
    x = float(value)
    if not math.isfinite(x):
        return NOT_ESTIMABLE
    if unit == "days":
        return round_half_up(x, 0 if x.is_integer() else 1)
    return format_value(x, None)


def _value(row: Mapping[Any, Any]) -> str:
    kind, unit = str(row["kind"]), str(row["unit"])
    est = row["estimate"]
    if kind in ("rate", "incidence"):
        pct = format_percent(float(est), 1)
        return f"{round_half_up(float(row['x']), 0)}/{round_half_up(float(row['n']), 0)} ({pct})"
    if kind == "km":
        text = format_percent(float(est), 1)
        se = row["std_err"]
        return text if _missing(se) else f"{text} ± {format_percent(float(se), 1)}"
    if kind in ("km_median", "followup") and _missing(est):
        return "not reached"
    text = _number(est, unit)
    return f"{text} days" if unit == "days" and text else text


def _interval(row: Mapping[Any, Any]) -> str:
    interval = str(row["interval"])
    if not interval:
        return ""
    kind, unit = str(row["kind"]), str(row["unit"])
    lo, hi = row["lower"], row["upper"]
    if kind in _PROPORTIONS:
        a = format_percent(float(lo), 1).removesuffix(" %") if not _missing(lo) else "NE"
        b = format_percent(float(hi), 1) if not _missing(hi) else "NE"
        return f"{a}–{b} ({interval})"
    if _missing(lo) and _missing(hi) and _missing(row["estimate"]):
        return ""
    a = _number(lo, unit) or ("NR" if interval.endswith("CI") else "")
    b = _number(hi, unit) or ("NR" if interval.endswith("CI") else "")
    sep = " to " if a.startswith("-") or b.startswith("-") else "–"
    return f"{a}{sep}{b} ({interval})"


def describe_table(frame: pd.DataFrame, *, caption: str = "") -> DisplayTable:
    """A describe frame as a display table: [group,] statistic, value, CI / range, n[, note].

    Parameters
    ----------
    frame
        The tidy frame of a ``describe`` analysis (:data:`DESCRIBE_COLUMNS`; ``group``
        only when the analysis has groups).
    caption
        The caption.

    Returns
    -------
    DisplayTable
        Strings only; an item that could not be computed reads "not computed", with the
        reason in the note column.
    """
    grouped = "group" in frame.columns
    notes = any(str(n) for n in frame["note"])
    headers = [*(["Group"] if grouped else []), "Statistic", "Value", "95% CI or range", "n"]
    if notes:
        headers.append("Note")
    rows: list[tuple[str, ...]] = []
    for rec in frame.to_dict(orient="records"):
        note = str(rec["note"])
        failed = note.startswith("not computed")
        cells = [str(rec["group"])] if grouped else []
        cells.append(str(rec["statistic"]))
        if failed:
            # the reason goes to the note column, so the value column stays narrow
            cells += ["not computed", "", ""]
            note = note.removeprefix("not computed: ")
            note = note[:1].upper() + note[1:]
        else:
            n = "" if _missing(rec["n"]) else round_half_up(float(rec["n"]), 0)
            # no line break inside "12/14 (85.7 %)" or "57.2–98.2 %"; one may come before
            # "(95% CI)"
            interval = _interval(rec).replace(" ", _NBSP).replace(f"{_NBSP}(", " (")
            cells += [_value(rec).replace(" ", _NBSP), interval, n]
        if notes:
            cells.append(note)
        rows.append(tuple(cells))
    numeric = tuple(h in ("n",) for h in headers)
    return DisplayTable(caption=caption, headers=tuple(headers), rows=tuple(rows), numeric=numeric)


__all__ = ["DESCRIBE_COLUMNS", "describe_table"]
