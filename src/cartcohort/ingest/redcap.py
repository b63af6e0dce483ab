"""REDCap: a project's data dictionary and records export into the standard, and back.

Files only, no network access. :func:`read_redcap` reads a records export (flat CSV, raw
or label values, headers as variable names or as field labels) together with the
project's data dictionary (CSV):

* the dictionary's first field is the record id, read as ``patient_id``;
* fields of forms that are not repeated go to ``patients`` (with several events, the
  first filled value of each field over the record's rows is used);
* rows of a repeating instrument (``redcap_repeat_instrument``) whose form is named after
  a table of the standard (``labs``, ``observations`` ...) go to that table, one row per
  instance; a field name starting with ``<form>_`` loses that prefix (``labs_day`` ->
  ``day``), which is how :func:`redcap_dictionary` names them;
* radio and dropdown codes become their labels, ``yesno``/``truefalse`` 1/0 become
  yes/no; checkbox columns (``field___1``) are kept as extra columns;
* fields the dictionary marks ``Identifier? = y`` are left out with a warning.

:func:`redcap_dictionary` writes a data dictionary from the standard, so that a centre can
collect in REDCap the way cartcohort reads it. The dictionary columns are those of a REDCap
data dictionary export (REDCap's "Data Dictionary" page).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cartcohort.errors import IngestError
from cartcohort.ingest.mapping import normalise_header
from cartcohort.model.standard import TABLE_BY_NAME, TABLES, Column

#: The columns of a REDCap data dictionary, in REDCap's order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
#: Columns of a records export that REDCap adds and the standard does not hold.
REDCAP_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "event_name",  # the same columns in a label export
    "repeat_instrument",
    "repeat_instance",
)
_CHOICE = re.compile(r"^\s*([^,]+?)\s*,\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class RedcapField:
    """One field of a REDCap data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: Mapping[str, str]
    validation: str = ""
    identifier: bool = False


