"""Files on the server side: safe names, safe joins, size checks, the report zip.

Uploads are data, never code: a file is stored under a random folder with a name
reduced to ``[A-Za-z0-9._-]`` (its table may be named by its stem, e.g.
``labs.csv``), its extension must be one we read, and a workbook's unpacked size is
checked before it is opened (a small ``.xlsx`` can unpack to gigabytes). A workbook is
then read through once at the zip and XML level (every part decompressed and checked,
every XML part parsed with expat, which expands no external entity and stops entity
amplification), so that a damaged or hostile file is refused with the name of the part
and the problem rather than failing later inside the spreadsheet reader.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from xml.parsers import expat

#: Extensions accepted for a cohort upload.
DATA_EXTENSIONS = (".csv", ".xlsx")
#: Extensions accepted for a plan or a column mapping.
YAML_EXTENSIONS = (".yaml", ".yml")
#: How much bigger than the upload cap a workbook may become once unpacked.
XLSX_UNPACK_FACTOR = 25

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 60
_READ_CHUNK = 1 << 20
_RESAVE = "Open it in Excel and save it again as 'Excel Workbook (.xlsx)', or save it as CSV."


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
    """Check that ``path`` is a readable zip-based workbook whose contents are not too large.

    Every part is decompressed (its checksum checked) and every XML part parsed; nothing
    is kept in memory beyond one chunk.

    Raises
    ------
    UploadRejectedError
        Not a zip archive (an ``.xls`` renamed, a CSV named ``.xlsx`` ...); it would
        unpack to more than ``max_unpacked_bytes`` or one of its parts unpacks like a zip
        bomb (:func:`cartcohort.ingest.limits.zip_problem`, the same check as every read);
        it is encrypted; a part is damaged; or an XML part is not well-formed (or declares
        entities that expand too much).
    """
    from cartcohort.ingest.limits import ReadLimits, zip_problem

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            # the same check as every read (cartcohort.ingest.limits), with this server's limit
            problem = zip_problem(path, ReadLimits(max_unpacked_bytes=max_unpacked_bytes))
            if problem is not None:
                msg = (
                    f"This workbook cannot be read here: {problem}. Save each table as CSV and "
                    "upload them separately, or start the server with a larger limit."
                )
                raise UploadRejectedError(msg)
            if "xl/workbook.xml" not in {info.filename for info in infos}:
                msg = (
                    "This file is a zip archive but not an Excel workbook (it has no "
                    f"xl/workbook.xml part). {_RESAVE}"
                )
                raise UploadRejectedError(msg)
            for info in infos:
                _check_part(archive, info, max_unpacked_bytes=max_unpacked_bytes)
    except (zipfile.BadZipFile, OSError, EOFError):
        msg = (
            "This file is not an Excel workbook (.xlsx), although its name ends in .xlsx. "
            "Open it in Excel and save it as 'Excel Workbook (.xlsx)', or as CSV."
        )
        raise UploadRejectedError(msg) from None
    _check_cells(path)


def _check_cells(path: Path) -> None:
    """Read every cell with openpyxl as the cohort reader will, refusing a cell it cannot read.

    Only openpyxl runs here, so any exception means the file holds something it cannot
    read (a number cell holding text, a cell address beyond column XFD, a bad date ...).
    """
    from openpyxl import load_workbook

    sheet, row = "", 0
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            for worksheet in workbook.worksheets:
                sheet, row = worksheet.title, 0
                for row, _ in enumerate(worksheet.iter_rows(values_only=True), start=1):  # noqa: B007
                    pass
        finally:
            workbook.close()
    except Exception as exc:  # openpyxl's own errors on this file, of many types
        where = f" (sheet '{sheet}', after row {row})" if sheet else ""
        msg = (
            f"This workbook holds something Excel's file format does not allow{where}: "
            f"{type(exc).__name__}: {exc}. {_RESAVE}"
        )
        raise UploadRejectedError(msg) from None


def _check_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_unpacked_bytes: int
) -> None:
    """Decompress one part (checking its size and checksum); parse it if it is XML."""
    name = info.filename
    if info.flag_bits & 0x1:
        msg = f"This workbook is password-protected (part {name} is encrypted). {_RESAVE}"
        raise UploadRejectedError(msg)
    parser = expat.ParserCreate() if name.endswith((".xml", ".rels", ".vml")) else None
    seen = 0
    try:
        with archive.open(info) as part:
            while chunk := part.read(_READ_CHUNK):
                seen += len(chunk)
                if seen > max_unpacked_bytes:  # the declared size was false
                    msg = (
                        f"Part {name} of this workbook unpacks to more than this server "
                        f"accepts ({max_unpacked_bytes / 1e6:.0f} MB). {_RESAVE}"
                    )
                    raise UploadRejectedError(msg)
                if parser is not None:
                    parser.Parse(chunk, False)  # noqa: FBT003 (expat has no keyword)
            if parser is not None:
                parser.Parse(b"", True)  # noqa: FBT003
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code else str(exc)
        msg = (
            f"This workbook is damaged: its part {name} is not valid XML ({reason}, line "
            f"{exc.lineno}, column {exc.offset}). {_RESAVE}"
        )
        raise UploadRejectedError(msg) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        msg = f"This workbook is damaged: its part {name} cannot be unpacked ({exc}). {_RESAVE}"
        raise UploadRejectedError(msg) from None


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
