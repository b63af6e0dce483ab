"""The column-mapping page: a centre's own sheet into the standard, without editing the sheet.

The page shows the sheet as the reader sees it (:mod:`cartcohort.web.mapping_model`) and
edits one mapping YAML, the file ``cartcohort validate --mapping`` reads:

* the header-row picker: the first rows of the sheet, a radio per row for ``header_row``
  and a checkbox per row for ``group_rows``;
* every header with what the mapping does with it (standard name, mapped, recoded, in a
  per-day block, left out, not recognised), a choice of standard column with the clinical
  synonyms' suggestion pre-selected, and "leave the rest out" (``ignore:``); a search box
  and an "unrecognised only" filter (a GET form; ``app.js`` filters as one types);
* the wide-rule form: patterns, the block's headers with analyte/unit/day column, and a
  preview of the long rows the rule gives;
* value recoding of a mapped header, to one or two standard columns;
* constants and the date format.

Every form checks the whole document with :meth:`~cartcohort.ingest.ColumnMapping.from_dict`
before the file is written, then validates the data again with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cartcohort.errors import CartcohortError
from cartcohort.ingest import ColumnMapping, read_mapping
from cartcohort.ingest.mapping import DATE_FORMATS
from cartcohort.ingest.sheet_preview import SheetLayout, sheet_layouts
from cartcohort.model.standard import KINETICS_UNIT, TABLE_BY_NAME
from cartcohort.validate.suggest import suggest_mapping
from cartcohort.web import mapping_model as mm
from cartcohort.web._common import config_of, render, session_of
from cartcohort.web._files import YAML_EXTENSIONS, UploadRejectedError, safe_filename
from cartcohort.web._sessions import Session
from cartcohort.web.routes_cohort import revalidate

MAPPING_FILE = "mapping.yaml"
_MAX_MAPPING_BYTES = 1_000_000
#: Rows of the sheet shown by the header-row picker, and columns of them.
PICKER_ROWS = 8
PICKER_COLUMNS = 12
#: Distinct values offered by the recoding form.
MAX_RECODE_VALUES = 40
_MAX_FIELDS = 5000
_HEADER = (
    "# Column mapping written by the cartcohort web app.\n"
    "# Use it on the command line too: cartcohort validate FILE --mapping mapping.yaml\n"
)


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


def _layouts(session: Session, data: Mapping[str, Any]) -> list[SheetLayout]:
    """The sheets of the session's source under ``data``: its sheets, or the CSV files of a
    folder (a demo); one that cannot be read is left out (the validation report says why)."""
    source = session.source
    if source is None:
        return []
    files = sorted(source.path.glob("*.csv")) if source.path.is_dir() else [source.path]
    mapping = mm.parse_mapping(data)
    layouts: list[SheetLayout] = []
    for file in files:
        if file.suffix.lower() not in (".csv", ".xlsx"):
            continue
        try:
            layouts += sheet_layouts(file, mapping, rows=PICKER_ROWS)
        except CartcohortError:
            continue
    return layouts


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


def _write_mapping(session: Session, data: Mapping[str, Any]) -> None:
    clean = mm.ordered(data)
    ColumnMapping.from_dict(clean, source=MAPPING_FILE)  # raises IngestError if malformed
    path = session.ensure_folder() / MAPPING_FILE
    text = yaml.safe_dump(clean, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(_HEADER + text, encoding="utf-8")
    session.mapping_path = path


async def _save(request: Request, data: Mapping[str, Any], notice: str, to: str) -> Response:
    """Check and write ``data``, validate again, and go to ``to`` with ``notice``."""
    session = session_of(request)
    try:
        _write_mapping(session, data)
    except CartcohortError as exc:
        return _page(request, error=session.hide_paths(str(exc)), status=400)
    error = await run_in_threadpool(revalidate, session, config_of(request))
    if error:
        return _page(request, error=error, status=400)
    summary = session.report.summary if session.report is not None else ""
    session.notice = f"{notice} {summary}".strip()
    return RedirectResponse(to, status_code=303)


# -----------------------------------------------------------------------------------------
# The page
# -----------------------------------------------------------------------------------------
def _recode_context(
    layouts: list[SheetLayout], data: Mapping[str, Any], header: str
) -> dict[str, Any] | None:
    for layout in layouts:
        if header not in layout.headers or layout.table not in TABLE_BY_NAME:
            continue
        values: list[str] = []
        for j, head in enumerate(layout.headers):
            if head == header:
                values.extend(layout.values(j))
        values = list(dict.fromkeys(values))
        values = sorted(values, key=lambda v: (len(v), v))[:MAX_RECODE_VALUES]
        entry = mm.current_entry(data, header)
        targets = entry if isinstance(entry, list) else [entry] if entry is not None else []
        given: list[tuple[str, dict[str, str]]] = []
        for target in targets[:2]:
            if isinstance(target, str):
                given.append((target, {}))
            elif isinstance(target, Mapping):
                recode = target.get("values") or {}
                given.append(
                    (str(target.get("to", "")), {str(k): str(v) for k, v in recode.items()})
                )
        while len(given) < 2:
            given.append(("", {}))
        columns = TABLE_BY_NAME[layout.table].column_names
        return {
            "header": header,
            "table": layout.table,
            "values": values,
            "targets": given,
            "columns": columns,
            "allowed": {c: mm.allowed_values(layout.table, c) for c in columns},
        }
    return None


def _page(
    request: Request,
    *,
    error: str = "",
    status: int = 200,
    wide: mm.WideForm | None = None,
) -> Response:
    session = session_of(request)
    data = _current(session)
    text = session.mapping_path.read_text(encoding="utf-8") if session.mapping_path else ""
    layouts = _layouts(session, data)
    rows = mm.column_rows(layouts, data)
    query = str(request.query_params.get("q", ""))[:200]
    only = request.query_params.get("only") == "unrecognised"
    shown = mm.filter_rows(rows, query, only_unrecognised=only)
    recode_header = str(request.query_params.get("recode", ""))
    recodable = [r.header for r in rows if r.status in ("mapped", "recoded")]
    suggested: list[dict[str, Any]] = []
    mapping = mm.parse_mapping(data)
    if layouts and session.source is not None:
        try:
            suggested = mm.suggested_rules(suggest_mapping(session.source.path))
        except CartcohortError:
            suggested = []
        have = {(r.get("group"), r.get("header")) for r in data.get("wide") or []}
        suggested = [r for r in suggested if (r.get("group"), r.get("header")) not in have]
    constants = data.get("constants") if isinstance(data.get("constants"), Mapping) else {}
    date_format = data.get("date_format")
    context = {
        "section": "cohort",
        "layouts": layouts,
        "layout": layouts[0] if layouts else None,
        "picker_columns": PICKER_COLUMNS,
        "rows": shown,
        "n_rows": len(rows),
        "n_unrecognised": sum(r.status in ("unrecognised", "identifier") for r in rows),
        "query": query,
        "only": only,
        "ignore": mm.IGNORE,
        "missing": missing_required(session),
        "mapping_text": text,
        "source": session.source,
        "report": session.report,
        "error": error,
        "notice": session.notice,
        "wide_rules": list(mapping.wide) if mapping is not None else [],
        "wide_raw": list(data.get("wide") or []),
        "wide": wide or mm.WideForm(),
        "suggested": suggested,
        "long_tables": mm.LONG_TABLES,
        "analytes": mm.analyte_labels(),
        "kinetics_units": KINETICS_UNIT,
        "recodable": recodable,
        "recode": _recode_context(layouts, data, recode_header) if recode_header else None,
        "constants": [(str(k), str(v)) for k, v in (constants or {}).items()],
        "constant_columns": mm.constant_columns(),
        "date_formats": tuple(DATE_FORMATS),
        "date_format": date_format if isinstance(date_format, str) else "",
        "date_format_custom": isinstance(date_format, Mapping),
    }
    session.notice = ""
    return render(request, "mapping.html", context, status=status)


async def mapping_page(request: Request) -> Response:
    """The mapping step for the loaded data."""
    return _page(request)


# -----------------------------------------------------------------------------------------
# The header row
# -----------------------------------------------------------------------------------------
def _row_number(text: str, what: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"The {what} must be a row number (1 = first row); got {text!r}."
        raise ValueError(msg)
    return number


async def save_layout(request: Request) -> Response:
    """Set ``header_row`` and ``group_rows`` and read the sheet again with them."""
    session = session_of(request)
    async with request.form(max_files=0, max_fields=200) as form:
        try:
            header_row = _row_number(str(form.get("header_row", "")), "header row")
            groups = sorted({_row_number(str(g), "group row") for g in form.getlist("group_rows")})
        except ValueError as exc:
            return _page(request, error=str(exc), status=400)
    below = [str(g) for g in groups if g >= header_row]
    if below:
        return _page(
            request,
            error=f"Group-label rows must lie above the header row {header_row}; untick "
            f"row{'s' if len(below) > 1 else ''} {', '.join(below)}.",
            status=400,
        )
    data = _current(session)
    data["header_row"] = header_row
    data["group_rows"] = groups
    return await _save(
        request,
        data,
        f"Header row {header_row} saved"
        + (f" with group rows {', '.join(map(str, groups))}." if groups else "."),
        "/cohort/mapping#columns",
    )


# -----------------------------------------------------------------------------------------
# The columns
# -----------------------------------------------------------------------------------------
def _apply_columns(
    form: FormData, rows: list[mm.ColumnRow], data: dict[str, Any], *, shared: bool
) -> list[str]:
    """Apply the posted choices to ``data``; returns what changed, in words.

    Raises
    ------
    ValueError
        A target that was not offered, or a bad scale.
    """
    changed: list[str] = []
    rest = form.get("rest") == "ignore"
    for row in rows:
        if not row.editable:
            continue
        field = f"target-{row.index}"
        posted = field in form
        target = str(form.get(field, "")).strip()
        if target and target != mm.IGNORE and target not in dict(row.choices):
            msg = f"{target!r} is not a column of the {row.table} table."
            raise ValueError(msg)
        scale = _parse_scale(str(form.get(f"scale-{row.index}", "")))
        if not posted or not target:
            if rest and row.status in ("unrecognised", "identifier"):
                mm.add_ignore(data, row.header)
                changed.append(f"{row.header!r} left out")
            elif posted and row.status in ("mapped", "recoded", "ignored"):
                mm.drop_header(data, row.header)
                changed.append(f"{row.header!r} kept as an extra column")
            continue
        if target == mm.IGNORE:
            if row.status != "ignored":
                mm.add_ignore(data, row.header)
                changed.append(f"{row.header!r} left out")
            continue
        unchanged = target == row.current and (f"{scale:g}" if scale else "") == row.scale
        if unchanged and row.status in ("mapped", "recoded"):
            continue
        entry: object = target if scale is None else {"to": target, "scale": scale}
        mm.set_target(data, row.table, row.header, entry, shared=shared)
        changed.append(f"{row.header!r} → {target}")
    return changed


async def save_mapping(request: Request) -> Response:
    """Apply the chosen standard columns (and "leave the rest out") and validate again."""
    session = session_of(request)
    data = _current(session)
    layouts = _layouts(session, data)
    rows = mm.column_rows(layouts, data)
    async with request.form(max_files=0, max_fields=_MAX_FIELDS) as form:
        try:
            changed = _apply_columns(form, rows, data, shared=len(layouts) <= 1)
        except ValueError as exc:
            return _page(request, error=str(exc), status=400)
    if not changed:
        return _page(request, error="Choose a standard column for at least one header.")
    shown = "; ".join(changed[:8]) + (f"; and {len(changed) - 8} more" if len(changed) > 8 else "")
    return await _save(
        request, data, f"Mapping saved ({shown}) and the data validated again with it.", "/cohort"
    )


# -----------------------------------------------------------------------------------------
# Wide rules
# -----------------------------------------------------------------------------------------
def _wide_form(form: FormData) -> mm.WideForm:
    table = str(form.get("table", "labs"))
    if table not in mm.LONG_TABLES:
        msg = f"{table!r} is not a long table; use one of {', '.join(mm.LONG_TABLES)}."
        raise ValueError(msg)
    n_text = str(form.get("n_entries", "0"))
    entries: list[mm.WideEntry] = []
    for i in range(min(int(n_text), 1000) if n_text.isdigit() else 0):
        header = str(form.get(f"e-{i}-header", "")).strip()
        if not header:
            continue
        entries.append(
            mm.WideEntry(
                index=len(entries),
                header=header,
                use=form.get(f"e-{i}-use") == "yes",
                analyte=str(form.get(f"e-{i}-analyte", "")).strip(),
                unit=str(form.get(f"e-{i}-unit", "")).strip(),
                day_column=str(form.get(f"e-{i}-day", "")).strip(),
            )
        )
    dates = tuple(str(d) for d in form.getlist("dates"))
    return mm.WideForm(
        table=table,
        group=str(form.get("group", "")).strip(),
        header=str(form.get("header", "")).strip(),
        entries=tuple(entries),
        dates=dates,
    )


async def wide_rule(request: Request) -> Response:
    """The wide-rule form: find the block's headers, preview the rule, or add it."""
    session = session_of(request)
    data = _current(session)
    layouts = _layouts(session, data)
    async with request.form(max_files=0, max_fields=_MAX_FIELDS) as form:
        action = str(form.get("action", "find"))
        try:
            posted = _wide_form(form)
        except ValueError as exc:
            return _page(request, error=str(exc), status=400)
    try:
        if action == "find" or not posted.entries:
            posted = mm.find_block(layouts, posted.table, posted.group, posted.header)
        if not any(e.use for e in posted.entries):
            if not posted.entries:
                msg = "No header matches these patterns; check them against the group labels."
                return _page(request, error=msg, status=400, wide=posted)
            return _page(
                request,
                error="Tick at least one header of the block to take.",
                status=400 if action == "add" else 200,
                wide=posted,
            )
        shown = mm.preview(posted, layouts, data)
    except ValueError as exc:
        return _page(request, error=str(exc), status=400, wide=posted)
    except CartcohortError as exc:
        return _page(request, error=session.hide_paths(str(exc)), status=400, wide=posted)
    if action != "add":
        return _page(request, wide=shown)
    data["wide"] = [*(data.get("wide") or []), posted.rule()]
    notice = f"Per-day rule added: {shown.n_rows} rows of {posted.table}."
    return await _save(request, data, notice, "/cohort/mapping#wide")


