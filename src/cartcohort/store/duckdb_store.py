"""Keep a validated cohort in an embedded DuckDB database, all or nothing.

Atomicity: the new database is written to a temporary file in the same folder,
flushed to disk, and only then moved over the target with :func:`os.replace`,
which is atomic on POSIX and Windows. A failed or killed import therefore leaves
an existing database byte-for-byte unchanged (at worst a stray temporary folder,
removed by the next import). Re-importing the same cohort replaces every table,
so the data in the database are the same however often it is imported.

Never another file: an existing target is replaced only when it is a DuckDB database
(the ``DUCK`` magic bytes) that cartcohort wrote, recognised by its ``_cohort`` table
with the columns listed in :data:`MARKER_COLUMNS`; the input file (``source``, and every
recorded source file) is never a target, compared by resolved path and by inode. The new
file takes the old one's mode and, where allowed, owner; a new database is created 0600
(owner only: it holds patient data). The temporary file lives in a private (0700) folder
beside the target. Imports into one database hold an exclusive lock on ``.NAME.lock``
beside it (``fcntl.flock``; released by the operating system if the process dies), so
they run one after the other; after :data:`LOCK_TIMEOUT_S` seconds of waiting an import
gives up with a "busy" :class:`~cartcohort.errors.StoreError`.

Direct identifiers: extra columns that look like direct identifiers (see
:mod:`cartcohort.validate.identifiers`) are refused by :func:`write_cohort` and
:func:`export_cohort` unless ``allow_identifiers`` names them.

Layout of the database: one table per standard table (same names and columns;
categories stored as text, days as BIGINT, booleans as BOOLEAN), plus
``_cohort`` (one row: name, synthetic flag, standard version, cartcohort
version, import time) and ``_sources`` (one row per source file with its
SHA-256).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
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
from cartcohort.validate.identifiers import find_identifier_columns, is_allowed, refusal_message


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


#: Table whose presence (with these columns) marks a database written by cartcohort.
MARKER_TABLE = "_cohort"
MARKER_COLUMNS = frozenset({"name", "synthetic", "standard_version", "cartcohort_version"})
#: The bytes at offset 8 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"
#: Mode of a new database: it holds patient data, so only its owner may read it.
NEW_DATABASE_MODE = 0o600
#: How long an import waits for another import into the same database (seconds).
LOCK_TIMEOUT_S = 60.0
_LOCK_POLL_S = 0.1


def _extra_columns(cohort: Cohort) -> dict[str, tuple[str, ...]]:
    """Columns outside the standard, table by table (recorded or found in the frames)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, frame in cohort.tables.items():
        spec = TABLE_BY_NAME.get(name)
        known = spec.column_names if spec is not None else ()
        found = [str(c) for c in frame.columns if c not in known]
        columns = tuple(dict.fromkeys([*cohort.extra_columns.get(name, ()), *found]))
        if columns:
            out[name] = columns
    return out


def refuse_identifiers(cohort: Cohort, *, allow: Iterable[str], action: str) -> None:
    """Raise :class:`StoreError` when an extra column looks like a direct identifier.

    ``allow`` names the columns to keep anyway (see
    :mod:`cartcohort.validate.identifiers`); ``action`` ends the message ("stored").
    """
    allowed = tuple(allow)
    found = [
        f
        for f in find_identifier_columns(cohort.tables, _extra_columns(cohort))
        if not is_allowed(f, allowed)
    ]
    if found:
        raise StoreError(refusal_message(found, action=action))


