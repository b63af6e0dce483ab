"""The view objects handed to the report template: plans, analyses, tables, figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cartcohort.render.report.redact import Note
from cartcohort.render.tables import DisplayTable

if TYPE_CHECKING:
    pass


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(slots=True)
class FigureView:
    """An embedded figure."""

    name: str
    caption: str
    src: str
    width_px: int
    files: tuple[str, ...]
    listing: bool = False


@dataclass(slots=True)
class TableView:
    """A formatted table and where its full-precision copy is."""

    table: DisplayTable
    csv: str
    listing: bool = False
    n_hidden: int = 0


@dataclass(slots=True)
class AnalysisView:
    """One analysis as the template shows it."""

    id: str
    anchor: str
    number: str
    title: str
    kind: str
    status: str
    reason: Note
    summary: Note
    n: int | None
    n_excluded: int
    exclusions: list[Note]
    warnings: list[Note]
    footnotes: list[str]
    figures: list[FigureView] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    figure_problems: list[str] = field(default_factory=list)
    figure_notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PlanView:
    """One plan as the template shows it."""

    name: str
    anchor: str
    number: int
    title: str
    description: str
    reference: str
    n_patients: int
    flow: FigureView | None
    flow_text: list[str]
    analyses: list[AnalysisView]
    counts: dict[str, int]
    #: The plan's definitions (item, definition) and the seed paper's values by analysis id.
    definitions: list[tuple[str, str]] = field(default_factory=list)
    published: dict[str, str] = field(default_factory=dict)


def _safe(*parts: str) -> str:
    return "__".join(_UNSAFE.sub("_", p).strip("_") or "x" for p in parts)
