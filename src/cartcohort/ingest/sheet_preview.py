"""What a centre's sheet looks like under a column mapping, for the browser app's mapping page.

The readers use the same layout functions (:mod:`cartcohort.ingest._layout`); these helpers
only expose them for inspection, without reading the data into tables:

* :func:`sheet_layouts` -- per sheet: its first rows as written, the header row and group
  rows in force (declared or found), each column's header and group label, and the data
  rows (notes left out);
* :func:`block_headers` -- the headers a wide rule's ``group``/``header`` patterns select;
* :func:`preview_wide` -- the long rows the mapping's wide rules would give, and the
  columns they take.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from cartcohort.ingest._layout import (
    Cell,
    LongRows,
    find_header,
    group_labels,
    note_rows,
    take_wide,
)
from cartcohort.ingest.limits import ReadLimits
from cartcohort.ingest.mapping import ColumnMapping, normalise_header
from cartcohort.ingest.readers import read_grids


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetLayout:
    """One sheet as the reader sees it under a mapping.

    Attributes
    ----------
    sheet
        The worksheet name (``None`` for a CSV file).
    table
        The table the sheet is read as.
    top
        The first rows as written: (row number, cells), padded to :attr:`width`.
    width
        The number of columns.
    header_row, group_rows
        Row numbers of the header and of the group-label rows (``None``/``()`` when the
        sheet is empty).
    detected
        Whether the header row was found by the reader rather than declared.
    headers, labels
        Each column's header (``""`` when empty) and group label.
    body, numbers
        Data rows below the header (notes and empty rows left out) and their row numbers.
    notes
        Row numbers of rows read as notes or totals.
    """

    sheet: str | None
    table: str
    top: tuple[tuple[int, tuple[Cell, ...]], ...]
    width: int
    header_row: int | None
    group_rows: tuple[int, ...]
    detected: bool
    headers: tuple[str, ...]
    labels: tuple[str, ...]
    body: tuple[tuple[Cell, ...], ...]
    numbers: tuple[int, ...]
    notes: tuple[int, ...]

    def values(self, column: int) -> list[str]:
        """The filled cells of one column, stripped, in row order."""
        out = []
        for row in self.body:
            cell = row[column] if column < len(row) else None
            if cell is not None and cell.strip():
                out.append(cell.strip())
        return out


def _pad(row: tuple[Cell, ...], width: int) -> tuple[Cell, ...]:
    return row[:width] + (None,) * (width - len(row))


def sheet_layouts(
    path: str | os.PathLike[str],
    mapping: ColumnMapping | None = None,
    *,
    rows: int = 8,
    limits: ReadLimits | None = None,
) -> list[SheetLayout]:
    """The layout of each sheet of a CSV file or workbook under ``mapping``.

    Parameters
    ----------
    path
        A CSV or XLSX file.
    mapping
        The column mapping in force (its ``header_row``/``group_rows``), or ``None``.
    rows
        How many rows from the top to keep as written (:attr:`SheetLayout.top`).
    limits
        Read limits (default :data:`~cartcohort.ingest.limits.DEFAULT_LIMITS`).

    Raises
    ------
    IngestError
        The file is not CSV/XLSX, is beyond the read limits or cannot be read.
    """
    out: list[SheetLayout] = []
    for grid in read_grids(path, limits=limits):
        cells = grid.cells
        width = max((len(r) for r in cells), default=0)
        top = tuple((grid.numbers[i], _pad(cells[i], width)) for i in range(min(rows, len(cells))))
        found, _ = find_header(cells, grid.numbers, mapping)
        table = grid.table or "patients"
        if found is None:
            out.append(
                SheetLayout(
                    sheet=grid.sheet,
                    table=table,
                    top=top,
                    width=width,
                    header_row=None,
                    group_rows=(),
                    detected=False,
                    headers=(),
                    labels=(),
                    body=(),
                    numbers=(),
                    notes=(),
                )
            )
            continue
        header = tuple(c.strip() if c else "" for c in _pad(cells[found.index], width))
        labels = tuple(group_labels(cells, found.groups, width))
        body = [_pad(r, width) for r in cells[found.index + 1 :]]
        numbers = list(grid.numbers[found.index + 1 :])
        notes = {i for i, _ in note_rows(body, width)}
        keep = [i for i, r in enumerate(body) if i not in notes and any(c and c.strip() for c in r)]
        out.append(
            SheetLayout(
                sheet=grid.sheet,
                table=table,
                top=top,
                width=width,
                header_row=grid.numbers[found.index],
                group_rows=tuple(grid.numbers[i] for i in found.groups),
                detected=found.detected,
                headers=header,
                labels=labels,
                body=tuple(body[i] for i in keep),
                numbers=tuple(numbers[i] for i in keep),
                notes=tuple(sorted(numbers[i] for i in notes)),
            )
        )
    return out


def block_headers(
    layout: SheetLayout, group: re.Pattern[str] | None, header: re.Pattern[str] | None
) -> list[tuple[str, list[int]]]:
    """The headers a wide rule with these patterns would look up, and their columns.

    A column is selected when ``group`` is found in its group label and ``header`` in its
    header (each when given); the name looked up is the ``header`` pattern's named group
    ``column`` when it has one, else the header. In sheet order, each name once.
    """
    found: dict[str, list[int]] = {}
    if group is None and header is None:
        return []
    for j, head in enumerate(layout.headers):
        if not head:
            continue
        if group is not None and group.search(layout.labels[j]) is None:
            continue
        key = head
        if header is not None:
            match = header.search(head)
            if match is None:
                continue
            key = match.groupdict().get("column") or head
        found.setdefault(key, []).append(j)
    return list(found.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class WidePreview:
    """What the wide rules of a mapping give on one sheet.

    Attributes
    ----------
    rows
        Table -> the long rows (records with their source cells).
    taken
        Column index -> 1-based number of the rule that takes it (values and day columns).
    problems
        Messages about cells that give no row (no day, no patient) or overlapping rules.
    """

    rows: dict[str, LongRows]
    taken: dict[int, int]
    problems: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """The number of long rows over all tables."""
        return sum(len(long.records) for long in self.rows.values())


def _patient_column(layout: SheetLayout, mapping: ColumnMapping) -> int | None:
    table_mapping = mapping.for_table(layout.table)
    for j, head in enumerate(layout.headers):
        target = table_mapping.target(head)
        if (target.name if target is not None else normalise_header(head)) == "patient_id":
            return j
    return None


def preview_wide(layout: SheetLayout, mapping: ColumnMapping) -> WidePreview:
    """The long rows ``mapping``'s wide rules give on ``layout``, as the reader makes them."""
    pid = _patient_column(layout, mapping)
    body, numbers, headers, labels = layout.body, layout.numbers, layout.headers, layout.labels
    _, rows, problems = take_wide(headers, labels, body, numbers, mapping, pid)
    taken: dict[int, int] = {}
    for number, rule in enumerate(mapping.wide, start=1):
        columns, _, _ = take_wide(headers, labels, (), (), replace(mapping, wide=(rule,)), pid)
        for j in columns:
            taken.setdefault(j, number)
    return WidePreview(rows=rows, taken=taken, problems=tuple(p.message for p in problems))


__all__ = ["SheetLayout", "WidePreview", "block_headers", "preview_wide", "sheet_layouts"]
