"""What the mapping page shows, and the edits its forms make to the mapping YAML.

The page edits one YAML document (a plain ``dict``, the structure
:meth:`~cartcohort.ingest.ColumnMapping.from_dict` reads); every edit is checked by that
method before the file is written, so the page never writes a file the command line would
refuse. The sheet is inspected with :mod:`cartcohort.ingest.sheet_preview` (the reader's own
layout functions): the first rows for the header-row picker, every header with what the
mapping does with it, the headers of a per-day block for the wide-rule form and its preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cartcohort.errors import CartcohortError
from cartcohort.ingest import ColumnMapping, normalise_header
from cartcohort.ingest.mapping import DATE_FORMATS
from cartcohort.ingest.sheet_preview import SheetLayout, block_headers, preview_wide
from cartcohort.ingest.synonyms import suggest_columns, synonym_for
from cartcohort.model.standard import ANALYTES, KINETICS_UNIT, TABLE_BY_NAME, TABLES, analyte_for
from cartcohort.validate.identifiers import header_category

#: The choice that writes a header under ``ignore:``.
IGNORE = "__ignore__"
#: Tables a wide rule can fill (every table but patients).
LONG_TABLES = tuple(t.name for t in TABLES if t.name != "patients")
#: Order of the top-level keys in the written file.
_KEY_ORDER = (
    "version",
    "description",
    "header_row",
    "group_rows",
    "date_format",
    "constants",
    "columns",
    "values",
    "ignore",
    "wide",
    "tables",
)
_V2_KEYS = ("header_row", "group_rows", "date_format", "constants", "ignore", "wide")
_UNIT = re.compile(r"\(([^)]*)\)\s*$")
#: Statuses of a header, as shown and as filtered by the page.
STATUS_TEXT = {
    "standard": "standard name",
    "mapped": "mapped",
    "recoded": "mapped and recoded",
    "wide": "per-day block",
    "ignored": "left out",
    "identifier": "direct identifier?",
    "unrecognised": "not recognised",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnRow:
    """One distinct header of a sheet and what the mapping does with it."""

    index: int
    table: str
    header: str
    #: Spreadsheet letters of the columns with this header (``M, AA, AO`` ...).
    letters: str
    #: The group labels above it, shortened (``Day 0 …, Day 7 … (3 blocks)``).
    groups: str
    status: str
    #: What the status means for this header (``best_response, mrd_negative``; ``labs, rule 2``).
    detail: str
    #: The current target (a column name, :data:`IGNORE` or ``""``).
    current: str
    suggestions: tuple[str, ...]
    #: (column name, label) of the columns offered, suggestions first.
    choices: tuple[tuple[str, str], ...]
    scale: str = ""
    #: What the search box matches: the header and every group label above it, case-folded.
    search: str = ""

    @property
    def editable(self) -> bool:
        """Whether the page offers a choice for this header (not standard names or blocks)."""
        return self.status not in ("standard", "wide")

    @property
    def status_text(self) -> str:
        """The status in words."""
        return STATUS_TEXT[self.status]


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> ``A``, 27 -> ``AB``)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _label(table: str, name: str) -> str:
    col = TABLE_BY_NAME[table].column(name)
    unit = f" ({col.unit})" if col.unit else ""
    return f"{name}{unit}: {col.description.rstrip('.')}"


def _shorten(labels: Sequence[str]) -> str:
    distinct = list(dict.fromkeys(label for label in labels if label))
    if not distinct:
        return ""
    shown = ", ".join(distinct[:2])
    more = f" … ({len(distinct)} groups)" if len(distinct) > 2 else ""
    return shown + more


def _letters(columns: Sequence[int]) -> str:
    shown = ", ".join(column_letter(j) for j in columns[:3])
    return shown + (f" … ({len(columns)} columns)" if len(columns) > 3 else "")


def parse_mapping(data: Mapping[str, Any]) -> ColumnMapping | None:
    """The mapping of ``data``, or ``None`` when there is none or it does not parse."""
    if not data:
        return None
    try:
        return ColumnMapping.from_dict(data)
    except CartcohortError:
        return None


def _unmapped(header: str, table: str, n_columns: int) -> tuple[str, str, str, tuple[str, ...]]:
    """(status, detail, pre-selected choice, suggestions) of a header the mapping leaves."""
    found = synonym_for(header)
    if found is not None and found.is_identifier:
        return "identifier", f"a direct identifier ({found.source}): never imported", IGNORE, ()
    suggestions = suggest_columns(header, table)
    category = header_category(header)
    if category is not None and not suggestions:
        return "identifier", f"looks like a direct identifier ({category})", IGNORE, ()
    detail = ""
    if n_columns > 1:
        detail = f"repeated in {n_columns} columns: a per-day block? (step 3)"
    return "unrecognised", detail, suggestions[0] if suggestions else "", suggestions


def column_rows(layouts: Sequence[SheetLayout], data: Mapping[str, Any]) -> list[ColumnRow]:
    """Every distinct header of the sheets, in sheet order, with its status under ``data``."""
    mapping = parse_mapping(data) or ColumnMapping()
    rows: list[ColumnRow] = []
    for layout in layouts:
        if layout.table not in TABLE_BY_NAME:
            continue
        spec = TABLE_BY_NAME[layout.table]
        table_mapping = mapping.for_table(layout.table)
        taken = preview_wide(layout, mapping).taken if mapping.wide else {}
        positions: dict[str, list[int]] = {}
        for j, header in enumerate(layout.headers):
            if header:
                positions.setdefault(header, []).append(j)
        for header, columns in positions.items():
            status, detail, current, scale = "unrecognised", "", "", ""
            suggestions: tuple[str, ...] = ()
            rules = sorted({taken[j] for j in columns if j in taken})
            target = table_mapping.target(header)
            if rules:
                status = "wide"
                detail = ", ".join(f"rule {r} ({mapping.wide[r - 1].table})" for r in rules)
            elif table_mapping.ignores(header):
                status, current = "ignored", IGNORE
            elif target is not None:
                names = [target.name, *(t.name for t in target.also)]
                status = "recoded" if target.values or target.also else "mapped"
                detail, current = ", ".join(names), target.name
                scale = f"{target.scale:g}" if target.scale is not None else ""
            elif normalise_header(header) in spec.column_names:
                status, detail = "standard", normalise_header(header)
            else:
                status, detail, current, suggestions = _unmapped(header, layout.table, len(columns))
            ordered = [*suggestions, *(c for c in spec.column_names if c not in suggestions)]
            rows.append(
                ColumnRow(
                    index=len(rows),
                    table=layout.table,
                    header=header,
                    letters=_letters(columns),
                    groups=_shorten([layout.labels[j] for j in columns]),
                    status=status,
                    detail=detail,
                    current=current,
                    suggestions=suggestions,
                    choices=tuple((c, _label(layout.table, c)) for c in ordered),
                    scale=scale,
                    search=" ".join(
                        [header, *dict.fromkeys(layout.labels[j] for j in columns)]
                    ).casefold(),
                )
            )
    return rows


def filter_rows(
    rows: Sequence[ColumnRow], query: str, *, only_unrecognised: bool
) -> list[ColumnRow]:
    """The rows whose header or group contains ``query`` (case-insensitive)."""
    text = query.strip().casefold()
    out = []
    for row in rows:
        if only_unrecognised and row.status not in ("unrecognised", "identifier"):
            continue
        if text and text not in row.search:
            continue
        out.append(row)
    return out


# -----------------------------------------------------------------------------------------
# Edits of the YAML document
# -----------------------------------------------------------------------------------------
def ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``version: 2`` when it uses version-2 keys, keys in a readable order."""
    out = {k: v for k, v in data.items() if v not in (None, {}, [])}
    if any(k in out for k in _V2_KEYS):
        out["version"] = 2
    first = {k: out[k] for k in _KEY_ORDER if k in out}
    return {**first, **{k: v for k, v in out.items() if k not in first}}


