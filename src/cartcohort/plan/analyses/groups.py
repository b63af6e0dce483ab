"""Comparisons across groups: proportions (Fisher, chi-square, trend) and values."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from cartcohort._pandas import categorical
from cartcohort.analyse.compare import (
    AnovaResult,
    KruskalWallisResult,
    MannWhitneyResult,
    TTestResult,
    anova,
    kruskal_wallis_test,
    mann_whitney_test,
    t_test,
)
from cartcohort.analyse.contingency import (
    ChiSquareTestResult,
    FisherExactResult,
    TrendTestResult,
    chi_square_test,
    cochran_armitage_test,
    fisher_exact,
)
from cartcohort.ard import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    present_levels,
    require_columns,
    require_groups,
)
from cartcohort.plan.context import Context
from cartcohort.plan.schema import CompareProportions, CompareValues
from cartcohort.render.figures.groups import plot_group_values, plot_stacked_bars
from cartcohort.render.format import format_p, format_percent


def _complete(ctx: Context, *columns: str) -> tuple[pd.DataFrame, int]:
    frame = ctx.patients.loc[:, ["patient_id", *dict.fromkeys(columns)]]
    keep = frame.notna().all(axis=1)
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def _exclusion(n: int, *columns: str) -> tuple[str, ...]:
    return (f"{n} patient(s) without {' or '.join(columns)}",) if n else ()


def run_proportions(spec: CompareProportions, ctx: Context) -> AnalysisOutput:
    """Outcome proportions across groups with Fisher's exact, chi-square or the trend test."""
    require_columns(ctx, spec.outcome, spec.by)
    data, n_missing = _complete(ctx, spec.outcome, spec.by)
    levels = require_groups(data, spec.by, ctx=ctx)
    outcome = data[spec.outcome]
    if pd.api.types.is_bool_dtype(outcome.dtype) or str(outcome.dtype) == "boolean":
        outcome = outcome.astype(bool).map({True: "yes", False: "no"})
        categories = ["yes", "no"]
    else:
        categories = [str(c) for c in present_levels(outcome)]
        outcome = outcome.astype(str)
    counts = pd.crosstab(
        categorical(data[spec.by], levels, ordered=True),
        categorical(outcome, categories),
        dropna=False,
    )
    counts.index = [str(i) for i in counts.index]
    counts.index.name = spec.by
    ard = Ard(spec.id)
    totals = counts.sum(axis=1)
    for group, row in counts.iterrows():
        for level, n in row.items():
            ard.add("n", int(n), group=group, variable=spec.outcome, level=level)
            ard.add(
                "percent",
                n / totals[group] if totals[group] else np.nan,
                group=group,
                variable=spec.outcome,
                level=level,
            )
    test: TrendTestResult | ChiSquareTestResult | FisherExactResult
    if spec.test == "trend":
        if categories != ["yes", "no"]:
            msg = "the trend test needs a yes/no outcome"
            raise Skip(msg)
        test = cochran_armitage_test(counts["yes"].to_numpy(), totals.to_numpy())
    elif spec.test == "chi_square":
        test = chi_square_test(counts.to_numpy(), correction=spec.correction)
    else:
        test = fisher_exact(counts.to_numpy())
    p = float(test.p_value)
    ard.add("p_value", p, variable="test")
    stat = getattr(test, "statistic", None)
    if stat is not None:
        ard.add("statistic", float(stat), variable="test")
    if isinstance(test, FisherExactResult) and test.estimate is not None:
        ard.add_many(
            {"odds_ratio": test.estimate, "lower": test.lower, "upper": test.upper},
            variable="test",
        )
    table = counts.reset_index().rename(columns={"index": spec.by})
    figures: tuple[FigureOutput, ...] = ()
    if spec.figure:
        figures = (
            FigureOutput(
                name=f"{spec.id}_bars",
                caption=f"{spec.title}.",
                draw=partial(
                    plot_stacked_bars,
                    data.assign(**{spec.outcome: outcome.to_numpy()}),
                    by=spec.by,
                    category=spec.outcome,
                    order=categories,
                    test=test,
                    legend_title=ctx.title_of(spec.outcome),
                    xlabel=ctx.title_of(spec.by),
                ),
            ),
        )
    rates = "; ".join(
        f"{g}: {int(counts.loc[g, categories[0]])}/{int(totals[g])} "
        f"({format_percent(counts.loc[g, categories[0]] / totals[g])})"
        for g in counts.index
        if totals[g]
    )
    name = {
        "fisher": "Fisher's exact test",
        "chi_square": "chi-square test",
        "trend": "Cochran–Armitage trend test",
    }[spec.test]
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=f"{spec.outcome} = {categories[0]}: {rates}. {name}, {format_p(p)}.",
        ard=ard.frame(),
        tables=(TableOutput(name="counts", caption=f"{spec.outcome} by {spec.by}", frame=table),),
        figures=figures,
        methods=(test.method,),
        n=len(data),
        n_excluded=n_missing,
        exclusions=_exclusion(n_missing, spec.outcome, spec.by),
        warnings=tuple(getattr(test, "warnings", ())),
    )


