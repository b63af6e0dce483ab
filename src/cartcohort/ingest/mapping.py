"""Column mapping: turn the headers a centre uses into the standard's column names.

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

Before the mapping is consulted, every header is normalised (surrounding spaces
removed, case folded, spaces and hyphens turned into ``_``), so ``Age Years``
matches ``age_years`` without a mapping. Mapping keys are matched the same way.
Headers that match nothing are kept as extra columns under their normalised name;
the validator lists them with close-match suggestions.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cartcohort.errors import IngestError
from cartcohort.model.standard import TABLE_BY_NAME

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


@dataclass(frozen=True, slots=True, kw_only=True)
class TableMapping:
    """The mapping that applies to one table: header targets and value recodings."""

    columns: Mapping[str, ColumnTarget] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

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

    def for_table(self, table: str) -> TableMapping:
        """The mapping for ``table``: the table's own entries over the general ones."""
        own = self.tables.get(table, TableMapping())
        return TableMapping(
            columns={**self.columns, **own.columns},
            values={**self.values, **own.values},
        )

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
_TOP_KEYS = ("columns", "values", "tables", "description", "version")


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
    columns = _parse_columns(data.get("columns"), ("columns",), lines, display)
    values = _parse_values(data.get("values"), ("values",), lines, display)
    tables: dict[str, TableMapping] = {}
    raw_tables = data.get("tables") or {}
    if not isinstance(raw_tables, Mapping):
        raise _fail(display, lines, ("tables",), "must map table names to mappings.")
    for name, section in raw_tables.items():
        path = ("tables", str(name))
        if str(name) not in TABLE_BY_NAME:
            known = ", ".join(TABLE_BY_NAME)
            raise _fail(display, lines, path, f"unknown table; the tables are {known}.")
        if not isinstance(section, Mapping):
            raise _fail(display, lines, path, "must hold 'columns:' and/or 'values:'.")
        for key in section:
            if key not in ("columns", "values"):
                raise _fail(display, lines, (*path, str(key)), "use 'columns' or 'values'.")
        tables[str(name)] = TableMapping(
            columns=_parse_columns(section.get("columns"), (*path, "columns"), lines, display),
            values=_parse_values(section.get("values"), (*path, "values"), lines, display),
        )
    return ColumnMapping(columns=columns, values=values, tables=tables, source=display)


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
        out[str(header)] = _parse_target(target, where, lines, display)
    return out


def _parse_target(
    target: object, where: tuple[str, ...], lines: _Lines, display: str
) -> ColumnTarget:
    if isinstance(target, str):
        return ColumnTarget(name=_check_name(target, where, lines, display))
    if not isinstance(target, Mapping):
        raise _fail(
            display, lines, where, "give a column name, or {to: column_name, scale: number}."
        )
    unknown = [k for k in target if k not in ("to", "scale")]
    if unknown:
        raise _fail(display, lines, (*where, str(unknown[0])), "only 'to' and 'scale' allowed.")
    if "to" not in target:
        raise _fail(display, lines, where, "missing 'to: column_name'.")
    name = _check_name(target["to"], (*where, "to"), lines, display)
    scale = target.get("scale")
    if scale is None:
        return ColumnTarget(name=name)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        try:
            scale = float(str(scale))
        except ValueError:
            scale = math.nan
    if not (math.isfinite(float(scale)) and float(scale) > 0):
        raise _fail(display, lines, (*where, "scale"), f"must be a positive number; got {scale!r}.")
    return ColumnTarget(name=name, scale=float(scale))


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
    "ColumnMapping",
    "ColumnTarget",
    "HeaderPlan",
    "TableMapping",
    "normalise_header",
    "read_mapping",
    "resolve_headers",
]
