"""Tables: Table 1, category distributions, patient listings, AE grades, re-infusions.

Table 1: the test per variable
------------------------------
* **Categorical** (yes/no, category, text): Fisher's exact test when any expected cell
  count is below 5, otherwise Pearson's chi-square test *without* continuity correction.
  This is the default of R ``gtsummary::add_p()`` for ``tbl_summary`` (test
  ``"chisq.test.no.correct"`` when all expected counts are >= 5, else ``"fisher.test"``;
  Sjoberg DD et al., *Reproducible summary tables with the gtsummary package*, The R
  Journal 13(1):570-580, 2021). A table too large for the exact test falls back to the
  chi-square test, with a note.
* **Continuous**: mean ± SD with Student's t-test (two groups) or one-way ANOVA (more),
  as R ``tableone::CreateTableOne`` (``oneway.test(var.equal = TRUE)``); variables named in
  ``nonnormal`` are shown as median [IQR] with the Mann–Whitney (two groups) or
  Kruskal–Wallis test (more), as ``tableone``'s ``nonnormal =``.

Percentages are of the patients with a value in the group; missing values are counted
on their own row and are not in any test.

Listings never show direct identifiers: ``patient_id`` (a pseudonym in the data
standard) is allowed; a column named like a name, a medical-record number, a national
number, a birth date or contact details is refused with an error naming it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from cartcohort._pandas import categorical
from cartcohort.analyse._results import MethodInfo
from cartcohort.analyse.compare import anova, kruskal_wallis_test, mann_whitney_test, t_test
from cartcohort.analyse.contingency import chi_square_test, cochran_armitage_test, fisher_exact
from cartcohort.derive.kinetics import compare_infusions
from cartcohort.derive.toxicity.ctcae import (
    ae_grade_table,
    grade_clinical_aes,
    grade_lab_aes,
    worst_lab_aes,
)
from cartcohort.derive.toxicity.icaht import grade_icaht
from cartcohort.errors import CartcohortError, PlanError
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    present_levels,
    require_columns,
    require_groups,
    require_table,
)
from cartcohort.plan.context import Context
from cartcohort.plan.outputs import AnalysisOutput, FigureOutput, TableOutput
from cartcohort.plan.schema import AETable, Distribution, InfusionComparison, Listing, Table1
from cartcohort.render.figures.dynamics import plot_dynamics
from cartcohort.render.figures.groups import plot_group_values, plot_stacked_bars
from cartcohort.render.figures.icaht import plot_icaht_counts
from cartcohort.render.format import format_p, format_percent, round_half_up

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OVERALL = "Overall"


class _Test(Protocol):
    """A test result: p-value and how it was computed."""

    @property
    def p_value(self) -> float: ...

    @property
    def method(self) -> MethodInfo: ...


#: Expected cell count below which Fisher's exact test replaces chi-square (gtsummary).
MIN_EXPECTED = 5

#: Column names that look like direct identifiers (refused in listings).
IDENTIFIER_PATTERN = re.compile(
    r"(^|_)(first|last|given|family|sur|full|patient|maiden)?_?names?($|_)|initials|"
    r"mrn|medical_?record|record_?(number|no|id)|hospital_?(number|no|id)|chart_?(number|no)|"
    r"nhs|ssn|social_?security|national_?id|passport|insurance|"
    r"birth|dob|address|street|postcode|post_code|zip|phone|mobile|email|e_mail",
    re.IGNORECASE,
)


# ----------------------------------------------------------------------------------------
# Table 1
# ----------------------------------------------------------------------------------------


def _is_categorical(values: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(values.dtype)
        and not pd.api.types.is_bool_dtype(values.dtype)
        and str(values.dtype) != "boolean"
    )


def _is_yes_no(values: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(values.dtype) or str(values.dtype) == "boolean"


def _statistic(result: object) -> float:
    """The test statistic, NaN when the test has none (Fisher's exact test of r x c)."""
    value = getattr(result, "statistic", None)
    return float("nan") if value is None else float(value)


def _categorical_rows(
    data: pd.DataFrame, var: str, by: str | None, groups: list[str]
) -> list[dict[str, object]]:
    values = data[var]
    if _is_yes_no(values):
        shown = pd.Series(
            np.where(values.isna(), None, values.astype("object") == True),  # noqa: E712
            index=data.index,
            dtype="object",
        ).map({True: "yes", False: "no", None: None})
        levels: list[object] = ["yes"]
    else:
        shown = (
            values.astype("object")
            .where(values.notna(), None)
            .map(lambda v: None if v is None else str(v))
        )
        levels = [str(v) for v in present_levels(values)]
    rows = []
    for group in groups:
        sub = shown if group == OVERALL else shown[data[by] == group]
        total = int(sub.notna().sum())
        for level in levels:
            n = int((sub == level).sum())
            rows.append(
                {
                    "variable": var,
                    "level": level,
                    "group": group,
                    "summary": "n_percent",
                    "n": n,
                    "total": total,
                    "percent": n / total if total else np.nan,
                }
            )
        missing = int(sub.isna().sum())
        if missing:
            rows.append(
                {
                    "variable": var,
                    "level": "missing",
                    "group": group,
                    "summary": "n",
                    "n": missing,
                    "total": len(sub),
                }
            )
    return rows


def _continuous_rows(
    data: pd.DataFrame, var: str, by: str | None, groups: list[str], *, nonnormal: bool
) -> list[dict[str, object]]:
    values = pd.to_numeric(data[var], errors="coerce").astype("float64")
    rows = []
    for group in groups:
        sub = values if group == OVERALL else values[data[by] == group]
        v = sub.dropna()
        rows.append(
            {
                "variable": var,
                "level": "",
                "group": group,
                "summary": "median_iqr" if nonnormal else "mean_sd",
                "n": len(v),
                "total": len(sub),
                "mean": v.mean() if len(v) else np.nan,
                "sd": v.std() if len(v) > 1 else np.nan,
                "median": v.median() if len(v) else np.nan,
                "q1": v.quantile(0.25) if len(v) else np.nan,
                "q3": v.quantile(0.75) if len(v) else np.nan,
                "min": v.min() if len(v) else np.nan,
                "max": v.max() if len(v) else np.nan,
            }
        )
        missing = int(sub.isna().sum())
        if missing:
            rows.append(
                {
                    "variable": var,
                    "level": "missing",
                    "group": group,
                    "summary": "n",
                    "n": missing,
                    "total": len(sub),
                }
            )
    return rows


def _categorical_test(data: pd.DataFrame, var: str, by: str) -> tuple[_Test, str]:
    complete = data.dropna(subset=[var, by])
    counts = pd.crosstab(complete[var].astype(str), complete[by].astype(str))
    counts = counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        msg = "fewer than 2 levels with patients"
        raise Skip(msg)
    table = counts.to_numpy()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if (expected < MIN_EXPECTED).any():
        try:
            return fisher_exact(table), "Fisher's exact test"
        except CartcohortError as exc:
            return chi_square_test(table, correction=False), (
                f"chi-square test (Fisher's exact test not computable: {exc})"
            )
    return chi_square_test(table, correction=False), "chi-square test"


def _continuous_test(
    data: pd.DataFrame, var: str, by: str, n_groups: int, *, nonnormal: bool
) -> tuple[_Test, str]:
    frame = data.loc[:, [var, by]].dropna()
    frame[var] = pd.to_numeric(frame[var]).astype("float64")
    if n_groups == 2:
        if nonnormal:
            return mann_whitney_test(frame, value=var, by=by), "Mann–Whitney test"
        return t_test(frame, value=var, by=by, equal_var=True), "t-test"
    if nonnormal:
        return kruskal_wallis_test(frame, value=var, by=by), "Kruskal–Wallis test"
    return anova(frame, value=var, by=by), "one-way ANOVA"


def _table1_data(spec: Table1, ctx: Context) -> tuple[pd.DataFrame, list[str], list[str], int]:
    require_columns(ctx, spec.by)
    present = [v for v in spec.variables if ctx.has_column(v)]
    if not present:
        msg = (
            f"needs at least one of {', '.join(map(repr, spec.variables))}, which this "
            "cohort does not have"
        )
        raise Skip(msg)
    data = ctx.patients.loc[
        :, list(dict.fromkeys(["patient_id", *present, *([spec.by] if spec.by else [])]))
    ]
    groups = [OVERALL]
    n_out = 0
    if spec.by is not None:
        n_out = int(data[spec.by].isna().sum())
        data = data[data[spec.by].notna()].copy()
        levels = require_groups(data, spec.by, ctx=ctx)
        data[spec.by] = data[spec.by].astype(str)
        groups = [str(lv) for lv in levels] + [OVERALL]
    return data.reset_index(drop=True), present, groups, n_out


def run_table1(spec: Table1, ctx: Context) -> AnalysisOutput:
    """Baseline characteristics by group with the test per variable (see the module notes)."""
    data, present, groups, n_out = _table1_data(spec, ctx)
    rows: list[dict[str, object]] = []
    tests: list[dict[str, Any]] = []
    methods: dict[str, MethodInfo] = {}
    notes = []
    for var in present:
        categorical = _is_categorical(data[var])
        nonnormal = var in spec.nonnormal
        if categorical:
            rows += _categorical_rows(data, var, spec.by, groups)
        else:
            rows += _continuous_rows(data, var, spec.by, groups, nonnormal=nonnormal)
        if spec.by is None:
            continue
        try:
            if categorical:
                result, name = _categorical_test(data, var, spec.by)
            else:
                result, name = _continuous_test(
                    data, var, spec.by, len(groups) - 1, nonnormal=nonnormal
                )
        except (Skip, CartcohortError) as exc:
            notes.append(f"{var}: no test ({exc}).")
            continue
        tests.append(
            {
                "variable": var,
                "test": name,
                "statistic": _statistic(result),
                "p_value": float(result.p_value),
            }
        )
        methods.setdefault(name.split(" (")[0], result.method)
    table = pd.DataFrame(rows)
    test_frame = pd.DataFrame(tests, columns=["variable", "test", "statistic", "p_value"])
    ard = Ard(spec.id)
    stats = ["n", "total", "percent", "mean", "sd", "median", "q1", "q3", "min", "max"]
    for rec in table.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in stats if s in rec and pd.notna(rec[s])},
            group=rec["group"],
            variable=str(rec["variable"]),
            level=rec["level"],
        )
    for rec in tests:
        ard.add_many(
            {"statistic": rec["statistic"], "p_value": rec["p_value"]},
            variable=str(rec["variable"]),
            level="test",
        )
    absent = [v for v in spec.variables if v not in present]
    if absent:
        notes.append(f"Not in this cohort: {', '.join(absent)}.")
    significant = [
        f"{r['variable']} ({format_p(r['p_value'])})" for r in tests if r["p_value"] < 0.05
    ]
    summary = f"{len(present)} characteristics of {len(data)} patients"
    summary += f" by {ctx.title_of(spec.by)}" if spec.by else ""
    summary += (
        ". Differing at p < 0.05: " + ", ".join(significant) + "."
        if significant
        else "."
        if spec.by is None
        else ". No characteristic differs at p < 0.05."
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=" ".join([summary, *notes]),
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="table1",
                caption=spec.title,
                frame=table,
                formats={"percent": "percent", "n": "count", "total": "count"},
            ),
            *(
                (
                    TableOutput(
                        name="tests",
                        caption="Test per characteristic (see methods).",
                        frame=test_frame,
                        formats={"p_value": "p"},
                    ),
                )
                if tests
                else ()
            ),
        ),
        methods=tuple(methods.values()),
        n=len(data),
        n_excluded=n_out,
        exclusions=(f"{n_out} patient(s) without {spec.by}",) if n_out else (),
    )


