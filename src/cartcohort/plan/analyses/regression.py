"""Cox and logistic regression: univariable per covariate, then multivariable by a rule.

The steps, as CAR-T papers report them (seed 003; seed 004, Table 2):

1. **Univariable**: one model per covariate, each on the patients with that covariate
   (complete cases per model). A factor shows one row per level, the reference level
   first (written "reference").
2. **Multivariable** (``multivariable:``): ``all`` covariates; ``select`` those whose
   univariable test has p < ``select_p`` (seed 004: "a p-value of < 0.1 in univariate
   analysis"), plus the ``force`` list ("considered clinically significant"); or ``none``.
   The selection p-value is the covariate's overall test in its univariable model: for
   Cox the Wald test of all its coefficients (for a one-coefficient covariate the p of
   the table); for logistic the p of the table for a one-coefficient covariate and the
   model likelihood-ratio test for a factor with more levels.
3. For Cox, the proportional-hazards test (R ``cox.zph``, survival >= 3) of every model
   goes into the ARD and the warnings when p < 0.05.

Covariates the cohort does not have are left out with a note (``where present``); the
analysis is skipped only when none is left. ``log10:`` enters a covariate as log10 of its
value (values <= 0 are excluded and counted). Fewer than 10 events per coefficient in
the multivariable model gives a warning (Peduzzi et al. 1995/1996).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from cartcohort.analyse.counting import to_counting_process
from cartcohort.analyse.cox import CoxResult, cox_ph
from cartcohort.analyse.impute import PooledModel, PooledResult, impute_and_pool
from cartcohort.analyse.logistic import LogisticResult, logistic_regression
from cartcohort.errors import CartcohortError
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    require_columns,
    require_endpoint,
    with_group,
)
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import Cox, Logistic
from cartcohort.render.figures.forest import forest_frame, plot_forest
from cartcohort.render.format import format_estimate_ci, format_p

Model = CoxResult | LogisticResult
Spec = Cox | Logistic

#: Minimum events per coefficient before a warning (Peduzzi et al. 1995, 1996).
EVENTS_PER_COEFFICIENT = 10


@dataclass
class _Fits:
    """Everything fitted for one regression analysis."""

    data: pd.DataFrame
    event: str
    time: str | None
    covariates: list[str]
    univariable: dict[str, Model] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    selected: list[str] = field(default_factory=list)
    multivariable: Model | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    start: str | None = None  # interval start of counting-process rows (time_dependent)
    pooled: PooledResult | None = None  # multivariable model under multiple imputation
    weights: str | None = None  # case-weight column (spec.weights)
    cluster: str | None = None  # cluster column (spec.cluster)


def _name(column: str, spec: Spec) -> str:
    return f"log10_{column}" if column in spec.log10 else column


def _available(spec: Spec, ctx: Context) -> tuple[list[str], list[str]]:
    wanted = list(dict.fromkeys([*spec.covariates, *spec.force]))
    present = [c for c in wanted if ctx.has_column(c)]
    absent = [c for c in wanted if c not in present]
    if not present:
        msg = (
            f"needs at least one of the covariates {', '.join(map(repr, wanted))}, "
            "which this cohort does not have"
        )
        raise Skip(msg)
    notes = [f"Not in this cohort, left out: {', '.join(absent)}."] if absent else []
    return present, notes


def _prepare(
    spec: Spec, ctx: Context, frame: pd.DataFrame, covariates: list[str]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Add covariates (log10 where asked), drop unused categories; return data, names, notes."""
    extra = [c for c in (spec.weights, spec.cluster) if c is not None and c not in frame.columns]
    require_columns(ctx, *extra)
    data = with_group(ctx, frame, *covariates, *extra)
    names, notes = [], []
    for col in covariates:
        name = _name(col, spec)
        values = data[col]
        if col in spec.log10:
            numeric = pd.to_numeric(values, errors="coerce").astype("float64")
            bad = int((numeric <= 0).sum())
            data[name] = np.log10(numeric.where(numeric > 0))
            if bad:
                notes.append(f"{bad} patient(s) with {col} <= 0 have no log10 value.")
        elif isinstance(values.dtype, pd.CategoricalDtype):
            data[name] = values.cat.remove_unused_categories()
        elif str(values.dtype) == "boolean":
            data[name] = values.astype("object").where(values.notna(), None)
        elif pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_float_dtype(
            values.dtype
        ):
            data[name] = pd.to_numeric(values).astype("float64")
        else:
            data[name] = values
        names.append(name)
    return data, names, notes


