"""Run an analysis plan on a cohort: every analysis done, skipped with its reason, or failed.

One analysis that cannot run never stops the others: missing data give ``skipped``
with the reason (which column or table is missing), and a statistic that is undefined
for these data (no events, a single group, separation ...) gives ``failed`` with the
error message. A bug in cartcohort itself (any other exception) also gives ``failed``,
with the exception named and a request to report it, so that the other analyses and the
report are still written. When the worker process running an analysis dies
(:data:`~cartcohort._pool.WORKER_LOST`), :func:`iter_plans` runs it again here, once.

Each plan's ``definitions`` (grading scales, burden rule, severe thresholds ...) select
the derivation settings: :func:`plan_datasets` derives the cohort once per distinct set of
settings, so plans that share them share one dataset and a plan with its own scale gets
its own. Settings a plan does not set keep the caller's (e.g. the CLI's).
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from cartcohort._pool import NOT_SENT, WORKER_LOST, WorkerPool
from cartcohort.ard import AnalysisOutput, PlanResult
from cartcohort.derive import dataset as dataset_module
from cartcohort.derive.dataset import AnalysisDataset, derive
from cartcohort.errors import CartcohortError
from cartcohort.model.cohort import Cohort
from cartcohort.plan.analyses import RUNNERS
from cartcohort.plan.analyses._common import Skip, explain_spec
from cartcohort.plan.context import Context, build_context, restrict
from cartcohort.plan.schema import Plan, load_plan

Progress = Callable[[str, int, int], None]

#: How the reason of an analysis that failed from a bug (any unexpected exception) begins.
_INTERNAL = "Not computed: internal error"


def _derive_defaults() -> dict[str, object]:
    """derive()'s keyword arguments with their defaults."""
    params = inspect.signature(dataset_module.derive).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _settings_key(settings: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in settings.items()))


def plan_datasets(
    plans: Sequence[Plan], cohort: Cohort, dataset: AnalysisDataset | None = None
) -> list[AnalysisDataset]:
    """The analysis dataset of each plan: ``cohort`` derived once per distinct set of
    derivation settings (the ``dataset``'s settings, or derive()'s defaults, overridden
    by what each plan's ``definitions`` set). ``dataset`` is reused where it fits."""
    base = dict(dataset.settings) if dataset is not None else _derive_defaults()
    cache: dict[tuple[tuple[str, str], ...], AnalysisDataset] = {}
    if dataset is not None:
        cache[_settings_key(base)] = dataset
    out = []
    for spec in plans:
        wanted = {**base, **spec.definitions.derive_options()}
        key = _settings_key(wanted)
        if key not in cache:
            if dataset is not None and not dataset.settings:
                # a dataset built by hand, without derive(): it is the data to analyse
                cache[key] = dataset
            else:
                cache[key] = derive(cohort, **wanted)  # type: ignore[arg-type]
        out.append(cache[key])
    return out


def run_analysis(spec: Any, ctx: Context) -> AnalysisOutput:
    """Run one analysis of a plan and return its output (never raises, but for
    ``KeyboardInterrupt`` and the like: any exception makes a ``failed`` output)."""
    output = _run_analysis(spec, ctx)
    if spec.published is not None:
        output = dataclasses.replace(output, published=spec.published.text())
    return output


def _skip_reason(spec: Any, ctx: Context, exc: Skip, note: str) -> str:
    """The skip message, with what the derivations say about the columns it uses."""
    text = str(exc)
    why = explain_spec(spec, ctx, text)
    if why and why not in text:
        text += f" ({why})"
    return f"Skipped: {text}." + (f" ({note})" if note else "")


def _not_done(spec: Any, status: Literal["skipped", "failed"], reason: str) -> AnalysisOutput:
    """The output of an analysis that was skipped or could not be computed."""
    return AnalysisOutput(
        id=spec.id, kind=spec.type, title=spec.title, status=status, reason=reason
    )


