"""Cohort page: upload or open the demo, read the validation report, import.

Reading and checking are the library's (:func:`cartcohort.ingest.read_source`,
:func:`cartcohort.validate.validate_cohort`, :func:`cartcohort.store.write_cohort`);
this module moves files and shows results. The column-mapping step is in
:mod:`cartcohort.web.routes_mapping`.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cartcohort._spreadsheet import write_csv
from cartcohort.demo import DEMO_NAMES, demo_path
from cartcohort.errors import CartcohortError
from cartcohort.ingest import read_source
from cartcohort.store import write_cohort
from cartcohort.validate import validate_cohort
from cartcohort.web._common import WebConfig, config_of, render, session_of
from cartcohort.web._files import (
    DATA_EXTENSIONS,
    XLSX_UNPACK_FACTOR,
    UploadRejectedError,
    check_xlsx,
    random_folder,
    safe_filename,
)
from cartcohort.web._sessions import Session, Source

_CHUNK = 1 << 20
_DEMO_TITLES = {
    "synthetic": "Synthetic demo: 150 simulated patients, all tables",
    "seed002_mrd": "Published demo: 14 MRD-positive patients, patients table",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueRow:
    """One validation problem as shown in the table (server paths removed)."""

    severity: str
    file: str
    sheet: str
    table: str
    row: int | None
    column: str
    value: str
    rule: str
    message: str
    hint: str


def issue_rows(session: Session) -> list[IssueRow]:
    """The session's validation issues, located by the names the user knows."""
    if session.report is None:
        return []
    rows = []
    for issue in session.report.issues:
        rows.append(
            IssueRow(
                severity=issue.severity,
                file=_display_file(session, issue.file),
                sheet=issue.sheet or "",
                table=issue.table,
                row=issue.row,
                column=issue.column or "",
                value=issue.value or "",
                rule=issue.rule,
                message=session.hide_paths(issue.message),
                hint=session.hide_paths(issue.hint),
            )
        )
    return rows


def identifier_columns(session: Session) -> list[str]:
    """Headers refused as direct identifiers (``extra.identifier`` errors), as written."""
    if session.report is None:
        return []
    found = (
        i.value or i.column or "" for i in session.report.errors if i.rule == "extra.identifier"
    )
    return list(dict.fromkeys(f for f in found if f))


def _display_file(session: Session, file: str) -> str:
    if not file:
        return ""
    source = session.source
    name = Path(file).name
    if source is not None and source.kind == "upload" and name == source.path.name:
        return source.display_name
    return session.hide_paths(name)


def revalidate(session: Session, config: WebConfig) -> str:
    """Read and validate the session's source with its mapping; return an error message or "".

    The whole source is refused (and forgotten) when it holds more rows than the cap.
    """
    source = session.source
    if source is None:
        return ""
    try:
        raw = read_source(source.path, mapping=session.mapping_path)
    except CartcohortError as exc:
        session.report = None
        session.cohort = None
        return session.hide_paths(str(exc))
    n_rows = sum(t.n_rows for t in raw.tables.values())
    if n_rows > config.max_rows:
        _forget_upload(session)
        return (
            f"This file holds {n_rows:,} data rows; this server accepts at most "
            f"{config.max_rows:,} in one upload. Split it, or start the server with a larger "
            "--max-rows."
        )
    cohort, report = validate_cohort(raw)
    session.report = report
    session.cohort = cohort
    session.imported_db = None
    session.columns = {
        name: tuple(str(c) for c in t.frame.columns) for name, t in raw.tables.items()
    }
    return ""


def _forget_upload(session: Session) -> None:
    source = session.source
    if source is not None and source.kind == "upload":
        shutil.rmtree(source.path.parent, ignore_errors=True)
    session.clear_cohort()


# -----------------------------------------------------------------------------------------
# Pages
# -----------------------------------------------------------------------------------------
def cohort_context(session: Session, config: WebConfig, *, error: str = "") -> dict[str, object]:
    """Everything the cohort page shows."""
    report = session.report
    cohort = session.cohort
    return {
        "section": "cohort",
        "error": error,
        "notice": session.notice,
        "source": session.source,
        "report": report,
        "issues": issue_rows(session),
        "cohort": cohort,
        "tables": ([(name, len(frame)) for name, frame in cohort.tables.items()] if cohort else []),
        "n_extra": sum(1 for i in report.issues if i.rule == "extra.column") if report else 0,
        "identifiers": identifier_columns(session),
        "mapping": session.mapping_path is not None,
        "imported": session.imported_db is not None,
        "max_mb": config.max_upload_bytes / 1e6,
        "max_rows": config.max_rows,
        "demos": [(name, _DEMO_TITLES.get(name, name)) for name in DEMO_NAMES],
    }


async def cohort_page(request: Request) -> Response:
    """The cohort page: upload form, the loaded data, its validation report."""
    session = session_of(request)
    context = cohort_context(session, config_of(request))
    session.notice = ""
    return render(request, "cohort.html", context)


