"""The column-mapping step: map unrecognised headers to the standard's names.

For every header the validator reported as an extra column (rule ``extra.column``),
the page offers the standard columns of that table, with the validator's
suggestions first and pre-selected. Saving writes the same mapping YAML that
``cartcohort validate --mapping`` reads (checked by the library's
:meth:`~cartcohort.ingest.ColumnMapping.from_dict`), then validates again with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cartcohort.errors import CartcohortError
from cartcohort.ingest import ColumnMapping, read_mapping
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.web._common import config_of, render, session_of
from cartcohort.web._files import YAML_EXTENSIONS, UploadRejectedError, safe_filename
from cartcohort.web._sessions import Session
from cartcohort.web.routes_cohort import revalidate

MAPPING_FILE = "mapping.yaml"
_MAX_MAPPING_BYTES = 1_000_000
_QUOTED = re.compile(r"'([A-Za-z0-9_]+)'")
_HEADER = (
    "# Column mapping written by the cartcohort web app.\n"
    "# Use it on the command line too: cartcohort validate FILE --mapping mapping.yaml\n"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingRow:
    """One unrecognised header and the standard columns it could be mapped to."""

    index: int
    table: str
    header: str
    suggestions: tuple[str, ...]
    #: (column name, label) of the columns offered, suggestions first.
    choices: tuple[tuple[str, str], ...]


def suggestions_of(message: str, table: str) -> tuple[str, ...]:
    """The validator's suggestions, read from its ``extra.column`` message.

    The message quotes the header and then "did you mean 'a' or 'b'?"; only quoted
    names that are columns of ``table`` are kept.

    Examples
    --------
    >>> suggestions_of("'Age' is not a column ...; did you mean 'age_years'? ...", "patients")
    ('age_years',)
    """
    _, _, tail = message.partition("did you mean")
    names = TABLE_BY_NAME[table].column_names if table in TABLE_BY_NAME else ()
    return tuple(dict.fromkeys(n for n in _QUOTED.findall(tail) if n in names))


def _label(table: str, name: str) -> str:
    col = TABLE_BY_NAME[table].column(name)
    unit = f" ({col.unit})" if col.unit else ""
    return f"{name}{unit}: {col.description.rstrip('.')}"


def mapping_rows(session: Session) -> list[MappingRow]:
    """The headers to map, from the session's validation report."""
    if session.report is None:
        return []
    rows: list[MappingRow] = []
    for issue in session.report.issues:
        if issue.rule != "extra.column" or issue.table not in TABLE_BY_NAME:
            continue
        table = issue.table
        present = set(session.columns.get(table, ()))
        suggested = suggestions_of(issue.message, table)
        others = [c for c in TABLE_BY_NAME[table].column_names if c not in present]
        ordered = [*suggested, *(c for c in others if c not in suggested)]
        rows.append(
            MappingRow(
                index=len(rows),
                table=table,
                header=issue.value or issue.column or "",
                suggestions=suggested,
                choices=tuple((c, _label(table, c)) for c in ordered),
            )
        )
    return rows


def missing_required(session: Session) -> list[tuple[str, str]]:
    """(table, column) of required columns the file lacks."""
    if session.report is None:
        return []
    return [(i.table, i.column or "") for i in session.report.issues if i.rule == "required.column"]


def _current(session: Session) -> dict[str, Any]:
    if session.mapping_path is None or not session.mapping_path.is_file():
        return {}
    data = yaml.safe_load(session.mapping_path.read_text(encoding="utf-8-sig"))
    return dict(data) if isinstance(data, Mapping) else {}


def _parse_scale(text: str) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        msg = f"A scale must be a positive number (e.g. 1000000); got {text!r}."
        raise ValueError(msg)
    return value


def _chosen(form: FormData, rows: list[MappingRow]) -> list[tuple[MappingRow, str, float | None]]:
    """The (row, target, scale) the user chose; only offered targets are accepted."""
    chosen = []
    for row in rows:
        target = str(form.get(f"target-{row.index}", "")).strip()
        if not target:
            continue
        if target not in dict(row.choices):
            msg = f"{target!r} is not a column of the {row.table} table."
            raise ValueError(msg)
        scale = _parse_scale(str(form.get(f"scale-{row.index}", "")))
        chosen.append((row, target, scale))
    return chosen


def _write_mapping(session: Session, data: Mapping[str, Any]) -> None:
    ColumnMapping.from_dict(data, source=MAPPING_FILE)  # raises IngestError if malformed
    path = session.ensure_folder() / MAPPING_FILE
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    path.write_text(_HEADER + text, encoding="utf-8")
    session.mapping_path = path