def _column_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    sections = [data.get("columns")]
    sections += [
        t.get("columns") for t in (data.get("tables") or {}).values() if isinstance(t, dict)
    ]
    return [s for s in sections if isinstance(s, dict)]


def _ignore_lists(data: dict[str, Any]) -> list[list[Any]]:
    lists = [data.get("ignore")]
    lists += [t.get("ignore") for t in (data.get("tables") or {}).values() if isinstance(t, dict)]
    return [x for x in lists if isinstance(x, list)]


def current_entry(data: Mapping[str, Any], header: str) -> object:
    """The ``columns:`` entry for ``header`` (matched after normalisation), or ``None``."""
    key = normalise_header(header)
    for section in _column_sections(dict(data)):
        for written, entry in section.items():
            if normalise_header(str(written)) == key:
                return entry
    return None


def drop_header(data: dict[str, Any], header: str) -> None:
    """Remove ``header``'s ``columns:`` entries and its exact ``ignore:`` entries."""
    key = normalise_header(header)
    for section in _column_sections(data):
        for written in [w for w in section if normalise_header(str(w)) == key]:
            del section[written]
    for items in _ignore_lists(data):
        items[:] = [
            i for i in items if any(ch in str(i) for ch in "*?[") or normalise_header(str(i)) != key
        ]


