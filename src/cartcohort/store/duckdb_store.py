"""Keep a validated cohort in an embedded DuckDB database, all or nothing.

Atomicity: the new database is written to a temporary file in the same folder,
flushed to disk, and only then moved over the target with :func:`os.replace`,
which is atomic on POSIX and Windows. A failed or killed import therefore leaves
an existing database byte-for-byte unchanged (at worst a stray temporary file,
removed by the next import). Re-importing the same cohort replaces every table,
so the data in the database are the same however often it is imported.

Layout of the database: one table per standard table (same names and columns;
categories stored as text, days as BIGINT, booleans as BOOLEAN), plus
``_cohort`` (one row: name, synthetic flag, standard version, cartcohort
version, import time) and ``_sources`` (one row per source file with its
SHA-256).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from cartcohort._results import _version
from cartcohort._spreadsheet import safe_frame, write_csv
from cartcohort.errors import StoreError
from cartcohort.model.cohort import (
    METADATA_FILE,
    METADATA_SHEET,
    Cohort,
    SourceFile,
    apply_dtypes,
    metadata_rows,
)
from cartcohort.model.standard import STANDARD_VERSION, TABLE_BY_NAME, TABLES


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain column types DuckDB maps losslessly (categories and strings as text)."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            out[name] = out[name].astype("object").where(out[name].notna(), None)
    return out


def _write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("_incoming", _storable(frame))
    try:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")


def _cleanup_stale(target: Path) -> None:
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        with contextlib.suppress(OSError):
            stale.unlink()


@contextlib.contextmanager
def _temporary_database(target: Path) -> Iterator[Path]:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB must create the file itself
    try:
        yield tmp
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def write_cohort(cohort: Cohort, db_path: str | os.PathLike[str]) -> Path:
    """Write ``cohort`` into the DuckDB database at ``db_path``, replacing its contents.

    Parameters
    ----------
    cohort
        A validated cohort (from :func:`cartcohort.validate.load_cohort`).
    db_path
        The database file; created if absent.

    Returns
    -------
    Path
        The database path.

    Raises
    ------
    StoreError
        The folder does not exist or cannot be written, or the target is not a
        DuckDB database. The existing database is then unchanged.
    """
    target = Path(db_path)
    if not target.parent.exists():
        msg = (
            f"Folder {str(target.parent)!r} does not exist; create it or choose another --db path."
        )
        raise StoreError(msg)
    if target.exists() and target.is_dir():
        msg = f"{str(target)!r} is a folder; --db needs a file name such as cohort.duckdb."
        raise StoreError(msg)
    _cleanup_stale(target)
    try:
        with _temporary_database(target) as tmp:
            con = duckdb.connect(str(tmp))
            try:
                for spec in TABLES:
                    frame = cohort.tables.get(spec.name)
                    if frame is not None:
                        _write_table(con, spec.name, frame)
                _write_table(con, "_cohort", _cohort_row(cohort))
                _write_table(con, "_sources", _source_rows(cohort.sources))
                con.execute("CHECKPOINT")
            finally:
                con.close()
            with tmp.open("rb+") as fh:  # flush the file to disk before it replaces the target
                os.fsync(fh.fileno())
            tmp.replace(target)
    except (OSError, duckdb.Error) as exc:
        msg = f"Could not write the cohort database {str(target)!r}: {exc}. It was left unchanged."
        raise StoreError(msg) from exc
    return target


def _cohort_row(cohort: Cohort) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [cohort.name],
            "synthetic": [cohort.synthetic],
            "standard_version": [STANDARD_VERSION],
            "cartcohort_version": [_version()],
            "imported_at": [datetime.now(UTC).isoformat(timespec="seconds")],
            "extra_columns": [
                ";".join(
                    f"{t}:{','.join(cols)}" for t, cols in cohort.extra_columns.items() if cols
                )
            ],
        }
    )


def _source_rows(sources: tuple[SourceFile, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [s.path for s in sources],
            "sha256": [s.sha256 for s in sources],
            "tables": [",".join(s.tables) for s in sources],
        },
        columns=["path", "sha256", "tables"],
    ).astype("object")


def read_cohort(db_path: str | os.PathLike[str]) -> Cohort:
    """Load the cohort stored in a cartcohort DuckDB database.

    Raises
    ------
    StoreError
        The file does not exist, is not a DuckDB database, or was not written by
        cartcohort (no ``_cohort`` table).
    """
    path = Path(db_path)
    if not path.is_file():
        msg = f"Database {str(path)!r} does not exist. Create it with `cartcohort import`."
        raise StoreError(msg)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        msg = f"{str(path)!r} is not a DuckDB database ({exc})."
        raise StoreError(msg) from exc
    try:
        present = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        if "_cohort" not in present:
            msg = (
                f"{str(path)!r} is a DuckDB database but not a cartcohort one (no _cohort table). "
                "Read its tables as a data source instead: "
                "`cartcohort validate` accepts .duckdb files."
            )
            raise StoreError(msg)
        meta = con.execute("SELECT * FROM _cohort").fetchdf().iloc[0]
        sources_frame = con.execute("SELECT * FROM _sources").fetchdf()
        tables: dict[str, pd.DataFrame] = {}
        for spec in TABLES:
            if spec.name in present:
                frame = con.execute(f'SELECT * FROM "{spec.name}"').fetchdf()
                tables[spec.name] = apply_dtypes(spec, frame)
    finally:
        con.close()
    extra: dict[str, tuple[str, ...]] = {}
    for part in str(meta["extra_columns"] or "").split(";"):
        if part:
            table, cols = part.split(":", 1)
            extra[table] = tuple(cols.split(","))
    sources = tuple(
        SourceFile(path=r.path, sha256=r.sha256, tables=tuple(filter(None, r.tables.split(","))))
        for r in sources_frame.itertuples()
    )
    return Cohort(
        tables=tables,
        name=str(meta["name"]),
        synthetic=bool(meta["synthetic"]),
        sources=sources,
        extra_columns=extra,
    )


def read_provenance(db_path: str | os.PathLike[str]) -> dict[str, object]:
    """The provenance recorded in a cartcohort database (sources, versions, import time)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        meta = con.execute("SELECT * FROM _cohort").fetchdf().iloc[0].to_dict()
        sources = con.execute("SELECT * FROM _sources").fetchdf().to_dict(orient="records")
    finally:
        con.close()
    return {**meta, "sources": sources}


