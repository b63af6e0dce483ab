"""The report folder: where a report may be written, and moving a finished report into
place without touching files that are not the report's."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from cartcohort.errors import CartcohortError

if TYPE_CHECKING:
    pass


#: The file that marks a folder as a cartcohort report folder; it lists the files the
#: report wrote there (the only files a later report into that folder replaces or deletes).
MARKER = ".cartcohort-report"


def check_report_folder(out_dir: str | Path) -> Path:
    """Check that a report may be written into ``out_dir``, before any work is done.

    A report goes into a folder that does not exist yet, an empty folder, or a folder
    an earlier report wrote (it holds the :data:`MARKER` file). Anything else is refused,
    so that no file of the user's is ever replaced or deleted.

    Parameters
    ----------
    out_dir
        The report folder.

    Returns
    -------
    pathlib.Path
        ``out_dir`` as a path.

    Raises
    ------
    cartcohort.errors.CartcohortError
        ``out_dir`` is a file, or a folder that is not empty and holds no marker.
    """
    out = Path(out_dir)
    if out.is_symlink() and not out.exists():
        msg = f"The report folder {out} is a broken symbolic link; choose another folder."
        raise CartcohortError(msg)
    if not out.exists():
        return out
    if not out.is_dir():
        msg = (
            f"The report folder {out} is a file, not a folder; nothing was written. Choose "
            "a new folder for the report."
        )
        raise CartcohortError(msg)
    if not (out / MARKER).is_file() and any(out.iterdir()):
        msg = (
            f"The report folder {out} is not empty and was not written by cartcohort (it "
            f"has no {MARKER} file); nothing was written, so that none of its files is "
            "replaced or deleted. Choose a new or empty folder, or the folder of an "
            "earlier cartcohort report."
        )
        raise CartcohortError(msg)
    return out


def _listed_files(folder: Path) -> list[str]:
    """The files an earlier report wrote into ``folder`` (from its marker; safe paths only)."""
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    names = []
    for name in listed if isinstance(listed, list) else []:
        path = PurePosixPath(str(name))
        if path.parts and not path.is_absolute() and ".." not in path.parts and name != MARKER:
            names.append(path.as_posix())
    return names


def _install(built: Path, target: Path) -> None:
    """Move the finished report in ``built`` to ``target``: one rename when ``target`` is
    new or empty; otherwise the earlier report's files (those its marker lists) are
    replaced or deleted one by one and every other file is left alone."""
    files = sorted(
        p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file() or p.is_symlink()
    )
    missing = [name for name in ("report.html", "results.json") if name not in files]
    if missing:  # another program emptied the temporary folder during the run
        msg = (
            f"The report being built in {built} lost {', '.join(missing)} during the run "
            f"(deleted by another program?); {target} was left as it was. Run again."
        )
        raise CartcohortError(msg)
    marker = json.dumps({"files": files, "format": 1}, indent=2, sort_keys=True) + "\n"
    (built / MARKER).write_text(marker, encoding="utf-8", newline="\n")
    check_report_folder(target)  # again: the folder may have changed during the run
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        built.replace(target)
        return
    new = set(files)
    inside = target.resolve()
    outside = sorted(
        {n.split("/")[0] for n in files if not (target / n).parent.resolve().is_relative_to(inside)}
    )
    if outside:  # a user's link (tables/ -> elsewhere): never write through it
        msg = (
            f"The report folder {target} has {', '.join(outside)} linking out of it; nothing "
            "was replaced. Remove the link or choose another folder."
        )
        raise CartcohortError(msg)
    for name in _listed_files(target):
        path = target / name
        if name not in new and path.parent.resolve().is_relative_to(inside):
            path.unlink(missing_ok=True)
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (built / name).replace(target / name)
    (built / MARKER).replace(target / MARKER)
    for sub in ("figures", "tables"):  # left empty by the earlier report's files only
        folder = target / sub
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
