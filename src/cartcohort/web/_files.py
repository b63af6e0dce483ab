"""Files on the server side: safe names, safe joins, size checks, the report zip.

Uploads are data, never code: a file is stored under a random folder with a name
reduced to ``[A-Za-z0-9._-]`` (its table may be named by its stem, e.g.
``labs.csv``), its extension must be one we read, and a workbook's unpacked size is
checked before it is opened (a small ``.xlsx`` can unpack to gigabytes).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

#: Extensions accepted for a cohort upload.
DATA_EXTENSIONS = (".csv", ".xlsx")
#: Extensions accepted for a plan or a column mapping.
YAML_EXTENSIONS = (".yaml", ".yml")
#: How much bigger than the upload cap a workbook may become once unpacked.
XLSX_UNPACK_FACTOR = 25

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 60


class UploadRejectedError(Exception):
    """An upload that cannot be accepted; the message is shown to the user as it is."""


def safe_filename(original: str, *, allowed: tuple[str, ...]) -> str:
    """Reduce a client-supplied file name to a safe one with an allowed extension.

    Parameters
    ----------
    original
        The name the browser sent (may hold folders, ``..``, any Unicode).
    allowed
        Accepted lower-case extensions, e.g. ``(".csv", ".xlsx")``.

    Returns
    -------
    str
        ``stem.ext`` with only ``A-Z a-z 0-9 . _ -``, no leading dot, at most 60
        characters of stem.

    Raises
    ------
    UploadRejectedError
        The extension is not one of ``allowed``.

    Examples
    --------
    >>> safe_filename("../../etc/Labs 2024.CSV", allowed=(".csv",))
    'Labs_2024.csv'
    """
    # Both separators: a Windows browser may send C:\\Users\\...\\file.xlsx.
    base = PureWindowsPath(PurePosixPath(original.replace("\x00", "")).name).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    dot = base.rfind(".")
    ext = base[dot:].lower() if dot > 0 else ""
    if ext not in allowed:
        shown = ext or "(none)"
        msg = f"Files of type {shown} are not accepted here; use {' or '.join(allowed)}."
        raise UploadRejectedError(msg)
    stem = _UNSAFE.sub("_", base[:dot]).strip("._-")[:_MAX_STEM] or "upload"
    return f"{stem}{ext}"


def random_folder(parent: Path) -> Path:
    """Create and return a new folder with a random name under ``parent``."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = parent / secrets.token_hex(8)
    folder.mkdir()
    return folder


def safe_join(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it stays inside ``root`` and is a file, else ``None``.

    Examples
    --------
    >>> safe_join(Path("/tmp"), "../etc/passwd") is None
    True
    """
    if not relative or "\x00" in relative or relative.startswith(("/", "\\")):
        return None
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def check_xlsx(path: Path, *, max_unpacked_bytes: int) -> None:
    """Check that ``path`` is a zip-based workbook whose contents are not too large.

    Raises
    ------
    UploadRejectedError
        Not a zip archive (an ``.xls`` renamed, a CSV named ``.xlsx`` ...), or it
        would unpack to more than ``max_unpacked_bytes`` (or one of its parts unpacks
        like a zip bomb: :func:`cartcohort.ingest.limits.zip_problem`).
    """
    from cartcohort.ingest.limits import ReadLimits, zip_problem

    if not zipfile.is_zipfile(path):
        msg = (
            "This file is not an Excel workbook (.xlsx), although its name ends in .xlsx. "
            "Open it in Excel and save it as 'Excel Workbook (.xlsx)', or as CSV."
        )
        raise UploadRejectedError(msg) from None
    # the same check as every read (cartcohort.ingest.limits), with this server's limit
    problem = zip_problem(path, ReadLimits(max_unpacked_bytes=max_unpacked_bytes))
    if problem is not None:
        msg = (
            f"This workbook cannot be read here: {problem}. Save each table as CSV and upload "
            "them separately, or start the server with a larger limit."
        )
        raise UploadRejectedError(msg)


def zip_folder(folder: Path, target: Path, *, arc_root: str) -> Path:
    """Write every file under ``folder`` into the zip ``target`` below ``arc_root/``."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path != target:
                archive.write(path, f"{arc_root}/{path.relative_to(folder).as_posix()}")
    return target


__all__ = [
    "DATA_EXTENSIONS",
    "XLSX_UNPACK_FACTOR",
    "YAML_EXTENSIONS",
    "UploadRejectedError",
    "check_xlsx",
    "random_folder",
    "safe_filename",
    "safe_join",
    "zip_folder",
]