def set_target(
    data: dict[str, Any], table: str, header: str, entry: object, *, shared: bool
) -> None:
    """Map ``header`` to ``entry`` (a name, ``{to: ...}`` or a list of targets).

    ``shared``: the file has one table, so the entry goes under the general ``columns:``;
    otherwise under ``tables: <table>: columns:``.
    """
    drop_header(data, header)
    if shared:
        data.setdefault("columns", {})[header] = entry
    else:
        data.setdefault("tables", {}).setdefault(table, {}).setdefault("columns", {})[header] = (
            entry
        )


def add_ignore(data: dict[str, Any], header: str) -> None:
    """Leave ``header`` out (``ignore:``)."""
    drop_header(data, header)
    items = data.setdefault("ignore", [])
    if header not in items:
        items.append(header)


# -----------------------------------------------------------------------------------------
# The wide-rule form
# -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class WideEntry:
    """One header of the block in the wide-rule form."""

    index: int
    header: str
    use: bool
    analyte: str = ""
    unit: str = ""
    day_column: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WideForm:
    """The state of the wide-rule form: patterns, the block's headers, the preview."""

    table: str = "labs"
    group: str = ""
    header: str = ""
    entries: tuple[WideEntry, ...] = ()
    #: Headers of the block that may hold the exact date of a value.
    dates: tuple[str, ...] = ()
    n_rows: int | None = None
    sample: tuple[tuple[str, str, str, str, str, str], ...] = ()
    problems: tuple[str, ...] = ()

    def rule(self) -> dict[str, Any]:
        """The rule as the YAML holds it."""
        rule: dict[str, Any] = {"table": self.table}
        if self.group:
            rule["group"] = self.group
        if self.header:
            rule["header"] = self.header
        columns: dict[str, dict[str, str]] = {}
        for entry in self.entries:
            if not entry.use:
                continue
            fields: dict[str, str] = {}
            if entry.analyte and self.table == "labs":
                fields["analyte"] = entry.analyte
            if entry.unit:
                fields["unit"] = entry.unit
            if entry.day_column:
                fields["day_column"] = entry.day_column
            columns[entry.header] = fields
        rule["columns"] = columns
        return rule


def compile_pattern(text: str, what: str) -> re.Pattern[str] | None:
    """A user's regular expression, or ``None`` when empty.

    Raises
    ------
    ValueError
        It is not a valid regular expression; the message says which field.
    """
    if not text.strip():
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        msg = f"The {what} pattern {text!r} is not a valid regular expression ({exc})."
        raise ValueError(msg) from None


def _guess(header: str, table: str, dates: Sequence[str]) -> WideEntry:
    unit = _UNIT.search(header)
    name = _UNIT.sub("", header).strip()
    given = unit.group(1).strip() if unit else ""
    dated = next((d for d in dates if normalise_header(name) in normalise_header(d).split("_")), "")
    if table == "labs":
        analyte = analyte_for(name)
        if analyte is None:
            return WideEntry(index=0, header=header, use=False, unit=given)
        return WideEntry(
            index=0,
            header=header,
            use=True,
            analyte=analyte.label,
            unit=given or analyte.unit,
            day_column=dated,
        )
    if table == "kinetics":
        lowered = header.casefold()
        kind = "copies_per_ug_dna" if "copies" in lowered else "cells_per_ul"
        return WideEntry(index=0, header=header, use=True, unit=kind, day_column=dated)
    return WideEntry(index=0, header=header, use=True, day_column=dated)