# ----------------------------------------------------------------------------------------
# Distribution of a category across groups
# ----------------------------------------------------------------------------------------


def run_distribution(spec: Distribution, ctx: Context) -> AnalysisOutput:
    """Stacked bars of ``spec.category`` across ``spec.by`` with an optional test."""
    require_columns(ctx, spec.category, spec.by)
    data = ctx.patients.loc[:, ["patient_id", spec.category, spec.by]]
    keep = data.notna().all(axis=1)
    n_out = int((~keep).sum())
    data = data[keep].reset_index(drop=True)
    levels = require_groups(data, spec.by, ctx=ctx)
    values = data[spec.category]
    order = [str(v) for v in present_levels(values)]
    data[spec.category] = values.astype("object").map(str)
    counts = pd.crosstab(
        categorical(data[spec.by], levels, ordered=True),
        categorical(data[spec.category], order),
        dropna=False,
    )
    counts.index = pd.Index([str(i) for i in counts.index], name=spec.by)
    counts.columns = pd.Index([str(c) for c in counts.columns], name=None)
    ard = Ard(spec.id)
    totals = counts.sum(axis=1)
    for group, row in counts.iterrows():
        for level, n in row.items():
            ard.add("n", int(n), group=group, variable=spec.category, level=level)
            ard.add(
                "percent",
                n / totals[group] if totals[group] else np.nan,
                group=group,
                variable=spec.category,
                level=level,
            )
    test = _distribution_test(spec, counts)
    methods: tuple[MethodInfo, ...] = ()
    text = ""
    if test is not None:
        ard.add_many(
            {"statistic": _statistic(test), "p_value": float(test.p_value)},
            variable="test",
        )
        methods = (test.method,)
        text = f" {test.method.estimator}, {format_p(test.p_value)}."
    figure = FigureOutput(
        name=f"{spec.id}_bars",
        caption=f"{spec.title}.",
        draw=partial(
            plot_stacked_bars,
            data,
            by=spec.by,
            category=spec.category,
            order=order,
            by_order=levels,
            test=test,
            legend_title=ctx.title_of(spec.category),
            xlabel=ctx.title_of(spec.by),
        ),
    )
    parts = "; ".join(
        f"{g}: "
        + ", ".join(f"{lv} {format_percent(counts.loc[g, lv] / totals[g])}" for lv in order)
        for g in counts.index
        if totals[g]
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=f"{spec.category} by {ctx.title_of(spec.by)}: {parts}.{text}",
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="counts", caption=f"{spec.category} by {spec.by}", frame=counts.reset_index()
            ),
        ),
        figures=(figure,),
        methods=methods,
        n=len(data),
        n_excluded=n_out,
        exclusions=(f"{n_out} patient(s) without {spec.category} or {spec.by}",) if n_out else (),
    )


