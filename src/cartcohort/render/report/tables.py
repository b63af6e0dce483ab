"""Tables written beside the report: ``tables/*.csv`` and ``tables/tables.xlsx``.

Every file is byte-identical for the same input (the XLSX container's write times are
fixed) and formula-safe (:mod:`cartcohort._spreadsheet`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cartcohort._spreadsheet import neutralise, neutralise_text, write_csv
from cartcohort.render.report.results import json_value

if TYPE_CHECKING:
    from cartcohort.ard import TableOutput


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The table as CSV, text cells formula-safe (:mod:`cartcohort._spreadsheet`)."""
    out = frame.copy()
    out.columns = pd.Index([str(c) for c in out.columns])
    write_csv(out, path, index=False, lineterminator="\n")


def _write_xlsx(entries: Sequence[tuple[str, str, TableOutput]], path: Path) -> None:
    """One sheet per table plus an index sheet (unrounded values, header row in bold).

    Written with openpyxl's write-only workbook, row by row: half the time of
    ``DataFrame.to_excel`` (which styles every cell it writes), which mattered because the
    main process writes the workbook while the figures are drawn.

    Text is formula-safe (:func:`~cartcohort._spreadsheet.neutralise`) and every text cell
    is written with the string type, so no cell is ever a formula (openpyxl otherwise makes
    any text starting with ``=`` one) or an error value (``#N/A`` as text).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(name: str, frame: pd.DataFrame) -> None:
        ws = workbook.create_sheet(name)
        header = []
        for column in frame.columns:
            cell = _text_cell(ws, neutralise_text(str(column)))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        columns = [frame[c].astype(object).to_numpy() for c in frame.columns]
        for row in zip(*columns, strict=True):
            values = [_xlsx_value(v) for v in row]
            ws.append([_text_cell(ws, v) if isinstance(v, str) else v for v in values])

    index = pd.DataFrame(
        [
            {"sheet": f"T{i + 1:02d}", "file": f"{stem}.csv", "title": title, "caption": t.caption}
            for i, (stem, title, t) in enumerate(entries)
        ],
        columns=["sheet", "file", "title", "caption"],
    )
    sheet("index", index)
    for i, (_, _, table) in enumerate(entries):
        sheet(f"T{i + 1:02d}", table.frame)
    workbook.save(path)
    _normalise_zip(path)


def _text_cell(ws: Any, text: str) -> Any:
    """A write-only cell holding ``text`` as text, whatever it begins with."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


def _xlsx_value(value: object) -> object:
    """A cell value openpyxl writes: as :func:`json_value` gives it (missing as an empty
    cell, NumPy scalars as Python numbers), except dates and times, which stay dates, and
    infinity, written as the text "inf"/"-inf" as pandas does (Excel has no infinity).
    Text is formula-safe (:func:`~cartcohort._spreadsheet.neutralise`)."""
    if isinstance(value, float | np.floating) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value is not pd.NaT and isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return neutralise_text(str(value))
    return neutralise(json_value(value))


_XLSX_TIMES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _normalise_zip(path: Path) -> None:
    """Fix the write times openpyxl stores (ZIP entries, document properties)."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                text = _XLSX_TIMES.sub(r"\g<1>2000-01-01T00:00:00Z\g<2>", data.decode("utf-8"))
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