def run_values(spec: CompareValues, ctx: Context) -> AnalysisOutput:
    """A numeric value across groups (t/Welch/Mann–Whitney for 2, ANOVA/Kruskal–Wallis for more)."""
    require_columns(ctx, spec.value, spec.by)
    data, n_missing = _complete(ctx, spec.value, spec.by)
    data[spec.value] = pd.to_numeric(data[spec.value]).astype("float64")
    levels = require_groups(data, spec.by, ctx=ctx)
    data[spec.by] = categorical(data[spec.by], levels, ordered=True)
    two = len(levels) == 2
    test: TTestResult | MannWhitneyResult | AnovaResult | KruskalWallisResult
    if spec.test in ("t", "welch", "mann_whitney") and not two:
        msg = f"the {spec.test} test compares 2 groups; {spec.by!r} has {len(levels)}"
        raise Skip(msg)
    if spec.test == "t":
        test = t_test(data, value=spec.value, by=spec.by, equal_var=True)
    elif spec.test == "welch":
        test = t_test(data, value=spec.value, by=spec.by, equal_var=False)
    elif spec.test == "mann_whitney":
        test = mann_whitney_test(data, value=spec.value, by=spec.by)
    elif spec.test == "anova":
        test = anova(data, value=spec.value, by=spec.by)
    else:
        test = kruskal_wallis_test(data, value=spec.value, by=spec.by)
    ard = Ard(spec.id)
    summary = (
        data.groupby(spec.by, observed=True)[spec.value]
        .agg(
            n="count",
            mean="mean",
            sd="std",
            median="median",
            q1=lambda v: v.quantile(0.25),
            q3=lambda v: v.quantile(0.75),
        )
        .reset_index()
    )
    summary[spec.by] = summary[spec.by].astype(str)
    ard.add_frame(
        summary.rename(columns={spec.by: "group"}),
        keys=["group"],
        stats=["n", "mean", "sd", "median", "q1", "q3"],
    )
    ard.add_many({"statistic": test.statistic, "p_value": test.p_value}, variable="test")
    figures: tuple[FigureOutput, ...] = ()
    if spec.figure:
        figures = (
            FigureOutput(
                name=f"{spec.id}_dots",
                caption=f"{spec.title}: each dot a patient; "
                + ("geometric mean ÷/× geometric SD." if spec.log_scale else "mean ± SD."),
                draw=partial(
                    plot_group_values,
                    data,
                    value=spec.value,
                    by=spec.by,
                    test=test,
                    log=spec.log_scale,
                    ylabel=ctx.title_of(spec.value),
                ),
            ),
        )
    medians = "; ".join(
        f"{g}: median {m:.4g} (n={n})"
        for g, m, n in zip(summary[spec.by], summary["median"], summary["n"], strict=True)
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=f"{ctx.title_of(spec.value)}: {medians}. {test.method.estimator}, "
        f"{format_p(test.p_value)}.",
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="summary",
                caption=f"{ctx.title_of(spec.value)} by {ctx.title_of(spec.by)}",
                frame=summary,
            ),
        ),
        figures=figures,
        methods=(test.method,),
        n=len(data),
        n_excluded=n_missing,
        exclusions=_exclusion(n_missing, spec.value, spec.by),
        warnings=tuple(test.warnings),
    )
