"""One runner per analysis type: ``RUNNERS[type](spec, context) -> AnalysisOutput``.

A runner raises :class:`~cartcohort.plan.analyses._common.Skip` when the cohort lacks
the data it needs (the message is shown in the report), and lets a
:class:`~cartcohort.errors.CartcohortError` propagate when the statistic is undefined.
Every type of :data:`cartcohort.plan.schema.ANALYSIS_TYPES` has a runner here
(``tests/unit/plan/test_analyses.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cartcohort.plan.analyses import (
    competing,
    correlation,
    describe,
    dynamics,
    exposure,
    groups,
    regression,
    rmst,
    survival,
    swimmer,
    tables,
)
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput

Runner = Callable[[Any, Context], AnalysisOutput]

RUNNERS: dict[str, Runner] = {
    "compare_proportions": groups.run_proportions,
    "compare_values": groups.run_values,
    "survival": survival.run,
    "cumulative_incidence": competing.run,
    "cox": regression.run_cox,
    "logistic": regression.run_logistic,
    "correlation": correlation.run,
    "dynamics": dynamics.run,
    "table1": tables.run_table1,
    "distribution": tables.run_distribution,
    "listing": tables.run_listing,
    "ae_table": tables.run_ae_table,
    "infusion_comparison": tables.run_infusion_comparison,
    "swimmer": swimmer.run,
    "rmst": rmst.run,
    "time_dependent_exposure": exposure.run,
    "describe": describe.run,
}

__all__ = ["RUNNERS", "Runner"]