def _refuse(request: Request, message: str, status: int = 400) -> Response:
    session = session_of(request)
    return render(
        request,
        "cohort.html",
        cohort_context(session, config_of(request), error=message),
        status=status,
    )


async def upload(request: Request) -> Response:
    """Receive a CSV or XLSX file, store it under a random folder, validate it."""
    session = session_of(request)
    config = config_of(request)
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _refuse(request, "Choose a CSV or Excel (.xlsx) file first.")
        try:
            name = safe_filename(file.filename, allowed=DATA_EXTENSIONS)
        except UploadRejectedError as exc:
            return _refuse(request, str(exc))
        folder = random_folder(session.ensure_folder() / "uploads")
        target = folder / name
        size = await _save(file, target)
    if size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return _refuse(request, "The file is empty.")
    if target.suffix == ".xlsx":
        try:
            check_xlsx(target, max_unpacked_bytes=config.max_upload_bytes * XLSX_UNPACK_FACTOR)
        except UploadRejectedError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return _refuse(request, str(exc))
    _forget_upload(session)
    session.source = Source(
        path=target,
        display_name=file.filename,
        kind="upload",
        hide_prefixes=(str(folder),),
    )
    error = await run_in_threadpool(revalidate, session, config)
    if error:
        return _refuse(request, error, 413 if session.source is None else 400)
    return RedirectResponse("/cohort", status_code=303)


async def _save(file: UploadFile, target: Path) -> int:
    size = 0
    with target.open("wb") as out:
        while chunk := await file.read(_CHUNK):
            out.write(chunk)
            size += len(chunk)
    return size


async def open_demo(request: Request) -> Response:
    """Load one of the built-in demo cohorts (read from the installed package, never copied)."""
    session = session_of(request)
    async with request.form(max_files=0, max_fields=5) as form:
        name = str(form.get("demo", "synthetic"))
    if name not in DEMO_NAMES:
        return _refuse(request, f"There is no demo called {name!r}.")
    folder = demo_path(name)  # type: ignore[arg-type]
    _forget_upload(session)
    session.source = Source(
        path=folder,
        display_name=_DEMO_TITLES.get(name, name),
        kind="demo",
        hide_prefixes=(str(folder.parent),),
    )
    error = await run_in_threadpool(revalidate, session, config_of(request))
    if error:
        return _refuse(request, error)
    return RedirectResponse("/cohort", status_code=303)


async def validation_csv(request: Request) -> Response:
    """The validation report as CSV (the columns of ``ValidationReport.to_frame``)."""
    session = session_of(request)
    if session.report is None:
        return RedirectResponse("/cohort", status_code=303)
    frame = session.report.to_frame()
    frame["file"] = [_display_file(session, str(f)) for f in frame["file"]]
    for column in ("message", "hint"):
        frame[column] = [session.hide_paths(str(v)) for v in frame[column]]
    buffer = io.StringIO()
    write_csv(frame, buffer, index=False)  # cells quote the user's values
    return Response(
        buffer.getvalue().encode("utf-8-sig"),  # the BOM makes Excel read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="validation-report.csv"'},
    )


async def import_cohort(request: Request) -> Response:
    """Write the validated cohort into the session's DuckDB database (all or nothing)."""
    session = session_of(request)
    if session.cohort is None:
        return _refuse(request, "There is no valid cohort to import: fix the errors first.")
    db = session.ensure_folder() / "cohort.duckdb"
    try:
        await run_in_threadpool(write_cohort, session.cohort, db)
    except CartcohortError as exc:
        return _refuse(request, session.hide_paths(str(exc)))
    session.imported_db = db
    session.notice = (
        f"Imported {session.cohort.n_patients} patients into the cohort database "
        "(cohort.duckdb). The Analysis page uses this cohort."
    )
    return RedirectResponse("/cohort", status_code=303)


async def download_db(request: Request) -> Response:
    """The imported DuckDB database (the same file ``cartcohort import`` writes)."""
    session = session_of(request)
    if session.imported_db is None or not session.imported_db.is_file():
        return RedirectResponse("/cohort", status_code=303)
    return FileResponse(
        session.imported_db, filename="cohort.duckdb", media_type="application/octet-stream"
    )


async def forget(request: Request) -> Response:
    """Forget the loaded data (the uploaded file is deleted from the server)."""
    _forget_upload(session_of(request))
    return RedirectResponse("/cohort", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/cohort", cohort_page, methods=["GET"], name="cohort"),
    Route("/cohort/upload", upload, methods=["POST"]),
    Route("/cohort/demo", open_demo, methods=["POST"]),
    Route("/cohort/validation.csv", validation_csv, methods=["GET"]),
    Route("/cohort/import", import_cohort, methods=["POST"]),
    Route("/cohort/cohort.duckdb", download_db, methods=["GET"]),
    Route("/cohort/forget", forget, methods=["POST"]),
]

__all__ = [
    "ROUTES",
    "IssueRow",
    "cohort_context",
    "identifier_columns",
    "issue_rows",
    "revalidate",
]
