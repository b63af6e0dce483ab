"""Run an analysis plan on a cohort: every analysis done, skipped with its reason, or failed.

One analysis that cannot run never stops the others: missing data give ``skipped``
with the reason (which column or table is missing), and a statistic that is undefined
for these data (no events, a single group, separation ...) gives ``failed`` with the
error message. Only a bug in cartcohort itself is re-raised.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from cartcohort.ard import AnalysisOutput, PlanResult
from cartcohort.derive.dataset import AnalysisDataset, derive
from cartcohort.errors import CartcohortError
from cartcohort.model.cohort import Cohort
from cartcohort.plan.analyses import RUNNERS
from cartcohort.plan.analyses._common import Skip
from cartcohort.plan.context import Context, build_context
from cartcohort.plan.schema import Plan, load_plan

Progress = Callable[[str, int, int], None]


def run_analysis(spec: Any, ctx: Context) -> AnalysisOutput:
    """Run one analysis of a plan and return its output (never raises for data problems)."""
    runner = RUNNERS[spec.type]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            output = runner(spec, ctx)
        except Skip as exc:
            return AnalysisOutput(
                id=spec.id,
                kind=spec.type,
                title=spec.title,
                status="skipped",
                reason=f"Skipped: {exc}.",
            )
        except CartcohortError as exc:
            return AnalysisOutput(
                id=spec.id,
                kind=spec.type,
                title=spec.title,
                status="failed",
                reason=f"Not computed: {exc}",
            )
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
        The derived analysis dataset, when already computed (several plans share one).
    progress
        Called as ``progress(analysis_id, index, total)`` before each analysis.

    Returns
    -------
    PlanResult
        One output per analysis, in plan order, plus the population flow.
    """
    spec = plan if isinstance(plan, Plan) else load_plan(plan)
    data = dataset if dataset is not None else derive(cohort)
    ctx = build_context(spec, cohort, data)
    outputs = []
    for i, analysis in enumerate(spec.analyses):
        if progress is not None:
            progress(analysis.id, i, len(spec.analyses))
        outputs.append(run_analysis(analysis, ctx))
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
    """Run several plans on one cohort, deriving the analysis dataset once."""
    data = derive(cohort)
    return [run_plan(p, cohort, dataset=data, progress=progress) for p in plans]


__all__ = ["preview_plan", "run_analysis", "run_plan", "run_plans"]
