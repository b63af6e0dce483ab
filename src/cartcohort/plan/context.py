"""The data an analysis sees: the plan's population with its group columns.

:func:`build_context` applies the plan's population filters to the analysis dataset
(recording each exclusion for the CONSORT-style flow), adds one column per plan
group (an ordered Categorical named after the group, carrying display labels), and
restricts the endpoint and detailed tables to the population. The plan's
``definitions`` choose which derived endpoint its EFS is (with non-response, or
progression/relapse or death only: the derived PFS), and :func:`restrict` narrows the
context to an analysis's own ``population``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cartcohort._pandas import categorical
from cartcohort.ard import FlowStep
from cartcohort.derive.dataset import DERIVED_TITLES, AnalysisDataset
from cartcohort.errors import PlanError
from cartcohort.model.cohort import Cohort
from cartcohort.model.standard import PATIENTS
from cartcohort.plan.schema import Filter, Group, Plan

_PATIENT_COLUMNS = frozenset(c.name for c in PATIENTS.columns)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Inputs of every analysis of one plan run."""

    plan: Plan
    cohort: Cohort
    dataset: AnalysisDataset
    patients: pd.DataFrame
    endpoints: pd.DataFrame
    flow: tuple[FlowStep, ...]
    group_titles: dict[str, str]

    def table(self, name: str) -> pd.DataFrame:
        """A detailed cohort table restricted to the population (empty if absent)."""
        frame = self.cohort.table(name)
        ids = set(self.patients["patient_id"])
        return frame[frame["patient_id"].isin(ids)].reset_index(drop=True)

    def has_column(self, name: str) -> bool:
        """Whether the population has ``name`` with at least one value."""
        return name in self.patients.columns and bool(self.patients[name].notna().any())

    def title_of(self, name: str) -> str:
        """Display title of a group or column: the plan's title of a group, else the data
        standard's label with its unit ("Peak IL-6 (pg/mL)"), else the name with spaces."""
        if name in self.group_titles:
            return self.group_titles[name]
        if name in _PATIENT_COLUMNS:
            return PATIENTS.column(name).title
        if name in ("severe_crs", "severe_neurotoxicity"):
            d = self.plan.definitions
            return (
                f"Severe CRS (grade ≥ {d.severe_crs_min_grade})"
                if name == "severe_crs"
                else f"Severe neurotoxicity (seizure or ICANS grade ≥ {d.severe_icans_min_grade})"
            )
        if name in DERIVED_TITLES:
            return DERIVED_TITLES[name]
        base = name.removeprefix("log10_")
        if base != name and base in _PATIENT_COLUMNS:  # a covariate entered as log10
            return f"{PATIENTS.column(base).title}, log10"
        return name.replace("_", " ")


def _filter_mask(frame: pd.DataFrame, f: Filter) -> tuple[pd.Series, str]:
    if f.column not in frame.columns:
        msg = f"population filter on {f.column!r}: the cohort has no such column"
        raise PlanError(msg)
    col = frame[f.column]
    mask = pd.Series(data=True, index=frame.index)
    parts = []
    values = col.astype("object")
    if f.in_ is not None:
        mask &= values.isin(f.in_)
        parts.append(f"{f.column} in {f.in_}")
    if f.not_in is not None:
        mask &= ~values.isin(f.not_in) & col.notna()
        parts.append(f"{f.column} not in {f.not_in}")
    if f.equals is not None:
        mask &= values == f.equals
        parts.append(f"{f.column} = {f.equals}")
    numeric = (
        pd.to_numeric(col, errors="coerce") if (f.min is not None or f.max is not None) else None
    )
    if f.min is not None and numeric is not None:
        mask &= numeric >= f.min
        parts.append(f"{f.column} >= {f.min:g}")
    if f.max is not None and numeric is not None:
        mask &= numeric <= f.max
        parts.append(f"{f.column} <= {f.max:g}")
    if f.present is not None:
        mask &= col.notna() if f.present else col.isna()
        parts.append(f"{f.column} {'recorded' if f.present else 'not recorded'}")
    return mask.fillna(value=False).astype(bool), f.label or " and ".join(parts)