async def remove_wide_rule(request: Request) -> Response:
    """Remove one wide rule (by its 1-based number)."""
    session = session_of(request)
    data = _current(session)
    async with request.form(max_files=0, max_fields=10) as form:
        text = str(form.get("rule", ""))
    rules = list(data.get("wide") or [])
    if not text.isdigit() or not 1 <= int(text) <= len(rules):
        return _page(request, error=f"There is no per-day rule {text!r}.", status=400)
    del rules[int(text) - 1]
    data["wide"] = rules
    return await _save(request, data, f"Per-day rule {text} removed.", "/cohort/mapping#wide")


# -----------------------------------------------------------------------------------------
# Recoding, constants, date format
# -----------------------------------------------------------------------------------------
async def save_recode(request: Request) -> Response:
    """Recode the values of one mapped header, to one or two standard columns."""
    session = session_of(request)
    data = _current(session)
    layouts = _layouts(session, data)
    async with request.form(max_files=0, max_fields=_MAX_FIELDS) as form:
        header = str(form.get("header", ""))
        context = _recode_context(layouts, data, header) if header else None
        if context is None:
            return _page(request, error=f"{header!r} is not a header of the sheet.", status=400)
        targets: list[dict[str, Any]] = []
        for k in (1, 2):
            to = str(form.get(f"to-{k}", "")).strip()
            if not to:
                continue
            if to not in context["columns"]:
                msg = f"{to!r} is not a column of the {context['table']} table."
                return _page(request, error=msg, status=400)
            values = {}
            for i, value in enumerate(context["values"]):
                new = str(form.get(f"r{k}-{i}", "")).strip()
                if new:
                    values[value] = new
            targets.append({"to": to, "values": values} if values else {"to": to})
    if not targets:
        return _page(request, error="Choose the standard column the values go to.", status=400)
    entry: object = targets if len(targets) > 1 else targets[0]
    mm.set_target(data, context["table"], header, entry, shared=len(layouts) <= 1)
    names = " and ".join(t["to"] for t in targets)
    return await _save(
        request, data, f"Values of {header!r} recoded to {names}.", "/cohort/mapping#recode"
    )


