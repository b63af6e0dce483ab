"""Render the data standard for people: the Markdown reference and the Excel fill-in template.

Both are generated from :mod:`cartcohort.model.standard`, so the documentation,
the template and the validator cannot drift apart (a test checks that
``docs/data-standard.md`` equals :func:`data_standard_markdown`).
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cartcohort._spreadsheet import neutralise
from cartcohort.model.standard import (
    ANALYTES,
    FALSE_TOKENS,
    MISSING_TOKENS,
    STANDARD_VERSION,
    TABLES,
    TRUE_TOKENS,
    Column,
)

#: Sheets of the template that are documentation, not data; readers skip them.
TEMPLATE_INFO_SHEETS = ("_README", "_dictionary", "_lab_units")


def _type_text(col: Column) -> str:
    if col.type == "category":
        return "one of: " + ", ".join(col.allowed)
    if col.type == "day":
        return "day (integer days since first infusion, or ISO date)"
    if col.type == "boolean":
        return "yes/no"
    if col.type == "date":
        return "date (YYYY-MM-DD)"
    return col.type


def _range_text(col: Column) -> str:
    parts = []
    if col.minimum is not None:
        parts.append(f">= {col.minimum:g}")
    if col.maximum is not None:
        parts.append(f"<= {col.maximum:g}")
    if col.soft_maximum is not None:
        parts.append(f"warning above {col.soft_maximum:g}")
    return ", ".join(parts)


def data_standard_markdown() -> str:
    """The data standard as a Markdown document (``docs/data-standard.md``)."""
    lines = [
        f"# Cohort data standard v{STANDARD_VERSION}",
        "",
        "<!-- Generated from src/cartcohort/model/standard.py by "
        "`cartcohort schema --markdown`; do not edit by hand. -->",
        "",
        "cartcohort reads a CAR-T cohort in one of two shapes of one standard:",
        "",
        "- **Patient sheet**: the `patients` table alone, one row per patient, with summary "
        "columns (`crs_grade`, `best_response`, `death_day` ...). Only `patient_id` is "
        "required; analyses use what is present and report what is missing.",
        "- **Detailed tables**: `patients` plus any of the long tables below, the raw data "
        "from which summaries are derived.",
        "",
        "Conventions:",
        "",
        "- **Times** are integer days since the first CAR-T infusion (day 0); negative days "
        "are before infusion. A day column may hold an ISO date (`2021-03-04`) instead; it is "
        "converted to days with the patient's `infusion_date`.",
        "- **Booleans** accept "
        + ", ".join(f"`{t}`" for t in TRUE_TOKENS)
        + " and "
        + ", ".join(f"`{t}`" for t in FALSE_TOKENS)
        + " (any case).",
        "- **Missing** values: an empty cell or "
        + ", ".join(f"`{t}`" for t in MISSING_TOKENS if t)
        + " (any case).",
        "- **Categories** use the spellings listed; case variants and documented aliases are "
        "accepted with a warning (see `docs/validation-rules.md`).",
        "- **Extra columns** are kept and listed in a warning, unless they look like direct "
        "identifiers.",
        "- **Identifiers**: `patient_id` is a study pseudonym. Do not put names, record "
        "numbers or birth dates in the data: an extra column that looks like a direct "
        "identifier (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)) is an error unless "
        "`--allow-identifiers` names it (see 'Direct identifiers' in "
        "`docs/validation-rules.md`).",
        "",
        "Files: a single CSV/XLSX/Parquet file is the patient sheet; a folder holds one file "
        "per table named after it (`labs.csv`); an XLSX workbook may hold one sheet per table. "
        "CSV may be comma- or semicolon-separated (semicolon files use decimal commas), UTF-8 "
        "with or without BOM, or Latin-1. A column-mapping YAML maps other headers "
        "(see 'Headers and the column mapping' in `docs/validation-rules.md`).",
        "",
        "The same standard is available as JSON Schema: `cartcohort schema` "
        "(also in `docs/schema/cohort-v1.schema.json`).",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.name}`", "", table.description, ""]
        lines += [f"Key (unique per row): `{', '.join(table.key)}`.", ""]
        lines += [
            "| column | type | unit | range | required | description |",
            "|---|---|---|---|---|---|",
        ]
        for col in table.columns:
            lines.append(
                f"| `{col.name}` | {_type_text(col)} | {col.unit or ''} | {_range_text(col)} | "
                f"{'yes' if col.required else ''} | {col.description} |"
            )
        lines.append("")
    lines += [
        "## Laboratory analytes and units",
        "",
        "Every lab value carries its unit. Known units are converted to the canonical unit; an "
        "unknown unit is an error. Analyte names are matched case-insensitively, with aliases.",
        "",
        "| analyte | label | canonical unit | accepted units (factor to canonical) | aliases |",
        "|---|---|---|---|---|",
    ]
    for a in ANALYTES:
        accepted = ", ".join(f"{u} (×{f:.6g})" for u, f in a.conversions.items())
        lines.append(f"| `{a.name}` | {a.label} | {a.unit} | {accepted} | {', '.join(a.aliases)} |")
    lines.append("")
    return "\n".join(lines)


_HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def write_template(path: str | os.PathLike[str]) -> Path:
    """Write a fill-in Excel template: one sheet per table, plus a dictionary.

    Each table sheet has the standard's headers in row 1 (so the filled workbook is
    read directly), a comment on each header with its type, unit, range and
    description, and drop-down lists for category and yes/no columns. Sheets whose
    names start with ``_`` are documentation and are skipped by the readers.
    """
    out = Path(path)
    wb = Workbook()
    readme = wb.active
    assert readme is not None  # a new workbook always has one sheet
    readme.title = "_README"
    for i, text in enumerate(
        [
            f"cartcohort cohort template (data standard v{STANDARD_VERSION})",
            "Fill one row per patient in 'patients'; the other sheets are optional detailed data.",
            "Times are days since the first CAR-T infusion (day 0), or ISO dates (YYYY-MM-DD).",
            "Hover over a header for its type, unit and allowed values; see '_dictionary'.",
            "Use study pseudonyms as patient_id: no names, record numbers or birth dates.",
            "Check the filled file with:  cartcohort validate cohort.xlsx",
        ],
        start=1,
    ):
        readme.cell(row=i, column=1, value=text)
    readme.column_dimensions["A"].width = 100
    for table in TABLES:
        ws = wb.create_sheet(table.name)
        for j, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            note = [col.description, f"Type: {_type_text(col)}"]
            if col.unit:
                note.append(f"Unit: {col.unit}")
            if _range_text(col):
                note.append(f"Range: {_range_text(col)}")
            if col.required:
                note.append("Required.")
            cell.comment = Comment("\n".join(note), "cartcohort", width=320, height=140)
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(12, len(col.name) + 2)
            choices = (
                col.allowed
                if col.type == "category"
                else ("yes", "no")
                if col.type == "boolean"
                else ()
            )
            if choices and len(",".join(choices)) < 250:
                dv = DataValidation(
                    type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
                )
                dv.error = f"{col.name}: choose one of {', '.join(choices)}"
                dv.showErrorMessage = False  # allow aliases; cartcohort validate reports them
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}5000")
        ws.freeze_panes = "A2"
    _write_dictionary(wb)
    wb.save(out)
    return out


def _write_dictionary(wb: Workbook) -> None:
    ws = wb.create_sheet("_dictionary")
    headers = (
        "table",
        "column",
        "type",
        "unit",
        "range",
        "required",
        "allowed values",
        "description",
    )
    for j, h in enumerate(headers, start=1):
        ws.cell(row=1, column=j, value=h).font = Font(bold=True)
    row = 2
    for table in TABLES:
        for col in table.columns:
            values = (
                table.name,
                col.name,
                col.type,
                col.unit or "",
                _range_text(col),
                "yes" if col.required else "",
                ", ".join(col.allowed),
                col.description,
            )
            for j, v in enumerate(values, start=1):
                cell = ws.cell(row=row, column=j, value=neutralise(v))
                cell.alignment = Alignment(wrap_text=j == 8)
            row += 1
    for letter, width in zip("ABCDEFGH", (14, 26, 10, 22, 26, 9, 40, 80), strict=True):
        ws.column_dimensions[letter].width = width
    units = wb.create_sheet("_lab_units")
    for j, h in enumerate(("analyte", "label", "canonical unit", "accepted units"), start=1):
        units.cell(row=1, column=j, value=h).font = Font(bold=True)
    for i, a in enumerate(ANALYTES, start=2):
        units.cell(row=i, column=1, value=a.name)
        units.cell(row=i, column=2, value=a.label)
        units.cell(row=i, column=3, value=a.unit)
        units.cell(row=i, column=4, value=", ".join(a.conversions))


__all__ = ["TEMPLATE_INFO_SHEETS", "data_standard_markdown", "write_template"]
