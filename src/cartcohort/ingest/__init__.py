"""Ingest: files -> raw text tables (:class:`RawCohort`), nothing coerced yet.

Readers accept CSV (comma, semicolon with decimal commas, tab; UTF-8 with or
without BOM, or Latin-1), XLSX (one sheet, or one sheet per table), Parquet, a
folder of such files and a DuckDB database. A column mapping (YAML) renames other
headers to the standard's names. Validation happens in :mod:`cartcohort.validate`.
"""

from __future__ import annotations

from cartcohort.ingest.mapping import (
    ColumnMapping,
    ColumnTarget,
    TableMapping,
    normalise_header,
    read_mapping,
)
from cartcohort.ingest.readers import Issue, RawCohort, RawTable, read_frames, read_source

__all__ = [
    "ColumnMapping",
    "ColumnTarget",
    "Issue",
    "RawCohort",
    "RawTable",
    "TableMapping",
    "normalise_header",
    "read_frames",
    "read_mapping",
    "read_source",
]
