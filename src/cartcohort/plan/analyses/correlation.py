"""Correlation of two numeric patient columns (Pearson or Spearman), with a scatter plot.

Seed 002 reports Pearson's r of the MRD level with the peak CAR-T expansion and with the
duration of response. ``log_x`` / ``log_y`` correlate log10 values (values <= 0 are left
out and counted), which suits copies/µg and cytokines that span decades; the scatter
plot then uses log axes.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cartcohort.analyse.compare import CorrelationResult, correlation
from cartcohort.plan.analyses._common import Ard, Skip, require_columns
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import Correlation
from cartcohort.render.figures._style import (
    FONT_FAMILY,
    OKABE_ITO,
    figure,
    font_sizes,
    style_axes,
    style_context,
)
from cartcohort.render.format import format_p, round_half_up

#: Fewest complete pairs for a correlation (with 3 the t test has 1 df).
MIN_PAIRS = 4


def _values(ctx: Context, column: str, *, log: bool) -> tuple[pd.Series, int]:
    values = pd.to_numeric(ctx.patients[column], errors="coerce").astype("float64")
    if not log:
        return values, 0
    bad = int((values <= 0).sum())
    return np.log10(values.where(values > 0)), bad


def _plot(
    data: pd.DataFrame, spec: Correlation, result: CorrelationResult, xlabel: str, ylabel: str
) -> Figure:
    # A small scatter plot; drawn here because render/figures has no scatter yet.
    sizes = font_sizes("single")
    with style_context():
        fig = figure("single")
        ax = fig.add_subplot()
        x = 10 ** data["x"] if spec.log_x else data["x"]
        y = 10 ** data["y"] if spec.log_y else data["y"]
        ax.scatter(x, y, s=14, color=OKABE_ITO[1], edgecolor="white", linewidth=0.4, zorder=3)
        if spec.method == "pearson" and len(data) > 2:
            slope, intercept = np.polyfit(data["x"], data["y"], 1)
            grid = np.linspace(data["x"].min(), data["x"].max(), 50)
            line = slope * grid + intercept
            ax.plot(
                10**grid if spec.log_x else grid,
                10**line if spec.log_y else line,
                color="#000000",
                linewidth=1.0,
            )
        if spec.log_x:
            ax.set_xscale("log")
        if spec.log_y:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel, fontfamily=FONT_FAMILY)
        ax.set_ylabel(ylabel, fontfamily=FONT_FAMILY)
        symbol = "r" if spec.method == "pearson" else "rho"
        ax.set_title(
            f"{symbol} = {round_half_up(result.estimate, 2)}, {format_p(result.p_value)}, "
            f"n = {result.n}",
            loc="left",
            fontsize=sizes["text"],
            fontfamily=FONT_FAMILY,
        )
        style_axes(ax, "single")
    return fig


def run(spec: Correlation, ctx: Context) -> AnalysisOutput:
    """Correlation of ``spec.x`` with ``spec.y`` on the patients with both."""
    require_columns(ctx, spec.x, spec.y)
    x, bad_x = _values(ctx, spec.x, log=spec.log_x)
    y, bad_y = _values(ctx, spec.y, log=spec.log_y)
    data = pd.DataFrame({"patient_id": ctx.patients["patient_id"], "x": x, "y": y})
    complete = data.dropna().reset_index(drop=True)
    if len(complete) < MIN_PAIRS:
        msg = (
            f"needs at least {MIN_PAIRS} patients with both {spec.x!r} and {spec.y!r}; "
            f"this cohort has {len(complete)}"
        )
        raise Skip(msg)
    result = correlation(complete, x="x", y="y", method=spec.method)
    exclusions = [f"{len(data) - len(complete)} patient(s) without both values"]
    exclusions += [
        f"{n} patient(s) with {c} <= 0 (no log10)"
        for n, c in ((bad_x, spec.x), (bad_y, spec.y))
        if n
    ]
    ard = Ard(spec.id)
    stats = {
        "estimate": result.estimate,
        "lower": result.lower,
        "upper": result.upper,
        "statistic": result.statistic,
        "df": result.df,
        "p_value": result.p_value,
        "n": result.n,
    }
    ard.add_many(
        {k: (np.nan if v is None else v) for k, v in stats.items()},
        variable=f"{spec.x} ~ {spec.y}",
        level=spec.method,
    )
    table = pd.DataFrame([{"x": spec.x, "y": spec.y, "method": spec.method, **stats}])
    name = "Pearson's r" if spec.method == "pearson" else "Spearman's rho"
    logs = " (log10 values)" if spec.log_x or spec.log_y else ""
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=(
            f"{name} of {spec.x} with {spec.y}{logs}: {round_half_up(result.estimate, 3)} "
            f"(n = {result.n}), {format_p(result.p_value)}."
        ),
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="correlation",
                caption=spec.title,
                frame=table,
                formats={
                    "estimate": "estimate",
                    "lower": "estimate",
                    "upper": "estimate",
                    "p_value": "p",
                },
            ),
        ),
        figures=(
            FigureOutput(
                name=f"{spec.id}_scatter",
                caption=f"{spec.title}.",
                draw=partial(
                    _plot, complete, spec, result, ctx.title_of(spec.x), ctx.title_of(spec.y)
                ),
            ),
        ),
        methods=(result.method,),
        n=result.n,
        n_excluded=len(data) - len(complete),
        exclusions=tuple(e for e in exclusions if not e.startswith("0 ")),
        warnings=result.warnings,
    )


__all__ = ["run"]