def find_block(layouts: Sequence[SheetLayout], table: str, group: str, header: str) -> WideForm:
    """The wide-rule form with the headers the patterns select and guessed fields.

    Raises
    ------
    ValueError
        A pattern is invalid, or none is given.
    """
    group_re = compile_pattern(group, "group")
    header_re = compile_pattern(header, "header")
    if group_re is None and header_re is None:
        msg = "Give a group pattern or a header pattern (a regular expression) to find the block."
        raise ValueError(msg)
    found: list[str] = []
    for layout in layouts:
        found += [h for h, _ in block_headers(layout, group_re, header_re) if h not in found]
    dates = tuple(h for h in found if "date" in h.casefold())
    entries: list[WideEntry] = []
    for header_text in found:
        guess = _guess(header_text, table, dates)
        use = guess.use and header_text not in dates
        entries.append(
            WideEntry(
                index=len(entries),
                header=header_text,
                use=use,
                analyte=guess.analyte,
                unit=guess.unit,
                day_column=guess.day_column,
            )
        )
    return WideForm(table=table, group=group, header=header, entries=tuple(entries), dates=dates)


def preview(form: WideForm, layouts: Sequence[SheetLayout], data: Mapping[str, Any]) -> WideForm:
    """``form`` with the number of long rows its rule gives and a sample of them.

    Raises
    ------
    CartcohortError
        The rule (with the rest of the mapping) is not a valid mapping.
    """
    trial = {**data, "version": 2, "wide": [form.rule()]}
    mapping = ColumnMapping.from_dict(trial, source="the new rule")
    n_rows = 0
    sample: list[tuple[str, str, str, str, str, str]] = []
    problems: list[str] = []
    for layout in layouts:
        result = preview_wide(layout, mapping)
        n_rows += result.n_rows
        problems += result.problems
        for long in result.rows.values():
            for record, cell in zip(long.records, long.cells, strict=True):
                if len(sample) < 6:
                    fixed = record.get("analyte") or record.get("unit") or ""
                    sample.append(
                        (
                            cell,
                            str(record.get("patient_id") or ""),
                            str(record.get("day") or ""),
                            str(fixed),
                            str(record.get("value") or ""),
                            str(record.get("unit") or ""),
                        )
                    )
    return WideForm(
        table=form.table,
        group=form.group,
        header=form.header,
        entries=form.entries,
        dates=form.dates,
        n_rows=n_rows,
        sample=tuple(sample),
        problems=tuple(problems),
    )


def suggested_rules(text: str) -> list[dict[str, Any]]:
    """The ``wide:`` rules of a suggested mapping (YAML text), as written there."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    rules = data.get("wide") if isinstance(data, dict) else None
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def analyte_labels() -> tuple[str, ...]:
    """The analytes of the standard, as written in a mapping."""
    return tuple(a.label for a in ANALYTES)


def allowed_values(table: str, column: str) -> tuple[str, ...]:
    """The values a column accepts (its categories, or yes/no), for the recoding form."""
    spec = TABLE_BY_NAME.get(table)
    if spec is None or column not in spec.column_names:
        return ()
    col = spec.column(column)
    if col.allowed:
        return tuple(col.allowed)
    if col.type == "boolean":
        return ("yes", "no")
    return ()


def constant_columns() -> tuple[str, ...]:
    """Every column name of the standard, once (a constant applies to each table with it)."""
    return tuple(dict.fromkeys(c for t in TABLES for c in t.column_names if c != "patient_id"))


__all__ = [
    "DATE_FORMATS",
    "IGNORE",
    "KINETICS_UNIT",
    "LONG_TABLES",
    "STATUS_TEXT",
    "ColumnRow",
    "WideEntry",
    "WideForm",
    "add_ignore",
    "allowed_values",
    "analyte_labels",
    "column_letter",
    "column_rows",
    "compile_pattern",
    "constant_columns",
    "current_entry",
    "drop_header",
    "filter_rows",
    "find_block",
    "ordered",
    "parse_mapping",
    "preview",
    "set_target",
    "suggested_rules",
]