def _distribution_test(spec: Distribution, counts: pd.DataFrame) -> _Test | None:
    table = counts.loc[:, counts.sum(axis=0) > 0]
    if spec.test is None or table.shape[1] < 2:
        return None
    if spec.test == "trend":
        if table.shape[1] != 2:
            msg = (
                "the trend test needs a yes/no category; use compare_values with "
                "kruskal_wallis for an ordered category"
            )
            raise Skip(msg)
        return cochran_armitage_test(table.iloc[:, 1].to_numpy(), table.sum(axis=1).to_numpy())
    if spec.test == "chi_square":
        return chi_square_test(table.to_numpy(), correction=False)
    return fisher_exact(table.to_numpy())


# ----------------------------------------------------------------------------------------
# Listing
# ----------------------------------------------------------------------------------------


def identifier_columns(columns: list[str]) -> list[str]:
    """Columns whose names look like direct identifiers (``patient_id`` is allowed)."""
    return [c for c in columns if c != "patient_id" and IDENTIFIER_PATTERN.search(c)]


def run_listing(spec: Listing, ctx: Context) -> AnalysisOutput:
    """One row per patient with the chosen columns (never direct identifiers)."""
    refused = identifier_columns(spec.columns)
    if refused:
        msg = (
            f"listing {spec.id!r}: refusing column(s) {', '.join(map(repr, refused))}: they look "
            "like direct identifiers (names, record numbers, birth dates, contact details). "
            "Listings show the pseudonymous patient_id only; remove these columns from the plan."
        )
        raise PlanError(msg)
    present = [c for c in spec.columns if c in ctx.patients.columns and ctx.has_column(c)]
    absent = [c for c in spec.columns if c not in present]
    shown = [c for c in present if c != "patient_id"]
    if not shown:
        msg = (
            f"needs at least one of the columns {', '.join(map(repr, spec.columns))}, "
            "which this cohort does not have"
        )
        raise Skip(msg)
    frame = ctx.patients.loc[:, ["patient_id", *shown]].sort_values("patient_id")
    ard = Ard(spec.id)
    ard.add_many({"n": len(frame), "n_columns": len(shown)})
    note = f" Not in this cohort: {', '.join(absent)}." if absent else ""
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=f"{len(frame)} patients, {len(shown)} columns.{note}",
        ard=ard.frame(),
        tables=(
            TableOutput(name="listing", caption=spec.title, frame=frame.reset_index(drop=True)),
        ),
        methods=(
            MethodInfo(
                estimator="Patient listing",
                description="One row per patient, values as recorded or derived.",
            ),
        ),
        n=len(frame),
    )


