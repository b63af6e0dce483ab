"""The plan and analysis sections of the report: their views, tables and figures.

:class:`_Writer` holds what one report accumulates while the sections are built (the
figures to draw, the tables for the workbook, the files of each analysis);
:func:`_plan_view` makes one plan's section, :func:`_analysis_view` one analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cartcohort.render.report import methods as m
from cartcohort.render.report.figures import _FigureJob
from cartcohort.render.report.redact import Note, Redactor
from cartcohort.render.report.tables import _write_csv
from cartcohort.render.report.views import AnalysisView, FigureView, PlanView, TableView, _safe
from cartcohort.render.tables import DisplayTable, format_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cartcohort.ard import AnalysisOutput, FigureOutput, PlanResult, TableOutput


#: Analysis kinds whose tables and figures are patient listings (pseudonyms allowed).
LISTING_KINDS = frozenset({"listing", "swimmer"})
#: At most this many rows of a table are shown in the HTML (all are in its CSV file).
MAX_ROWS_SHOWN = 200
#: At most this many figure pages of a listing analysis (swimmer plot) are drawn.
MAX_LISTING_FIGURES = 5


def _flow_steps(result: PlanResult) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """``PlanResult.flow`` lists exclusions on the step they lead to; ``plot_flow`` before."""
    steps = []
    for i, step in enumerate(result.flow):
        after = result.flow[i + 1].excluded if i + 1 < len(result.flow) else ()
        steps.append((step.label, step.n, list(after)))
    return steps


def _flow_text(result: PlanResult) -> list[str]:
    lines = []
    for step in result.flow:
        why = "; ".join(f"{reason} (n = {k})" for reason, k in step.excluded)
        lines.append(f"{step.label}: n = {step.n}" + (f" (excluded: {why})" if why else ""))
    return lines


@dataclass
class _Writer:
    """State shared while one report is written."""

    out: Path
    redactor: Redactor
    jobs: list[_FigureJob] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    xlsx: list[tuple[str, str, TableOutput]] = field(default_factory=list)
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: Plan -> analysis -> why an analysis computed could not be shown (a bug).
    shown_failed: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_figure(
        self,
        stem: str,
        draw: Callable[[], Figure],
        caption: str,
        *,
        listing: bool = False,
        views: list[FigureView] | None = None,
        problems: list[str] | None = None,
    ) -> FigureView:
        """Register a figure; it is drawn later by :func:`_render_all`."""
        view = FigureView(
            name=stem,
            caption=caption,
            src="",
            width_px=0,
            files=(f"figures/{stem}.png", f"figures/{stem}.svg"),
            listing=listing,
        )
        self.jobs.append(
            _FigureJob(
                label=stem.replace("__", ": "),
                draw=draw,
                stem=self.out / "figures" / stem,
                view=view,
                problems=problems if problems is not None else self.problems,
                views=views,
            )
        )
        if views is not None:
            views.append(view)
        return view

    def figure(
        self, plan: str, output: AnalysisOutput, spec: FigureOutput, view: AnalysisView
    ) -> None:
        self.add_figure(
            _safe(plan, spec.name),
            spec.draw,
            spec.caption,
            listing=output.kind in LISTING_KINDS,
            views=view.figures,
            problems=view.figure_problems,
        )
        stem = _safe(plan, spec.name)
        self.files.setdefault(plan, {}).setdefault(output.id, []).extend(
            [f"figures/{stem}.png", f"figures/{stem}.svg"]
        )

    def table(self, plan: str, output: AnalysisOutput, table: TableOutput) -> TableView:
        stem = _safe(plan, output.id, table.name)
        _write_csv(table.frame, self.out / "tables" / f"{stem}.csv")
        self.xlsx.append((stem, f"{plan}: {output.title}", table))
        rel = f"tables/{stem}.csv"
        self.files.setdefault(plan, {}).setdefault(output.id, []).append(rel)
        listing = output.kind in LISTING_KINDS or "patient_id" in table.frame.columns
        frame = table.frame.iloc[:MAX_ROWS_SHOWN]
        display = format_table(frame, table.formats, caption=table.caption)
        if not listing:
            display = _redact_table(display, self.redactor)
        hidden = max(len(table.frame) - MAX_ROWS_SHOWN, 0)
        return TableView(table=display, csv=rel, listing=listing, n_hidden=hidden)


def _redact_table(table: DisplayTable, redactor: Redactor) -> DisplayTable:
    if not any(redactor.has_id(cell) for row in table.rows for cell in row):
        return table
    rows = tuple(tuple(redactor.note(c).text for c in row) for row in table.rows)
    return DisplayTable(table.caption, table.headers, rows, table.numeric)


def _analysis_view(
    writer: _Writer, result: PlanResult, output: AnalysisOutput, number: str
) -> AnalysisView:
    redact = writer.redactor.note
    view = AnalysisView(
        id=output.id,
        anchor=f"{_safe(result.plan_name)}-{_safe(output.id)}",
        number=number,
        title=output.title,
        kind=output.kind,
        status=output.status,
        reason=redact(output.reason),
        summary=redact(output.summary),
        n=output.n,
        n_excluded=output.n_excluded,
        exclusions=[redact(e) for e in output.exclusions],
        warnings=[redact(w) for w in output.warnings],
        footnotes=[m.method_footnote(method) for method in output.methods],
    )
    if output.status != "done":
        return view
    figures = list(output.figures)
    if output.kind in LISTING_KINDS and len(figures) > MAX_LISTING_FIGURES:
        # a swimmer plot of 10,000 patients is 167 pages: draw the first few, say so
        view.figure_notes.append(
            f"{len(figures)} figure pages; the first {MAX_LISTING_FIGURES} are shown and "
            f"written to figures/. Every patient is in the table below (CSV)."
        )
        figures = figures[:MAX_LISTING_FIGURES]
    for spec in figures:
        writer.figure(result.plan_name, output, spec, view)
    for table in output.tables:
        view.tables.append(writer.table(result.plan_name, output, table))
    return view


def _analysis_view_or_problem(
    writer: _Writer, result: PlanResult, output: AnalysisOutput, number: str
) -> AnalysisView:
    """:func:`_analysis_view`, or, when showing the analysis raises (a bug), the analysis
    marked failed with the error, its tables and figures withdrawn; the report goes on."""
    jobs, xlsx = len(writer.jobs), len(writer.xlsx)
    try:
        return _analysis_view(writer, result, output, number)
    except Exception as exc:
        del writer.jobs[jobs:], writer.xlsx[xlsx:]
        for rel in writer.files.get(result.plan_name, {}).pop(output.id, []):
            (writer.out / rel).unlink(missing_ok=True)  # a table CSV written before the error
        reason = (
            f"Not shown: internal error while formatting it for the report "
            f"({type(exc).__name__}: {exc}). This is a bug in cartcohort, not a problem "
            "with the data; please report it. Its numbers are in results.json."
        )
        writer.shown_failed.setdefault(result.plan_name, {})[output.id] = reason
        return AnalysisView(
            id=output.id,
            anchor=f"{_safe(result.plan_name)}-{_safe(output.id)}",
            number=number,
            title=output.title,
            kind=output.kind,
            status="failed",
            reason=writer.redactor.note(reason),
            summary=Note(""),
            n=output.n,
            n_excluded=output.n_excluded,
            exclusions=[],
            warnings=[],
            footnotes=[],
        )


def _paper_view(result: PlanResult) -> dict[str, Any]:
    """The plan's definitions table and the published (seed paper) value of each analysis,
    shown beside the cohort's own results, never in their place."""
    return {
        "definitions": list(result.definitions),
        "published": {o.id: o.published for o in result.outputs if o.published},
    }


