"""The shape of a centre's sheet: where the header is, group labels, note rows, wide blocks.

Pure functions over a grid of text cells (``str`` or ``None``), used by the readers:

* :func:`find_header` -- the header row (from the mapping, or found: the first row
  with several distinct text cells), and the label rows above it;
* :func:`group_labels` -- each column's group label, the labels of its group rows
  joined by `` / ``; an empty (merged) cell carries the label from its left, within
  the span of the label above it;
* :func:`note_rows` -- rows that are notes, footnotes or totals, not records;
* :func:`take_wide` -- the cells of per-time-point blocks, as rows of long tables;
* :func:`localise_dates` -- ``13.06.2021`` / ``06/13/2021`` as ISO dates.

Problems are returned as :class:`Problem` records; the reader turns them into issues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartcohort.ingest.mapping import (
    ColumnMapping,
    TableMapping,
    WideColumn,
    WideRule,
    normalise_header,
)

Cell = str | None
Grid = Sequence[Sequence[Cell]]

#: How many non-blank rows from the top are searched for the header.
HEADER_SEARCH_ROWS = 30
#: A header row holds text in at least this share of the sheet's columns.
HEADER_FILL = 0.5
#: First-cell prefixes that mark a note, footnote or summary row (case-insensitive).
NOTE_PREFIXES = ("*", "#", "note", "footnote", "total", "mean", "median", "n =", "n=")
_NUMERIC = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*%?\s*$")
_LOCAL_DATE = re.compile(r"^\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4})\s*$")
_EXCEL_SERIAL = re.compile(r"^\s*\d{5}(\.0+)?\s*$")
#: Whole numbers read as Excel date serials in date columns: 1954-10-03 to 2119-01-30.
EXCEL_SERIAL_RANGE = (20000, 80000)
_EXCEL_EPOCH = np.datetime64("1899-12-30")


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem found in the layout, for the reader to report."""

    severity: str
    rule: str
    message: str
    hint: str = ""
    row: int | None = None
    column: str | None = None
    value: str | None = None
    cell: str | None = None
    count: int = 1


def _filled(row: Sequence[Cell]) -> list[str]:
    return [c.strip() for c in row if c is not None and c.strip()]


def _is_text(value: str) -> bool:
    return _NUMERIC.match(value) is None and _LOCAL_DATE.match(value) is None


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> ``A``, 27 -> ``AB``)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """Where the header and the group-label rows of a grid are (grid indices)."""

    index: int
    groups: tuple[int, ...] = ()
    detected: bool = False


def _looks_like_header(row: Sequence[Cell], width: int) -> bool:
    cells = _filled(row)
    if len(cells) < max(2, HEADER_FILL * width):
        return False
    text = [c for c in cells if _is_text(c)]
    # per-day blocks repeat their headers, so distinct names may be few; data rows hold numbers
    return len(text) >= 0.8 * len(cells) and len(set(text)) >= 2


def find_header(
    grid: Grid, numbers: Sequence[int], mapping: ColumnMapping | None
) -> tuple[Header | None, list[Problem]]:
    """The header row and label rows of a grid, and what to tell the user about them.

    ``mapping.header_row`` / ``group_rows`` when given; else the first non-blank row,
    unless it is sparse (a title) and a later row within :data:`HEADER_SEARCH_ROWS`
    holds text (not numbers or dates) in at least half the columns: that row is the
    header and the non-blank rows above it are group labels (said in one line).
    """
    nonblank = [i for i, row in enumerate(grid) if _filled(row)]
    if not nonblank:
        return None, []
    if mapping is not None and mapping.header_row is not None:
        return _declared_header(grid, numbers, mapping, nonblank)
    start = nonblank[0]
    sample = nonblank[:HEADER_SEARCH_ROWS]
    width = max(len(_filled(grid[i])) for i in sample)
    groups_declared = mapping.group_rows if mapping is not None else None
    first = next((i for i in sample if _looks_like_header(grid[i], width)), None)
    if first is not None:
        first = _fullest_header(grid, sample, first, width)
    if first == start:
        return Header(index=start, groups=()), []
    for i in sample[1:]:
        if i == first:
            above = [j for j in nonblank if j < i]
            if groups_declared is not None:
                above = [j for j in above if numbers[j] in groups_declared]
            labels = _rows_span([numbers[j] for j in above])
            message = f"header read from row {numbers[i]}" + (
                f"; {labels} read as group labels" if above else ""
            )
            return Header(index=i, groups=tuple(above), detected=True), [
                Problem(
                    severity="warning",
                    rule="header.detected",
                    message=message + ".",
                    hint=f"If this is wrong, give 'header_row: N' in a column mapping "
                    f"(here: header_row: {numbers[i]}).",
                    row=numbers[i],
                )
            ]
    problems: list[Problem] = []
    if width >= 3 and len(_filled(grid[start])) < HEADER_FILL * width:
        problems.append(
            Problem(
                severity="warning",
                rule="header.sparse",
                message=f"row {numbers[start]}, read as the header, has text in only "
                f"{len(_filled(grid[start]))} of {width} columns: is it a title?",
                hint="Give 'header_row: N' (the row with the column names) in a column mapping.",
                row=numbers[start],
            )
        )
    return Header(index=start), problems