# ----------------------------------------------------------------------------------------
# Adverse-event grade table (seed 002, Table 3)
# ----------------------------------------------------------------------------------------

_CRS_LABEL = ("Cytokine release syndrome", "Inflammation-related event")


def _before_next_infusion(frame: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Rows before each patient's second infusion ("after the first infusion", seed 002)."""
    if not ctx.cohort.has("infusions"):
        return frame
    inf = ctx.table("infusions")
    second = inf[inf["infusion"] == 2].set_index("patient_id")["day"]
    limit = frame["patient_id"].map(second)
    return frame[limit.isna() | (frame["day"] < limit)]


def _worst(spec: AETable, ctx: Context) -> pd.DataFrame:
    parts = []
    labs = _before_next_infusion(ctx.table("labs"), ctx) if ctx.cohort.has("labs") else None
    if labs is not None and not labs.empty:
        sex = ctx.patients.set_index("patient_id")["sex"] if ctx.has_column("sex") else None
        parts.append(
            grade_lab_aes(
                labs, version=spec.version, sex=sex.astype("object") if sex is not None else None
            )
        )
    if ctx.cohort.has("observations"):
        obs = _before_next_infusion(ctx.table("observations"), ctx)
        parts.append(grade_clinical_aes(obs, labs, version=spec.version))
    worst = (
        worst_lab_aes(pd.concat(parts, ignore_index=True))
        if parts
        else pd.DataFrame(columns=["patient_id", "label", "category", "grade"])
    )
    if ctx.has_column("crs_grade"):
        crs = ctx.patients.loc[ctx.patients["crs_grade"].notna(), ["patient_id", "crs_grade"]]
        worst = pd.concat(
            [
                worst.loc[:, ["patient_id", "label", "category", "grade"]],
                pd.DataFrame(
                    {
                        "patient_id": crs["patient_id"],
                        "label": _CRS_LABEL[0],
                        "category": _CRS_LABEL[1],
                        "grade": pd.array(crs["crs_grade"], dtype="Int64"),
                    }
                ),
            ],
            ignore_index=True,
        )
    return worst


#: ICAHT rows of the AE table: derived column -> (label, category). The N-ICAHT table is
#: UNVERIFIED (docs/methods/icaht.md) and its rows say so.
_ICAHT_ROWS = {
    "icaht_early_grade": "Early ICAHT, neutropenia (days 0-30; UNVERIFIED N-ICAHT table)",
    "icaht_late_grade": "Late ICAHT, neutropenia (after day 30; UNVERIFIED N-ICAHT table)",
    "t_icaht_early_grade": "Early ICAHT, thrombocytopenia (days 0-30; T-ICAHT)",
    "t_icaht_late_grade": "Late ICAHT, thrombocytopenia (days 31-100; T-ICAHT)",
}
_ICAHT_CATEGORY = "Haematotoxicity (ICAHT, EHA/EBMT)"


@dataclass(frozen=True)
class _IcahtCounts:
    """Draws ANC and platelets over time with the ICAHT thresholds (plot_icaht_counts); a
    picklable callable, so that the report can draw it in another process. The counts are
    graded again when the figure is drawn, with derive()'s inputs (its warnings are already
    in the dataset's)."""

    labs: pd.DataFrame
    events: pd.DataFrame | None
    treatments: pd.DataFrame | None
    patient_ids: tuple[object, ...]

    def __call__(self) -> Figure:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = grade_icaht(
                self.labs,
                events=self.events,
                treatments=self.treatments,
                patient_ids=list(self.patient_ids),
            )
        return plot_icaht_counts(result)  # the report's caption says what it shows


def _icaht_figure(spec: AETable, ctx: Context) -> tuple[FigureOutput, ...]:
    """The ICAHT counts figure when ICAHT rows are on and the labs hold ANC or platelets."""
    if not spec.icaht or not ctx.cohort.has("labs"):
        return ()
    labs = ctx.cohort.table("labs")
    ids = tuple(ctx.patients["patient_id"].tolist())
    labs = labs[labs["analyte"].isin(["anc", "platelets"]) & labs["patient_id"].isin(ids)]
    if labs.empty:
        return ()
    return (
        FigureOutput(
            name=f"{spec.id}_icaht_counts",
            caption=(
                f"ANC and platelets after infusion in {len(ids)} patients (median of the "
                "measured values per day where at least 3), with the ICAHT thresholds and the "
                "day-30 boundary between early and late ICAHT (EHA/EBMT; the N-ICAHT table is "
                "UNVERIFIED, docs/methods/icaht.md)."
            ),
            draw=_IcahtCounts(
                labs=labs.reset_index(drop=True),
                events=ctx.cohort.tables.get("events"),
                treatments=ctx.cohort.tables.get("treatments"),
                patient_ids=ids,
            ),
        ),
    )


def _icaht_rows(ctx: Context) -> pd.DataFrame:
    """Worst ICAHT grade per patient and phase, from the derived columns (grade_icaht)."""
    parts = []
    for column, label in _ICAHT_ROWS.items():
        if not ctx.has_column(column):
            continue
        rows = ctx.patients.loc[ctx.patients[column].notna(), ["patient_id", column]]
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": rows["patient_id"],
                    "label": label,
                    "category": _ICAHT_CATEGORY,
                    "grade": pd.array(rows[column], dtype="Int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def run_ae_table(spec: AETable, ctx: Context) -> AnalysisOutput:
    """Worst CTCAE grade per term after the first infusion, % of patients (seed 002 Table 3)."""
    if not (
        ctx.cohort.has("labs") or ctx.cohort.has("observations") or ctx.has_column("crs_grade")
    ):
        msg = (
            "needs the 'labs' or 'observations' table (or a crs_grade column), which this "
            "cohort does not have"
        )
        raise Skip(msg)
    with warnings.catch_warnings():
        # pandas' groupby(observed=...) deprecation inside the CTCAE grading is not a
        # statistical warning; keep it out of the report (reported to the lead).
        warnings.simplefilter("ignore", FutureWarning)
        worst = _worst(spec, ctx)
    icaht = _icaht_rows(ctx) if spec.icaht else pd.DataFrame()
    if not icaht.empty:
        worst = pd.concat(
            [worst.loc[:, ["patient_id", "label", "category", "grade"]], icaht], ignore_index=True
        )
    if worst.empty:
        msg = "no gradable adverse-event data after the first infusion"
        raise Skip(msg)
    n = len(ctx.patients)
    table = ae_grade_table(worst, n_patients=n)
    grade5 = worst[worst["grade"] == 5].groupby("label").size()
    table["n_grade_5"] = table["term"].map(grade5).fillna(0).astype(int)
    display = table.loc[:, ["category", "term", "n_patients"]].copy()
    for g in (1, 2, 3, 4, 5):
        display[f"n_grade_{g}"] = table[f"n_grade_{g}"]
        display[f"percent_grade_{g}"] = table[f"n_grade_{g}"] / n
    display["n_any"] = table["n_any"]
    display["percent_any"] = table["n_any"] / n
    display["n_not_gradable"] = table["n_not_gradable"]
    if not display["n_grade_5"].any():
        display = display.drop(columns=["n_grade_5", "percent_grade_5"])
    ard = Ard(spec.id)
    stats = [c for c in display.columns if c.startswith(("n_", "percent_"))]
    for rec in display.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in stats}, variable=str(rec["term"]), level=str(rec["category"])
        )
    top = display.sort_values("percent_any", ascending=False).head(3)
    summary = (
        f"Worst grade after the first infusion in {n} patients (CTCAE v{spec.version}); "
        "most frequent: "
        + "; ".join(
            f"{t} {format_percent(p)}" for t, p in zip(top["term"], top["percent_any"], strict=True)
        )
        + "."
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=summary,
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="ae_grades",
                caption=f"{spec.title} (% of {n} patients).",
                frame=display,
                formats={c: "percent" for c in display.columns if c.startswith("percent_")},
            ),
        ),
        figures=_icaht_figure(spec, ctx) if not icaht.empty else (),
        methods=(
            MethodInfo(
                estimator=f"CTCAE v{spec.version} worst grade",
                description=(
                    "Laboratory AEs graded by CTCAE from the labs table, fever and febrile "
                    "neutropenia from daily temperatures and the ANC, CRS from crs_grade "
                    "(the cohort's CRS grading), ICAHT rows from grade_icaht (EHA/EBMT; "
                    "N-ICAHT table UNVERIFIED) when icaht is on; "
                    "each patient counted once at the worst "
                    "grade after the first infusion and before any second infusion; "
                    "percentages of all patients, as seed 002 Table 3."
                ),
                options={"version": spec.version, "icaht": spec.icaht},
            ),
        ),
        n=n,
    )


