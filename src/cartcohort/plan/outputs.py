"""Re-export of :mod:`cartcohort.ard`, where the plan outputs are defined."""

from cartcohort.ard import (
    ARD_COLUMNS,
    AnalysisOutput,
    FigureOutput,
    FlowStep,
    PlanResult,
    Status,
    TableOutput,
)

__all__ = [
    "ARD_COLUMNS",
    "AnalysisOutput",
    "FigureOutput",
    "FlowStep",
    "PlanResult",
    "Status",
    "TableOutput",
]