async def save_settings(request: Request) -> Response:
    """Set the constants and the date format."""
    session = session_of(request)
    data = _current(session)
    allowed = set(mm.constant_columns())
    async with request.form(max_files=0, max_fields=200) as form:
        constants: dict[str, str] = {}
        for i in range(20):
            column = str(form.get(f"c-{i}-column", "")).strip()
            value = str(form.get(f"c-{i}-value", "")).strip()
            if not column or not value:
                continue
            if column not in allowed:
                return _page(
                    request, error=f"{column!r} is not a column of the standard.", status=400
                )
            constants[column] = value
        fmt = str(form.get("date_format", "")).strip()
        keep = form.get("date_format") == "__keep__"
    if fmt and not keep and fmt not in DATE_FORMATS:
        msg = f"{fmt!r} is not a date format; use one of {', '.join(DATE_FORMATS)}."
        return _page(request, error=msg, status=400)
    data["constants"] = constants
    if not keep:
        data["date_format"] = fmt or None
    return await _save(
        request, data, "Constants and date format saved.", "/cohort/mapping#settings"
    )


# -----------------------------------------------------------------------------------------
# The file
# -----------------------------------------------------------------------------------------
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
    Route("/cohort/mapping/layout", save_layout, methods=["POST"]),
    Route("/cohort/mapping/wide", wide_rule, methods=["POST"]),
    Route("/cohort/mapping/wide/remove", remove_wide_rule, methods=["POST"]),
    Route("/cohort/mapping/recode", save_recode, methods=["POST"]),
    Route("/cohort/mapping/settings", save_settings, methods=["POST"]),
    Route("/cohort/mapping/upload", upload_mapping, methods=["POST"]),
    Route("/cohort/mapping/clear", clear_mapping, methods=["POST"]),
    Route("/cohort/mapping.yaml", mapping_yaml, methods=["GET"]),
]

__all__ = ["ROUTES", "missing_required"]
