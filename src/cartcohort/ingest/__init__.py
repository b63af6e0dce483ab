"""Ingest: files -> raw text tables (:class:`RawCohort`), nothing coerced yet.

Readers accept CSV (comma, semicolon with decimal commas, tab; UTF-8 with or
without BOM, or Latin-1), XLSX (one sheet, or one sheet per table), Parquet, a
folder of such files, a DuckDB database and a REDCap records export with its data
dictionary. A column mapping (YAML; ``docs/mapping.md``) renames other headers to the
standard's names and reshapes a centre's own workbook (header and group rows, per-day
blocks, coded columns, local dates). Every read is under size, row, column and unpacking limits
(:class:`ReadLimits`, checked before the data are read). Validation happens in
:mod:`cartcohort.validate`.
"""

from __future__ import annotations

from cartcohort.ingest.limits import DEFAULT_LIMITS, ReadLimits
from cartcohort.ingest.mapping import (
    ColumnMapping,
    ColumnTarget,
    TableMapping,
    normalise_header,
    read_mapping,
)
from cartcohort.ingest.readers import (
    Issue,
    RawCohort,
    RawTable,
    read_frames,
    read_grids,
    read_redcap,
    read_source,
)

__all__ = [
    "DEFAULT_LIMITS",
    "ColumnMapping",
    "ColumnTarget",
    "Issue",
    "RawCohort",
    "RawTable",
    "ReadLimits",
    "TableMapping",
    "normalise_header",
    "read_frames",
    "read_grids",
    "read_mapping",
    "read_redcap",
    "read_source",
]
