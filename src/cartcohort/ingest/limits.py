"""Resource limits for reading a cohort: one definition for the command line, the API and
the web app.

A small file can ask for a lot of memory: an XLSX is a zip archive (8 kB can unpack to
gigabytes), a Parquet file's pages are compressed, and any table can be millions of rows
or thousands of columns wide. Each limit is checked *before* the data are materialised:

* every file: its size on disk (``max_file_bytes``);
* XLSX: the uncompressed sizes its zip directory declares, in total
  (``max_unpacked_bytes``) and per entry (``max_unpack_ratio``), before openpyxl parses
  anything (Python's :mod:`zipfile` never inflates an entry beyond its declared size);
  rows and columns while the sheet is streamed, stopping at the first row beyond the limit;
* Parquet: the row count, column count and uncompressed size in the file's metadata,
  before any page is read;
* CSV: rows (line count) and columns (delimiters in the header line) before parsing;
* every table: cells longer than ``max_cell_chars`` (Excel's own limit by default).

The defaults fit real cohorts (a million rows per table; files of a few hundred MB). The
web app uses the same checks with its own, smaller limits (see ``docs/web-app.md``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadLimits:
    """How much a cohort source may hold; see the module docstring for where each applies.

    Attributes
    ----------
    max_file_bytes
        Largest file on disk (each file of a folder).
    max_rows
        Most data rows in one table.
    max_columns
        Most columns in one table.
    max_cell_chars
        Longest cell, in characters (Excel holds at most 32,767).
    max_unpacked_bytes
        Largest total uncompressed size of an XLSX archive or a Parquet file's data.
    max_unpack_ratio
        Largest uncompressed/compressed ratio of one XLSX archive entry larger than 1 MB
        (zip bombs reach ratios of 1000; workbooks stay well under 100).
    """

    max_file_bytes: int = 500 * MB
    max_rows: int = 1_000_000
    max_columns: int = 1_000
    max_cell_chars: int = 32_767
    max_unpacked_bytes: int = 2_000 * MB
    max_unpack_ratio: float = 200.0

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if not value > 0:
                msg = f"`{name}` must be positive; got {value!r}."
                raise ValueError(msg)

    @classmethod
    def for_files(cls, *, max_file_bytes: int, max_rows: int) -> ReadLimits:
        """Limits for files up to ``max_file_bytes`` (XLSX archives and Parquet data may
        unpack to :data:`UNPACK_FACTOR` times that) and tables up to ``max_rows`` rows."""
        return cls(
            max_file_bytes=max_file_bytes,
            max_rows=max_rows,
            max_unpacked_bytes=UNPACK_FACTOR * max_file_bytes,
        )


#: How much larger than the file limit an XLSX archive or Parquet data may unpack to.
UNPACK_FACTOR = 4
#: The limits used when none are given.
DEFAULT_LIMITS = ReadLimits()
#: An archive entry must be at least this large before its ratio counts.
_RATIO_FLOOR = 1 * MB


def _mb(n: float) -> str:
    if n < MB:
        return f"{n:,.0f} bytes"
    return f"{n / MB:,.1f} MB" if n < 10 * MB else f"{n / MB:,.0f} MB"


def file_size_problem(path: Path, limits: ReadLimits) -> str | None:
    """Why ``path`` is too large to read, or ``None``."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return f"the file is {_mb(size)}, more than the {_mb(limits.max_file_bytes)} limit"
    return None


def zip_problem(path: Path, limits: ReadLimits) -> str | None:
    """Why the zip archive ``path`` (an XLSX) must not be unpacked, or ``None``.

    Reads only the archive's directory: the sizes each entry declares. ``None`` also for a
    file that is not a zip archive (the workbook reader reports that).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return None
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked_bytes:
        return (
            f"the workbook unpacks to {_mb(total)}, more than the "
            f"{_mb(limits.max_unpacked_bytes)} limit"
        )
    for info in infos:
        if info.file_size < _RATIO_FLOOR:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_unpack_ratio:
            return (
                f"its part {info.filename!r} unpacks {ratio:,.0f} times ({_mb(info.file_size)} "
                f"from {_mb(info.compress_size)}), more than the {limits.max_unpack_ratio:g} "
                "times a workbook needs: a zip bomb, or a sheet of millions of empty cells"
            )
    return None


def parquet_problem(path: Path, limits: ReadLimits) -> str | None:
    """Why the Parquet file ``path`` must not be read, from its metadata only, or ``None``.

    ``None`` also for a file whose metadata cannot be read (the reader reports that).
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # pyarrow raises many types for a corrupt file
        return None
    if meta.num_rows > limits.max_rows:
        return (
            f"its metadata declares {meta.num_rows:,} rows, more than the {limits.max_rows:,} limit"
        )
    if meta.num_columns > limits.max_columns:
        return (
            f"its metadata declares {meta.num_columns:,} columns, more than the "
            f"{limits.max_columns:,} limit"
        )
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.max_unpacked_bytes:
        return (
            f"its data are {_mb(size)} uncompressed, more than the "
            f"{_mb(limits.max_unpacked_bytes)} limit"
        )
    return None


def text_problem(text: str, delimiter: str, limits: ReadLimits) -> str | None:
    """Why a CSV text has too many rows or columns (counted, not parsed), or ``None``."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines - 1 > limits.max_rows:
        return (
            f"it has {lines - 1:,} lines below the header, more than the "
            f"{limits.max_rows:,} row limit"
        )
    first = text[: text.find("\n") + 1 or None]
    columns = first.count(delimiter) + 1
    if columns > limits.max_columns:
        return f"its header has {columns:,} columns, more than the {limits.max_columns:,} limit"
    return None


#: How to raise the limits, for messages.
LIMITS_HINT = (
    "Split the table into smaller files, or raise the limit if the file is what you meant "
    "(command line: --max-rows, --max-file-mb; Python: read_source(..., "
    "limits=ReadLimits(...)); web app: the options of cartcohort serve)."
)

__all__ = [
    "DEFAULT_LIMITS",
    "LIMITS_HINT",
    "MB",
    "UNPACK_FACTOR",
    "ReadLimits",
    "file_size_problem",
    "parquet_problem",
    "text_problem",
    "zip_problem",
]
