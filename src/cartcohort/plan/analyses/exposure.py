"""A yes/no exposure that starts during follow-up (HSCT after CAR-T), without immortal time.

``type: time_dependent_exposure`` splits each patient's follow-up at the day the exposure
starts (``change_day``, e.g. ``hsct_day``) and computes, on one report page:

1. the time-dependent Cox model (R ``coxph(Surv(tstart, tstop, event) ~ hsct)``, Efron
   ties by default): the hazard ratio after against before/without the exposure, its
   95 % CI and Wald p; with ``covariates:``, also the model adjusted for them (complete
   cases);
2. the Mantel-Byar test (log-rank with time-dependent membership, Mantel & Byar 1974);
3. Simon-Makuch curves (Kaplan–Meier with time-dependent membership, Simon & Makuch
   1984) with a number-at-risk table of the patients currently in each state.

Days are put on the endpoint's clock (``change_day - start_day``; LFS starts at
response): an exposure before the endpoint's start counts from its start, one after
the end of its follow-up is not part of it, a missing day means never (as R ``tmerge``).

The naive comparison "exposed ever vs never, from day 0" is deliberately not computed:
it credits the exposed patients with the time they had to survive to be exposed, and a
biased number in a report gets quoted without its label. The figure's caption says why.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from cartcohort.analyse.counting import (
    START,
    STOP,
    mantel_byar_test,
    simon_makuch,
    to_counting_process,
)
from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.ard import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.analyses._common import Ard, Skip, require_endpoint, with_group
from cartcohort.plan.context import Context
from cartcohort.plan.schema import TimeDependentExposure
from cartcohort.render.figures.simon_makuch import plot_simon_makuch
from cartcohort.render.format import format_estimate_ci, format_p, round_half_up

#: Where time 0 is for each endpoint (x-axis title of the figure).
_ORIGIN = {"LFS": "response", "CIR": "response", "DOR": "response"}

#: Internal column of the exposure day on the endpoint's clock.
_DAY = "_exposure_day"


def _skip_no_days(spec: TimeDependentExposure, ctx: Context, label: str) -> Skip:
    what = "an HSCT date after CAR-T" if spec.exposure == "hsct" else f"a {label} date"
    msg = f"no patient has {what}: {spec.change_day} is empty"
    flag = f"{spec.exposure}_after"
    if flag in ctx.patients.columns:
        yes = int((ctx.patients[flag] == True).sum())  # noqa: E712 - nullable yes/no
        if yes:
            msg += f" ({yes} patient(s) have {flag} = yes without a day; add the days)"
    return Skip(msg)


def _covariates(
    spec: TimeDependentExposure, ctx: Context, data: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], list[str]]:
    wanted = [c for c in dict.fromkeys(spec.covariates) if c != spec.change_day]
    present = [c for c in wanted if ctx.has_column(c)]
    absent = [c for c in spec.covariates if c not in present]
    notes = [f"Not in this cohort, left out of the adjusted model: {', '.join(absent)}."]
    data = with_group(ctx, data, *present)
    for col in present:
        values = data[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            data[col] = values.cat.remove_unused_categories()
        elif str(values.dtype) == "boolean":
            data[col] = values.astype("float64")
        elif pd.api.types.is_numeric_dtype(values.dtype):
            data[col] = pd.to_numeric(values).astype("float64")
    return data, present, notes if absent else []


def _exposure_days(
    spec: TimeDependentExposure, data: pd.DataFrame, label: str
) -> tuple[pd.DataFrame, list[str]]:
    """The exposure day on the endpoint's clock, and notes on the days moved or dropped."""
    raw = pd.to_numeric(data[spec.change_day], errors="coerce").astype("float64")
    day = raw - data["start_day"].astype("float64")
    notes = []
    before = int((day < 0).sum())
    if before:
        notes.append(
            f"{before} patient(s) had {label} before the start of {spec.endpoint}: exposed "
            "from its start."
        )
    after = int((day > data["time_days"]).sum())
    if after:
        notes.append(
            f"{after} patient(s) had {label} after the end of their {spec.endpoint} "
            "follow-up: unexposed throughout it."
        )
    data = data.assign(**{_DAY: day.clip(lower=0).where(day <= data["time_days"])})
    return data, notes


def _cox_ard(ard: Ard, model: CoxResult, group: str) -> None:
    for rec in model.table.to_dict(orient="records"):
        ard.add_many(
            {s: float(rec[s]) for s in ("coef", "se", "hr", "lower", "upper", "z", "p_value")},
            group=group,
            variable=str(rec["term"]),
        )
    ard.add_many(
        {"n_intervals": model.n, "n_events": model.n_events, "n_excluded": model.n_excluded},
        group=group,
        variable="(model)",
    )