def _group_column(frame: pd.DataFrame, key: str, g: Group) -> pd.Series:
    if g.cut is not None:
        if g.cut.column not in frame.columns:
            return pd.Series(pd.NA, index=frame.index, dtype="object")
        values = pd.to_numeric(frame[g.cut.column], errors="coerce").astype("float64")
        edges = [-np.inf, *g.cut.breaks, np.inf]
        labels = g.cut.labels or _cut_labels(g.cut.breaks)
        if len(labels) != len(edges) - 1:
            msg = f"group {key!r}: {len(edges) - 1} intervals need {len(edges) - 1} labels"
            raise PlanError(msg)
        return pd.cut(values, bins=edges, labels=labels, right=False, ordered=True)
    if g.column is None:
        msg = f"group {key!r} needs `column` or `cut`"
        raise PlanError(msg)
    if g.column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="object")
    source = frame[g.column]
    values = source.astype("object").where(source.notna(), None)
    if g.levels is not None:
        levels = list(g.levels)
    elif isinstance(source.dtype, pd.CategoricalDtype):
        levels = [c for c in source.cat.categories if c in set(values.dropna())]
    else:
        levels = sorted(values.dropna().unique().tolist(), key=str)
    display = g.labels or {}
    shown = [display.get(str(lv), str(lv)) for lv in levels]
    mapping = {lv: display.get(str(lv), str(lv)) for lv in levels}
    # Booleans written as yes/no in YAML arrive as True/False: match either spelling.
    mapped = values.map(lambda v: mapping.get(v, mapping.get(str(v))) if v is not None else None)
    return pd.Series(categorical(mapped, shown, ordered=True), index=frame.index)


def _cut_labels(breaks: list[float]) -> list[str]:
    labels = [f"<{breaks[0]:g}"]
    labels += [f"{a:g}-<{b:g}" for a, b in itertools.pairwise(breaks)]
    labels.append(f">={breaks[-1]:g}")
    return labels


def _efs_as(patients: pd.DataFrame, endpoints: pd.DataFrame, param: str) -> pd.DataFrame:
    """Make the plan's EFS the derived ``param`` (PFS: progression/relapse or death)."""
    if param == "EFS":
        return endpoints
    key = param.lower()
    for suffix in ("days", "event"):
        if f"{key}_{suffix}" in patients:
            patients[f"efs_{suffix}"] = patients[f"{key}_{suffix}"]
    efs = endpoints[endpoints["param"] == param].assign(param="EFS")
    return pd.concat([endpoints[endpoints["param"] != "EFS"], efs], ignore_index=True)


def restrict(ctx: Context, filters: Sequence[Filter]) -> tuple[Context, str]:
    """The context of an analysis with its own ``population``, and a sentence saying who
    it keeps ("Patients of this analysis: best_response in ['CR', 'CRi'] (86 of 93)")."""
    patients = ctx.patients
    texts = []
    for f in filters:
        mask, text = _filter_mask(patients, f)
        texts.append(text)
        patients = patients[mask].reset_index(drop=True)
    ids = set(patients["patient_id"])
    endpoints = ctx.endpoints[ctx.endpoints["patient_id"].isin(ids)].reset_index(drop=True)
    note = f"Patients of this analysis: {'; '.join(texts)} ({len(patients)} of {len(ctx.patients)})"
    return replace(ctx, patients=patients, endpoints=endpoints), note


def build_context(plan: Plan, cohort: Cohort, dataset: AnalysisDataset) -> Context:
    """Apply the population filters and add the group columns."""
    patients = dataset.patients.copy()
    all_endpoints = _efs_as(patients, dataset.endpoints, plan.definitions.efs_endpoint)
    flow = [FlowStep(label="Patients in the cohort", n=len(patients))]
    excluded: list[tuple[str, int]] = []
    for f in plan.population:
        mask, text = _filter_mask(patients, f)
        dropped = int((~mask).sum())
        if dropped:
            excluded.append((f"not {text}" if not f.label else f.label, dropped))
        patients = patients[mask].reset_index(drop=True)
    if plan.population:
        flow.append(FlowStep(label="Patients analysed", n=len(patients), excluded=tuple(excluded)))
    titles: dict[str, str] = {}
    for key, g in plan.groups.items():
        patients[key] = _group_column(patients, key, g)
        titles[key] = g.title or key.replace("_", " ")
    ids = set(patients["patient_id"])
    endpoints = all_endpoints[all_endpoints["patient_id"].isin(ids)].reset_index(drop=True)
    return Context(
        plan=plan,
        cohort=cohort,
        dataset=dataset,
        patients=patients,
        endpoints=endpoints,
        flow=tuple(flow),
        group_titles=titles,
    )


__all__ = ["Context", "build_context", "restrict"]
