"""Analysis page: choose or upload a plan, run it with visible progress, read the report.

Plans are read by the library (:func:`cartcohort.plan.schema.load_plan`,
:func:`~cartcohort.plan.schema.parse_plan`: safe YAML, validated); runs happen in
:mod:`cartcohort.web._jobs`. The report folder is served from the session folder
with a safe path join and offered as a zip.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cartcohort.derive.response import resolve_relapse_rule
from cartcohort.derive.toxicity import CRS_SCALES, ICANS_SCALES
from cartcohort.derive.toxicity.criteria import Scale
from cartcohort.errors import DerivationError, PlanError
from cartcohort.plan.run import preview_plan
from cartcohort.plan.schema import Plan, builtin_plans, load_plan, parse_plan
from cartcohort.web import _jobs
from cartcohort.web._common import error_page, render, session_of
from cartcohort.web._files import YAML_EXTENSIONS, UploadRejectedError, safe_filename, safe_join
from cartcohort.web._sessions import Job, Session

UPLOADED = "uploaded"
_MAX_PLAN_BYTES = 1_000_000
#: The report is static HTML with embedded figures: no script may run in it.
_REPORT_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def new_job_slot() -> threading.Semaphore:
    """The server-wide slot: one plan run at a time."""
    return threading.Semaphore(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChoice:
    """A plan the user can run, as listed on the page."""

    key: str
    name: str
    title: str
    description: str
    analyses: tuple[tuple[str, str, str], ...]  # (id, type, title)
    error: str = ""
    #: (id, title, status, reason) per analysis on the current cohort; empty without one.
    preview: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def n_ready(self) -> int:
        """Analyses the cohort allows."""
        return sum(status == "done" for _, _, status, _ in self.preview)


def _choice(key: str, plan: Plan) -> PlanChoice:
    return PlanChoice(
        key=key,
        name=plan.name,
        title=plan.title,
        description=plan.description,
        analyses=tuple((a.id, a.type, a.title) for a in plan.analyses),
    )


def _preview(session: Session, key: str, plan: Plan) -> tuple[tuple[str, str, str, str], ...]:
    """What each analysis will do on the session's cohort (computed once per cohort)."""
    cohort = session.cohort
    if cohort is None:
        return ()
    cache_key = (id(cohort), key)
    if cache_key not in session.previews:
        if len(session.previews) > 20:
            session.previews.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session.previews[cache_key] = preview_plan(plan, cohort)
    return session.previews[cache_key]


def plan_choices(session: Session) -> list[PlanChoice]:
    """The built-in plans, then the uploaded one; a broken built-in plan shows its error."""
    choices = []
    for name in builtin_plans():
        try:
            plan = load_plan(name)
            choices.append(
                dataclasses.replace(_choice(name, plan), preview=_preview(session, name, plan))
            )
        except PlanError as exc:
            choices.append(
                PlanChoice(
                    key=name, name=name, title=name, description="", analyses=(), error=str(exc)
                )
            )
    if session.custom_plan is not None:
        plan = session.custom_plan
        choices.append(
            dataclasses.replace(_choice(UPLOADED, plan), preview=_preview(session, UPLOADED, plan))
        )
    return choices


def _page(request: Request, *, error: str = "", status: int = 200) -> Response:
    session = session_of(request)
    jobs = sorted(session.jobs.values(), key=lambda j: j.started, reverse=True)
    context = {
        "section": "analysis",
        "cohort": session.cohort,
        "source": session.source,
        "choices": plan_choices(session),
        "custom_name": session.custom_plan_name,
        "jobs": jobs,
        "error": error,
        "crs_scales": _scale_titles(CRS_SCALES),
        "icans_scales": _scale_titles(ICANS_SCALES),
        "relapse_rules": RELAPSE_RULE_TITLES,
    }
    return render(request, "analysis.html", context, status=status)


#: The relapse rules offered on the page (keys of ``derive(relapse_rule=...)``).
RELAPSE_RULE_TITLES: tuple[tuple[str, str], ...] = (
    ("bbmt2010", "BBMT 2010: marrow blasts ≥ 25 %"),
    ("ponte_di_legno_2022", "Ponte-di-Legno 2022 (Buchmann et al., Blood 2022)"),
    ("threshold", "A marrow-blast threshold of my own (not a published rule)"),
)


def _scale_titles(scales: Mapping[str, Scale]) -> tuple[tuple[str, str], ...]:
    return tuple((key, scale.title) for key, scale in scales.items())


def _derive_options(form: Any) -> dict[str, Any]:
    """The grading scales and relapse rule chosen on the page, checked as the CLI checks them
    (:class:`DerivationError` with the allowed values)."""
    crs = str(form.get("crs_system") or "astct")
    icans = str(form.get("icans_system") or "astct")
    for label, value, allowed in (
        ("CRS scale", crs, CRS_SCALES),
        ("ICANS scale", icans, ICANS_SCALES),
    ):
        if value not in allowed:
            msg = f"The {label} must be one of {', '.join(allowed)}; got {value!r}."
            raise DerivationError(msg)
    rule = str(form.get("relapse_rule") or "bbmt2010")
    raw_pct = str(form.get("relapse_blasts_pct") or "").strip()
    pct: float | None = None
    if rule == "threshold":
        try:
            pct = float(raw_pct) if raw_pct else None
        except ValueError:
            msg = f"The relapse threshold must be a percent (a number); got {raw_pct!r}."
            raise DerivationError(msg) from None
    resolve_relapse_rule(rule, pct)  # type: ignore[arg-type]
    return {
        "crs_system": crs,
        "icans_system": icans,
        "relapse_rule": rule,
        "relapse_blasts_pct": pct,
    }


