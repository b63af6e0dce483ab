"""Analysis results data: what running an analysis plan produces, one
:class:`AnalysisOutput` per analysis.

This module sits between the statistics and the rendering layers (house style B1):
the plan runner (``cartcohort.plan``) fills these objects, and the report renderer
(``cartcohort.render.report``) and ``results.json`` read only them. An analysis never
formats numbers: it returns result objects, tidy tables, ARD rows at full precision and
figure factories; rendering happens later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from matplotlib.figure import Figure

from cartcohort._results import MethodInfo

Status = Literal["done", "skipped", "failed"]

#: Columns of the long "analysis results data" table every analysis contributes to.
ARD_COLUMNS = ("plan", "analysis", "group", "variable", "level", "stat_name", "stat_value")


@dataclass(frozen=True, slots=True, kw_only=True)
class FigureOutput:
    """A figure an analysis asks for: drawn by ``draw`` when the report is rendered."""

    name: str
    caption: str
    draw: Callable[[], Figure]


@dataclass(frozen=True, slots=True, kw_only=True)
class TableOutput:
    """A display table (already tidy; formatting happens in the renderer)."""

    name: str
    caption: str
    frame: pd.DataFrame
    #: Column name -> "p", "percent", "count", "estimate" ...: how the renderer formats it.
    formats: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisOutput:
    """The outcome of one analysis of a plan.

    Attributes
    ----------
    id, kind, title
        From the plan entry.
    status
        ``done``; ``skipped`` (the cohort lacks the data it needs: ``reason`` says which);
        ``failed`` (the statistic is undefined for these data, e.g. no events: ``reason``).
    reason
        Why it was skipped or failed ("" when done).
    summary
        One or two sentences of results in words, written from the numbers (for the report).
    ard
        Long rows (:data:`ARD_COLUMNS`) with every number at full precision.
    tables, figures
        Display tables and figure factories.
    methods
        How each number was computed (for the methods paragraph and footnotes).
    n
        Patients analysed; ``n_excluded`` with ``exclusions`` for those left out.
    warnings
        Statistical warnings raised while computing.
    published
        The seed paper's value of this analysis, with its source, when the plan gives
        it (shown beside the cohort's own result, never in its place).
    """

    id: str
    kind: str
    title: str
    status: Status
    reason: str = ""
    summary: str = ""
    ard: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ARD_COLUMNS)))
    tables: tuple[TableOutput, ...] = ()
    figures: tuple[FigureOutput, ...] = ()
    methods: tuple[MethodInfo, ...] = ()
    n: int | None = None
    n_excluded: int = 0
    exclusions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    published: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowStep:
    """One box of the CONSORT-style flow: patients remaining and those excluded, with reasons."""

    label: str
    n: int
    excluded: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    """All outputs of one plan run on one cohort."""

    plan_name: str
    plan_title: str
    description: str
    reference: str
    cohort_name: str
    synthetic: bool
    n_patients: int
    flow: tuple[FlowStep, ...]
    outputs: tuple[AnalysisOutput, ...]
    options: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: The plan's definitions in use, as (item, definition) rows.
    definitions: tuple[tuple[str, str], ...] = ()

    def ard(self) -> pd.DataFrame:
        """Every number of every analysis as one long table."""
        frames = [o.ard for o in self.outputs if not o.ard.empty]
        if not frames:
            return pd.DataFrame(columns=list(ARD_COLUMNS))
        out = pd.concat(frames, ignore_index=True)
        out["plan"] = self.plan_name
        return out.loc[:, list(ARD_COLUMNS)]


__all__ = [
    "ARD_COLUMNS",
    "AnalysisOutput",
    "FigureOutput",
    "FlowStep",
    "PlanResult",
    "Status",
    "TableOutput",
]
