r"""Column mapping: turn the headers a centre uses into the standard's column names.

A mapping is a small YAML file::

    columns:                              # for every table
      "CRS grade": crs_grade
      "Dose (x10^6/kg)": {to: dose_cells_per_kg, scale: 1000000}
      "Patient": patient_id
    values:                               # optional recoding of values, per column
      sex: {male: M, female: F}
    tables:                               # optional, per table (overrides the above)
      labs:
        columns: {"Test": analyte, "Result": value, "Units": unit}

Version 2 (``version: 2``; every version-1 file is a valid version-2 file) adds the
keys a centre's own workbook needs (``docs/mapping.md`` has a worked example)::

    version: 2
    header_row: 3                         # the row holding the column names
    group_rows: [1, 2]                    # label rows above it (merged cells carry right)
    date_format: DD.MM.YYYY               # or {infusion_date: DD/MM/YYYY, ...}
    constants: {crs_grading_system: Lee 2014}
    ignore: ["Comments", "true date*"]    # headers or glob patterns left out quietly
    columns:
      "Response (0 = MRD- CR, 1 = MRD+ CR, 2 = PR)":   # one header, several targets
        - {to: best_response, values: {0: CR, 1: CR, 2: PR}}
        - {to: mrd_negative, values: {0: yes, 1: no, 2: no}}
    wide:                                 # per-day blocks -> rows of a long table
      - table: labs
        group: '^Inflammatory Markers / Day (?P<day>-?\d+)'
        columns:
          "CRP (mg/L)": {analyte: CRP, unit: mg/L, day_column: "true date_CRP"}

Before the mapping is consulted, every header is normalised (surrounding spaces
removed, case folded, spaces and hyphens turned into ``_``), so ``Age Years``
matches ``age_years`` without a mapping. Mapping keys are matched the same way.
Headers that match nothing are kept as extra columns under their normalised name;
the validator lists them with close-match suggestions.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cartcohort.errors import IngestError
from cartcohort.model.standard import ANALYTES, TABLE_BY_NAME, analyte_for

_SEPARATORS = re.compile(r"[\s\-\u00a0]+")
_UNDERSCORES = re.compile(r"_+")


def normalise_header(header: str) -> str:
    """Normalise a header for matching: strip, case-fold, spaces and hyphens to ``_``.

    Parameters
    ----------
    header
        The header as written in the file.

    Returns
    -------
    str
        The normalised header, e.g. ``"Age Years"`` -> ``"age_years"``.

    Examples
    --------
    >>> normalise_header("  CRS - Grade ")
    'crs_grade'
    """
    text = header.replace("\ufeff", "").strip().casefold()
    text = _SEPARATORS.sub("_", text)
    return _UNDERSCORES.sub("_", text).strip("_")


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnTarget:
    """Where one mapped header goes.

    Attributes
    ----------
    name
        The standard column name (or a new name for a kept extra column).
    scale
        Factor applied to the parsed numbers (``value * scale``), e.g. ``1e6`` for a
        dose written in 10^6 cells/kg; ``None`` for no scaling.
    """

    name: str
    scale: float | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    also: tuple[ColumnTarget, ...] = ()


#: Date formats a mapping may declare (``date_format``), as ``strptime`` formats.
DATE_FORMATS: Mapping[str, str] = {
    "DD.MM.YYYY": "%d.%m.%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD-MM-YYYY": "%d-%m-%Y",
    "YYYY-MM-DD": "%Y-%m-%d",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class WideColumn:
    """One header of a per-time-point block and the fixed fields of the long rows it gives.

    Attributes
    ----------
    header
        The header as written in the mapping (matched after normalisation).
    fields
        Column of the long table -> fixed value, e.g. ``{"analyte": "CRP", "unit": "mg/L"}``.
    to
        The column of the long table that receives the cell's value (``value``).
    day_column
        Header, in the same block, of the column holding the exact day (or date) of this
        value; ``None`` to take the day from the group label or header.
    """

    header: str
    fields: Mapping[str, str] = field(default_factory=dict)
    to: str = "value"
    day_column: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WideRule:
    """A rule that turns per-time-point blocks of columns into rows of a long table.

    Attributes
    ----------
    table
        The long table the rows go to (``labs``, ``kinetics``, ``observations`` ...).
    group
        Regular expression searched in a column's group label; its named group ``day``
        gives the day. ``None`` to select by header only.
    header
        Regular expression matched against the header (``Day 7_Abs CAR (cells/uL)``); its
        named group ``day`` gives the day and ``column`` the part matched against
        :attr:`columns`. ``None`` to match headers as written.
    columns
        The headers of the block this rule takes, each with its fixed fields.
    """

    table: str
    group: re.Pattern[str] | None = None
    header: re.Pattern[str] | None = None
    columns: tuple[WideColumn, ...] = ()

    def entry(self, header: str) -> WideColumn | None:
        """The block entry for ``header`` (through :attr:`header` when set), or ``None``."""
        key = header
        if self.header is not None:
            match = self.header.search(header)
            if match is None:
                return None
            key = match.groupdict().get("column") or header
        wanted = normalise_header(key)
        return next((c for c in self.columns if normalise_header(c.header) == wanted), None)

    def day_column_headers(self) -> frozenset[str]:
        """Normalised headers named as ``day_column`` by an entry."""
        return frozenset(normalise_header(c.day_column) for c in self.columns if c.day_column)


@dataclass(frozen=True, slots=True, kw_only=True)
class TableMapping:
    """The mapping that applies to one table: header targets and value recodings."""

    columns: Mapping[str, ColumnTarget] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    date_format: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()

    def ignores(self, header: str) -> bool:
        """Whether ``header`` is left out (``ignore:``; exact after normalisation, or a glob)."""
        key = normalise_header(header)
        for pattern in self.ignore:
            if any(ch in pattern for ch in "*?["):
                if fnmatch.fnmatchcase(header.casefold(), pattern.casefold()):
                    return True
            elif normalise_header(pattern) == key:
                return True
        return False

    def date_format_for(self, column: str, header: str | None = None) -> str | None:
        """The declared date format (``strptime``) of a column, by name or header, or ``None``."""
        for key in (column, normalise_header(header or ""), "*"):
            if key and key in self.date_format:
                return self.date_format[key]
        return None

    def target(self, header: str) -> ColumnTarget | None:
        """The target of ``header`` (matched after normalisation), or ``None``."""
        if header in self.columns:
            return self.columns[header]
        key = normalise_header(header)
        for written, target in self.columns.items():
            if normalise_header(written) == key:
                return target
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMapping:
    """A column mapping read from YAML (see :func:`read_mapping`).

    Attributes
    ----------
    columns
        Header as written -> target, for every table.
    values
        Column (standard name) -> {value as written: value to use}, for every table.
    tables
        Table name -> a mapping for that table only; its entries take precedence.
    source
        The YAML file the mapping was read from, if any.
    """

    columns: Mapping[str, ColumnTarget] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    tables: Mapping[str, TableMapping] = field(default_factory=dict)
    source: str | None = None
    version: int = 1
    header_row: int | None = None
    group_rows: tuple[int, ...] | None = None
    wide: tuple[WideRule, ...] = ()
    constants: Mapping[str, str] = field(default_factory=dict)
    date_format: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()

    def for_table(self, table: str) -> TableMapping:
        """The mapping for ``table``: the table's own entries over the general ones.

        General ``constants`` apply to a table only for the columns it has in the standard.
        """
        own = self.tables.get(table, TableMapping())
        spec = TABLE_BY_NAME.get(table)
        general = {k: v for k, v in self.constants.items() if spec and k in spec.column_names}
        return TableMapping(
            columns={**self.columns, **own.columns},
            values={**self.values, **own.values},
            constants={**general, **own.constants},
            date_format={**self.date_format, **own.date_format},
            ignore=(*self.ignore, *own.ignore),
        )

    @property
    def reshapes(self) -> bool:
        """Whether the mapping names a header row, group rows or wide rules."""
        return self.header_row is not None or self.group_rows is not None or bool(self.wide)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, source: str | None = None) -> ColumnMapping:
        """Build a mapping from the same structure as the YAML file.

        Raises
        ------
        IngestError
            The structure is invalid; the message names the key.
        """
        return _parse(data, _Lines({}), source or "<mapping>")


# ---------------------------------------------------------------------------------------------
# Reading and checking the YAML
# ---------------------------------------------------------------------------------------------
_TOP_KEYS = (
    "version",
    "description",
    "header_row",
    "group_rows",
    "columns",
    "values",
    "constants",
    "date_format",
    "ignore",
    "wide",
    "tables",
)
_TABLE_KEYS = ("columns", "values", "constants", "date_format", "ignore")
#: Mapping versions read (a file without ``version`` is version 1).
MAPPING_VERSIONS = (1, 2)


class _Lines:
    """Line numbers of keys in the YAML document, by key path."""

    def __init__(self, lines: Mapping[tuple[str, ...], int]) -> None:
        self._lines = lines

    def where(self, path: tuple[str, ...]) -> str:
        line = self._lines.get(path)
        key = ".".join(path)
        return f"line {line}, key {key!r}" if line is not None else f"key {key!r}"


def _key_lines(node: yaml.Node, path: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[(*path, key)] = key_node.start_mark.line + 1
            _key_lines(value_node, (*path, key), out)


def read_mapping(path: str | os.PathLike[str]) -> ColumnMapping:
    """Read a column-mapping YAML file.

    Parameters
    ----------
    path
        The YAML file (see the module docstring for its layout).

    Returns
    -------
    ColumnMapping
        The checked mapping.

    Raises
    ------
    IngestError
        The file does not exist, is not valid YAML, or has an unknown key, a
        target that is not a name, or a scale that is not a positive number. The
        message names the file, the line and the key.
    """
    file = Path(path)
    display = str(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        msg = f"Column mapping {display!r} does not exist."
        raise IngestError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"Column mapping {display!r} cannot be read as UTF-8 text: {exc}."
        raise IngestError(msg) from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"Column mapping {display!r} is not valid YAML{where}: {problem}."
        raise IngestError(msg) from exc
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _key_lines(node, (), lines)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        msg = f"Column mapping {display!r} must be a YAML mapping with a 'columns:' section."
        raise IngestError(msg)
    return _parse(data, _Lines(lines), display)


def _fail(display: str, lines: _Lines, path: tuple[str, ...], problem: str) -> IngestError:
    return IngestError(f"Column mapping {display!r}, {lines.where(path)}: {problem}")


def _parse(data: Mapping[str, object], lines: _Lines, display: str) -> ColumnMapping:
    for key in data:
        if key not in _TOP_KEYS:
            raise _fail(
                display,
                lines,
                (str(key),),
                f"unknown section; use one of {', '.join(_TOP_KEYS)}.",
            )
    version = _parse_version(data.get("version"), lines, display)
    tables: dict[str, TableMapping] = {}
    raw_tables = data.get("tables") or {}
    if not isinstance(raw_tables, Mapping):
        raise _fail(display, lines, ("tables",), "must map table names to mappings.")
    for name, section in raw_tables.items():
        path = ("tables", str(name))
        _check_table(name, path, lines, display)
        if not isinstance(section, Mapping):
            raise _fail(display, lines, path, "must hold 'columns:' and/or 'values:'.")
        for key in section:
            if key not in _TABLE_KEYS:
                raise _fail(
                    display, lines, (*path, str(key)), f"use one of {', '.join(_TABLE_KEYS)}."
                )
        tables[str(name)] = TableMapping(
            columns=_parse_columns(section.get("columns"), (*path, "columns"), lines, display),
            values=_parse_values(section.get("values"), (*path, "values"), lines, display),
            constants=_parse_constants(
                section.get("constants"), (*path, "constants"), lines, display
            ),
            date_format=_parse_date_format(
                section.get("date_format"), (*path, "date_format"), lines, display
            ),
            ignore=_parse_ignore(section.get("ignore"), (*path, "ignore"), lines, display),
        )
    header_row = _parse_row(data.get("header_row"), ("header_row",), lines, display)
    group_rows = _parse_group_rows(data.get("group_rows"), header_row, lines, display)
    return ColumnMapping(
        columns=_parse_columns(data.get("columns"), ("columns",), lines, display),
        values=_parse_values(data.get("values"), ("values",), lines, display),
        tables=tables,
        source=display,
        version=version,
        header_row=header_row,
        group_rows=group_rows,
        wide=_parse_wide(data.get("wide"), lines, display),
        constants=_parse_constants(data.get("constants"), ("constants",), lines, display),
        date_format=_parse_date_format(data.get("date_format"), ("date_format",), lines, display),
        ignore=_parse_ignore(data.get("ignore"), ("ignore",), lines, display),
    )


def _check_table(name: object, path: tuple[str, ...], lines: _Lines, display: str) -> str:
    if str(name) not in TABLE_BY_NAME:
        known = ", ".join(TABLE_BY_NAME)
        raise _fail(display, lines, path, f"unknown table; the tables are {known}.")
    return str(name)


def _parse_version(raw: object, lines: _Lines, display: str) -> int:
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _fail(display, lines, ("version",), f"must be 1 or 2; got {raw!r}.")
    try:
        version = int(float(str(raw)))
    except ValueError:
        version = 0
    if version not in MAPPING_VERSIONS:
        raise _fail(display, lines, ("version",), f"must be 1 or 2; got {raw!r}.")
    return version


def _parse_row(raw: object, path: tuple[str, ...], lines: _Lines, display: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise _fail(display, lines, path, f"must be a row number (1 = first row); got {raw!r}.")
    return raw


def _parse_group_rows(
    raw: object, header_row: int | None, lines: _Lines, display: str
) -> tuple[int, ...] | None:
    if raw is None:
        return None
    path = ("group_rows",)
    items = [raw] if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(items, list):
        raise _fail(
            display, lines, path, f"must be a list of row numbers, e.g. [1, 2]; got {raw!r}."
        )
    rows = tuple(_parse_row(r, path, lines, display) or 0 for r in items)
    if header_row is not None and any(r >= header_row for r in rows):
        raise _fail(display, lines, path, f"group rows must lie above the header row {header_row}.")
    return rows


def _parse_constants(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(
            display,
            lines,
            path,
            "must map column names to values, e.g. {crs_grading_system: astct}.",
        )
    return {normalise_header(str(k)): _scalar_text(v) for k, v in raw.items()}


def _parse_date_format(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"*": _date_format(raw, path, lines, display)}
    if not isinstance(raw, Mapping):
        raise _fail(display, lines, path, "give one format (DD.MM.YYYY) or {column: format, ...}.")
    out: dict[str, str] = {}
    for column, fmt in raw.items():
        key = "*" if str(column) == "*" else normalise_header(str(column))
        out[key] = _date_format(fmt, (*path, str(column)), lines, display)
    return out


def _date_format(raw: object, path: tuple[str, ...], lines: _Lines, display: str) -> str:
    text = str(raw).strip().upper() if isinstance(raw, str) else ""
    if text not in DATE_FORMATS:
        raise _fail(
            display,
            lines,
            path,
            f"unknown date format {raw!r}; use one of {', '.join(DATE_FORMATS)}.",
        )
    return DATE_FORMATS[text]


def _parse_ignore(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str | int | float) for i in items):
        raise _fail(display, lines, path, "must be a list of headers or glob patterns ('Day *').")
    return tuple(str(i) for i in items)


def _parse_columns(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> dict[str, ColumnTarget]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(display, lines, path, "must map headers to column names.")
    out: dict[str, ColumnTarget] = {}
    for header, target in raw.items():
        where = (*path, str(header))
        if isinstance(target, list):
            if not target:
                raise _fail(display, lines, where, "give at least one target.")
            first, *rest = (_parse_target(t, where, lines, display) for t in target)
            out[str(header)] = ColumnTarget(
                name=first.name,
                scale=first.scale,
                values=first.values,
                date_format=first.date_format,
                also=tuple(rest),
            )
        else:
            out[str(header)] = _parse_target(target, where, lines, display)
    return out


_TARGET_KEYS = ("to", "scale", "values", "date_format")


def _parse_target(
    target: object, where: tuple[str, ...], lines: _Lines, display: str
) -> ColumnTarget:
    if isinstance(target, str):
        return ColumnTarget(name=_check_name(target, where, lines, display))
    if not isinstance(target, Mapping):
        raise _fail(
            display,
            lines,
            where,
            "give a column name, {to: column_name, scale: number, values: {...}}, or a list "
            "of such targets.",
        )
    unknown = [k for k in target if k not in _TARGET_KEYS]
    if unknown:
        raise _fail(
            display,
            lines,
            (*where, str(unknown[0])),
            f"only {', '.join(repr(k) for k in _TARGET_KEYS)} allowed.",
        )
    if "to" not in target:
        raise _fail(display, lines, where, "missing 'to: column_name'.")
    name = _check_name(target["to"], (*where, "to"), lines, display)
    recode = target.get("values")
    if recode is not None and not isinstance(recode, Mapping):
        raise _fail(display, lines, (*where, "values"), "must map values as written to new values.")
    values = {_scalar_text(k): _scalar_text(v) for k, v in (recode or {}).items()}
    fmt = target.get("date_format")
    date_format = (
        None if fmt is None else _date_format(fmt, (*where, "date_format"), lines, display)
    )
    scale = target.get("scale")
    if scale is None:
        return ColumnTarget(name=name, values=values, date_format=date_format)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        try:
            scale = float(str(scale))
        except ValueError:
            scale = math.nan
    if not (math.isfinite(float(scale)) and float(scale) > 0):
        raise _fail(display, lines, (*where, "scale"), f"must be a positive number; got {scale!r}.")
    return ColumnTarget(name=name, scale=float(scale), values=values, date_format=date_format)


_WIDE_KEYS = ("table", "group", "header", "columns")


def _parse_wide(raw: object, lines: _Lines, display: str) -> tuple[WideRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(display, lines, ("wide",), "must be a list of rules (- table: labs ...).")
    rules: list[WideRule] = []
    for index, rule in enumerate(raw, start=1):
        path = ("wide", f"#{index}")
        if not isinstance(rule, Mapping):
            raise _fail(display, lines, path, "each rule holds table, group, header, columns.")
        unknown = [k for k in rule if k not in _WIDE_KEYS]
        if unknown:
            raise _fail(
                display, lines, path, f"unknown key {unknown[0]!r}; use {', '.join(_WIDE_KEYS)}."
            )
        if "table" not in rule:
            raise _fail(display, lines, path, "missing 'table:' (labs, kinetics ...).")
        table = _check_table(rule["table"], (*path, "table"), lines, display)
        if table == "patients":
            raise _fail(
                display,
                lines,
                (*path, "table"),
                "wide rules give rows of a long table (labs, kinetics ...); patients has one "
                "row per patient: map its headers under 'columns:'.",
            )
        group = _regex(rule.get("group"), (*path, "group"), lines, display)
        header = _regex(rule.get("header"), (*path, "header"), lines, display)
        if group is None and header is None:
            raise _fail(display, lines, path, "give 'group:' or 'header:' (a regular expression).")
        columns = _parse_wide_columns(rule.get("columns"), table, path, lines, display)
        has_day = any("day" in p.groupindex for p in (group, header) if p is not None)
        for entry in columns:
            if not has_day and entry.day_column is None:
                raise _fail(
                    display,
                    lines,
                    (*path, "columns", entry.header),
                    "no day: give 'day_column:', or a named group (?P<day>...) in 'group' "
                    "or 'header'.",
                )
        rules.append(WideRule(table=table, group=group, header=header, columns=columns))
    return tuple(rules)


def _analyte(value: object, path: tuple[str, ...], lines: _Lines, display: str) -> str:
    found = analyte_for(_scalar_text(value))
    if found is None:
        known = ", ".join(a.label for a in ANALYTES)
        raise _fail(
            display,
            lines,
            path,
            f"{value!r} is not an analyte of the standard; use one of {known} (or leave the "
            "column out with 'ignore:').",
        )
    return found.name


def _regex(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> re.Pattern[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _fail(display, lines, path, "must be a regular expression in quotes.")
    try:
        return re.compile(raw)
    except re.error as exc:
        raise _fail(display, lines, path, f"is not a valid regular expression ({exc}).") from None


def _parse_wide_columns(
    raw: object, table: str, path: tuple[str, ...], lines: _Lines, display: str
) -> tuple[WideColumn, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise _fail(
            display,
            lines,
            (*path, "columns"),
            'must map each header of the block to its fields, e.g. "IL-6": {analyte: IL-6, '
            "unit: pg/mL}.",
        )
    spec = TABLE_BY_NAME[table]
    out: list[WideColumn] = []
    for header, fields in raw.items():
        where = (*path, "columns", str(header))
        if fields is None:
            fields = {}
        if not isinstance(fields, Mapping):
            raise _fail(display, lines, where, "must map columns of the table to fixed values.")
        fixed: dict[str, str] = {}
        to, day_column = "value", None
        for key, value in fields.items():
            name = str(key)
            if name == "day_column":
                day_column = _scalar_text(value)
            elif name == "to":
                to = _check_name(value, (*where, "to"), lines, display)
            elif normalise_header(name) == "analyte" and table == "labs":
                fixed["analyte"] = _analyte(value, (*where, name), lines, display)
            elif normalise_header(name) in spec.column_names:
                fixed[normalise_header(name)] = _scalar_text(value)
            else:
                raise _fail(
                    display,
                    lines,
                    (*where, name),
                    f"{name!r} is not a column of the {table} table; use "
                    f"{', '.join(spec.column_names)}, 'to' or 'day_column'.",
                )
        if to not in spec.column_names:
            raise _fail(display, lines, (*where, "to"), f"{to!r} is not a column of {table}.")
        out.append(WideColumn(header=str(header), fields=fixed, to=to, day_column=day_column))
    return tuple(out)


def _check_name(name: object, where: tuple[str, ...], lines: _Lines, display: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _fail(display, lines, where, f"the target must be a column name; got {name!r}.")
    return normalise_header(name)


def _parse_values(
    raw: object, path: tuple[str, ...], lines: _Lines, display: str
) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(display, lines, path, "must map column names to {value: new value}.")
    out: dict[str, dict[str, str]] = {}
    for column, recode in raw.items():
        where = (*path, str(column))
        if not isinstance(recode, Mapping):
            raise _fail(display, lines, where, "must map values as written to new values.")
        out[normalise_header(str(column))] = {
            _scalar_text(k): _scalar_text(v) for k, v in recode.items()
        }
    return out


def _scalar_text(value: object) -> str:
    # YAML reads yes/no as booleans and 1 as int; values are compared as text.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Applying a mapping to the headers of one table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderPlan:
    """How the headers of one table were resolved.

    Attributes
    ----------
    names
        The column name for each header, in file order (unique).
    original
        Column name -> header as written.
    scales
        Column name -> scale factor from the mapping.
    mapped
        Column names that came from the mapping (not from normalisation).
    duplicates
        ``(header, column name it clashes with)`` for headers that resolve to a name
        already taken; such a column is kept as ``name_2``, ``name_3`` ...
    """

    names: tuple[str, ...]
    original: Mapping[str, str]
    scales: Mapping[str, float]
    mapped: tuple[str, ...]
    duplicates: tuple[tuple[str, str], ...]


def resolve_headers(headers: Sequence[str], mapping: TableMapping | None) -> HeaderPlan:
    """Give every header a column name: mapping first, then normalisation.

    Parameters
    ----------
    headers
        Headers as written, in file order (an empty header is ``""``).
    mapping
        The mapping for this table, or ``None``.

    Returns
    -------
    HeaderPlan
        Names, original headers, scale factors and clashes.
    """
    names: list[str] = []
    original: dict[str, str] = {}
    scales: dict[str, float] = {}
    mapped: list[str] = []
    duplicates: list[tuple[str, str]] = []
    for position, header in enumerate(headers, start=1):
        target = mapping.target(header) if mapping is not None else None
        if target is not None:
            name = target.name
        else:
            name = normalise_header(header) or f"unnamed_{position}"
        if name in original:
            duplicates.append((header, name))
            k = 2
            while f"{name}_{k}" in original:
                k += 1
            name = f"{name}_{k}"
        elif target is not None:
            mapped.append(name)
            if target.scale is not None:
                scales[name] = target.scale
        names.append(name)
        original[name] = header
    return HeaderPlan(
        names=tuple(names),
        original=original,
        scales=scales,
        mapped=tuple(mapped),
        duplicates=tuple(duplicates),
    )


__all__ = [
    "DATE_FORMATS",
    "MAPPING_VERSIONS",
    "ColumnMapping",
    "ColumnTarget",
    "HeaderPlan",
    "TableMapping",
    "WideColumn",
    "WideRule",
    "normalise_header",
    "read_mapping",
    "resolve_headers",
]