async def analysis_page(request: Request) -> Response:
    """Choose a plan and run it on the validated cohort."""
    return _page(request)


async def upload_plan(request: Request) -> Response:
    """Parse an uploaded plan YAML with the library's validator (nothing is executed)."""
    session = session_of(request)
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _page(request, error="Choose a plan file (.yaml) first.", status=400)
        try:
            safe_filename(file.filename, allowed=YAML_EXTENSIONS)
        except UploadRejectedError as exc:
            return _page(request, error=str(exc), status=400)
        content = await file.read(_MAX_PLAN_BYTES + 1)
    if len(content) > _MAX_PLAN_BYTES:
        return _page(request, error="A plan file must be smaller than 1 MB.", status=413)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(request, error="The plan file is not UTF-8 text.", status=400)
    try:
        plan = parse_plan(text, source=file.filename)
    except PlanError as exc:
        return _page(request, error=str(exc), status=400)
    session.custom_plan = plan
    session.custom_plan_name = file.filename
    return RedirectResponse("/analysis", status_code=303)


async def run(request: Request) -> Response:
    """Start a run of the chosen plan in the background and show its progress page."""
    session = session_of(request)
    if session.cohort is None:
        return _page(request, error="Load a valid cohort on the Cohort page first.", status=400)
    async with request.form(max_files=0, max_fields=8) as form:
        key = str(form.get("plan", ""))
        try:
            options = _derive_options(form)
        except DerivationError as exc:
            return _page(request, error=str(exc), status=400)
    if key == UPLOADED and session.custom_plan is not None:
        plan = session.custom_plan
    elif key in builtin_plans():
        try:
            plan = load_plan(key)
        except PlanError as exc:
            return _page(request, error=str(exc), status=400)
    else:
        return _page(request, error="Choose one of the plans listed.", status=400)
    job_id = secrets.token_hex(6)
    out_dir = session.ensure_folder() / "reports" / job_id
    out_dir.mkdir(parents=True)
    job = Job(id=job_id, plan_title=plan.title, out_dir=out_dir)
    session.jobs[job_id] = job
    thread = threading.Thread(
        target=_jobs.run_job,
        kwargs={
            "job": job,
            "plan": plan,
            "cohort": session.cohort,
            "validation": session.report,
            "slot": request.app.state.job_slot,
            "hide_paths": session.hide_paths,
            "derive_options": options,
        },
        name=f"cartcohort-job-{job_id}",
        daemon=True,
    )
    thread.start()
    return RedirectResponse(f"/analysis/jobs/{job_id}", status_code=303)


def _job(request: Request) -> Job | None:
    return session_of(request).jobs.get(str(request.path_params["job_id"]))


def _no_job(request: Request) -> Response:
    return error_page(
        request,
        404,
        "Run not found",
        "There is no analysis run at this address in this browser session. Runs are kept "
        "only while the server runs.",
        hint="Start a new run on the Analysis page.",
    )


async def job_page(request: Request) -> Response:
    """Progress while running; then the analyses' status and the report inline."""
    job = _job(request)
    if job is None:
        return _no_job(request)
    return render(request, "job.html", {"section": "analysis", "job": job})


async def job_status(request: Request) -> Response:
    """Progress as JSON, polled by the job page."""
    job = _job(request)
    if job is None:
        return JSONResponse({"state": "missing"}, status_code=404)
    return JSONResponse(job.snapshot())


async def job_file(request: Request) -> Response:
    """A file of the written report folder (safe join: nothing outside it is served)."""
    job = _job(request)
    if job is None or job.state != "done":
        return _no_job(request)
    path = safe_join(job.out_dir, str(request.path_params["path"]))
    if path is None:
        return error_page(request, 404, "File not found", "The report has no such file.")
    return FileResponse(path, headers={"Content-Security-Policy": _REPORT_CSP})


async def job_zip(request: Request) -> Response:
    """The whole report folder as one zip."""
    job = _job(request)
    if job is None or job.zip_path is None:
        return _no_job(request)
    return FileResponse(
        job.zip_path, filename="cartcohort-report.zip", media_type="application/zip"
    )


ROUTES: list[BaseRoute] = [
    Route("/analysis", analysis_page, methods=["GET"], name="analysis"),
    Route("/analysis/plan", upload_plan, methods=["POST"]),
    Route("/analysis/run", run, methods=["POST"]),
    Route("/analysis/jobs/{job_id:str}", job_page, methods=["GET"]),
    Route("/analysis/jobs/{job_id:str}/status", job_status, methods=["GET"]),
    Route("/analysis/jobs/{job_id:str}/report.zip", job_zip, methods=["GET"]),
    Route("/analysis/jobs/{job_id:str}/files/{path:path}", job_file, methods=["GET"]),
]

__all__ = ["ROUTES", "UPLOADED", "PlanChoice", "new_job_slot", "plan_choices"]
