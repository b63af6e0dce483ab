"""Restricted mean survival time by group, with milestone survival differences."""

from __future__ import annotations

import pandas as pd

from cartcohort.analyse.rmst import milestone_difference, rmst
from cartcohort.ard import AnalysisOutput, TableOutput
from cartcohort.plan.analyses._common import (
    Ard,
    require_columns,
    require_endpoint,
    require_groups,
    with_group,
)
from cartcohort.plan.context import Context
from cartcohort.plan.schema import RMST
from cartcohort.render.format import format_p, round_half_up


def run(spec: RMST, ctx: Context) -> AnalysisOutput:
    """RMST up to ``spec.tau_days`` by ``spec.by`` (see :class:`RMST`)."""
    require_columns(ctx, spec.by)
    rows = require_endpoint(ctx, spec.endpoint)
    data = with_group(ctx, rows, spec.by)
    keep = [c for c in ("patient_id", "time_days", "event", spec.by) if c]
    data = data.loc[:, list(dict.fromkeys(keep))]
    if spec.by is not None:
        require_groups(data.dropna(subset=[spec.by]), spec.by, ctx=ctx)
    res = rmst(data, time="time_days", event="event", by=spec.by, tau=spec.tau_days)
    ard = Ard(spec.id)
    ard.add_frame(
        res.table,
        keys=["group"],
        stats=["tau", "n", "n_events", "estimate", "std_err", "lower", "upper"],
    )
    for rec in res.contrasts.to_dict(orient="records"):
        for stat in ("estimate", "std_err", "lower", "upper", "statistic", "p_value"):
            ard.add(
                stat,
                rec[stat],
                group=rec["group"],
                variable=f"rmst_{rec['measure']}",
                level=rec["reference"],
            )
    methods = [res.method]
    warnings = list(res.warnings)
    tables = [
        TableOutput(
            name="rmst",
            caption=f"Restricted mean {spec.endpoint} time up to day {spec.tau_days} by group.",
            frame=res.table.loc[
                :, ["group", "n", "n_events", "estimate", "std_err", "lower", "upper"]
            ].rename(columns={"estimate": "rmst_days", "std_err": "se_days"}),
            formats={"rmst_days": "days", "se_days": "days", "lower": "days", "upper": "days"},
        )
    ]
    if not res.contrasts.empty:
        tables.append(
            TableOutput(
                name="rmst_contrasts",
                caption="Difference (days) and ratios against the reference group.",
                frame=res.contrasts.drop(columns=["std_err", "statistic"]),
                formats={"estimate": "estimate", "lower": "estimate", "upper": "estimate"},
            )
        )
    if spec.by is not None:
        for day in spec.milestones_days:
            ms = milestone_difference(data, time="time_days", event="event", by=spec.by, at=day)
            methods.append(ms.method)
            warnings += ms.warnings
            for rec in ms.contrasts.to_dict(orient="records"):
                for stat in ("estimate", "std_err", "lower", "upper", "statistic", "p_value"):
                    ard.add(
                        stat,
                        rec[stat],
                        group=rec["group"],
                        variable=f"milestone_day_{day}",
                        level=rec["reference"],
                    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=_summary(spec, res.table, res.contrasts),
        ard=ard.frame(),
        tables=tuple(tables),
        figures=(),
        methods=tuple(methods),
        n=res.n,
        n_excluded=res.n_excluded,
        exclusions=res.exclusions,
        warnings=tuple(warnings),
    )


def _summary(spec: RMST, table: pd.DataFrame, contrasts: pd.DataFrame) -> str:
    values = "; ".join(
        f"{g}: {round_half_up(e)} days"
        for g, e in zip(table["group"], table["estimate"], strict=True)
    )
    text = f"Restricted mean {spec.endpoint} time up to day {spec.tau_days}: {values}."
    diffs = contrasts[contrasts["measure"] == "difference"]
    for rec in diffs.to_dict(orient="records"):
        text += (
            f" {rec['group']} vs {rec['reference']}: {round_half_up(rec['estimate'])} days "
            f"({round_half_up(rec['lower'])} to {round_half_up(rec['upper'])}), "
            f"{format_p(rec['p_value'])}."
        )
    return text


__all__ = ["run"]