def run(spec: TimeDependentExposure, ctx: Context) -> AnalysisOutput:
    """Time-dependent Cox, Mantel-Byar and Simon-Makuch for ``spec.exposure``."""
    label = spec.label or spec.exposure.upper()
    rows = require_endpoint(ctx, spec.endpoint)
    if not ctx.has_column(spec.change_day):
        raise _skip_no_days(spec, ctx, label)
    frame = rows.loc[:, ["patient_id", "time_days", "event", "start_day"]]
    data = with_group(ctx, frame, spec.change_day)
    data, notes = _exposure_days(spec, data, label)
    data, covariates, more = _covariates(spec, ctx, data)
    notes += more
    positive = data["time_days"] > 0
    exclusions: tuple[str, ...] = ()
    if not positive.all():
        exclusions = (f"{int((~positive).sum())} with {spec.endpoint} follow-up 0 days",)
    data = data.loc[positive].reset_index(drop=True)
    day = data[_DAY]
    if not (day.notna() & ((day == 0) | (day < data["time_days"]))).any():
        msg = (
            f"no patient has {label} during {spec.endpoint} follow-up (every {spec.change_day} "
            "is empty, or on or after the last day of follow-up, when no time at risk follows)"
        )
        raise Skip(msg)
    # the exposure day on the endpoint's clock, under its own name (the methods show it)
    day_col = spec.change_day
    base = data.loc[:, ["patient_id", "time_days", "event", _DAY, *covariates]].rename(
        columns={_DAY: day_col}
    )
    split = to_counting_process(
        base, id="patient_id", time="time_days", event="event", changes={spec.exposure: day_col}
    )
    cox = cox_ph(
        split, start=START, time=STOP, event="event", covariates=[spec.exposure], ties=spec.ties
    )
    adjusted = None
    if covariates:
        complete = split.dropna(subset=covariates)
        adjusted = cox_ph(
            complete,
            start=START,
            time=STOP,
            event="event",
            covariates=[*covariates, spec.exposure],
            ties=spec.ties,
        )
    mb = mantel_byar_test(
        base, id="patient_id", time="time_days", event="event", exposure_day=day_col
    )
    sm = simon_makuch(base, id="patient_id", time="time_days", event="event", exposure_day=day_col)
    names: dict[object, str] = {0: f"No {label} yet", 1: f"After {label}"}

    ard = Ard(spec.id)
    _cox_ard(ard, cox, "unadjusted")
    if adjusted is not None:
        _cox_ard(ard, adjusted, "adjusted")
    ard.add_many(
        {"statistic": mb.statistic, "df": mb.df, "p_value": mb.p_value}, variable="mantel_byar"
    )
    exposed = split.loc[split[spec.exposure] == 1]
    state = _states(split, spec.exposure, names, mb.observed, mb.expected)
    for rec in state.to_dict(orient="records"):
        ard.add_many(
            {
                "n": rec["n"],
                "n_events": rec["n_events"],
                "person_days": rec["person_days"],
                "expected": rec["expected"],
            },
            group=rec["group"],
            variable="state",
        )
    for rec in sm.median.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in ("n", "n_events", "estimate", "lower", "upper")},
            group=names[int(rec["group"])],
            variable="median_days",
        )
    ard.add("n_patients", len(data), variable="cohort")
    ard.add("n_exposed", int(exposed["patient_id"].nunique()), variable="cohort")
    ard.add("median_exposure_day", float(exposed[START].median()), variable="cohort")

    titles = [ctx.title_of(c) for c in covariates]
    tables = (_results_table(spec, label, cox, adjusted, mb, titles), _state_table(state))
    figures: tuple[FigureOutput, ...] = ()
    if spec.figure:
        intervals = split.rename(columns={"patient_id": "id", spec.exposure: "exposed"})
        figures = (
            FigureOutput(
                name=f"{spec.id}_simon_makuch",
                caption=_caption(spec, label),
                draw=partial(
                    plot_simon_makuch,
                    sm,
                    intervals,
                    test=mb,
                    group_labels=names,
                    cumulative_label=f"{label} so far",
                    ylabel=f"{spec.endpoint} (%)",
                    time_unit=spec.time_unit,
                    time_origin=_ORIGIN.get(spec.endpoint, "infusion"),
                ),
            ),
        )
    models = [cox, *([adjusted] if adjusted is not None else [])]
    warnings = [w for m in models for w in m.warnings] + [*mb.warnings, *sm.warnings]
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=_summary(spec, label, len(data), exposed, cox, adjusted, mb, notes),
        ard=ard.frame(),
        tables=tables,
        figures=figures,
        methods=(cox.method, mb.method, sm.method),
        n=len(data),
        n_excluded=int((~positive).sum()),
        exclusions=exclusions,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _states(
    split: pd.DataFrame,
    exposure: str,
    names: dict[object, str],
    observed: np.ndarray,
    expected: np.ndarray,
) -> pd.DataFrame:
    """Patients, events, person-days and Mantel-Byar expected events in each state."""
    rows = []
    for g in (0, 1):
        sub = split.loc[split[exposure] == g]
        rows.append(
            {
                "group": names[g],
                "n": int(sub["patient_id"].nunique()),
                "n_events": int(sub["event"].sum()),
                "person_days": float((sub[STOP] - sub[START]).sum()),
                "expected": float(expected[g]),
                "observed": float(observed[g]),
            }
        )
    return pd.DataFrame(rows)