def _cleanup_stale(target: Path) -> None:
    """Remove temporary files or folders left by a killed import (call with the lock held)."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"):
        with contextlib.suppress(OSError):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()


@contextlib.contextmanager
def _temporary_database(target: Path) -> Iterator[Path]:
    """A path for the new database inside a private (0700) folder beside ``target``.

    DuckDB creates the file (and its write-ahead log) itself, with the process umask; the
    private folder keeps both unreadable by others until the file is given its final mode
    and moved over the target (same file system, so :func:`os.replace` is atomic).
    """
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield folder / target.name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting; False when another holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK):
            return False
        raise
    return True


@contextlib.contextmanager
def _import_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.NAME.lock`` beside the database while it is replaced.

    Imports into one database therefore run one after the other; one that waits more than
    :data:`LOCK_TIMEOUT_S` gives up with "busy". The operating system releases the lock when
    its process dies (``kill -9`` included), so a crashed import never leaves it stuck. The
    lock file is removed on release; a waiter that locked a file removed meanwhile retries
    on the new one, so two imports never hold the lock at once.
    """
    lock_path = target.with_name(f".{target.name}.lock")
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, NEW_DATABASE_MODE)
        if _try_lock(fd):
            try:
                same = os.path.samestat(os.fstat(fd), lock_path.stat())
            except FileNotFoundError:
                same = False
            if same:
                break
        os.close(fd)
        if time.monotonic() >= deadline:
            msg = (
                f"The cohort database {str(target)!r} is busy: another `cartcohort import` "
                f"has been writing it for more than {LOCK_TIMEOUT_S:g} s. It was not changed; "
                "try again when that import has finished."
            )
            raise StoreError(msg)
        time.sleep(_LOCK_POLL_S)
    try:
        yield
    finally:
        if sys.platform != "win32":  # Windows cannot remove an open file; it stays, empty
            with contextlib.suppress(OSError):
                lock_path.unlink()
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (resolved paths, then inode and device)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


def _refuse_protected(target: Path, protected: Iterable[str | os.PathLike[str]]) -> None:
    for source in protected:
        path = Path(source)
        if path.exists() and not path.is_dir() and _same_file(target, path):
            msg = (
                f"--db {str(target)!r} is the file the cohort was read from; importing into "
                "it would destroy it. Choose another database name, such as cohort.duckdb."
            )
            raise StoreError(msg)


def _is_cartcohort_database(path: Path) -> str:
    """ "" when ``path`` is a database written by cartcohort, else why it is not."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if head[8:12] != DUCKDB_MAGIC:
        return "it is not a DuckDB database"
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return f"it cannot be opened as a DuckDB database ({exc})"
    try:
        columns = {
            str(row[0])
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ?",
                [MARKER_TABLE],
            ).fetchall()
        }
    except duckdb.Error as exc:
        return f"its tables cannot be listed ({exc})"
    finally:
        con.close()
    if not columns >= MARKER_COLUMNS:
        return (
            f"it is a DuckDB database, but not one written by cartcohort (no {MARKER_TABLE} table)"
        )
    return ""


def _check_target(target: Path, protected: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse any target that is not a new file or a database cartcohort wrote."""
    if not target.parent.exists():
        msg = (
            f"Folder {str(target.parent)!r} does not exist; create it or choose another --db path."
        )
        raise StoreError(msg)
    if target.is_dir():
        msg = f"{str(target)!r} is a folder; --db needs a file name such as cohort.duckdb."
        raise StoreError(msg)
    _refuse_protected(target, protected)
    if not target.exists():
        if target.is_symlink():
            msg = f"{str(target)!r} is a broken symbolic link; choose another --db path."
            raise StoreError(msg)
        return
    if not target.is_file():
        msg = (
            f"{str(target)!r} is not a regular file; --db needs a file name such as cohort.duckdb."
        )
        raise StoreError(msg)
    why = _is_cartcohort_database(target)
    if why:
        msg = (
            f"{str(target)!r} exists and {why}: cartcohort replaces only databases it wrote "
            "itself, so the file was left unchanged. Choose a new file name for --db "
            "(e.g. cohort.duckdb), or move the file away if you mean to replace it."
        )
        raise StoreError(msg)