def _plan_view(writer: _Writer, result: PlanResult, number: int) -> PlanView:
    flow = None
    if result.flow:
        from cartcohort.render.figures.consort import plot_flow

        steps = _flow_steps(result)
        flow = writer.add_figure(
            _safe(result.plan_name, "flow"),
            partial(plot_flow, steps),
            "Patients in the cohort and patients analysed, with reasons for exclusion.",
        )
    analyses = [
        _analysis_view_or_problem(writer, result, o, f"{number}.{i + 1}")
        for i, o in enumerate(result.outputs)
    ]
    counts = {s: sum(a.status == s for a in analyses) for s in ("done", "skipped", "failed")}
    return PlanView(
        name=result.plan_name,
        anchor=f"plan-{_safe(result.plan_name)}",
        number=number,
        title=result.plan_title,
        description=result.description,
        reference=result.reference,
        n_patients=result.n_patients,
        flow=flow,
        flow_text=_flow_text(result),
        analyses=analyses,
        counts=counts,
        **_paper_view(result),
    )


def _not_computed(plans: Sequence[PlanView]) -> list[dict[str, str]]:
    rows = []
    for plan in plans:
        for a in plan.analyses:
            if a.status != "done":
                rows.append(
                    {"plan": plan.title, "anchor": a.anchor, "number": a.number,
                     "title": a.title, "status": a.status, "reason": a.reason.text}
                )  # fmt: skip
            rows.extend(
                {"plan": plan.title, "anchor": a.anchor, "number": a.number,
                 "title": a.title, "status": "figure", "reason": problem}
                for problem in a.figure_problems
            )  # fmt: skip
    return rows


def count_figures(results: Sequence[PlanResult]) -> int:
    """Figures :func:`write_report` will draw (flow diagrams included), for a progress bar."""

    def drawn(o: AnalysisOutput) -> int:
        n = len(o.figures)
        return min(n, MAX_LISTING_FIGURES) if o.kind in LISTING_KINDS else n

    return sum(
        int(bool(r.flow)) + sum(drawn(o) for o in r.outputs if o.status == "done") for r in results
    )
