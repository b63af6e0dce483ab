"""Read CSV, XLSX, Parquet, a folder of tables or a DuckDB database into raw text tables.

Readers never coerce: every cell arrives as the text the user wrote (``str``) or
``None`` for a missing token (empty, ``NA``, ``N/A``, ``.``, ``unknown`` ...), so
the validator can quote values verbatim. Each table keeps, for every row, the
row number the user sees in their spreadsheet (header = row 1), and, for every
column, the header as written.

Problems that stop a file from being read (empty, binary, not a workbook, ragged
rows ...) become :class:`Issue` objects in :attr:`RawCohort.issues`, never
exceptions: a data manager sees every problem at once. Only a path that does not
exist or has an unsupported extension raises :class:`~cartcohort.errors.IngestError`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import io
import math
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from cartcohort._types import Severity
from cartcohort.errors import IngestError
from cartcohort.ingest._layout import (
    HEADER_FILL,
    NOTE_PREFIXES,
    LongRows,
    Problem,
    find_header,
    group_labels,
    localise_dates,
    note_rows,
    table_date_format,
    take_wide,
)
from cartcohort.ingest.limits import (
    DEFAULT_LIMITS,
    LIMITS_HINT,
    ReadLimits,
    file_size_problem,
    parquet_problem,
    text_problem,
    zip_problem,
)
from cartcohort.ingest.mapping import (
    ColumnMapping,
    TableMapping,
    normalise_header,
    read_mapping,
    resolve_headers,
)
from cartcohort.model.cohort import METADATA_SHEET, SourceFile
from cartcohort.model.standard import MISSING_TOKENS, TABLE_BY_NAME, TABLES, TRUE_TOKENS

ObjectArray = npt.NDArray[np.object_]

#: File extensions read as delimited text.
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
#: File extensions read as Excel workbooks.
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
#: File extensions read as Parquet.
PARQUET_EXTENSIONS = (".parquet", ".pq")
#: File extensions read as DuckDB databases.
DUCKDB_EXTENSIONS = (".duckdb", ".ddb")
#: Files in a cohort folder that hold metadata rather than a table.
METADATA_FILES = ("cohort.yaml", "cohort.yml")
#: Row-level details reported individually per problem before one summary issue.
MAX_ROW_ISSUES = 20

_MISSING = frozenset(MISSING_TOKENS)
#: Characters nobody sees that make two identifiers differ: BOM, zero-width space,
#: zero-width non-joiner and joiner, word joiner.
INVISIBLE_CHARACTERS = "\ufeff\u200b\u200c\u200d\u2060"
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
#: A NUL byte in more than this share of a file's first 64 kB makes it binary, not text.
_BINARY_NUL_SHARE = 0.01
_DELIMITERS = (",", ";", "\t")
_BINARY_MAGIC = (
    (b"PK\x03\x04", "a zip archive, e.g. an .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One problem found while reading or validating a cohort.

    Attributes
    ----------
    severity
        ``"error"`` (the cohort cannot be used until it is fixed) or ``"warning"``
        (the data were used; check that the reading is what you meant).
    rule
        Rule identifier, e.g. ``"range.max"`` (listed in ``docs/validation-rules.md``).
    file
        The file as given by the user (a folder entry is ``folder/name.csv``).
    sheet
        Sheet name for XLSX workbooks, else ``None``.
    table
        Standard table name (``"patients"``, ``"labs"`` ...), or ``""`` for a
        problem with a whole file.
    row
        The row number the user sees in their spreadsheet (header = row 1), or ``None``.
    column
        The column (standard name where known), or ``None``.
    value
        The offending value as written, or ``None``.
    message
        What is wrong, in one sentence.
    hint
        How to fix it.
    count
        How many rows this issue stands for: 1 for a single row; for a summary of
        further rows with the same problem, the number of those rows.
    cell
        The spreadsheet cell the value came from (``"AB7"``) when a row of a long table
        was taken from a wide block (``wide:`` in a column mapping), else ``None``.
    """

    severity: Severity
    rule: str
    file: str
    sheet: str | None = None
    table: str = ""
    row: int | None = None
    column: str | None = None
    value: str | None = None
    message: str
    hint: str = ""
    count: int = 1
    cell: str | None = None

    @property
    def location(self) -> str:
        """``"patients.csv row 7, column crs_grade"`` (file name, sheet, row or cell, column)."""
        parts = [Path(self.file).name if self.file else self.table or "cohort"]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        elif self.row is not None:
            parts.append(f"row {self.row}")
        text = " ".join(parts)
        if self.column:
            text += f", column {self.column}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class RawTable:
    """One table as read: every cell a ``str`` or ``None``, nothing coerced yet.

    Attributes
    ----------
    name
        Standard table name (``"patients"``, ``"labs"`` ...).
    frame
        Object-dtype frame; columns renamed to standard names where known (by the
        mapping or by header normalisation); other columns keep their normalised
        header and are extra columns.
    source
        The file path as given by the user.
    sheet
        Sheet name for XLSX, else ``None``.
    row_numbers
        For each frame row, the row number the user sees (header = row 1). For
        Parquet, DuckDB and in-memory frames, the row the value would have in the
        table written as a spreadsheet with its header in row 1 (first row = 2).
    original_headers
        Column name -> header as written in the file.
    decimal
        Decimal mark of numbers in text: ``","`` for semicolon-separated CSV files
        (European Excel), else ``"."``.
    scales
        Column name -> scale factor from the column mapping (applied after numeric
        parsing).
    cells
        For a long table taken from wide blocks (``wide:`` in a column mapping), the
        source cell of each row's value (``"AB7"``); empty otherwise.
    """

    name: str
    frame: pd.DataFrame
    source: str
    sheet: str | None = None
    row_numbers: tuple[int, ...]
    original_headers: Mapping[str, str] = field(default_factory=dict)
    decimal: Literal[".", ","] = "."
    scales: Mapping[str, float] = field(default_factory=dict)
    cells: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        return len(self.frame)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnCount:
    """How many columns of one file, sheet or frame were recognised.

    Attributes
    ----------
    file, sheet, table
        Where the columns were read, and the table the sheet was read as.
    total
        Columns with a header or data.
    recognised
        Columns read into a column of the standard (by name, mapping or wide rule).
    ignored
        Columns left out by ``ignore:`` in the column mapping.
    """

    file: str
    sheet: str | None = None
    table: str
    total: int
    recognised: int
    ignored: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RawCohort:
    """Every table read from a source, with the problems found while reading.

    Attributes
    ----------
    tables
        Table name -> raw table.
    issues
        Problems found while reading (unreadable files, unknown sheets, ragged
        rows ...). Column-level problems are found later by the validator.
    name
        Cohort label (from ``cohort.yaml``, the DuckDB store, or the file/folder name).
    synthetic
        ``True`` for simulated data (``synthetic: true`` in ``cohort.yaml``).
    sources
        Every file read, with its SHA-256.
    description
        Free text from ``cohort.yaml``.
    path
        The path given to :func:`read_source` (empty for in-memory frames).
    columns
        For every file, sheet or frame read, how many of its columns were recognised.
    """

    tables: Mapping[str, RawTable]
    issues: tuple[Issue, ...] = ()
    name: str = "cohort"
    synthetic: bool = False
    sources: tuple[SourceFile, ...] = ()
    description: str = ""
    path: str = ""
    columns: tuple[ColumnCount, ...] = ()


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
class _Log:
    """Collects issues while reading, and carries the limits the reading is under."""

    def __init__(self, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self.issues: list[Issue] = []
        self.limits = limits
        self.columns: list[ColumnCount] = []

    def problem(self, problem: Problem, where: _Where) -> None:
        """Report a problem found in a sheet's layout."""
        self.add(
            problem.severity,  # type: ignore[arg-type]
            problem.rule,
            where.file,
            problem.message,
            problem.hint,
            table=where.table,
            sheet=where.sheet,
            row=problem.row,
            column=problem.column,
            value=problem.value,
            count=problem.count,
            cell=problem.cell,
        )

    def add(
        self,
        severity: Severity,
        rule: str,
        file: str,
        message: str,
        hint: str = "",
        **where: str | int | None,
    ) -> None:
        self.issues.append(
            Issue(
                severity=severity,
                rule=rule,
                file=file,
                sheet=_opt_str(where.get("sheet")),
                table=str(where.get("table") or ""),
                row=_opt_int(where.get("row")),
                column=_opt_str(where.get("column")),
                value=_opt_str(where.get("value")),
                message=message,
                hint=hint,
                count=_opt_int(where.get("count")) or 1,
                cell=_opt_str(where.get("cell")),
            )
        )

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _table_for(label: str) -> str | None:
    """The standard table a file stem or sheet name refers to (case-insensitive)."""
    key = normalise_header(label)
    return key if key in TABLE_BY_NAME else None


def _suggest_table(label: str) -> str:
    close = difflib.get_close_matches(normalise_header(label), list(TABLE_BY_NAME), n=2, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _rows_text(rows: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def missing_to_none(values: Iterable[object]) -> ObjectArray:
    """Replace missing tokens (and ``None``/NaN) by ``None``; keep every other value verbatim.

    Works on the distinct values only, so it is fast on long columns.
    """
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
    if arr.size == 0:
        return arr
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    if len(uniques) == 0:
        return np.full(arr.size, None, dtype=object)
    missing_u = np.fromiter(
        (isinstance(u, str) and u.strip().casefold() in _MISSING for u in uniques),
        dtype=bool,
        count=len(uniques),
    )
    mask = (codes == -1) | (missing_u[np.maximum(codes, 0)] & (codes >= 0))
    if mask.any():
        arr = arr.copy()
        arr[mask] = None
    return arr


def _float_text(x: float) -> str | None:
    if math.isnan(x):
        return None
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def cell_text(value: object) -> str | None:
    """Text of one typed cell (from Excel, Parquet, DuckDB or a DataFrame), ``None`` if missing.

    Integral floats lose their ``.0`` (Excel and Parquet store every number as a
    float), booleans become ``true``/``false`` and dates ISO ``YYYY-MM-DD``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _float_text(float(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _series_text(series: pd.Series) -> ObjectArray:
    """Text of a typed column, vectorised where the dtype allows."""
    dtype = series.dtype
    values: ObjectArray
    if pd.api.types.is_float_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        arr = series.to_numpy(dtype=np.float64)
        values = np.array([_float_text(x) for x in arr.tolist()], dtype=object)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(series)
        midnight = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
        fmt = "%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%S"
        text = stamps.dt.strftime(fmt)
        values = text.astype(object).where(stamps.notna(), None).to_numpy(dtype=object)
    else:
        values = np.array([cell_text(v) for v in series.astype(object).tolist()], dtype=object)
    return missing_to_none(values)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# From a grid of cells (CSV records or worksheet rows) to a RawTable
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Where:
    """Where a grid came from, for issues."""

    file: str
    table: str
    sheet: str | None = None
    kind: Literal["csv", "sheet", "frame"] = "csv"


def _is_blank(row: Sequence[str | None]) -> bool:
    try:
        return not "".join(row).strip()  # type: ignore[arg-type]  # fast path: all text
    except TypeError:
        return all(c is None or not c.strip() for c in row)


def _table_from_grid(
    grid: Sequence[Sequence[str | None]],
    numbers: Sequence[int],
    where: _Where,
    log: _Log,
    *,
    decimal: Literal[".", ","],
    mapping: ColumnMapping | None,
) -> list[RawTable]:
    """The table of a grid, and the long tables its wide blocks give; ``[]`` without a header.

    The header is the mapping's ``header_row``, else the first non-blank row unless that
    is a title (see :func:`~cartcohort.ingest._layout.find_header`). Rows below it are
    data, except note and total rows (reported, left out).
    """
    found, problems = find_header(grid, numbers, mapping)
    for problem in problems:
        log.problem(problem, where)
    if found is None:
        return []
    start = found.index
    header = [c.strip() if c is not None else "" for c in grid[start]]
    body = list(grid[start + 1 :])
    body_numbers = list(numbers[start + 1 :])
    body, body_numbers = _drop_notes(body, body_numbers, len(header), where, log)
    while body and all(
        c is None for c in body[-1]
    ):  # trailing empty lines / sheet rows (above notes)
        body.pop()
        body_numbers.pop()
    blank = [n for row, n in zip(body, body_numbers, strict=True) if _is_blank(row)]
    if blank:
        log.add(
            "warning",
            "row.blank",
            where.file,
            f"{len(blank)} empty row(s) between data rows were skipped ({_rows_text(blank)}).",
            "Empty rows hold no data; delete them to silence this warning.",
            table=where.table,
            sheet=where.sheet,
            row=blank[0],
            count=len(blank),
        )
        keep = [not _is_blank(row) for row in body]
        body = [row for row, k in zip(body, keep, strict=True) if k]
        body_numbers = [n for n, k in zip(body_numbers, keep, strict=True) if k]
    width = len(header)
    padded = _fit_rows(body, body_numbers, header, where, log)
    table_mapping = mapping.for_table(where.table) if mapping else None
    taken: set[int] = set()
    long_tables: list[RawTable] = []
    if mapping is not None and mapping.wide:
        labels = group_labels(grid, found.groups, width)
        taken, long_tables = _wide_tables(
            header, labels, padded, body_numbers, where, log, mapping, table_mapping
        )
    keep_columns = [j for j in range(width) if j not in taken]
    columns = (
        [missing_to_none([row[j] for row in padded]) for j in keep_columns]
        if padded
        else [np.empty(0, dtype=object) for _ in keep_columns]
    )
    main = _build_table(
        [header[j] for j in keep_columns],
        columns,
        tuple(body_numbers),
        where,
        log,
        decimal=decimal,
        mapping=table_mapping,
        taken=len(taken),
    )
    return [main, *long_tables]


def _drop_notes(
    body: list[Sequence[str | None]],
    numbers: list[int],
    width: int,
    where: _Where,
    log: _Log,
) -> tuple[list[Sequence[str | None]], list[int]]:
    """Leave out note and total rows, with a warning naming each."""
    notes = note_rows(body, width)
    if not notes:
        return body, numbers
    for position, text in notes[:MAX_ROW_ISSUES]:
        log.add(
            "warning",
            "row.note",
            where.file,
            f"this row looks like a note or a total, not a record ({text[:60]!r}); it was "
            "left out.",
            "If it is a record, give it an identifier and values; notes belong below a blank "
            "row in a sheet whose name starts with '_'.",
            table=where.table,
            sheet=where.sheet,
            row=numbers[position],
            value=text[:60],
        )
    if len(notes) > MAX_ROW_ISSUES:
        rest = [numbers[p] for p, _ in notes[MAX_ROW_ISSUES:]]
        log.add(
            "warning",
            "row.note",
            where.file,
            f"{len(rest)} more rows look like notes or totals ({_rows_text(rest)}); they were "
            "left out.",
            "Check that none of them is a record.",
            table=where.table,
            sheet=where.sheet,
            row=rest[0],
            count=len(rest),
        )
    drop = {p for p, _ in notes}
    kept = [i for i in range(len(body)) if i not in drop]
    return [body[i] for i in kept], [numbers[i] for i in kept]


def _patient_column(header: Sequence[str], mapping: TableMapping | None) -> int | None:
    for j, head in enumerate(header):
        target = mapping.target(head) if mapping is not None else None
        if (target.name if target is not None else normalise_header(head)) == "patient_id":
            return j
    return None


def _wide_tables(
    header: Sequence[str],
    labels: Sequence[str],
    body: Sequence[Sequence[str | None]],
    numbers: Sequence[int],
    where: _Where,
    log: _Log,
    mapping: ColumnMapping,
    table_mapping: TableMapping | None,
) -> tuple[set[int], list[RawTable]]:
    """The long tables that the mapping's wide rules take from this grid."""
    taken, longs, problems = take_wide(
        header, labels, body, numbers, mapping, _patient_column(header, table_mapping)
    )
    for problem in problems:
        log.problem(problem, where)
    tables: list[RawTable] = []
    for long in longs.values():
        table = _long_table(long, where, log, mapping)
        if table is not None:
            tables.append(table)
    return taken, tables


def _long_table(
    long: LongRows, where: _Where, log: _Log, mapping: ColumnMapping
) -> RawTable | None:
    if len(long.records) > log.limits.max_rows:
        log.add(
            "error",
            "file.limit",
            where.file,
            f"the wide rules give {len(long.records):,} rows of table {long.table!r}, more than "
            f"the {log.limits.max_rows:,}-row limit; the table was not read.",
            LIMITS_HINT,
            table=long.table,
            sheet=where.sheet,
        )
        return None
    names = list(dict.fromkeys(k for record in long.records for k in record))
    columns = [missing_to_none([record.get(name) for record in long.records]) for name in names]
    long_where = _Where(file=where.file, table=long.table, sheet=where.sheet, kind=where.kind)
    return _build_table(
        names,
        columns,
        tuple(long.rows),
        long_where,
        log,
        decimal=".",
        mapping=mapping.for_table(long.table),
        cells=tuple(long.cells),
        count=False,
    )


def _fit_rows(
    body: Sequence[Sequence[str | None]],
    numbers: Sequence[int],
    header: Sequence[str],
    where: _Where,
    log: _Log,
) -> list[Sequence[str | None]]:
    """Pad short rows with empty cells; report rows with values beyond the header."""
    width = len(header)
    out: list[Sequence[str | None]] = []
    ragged: list[tuple[int, int, list[str]]] = []
    short: list[int] = []
    for row, number in zip(body, numbers, strict=True):
        n = len(row)
        if n == width:
            out.append(row)
        elif n < width:
            if where.kind == "csv":
                short.append(number)
            out.append([*row, *([None] * (width - n))])
        else:
            extra = [c for c in row[width:] if c is not None and c.strip()]
            if extra:
                ragged.append((number, n, extra))
            out.append(row[:width])
    for number, n, extra in ragged[:MAX_ROW_ISSUES]:
        values = ", ".join(repr(c) for c in extra[:5])
        log.add(
            "error",
            "csv.ragged",
            where.file,
            f"row has {n} fields but the header has {width}; the values {values} "
            "beyond the last header belong to no column.",
            "A value probably contains the delimiter: put it in double quotes, or look for "
            "a shifted cell in this row. Nothing was dropped: fix the row and validate again.",
            table=where.table,
            sheet=where.sheet,
            row=number,
            value="; ".join(extra[:5]),
        )
    if len(ragged) > MAX_ROW_ISSUES:
        rest = [r[0] for r in ragged[MAX_ROW_ISSUES:]]
        log.add(
            "error",
            "csv.ragged",
            where.file,
            f"{len(rest)} more rows have more fields than the header ({_rows_text(rest)}); "
            f"{len(ragged)} such rows in total.",
            "Fix the delimiter or quoting of these rows.",
            table=where.table,
            sheet=where.sheet,
            row=rest[0],
            count=len(rest),
        )
    if short:
        log.add(
            "warning",
            "csv.short_row",
            where.file,
            f"{len(short)} row(s) have fewer fields than the header ({_rows_text(short)}); "
            "the missing trailing fields were read as empty.",
            "Check that no value is shifted left in these rows.",
            table=where.table,
            sheet=where.sheet,
            row=short[0],
            count=len(short),
        )
    return out


def _build_table(
    header: Sequence[str],
    columns: Sequence[ObjectArray],
    row_numbers: tuple[int, ...],
    where: _Where,
    log: _Log,
    *,
    decimal: Literal[".", ","],
    mapping: TableMapping | None,
    taken: int = 0,
    cells: tuple[str, ...] = (),
    count: bool = True,
) -> RawTable:
    """Name the columns (mapping, normalisation), drop empty unnamed and ignored ones, recode
    values, add constants, read local dates; count the columns recognised (``taken``: the
    columns wide rules took from the same grid)."""
    kept_headers: list[str] = []
    kept_columns: list[ObjectArray] = []
    ignored = 0
    for head, values in zip(header, columns, strict=True):
        if not head and all(v is None for v in values):
            continue  # trailing delimiters: a column with neither header nor data
        if head and mapping is not None and mapping.ignores(head):
            ignored += 1
            continue
        kept_headers.append(head)
        kept_columns.append(values)
    plan = resolve_headers(kept_headers, mapping)
    spec = TABLE_BY_NAME.get(where.table)
    standard = set(spec.column_names) if spec else set()
    for head, name in plan.duplicates:
        if name not in standard and name not in plan.mapped:
            continue  # a repeated header nobody uses: kept as name_2, listed as extra
        first = plan.original[name]
        log.add(
            "error",
            "header.duplicate",
            where.file,
            f"header {head!r} names the same column as {first!r} ({name}); "
            f"the second one was kept as {plan.names[kept_headers.index(head)]!r}.",
            "Give each column its own header, or delete the duplicate column.",
            table=where.table,
            sheet=where.sheet,
            row=row_numbers[0] - 1 if row_numbers else None,
            column=name,
            value=head,
        )
    data = dict(zip(plan.names, kept_columns, strict=True))
    original = dict(plan.original)
    if mapping is not None:
        _apply_targets(data, original, mapping)
        for column, recode in mapping.values.items():
            if column in data and recode:
                data[column] = _recode(data[column], recode)
        _add_constants(data, original, mapping, len(row_numbers), where, log)
    _read_dates(data, original, mapping, spec, where, log, cells)
    for column in data:
        if column == "patient_id" or column.endswith("_id"):
            data[column] = _strip_invisible(data[column], column, row_numbers, where, log)
    if count:
        recognised = sum(1 for name in plan.names if name in standard)
        log.columns.append(
            ColumnCount(
                file=where.file,
                sheet=where.sheet,
                table=where.table,
                total=len(kept_headers) + ignored + taken,
                recognised=recognised + taken,
                ignored=ignored,
            )
        )
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(row_numbers)), dtype=object)
    return RawTable(
        name=where.table,
        frame=frame,
        source=where.file,
        sheet=where.sheet,
        row_numbers=row_numbers,
        original_headers=original,
        decimal=decimal,
        scales=dict(plan.scales),
        cells=cells,
    )


def _apply_targets(
    data: dict[str, ObjectArray], original: dict[str, str], mapping: TableMapping
) -> None:
    """A target's own ``values`` recoding, and the further targets of one header."""
    for name, head in list(original.items()):
        target = mapping.target(head) if head else None
        if target is None or target.name != name:
            continue
        source = data[name]
        if target.values:
            data[name] = _recode(source, target.values)
        for more in target.also:
            if more.name in data:
                continue
            data[more.name] = _recode(source, more.values) if more.values else source.copy()
            original[more.name] = head


def _add_constants(
    data: dict[str, ObjectArray],
    original: dict[str, str],
    mapping: TableMapping,
    n: int,
    where: _Where,
    log: _Log,
) -> None:
    for column, value in mapping.constants.items():
        if column in data:
            log.add(
                "warning",
                "mapping.constant",
                where.file,
                f"the mapping gives {column} the constant {value!r}, but the sheet has the "
                "column; the sheet's values were kept.",
                "Remove the constant from the mapping, or the column from the sheet.",
                table=where.table,
                sheet=where.sheet,
                column=column,
                value=value,
            )
            continue
        data[column] = np.full(n, value, dtype=object)
        original[column] = f"(constant {value!r})"


def _read_dates(
    data: dict[str, ObjectArray],
    original: Mapping[str, str],
    mapping: TableMapping | None,
    spec: object,
    where: _Where,
    log: _Log,
    cells: tuple[str, ...],
) -> None:
    """Local dates (``13.06.2021``) in date and day columns as ISO; Excel serials in date
    columns as dates."""
    if spec is None:
        return
    for column in list(data):
        if column not in spec.column_names:  # type: ignore[attr-defined]
            continue
        kind = spec.column(column).type  # type: ignore[attr-defined]
        if kind not in ("date", "day"):
            continue
        declared = table_date_format(mapping, column, original.get(column, ""))
        values, problems, _ = localise_dates(
            data[column], declared=declared, serials=kind == "date" or declared is not None
        )
        data[column] = values
        for problem in problems:
            log.problem(
                Problem(
                    severity=problem.severity,
                    rule=problem.rule,
                    message=problem.message,
                    hint=problem.hint,
                    column=column,
                    value=problem.value,
                    count=problem.count,
                ),
                where,
            )


def _strip_invisible(
    values: ObjectArray, column: str, row_numbers: Sequence[int], where: _Where, log: _Log
) -> ObjectArray:
    """Identifiers without BOMs and zero-width characters (they make ``P1`` and ``\\ufeffP1``
    two patients), with one warning naming the rows."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    dirty = [i for i, u in enumerate(uniques) if isinstance(u, str) and _INVISIBLE.search(u)]
    if not dirty:
        return values
    new_u = np.asarray(uniques, dtype=object).copy()
    for i in dirty:
        new_u[i] = _INVISIBLE.sub("", new_u[i])
    out: ObjectArray = new_u[np.maximum(codes, 0)]
    out[codes < 0] = None
    positions = np.flatnonzero(np.isin(codes, dirty))
    rows = [row_numbers[i] for i in positions.tolist()]
    first = str(values[positions[0]])
    log.add(
        "warning",
        "row.invisible_characters",
        where.file,
        f"{len(rows)} value(s) of {column} held invisible characters (byte-order mark or "
        f"zero-width space; {_rows_text(rows)}), e.g. {first!r}; they were removed, so the "
        f"value reads {_INVISIBLE.sub('', first)!r}.",
        "Such characters come from copying identifiers out of another document; remove them "
        "in the source file to silence this warning.",
        table=where.table,
        sheet=where.sheet,
        row=rows[0],
        column=column,
        value=first,
        count=len(rows),
    )
    return missing_to_none(out)


def _recode(values: ObjectArray, recode: Mapping[str, str]) -> ObjectArray:
    lookup = {k.strip().casefold(): v for k, v in recode.items()}
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0:
        return values
    new_u = np.array([lookup.get(str(u).strip().casefold(), u) for u in uniques], dtype=object)
    out: ObjectArray = new_u[np.maximum(codes, 0)]
    out[codes < 0] = None
    return missing_to_none(out)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------
def _binary_reason(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (Excel's "Unicode text"): NUL bytes are expected
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            return f"it starts like {what}"
    sample = data[:65536]
    if sample.count(b"\x00") > _BINARY_NUL_SHARE * len(sample):
        return "it contains NUL bytes"
    return None


@dataclass(frozen=True, slots=True)
class _Fallback:
    """Bytes of a UTF-8 file that are not UTF-8, read as Windows-1252 (or Latin-1)."""

    offset: int  # in the decoded text
    raw: bytes
    text: str


def _decode(data: bytes) -> tuple[str, str, list[_Fallback]]:
    """The text, its encoding, and for a UTF-8 file with stray non-UTF-8 bytes each such place.

    A file with no UTF-8 multi-byte character that is not valid UTF-8 is Windows-1252
    (Latin-1 where a byte is undefined there). A file with both (UTF-8 ``é`` in one row and
    a Windows-1252 ``ü`` in another, from pasting) is read as UTF-8 where it is UTF-8 and
    each stray byte as Windows-1252, so ``José`` stays ``José``.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", []
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        return _decode_mixed(data)
    try:
        return data.decode("cp1252"), "cp1252", []
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", []


def _decode_mixed(data: bytes) -> tuple[str, str, list[_Fallback]]:
    escaped = data.decode("utf-8-sig", errors="surrogateescape")
    parts: list[str] = []
    fallbacks: list[_Fallback] = []
    end = 0
    length = 0
    for match in _ESCAPED_BYTES.finditer(escaped):
        before = escaped[end : match.start()]
        parts.append(before)
        length += len(before)
        raw = bytes(ord(c) - 0xDC00 for c in match.group())
        text = "".join(_byte_text(b) for b in raw)
        fallbacks.append(_Fallback(length, raw, text))
        parts.append(text)
        length += len(text)
        end = match.end()
    parts.append(escaped[end:])
    return "".join(parts), "mixed", fallbacks


def _byte_text(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


def _line_numbers(text: str, offsets: Sequence[int]) -> list[int]:
    """The 1-based line of each offset (ascending) in ``text``."""
    lines: list[int] = []
    line, last = 1, 0
    for offset in offsets:
        line += text.count("\n", last, offset)
        last = offset
        lines.append(line)
    return lines


def _report_nul(text: str, display: str, table: str, log: _Log) -> None:
    """An error for each line with a NUL byte: programs that read C strings cut the value
    there, so what is stored could differ from what the file shows."""
    offsets = [m.start() for m in re.finditer("\x00", text)]
    if not offsets:
        return
    lines = sorted(set(_line_numbers(text, offsets)))
    for line in lines[:MAX_ROW_ISSUES]:
        log.add(
            "error",
            "csv.nul",
            display,
            "this line holds a NUL byte (character 0), which is never part of real data; a "
            "value containing it may be cut short by other programs.",
            "Delete the NUL byte (a text editor shows it as \\0 or NUL), or export the table "
            "again from its source.",
            table=table,
            row=line,
        )
    if len(lines) > MAX_ROW_ISSUES:
        rest = lines[MAX_ROW_ISSUES:]
        log.add(
            "error",
            "csv.nul",
            display,
            f"{len(rest)} more lines hold NUL bytes ({_rows_text(rest)}).",
            "Delete the NUL bytes, or export the table again from its source.",
            table=table,
            row=rest[0],
            count=len(rest),
        )


def _report_fallbacks(
    text: str, fallbacks: Sequence[_Fallback], delimiter: str, where: _Where, log: _Log
) -> None:
    """One warning per cell whose bytes were not UTF-8 in an otherwise UTF-8 file."""
    if not fallbacks:
        return
    first_line = text[: text.find("\n") + 1 or None]
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    lines = _line_numbers(text, [f.offset for f in fallbacks])
    for fallback, line in list(zip(fallbacks, lines, strict=True))[:MAX_ROW_ISSUES]:
        start = text.rfind("\n", 0, fallback.offset) + 1
        before = next(csv.reader([text[start : fallback.offset]], delimiter=delimiter), [""])
        index = max(len(before) - 1, 0)
        column = normalise_header(header[index]) if index < len(header) else None
        raw = " ".join(f"0x{b:02X}" for b in fallback.raw)
        log.add(
            "warning",
            "file.mixed_encoding",
            where.file,
            f"the file is UTF-8 except here: byte(s) {raw} are not UTF-8 and were read as "
            f"Windows-1252 {fallback.text!r}, giving {before[-1] if before else ''}"
            f"{fallback.text}...",
            "Check the value, then save the file as 'CSV UTF-8' so every character is stored "
            "one way.",
            table=where.table,
            row=line,
            column=column,
            value=fallback.text,
        )
    if len(fallbacks) > MAX_ROW_ISSUES:
        rest = sorted(set(lines[MAX_ROW_ISSUES:]))
        log.add(
            "warning",
            "file.mixed_encoding",
            where.file,
            f"{len(fallbacks) - MAX_ROW_ISSUES} more places hold bytes that are not UTF-8 "
            f"({_rows_text(rest)}); they were read as Windows-1252.",
            "Save the file as 'CSV UTF-8' so every character is stored one way.",
            table=where.table,
            row=rest[0],
            count=len(fallbacks) - MAX_ROW_ISSUES,
        )


def _looks_like_text(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return True
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f\v")
    return control / len(sample) < 0.05


def _sniff_delimiter(text: str) -> str:
    """The delimiter among ``,`` ``;`` tab that splits the first lines most consistently."""
    lines = [ln for ln in text[:200_000].splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0.0, 0)
    for delim in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        if not rows:
            continue
        n_header = len(rows[0])
        if n_header < 2:
            continue
        consistent = sum(1 for r in rows if len(r) == n_header) / len(rows)
        score = (1, consistent, n_header)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(
    path: Path, display: str, table: str, log: _Log, mapping: ColumnMapping | None
) -> tuple[list[RawTable], bytes]:
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\x0b\x0c\xef\xbb\xbf"):
        log.add(
            "error",
            "file.empty",
            display,
            "file is empty.",
            "Export the table again; a CSV needs a header row and one row per record.",
            table=table,
        )
        return [], data
    reason = _binary_reason(data)
    fallbacks: list[_Fallback] = []
    if reason is None:
        text, encoding, fallbacks = _decode(data)
        if not _looks_like_text(text):
            reason = "most of its first characters are control characters"
    if reason is not None:
        log.add(
            "error",
            "file.binary",
            display,
            f"file is not a text CSV (it looks binary: {reason}; e.g. an Excel file saved "
            "with a .csv name?).",
            "Open it in Excel and use File > Save As > CSV, or rename an Excel workbook to .xlsx.",
            table=table,
        )
        return [], data
    if encoding in ("cp1252", "latin-1"):
        log.add(
            "warning",
            "file.encoding",
            display,
            "file is not valid UTF-8; it was read as Latin-1 (Windows-1252). Check accented "
            "characters in the data.",
            "Save the file as 'CSV UTF-8' to silence this warning.",
            table=table,
        )
    delimiter = _sniff_delimiter(text)
    problem = text_problem(text, delimiter, log.limits)
    if problem is not None:
        log.add(
            "error", "file.limit", display, f"file not read: {problem}.", LIMITS_HINT, table=table
        )
        return [], data
    _report_nul(text, display, table, log)
    decimal: Literal[".", ","] = "," if delimiter == ";" else "."
    where = _Where(file=display, table=table, kind="csv")
    _report_fallbacks(text, fallbacks, delimiter, where, log)
    fast = (
        None
        if mapping is not None and mapping.reshapes
        else _read_plain_csv(
            text,
            delimiter,
            where,
            log,
            decimal=decimal,
            mapping=mapping.for_table(table) if mapping else None,
        )
    )
    if fast is not None:
        return [fast], data
    try:
        records, starts = _csv_records(text, delimiter)
    except csv.Error as exc:
        log.add(
            "error",
            "file.unreadable",
            display,
            f"file cannot be parsed as CSV: {exc}.",
            'An unclosed double quote (") usually causes this: close or remove it.',
            table=table,
        )
        return [], data
    grid: list[Sequence[str | None]] = records  # type: ignore[assignment]
    numbers = list(range(1, len(records) + 1))
    found = _table_from_grid(grid, numbers, where, log, decimal=decimal, mapping=mapping)
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if found and n_lines > len(records):  # some record spans several lines
        _check_multiline(found[0], log, _Lines(starts, n_lines, len(records), delimiter))
    return found, data


def _csv_records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The records of a CSV text and the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    starts: list[int] = []
    last = 0
    for record in reader:
        records.append(record)
        starts.append(last + 1)
        last = reader.line_num
    return records, starts


def _read_plain_csv(
    text: str,
    delimiter: str,
    where: _Where,
    log: _Log,
    *,
    decimal: Literal[".", ","],
    mapping: TableMapping | None,
) -> RawTable | None:
    """The fast path for a plain CSV, or ``None`` when the general reader must be used.

    Python's ``csv`` module and the per-row checks of :func:`_table_from_grid` cost about
    5 s per million rows; pandas' C parser reads the same text in a tenth of that. It is
    used only where both must agree on every cell: no double quote anywhere in the file
    (so no quoted delimiters, quoted line breaks or escaped quotes), a non-blank header,
    and no row that is blank, shorter or longer than the header. Anything else returns
    ``None`` (the C parser raises on a longer row and pads a shorter one, which the
    delimiter count shows; blank rows read as all-empty), and the general reader reads
    the file and reports each such row. Cells are kept verbatim as text, as the general
    reader keeps them.
    """
    if '"' in text:
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
            low_memory=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    # without quotes every delimiter separates two fields, so a file of rows as wide as its
    # header has exactly (width - 1) delimiters per row; a short row (which the C parser
    # pads) makes the count smaller
    if frame.empty or text.count(delimiter) != (frame.shape[1] - 1) * len(frame):
        return None
    values = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    header = [str(v[0]).strip() for v in values]
    if sum(1 for h in header if h) < max(1, HEADER_FILL * len(header)):
        return None  # a title row above the header, or no header: the general reader
    if _may_hold_notes(values):
        return None
    columns = [missing_to_none(v[1:]) for v in values]
    # blank rows: every cell empty or white space (such cells are None after
    # missing_to_none, as are missing tokens such as "NA", hence the second look)
    rows = np.arange(len(frame) - 1)
    for column, raw in zip(columns, values, strict=True):
        rows = rows[pd.isna(column[rows])]
        rows = rows[[not str(v).strip() for v in raw[1:][rows]]] if rows.size else rows
        if not rows.size:
            break
    if rows.size:
        return None
    numbers = tuple(range(2, len(frame) + 1))
    return _build_table(header, columns, numbers, where, log, decimal=decimal, mapping=mapping)


_NOTE_START = "|".join(re.escape(p) for p in NOTE_PREFIXES)


def _may_hold_notes(values: Sequence[ObjectArray]) -> bool:
    """Whether a note or total row may be among the rows (the general reader reports it)."""
    first = pd.Series(values[0][1:], dtype=object).astype(str).str.strip().str.casefold()
    if first.str.match(_NOTE_START).any():
        return True
    tail = [
        [str(v[i]) or None for v in values]
        for i in range(max(1, len(values[0]) - 20), len(values[0]))
    ]
    return bool(note_rows(tail, len(values)))


@dataclass(frozen=True, slots=True)
class _Lines:
    """How the records of a CSV file lie on its lines."""

    starts: Sequence[int]  # line on which record i (0-based, header included) starts
    n_lines: int
    n_records: int
    delimiter: str


def _swallowed_rows(value: str, lines: _Lines, width: int) -> int:
    """How many lines inside ``value`` look like rows of the table (an unclosed quote)."""
    need = max(width - 1, 1)
    return sum(1 for ln in value.splitlines()[1:] if ln.count(lines.delimiter) >= need)


def _check_multiline(raw: RawTable, log: _Log, lines: _Lines) -> None:
    """A value with line breaks: an error when the lines inside it look like rows (an
    unclosed double quote swallowed them), else one warning per column."""
    width = raw.frame.shape[1]
    for name in raw.frame.columns:
        values = raw.frame[name].to_numpy(dtype=object)
        warned = False
        for i, v in enumerate(values):
            if not (isinstance(v, str) and ("\n" in v or "\r" in v)):
                continue
            swallowed = _swallowed_rows(v, lines, width)
            if swallowed:
                row = raw.row_numbers[i]
                line = lines.starts[row - 1]
                log.add(
                    "error",
                    "csv.unclosed_quote",
                    raw.source,
                    f'a double quote (") opens in this row (line {line} of the file) and is not '
                    f"closed where the row ends: {swallowed} following line(s) that look like "
                    "rows were read into this one value. The file has "
                    f"{lines.n_lines} lines but gave {lines.n_records} rows.",
                    'Close the quote or delete it (a quote inside a value is written "" inside '
                    "a quoted value), then validate again. Nothing was imported.",
                    table=raw.name,
                    row=row,
                    column=str(name),
                    value=v[:60],
                )
                continue
            if not warned:
                warned = True
                log.add(
                    "warning",
                    "csv.multiline",
                    raw.source,
                    "the value spans several lines: a quoted value with line breaks, or an "
                    'unclosed double quote (") that joined the following rows into one cell.',
                    "If rows are missing after this one, close the quote.",
                    table=raw.name,
                    row=raw.row_numbers[i],
                    column=str(name),
                    value=v[:60],
                )


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------
def _read_xlsx(
    path: Path,
    display: str,
    default_table: str | None,
    log: _Log,
    mapping: ColumnMapping | None,
) -> list[RawTable]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (XML ParseError, KeyError, ...)
        log.add(
            "error",
            "file.unreadable",
            display,
            f"file cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}).",
            "Open it in Excel and save it again as .xlsx (Excel Workbook).",
            table=default_table or "",
        )
        return []
    try:
        formulas = _formula_cells(path)
        return _read_sheets(wb, display, default_table, log, mapping, formulas)
    finally:
        with contextlib.suppress(Exception):
            wb.close()


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formula_tag(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet's XML holds a formula element (read in chunks, not parsed)."""
    for info in archive.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        tail = b""
        with archive.open(info) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    return False


def _formula_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Sheet title -> (row, column) of every formula cell; ``{}`` for a workbook without."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            if not _has_formula_tag(archive):
                return {}
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception:  # the main read reports a workbook openpyxl cannot open
        return {}
    try:
        found: dict[str, set[tuple[int, int]]] = {}
        for ws in wb.worksheets:
            cells = {
                (cell.row, cell.column)
                for row in ws.iter_rows()
                for cell in row
                if getattr(cell, "data_type", None) == "f"
            }
            if cells:
                found[str(ws.title)] = cells
        return found
    except Exception:  # a damaged sheet: the main read reports it with its name
        return {}
    finally:
        with contextlib.suppress(Exception):
            wb.close()


def _report_uncached(
    grid: Sequence[Sequence[str | None]],
    formulas: set[tuple[int, int]],
    where: _Where,
    log: _Log,
) -> None:
    """An error for each formula cell without a saved result: it would read as empty."""
    header_at = next((i for i, row in enumerate(grid) if not _is_blank(row)), 0)
    header = grid[header_at] if grid else []
    from openpyxl.utils import get_column_letter

    def unread(r: int, c: int) -> bool:
        return r > len(grid) or c > len(grid[r - 1]) or grid[r - 1][c - 1] is None

    empty = sorted((r, c) for r, c in formulas if unread(r, c))

    names = [f"{get_column_letter(c)}{r}" for r, c in empty]
    for (r, c), name in list(zip(empty, names, strict=True))[:MAX_ROW_ISSUES]:
        head = header[c - 1] if c <= len(header) else None
        log.add(
            "error",
            "sheet.formula_uncached",
            where.file,
            f"cell {name} holds a formula whose result was never saved in the file, so it "
            "reads as empty.",
            "Open the workbook in Excel or LibreOffice and save it (the results are then "
            "stored), or replace the formulas by their values (Paste Special > Values).",
            table=where.table,
            sheet=where.sheet,
            row=r,
            column=normalise_header(head) if head else None,
        )
    if len(empty) > MAX_ROW_ISSUES:
        rest = empty[MAX_ROW_ISSUES:]
        log.add(
            "error",
            "sheet.formula_uncached",
            where.file,
            f"{len(rest)} more formula cells have no saved result "
            f"({', '.join(names[MAX_ROW_ISSUES : MAX_ROW_ISSUES + 5])} ...).",
            "Open the workbook in Excel or LibreOffice and save it.",
            table=where.table,
            sheet=where.sheet,
            row=rest[0][0],
            count=len(rest),
        )


class _SheetTooLargeError(Exception):
    """A sheet beyond the row or column limit (the message says which)."""


def _sheet_grid(ws: object, limits: ReadLimits) -> tuple[list[list[str | None]], list[int]]:
    """The sheet's cells as text, streamed; stops at the first row beyond the limits."""
    grid: list[list[str | None]] = []
    rows = ws.iter_rows(min_row=1, values_only=True)  # type: ignore[attr-defined]
    for values in rows:
        if len(values) > limits.max_columns:
            msg = f"it is {len(values):,} columns wide, more than the {limits.max_columns:,} limit"
            raise _SheetTooLargeError(msg)
        if len(grid) > limits.max_rows:  # the header row and max_rows rows are allowed
            msg = f"it has more than {limits.max_rows:,} rows, the limit"
            raise _SheetTooLargeError(msg)
        grid.append([cell_text(v) for v in values])
    return grid, list(range(1, len(grid) + 1))


def _read_sheets(
    wb: object,
    display: str,
    default_table: str | None,
    log: _Log,
    mapping: ColumnMapping | None,
    formulas: Mapping[str, set[tuple[int, int]]],
) -> list[RawTable]:
    sheets = [ws for ws in wb.worksheets if not ws.title.startswith("_")]  # type: ignore[attr-defined]
    single = len(sheets) == 1
    tables: list[RawTable] = []
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for ws in sheets:
        title = str(ws.title)
        table = _table_for(title) or (default_table if single else None)
        try:
            grid, numbers = _sheet_grid(ws, log.limits)
        except _SheetTooLargeError as exc:
            log.add(
                "error",
                "file.limit",
                display,
                f"sheet {title!r} not read: {exc}.",
                LIMITS_HINT,
                sheet=title,
            )
            continue
        except Exception as exc:  # a damaged sheet: openpyxl raises many types
            log.add(
                "error",
                "file.unreadable",
                display,
                "this sheet cannot be read: it holds something the Excel file format does "
                f"not allow ({type(exc).__name__}: {exc}).",
                "Open it in Excel and save it again as .xlsx (Excel Workbook), or save the "
                "sheet as CSV.",
                sheet=title,
            )
            continue
        if table is None:
            if any(not _is_blank(r) for r in grid):
                unknown.append(title)
            continue
        if table in seen:
            log.add(
                "error",
                "file.duplicate_table",
                display,
                f"sheets {seen[table]!r} and {title!r} both hold table {table!r}; "
                f"only {seen[table]!r} was read.",
                "Keep one sheet per table.",
                table=table,
                sheet=title,
            )
            continue
        where = _Where(file=display, table=table, sheet=title, kind="sheet")
        if title in formulas:
            _report_uncached(grid, formulas[title], where, log)
        found = _table_from_grid(grid, numbers, where, log, decimal=".", mapping=mapping)
        seen[table] = title
        for raw in found:
            if raw is not found[0] and raw.name in seen:
                log.add(
                    "error",
                    "file.duplicate_table",
                    display,
                    f"the wide rules take table {raw.name!r} from sheet {title!r}, but sheet "
                    f"{seen[raw.name]!r} holds it too; only {seen[raw.name]!r} was read.",
                    "Keep one source per table.",
                    table=raw.name,
                    sheet=title,
                )
                continue
            seen.setdefault(raw.name, title)
            if raw.n_rows == 0 and not single:
                continue  # an unfilled sheet of the template: nothing to read, nothing lost
            tables.append(raw)
    for title in unknown:
        log.add(
            "warning",
            "sheet.unknown",
            display,
            f"sheet {title!r} is not a table of the standard and was not read."
            + _suggest_table(title),
            "Rename the sheet to a table name ("
            + ", ".join(t.name for t in TABLES)
            + "), or start its name with '_' to mark it as notes.",
            sheet=title,
        )
    return tables


# ---------------------------------------------------------------------------------------------
# Parquet, DuckDB and in-memory frames
# ---------------------------------------------------------------------------------------------
def _table_from_frame(
    frame: pd.DataFrame,
    where: _Where,
    log: _Log,
    mapping: TableMapping | None,
) -> RawTable:
    header = [str(c) for c in frame.columns]
    columns = [_series_text(frame.iloc[:, j]) for j in range(frame.shape[1])]
    rows = tuple(range(2, len(frame) + 2))
    return _build_table(header, columns, rows, where, log, decimal=".", mapping=mapping)


def _read_parquet(
    path: Path, display: str, table: str, log: _Log, mapping: ColumnMapping | None
) -> RawTable | None:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        log.add(
            "error",
            "file.unreadable",
            display,
            f"file cannot be read as Parquet ({type(exc).__name__}: {exc}).",
            "Write the file again, or export the table as CSV.",
            table=table,
        )
        return None
    where = _Where(file=display, table=table, kind="frame")
    return _table_from_frame(
        frame.reset_index(drop=True), where, log, mapping.for_table(table) if mapping else None
    )


def _read_duckdb(
    path: Path, display: str, log: _Log, mapping: ColumnMapping | None
) -> tuple[list[RawTable], dict[str, object]]:
    import duckdb

    meta: dict[str, object] = {}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        log.add(
            "error",
            "file.unreadable",
            display,
            f"file cannot be opened as a DuckDB database ({exc}).",
            "Check that it is a DuckDB database written by a compatible DuckDB version.",
        )
        return [], meta
    tables: list[RawTable] = []
    try:
        names = [str(r[0]) for r in con.execute("SHOW TABLES").fetchall()]
        if "_cohort" in names:
            row = con.execute("SELECT * FROM _cohort LIMIT 1").fetchdf()
            if len(row):
                meta = {str(k): v for k, v in row.iloc[0].to_dict().items()}
        for name in names:
            if name.startswith("_"):
                continue
            table = _table_for(name)
            if table is None:
                log.add(
                    "warning",
                    "sheet.unknown",
                    display,
                    f"database table {name!r} is not a table of the standard and was not read."
                    + _suggest_table(name),
                    "Rename the table to a standard table name to read it.",
                )
                continue
            frame = con.execute(f'SELECT * FROM "{name}"').fetchdf()
            where = _Where(file=display, table=table, sheet=None, kind="frame")
            tables.append(
                _table_from_frame(frame, where, log, mapping.for_table(table) if mapping else None)
            )
    except duckdb.Error as exc:
        log.add(
            "error",
            "file.unreadable",
            display,
            f"the database cannot be read ({exc}).",
            "Check the file with the duckdb command-line client.",
        )
    finally:
        con.close()
    return tables, meta


def read_frames(
    frames: Mapping[str, pd.DataFrame],
    *,
    name: str = "cohort",
    synthetic: bool = False,
    source: str = "<memory>",
    mapping: ColumnMapping | None = None,
) -> RawCohort:
    """Turn in-memory DataFrames into a raw cohort, as if they had been read from files.

    Parameters
    ----------
    frames
        Table name -> frame with any dtypes; values are turned into text the way a
        file would hold them (integral floats lose ``.0``, dates become ISO).
    name, synthetic
        Cohort label and whether the data are simulated.
    source
        Label used as the file name in issues (each table is ``source/table``).
    mapping
        Optional column mapping.

    Returns
    -------
    RawCohort
        Raw tables ready for :func:`cartcohort.validate.validate_cohort`.
    """
    log = _Log()
    tables: dict[str, RawTable] = {}
    for label, frame in frames.items():
        table = _table_for(label)
        if table is None:
            log.add(
                "warning",
                "sheet.unknown",
                source,
                f"table {label!r} is not a table of the standard and was not read."
                + _suggest_table(label),
                "Use the standard table names.",
            )
            continue
        where = _Where(file=f"{source}/{table}", table=table, kind="frame")
        tables[table] = _table_from_frame(
            frame.reset_index(drop=True), where, log, mapping.for_table(table) if mapping else None
        )
    return RawCohort(
        tables=tables,
        issues=tuple(log.issues),
        name=name,
        synthetic=synthetic,
        path=source,
        columns=tuple(log.columns),
    )


# ---------------------------------------------------------------------------------------------
# Files and folders
# ---------------------------------------------------------------------------------------------
def _read_one(
    path: Path,
    display: str,
    default_table: str | None,
    log: _Log,
    mapping: ColumnMapping | None,
) -> tuple[list[RawTable], str]:
    """Read one table file; returns its tables and the file's SHA-256.

    The file's size, and an XLSX archive's or Parquet file's declared contents, are checked
    against the limits first; a file beyond them is not read (``file.limit``).
    """
    problem = _limit_problem(path, log.limits)
    if problem is not None:
        log.add(
            "error",
            "file.limit",
            display,
            f"file not read: {problem}.",
            LIMITS_HINT,
            table=default_table or "",
        )
        return [], _file_sha256(path)
    ext = path.suffix.lower()
    if ext in TEXT_EXTENSIONS:
        found, data = _read_csv(path, display, default_table or "patients", log, mapping)
        sha = _sha256(data)
    elif ext in EXCEL_EXTENSIONS:
        found, sha = _read_xlsx(path, display, default_table, log, mapping), _file_sha256(path)
    else:
        raw_pq = _read_parquet(path, display, default_table or "patients", log, mapping)
        found, sha = ([raw_pq] if raw_pq is not None else []), _file_sha256(path)
    for raw in found:
        _check_cell_lengths(raw, log)
    return found, sha


def _limit_problem(path: Path, limits: ReadLimits) -> str | None:
    ext = path.suffix.lower()
    problem = file_size_problem(path, limits)
    if problem is None and ext in EXCEL_EXTENSIONS:
        problem = zip_problem(path, limits)
    if problem is None and ext in PARQUET_EXTENSIONS:
        problem = parquet_problem(path, limits)
    return problem


def _check_cell_lengths(raw: RawTable, log: _Log) -> None:
    """An error for the first over-long cell of each column (beyond ``max_cell_chars``)."""
    limit = log.limits.max_cell_chars
    for name in raw.frame.columns:
        lengths = raw.frame[name].str.len().to_numpy(dtype=np.float64, na_value=0.0)
        over = np.flatnonzero(lengths > limit)
        if over.size == 0:
            continue
        first = int(over[0])
        log.add(
            "error",
            "file.limit",
            raw.source,
            f"{over.size} cell(s) of this column are longer than the {limit:,}-character "
            f"limit; this one has {int(lengths[first]):,} characters (an unclosed quote, or a "
            "file pasted into a cell?).",
            "Shorten the value, or raise the limit (Python: ReadLimits(max_cell_chars=...)).",
            table=raw.name,
            sheet=raw.sheet,
            row=raw.row_numbers[first],
            column=str(name),
            value=str(raw.frame[name].iloc[first])[:60],
            count=int(over.size),
        )


def _no_rows(raw: RawTable, log: _Log, *, severity: Severity) -> None:
    log.add(
        severity,
        "file.no_rows",
        raw.source,
        "has a header but no data rows.",
        "Add one row per record below the header"
        + (", or delete the file." if severity == "warning" else "."),
        table=raw.name,
        sheet=raw.sheet,
    )


def _read_folder(
    folder: Path, display: str, log: _Log, mapping: ColumnMapping | None
) -> tuple[dict[str, RawTable], list[SourceFile], dict[str, object]]:
    tables: dict[str, RawTable] = {}
    sources: list[SourceFile] = []
    meta: dict[str, object] = {}
    readable = (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS, *PARQUET_EXTENSIONS)
    for entry in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
        shown = str(Path(display) / entry.name)
        if entry.name.startswith((".", "~$", "_")) or entry.suffix.lower() == ".md":
            continue  # hidden files, Office lock files, notes, README.md
        if entry.name.lower() in METADATA_FILES:
            meta = _read_metadata(entry, shown, log)
            continue
        table = _table_for(entry.stem)
        if entry.is_dir() or entry.suffix.lower() not in readable:
            what = "folder" if entry.is_dir() else "file"
            log.add(
                "warning",
                "file.ignored",
                shown,
                f"{what} {entry.name!r} is not a table file (.csv, .xlsx, .parquet) and was "
                "not read.",
                "Only files named after a table (patients.csv, labs.xlsx ...) are read.",
            )
            continue
        is_excel = entry.suffix.lower() in EXCEL_EXTENSIONS
        if table is None and not is_excel:
            log.add(
                "warning",
                "file.ignored",
                shown,
                f"file {entry.name!r} is not named after a table of the standard and was not "
                "read." + _suggest_table(entry.stem),
                "Name each file after its table: " + ", ".join(t.name for t in TABLES) + ".",
            )
            continue
        found, sha = _read_one(entry, shown, table, log, mapping)
        if is_excel and table is None and not found:
            continue
        read_here: list[str] = []
        for raw in found:
            if raw.name in tables:
                log.add(
                    "error",
                    "file.duplicate_table",
                    shown,
                    f"table {raw.name!r} is given twice: in {tables[raw.name].source!r} and "
                    f"here; only the first was read.",
                    "Keep one file per table.",
                    table=raw.name,
                    sheet=raw.sheet,
                )
                continue
            if raw.n_rows == 0:
                _no_rows(raw, log, severity="warning")
                continue
            tables[raw.name] = raw
            read_here.append(raw.name)
        sources.append(SourceFile(path=shown, sha256=sha, tables=tuple(read_here)))
    return tables, sources, meta


def _read_metadata(path: Path, shown: str, log: _Log) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        log.add(
            "warning",
            "file.metadata",
            shown,
            f"cohort metadata cannot be read ({exc}); the folder name is used as the cohort name.",
            "cohort.yaml holds 'name:', 'synthetic: true/false' and 'description:'.",
        )
        return {}
    if not isinstance(data, Mapping):
        log.add(
            "warning",
            "file.metadata",
            shown,
            "cohort metadata must be a YAML mapping; it was ignored.",
            "cohort.yaml holds 'name:', 'synthetic: true/false' and 'description:'.",
        )
        return {}
    meta = {str(k): v for k, v in data.items()}
    if "synthetic" in meta and not isinstance(meta["synthetic"], bool):
        log.add(
            "warning",
            "file.metadata",
            shown,
            f"'synthetic' must be true or false; got {meta['synthetic']!r}. It was ignored.",
            "Write synthetic: true or synthetic: false.",
        )
        del meta["synthetic"]
    return meta


def _as_mapping(
    mapping: ColumnMapping | str | os.PathLike[str] | None,
) -> ColumnMapping | None:
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    return read_mapping(mapping)


def read_source(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    limits: ReadLimits | None = None,
) -> RawCohort:
    """Read a cohort source into raw text tables.

    Parameters
    ----------
    path
        A CSV/TSV, XLSX, Parquet or DuckDB file, or a folder of such files.

        * A single CSV or Parquet file is the ``patients`` table, unless its name is
          a table name (``labs.csv``).
        * An XLSX workbook with one sheet is ``patients`` (or the table named by the
          sheet or the file); with several sheets, one table per sheet named after
          the table. Sheets starting with ``_`` are notes and are skipped.
        * A folder: every ``*.csv``, ``*.xlsx``, ``*.parquet`` named after a table,
          plus ``cohort.yaml`` (``name``, ``synthetic``, ``description``).
        * A ``.duckdb`` file: its tables with standard names (as written by
          :func:`cartcohort.store.write_cohort`).
    mapping
        A :class:`~cartcohort.ingest.ColumnMapping`, or the path of a mapping YAML.
    limits
        Size, row, column, cell and unpacking limits (default
        :data:`~cartcohort.ingest.limits.DEFAULT_LIMITS`), checked before the data are
        read; a file beyond them is an error (``file.limit``) and is not read.

    Returns
    -------
    RawCohort
        The tables as text, and every problem met while reading.

    Raises
    ------
    IngestError
        ``path`` does not exist or has an unsupported extension, or the mapping
        file is invalid. Problems inside files are issues, not exceptions.

    Notes
    -----
    CSV files may be comma-, semicolon- or tab-separated; semicolon files use the
    decimal comma (European Excel). UTF-8 with or without BOM is read as such;
    other files are read as Latin-1 (Windows-1252) with a warning.
    """
    source = Path(path)
    display = str(path)
    if not source.exists():
        msg = f"{display!r} does not exist. Give a CSV, XLSX, Parquet or DuckDB file, or a folder."
        raise IngestError(msg)
    column_mapping = _as_mapping(mapping)
    log = _Log(limits or DEFAULT_LIMITS)
    if source.is_dir():
        tables, sources, meta = _read_folder(source, display, log, column_mapping)
        name_default = source.resolve().name
    else:
        tables, sources, meta = _read_file(source, display, log, column_mapping)
        name_default = source.stem
    if not tables and not log.has_errors:
        log.add(
            "error",
            "source.no_tables",
            display,
            "no table with data rows was found.",
            "A cohort needs at least a patients table (patients.csv, or a 'patients' sheet).",
        )
    return RawCohort(
        tables=tables,
        issues=tuple(log.issues),
        name=str(meta.get("name") or name_default),
        synthetic=bool(meta.get("synthetic", False)),
        sources=tuple(sources),
        description=str(meta.get("description") or ""),
        path=display,
        columns=tuple(log.columns),
    )


def read_redcap(
    records: str | os.PathLike[str],
    dictionary: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    limits: ReadLimits | None = None,
) -> RawCohort:
    """Read a REDCap records export (flat CSV) with the project's data dictionary (CSV).

    Parameters
    ----------
    records
        The records export: raw or label values, with repeating instruments and events.
    dictionary
        The project's data dictionary; its field types and choices give the coding (see
        :mod:`cartcohort.ingest.redcap`).
    mapping, limits
        As for :func:`read_source`.

    Returns
    -------
    RawCohort
        ``patients`` from the forms that are not repeated; one table per repeating
        instrument named after a table of the standard.

    Raises
    ------
    IngestError
        A file does not exist, the dictionary is not a REDCap data dictionary, or the
        export has no record-id column.
    """
    from cartcohort.ingest.redcap import redcap_frames

    source = Path(records)
    display = str(records)
    if not source.is_file():
        msg = f"REDCap records export {display!r} does not exist."
        raise IngestError(msg)
    column_mapping = _as_mapping(mapping)
    log = _Log(limits or DEFAULT_LIMITS)
    problem = _limit_problem(source, log.limits)
    if problem is not None:
        log.add("error", "file.limit", display, f"file not read: {problem}.", LIMITS_HINT)
        return RawCohort(tables={}, issues=tuple(log.issues), name=source.stem, path=display)
    frames, left_out = redcap_frames(source, dictionary)
    for field_name, why in left_out:
        log.add(
            "warning",
            "redcap.identifier",
            display,
            f"field {field_name!r} is {why} in the data dictionary and was left out.",
            "Nothing to do: the standard needs only the pseudonymous record id.",
            column=field_name,
        )
    tables: dict[str, RawTable] = {}
    for name, frame in frames.items():
        table = _table_for(name)
        if table is None:
            log.add(
                "warning",
                "sheet.unknown",
                display,
                f"repeating instrument {name!r} is not a table of the standard and was not "
                "read." + _suggest_table(name),
                "Name the instrument after a table (labs, observations ...).",
            )
            continue
        where = _Where(file=display, table=table, kind="csv")
        columns = [
            missing_to_none([row[j] for row in frame.rows]) for j in range(len(frame.header))
        ]
        tables[table] = _build_table(
            frame.header,
            columns,
            tuple(frame.numbers),
            where,
            log,
            decimal=".",
            mapping=column_mapping.for_table(table) if column_mapping else None,
        )
    sources = (
        SourceFile(path=display, sha256=_file_sha256(source), tables=tuple(tables)),
        SourceFile(path=str(dictionary), sha256=_file_sha256(Path(dictionary)), tables=()),
    )
    return RawCohort(
        tables=tables,
        issues=tuple(log.issues),
        name=source.stem,
        sources=sources,
        path=display,
        columns=tuple(log.columns),
    )


def _xlsx_metadata(path: Path) -> dict[str, object]:
    """``name``, ``synthetic`` and ``description`` from a workbook's ``_cohort`` sheet."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return {}
    try:
        if METADATA_SHEET not in wb.sheetnames:
            return {}
        meta: dict[str, object] = {}
        for row in wb[METADATA_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
            key, value = (cell_text(v) for v in row)
            if key in ("name", "description") and value:
                meta[key] = value
            elif key == "synthetic" and value is not None:
                meta["synthetic"] = value.strip().lower() in TRUE_TOKENS
        return meta
    finally:
        wb.close()


def _read_file(
    source: Path, display: str, log: _Log, mapping: ColumnMapping | None
) -> tuple[dict[str, RawTable], list[SourceFile], dict[str, object]]:
    ext = source.suffix.lower()
    default_table = _table_for(source.stem) or "patients"
    if ext in DUCKDB_EXTENSIONS:
        found, meta = _read_duckdb(source, display, log, mapping)
        sha = _file_sha256(source)
    elif ext in (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS, *PARQUET_EXTENSIONS):
        found, sha = _read_one(source, display, default_table, log, mapping)
        readable = ext in EXCEL_EXTENSIONS and _limit_problem(source, log.limits) is None
        meta = _xlsx_metadata(source) if readable else {}
    elif ext == ".xls":
        log.add(
            "error",
            "file.unreadable",
            display,
            "old Excel .xls workbooks are not read.",
            "Open the file in Excel and save it as .xlsx (Excel Workbook).",
        )
        return {}, [SourceFile(path=display, sha256=_file_sha256(source), tables=())], {}
    else:
        known = ", ".join(
            (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS, *PARQUET_EXTENSIONS, *DUCKDB_EXTENSIONS)
        )
        msg = f"{display!r}: unsupported file type {ext or '(none)'!r}; use one of {known}."
        raise IngestError(msg)
    tables: dict[str, RawTable] = {}
    single = len(found) == 1 and ext not in DUCKDB_EXTENSIONS
    for raw in found:
        if raw.n_rows == 0:
            _no_rows(raw, log, severity="error" if single else "warning")
            continue
        tables[raw.name] = raw
    return tables, [SourceFile(path=display, sha256=sha, tables=tuple(tables))], meta


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetGrid:
    """The cells of one CSV file or worksheet as text, before any header is chosen.

    Attributes
    ----------
    file, sheet
        Where the grid was read (``sheet`` is ``None`` for a CSV file).
    table
        The table the sheet would be read as (by its name, or ``patients``), or ``None``.
    cells
        Rows of text cells (``None`` for an empty cell).
    numbers
        The row number of each row as the user sees it (first row = 1).
    """

    file: str
    sheet: str | None
    table: str | None
    cells: tuple[tuple[str | None, ...], ...]
    numbers: tuple[int, ...]


def read_grids(
    path: str | os.PathLike[str], *, limits: ReadLimits | None = None
) -> list[SheetGrid]:
    """The cells of a CSV file or of each worksheet of a workbook, as text, for inspecting
    a layout (``cartcohort map suggest``); sheets starting with ``_`` are skipped.

    Raises
    ------
    IngestError
        The file does not exist, is not CSV or XLSX, is beyond the read limits or cannot
        be read.
    """
    source = Path(path)
    display = str(path)
    if not source.is_file():
        msg = f"{display!r} is not a file. Give a CSV or XLSX file."
        raise IngestError(msg)
    ext = source.suffix.lower()
    if ext not in (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS):
        msg = f"{display!r}: give a CSV or XLSX file (got {ext or 'no extension'})."
        raise IngestError(msg)
    limit = limits or DEFAULT_LIMITS
    problem = _limit_problem(source, limit)
    if problem is not None:
        msg = f"{display!r} was not read: {problem}."
        raise IngestError(msg)
    default = _table_for(source.stem) or "patients"
    if ext in TEXT_EXTENSIONS:
        text, _, _ = _decode(source.read_bytes())
        try:
            records, _ = _csv_records(text, _sniff_delimiter(text))
        except csv.Error as exc:
            msg = f"{display!r} cannot be parsed as CSV: {exc}."
            raise IngestError(msg) from exc
        cells = tuple(tuple(c if c.strip() else None for c in r) for r in records)
        return [
            SheetGrid(
                file=display,
                sheet=None,
                table=default,
                cells=cells,
                numbers=tuple(range(1, len(cells) + 1)),
            )
        ]
    return _workbook_grids(source, display, default, limit)


def _workbook_grids(
    source: Path, display: str, default: str, limits: ReadLimits
) -> list[SheetGrid]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types
        msg = f"{display!r} cannot be opened as an Excel workbook ({type(exc).__name__}: {exc})."
        raise IngestError(msg) from exc
    try:
        sheets = [ws for ws in wb.worksheets if not str(ws.title).startswith("_")]
        out: list[SheetGrid] = []
        for ws in sheets:
            try:
                grid, numbers = _sheet_grid(ws, limits)
            except _SheetTooLargeError as exc:
                msg = f"{display!r}, sheet {ws.title!r} was not read: {exc}."
                raise IngestError(msg) from exc
            table = _table_for(str(ws.title)) or (default if len(sheets) == 1 else None)
            out.append(
                SheetGrid(
                    file=display,
                    sheet=str(ws.title),
                    table=table,
                    cells=tuple(tuple(r) for r in grid),
                    numbers=tuple(numbers),
                )
            )
        return out
    finally:
        with contextlib.suppress(Exception):
            wb.close()


__all__ = [
    "DUCKDB_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "MAX_ROW_ISSUES",
    "PARQUET_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "ColumnCount",
    "Issue",
    "RawCohort",
    "RawTable",
    "SheetGrid",
    "cell_text",
    "missing_to_none",
    "read_frames",
    "read_grids",
    "read_redcap",
    "read_source",
]
