"""A starting column mapping for a centre's sheet (``cartcohort map suggest FILE``).

The suggestion finds the header row and the group-label rows, maps the headers it knows
(the clinical synonyms of :mod:`cartcohort.ingest.synonyms`, then the standard's own
names), leaves direct identifiers out (``ignore:``, with the reason), proposes one
``wide:`` rule per block of columns whose group label or header carries a day, and lists
every other header as a comment for the user to decide on. It is a start to edit, never
applied silently: the user reads it, changes it and passes it with ``--mapping``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cartcohort.ingest._layout import find_header, group_labels, localise_dates
from cartcohort.ingest.limits import ReadLimits
from cartcohort.ingest.mapping import normalise_header
from cartcohort.ingest.readers import SheetGrid, read_grids
from cartcohort.ingest.synonyms import synonym_for
from cartcohort.model.standard import TABLE_BY_NAME, analyte_for
from cartcohort.validate.identifiers import header_category

_GROUP_DAY = re.compile(r"(?P<word>\bday)\s*(?P<day>-?\d+)", re.IGNORECASE)
_HEADER_DAY = re.compile(r"^(?P<word>day)\s*(?P<day>-?\d+)[\s_:-]+(?P<column>.+)$", re.IGNORECASE)
_CODES = re.compile(r"(-?\d+)\s*=\s*([^,;)]+)")
_UNIT = re.compile(r"\(([^)]*)\)\s*$")


@dataclass(slots=True)
class _Block:
    """Columns of per-day blocks that share a label prefix (or a header pattern)."""

    pattern: str
    by_header: bool
    headers: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Suggestion:
    header_row: int | None = None
    group_rows: tuple[int, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    ignore: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    blocks: dict[str, _Block] = field(default_factory=dict)
    date_format: str | None = None
    notes: list[str] = field(default_factory=list)


def _q(text: str) -> str:
    """A YAML scalar in double quotes (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _sq(pattern: str) -> str:
    """A regular expression in single quotes (no escapes are read inside them)."""
    return "'" + pattern.replace("'", "''") + "'"


def _block_of(header: str, label: str) -> tuple[str, bool] | None:
    found = _GROUP_DAY.search(label)
    if found is not None:
        prefix = re.escape(label[: found.start()]).replace("\\ ", " ")
        return f"^{prefix}{found.group('word')}\\s*(?P<day>-?\\d+)", False
    found = _HEADER_DAY.match(header)
    if found is not None:
        return f"^{found.group('word')}\\s*(?P<day>-?\\d+)[\\s_:-]+(?P<column>.+)$", True
    return None


def _summary_column(header: str, table: str, out: _Suggestion) -> None:
    found = synonym_for(header)
    if found is not None and found.is_identifier:
        out.ignore[header] = f"direct identifier ({found.source}); never imported"
        return
    if found is not None and found.table == table:
        out.columns[header] = found.column
        out.why[header] = f"synonym ({found.lang}): {found.source}"
        return
    if normalise_header(header) in TABLE_BY_NAME[table].column_names:
        return  # already the standard's name
    category = header_category(header)
    if category is not None:
        out.ignore[header] = f"looks like a direct identifier ({category}); never imported"
        return
    out.unknown.append(header)


def _suggest_grid(grid: SheetGrid, out: _Suggestion) -> None:
    found, _ = find_header(grid.cells, grid.numbers, None)
    if found is None:
        return
    table = grid.table or "patients"
    header = [c.strip() if c else "" for c in grid.cells[found.index]]
    if found.index > 0 or found.groups:
        out.header_row = grid.numbers[found.index]
        out.group_rows = tuple(grid.numbers[i] for i in found.groups)
    labels = group_labels(grid.cells, found.groups, len(header))
    seen: set[str] = set()
    body = grid.cells[found.index + 1 :]
    for j, head in enumerate(header):
        if not head:
            continue
        block = _block_of(head, labels[j])
        if block is not None:
            pattern, by_header = block
            entry = out.blocks.setdefault(pattern, _Block(pattern=pattern, by_header=by_header))
            column = _HEADER_DAY.match(head).group("column") if by_header else head  # type: ignore[union-attr]
            if column not in entry.headers:
                entry.headers.append(column)
            continue
        if head in seen:
            continue
        seen.add(head)
        _summary_column(head, table, out)
        target = out.columns.get(head)
        if target is not None and TABLE_BY_NAME[table].column(target).type in ("date", "day"):
            values = np.array([r[j] if j < len(r) else None for r in body], dtype=object)
            _, _, used = localise_dates(values, declared=None, serials=False)
            if used is not None:
                out.date_format = used.replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY")


def _wide_entry(header: str) -> tuple[str, str]:
    """The fields of one header of a block, and the table: (YAML flow mapping, table)."""
    unit = _UNIT.search(header)
    name = _UNIT.sub("", header).strip()
    lowered = header.casefold()
    if "car" in lowered and ("cells/u" in lowered or "/ul" in lowered or "copies" in lowered):
        kind = "copies_per_ug_dna" if "copies" in lowered else "cells_per_ul"
        return f"{{unit: {kind}}}", "kinetics"
    analyte = analyte_for(name)
    if analyte is None:
        return "", "labs"
    given = unit.group(1).strip() if unit else analyte.unit
    guessed = "" if unit else "  # unit assumed: check"
    return f"{{analyte: {_q(analyte.label)}, unit: {_q(given)}}}{guessed}", "labs"


def _day_column(header: str, dates: Sequence[str]) -> str | None:
    """The date column of a block that names ``header`` (``true date_CRP`` for ``CRP (mg/L)``)."""
    name = normalise_header(_UNIT.sub("", header))
    for date in dates:
        if name and name in normalise_header(date).split("_"):
            return date
    return None


def _render_wide(blocks: Sequence[_Block], out: _Suggestion) -> list[str]:
    lines = ["wide:"]
    for block in blocks:
        entries: list[str] = []
        tables: set[str] = set()
        dates = [h for h in block.headers if "date" in h.casefold()]
        for header in block.headers:
            if header in dates:
                continue
            fields, table = _wide_entry(header)
            dated = _day_column(header, dates)
            if fields and dated is not None and fields.startswith("{"):
                fields = fields.replace("}", f", day_column: {_q(dated)}}}", 1)
            if not fields:
                out.ignore.setdefault(header, "in a per-day block; not an analyte of the standard")
                continue
            tables.add(table)
            entries.append(f"      {_q(header)}: {fields}")
        if not tables:
            continue
        table = "kinetics" if tables == {"kinetics"} else "labs"
        key = "header" if block.by_header else "group"
        lines.extend(
            [f"  - table: {table}", f"    {key}: {_sq(block.pattern)}", "    columns:", *entries]
        )
    return lines if len(lines) > 1 else []


def _render(out: _Suggestion, source: str) -> str:
    lines = [
        f"# Column mapping suggested by `cartcohort map suggest` for {source}.",
        "# A start: check every line, then validate with --mapping (docs/mapping.md).",
        "version: 2",
    ]
    if out.header_row is not None:
        lines.append(f"header_row: {out.header_row}")
        if out.group_rows:
            lines.append(f"group_rows: [{', '.join(str(r) for r in out.group_rows)}]")
    if out.date_format:
        lines.append(f"date_format: {out.date_format}  # assumed from the dates; check")
    lines.append("columns:")
    for header, target in out.columns.items():
        lines.append(f"  {_q(header)}: {target}  # {out.why.get(header, '')}".rstrip(" #"))
        codes = _CODES.findall(header)
        if len(codes) >= 2:
            listed = ", ".join(f"{c} = {v.strip()}" for c, v in codes)
            lines.append(
                f"  # coded ({listed}): recode with a list of targets, e.g. "
                f"[{{to: {target}, values: {{{codes[0][0]}: ...}}}}] (docs/mapping.md)"
            )
    if out.unknown:
        lines.append(
            "  # Not recognised: map each to a column of the standard, or add it to ignore:"
        )
        lines.extend(f"  # {_q(header)}: ?" for header in out.unknown)
    wide = _render_wide(list(out.blocks.values()), out)
    if out.ignore:
        lines.append("ignore:")
        lines.extend(f"  - {_q(h)}  # {why}" for h, why in out.ignore.items())
    lines.extend(wide)
    return "\n".join(lines) + "\n"


def suggest_mapping(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> str:
    """A starting column mapping (YAML text) for a CSV file or workbook.

    Parameters
    ----------
    path
        A CSV or XLSX file, e.g. a centre's own workbook.
    limits
        Read limits (default :data:`~cartcohort.ingest.limits.DEFAULT_LIMITS`).

    Returns
    -------
    str
        YAML in the column-mapping format (version 2), with comments saying why each
        header was mapped, which were left out, and which were not recognised.

    Raises
    ------
    IngestError
        The file does not exist, is not CSV/XLSX or cannot be read.
    """
    out = _Suggestion()
    for grid in read_grids(path, limits=limits):
        _suggest_grid(grid, out)
    return _render(out, str(path))


__all__ = ["suggest_mapping"]
