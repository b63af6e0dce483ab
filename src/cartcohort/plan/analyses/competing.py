"""Cumulative incidence with a competing risk (Aalen–Johansen) by group, Gray's test.

The endpoint's ``event`` column carries cause codes: 0 censored, 1 the event of
interest, 2 the competing event (``CIR``: 1 relapse, 2 death without relapse, counted
from response). ``1 - KM`` would overstate relapse when non-relapse deaths are censored
(Gooley et al. 1999), hence this estimator.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from cartcohort.analyse.competing import CumulativeIncidenceResult, cumulative_incidence
from cartcohort.analyse.km import kaplan_meier
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    require_columns,
    require_endpoint,
    require_groups,
    with_group,
)
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import CumulativeIncidence
from cartcohort.render.figures.cif import plot_cumulative_incidence
from cartcohort.render.format import format_p, format_percent

#: Names of the cause codes per endpoint (for tables and the summary).
CAUSES = {"CIR": {1: "relapse", 2: "non-relapse mortality"}}


def _data(spec: CumulativeIncidence, ctx: Context) -> pd.DataFrame:
    rows = require_endpoint(ctx, spec.endpoint)
    data = with_group(ctx, rows, spec.by)
    keep = ["patient_id", "time_days", "event", *([spec.by] if spec.by else [])]
    data = data.loc[:, keep]
    if spec.by is not None:
        data = data.dropna(subset=[spec.by]).reset_index(drop=True)
        require_groups(data, spec.by, ctx=ctx)
        data[spec.by] = (
            data[spec.by].cat.remove_unused_categories()
            if isinstance(data[spec.by].dtype, pd.CategoricalDtype)
            else data[spec.by]
        )
    if not (data["event"] == 1).any():
        msg = f"no patient has the event of interest (cause 1) of {spec.endpoint}"
        raise Skip(msg)
    return data


def _landmark_table(cif: CumulativeIncidenceResult, days: list[int], endpoint: str) -> pd.DataFrame:
    at = cif.at(days)
    names = CAUSES.get(endpoint, {})
    at = at.assign(
        cause_name=[names.get(int(c), f"cause {int(c)}") for c in at["cause"]],
        std_err=np.sqrt(at["variance"].to_numpy(dtype=float)),
    )
    return at.loc[
        :, ["group", "cause", "cause_name", "time", "estimate", "std_err", "lower", "upper"]
    ]


def run(spec: CumulativeIncidence, ctx: Context) -> AnalysisOutput:
    """Cumulative incidence of cause 1 (and the competing cause 2) by ``spec.by``."""
    require_columns(ctx, spec.by)
    data = _data(spec, ctx)
    cif = cumulative_incidence(data, time="time_days", event="event", by=spec.by)
    at_risk = kaplan_meier(
        data.assign(any_event=(data["event"] > 0).astype(int)),
        time="time_days",
        event="any_event",
        by=spec.by,
    )
    ard = Ard(spec.id)
    ard.add_many({"n": cif.n, "n_events": cif.n_events})
    if cif.gray_test is not None:
        for rec in cif.gray_test.to_dict(orient="records"):
            ard.add_many(
                {"statistic": rec["statistic"], "df": rec["df"], "p_value": rec["p_value"]},
                variable="gray_test",
                level=int(rec["cause"]),
            )
    table = (
        _landmark_table(cif, spec.landmarks_days, spec.endpoint)
        if spec.landmarks_days
        else pd.DataFrame()
    )
    for rec in table.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in ("estimate", "std_err", "lower", "upper")},
            group=rec["group"],
            variable=f"day_{int(rec['time'])}",
            level=int(rec["cause"]),
        )
    figure = FigureOutput(
        name=f"{spec.id}_cif",
        caption=(
            f"{spec.title}: cumulative incidence of "
            f"{CAUSES.get(spec.endpoint, {}).get(1, 'the event')} (solid) with the "
            "competing event (dashed); Gray's test."
        ),
        draw=partial(
            plot_cumulative_incidence,
            cif,
            cause=1,
            at_risk=at_risk,
            competing=True,
            time_unit=spec.time_unit,
            landmarks=spec.landmarks_days or None,
            endpoint=spec.endpoint,
            time_origin="response" if spec.endpoint == "CIR" else "infusion",
        ),
    )
    tables = (
        (
            TableOutput(
                name="cumulative_incidence",
                caption="Cumulative incidence (± SE) at the landmark days.",
                frame=table,
                formats={
                    "estimate": "percent",
                    "std_err": "percent",
                    "lower": "percent",
                    "upper": "percent",
                },
            ),
        )
        if not table.empty
        else ()
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=_summary(spec, cif, table),
        ard=ard.frame(),
        tables=tables,
        figures=(figure,),
        methods=(cif.method,),
        n=cif.n,
        n_excluded=cif.n_excluded,
        exclusions=cif.exclusions,
        warnings=cif.warnings,
    )


def _summary(spec: CumulativeIncidence, cif: CumulativeIncidenceResult, table: pd.DataFrame) -> str:
    parts = []
    name = CAUSES.get(spec.endpoint, {}).get(1, "cause 1")
    if not table.empty:
        day = int(table["time"].max())
        sub = table[(table["time"] == day) & (table["cause"] == 1)]
        rates = "; ".join(
            f"{g}: {format_percent(e)} ± {format_percent(s)}"
            for g, e, s in zip(sub["group"], sub["estimate"], sub["std_err"], strict=True)
        )
        parts.append(f"Cumulative incidence of {name} at day {day} (± SE): {rates}.")
    if cif.gray_test is not None:
        p = cif.gray_test.loc[cif.gray_test["cause"] == 1, "p_value"]
        if len(p):
            parts.append(f"Gray's test {format_p(float(p.iloc[0]))}.")
    return " ".join(parts)


__all__ = ["CAUSES", "run"]