def _state_table(state: pd.DataFrame) -> TableOutput:
    frame = state.loc[:, ["group", "n", "n_events", "expected", "person_days"]].rename(
        columns={"expected": "expected_events", "person_days": "time_at_risk_days"}
    )
    return TableOutput(
        name="states",
        caption=(
            "Patients, events and time at risk in each state; a patient exposed during "
            "follow-up counts in both rows (before and after). Expected events: under no "
            "difference (Mantel-Byar)."
        ),
        frame=frame,
        formats={
            "n": "count",
            "n_events": "count",
            "expected_events": "decimal1",
            "time_at_risk_days": "days",
        },
    )


def _term(model: CoxResult, term: str) -> dict[str, float]:
    """The row of ``term`` in the model's table, as numbers."""
    rows = model.table.loc[model.table["term"] == term]
    return {c: float(rows[c].iloc[0]) for c in ("hr", "lower", "upper", "z", "p_value")}


def _results_table(
    spec: TimeDependentExposure,
    label: str,
    cox: CoxResult,
    adjusted: CoxResult | None,
    mb: object,
    covariates: list[str],
) -> TableOutput:
    def hr_row(model: CoxResult, analysis: str) -> dict[str, object]:
        row = _term(model, spec.exposure)
        return {
            "analysis": analysis,
            "estimate": float(row["hr"]),
            "lower": float(row["lower"]),
            "upper": float(row["upper"]),
            "statistic": float(row["z"]),
            "p_value": float(row["p_value"]),
        }

    rows = [hr_row(cox, f"HR after vs before/without {label}, time-dependent Cox")]
    if adjusted is not None:
        rows.append(hr_row(adjusted, f"HR adjusted for {', '.join(covariates)}"))
    rows.append(
        {
            "analysis": "Mantel-Byar test, chi-square (1 df)",
            "estimate": float("nan"),
            "lower": float("nan"),
            "upper": float("nan"),
            "statistic": float(mb.statistic),  # type: ignore[attr-defined]
            "p_value": float(mb.p_value),  # type: ignore[attr-defined]
        }
    )
    return TableOutput(
        name="time_dependent_exposure",
        caption=(
            f"{spec.endpoint}: {label} as a time-dependent exposure. Hazard ratio (95 % CI) "
            "with its Wald z; Mantel-Byar chi-square."
        ),
        frame=pd.DataFrame(rows),
        formats={"estimate": "hr", "lower": "hr", "upper": "hr", "statistic": "decimal2"},
    )


def _caption(spec: TimeDependentExposure, label: str) -> str:
    return (
        f"{spec.title}: Simon-Makuch estimates of {spec.endpoint}. Group membership is "
        f"time-dependent: every patient starts in 'No {label} yet' and moves to "
        f"'After {label}' on the day of {label}, so the '{label} so far' row counts the "
        f"patients who have moved and the 'After {label}' curve starts at the first "
        f"{label}. Comparing patients with and without {label} from day 0 instead would "
        f"be biased in favour of {label} (immortal time: a patient must survive "
        f"event-free until {label} to be counted as transplanted), so that comparison "
        "is not shown. Mantel-Byar test in the header."
    )


def _summary(
    spec: TimeDependentExposure,
    label: str,
    n: int,
    exposed: pd.DataFrame,
    cox: CoxResult,
    adjusted: CoxResult | None,
    mb: object,
    notes: list[str],
) -> str:
    def hr(model: CoxResult) -> str:
        row = _term(model, spec.exposure)
        est = format_estimate_ci(float(row["hr"]), float(row["lower"]), float(row["upper"]))
        return f"HR {est}, {format_p(float(row['p_value']))}"

    n_exp = int(exposed["patient_id"].nunique())
    median_day = round_half_up(float(exposed[START].median()))
    origin = _ORIGIN.get(spec.endpoint, "infusion")
    text = (
        f"{n_exp} of {n} patients had {label} during {spec.endpoint} follow-up (median day "
        f"{median_day} after {origin}). {spec.endpoint} after vs before/without {label} "
        f"(time-dependent Cox): {hr(cox)}"
    )
    if adjusted is not None:
        text += f"; adjusted: {hr(adjusted)}"
    text += f". Mantel-Byar {format_p(float(mb.p_value))}."  # type: ignore[attr-defined]
    return " ".join([text, *notes])


__all__ = ["run"]