def _rows(path: Path, what: str) -> list[dict[str, str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        msg = f"REDCap {what} {str(path)!r} does not exist."
        raise IngestError(msg) from None
    except UnicodeDecodeError:
        text = path.read_bytes().decode("cp1252", errors="replace")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _choices(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split("|"):
        found = _CHOICE.match(part)
        if found:
            out[found.group(1)] = found.group(2)
    return out


def read_dictionary(path: str | os.PathLike[str]) -> list[RedcapField]:
    """The fields of a REDCap data dictionary CSV, in order.

    Raises
    ------
    IngestError
        The file does not exist or has no ``Variable / Field Name`` column.
    """
    rows = _rows(Path(path), "data dictionary")
    if not rows:
        msg = f"REDCap data dictionary {str(path)!r} has no fields."
        raise IngestError(msg)
    keys = {normalise_header(k): k for k in rows[0]}

    def get(row: Mapping[str, str], prefix: str) -> str:
        key = next((v for k, v in keys.items() if k.startswith(prefix)), None)
        return (row.get(key) or "").strip() if key else ""

    if not any(k.startswith("variable") for k in keys):
        msg = (
            f"{str(path)!r} is not a REDCap data dictionary: it has no "
            "'Variable / Field Name' column."
        )
        raise IngestError(msg)
    return [
        RedcapField(
            name=get(row, "variable"),
            form=get(row, "form"),
            type=get(row, "field_type").casefold(),
            label=get(row, "field_label"),
            choices=_choices(get(row, "choices")),
            validation=get(row, "text_validation_type").casefold(),
            identifier=get(row, "identifier").casefold() in ("y", "yes"),
        )
        for row in rows
        if get(row, "variable")
    ]


def _value(field: RedcapField, value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if field.type in ("radio", "dropdown") and text in field.choices:
        return field.choices[text]
    if field.type in ("yesno", "truefalse") and text in ("1", "0"):
        return "yes" if text == "1" else "no"
    return text


@dataclass(slots=True)
class _Table:
    header: list[str]
    rows: list[list[str | None]]
    numbers: list[int]


def _columns(header: list[str], fields: list[RedcapField]) -> dict[str, RedcapField | None]:
    """The dictionary field of each export column (by variable name, else by label)."""
    by_name = {f.name: f for f in fields}
    by_label: dict[str, list[RedcapField]] = {}
    for f in fields:
        by_label.setdefault(normalise_header(f.label), []).append(f)
    order = {f.name: i for i, f in enumerate(fields)}
    columns: dict[str, RedcapField | None] = {}
    last = -1
    for head in header:
        # a label may stand for several fields: the export keeps the dictionary's order
        field = by_name.get(head)
        if field is None:
            same = by_label.get(normalise_header(head), [])
            field = next((f for f in same if order[f.name] > last), same[0] if same else None)
        if field is not None:
            last = order[field.name]
        columns[head] = field
    return columns


def _patient_values(
    row: Mapping[str, str],
    columns: Mapping[str, RedcapField | None],
    skip: set[str],
    record: dict[str, str | None],
) -> None:
    """Fill a patient's record from one export row (first filled value wins)."""
    for head, field in columns.items():
        name = field.name if field is not None else head
        if name in skip or normalise_header(head) in REDCAP_COLUMNS:
            continue
        value = _value(field, row.get(head) or "") if field else (row.get(head) or None)
        if record.get(name) is None:
            record[name] = value


def redcap_frames(
    records: str | os.PathLike[str], dictionary: str | os.PathLike[str]
) -> tuple[dict[str, _Table], list[tuple[str, str]]]:
    """Records -> per-table header, rows and row numbers; and (field, reason) left out."""
    fields = read_dictionary(dictionary)
    rows = _rows(Path(records), "records export")
    if not rows:
        return {}, []
    columns = _columns(list(rows[0]), fields)
    left_out = [(f.name, "marked as an identifier") for f in fields if f.identifier]
    repeat_key = next((h for h in rows[0] if normalise_header(h).endswith("repeat_instrument")), "")
    repeating = {normalise_header(r.get(repeat_key) or "") for r in rows} - {""}
    record_id = fields[0].name
    skip = {
        f.name
        for f in fields
        if f.identifier or f.name == record_id or normalise_header(f.form) in repeating
    }
    id_head = next((h for h, f in columns.items() if f is not None and f.name == record_id), None)
    if id_head is None:
        msg = f"the records export has no column for the record id {record_id!r}."
        raise IngestError(msg)
    tables: dict[str, _Table] = {}
    patients: dict[str, dict[str, str | None]] = {}
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        pid = (row.get(id_head) or "").strip()
        instrument = normalise_header(row.get(repeat_key) or "")
        if instrument:
            _repeat_row(tables, instrument, pid, row, columns, number)
            continue
        first_row.setdefault(pid, number)
        _patient_values(row, columns, skip, patients.setdefault(pid, {"patient_id": pid}))
    header = list(dict.fromkeys(k for r in patients.values() for k in r))
    tables["patients"] = _Table(
        header=header,
        rows=[[r.get(h) for h in header] for r in patients.values()],
        numbers=[first_row[p] for p in patients],
    )
    return tables, left_out


def _repeat_row(
    tables: dict[str, _Table],
    instrument: str,
    pid: str,
    row: Mapping[str, str],
    columns: Mapping[str, RedcapField | None],
    number: int,
) -> None:
    table = tables.setdefault(instrument, _Table(header=["patient_id"], rows=[], numbers=[]))
    values: dict[str, str | None] = {"patient_id": pid}
    prefix = f"{instrument}_"
    for head, field in columns.items():
        if field is None or normalise_header(field.form) != instrument or field.identifier:
            continue
        name = field.name[len(prefix) :] if field.name.startswith(prefix) else field.name
        values[name] = _value(field, row.get(head) or "")
    for name in values:
        if name not in table.header:
            table.header.append(name)
            for old in table.rows:
                old.append(None)
    table.rows.append([values.get(h) for h in table.header])
    table.numbers.append(number)


# ---------------------------------------------------------------------------------------------
# The standard as a REDCap data dictionary
# ---------------------------------------------------------------------------------------------
def _field(table: str, col: Column) -> list[str]:
    name = col.name if table == "patients" else f"{table}_{col.name}"
    ftype, choices, validation, low, high = "text", "", "", "", ""
    if col.type == "category":
        ftype = "dropdown"
        choices = " | ".join(f"{i}, {v}" for i, v in enumerate(col.allowed, start=1))
    elif col.type == "boolean":
        ftype = "yesno"
    elif col.type in ("number", "integer", "day"):
        validation = "number" if col.type == "number" else "integer"
        low = "" if col.minimum is None else f"{col.minimum:g}"
        high = "" if col.maximum is None else f"{col.maximum:g}"
    elif col.type == "date":
        validation = "date_ymd"
    label = col.title[0].upper() + col.title[1:]
    if table != "patients":  # labels are the headers of a label export: keep them unique
        label = f"{table.capitalize()}: {label}"
    note = col.description + (f" Unit: {col.unit}." if col.unit else "")
    required = "y" if col.required else ""
    row = [name, table, "", ftype, label, choices, note, validation, low, high, "", "", required]
    return row + [""] * (len(DICTIONARY_COLUMNS) - len(row))


def redcap_dictionary() -> str:
    """The data standard as a REDCap data dictionary (CSV text).

    One form per table: ``patients`` (not repeated) holds the record id ``patient_id`` and
    the patient columns; every other table is a form to enable as a repeating instrument,
    its fields named ``<table>_<column>`` (field names are unique in a REDCap project).
    Field labels of those forms start with the table (``Labs: Day``), so that the headers
    of a label export are unique. Categories are dropdowns whose labels are the standard's
    values, yes/no columns ``yesno`` fields, numbers validated with their range, dates
    ``date_ymd``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DICTIONARY_COLUMNS)
    for spec in TABLES:
        for col in spec.columns:
            if col.name == "patient_id" and spec.name != "patients":
                continue  # the record id, once
            writer.writerow(_field(spec.name, col))
    return out.getvalue()


def is_redcap_table(name: str) -> bool:
    """Whether a form name is a table of the standard."""
    return normalise_header(name) in TABLE_BY_NAME


__all__ = [
    "DICTIONARY_COLUMNS",
    "RedcapField",
    "read_dictionary",
    "redcap_dictionary",
    "redcap_frames",
]
