"""Formula-safe cells for every CSV and XLSX file cartcohort writes.

A spreadsheet program reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and,
after its own trimming, a tab or carriage return) as a formula: text from a patient file
such as ``=HYPERLINK("http://…")`` or ``+cmd|' /C calc'!A0`` (DDE) would run when a
clinician opens the table. OWASP's rule against this *CSV injection* is applied here,
once, for every writer: such text gets a single quote ``'`` in front, which spreadsheet
programs show as text and never evaluate.

* Only text is changed. Numbers held as numbers (``-2.5`` in a float column, an ``int``
  cell) are left alone, and so is text that is a plain decimal number (``"-2.5"``,
  ``"+3"``, ``"1e-3"``): a spreadsheet reads it as that number, never as a formula.
* Column names are text too and are treated the same way.
* CSV: a carriage return inside a value ends the line for a spreadsheet program unless
  the value is quoted (Python's ``csv`` quotes it only when it is part of the line
  terminator), so the next "line" could start with a formula. :func:`write_csv` quotes
  every text field of a table that holds one.
* XLSX writers must also write text cells as text (openpyxl makes any string starting
  with ``=`` a formula unless told otherwise); after :func:`neutralise` no text starts
  with ``=``, and :func:`cartcohort.render.report.build` sets the cell type explicitly.

The quote is part of the written value: a file written by cartcohort and read back holds
``'=…`` where the source held ``=…`` (see ``docs/report.md``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

#: A text cell beginning with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
#: What is put in front of such a cell.
QUOTE: Final = "'"

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_text(text: str) -> str:
    """``text`` with a ``'`` in front if a spreadsheet would read it as a formula.

    Examples
    --------
    >>> neutralise_text("=1+1")
    "'=1+1"
    >>> neutralise_text("-2+3")
    "'-2+3"
    >>> neutralise_text("-2.5"), neutralise_text("CR")
    ('-2.5', 'CR')
    """
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return QUOTE + text
    return text


def neutralise(value: object) -> object:
    """:func:`neutralise_text` for text (``str``); any other value unchanged."""
    return neutralise_text(value) if isinstance(value, str) else value


def _text_like(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_object_dtype(dtype) or isinstance(
        dtype, pd.CategoricalDtype | pd.StringDtype
    )


def _safe_values(series: pd.Series) -> npt.NDArray[np.object_] | None:
    """The column with its text neutralised, or ``None`` if nothing had to change.

    Works on the distinct values, so it is fast on long columns.
    """
    values = series.astype(object).to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    changed = [
        i for i, u in enumerate(uniques) if isinstance(u, str) and neutralise_text(u) is not u
    ]
    if not changed:
        return None
    new_uniques = np.asarray(uniques, dtype=object).copy()
    for i in changed:
        new_uniques[i] = neutralise_text(new_uniques[i])
    out: npt.NDArray[np.object_] = new_uniques[np.maximum(codes, 0)]
    out[codes < 0] = values[codes < 0]
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are formula-safe.

    Numeric, boolean and date columns are returned unchanged; a text column that needed a
    change becomes an object column. Use it right before ``to_csv`` or ``to_excel``.
    """
    out = frame.copy()
    out.columns = pd.Index(
        [neutralise(c) for c in out.columns], dtype=object, name=frame.columns.name
    )
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if _text_like(column):
            safe = _safe_values(column)
            if safe is not None:
                out.isetitem(j, safe)
    return out


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    if any(isinstance(c, str) and "\r" in c for c in frame.columns):
        return True
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if _text_like(column):
            values = pd.unique(column.astype(object).to_numpy(dtype=object))
            if any(isinstance(v, str) and "\r" in v for v in values):
                return True
    return False


def write_csv(
    frame: pd.DataFrame,
    target: str | os.PathLike[str] | io.TextIOBase | None = None,
    **options: Any,
) -> str | None:
    """``frame.to_csv(target, **options)`` with formula-safe text (:func:`safe_frame`).

    If any text holds a carriage return, every text field is quoted
    (``csv.QUOTE_NONNUMERIC``; numbers stay unquoted). Returns the text when ``target``
    is ``None``, as :meth:`pandas.DataFrame.to_csv` does.
    """
    safe = safe_frame(frame)
    if _has_carriage_return(safe):
        options["quoting"] = csv.QUOTE_NONNUMERIC
    return safe.to_csv(target, **options)


__all__ = [
    "FORMULA_PREFIXES",
    "QUOTE",
    "neutralise",
    "neutralise_text",
    "safe_frame",
    "write_csv",
]
