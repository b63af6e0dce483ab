"""The in-memory cohort: typed tables of the data standard plus where they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from cartcohort.model.standard import TABLE_BY_NAME, TABLES, Column, Table


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A file a cohort was read from."""

    path: str
    sha256: str
    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cohort:
    """A validated CAR-T cohort.

    Attributes
    ----------
    tables
        Table name -> typed DataFrame with the standard's columns (those present) in
        standard order, followed by any extra columns the user kept (as text).
    name
        A label for reports (file or folder name, or ``"demo"``).
    synthetic
        ``True`` when the data are simulated (the built-in demo); reports say so.
    sources
        Files the cohort was read from, with their SHA-256.
    extra_columns
        Table name -> columns that are not in the standard (kept, not analysed).
    """

    tables: Mapping[str, pd.DataFrame]
    name: str = "cohort"
    synthetic: bool = False
    sources: tuple[SourceFile, ...] = ()
    extra_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the cohort has ``table`` (with at least one row) and, if given, ``column``
        with at least one non-missing value."""
        frame = self.tables.get(table)
        if frame is None or frame.empty:
            return False
        if column is None:
            return True
        return column in frame.columns and bool(frame[column].notna().any())

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name``; an empty frame with the standard's columns when absent."""
        if name not in TABLE_BY_NAME:
            known = ", ".join(t.name for t in TABLES)
            msg = f"Unknown table {name!r}; the standard's tables are: {known}."
            raise KeyError(msg)
        frame = self.tables.get(name)
        if frame is None:
            return empty_table(TABLE_BY_NAME[name])
        return frame

    @property
    def patients(self) -> pd.DataFrame:
        """The patients table (one row per patient)."""
        return self.table("patients")

    @property
    def n_patients(self) -> int:
        """Number of patients."""
        return len(self.patients)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        label = " (synthetic)" if self.synthetic else ""
        return f"Cohort({self.name!r}{label}: {parts})"


#: Sheet of an XLSX workbook that carries the cohort's label and synthetic flag (key, value
#: rows), and the file that does the same in a folder. Readers skip other ``_`` sheets.
METADATA_SHEET = "_cohort"
METADATA_FILE = "cohort.yaml"


def metadata_rows(*, name: str, synthetic: bool, description: str = "") -> list[tuple[str, str]]:
    """The ``(key, value)`` rows of the metadata sheet, in a fixed order."""
    return [
        ("name", name),
        ("synthetic", "true" if synthetic else "false"),
        ("description", description),
    ]


def pandas_dtype(col: Column) -> str | pd.CategoricalDtype:
    """The pandas dtype a standard column is held in."""
    if col.type in ("integer", "day"):
        return "Int64"
    if col.type == "number":
        return "float64"
    if col.type == "boolean":
        return "boolean"
    if col.type == "category":
        return pd.CategoricalDtype(categories=list(col.allowed), ordered=False)
    if col.type == "date":
        return "datetime64[ns]"
    return "string"


def empty_table(spec: Table) -> pd.DataFrame:
    """An empty frame with every column of ``spec`` in its dtype."""
    return pd.DataFrame({c.name: pd.Series([], dtype=pandas_dtype(c)) for c in spec.columns})


def apply_dtypes(spec: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast already-clean values to the standard dtypes; extra columns become text.

    The input must hold values that are valid for their columns (the validator
    guarantees this); this function only fixes the in-memory representation so that
    a cohort looks the same whether it came from a file or from the database.
    """
    out = {}
    for name in frame.columns:
        series = frame[name]
        if name in spec.column_names:
            col = spec.column(name)
            dtype = pandas_dtype(col)
            if col.type == "date":
                out[name] = pd.to_datetime(series, errors="raise").astype("datetime64[ns]")
            elif col.type == "category":
                out[name] = pd.Series(series, dtype="object").astype(dtype)
            else:
                out[name] = series.astype(dtype)
        else:
            out[name] = series.astype("string")
    ordered = [c for c in spec.column_names if c in out] + [
        c for c in out if c not in spec.column_names
    ]
    return pd.DataFrame({c: out[c] for c in ordered}).reset_index(drop=True)


__all__ = [
    "METADATA_FILE",
    "METADATA_SHEET",
    "Cohort",
    "SourceFile",
    "apply_dtypes",
    "empty_table",
    "metadata_rows",
    "pandas_dtype",
]