def _fullest_header(grid: Grid, sample: Sequence[int], first: int, width: int) -> int:
    """Of the header-like rows from ``first`` on (before the first row of data), the one with
    the most filled cells: group labels over merged cells have gaps, the header has none."""
    best = first
    for i in sample[sample.index(first) + 1 : sample.index(first) + 6]:
        if not _looks_like_header(grid[i], width):
            break
        if len(_filled(grid[i])) > len(_filled(grid[best])):
            best = i
    return best


def _declared_header(
    grid: Grid, numbers: Sequence[int], mapping: ColumnMapping, nonblank: Sequence[int]
) -> tuple[Header | None, list[Problem]]:
    wanted = mapping.header_row
    if wanted is None or wanted not in numbers or not _filled(grid[list(numbers).index(wanted)]):
        return None, [
            Problem(
                severity="error",
                rule="mapping.header_row",
                message=f"the mapping says the header is row {wanted}, but that row is empty "
                "or beyond the end of the sheet; nothing was read.",
                hint="Give the number of the row that holds the column names "
                f"(the first non-empty row is {numbers[nonblank[0]]}).",
                row=wanted,
            )
        ]
    index = list(numbers).index(wanted)
    if mapping.group_rows is not None:
        groups = tuple(list(numbers).index(r) for r in mapping.group_rows if r in numbers)
    else:
        groups = tuple(i for i in nonblank if i < index)
    return Header(index=index, groups=groups), []