# -----------------------------------------------------------------------------------------
# Routes
# -----------------------------------------------------------------------------------------
def _page(request: Request, *, error: str = "", status: int = 200) -> Response:
    session = session_of(request)
    text = session.mapping_path.read_text(encoding="utf-8") if session.mapping_path else ""
    context = {
        "section": "cohort",
        "rows": mapping_rows(session),
        "missing": missing_required(session),
        "mapping_text": text,
        "source": session.source,
        "error": error,
        "notice": session.notice,
    }
    session.notice = ""
    return render(request, "mapping.html", context, status=status)


async def mapping_page(request: Request) -> Response:
    """The mapping step for the loaded data."""
    return _page(request)


async def save_mapping(request: Request) -> Response:
    """Add the chosen header targets to the mapping YAML and validate again."""
    session = session_of(request)
    rows = mapping_rows(session)
    async with request.form(max_files=0, max_fields=4 * len(rows) + 10) as form:
        try:
            chosen = _chosen(form, rows)
        except ValueError as exc:
            return _page(request, error=str(exc), status=400)
    if not chosen:
        return _page(request, error="Choose a standard column for at least one header.")
    data = _current(session)
    tables = data.setdefault("tables", {})
    for row, target, scale in chosen:
        columns = tables.setdefault(row.table, {}).setdefault("columns", {})
        columns[row.header] = target if scale is None else {"to": target, "scale": scale}
    try:
        _write_mapping(session, data)
    except CartcohortError as exc:
        return _page(request, error=session.hide_paths(str(exc)), status=400)
    error = await run_in_threadpool(revalidate, session, config_of(request))
    if error:
        return _page(request, error=error, status=400)
    mapped = ", ".join(f"{row.header!r} → {target}" for row, target, _ in chosen)
    session.notice = f"Mapping saved ({mapped}) and the data validated again with it."
    return RedirectResponse("/cohort", status_code=303)


async def upload_mapping(request: Request) -> Response:
    """Use a mapping YAML the user already has (parsed with the library's safe reader)."""
    session = session_of(request)
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _page(request, error="Choose a mapping file (.yaml) first.", status=400)
        try:
            safe_filename(file.filename, allowed=YAML_EXTENSIONS)
        except UploadRejectedError as exc:
            return _page(request, error=str(exc), status=400)
        content = await file.read(_MAX_MAPPING_BYTES + 1)
    if len(content) > _MAX_MAPPING_BYTES:
        return _page(request, error="A mapping file must be smaller than 1 MB.", status=413)
    candidate = session.ensure_folder() / "mapping-upload.yaml"
    candidate.write_bytes(content)
    try:
        read_mapping(candidate)
    except CartcohortError as exc:
        text = session.hide_paths(str(exc)).replace("mapping-upload.yaml", file.filename)
        return _page(request, error=text, status=400)
    candidate.replace(session.folder / MAPPING_FILE)
    session.mapping_path = session.folder / MAPPING_FILE
    error = await run_in_threadpool(revalidate, session, config_of(request))
    if error:
        return _page(request, error=error, status=400)
    session.notice = "Mapping file loaded and the data validated again with it."
    return RedirectResponse("/cohort", status_code=303)


async def clear_mapping(request: Request) -> Response:
    """Stop using the mapping and validate again without it."""
    session = session_of(request)
    if session.mapping_path is not None:
        session.mapping_path.unlink(missing_ok=True)
        session.mapping_path = None
        await run_in_threadpool(revalidate, session, config_of(request))
        session.notice = "The column mapping was removed."
    return RedirectResponse("/cohort/mapping", status_code=303)


async def mapping_yaml(request: Request) -> Response:
    """Download the mapping YAML."""
    session = session_of(request)
    if session.mapping_path is None or not session.mapping_path.is_file():
        return RedirectResponse("/cohort/mapping", status_code=303)
    return Response(
        session.mapping_path.read_bytes(),
        media_type="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="{MAPPING_FILE}"'},
    )


ROUTES: list[BaseRoute] = [
    Route("/cohort/mapping", mapping_page, methods=["GET"], name="mapping"),
    Route("/cohort/mapping", save_mapping, methods=["POST"]),
    Route("/cohort/mapping/upload", upload_mapping, methods=["POST"]),
    Route("/cohort/mapping/clear", clear_mapping, methods=["POST"]),
    Route("/cohort/mapping.yaml", mapping_yaml, methods=["GET"]),
]

__all__ = ["ROUTES", "MappingRow", "mapping_rows", "missing_required", "suggestions_of"]
