"""Survival by group: Kaplan–Meier, log-rank (and trend), landmark rates, median follow-up."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from cartcohort._results import MethodInfo
from cartcohort.analyse.km import kaplan_meier, median_follow_up
from cartcohort.analyse.logrank import logrank_test, logrank_trend_test
from cartcohort.ard import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.derive.endpoints import landmark
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    require_columns,
    require_endpoint,
    require_groups,
    with_group,
)
from cartcohort.plan.context import Context
from cartcohort.plan.schema import Survival
from cartcohort.render.figures.km import plot_survival
from cartcohort.render.format import format_p, format_percent, round_half_up

#: Where time 0 is for each endpoint (x-axis title of the figure).
_ORIGIN = {"LFS": "response", "CIR": "response", "DOR": "response"}


def _data(spec: Survival, ctx: Context) -> pd.DataFrame:
    rows = require_endpoint(ctx, spec.endpoint)
    if spec.start_at_day is not None:
        rows = landmark(rows, day=spec.start_at_day)
        if rows.empty:
            msg = f"no patient is still at risk at the day-{spec.start_at_day} landmark"
            raise Skip(msg)
    data = with_group(ctx, rows, spec.by, spec.strata)
    keep = [c for c in ("patient_id", "time_days", "event", spec.by, spec.strata) if c]
    return data.loc[:, list(dict.fromkeys(keep))]


def run(spec: Survival, ctx: Context) -> AnalysisOutput:
    """Kaplan–Meier by ``spec.by`` with the log-rank test (see :class:`Survival`)."""
    require_columns(ctx, spec.by, spec.strata)
    data = _data(spec, ctx)
    ard = Ard(spec.id)
    km = kaplan_meier(data, time="time_days", event="event", by=spec.by, ci_method=spec.ci_method)
    test = None
    methods = [km.method]
    warnings = list(km.warnings)
    if spec.by is not None:
        require_groups(data.dropna(subset=[spec.by]), spec.by, ctx=ctx)
        test = logrank_test(data, time="time_days", event="event", by=spec.by, strata=spec.strata)
        methods.append(test.method)
        warnings += test.warnings
        ard.add_many(
            {"statistic": test.statistic, "df": test.df, "p_value": test.p_value},
            variable="logrank",
        )
        if spec.trend:
            trend = logrank_trend_test(data, time="time_days", event="event", by=spec.by)
            methods.append(trend.method)
            ard.add_many(
                {"statistic": trend.statistic, "df": trend.df, "p_value": trend.p_value},
                variable="logrank_trend",
            )
    ard.add_frame(km.median, keys=["group"], stats=["n", "n_events", "estimate", "lower", "upper"])
    landmark_rows = km.at(spec.landmarks_days) if spec.landmarks_days else pd.DataFrame()
    for rec in landmark_rows.to_dict(orient="records"):
        for stat in ("estimate", "std_err", "lower", "upper"):
            ard.add(stat, rec[stat], group=rec["group"], variable=f"day_{int(rec['time'])}")
    if ctx.plan.definitions.followup == "observed_median_range":
        fu_text = _observed_follow_up(ctx, data, ard, methods)
    else:
        fu = median_follow_up(data, time="time_days", event="event")
        methods.append(fu.method)
        ard.add_many(
            {"estimate": fu.estimate, "lower": fu.lower, "upper": fu.upper},
            variable="median_follow_up",
        )
        fu_text = (
            f"Median follow-up {round_half_up(fu.estimate)} days (reverse Kaplan–Meier)."
            if fu.estimate == fu.estimate  # not NaN
            else ""
        )
    figure = FigureOutput(
        name=f"{spec.id}_km",
        caption=f"{spec.title}: Kaplan–Meier estimates (numbers at risk below).",
        draw=partial(
            plot_survival,
            km,
            test=test,
            landmarks=spec.landmarks_days or None,
            endpoint=spec.endpoint,
            time_unit=spec.time_unit,
            time_origin=_ORIGIN.get(spec.endpoint, "infusion"),
        ),
    )
    table = _median_table(km, landmark_rows)
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=" ".join(p for p in (_summary(spec, km, landmark_rows, test), fu_text) if p),
        ard=ard.frame(),
        tables=(table,),
        figures=(figure,) if spec.figure else (),
        methods=tuple(methods),
        n=km.n,
        n_excluded=km.n_excluded,
        exclusions=km.exclusions,
        warnings=tuple(warnings),
    )


def _median_table(km: object, landmarks: pd.DataFrame) -> TableOutput:
    median = km.median  # type: ignore[attr-defined]
    frame = median.loc[:, ["group", "n", "n_events", "estimate", "lower", "upper"]].rename(
        columns={"estimate": "median_days", "lower": "median_lower", "upper": "median_upper"}
    )
    formats = {"median_days": "days", "median_lower": "days", "median_upper": "days"}
    for day in sorted(set(landmarks["time"])) if not landmarks.empty else []:
        sub = landmarks[landmarks["time"] == day].set_index("group")
        frame[f"rate_day_{int(day)}"] = frame["group"].map(sub["estimate"])
        frame[f"se_day_{int(day)}"] = frame["group"].map(sub["std_err"])
        formats[f"rate_day_{int(day)}"] = "percent"
        formats[f"se_day_{int(day)}"] = "percent"
    return TableOutput(
        name="survival",
        caption="Events, median and landmark rates by group.",
        frame=frame,
        formats=formats,
    )


def _observed_follow_up(
    ctx: Context, data: pd.DataFrame, ard: Ard, methods: list[MethodInfo]
) -> str:
    """Median (range) of observed follow-up: days from infusion to death or last follow-up
    (the OS times) of the analysis's patients, the same for every endpoint (seed 002:
    "The median follow-up was 647 days (range 172–945 days)"); R: median(), range()."""
    os_rows = ctx.endpoints[ctx.endpoints["param"] == "OS"]
    times = os_rows[os_rows["patient_id"].isin(set(data["patient_id"]))]["time_days"]
    values = pd.to_numeric(times, errors="coerce").dropna().to_numpy(dtype="float64")
    methods.append(
        MethodInfo(
            estimator="median (range) of observed follow-up",
            description=(
                "Median and range of the days from infusion to death or last follow-up "
                "(overall-survival times, dead and alive), of the patients of the analysis."
            ),
            options={"followup": "observed_median_range"},
            reference="R median(), range()",
        )
    )
    if values.size == 0:
        ard.add_many(
            {"estimate": np.nan, "min": np.nan, "max": np.nan, "n": 0}, variable="median_follow_up"
        )
        return "Median follow-up not available: no patient of this analysis has an OS time."
    median, low, high = float(np.median(values)), float(values.min()), float(values.max())
    ard.add_many(
        {"estimate": median, "min": low, "max": high, "n": int(values.size)},
        variable="median_follow_up",
    )
    return (
        f"Median follow-up {round_half_up(median)} days (range {round_half_up(low)}–"
        f"{round_half_up(high)}; observed follow-up of {values.size} patients)."
    )


def _summary(spec: Survival, km: object, landmarks: pd.DataFrame, test: object) -> str:
    parts = []
    if not landmarks.empty:
        day = int(landmarks["time"].iloc[-1])
        sub = landmarks[landmarks["time"] == day]
        rates = "; ".join(
            f"{g}: {format_percent(e)} ± {format_percent(s)}"
            for g, e, s in zip(sub["group"], sub["estimate"], sub["std_err"], strict=True)
        )
        parts.append(f"{spec.endpoint} at day {day} (estimate ± SE): {rates}.")
    if test is not None:
        parts.append(f"Log-rank {format_p(test.p_value)}.")  # type: ignore[attr-defined]
    return " ".join(parts)