def _run_analysis(spec: Any, ctx: Context) -> AnalysisOutput:
    runner = RUNNERS[spec.type]
    note = ""
    if spec.population:
        try:
            ctx, note = restrict(ctx, spec.population)
        except CartcohortError as exc:
            return _not_done(spec, "failed", f"Not computed: {exc}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            output = runner(spec, ctx)
        except Skip as exc:
            return _not_done(spec, "skipped", _skip_reason(spec, ctx, exc, note))
        except CartcohortError as exc:
            return _not_done(spec, "failed", f"Not computed: {exc}")
        except Exception as exc:  # a bug: this analysis fails, the others and the report go on
            return _not_done(
                spec,
                "failed",
                f"{_INTERNAL} ({type(exc).__name__}: {exc}). This is "
                "a bug in cartcohort, not a problem with the data; please report it.",
            )
    if note:
        output = dataclasses.replace(output, summary=f"{note}. {output.summary}".strip())
    extra = tuple(str(w.message) for w in caught if str(w.message) not in output.warnings)
    if not extra:
        return output
    return dataclasses.replace(output, warnings=(*output.warnings, *dict.fromkeys(extra)))


def run_plan(
    plan: Plan | str,
    cohort: Cohort,
    *,
    dataset: AnalysisDataset | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run ``plan`` (a :class:`Plan`, a built-in plan name or a plan file) on ``cohort``.

    Parameters
    ----------
    plan
        The plan, or the name of a built-in plan (``"tumor-burden"``), or a YAML path.
    cohort
        A validated cohort.
    dataset
        The derived analysis dataset, when already computed (several plans share one);
        derived again with the plan's ``definitions`` when they need other settings.
    progress
        Called as ``progress(analysis_id, index, total)`` before each analysis.

    Returns
    -------
    PlanResult
        One output per analysis, in plan order, plus the population flow.
    """
    spec = plan if isinstance(plan, Plan) else load_plan(plan)
    data = plan_datasets([spec], cohort, dataset)[0]
    ctx = build_context(spec, cohort, data)
    outputs = []
    for i, analysis in enumerate(spec.analyses):
        if progress is not None:
            progress(analysis.id, i, len(spec.analyses))
        outputs.append(run_analysis(analysis, ctx))
    return _plan_result(spec, cohort, data, ctx, outputs)


def _plan_result(
    spec: Plan,
    cohort: Cohort,
    data: AnalysisDataset,
    ctx: Context,
    outputs: Sequence[AnalysisOutput],
) -> PlanResult:
    return PlanResult(
        plan_name=spec.name,
        plan_title=spec.title,
        description=spec.description,
        reference=spec.reference,
        cohort_name=cohort.name,
        synthetic=cohort.synthetic,
        n_patients=len(ctx.patients),
        flow=ctx.flow,
        outputs=tuple(outputs),
        options=data.options,
        warnings=data.warnings,
        definitions=tuple(spec.definitions.rows(data.settings)),
    )


def preview_plan(
    plan: Plan | str, cohort: Cohort, *, dataset: AnalysisDataset | None = None
) -> tuple[tuple[str, str, str, str], ...]:
    """Which analyses of ``plan`` the cohort allows, before any report is drawn.

    Runs the statistics (figures are only drawn when a report is written, so this is
    quick) and returns ``(analysis id, title, status, reason)`` for each analysis, with
    status ``done``, ``skipped`` or ``failed`` exactly as the report will show them.
    """
    result = run_plan(plan, cohort, dataset=dataset)
    return tuple((o.id, o.title, o.status, o.reason) for o in result.outputs)


def run_plans(
    plans: Sequence[Plan | str], cohort: Cohort, *, progress: Progress | None = None
) -> list[PlanResult]:
    """Run several plans on one cohort, deriving once per distinct set of definitions."""
    specs = [p if isinstance(p, Plan) else load_plan(p) for p in plans]
    datasets = plan_datasets(specs, cohort)
    return [
        run_plan(p, cohort, dataset=d, progress=progress)
        for p, d in zip(specs, datasets, strict=True)
    ]


#: Plans being run by :func:`iter_plans`, read by the forked worker processes.
_RUNNING: list[tuple[Plan, Context]] = []


def _run_task(plan: int, analysis: int) -> AnalysisOutput:
    """Worker side of :func:`iter_plans`: one analysis of a registered plan."""
    spec, ctx = _RUNNING[plan]
    return run_analysis(spec.analyses[analysis], ctx)


def _run_here(spec: Any, ctx: Context, got: object) -> AnalysisOutput:
    """Run an analysis in this process; when its worker process had died and it fails
    here too from an unexpected error (memory, say), the reason says so."""
    output = run_analysis(spec, ctx)
    if got is WORKER_LOST and output.reason.startswith(_INTERNAL):
        again = (
            " (Run again in the main process after the worker process running it stopped "
            "unexpectedly, e.g. killed when the machine ran out of memory.)"
        )
        return dataclasses.replace(output, reason=output.reason + again)
    return output


def iter_plans(
    plans: Sequence[Plan | str],
    cohort: Cohort,
    *,
    dataset: AnalysisDataset | None = None,
    pool: WorkerPool | None = None,
    progress: Progress | None = None,
) -> Iterator[PlanResult]:
    """Run several plans on one cohort; yield each result, in plan order, when it is done.

    The same results as :func:`run_plan` on each plan. With a parallel ``pool`` the
    analyses of every plan run in its worker processes (each analysis is independent
    once the plan's population and groups are built, which happens here first), so a
    report writer consuming this iterator (:func:`cartcohort.render.report.write_report`
    with the same ``pool``) draws the figures of a plan while later analyses still run.

    An analysis whose worker process died (killed, perhaps by the out-of-memory killer)
    is run again here, once; if it fails here too, it is ``failed`` with that reason.

    Parameters
    ----------
    plans
        Plans, built-in plan names or plan files.
    cohort
        A validated cohort.
    dataset
        The derived analysis dataset; a plan whose ``definitions`` need other
        derivation settings gets its own (:func:`plan_datasets`).
    pool
        Worker processes, not yet started (its workers must fork after the plans'
        populations are built, to see them); ``None``, or a pool that has already
        started, runs every analysis here, in turn.
    progress
        Called as ``progress("plan: analysis", index, total)`` as each analysis
        finishes (``index`` and ``total`` within its plan).
    """
    specs = [p if isinstance(p, Plan) else load_plan(p) for p in plans]
    datasets = plan_datasets(specs, cohort, dataset)
    contexts = [
        build_context(spec, cohort, data) for spec, data in zip(specs, datasets, strict=True)
    ]
    pending: list[list[Any]] = [[None] * len(spec.analyses) for spec in specs]
    if pool is not None and pool.parallel and not pool.started:
        # the workers fork at the first submit below and read the plans from _RUNNING
        _RUNNING[:] = list(zip(specs, contexts, strict=True))
        pending = [
            [pool.try_submit(_run_task, p, a) for a in range(len(spec.analyses))]
            for p, spec in enumerate(specs)
        ]
    try:
        for spec, data, ctx, tasks in zip(specs, datasets, contexts, pending, strict=True):
            outputs: list[AnalysisOutput] = []
            for i, (analysis, task) in enumerate(zip(spec.analyses, tasks, strict=True)):
                got = task.get() if task is not None else NOT_SENT
                # NOT_SENT (no workers, or an output that could not be pickled) or
                # WORKER_LOST (the worker died): run it here
                outputs.append(
                    got if isinstance(got, AnalysisOutput) else _run_here(analysis, ctx, got)
                )
                if progress is not None:
                    progress(f"{spec.name}: {analysis.id}", i, len(spec.analyses))
            yield _plan_result(spec, cohort, data, ctx, outputs)
    finally:
        _RUNNING.clear()


__all__ = [
    "WorkerPool",
    "iter_plans",
    "plan_datasets",
    "preview_plan",
    "run_analysis",
    "run_plan",
    "run_plans",
]