def _rows_span(rows: Sequence[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    if list(rows) == list(range(rows[0], rows[-1] + 1)):
        return f"rows {rows[0]}-{rows[-1]}"
    return "rows " + ", ".join(str(r) for r in rows)


def group_labels(grid: Grid, groups: Sequence[int], width: int) -> list[str]:
    """Each column's group label: its group rows' labels joined by `` / ``.

    An empty cell (how a merged cell reads) carries the label from its left, but not
    across a column where a row above starts a new label.
    """
    labels: list[list[str]] = [[] for _ in range(width)]
    starts: set[int] = set()
    for index in groups:
        row = grid[index]
        current: str | None = None
        new: set[int] = set()
        for j in range(width):
            value = row[j] if j < len(row) else None
            if value is not None and value.strip():
                current = " ".join(value.split())
                new.add(j)
            elif j in starts:
                current = None
            if current:
                labels[j].append(current)
        starts |= new
    return [" / ".join(parts) for parts in labels]


def note_rows(body: Grid, width: int) -> list[tuple[int, str]]:
    """Positions of rows that are notes or totals, with the text that shows it.

    A row whose first filled cell starts with one of :data:`NOTE_PREFIXES`, anywhere;
    and, below the data, a row whose only filled cell holds text with a space (a
    sentence, not an identifier) in a table of at least three columns.
    """
    found: dict[int, str] = {}
    for i, row in enumerate(body):
        cells = _filled(row)
        if cells and cells[0].casefold().startswith(NOTE_PREFIXES):
            found[i] = cells[0]
    if width >= 3:
        for i in range(len(body) - 1, -1, -1):
            cells = _filled(body[i])
            if not cells:
                continue
            if i in found:
                continue
            if len(cells) == 1 and (" " in cells[0] or len(cells[0]) > 20):
                found[i] = cells[0]
                continue
            break
    return sorted(found.items())


# ---------------------------------------------------------------------------------------------
# Wide blocks -> long rows
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class LongRows:
    """Rows of one long table taken from wide blocks, with their source cells."""

    table: str
    records: list[dict[str, Cell]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Taken:
    rule: WideRule
    entry: WideColumn
    day: str | None


def _match(rule: WideRule, header: str, label: str) -> tuple[bool, str | None]:
    """Whether a column's label and header fit the rule's patterns, and the day they give."""
    day: str | None = None
    if rule.group is not None:
        found = rule.group.search(label)
        if found is None:
            return False, None
        day = found.groupdict().get("day") or day
    if rule.header is not None:
        found = rule.header.search(header)
        if found is None:
            return False, None
        day = found.groupdict().get("day") or day
    return True, day


def _plan_columns(
    headers: Sequence[str], labels: Sequence[str], rules: Sequence[WideRule]
) -> tuple[dict[int, _Taken], set[int], list[Problem]]:
    """Which columns each rule takes (values and day columns); first rule wins."""
    taken: dict[int, _Taken] = {}
    day_columns: set[int] = set()
    problems: list[Problem] = []
    for j, header in enumerate(headers):
        for rule in rules:
            if normalise_header(header) in rule.day_column_headers() and (
                rule.group is None or rule.group.search(labels[j]) is not None
            ):
                day_columns.add(j)
                continue
            fits, day = _match(rule, header, labels[j])
            if not fits:
                continue
            entry = rule.entry(header)
            if entry is None:
                continue
            if j in taken:
                problems.append(
                    Problem(
                        severity="warning",
                        rule="wide.overlap",
                        message=f"column {header!r} ({labels[j] or 'no group'}) fits two wide "
                        f"rules ({taken[j].rule.table} and {rule.table}); the first was used.",
                        hint="Make the rules' 'group' or 'header' patterns exclusive.",
                        column=column_letter(j),
                        value=header,
                    )
                )
                continue
            taken[j] = _Taken(rule=rule, entry=entry, day=day)
    return taken, day_columns - set(taken), problems


def _day_source(j: int, taken: _Taken, headers: Sequence[str], labels: Sequence[str]) -> int | None:
    """The column holding the exact day of column ``j``'s values (same group label)."""
    if taken.entry.day_column is None:
        return None
    wanted = normalise_header(taken.entry.day_column)
    for k, header in enumerate(headers):
        if labels[k] == labels[j] and normalise_header(header) == wanted:
            return k
    return None


def take_wide(
    headers: Sequence[str],
    labels: Sequence[str],
    body: Grid,
    numbers: Sequence[int],
    mapping: ColumnMapping,
    patient_column: int | None,
) -> tuple[set[int], dict[str, LongRows], list[Problem]]:
    """Turn the cells of per-time-point blocks into rows of long tables.

    Returns the columns taken (values and day columns), the long rows per table, and
    problems. Every filled cell a rule takes becomes one long row or is counted in one
    problem (``wide.no_day``, ``wide.no_patient_id``).
    """
    taken, day_columns, problems = _plan_columns(headers, labels, mapping.wide)
    out: dict[str, LongRows] = {}
    no_day: list[tuple[int, int]] = []
    no_pid: list[tuple[int, int]] = []
    sources = {j: _day_source(j, t, headers, labels) for j, t in taken.items()}
    for j, take in taken.items():
        long = out.setdefault(take.rule.table, LongRows(table=take.rule.table))
        for i, row in enumerate(body):
            value = row[j] if j < len(row) else None
            if value is None or not value.strip():
                continue
            pid = row[patient_column] if patient_column is not None else None
            if pid is None or not pid.strip():
                no_pid.append((i, j))
                continue
            k = sources[j]
            day = row[k] if k is not None and k < len(row) else None
            day = day if day is not None and day.strip() else take.day
            if day is None:
                no_day.append((i, j))
                continue
            long.records.append(
                {"patient_id": pid, "day": day, **take.entry.fields, take.entry.to: value}
            )
            long.rows.append(numbers[i])
            long.cells.append(f"{column_letter(j)}{numbers[i]}")
    problems.extend(_lost_cells(no_day, no_pid, headers, body, numbers))
    return set(taken) | day_columns, {k: v for k, v in out.items() if v.records}, problems


def _lost_cells(
    no_day: Sequence[tuple[int, int]],
    no_pid: Sequence[tuple[int, int]],
    headers: Sequence[str],
    body: Grid,
    numbers: Sequence[int],
) -> list[Problem]:
    problems: list[Problem] = []
    if no_day:
        i, j = no_day[0]
        problems.append(
            Problem(
                severity="error",
                rule="wide.no_day",
                message=f"{len(no_day)} value(s) of wide blocks have no day: their group label "
                "and header give none and their day column is empty (first: column "
                f"{headers[j]!r}).",
                hint="Add (?P<day>...) to the rule's 'group' or 'header' pattern, or fill the "
                "day column.",
                row=numbers[i],
                column=column_letter(j),
                value=body[i][j],
                cell=f"{column_letter(j)}{numbers[i]}",
                count=len(no_day),
            )
        )
    if no_pid:
        i, j = no_pid[0]
        problems.append(
            Problem(
                severity="error",
                rule="wide.no_patient_id",
                message=f"{len(no_pid)} value(s) of wide blocks are in rows without a "
                "patient_id, so they belong to no patient.",
                hint="Map the header of the patient identifier to patient_id, and fill it in "
                "every row with data.",
                row=numbers[i],
                column=column_letter(j),
                value=body[i][j],
                cell=f"{column_letter(j)}{numbers[i]}",
                count=len(no_pid),
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Local dates and Excel serials -> ISO
# ---------------------------------------------------------------------------------------------
def _format_name(fmt: str) -> str:
    return fmt.replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY")


def localise_dates(
    values: np.ndarray,
    *,
    declared: str | None,
    serials: bool,
) -> tuple[np.ndarray, list[Problem], str | None]:
    """Dates written ``13.06.2021``, ``13/06/2021`` or ``06/13/2021`` as ISO ``2021-06-13``.

    With a declared format (``strptime``), every value in it is converted. Without, the
    values are looked at together: a first number above 12 shows day-first, a second
    above 12 month-first; the format shown is assumed (a warning names it); values that
    fit both are ambiguous (an error; nothing converted). With ``serials``, whole numbers
    in :data:`EXCEL_SERIAL_RANGE` are read as Excel date serials (a warning).

    Returns the values, problems, and the format used (``None`` if none was).
    """
    _, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=object).astype(str)
    if not (
        distinct.str.match(_LOCAL_DATE).any()
        or (serials and distinct.str.match(_EXCEL_SERIAL).any())
    ):
        return values, [], declared  # the usual case, decided on the distinct values only
    text = pd.Series(values, dtype=object)
    present = text.notna()
    if not present.any():
        return values, [], None
    strings = text[present].astype(str)
    problems: list[Problem] = []
    out = values.copy()
    used: str | None = declared
    parts = strings.str.extract(_LOCAL_DATE)
    local = parts[0].notna()
    if local.any():
        if declared is None:
            first = parts.loc[local, 0].astype(int)
            second = parts.loc[local, 2].astype(int)
            sep = str(parts.loc[local, 1].iloc[0])
            day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
            if day_first == month_first:
                example = strings[local].iloc[0]
                what = "both day-first and month-first dates" if day_first else "ambiguous dates"
                problems.append(
                    Problem(
                        severity="error",
                        rule="date.ambiguous",
                        message=f"{int(local.sum())} value(s) are {what} such as {example!r} "
                        f"(day-month or month-day?); they were not read.",
                        hint=f"Declare the format in the column mapping: date_format: "
                        f"DD{sep}MM{sep}YYYY (or MM{sep}DD{sep}YYYY).",
                        value=example,
                        count=int(local.sum()),
                    )
                )
                return out, problems, None
            used = f"%d{sep}%m{sep}%Y" if day_first else f"%m{sep}%d{sep}%Y"
            problems.append(
                Problem(
                    severity="warning",
                    rule="date.format_assumed",
                    message=f"{int(local.sum())} date(s) such as {strings[local].iloc[0]!r} "
                    f"were read as {_format_name(used)} (a value above 12 shows it).",
                    hint=f"Declare it in the column mapping to silence this: date_format: "
                    f"{_format_name(used)}.",
                    value=strings[local].iloc[0],
                    count=int(local.sum()),
                )
            )
        parsed = pd.to_datetime(strings[local], format=used, errors="coerce")
        good = parsed.notna()
        index = np.flatnonzero(present.to_numpy())[local.to_numpy()][good.to_numpy()]
        out[index] = parsed[good].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    if serials:
        out = _serials(out, strings, present, problems)
    return out, problems, used


def _serials(
    out: np.ndarray, strings: pd.Series, present: pd.Series, problems: list[Problem]
) -> np.ndarray:
    serial = strings.str.match(_EXCEL_SERIAL)
    if not serial.any():
        return out
    numbers = strings[serial].astype(float).astype(int)
    low, high = EXCEL_SERIAL_RANGE
    inside = (numbers >= low) & (numbers <= high)
    if not inside.any():
        return out
    days = numbers[inside].to_numpy(dtype=np.int64)
    dates = (_EXCEL_EPOCH + days.astype("timedelta64[D]")).astype(str)
    index = np.flatnonzero(present.to_numpy())[np.flatnonzero(serial.to_numpy())][inside.to_numpy()]
    first = strings[serial][inside].iloc[0]
    out[index] = dates.astype(object)
    problems.append(
        Problem(
            severity="warning",
            rule="date.excel_serial",
            message=f"{len(index)} value(s) such as {first!r} are Excel date serials and were "
            f"read as dates ({first} = {dates[0]}).",
            hint="Format the column as a date in Excel to silence this warning.",
            value=first,
            count=len(index),
        )
    )
    return out


def table_date_format(mapping: TableMapping | None, column: str, header: str) -> str | None:
    """The declared date format for a column (its target's own, then the mapping's)."""
    if mapping is None:
        return None
    target = mapping.target(header) if header else None
    if target is not None and target.date_format is not None:
        return target.date_format
    return mapping.date_format_for(column, header)


__all__ = [
    "EXCEL_SERIAL_RANGE",
    "HEADER_FILL",
    "NOTE_PREFIXES",
    "Header",
    "LongRows",
    "Problem",
    "column_letter",
    "find_header",
    "group_labels",
    "localise_dates",
    "note_rows",
    "table_date_format",
    "take_wide",
]
