"""Swimmer plot: one lane per patient with infusions, response, MRD, HSCT, relapse, death.

Lanes come from the patient sheet, with relapse/HSCT/death days from the ``events``
table, re-infusions from ``infusions`` and the first MRD-negative marrow from ``marrow``
when the cohort has them. A population larger than ``max_patients`` is drawn on several
pages of at most ``max_patients`` lanes each (longest follow-up first), never as a
silent subset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cartcohort.analyse._results import MethodInfo
from cartcohort.plan.analyses._common import Ard, Skip
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import Swimmer
from cartcohort.render.figures.swimmer import plot_swimmer, swimmer_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _optional(ctx: Context, name: str) -> pd.DataFrame | None:
    return ctx.table(name) if ctx.cohort.has(name) else None


def run(spec: Swimmer, ctx: Context) -> AnalysisOutput:
    """Swimmer plot of the population (several pages when larger than ``max_patients``)."""
    patients = ctx.patients
    if not (ctx.has_column("last_followup_day") or ctx.has_column("death_day")):
        msg = (
            "needs the follow-up time of each patient (column 'last_followup_day' or "
            "'death_day'), which this cohort does not have"
        )
        raise Skip(msg)
    events = _optional(ctx, "events")
    infusions = _optional(ctx, "infusions")
    marrow = _optional(ctx, "marrow")
    if marrow is not None and "mrd_pct" not in marrow.columns:
        marrow = None
    frame = swimmer_frame(patients, infusions, marrow)
    frame = frame[frame["end_day"].notna()].reset_index(drop=True)
    if frame.empty:
        msg = "no patient has a follow-up time"
        raise Skip(msg)
    n_missing = len(patients) - len(frame)
    ard = Ard(spec.id)
    counts = {
        "n": len(frame),
        "n_responders": int(frame["response_day"].notna().sum()),
        "n_mrd_negative": int(frame["mrd_negative_day"].notna().sum()),
        "n_hsct": int(frame["hsct_day"].notna().sum()),
        "n_relapse": int(frame["relapse_day"].notna().sum()),
        "n_death": int(frame["death_day"].notna().sum()),
        "n_reinfused": int(frame["reinfusion_days"].map(len).gt(0).sum()),
        "max_follow_up_days": float(frame["end_day"].max()),
    }
    ard.add_many(counts, variable="lanes")
    pages = max(1, math.ceil(len(frame) / spec.max_patients))
    order = frame["patient_id"].tolist()
    figures = []
    for page in range(pages):
        ids = order[page * spec.max_patients : (page + 1) * spec.max_patients]
        figures.append(_figure(spec, ctx, ids, page, pages, events, infusions, marrow))
    table = frame.assign(
        reinfusion_days=frame["reinfusion_days"].map(
            lambda days: ", ".join(str(int(d)) for d in days)
        )
    )
    summary = (
        f"{counts['n']} patients followed for up to {int(counts['max_follow_up_days'])} days: "
        f"{counts['n_responders']} responded, {counts['n_relapse']} relapsed, "
        f"{counts['n_hsct']} went to HSCT, {counts['n_death']} died, "
        f"{counts['n_reinfused']} were re-infused."
    )
    if pages > 1:
        summary += f" Drawn on {pages} pages of at most {spec.max_patients} lanes."
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=summary,
        ard=ard.frame(),
        tables=(
            TableOutput(name="swimmer", caption="Days drawn on the swimmer plot.", frame=table),
        ),
        figures=tuple(figures),
        methods=(
            MethodInfo(
                estimator="Swimmer plot",
                description=(
                    "One lane per patient from infusion to death or last follow-up; "
                    "relapse, HSCT and death days from the events table when present."
                ),
                options={"max_patients": spec.max_patients},
            ),
        ),
        n=len(frame),
        n_excluded=n_missing,
        exclusions=(f"{n_missing} patient(s) without a follow-up time",) if n_missing else (),
    )


@dataclass(frozen=True)
class _SwimmerPage:
    """Draws one page of the swimmer plot; a picklable callable, so that the report can
    draw it in another process. The page's rows are picked when it is drawn, so pages
    that are never drawn (a listing of 10,000 patients) cost nothing."""

    patients: pd.DataFrame
    keep: frozenset[object]
    events: pd.DataFrame | None
    infusions: pd.DataFrame | None
    marrow: pd.DataFrame | None
    max_patients: int

    def _rows(self, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame[frame["patient_id"].isin(self.keep)]

    def __call__(self) -> Figure:
        return plot_swimmer(
            self.patients,
            self._rows(self.events),
            self._rows(self.infusions),
            self._rows(self.marrow),
            max_patients=self.max_patients,
        )


def _figure(
    spec: Swimmer,
    ctx: Context,
    ids: list[object],
    page: int,
    pages: int,
    events: pd.DataFrame | None,
    infusions: pd.DataFrame | None,
    marrow: pd.DataFrame | None,
) -> FigureOutput:
    keep = frozenset(ids)
    patients = ctx.patients[ctx.patients["patient_id"].isin(keep)]
    suffix = f" (page {page + 1} of {pages})" if pages > 1 else ""
    return FigureOutput(
        name=f"{spec.id}_swimmer" + (f"_{page + 1}" if pages > 1 else ""),
        caption=f"{spec.title}{suffix}: one lane per patient, longest follow-up first.",
        draw=_SwimmerPage(patients, keep, events, infusions, marrow, spec.max_patients),
    )


__all__ = ["run"]