def export_cohort(
    cohort: Cohort, out_dir: str | os.PathLike[str], *, fmt: str = "csv"
) -> list[Path]:
    """Write every table of ``cohort`` into ``out_dir`` as CSV, XLSX or Parquet files.

    CSV and Parquet give one file per table (``patients.csv`` ...) and ``cohort.yaml``
    (name, synthetic flag); XLSX gives one workbook ``cohort.xlsx`` with one sheet per
    table and a ``_cohort`` sheet with the same label and flag. The files read back into the
    same cohort with :func:`cartcohort.validate.load_cohort`.
    """
    if fmt not in ("csv", "xlsx", "parquet"):
        msg = f"`format` must be csv, xlsx or parquet; got {fmt!r}."
        raise StoreError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = {name: frame for name, frame in cohort.tables.items() if name in TABLE_BY_NAME}
    meta = metadata_rows(name=cohort.name, synthetic=cohort.synthetic)
    if fmt == "xlsx":
        path = out / "cohort.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in frames.items():
                _for_text(frame).to_excel(writer, sheet_name=name, index=False)
            safe_frame(pd.DataFrame(meta)).to_excel(
                writer, sheet_name=METADATA_SHEET, index=False, header=False
            )
        return [path]
    for name, frame in frames.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            write_csv(_for_text(frame), path, index=False)
        else:
            _storable(frame).to_parquet(path, index=False)
        written.append(path)
    meta_file = out / METADATA_FILE
    meta_file.write_text(
        yaml.safe_dump(dict(meta[:2]) | {"synthetic": cohort.synthetic}, sort_keys=False),
        encoding="utf-8",
    )
    return [*written, meta_file]


def _for_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text and booleans as yes/no, so files open cleanly in a spreadsheet;
    text formula-safe (:func:`cartcohort._spreadsheet.safe_frame`)."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(dtype):
            out[name] = out[name].map({True: "yes", False: "no"}).astype("object")
    return safe_frame(out)


__all__ = ["export_cohort", "read_cohort", "read_provenance", "write_cohort"]
