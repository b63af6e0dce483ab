"""Run a plan and write its report in a background thread, reporting progress to a :class:`Job`.

The work is the library's: :func:`cartcohort.derive.dataset.derive` once, then
:func:`cartcohort.plan.run.run_plan` (exactly what :func:`~cartcohort.plan.run.run_plans`
does, keeping the dataset so that the report can describe it), then
:func:`cartcohort.render.report.write_report`. One run at a time per server
(``slot``): matplotlib and the CPU are shared.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cartcohort.errors import CartcohortError
from cartcohort.web._files import zip_folder
from cartcohort.web._sessions import AnalysisRow, Job

if TYPE_CHECKING:
    from cartcohort.model.cohort import Cohort
    from cartcohort.plan.schema import Plan
    from cartcohort.validate import ValidationReport

log = logging.getLogger("cartcohort.web")

ReportWriter = Callable[..., Path]


def report_writer() -> ReportWriter:
    """The library's report writer (a function, so that unit tests can replace it)."""
    from cartcohort.render.report import write_report

    return write_report


def run_job(
    job: Job,
    *,
    plan: Plan,
    cohort: Cohort,
    validation: ValidationReport | None,
    slot: threading.Semaphore,
    hide_paths: Callable[[str], str],
    derive_options: Mapping[str, Any] | None = None,
) -> None:
    """Do the whole run; never raises (the outcome is in ``job.state`` and ``job.message``).

    ``derive_options`` are passed to :func:`cartcohort.derive.dataset.derive` (grading scales,
    relapse rule), as ``cartcohort report``'s options are."""
    with slot:
        job.update(state="running", phase="Deriving the analysis dataset", started=time.monotonic())
        try:
            _work(
                job,
                plan=plan,
                cohort=cohort,
                validation=validation,
                derive_options=derive_options or {},
            )
        except CartcohortError as exc:
            job.update(state="failed", message=hide_paths(str(exc)))
        except Exception:
            log.exception("Internal error while running plan %s", plan.name)
            job.update(
                state="failed",
                message="This is a bug in cartcohort, not a problem with your data. The "
                "details were written to the terminal running 'cartcohort serve'.",
            )
        finally:
            job.update(seconds=time.monotonic() - job.started)


def _work(
    job: Job,
    *,
    plan: Plan,
    cohort: Cohort,
    validation: ValidationReport | None,
    derive_options: Mapping[str, Any],
) -> None:
    from cartcohort.derive.dataset import derive
    from cartcohort.plan.run import run_plan

    dataset = derive(cohort, **derive_options)

    def analysis_progress(analysis_id: str, index: int, total: int) -> None:
        job.update(phase=f"Running analysis {analysis_id}", index=index, total=total)

    result = run_plan(plan, cohort, dataset=dataset, progress=analysis_progress)
    job.update(
        rows=tuple(
            AnalysisRow(
                id=o.id,
                title=o.title,
                kind=o.kind,
                status=o.status,
                reason=o.reason,
                warnings=o.warnings,
            )
            for o in result.outputs
        ),
        index=len(result.outputs),
        total=len(result.outputs),
    )

    def figure_progress(label: str, index: int, total: int) -> None:
        job.update(phase=f"Drawing figure: {label}", index=index, total=total)

    job.update(phase="Writing the report", index=0, total=0)
    kwargs: dict[str, Any] = {"validation": validation, "dataset": dataset, "cohort": cohort}
    # jobs=1: figures are drawn in this thread. The writer's default forks worker processes,
    # and forking a multi-threaded server (uvicorn's thread pool) can leave a child holding
    # another thread's lock: Pool.__exit__ then waits for ever.
    kwargs["jobs"] = 1
    kwargs["docx"] = True  # the Word download (editable tables for a manuscript)
    html = report_writer()([result], job.out_dir, progress=figure_progress, **kwargs)
    docx = job.out_dir / "report.docx"
    job.update(phase="Packing the report folder", index=0, total=0)
    zip_path = zip_folder(job.out_dir, job.out_dir.parent / f"{job.id}.zip", arc_root="report")
    job.update(
        state="done",
        phase="Done",
        report_file=html.relative_to(job.out_dir).as_posix(),
        docx_file=docx.name if docx.is_file() else "",
        zip_path=zip_path,
    )


__all__ = ["ReportWriter", "report_writer", "run_job"]