# ----------------------------------------------------------------------------------------
# Expansion after successive infusions (seed 002, Fig. 3)
# ----------------------------------------------------------------------------------------


def run_infusion_comparison(spec: InfusionComparison, ctx: Context) -> AnalysisOutput:
    """CAR-T Cmax/AUC after each re-infusion against the infusion before it."""
    require_table(ctx, "kinetics")
    nca = ctx.dataset.kinetics
    if nca is None or nca.empty:
        msg = "needs CAR-T kinetics per infusion, which this cohort does not have"
        raise Skip(msg)
    nca = nca[nca["patient_id"].isin(set(ctx.patients["patient_id"]))]
    result = compare_infusions(nca)
    pairs = result.table
    if pairs.empty:
        msg = "no patient has kinetics after more than one infusion"
        raise Skip(msg)
    ids = set(pairs["patient_id"])
    multi = nca[nca["patient_id"].isin(ids)].copy()
    multi["infusion"] = pd.Categorical(
        multi["infusion"].astype(int).map(lambda i: f"#{i}"), ordered=True
    )
    ard = Ard(spec.id)
    for rec in pairs.to_dict(orient="records"):
        ard.add_many(
            {s: rec[s] for s in ("cmax", "cmax_previous", "cmax_ratio")},
            group=str(rec["patient_id"]),
            variable=f"infusion_{rec['infusion']}",
            level=f"vs_{rec['previous_infusion']}",
        )
    ratios = pairs["cmax_ratio"].dropna()
    lower = int((ratios < 1).sum())
    ard.add_many(
        {
            "n_pairs": len(pairs),
            "n_lower": lower,
            "median_ratio": float(ratios.median()) if len(ratios) else np.nan,
            "geometric_mean_ratio": float(np.exp(np.log(ratios[ratios > 0]).mean()))
            if (ratios > 0).any()
            else np.nan,
        },
        variable="cmax_ratio",
    )
    curves = _reinfusion_curves(ctx, ids)
    figures = [
        FigureOutput(
            name=f"{spec.id}_peaks",
            caption=f"{spec.title}: peak CAR-T level (Cmax) after each infusion, patients with "
            "more than one infusion.",
            draw=partial(
                plot_group_values, multi, value="cmax", by="infusion", log=True, ylabel="Cmax"
            ),
        )
    ]
    if curves is not None:
        figures.append(
            FigureOutput(
                name=f"{spec.id}_curves",
                caption=f"{spec.title}: CAR-T levels by days since each infusion (mean ± SEM).",
                draw=partial(
                    plot_dynamics,
                    curves,
                    value="value",
                    day="day_since",
                    by="infusion",
                    min_n=1,
                    xlabel="Days since this infusion",
                    ylabel="CAR-T level (as recorded)",
                ),
            )
        )
    summary = (
        f"{len(ids)} patients with more than one infusion ({len(pairs)} re-infusions): "
        f"Cmax was lower than after the previous infusion in {lower} of {len(ratios)}"
        + (f" (median ratio {round_half_up(float(ratios.median()), 2)})." if len(ratios) else ".")
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=summary,
        ard=ard.frame(),
        tables=(
            TableOutput(
                name="reinfusions", caption="Each re-infusion against the previous.", frame=pairs
            ),
        ),
        figures=tuple(figures),
        methods=(result.method,),
        n=len(ids),
        warnings=result.warnings,
    )


def _reinfusion_curves(ctx: Context, ids: set[object]) -> pd.DataFrame | None:
    if not ctx.cohort.has("infusions"):
        return None
    kin = ctx.table("kinetics")
    kin = kin[kin["patient_id"].isin(ids)]
    inf = (
        ctx.table("infusions")
        .loc[:, ["patient_id", "infusion", "day"]]
        .rename(columns={"day": "infusion_day"})
    )
    kin = kin.merge(inf, on=["patient_id", "infusion"], how="inner")
    kin["day_since"] = kin["day"] - kin["infusion_day"]
    kin = kin[(kin["day_since"] >= 0) & (kin["day_since"] <= 90)]
    kin["infusion"] = pd.Categorical(
        kin["infusion"].astype(int).map(lambda i: f"#{i}"), ordered=True
    )
    return kin.loc[:, ["patient_id", "infusion", "day_since", "value"]] if not kin.empty else None


__all__ = [
    "IDENTIFIER_PATTERN",
    "identifier_columns",
    "run_ae_table",
    "run_distribution",
    "run_infusion_comparison",
    "run_listing",
    "run_table1",
]