def _complete(data: pd.DataFrame, covariates: list[str], fits: _Fits) -> pd.DataFrame:
    """Complete cases of the model's columns, with unused levels dropped and yes/no as bool."""
    columns = [*covariates, fits.event, *([fits.time] if fits.time else [])]
    columns += [fits.start] if fits.start else []
    columns += [c for c in (fits.weights, fits.cluster) if c is not None]
    subset = data.dropna(subset=columns).copy()
    for col in [*covariates, fits.event]:
        values = subset[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            subset[col] = values.cat.remove_unused_categories()
        elif values.dtype == object and values.map(lambda v: isinstance(v, bool | np.bool_)).all():
            subset[col] = values.astype(bool)
    return subset


def _fit(spec: Spec, data: pd.DataFrame, covariates: list[str], fits: _Fits) -> Model:
    subset = _complete(data, covariates, fits)
    if isinstance(spec, Cox):
        assert fits.time is not None
        return cox_ph(
            subset,
            time=fits.time,
            event=fits.event,
            covariates=covariates,
            ties=spec.ties,
            start=fits.start,
            weights=spec.weights,
            robust=spec.robust,
            cluster=spec.cluster,
        )
    return logistic_regression(
        subset,
        outcome=fits.event,
        covariates=covariates,
        method=spec.method,
        weights=spec.weights,
        robust=spec.robust,
        cluster=spec.cluster,
    )


def _selection_p(model: Model, covariate: str) -> float:
    if isinstance(model, CoxResult):
        return float(model.wald_test.p_value)
    terms = model.table[model.table["term"] != "(Intercept)"]
    if len(terms) == 1:
        return float(terms["p_value"].iloc[0])
    return float(model.lr_test.p_value)


def _run_models(spec: Spec, fits: _Fits) -> None:
    for cov in fits.covariates:
        try:
            fits.univariable[cov] = _fit(spec, fits.data, [cov], fits)
        except CartcohortError as exc:
            fits.failed[cov] = str(exc)
    if spec.multivariable == "none":
        return
    forced = [_name(c, spec) for c in spec.force if _name(c, spec) in fits.covariates]
    if spec.multivariable == "all":
        chosen = [c for c in fits.covariates if c not in fits.failed]
    else:
        chosen = [c for c, m in fits.univariable.items() if _selection_p(m, c) < spec.select_p]
    fits.selected = [c for c in fits.covariates if c in chosen or c in forced]
    if not fits.selected:
        fits.notes.append(
            f"No covariate had univariable p < {spec.select_p:g}: no multivariable model."
        )
        return
    try:
        fits.multivariable = _fit(spec, fits.data, fits.selected, fits)
    except CartcohortError as exc:
        fits.notes.append(f"Multivariable model not estimable: {exc}")
        return
    m = fits.multivariable
    n_coef = int((m.table["term"] != "(Intercept)").sum())
    if m.n_events < EVENTS_PER_COEFFICIENT * n_coef:
        fits.warnings.append(
            f"The multivariable model has {m.n_events} events for {n_coef} coefficient(s), "
            f"fewer than {EVENTS_PER_COEFFICIENT} per coefficient: estimates may be unstable "
            "and over-fitted (Peduzzi et al. 1995, 1996)."
        )


def _run_imputation(spec: Spec, fits: _Fits) -> None:
    """Fit the multivariable covariates on ``spec.imputation.m`` imputed datasets."""
    imp = spec.imputation
    if imp is None:
        return
    if not fits.selected:
        fits.notes.append("Multiple imputation not done: no multivariable model.")
        return
    if fits.start is not None:
        fits.notes.append(
            "Multiple imputation not done: not available with time-dependent covariates."
        )
        return
    if fits.weights is not None or fits.cluster is not None:
        fits.notes.append(
            "Multiple imputation not done: not combined with weights or clusters here "
            "(the pooled model would silently drop them)."
        )
        return
    data = fits.data.dropna(subset=[fits.event, *([fits.time] if fits.time else [])])
    data = data.reset_index(drop=True)
    event = data[fits.event]
    if event.dtype == object and event.map(lambda v: isinstance(v, bool | np.bool_)).all():
        data[fits.event] = event.astype(bool)
    options: dict[str, object] = {"covariates": fits.selected}
    if isinstance(spec, Cox):
        options |= {"time": fits.time, "event": fits.event, "ties": spec.ties}
    else:
        options |= {"outcome": fits.event, "method": spec.method}
    model: PooledModel = "cox" if isinstance(spec, Cox) else "logistic"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kept in the result's warnings
            fits.pooled = impute_and_pool(
                data,
                model=model,
                model_options=options,
                m=imp.m,
                seed=imp.seed,
                iterations=imp.iterations,
            )
    except CartcohortError as exc:
        fits.notes.append(f"Multiple imputation not done: {exc}")
        return
    fits.warnings.extend(f"Multiple imputation: {w}" for w in fits.pooled.warnings)


def _pooled_output(fits: _Fits, ard: Ard, effect: str) -> TableOutput | None:
    pooled = fits.pooled
    if pooled is None:
        return None
    ratio, prefix = ("hr", "hr") if effect == "hr" else ("odds_ratio", "or")
    table = pooled.table.loc[
        :,
        ["term", ratio, f"{prefix}_lower", f"{prefix}_upper", "p_value", "df", "fmi"],
    ].rename(columns={ratio: "estimate", f"{prefix}_lower": "lower", f"{prefix}_upper": "upper"})
    stats = ("estimate", "se", "df", "p_value", "lower", "upper", "fmi", "riv", "lambda")
    for rec in pooled.table.to_dict(orient="records"):
        ard.add_many(
            {
                **{s: float(rec[s]) for s in stats},
                ratio: float(rec[ratio]),
                f"{prefix}_lower": float(rec[f"{prefix}_lower"]),
                f"{prefix}_upper": float(rec[f"{prefix}_upper"]),
            },
            group="multiple_imputation",
            variable=str(rec["term"]),
        )
    ard.add_many(
        {"m": pooled.m, "n": pooled.n, "dfcom": pooled.dfcom},
        group="multiple_imputation",
        variable="(model)",
    )
    label = "hazard" if effect == "hr" else "odds"
    return TableOutput(
        name="multiple_imputation",
        caption=(
            f"Multivariable model on {pooled.m} imputed datasets (chained equations, seed "
            f"{pooled.method.options.get('seed')}), pooled by Rubin's rules: {label} ratios "
            "(95 % CI), p, df and fraction of missing information."
        ),
        frame=table,
        formats={"estimate": "estimate", "lower": "estimate", "upper": "estimate", "p_value": "p"},
    )


def _forest(model: Model, fits: _Fits, covariates: list[str], effect: str) -> pd.DataFrame:
    data = _complete(fits.data, covariates, fits)
    event_value = model.event if isinstance(model, LogisticResult) else None
    if isinstance(model, LogisticResult) and isinstance(event_value, bool | np.bool_):
        event_value = None
    return forest_frame(
        model,
        data,
        covariates=covariates,
        event=fits.event,
        event_value=event_value,
        time=fits.time,
        effect="hr" if effect == "hr" else "or",
    )


def _add_model_ard(ard: Ard, rows: pd.DataFrame, model: Model, group: str) -> None:
    for rec in rows.to_dict(orient="records"):
        level = "" if rec["level"] is None else rec["level"]
        keys = {"group": group, "variable": str(rec["variable"]), "level": level}
        ard.add_many({"n": rec["n"], "n_events": rec["n_events"]}, **keys)
        if rec["reference"]:
            ard.add("reference", 1, **keys)
            continue
        row = model.table.set_index("term").loc[rec["term"]]
        stats = ("coef", "se", "hr", "lower", "upper", "z", "p_value")
        if isinstance(model, LogisticResult):
            stats = ("coef", "se", "odds_ratio", "lower", "upper", "z", "p_value")
        ard.add_many({s: float(row[s]) for s in stats}, **keys)
    model_keys = {"group": group, "variable": "(model)"}
    ard.add_many(
        {
            "n": model.n,
            "n_events": model.n_events,
            "n_excluded": model.n_excluded,
            "lr_statistic": model.lr_test.statistic,
            "lr_df": model.lr_test.df,
            "lr_p_value": model.lr_test.p_value,
        },
        **model_keys,
    )
    if isinstance(model, CoxResult):
        ard.add("concordance", model.concordance.estimate, **model_keys)


def _ph_ard(ard: Ard, model: CoxResult, group: str, warnings: list[str]) -> None:
    try:
        ph = model.check_ph()
    except CartcohortError as exc:
        warnings.append(f"Proportional-hazards test not computed ({group}): {exc}")
        return
    for rec in ph.table.to_dict(orient="records"):
        ard.add_many(
            {"statistic": rec["statistic"], "df": rec["df"], "p_value": rec["p_value"]},
            group=group,
            variable="ph_test",
            level=str(rec["term"]),
        )
    bad = ph.table[(ph.table["term"] != "GLOBAL") & (ph.table["p_value"] < 0.05)]
    if len(bad):
        warnings.append(
            f"Proportional hazards doubtful ({group}; cox.zph p < 0.05) for "
            + ", ".join(bad["term"].astype(str))
            + ": the hazard ratio is an average over follow-up; consider a landmark or a "
            "time-varying effect."
        )


def _combined(uni: pd.DataFrame, multi: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["estimate", "lower", "upper", "p_value"]
    out = uni.loc[:, ["variable", "level", "reference", "n", "n_events", *cols]].rename(
        columns={c: f"uni_{c}" for c in cols}
    )
    if multi is None or multi.empty:
        return out
    m = multi.loc[:, ["variable", "level", *cols]].rename(columns={c: f"multi_{c}" for c in cols})
    out["level"] = out["level"].astype(object)
    m["level"] = m["level"].astype(object)
    return out.merge(m, on=["variable", "level"], how="left")


def _collect(
    spec: Spec, fits: _Fits, ard: Ard, effect: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    frames = []
    for cov, model in fits.univariable.items():
        rows = _forest(model, fits, [cov], effect)
        _add_model_ard(ard, rows, model, "univariable")
        if isinstance(model, CoxResult):
            _ph_ard(ard, model, f"univariable {cov}", fits.warnings)
        frames.append(rows)
    for cov, reason in fits.failed.items():
        fits.notes.append(f"{cov}: univariable model not estimable ({reason})")
    for cov in fits.selected:
        ard.add("selected", 1, group="multivariable", variable=cov)
    uni = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    multi = None
    if fits.multivariable is not None:
        multi = _forest(fits.multivariable, fits, fits.selected, effect)
        _add_model_ard(ard, multi, fits.multivariable, "multivariable")
        if isinstance(fits.multivariable, CoxResult):
            _ph_ard(ard, fits.multivariable, "multivariable", fits.warnings)
    return uni, multi


def _summary(fits: _Fits, multi: pd.DataFrame | None, effect: str) -> str:
    label = "HR" if effect == "hr" else "OR"
    if multi is None or multi.empty:
        sig = []
    else:
        sig = [
            f"{r['variable']}{'' if r['level'] is None else ' ' + str(r['level'])} "
            f"{label} {format_estimate_ci(r['estimate'], r['lower'], r['upper'])}, "
            f"{format_p(r['p_value'])}"
            for r in multi.to_dict(orient="records")
            if not r["reference"]
        ]
    head = (
        f"Multivariable model ({', '.join(fits.selected)}): " + "; ".join(sig) + "."
        if sig
        else "No multivariable model."
    )
    return " ".join([head, *fits.notes])


def _output(
    spec: Spec, fits: _Fits, effect: str, caption: str, labels: dict[str, str]
) -> AnalysisOutput:
    if not fits.univariable and fits.multivariable is None:
        reasons = "; ".join(f"{c}: {r}" for c, r in fits.failed.items())
        msg = f"no model could be fitted ({reasons})"
        raise Skip(msg)
    ard = Ard(spec.id)
    uni, multi = _collect(spec, fits, ard, effect)
    table = _combined(uni, multi) if not uni.empty or multi is None else multi
    formats = {
        c: ("p" if c.endswith("p_value") else "estimate")
        for c in table.columns
        if c.startswith(("uni_", "multi_"))
    }
    tables = [TableOutput(name="regression", caption=caption, frame=table, formats=formats)]
    pooled_table = _pooled_output(fits, ard, effect)
    if pooled_table is not None:
        tables.append(pooled_table)
    figures: tuple[FigureOutput, ...] = ()
    shown = multi if multi is not None else uni
    if spec.figure and shown is not None and not shown.empty:
        which = "multivariable" if multi is not None else "univariable"
        figures = (
            FigureOutput(
                name=f"{spec.id}_forest",
                caption=f"{spec.title}: {which} {'hazard' if effect == 'hr' else 'odds'} "
                "ratios with 95 % CI.",
                draw=partial(
                    plot_forest, shown, effect="hr" if effect == "hr" else "or", labels=labels
                ),
            ),
        )
    models = [*fits.univariable.values(), *([fits.multivariable] if fits.multivariable else [])]
    main = fits.multivariable or next(iter(fits.univariable.values()))
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=_summary(fits, multi, effect),
        ard=ard.frame(),
        tables=tuple(tables),
        figures=figures,
        methods=(main.method, *([fits.pooled.method] if fits.pooled else [])),
        n=main.n,
        n_excluded=main.n_excluded,
        exclusions=tuple(main.exclusions),
        warnings=tuple(dict.fromkeys([*fits.warnings, *(w for m in models for w in m.warnings)])),
    )


def run_cox(spec: Cox, ctx: Context) -> AnalysisOutput:
    """Univariable and multivariable Cox regression for ``spec.endpoint``."""
    present, notes = _available(spec, ctx)
    rows = require_endpoint(ctx, spec.endpoint)
    frame = rows.loc[:, ["patient_id", "time_days", "event"]]
    data, names, more = _prepare(spec, ctx, frame, present)
    fits = _Fits(
        data=data,
        event="event",
        time="time_days",
        covariates=names,
        notes=[*notes, *more],
        weights=spec.weights,
        cluster=spec.cluster,
    )
    if spec.time_dependent:
        _split_time_dependent(spec, ctx, rows, fits)
    _run_models(spec, fits)
    _run_imputation(spec, fits)
    return _output(
        spec,
        fits,
        "hr",
        f"Cox regression for {spec.endpoint}: hazard ratios (95 % CI) and p.",
        {name: ctx.title_of(name) for name in fits.covariates},
    )


def _split_time_dependent(spec: Cox, ctx: Context, rows: pd.DataFrame, fits: _Fits) -> None:
    """Split follow-up at the days the ``time_dependent`` indicators switch on.

    Days are converted to the endpoint's clock (``day - start_day``); a day before the
    endpoint's start counts as exposed from its start, a day after the end of its
    follow-up as not exposed during it (as R's ``tmerge``), a missing day as never.
    """
    require_columns(ctx, *spec.time_dependent.values())
    clash = [n for n in spec.time_dependent if n in fits.data.columns]
    if clash:
        msg = f"time_dependent names {clash} are already columns; choose other names"
        raise Skip(msg)
    data = with_group(ctx, fits.data, *spec.time_dependent.values())
    start_day = rows.set_index("patient_id")["start_day"]
    changes: dict[str, str] = {}
    for name, column in spec.time_dependent.items():
        day = pd.to_numeric(data[column], errors="coerce") - data["patient_id"].map(start_day)
        day = day.clip(lower=0).where(day <= data["time_days"])
        data[f"_day_{name}"] = day.astype("float64")
        changes[name] = f"_day_{name}"
    positive = data["time_days"] > 0
    if not positive.all():
        fits.notes.append(
            f"{int((~positive).sum())} patient(s) with follow-up 0 left out "
            "(no time at risk to split)."
        )
    split = to_counting_process(
        data[positive], id="patient_id", time="time_days", event="event", changes=changes
    )
    fits.data = split.rename(columns={"tstop": "time_days"})
    fits.start = "tstart"
    fits.covariates = [*fits.covariates, *spec.time_dependent]
    fits.notes.append(
        "Time-dependent: "
        + ", ".join(f"{n} (from {c})" for n, c in spec.time_dependent.items())
        + "; follow-up split at those days (counting-process Cox model)."
    )


def run_logistic(spec: Logistic, ctx: Context) -> AnalysisOutput:
    """Univariable and multivariable logistic regression for ``spec.outcome``."""
    require_columns(ctx, spec.outcome)
    present, notes = _available(spec, ctx)
    frame = ctx.patients.loc[:, ["patient_id", spec.outcome]].copy()
    outcome = frame[spec.outcome]
    if str(outcome.dtype) == "boolean":
        frame[spec.outcome] = outcome.astype("object").where(outcome.notna(), None)
    data, names, more = _prepare(spec, ctx, frame, present)
    fits = _Fits(
        data=data,
        event=spec.outcome,
        time=None,
        covariates=names,
        notes=[*notes, *more],
        weights=spec.weights,
        cluster=spec.cluster,
    )
    _run_models(spec, fits)
    _run_imputation(spec, fits)
    method = "Firth penalised likelihood" if spec.method == "firth" else "maximum likelihood"
    return _output(
        spec,
        fits,
        "or",
        f"Logistic regression for {spec.outcome} ({method}): odds ratios (95 % CI) and p.",
        {name: ctx.title_of(name) for name in names},
    )


__all__ = ["run_cox", "run_logistic"]