def _take_permissions(tmp: Path, target: Path) -> None:
    """Give the new file the existing database's mode and owner (0600 for a new one)."""
    try:
        old = target.stat()
    except FileNotFoundError:
        tmp.chmod(NEW_DATABASE_MODE)
        return
    tmp.chmod(stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(tmp, old.st_uid, old.st_gid)


def write_cohort(
    cohort: Cohort,
    db_path: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
    allow_identifiers: Iterable[str] = (),
) -> Path:
    """Write ``cohort`` into the DuckDB database at ``db_path``, replacing its contents.

    Parameters
    ----------
    cohort
        A validated cohort (from :func:`cartcohort.validate.load_cohort`).
    db_path
        The database file; created if absent (readable by its owner only, mode 0600).
        A symbolic link is followed: the database it points to is replaced.
        An existing file is replaced only when it is a database cartcohort wrote (it has
        the ``_cohort`` table); the new one keeps its mode and, where allowed, its owner.
    source
        The file the cohort was read from; it is never overwritten (nor are the cohort's
        recorded source files).
    allow_identifiers
        Extra columns that look like direct identifiers to store anyway (see
        :func:`cartcohort.validate.identifiers.find_identifier_columns`); by default
        such columns are refused.

    Returns
    -------
    Path
        The database path.

    Raises
    ------
    StoreError
        The folder does not exist or cannot be written; the target is the input file, is
        not a DuckDB database or was not written by cartcohort; another import has held
        the database for more than :data:`LOCK_TIMEOUT_S` s ("busy"); the cohort has
        columns that look like direct identifiers. The existing file is then unchanged.

    Notes
    -----
    Imports into one database take a lock (``.NAME.lock`` beside it), so concurrent
    imports run one after the other; the last one to finish wins.
    """
    given = Path(db_path)
    # a symbolic link to a database: replace the database it points to, keep the link
    target = given.resolve() if given.is_symlink() and given.exists() else given
    refuse_identifiers(cohort, allow=allow_identifiers, action="stored")
    protected = [*(s.path for s in cohort.sources), *([source] if source is not None else [])]
    _check_target(target, protected)
    try:
        with _import_lock(target):
            _check_target(target, protected)  # another import may have changed it meanwhile
            _cleanup_stale(target)
            with _temporary_database(target) as tmp:
                con = duckdb.connect(str(tmp))
                try:
                    for spec in TABLES:
                        frame = cohort.tables.get(spec.name)
                        if frame is not None:
                            _write_table(con, spec.name, frame)
                    _write_table(con, MARKER_TABLE, _cohort_row(cohort))
                    _write_table(con, "_sources", _source_rows(cohort.sources))
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                _take_permissions(tmp, target)
                with tmp.open("rb+") as fh:  # flush the file to disk before it replaces the target
                    os.fsync(fh.fileno())
                tmp.replace(target)
    except (OSError, duckdb.Error) as exc:
        msg = f"Could not write the cohort database {str(target)!r}: {exc}. It was left unchanged."
        raise StoreError(msg) from exc
    return given


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
    cohort: Cohort,
    out_dir: str | os.PathLike[str],
    *,
    fmt: str = "csv",
    allow_identifiers: Iterable[str] = (),
) -> list[Path]:
    """Write every table of ``cohort`` into ``out_dir`` as CSV, XLSX or Parquet files.

    CSV and Parquet give one file per table (``patients.csv`` ...) and ``cohort.yaml``
    (name, synthetic flag); XLSX gives one workbook ``cohort.xlsx`` with one sheet per
    table and a ``_cohort`` sheet with the same label and flag. The files read back into the
    same cohort with :func:`cartcohort.validate.load_cohort`.

    Raises
    ------
    StoreError
        An unknown format, or extra columns that look like direct identifiers (see
        :mod:`cartcohort.validate.identifiers`) not named in ``allow_identifiers``;
        nothing is written then.
    """
    if fmt not in ("csv", "xlsx", "parquet"):
        msg = f"`format` must be csv, xlsx or parquet; got {fmt!r}."
        raise StoreError(msg)
    refuse_identifiers(cohort, allow=allow_identifiers, action="exported")
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


__all__ = [
    "export_cohort",
    "read_cohort",
    "read_provenance",
    "refuse_identifiers",
    "write_cohort",
]
