"""Levels over time by group: CAR-T copies (first infusion) or one lab analyte.

The curve is the mean ± SEM (or median and IQR) per sampling day and group, on a log
axis (:func:`cartcohort.render.figures.dynamics.plot_dynamics`; zeros below the LLOQ
stay in the summary). Days are as recorded (days since the first infusion); a day with
fewer than 3 values in a group is not drawn. Peak (Cmax) comparisons are a
``compare_values`` analysis of the ``peak_*`` columns, not this one.

With two groups, the group curves are also compared as seed 000 (Fig. 6B) did: a paired
t-test of the two groups' log10 daily means, the days being the pairs. This is
descriptive: it ignores that the same patients are sampled on every day and is reported
only to reproduce the paper.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from cartcohort._pandas import categorical
from cartcohort.analyse._results import MethodInfo
from cartcohort.analyse.compare import TTestResult, t_test
from cartcohort.model.standard import ANALYTE_BY_NAME
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    require_columns,
    require_groups,
    require_table,
    with_group,
)
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import Dynamics
from cartcohort.render.figures.dynamics import dynamics_summary, plot_dynamics
from cartcohort.render.format import format_p

#: Fewest values per day and group for a point of the curve.
MIN_N = 3


#: How the kinetics units of the data standard (KINETICS_UNIT) are written on an axis.
_UNIT_TEXT = {"copies_per_ug_dna": "copies/µg DNA", "cells_per_ul": "cells/µL"}


def _long(spec: Dynamics, ctx: Context) -> tuple[pd.DataFrame, str]:
    if spec.source == "kinetics":
        require_table(ctx, "kinetics")
        frame = ctx.table("kinetics")
        frame = frame[frame["infusion"] == 1]
        unit = str(frame["unit"].dropna().iloc[0]) if frame["unit"].notna().any() else ""
        label = f"CAR-T ({_UNIT_TEXT.get(unit, unit)})" if unit else "CAR-T level"
    else:
        require_table(ctx, "labs")
        if spec.analyte is None:
            msg = "a dynamics analysis of labs needs `analyte` (e.g. il6)"
            raise Skip(msg)
        frame = ctx.table("labs")
        frame = frame[frame["analyte"].astype(str) == spec.analyte]
        if frame.empty:
            msg = f"the labs table has no {spec.analyte!r} values"
            raise Skip(msg)
        unit = str(frame["unit"].dropna().iloc[0]) if frame["unit"].notna().any() else ""
        known = ANALYTE_BY_NAME.get(spec.analyte)
        name = known.label if known is not None else spec.analyte
        label = f"{name} ({unit})" if unit else name
    lo, hi = spec.days
    frame = frame[(frame["day"] >= lo) & (frame["day"] <= hi)]
    long = frame.loc[:, ["patient_id", "day", "value"]].astype({"value": "float64"})
    long = with_group(ctx, long, spec.by)
    if spec.by is not None:
        long = long.dropna(subset=[spec.by])
    if long.empty:
        msg = f"no values between day {lo} and day {hi}"
        raise Skip(msg)
    return long.reset_index(drop=True), label


def _paired_test(summary: pd.DataFrame, levels: list[object]) -> TTestResult | None:
    if len(levels) != 2 or not (summary["centre"] > 0).all():
        return None
    wide = summary.pivot_table(index="day", columns="group", values="centre", observed=True)
    wide = wide.dropna()
    if len(wide) < 3:
        return None
    long = wide.reset_index().melt(id_vars="day", var_name="group", value_name="centre")
    long["log10_centre"] = np.log10(long["centre"].astype(float))
    long["group"] = categorical(long["group"], levels, ordered=True)
    return t_test(long, value="log10_centre", by="group", pair_id="day")


def run(spec: Dynamics, ctx: Context) -> AnalysisOutput:
    """Mean ± SEM (or median, IQR) per day and group of CAR-T copies or a lab analyte."""
    require_columns(ctx, spec.by)
    long, label = _long(spec, ctx)
    levels: list[object] = []
    if spec.by is not None:
        levels = require_groups(long, spec.by, ctx=ctx)
    summary = dynamics_summary(
        long, value="value", day="day", by=spec.by, stat=spec.stat, min_n=MIN_N
    )
    if summary.empty:
        msg = f"no sampling day has at least {MIN_N} values per group"
        raise Skip(msg)
    summary["group"] = summary["group"].astype(str)
    ard = Ard(spec.id)
    for rec in summary.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in ("n", "n_zero", "centre", "lower", "upper")},
            group=rec["group"],
            variable=f"day_{int(rec['day'])}",
            level=spec.stat,
        )
    test = _paired_test(summary, [str(v) for v in levels])
    methods = [
        MethodInfo(
            estimator="Mean ± SEM per day" if spec.stat == "mean_sem" else "Median (IQR) per day",
            description=(
                f"{label} summarised per sampling day and group (days as recorded, since the "
                f"first infusion; days with fewer than {MIN_N} values per group left out; "
                "values below the LLOQ kept as 0)."
            ),
            options={"stat": spec.stat, "days": f"{spec.days[0]}-{spec.days[1]}", "min_n": MIN_N},
        )
    ]
    parts = [
        f"{label}: {summary['day'].nunique()} sampling days, "
        f"{long['patient_id'].nunique()} patients."
    ]
    if test is not None:
        ard.add_many(
            {
                "statistic": test.statistic,
                "df": test.df,
                "p_value": test.p_value,
                "estimate": test.estimate,
            },
            variable="paired_t_daily_means",
        )
        methods.append(test.method)
        parts.append(
            f"Paired t-test of the groups' log10 daily means (days as pairs, as seed "
            f"000 Fig. 6B; descriptive): {format_p(test.p_value)}."
        )
    peak = summary.loc[summary.groupby("group")["centre"].idxmax()]
    parts.append(
        "Highest "
        + ("mean" if spec.stat == "mean_sem" else "median")
        + ": "
        + "; ".join(f"{g} day {int(d)}" for g, d in zip(peak["group"], peak["day"], strict=True))
        + "."
    )
    figure = FigureOutput(
        name=f"{spec.id}_dynamics",
        caption=f"{spec.title}: {'mean ± SEM' if spec.stat == 'mean_sem' else 'median (IQR)'} "
        "per sampling day (log scale; ▽ = at or below the axis floor).",
        draw=partial(
            plot_dynamics,
            long,
            value="value",
            day="day",
            by=spec.by,
            stat=spec.stat,
            min_n=MIN_N,
            ylabel=label,
        ),
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=" ".join(parts),
        ard=ard.frame(),
        tables=(TableOutput(name="dynamics", caption=f"{label} by day", frame=summary),),
        figures=(figure,),
        methods=tuple(methods),
        n=int(long["patient_id"].nunique()),
        warnings=tuple(test.warnings) if test is not None else (),
    )


__all__ = ["run"]
