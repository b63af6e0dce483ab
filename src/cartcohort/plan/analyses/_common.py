"""Helpers shared by the analysis kinds: requirements, ARD rows, group data.

A requirement that fails raises :class:`Skip`. When the missing data are a derivation
that could not classify patients (a burden group, a grade on another scale), the reason
names the derivation, how many patients and the missing input, and how to fix it
(:func:`explain_missing`), rather than "this cohort does not have ...".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartcohort.ard import ARD_COLUMNS
from cartcohort.plan.context import Context


class Skip(Exception):
    """Raised by an analysis when the cohort lacks the data it needs (the reason is shown)."""


#: How each ``burden_reason`` of an ungrouped patient is told, by its beginning:
#: (who, what is missing and how to fix it).
_BURDEN_WHY: tuple[tuple[str, str, str], ...] = (
    (
        "not derivable: extramedullary_disease missing",
        "with < {cut} % blasts",
        "extramedullary_disease is missing; add it, or set definitions.burden.missing_emd "
        "(or definitions.burden.emd_makes_high: false to group by marrow blasts alone)",
    ),
    ("not derivable: bm_blasts_pct missing", "", "bm_blasts_pct is missing; add it"),
    (
        "not derivable: bm_blasts_pct 0 and mrd_pct missing",
        "with 0 % blasts",
        "mrd_pct is missing (MRD-positive or MRD-negative?); add it",
    ),
    (
        "no group: no detectable disease",
        "with 0 % blasts and MRD-negative",
        "they have no detectable disease, so belong to neither group",
    ),
)


def _patients(n: int) -> str:
    return f"{n} patient{'s' if n != 1 else ''}"


def explain_missing(ctx: Context, name: str) -> str:
    """Why patients of the population have no value of ``name`` (a group or column),
    when a derivation says so; "" when no derivation explains it."""
    source = source_column(ctx, name)
    if source in ctx.dataset.unavailable:
        return str(ctx.dataset.unavailable[source])
    column = name if name in ctx.patients.columns else source
    if column not in ctx.patients.columns:
        return ""
    missing = ctx.patients[column].isna()
    if source != "burden_group" or "burden_reason" not in ctx.patients or not missing.any():
        return ""
    cut = float(str(ctx.dataset.settings.get("burden_blasts_cut_pct", 5.0)))
    reasons = ctx.patients.loc[missing, "burden_reason"].astype("string").fillna("")
    parts = []
    for start, who, why in _BURDEN_WHY:
        n = int(reasons.str.startswith(start).sum())
        if n:
            whom = f" {who.format(cut=f'{cut:g}')}" if who else ""
            verb = "could not be grouped" if start.startswith("not") else "have no group"
            parts.append(f"{_patients(n)}{whom} {verb} by the tumour-burden rule: {why}")
    return "; ".join(parts)


def source_column(ctx: Context, name: str) -> str:
    """The cohort column a plan name refers to (a group's source column, or itself)."""
    group = ctx.plan.groups.get(name)
    if group is not None:
        return group.cut.column if group.cut is not None else str(group.column)
    return name


def explain_spec(spec: object, ctx: Context, said: str = "") -> str:
    """Derivations behind the columns an analysis names (its outcome, value, category,
    covariates ...) that left values missing, and the patients the endpoint derivation
    could not follow, with why; "" when none did or ``said`` already tells it."""
    names: list[str] = []
    for value in vars(spec).values() if hasattr(spec, "__dict__") else ():
        items = value if isinstance(value, list) else [value]
        names += [v for v in items if isinstance(v, str)]
    notes = []
    for name in dict.fromkeys(names):
        source = source_column(ctx, name) if name in ctx.plan.groups else name
        reason = ctx.dataset.unavailable.get(source)
        if reason and reason not in notes:
            notes.append(f"{source}: {reason}")
    endpoint = getattr(spec, "endpoint", None)
    if isinstance(endpoint, str) and f"the endpoint {endpoint}" not in said:
        notes += _endpoint_exclusions(ctx, endpoint)
    return "; ".join(notes)


def _endpoint_exclusions(ctx: Context, endpoint: str) -> list[str]:
    """ "N patients have no EFS: <reason>" for the population's endpoint exclusions."""
    param = ctx.plan.definitions.efs_endpoint if endpoint == "EFS" else endpoint
    excl = ctx.dataset.endpoint_exclusions
    if excl.empty or "param" not in excl:
        return []
    rows = excl[(excl["param"] == param) & excl["patient_id"].isin(set(ctx.patients["patient_id"]))]
    counts = rows["reason"].astype(str).value_counts()
    return [
        f"{_patients(int(n))} {'has' if n == 1 else 'have'} no {endpoint}: {why}"
        for why, n in counts.items()
    ]


def require_columns(ctx: Context, *names: str | None) -> None:
    """Skip unless every named column (or group) has at least one value in the population."""
    missing = []
    explained = []
    for name in names:
        if name is None:
            continue
        if not ctx.has_column(name):
            source = source_column(ctx, name)
            label = source if source == name else f"{source} (for group {name!r})"
            why = explain_missing(ctx, name)
            if why:
                explained.append(f"needs {label}, which no patient has: {why}")
            else:
                missing.append(label)
    if explained:
        raise Skip("; ".join(explained))
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        msg = f"needs {noun} {', '.join(repr(m) for m in missing)}, which this cohort does not have"
        raise Skip(msg)


def require_table(ctx: Context, table: str) -> None:
    """Skip unless the cohort has the detailed ``table``."""
    if not ctx.cohort.has(table):
        msg = f"needs the detailed {table!r} table, which this cohort does not have"
        raise Skip(msg)


def require_endpoint(ctx: Context, param: str) -> pd.DataFrame:
    """Endpoint rows of ``param`` in the population, or skip with the reason."""
    rows = ctx.endpoints[ctx.endpoints["param"] == param]
    if rows.empty:
        excl = ctx.dataset.endpoint_exclusions
        reasons = excl[excl["param"] == param]["reason"].value_counts()
        detail = f" ({reasons.index[0]})" if len(reasons) else ""
        msg = f"no patient could be given the endpoint {param}{detail}"
        raise Skip(msg)
    return rows


def with_group(ctx: Context, frame: pd.DataFrame, *names: str | None) -> pd.DataFrame:
    """Join patient-level columns (groups, covariates) onto a per-patient frame."""
    wanted = [n for n in dict.fromkeys(names) if n is not None and n not in frame.columns]
    if not wanted:
        return frame
    cols = ctx.patients[["patient_id", *wanted]]
    return frame.merge(cols, on="patient_id", how="left", validate="many_to_one")


def present_levels(series: pd.Series) -> list[object]:
    """Group levels in order, only those with at least one patient."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = set(series.dropna())
        return [c for c in series.cat.categories if c in used]
    return sorted(series.dropna().unique().tolist(), key=str)


def require_groups(
    frame: pd.DataFrame, by: str, minimum: int = 2, ctx: Context | None = None
) -> list[object]:
    """Skip unless ``by`` has at least ``minimum`` groups with patients; with ``ctx``,
    the reason says which patients a derivation could not group and why."""
    levels = present_levels(frame[by])
    if len(levels) < minimum:
        msg = (
            f"needs at least {minimum} groups of {by!r}; this cohort has "
            f"{len(levels)} ({', '.join(map(str, levels)) or 'none'})"
        )
        why = explain_missing(ctx, by) if ctx is not None else ""
        raise Skip(f"{msg}: {why}" if why else msg)
    return levels


@dataclass
class Ard:
    """Builder of long ARD rows for one analysis."""

    analysis: str
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        stat_name: str,
        value: object,
        *,
        group: object = "",
        variable: str = "",
        level: object = "",
    ) -> None:
        """One number (kept at full precision; NaN stays NaN)."""
        if isinstance(value, np.generic):
            value = value.item()
        self.rows.append(
            {
                "plan": "",
                "analysis": self.analysis,
                "group": "" if group is None else str(group),
                "variable": variable,
                "level": "" if level is None else str(level),
                "stat_name": stat_name,
                "stat_value": value,
            }
        )

    def add_many(self, values: Mapping[str, object], **keys: object) -> None:
        """Several numbers sharing the same keys."""
        for name, value in values.items():
            self.add(name, value, **keys)  # type: ignore[arg-type]

    def add_frame(self, frame: pd.DataFrame, *, keys: Iterable[str], stats: Iterable[str]) -> None:
        """Rows of a tidy frame: ``keys`` become group/variable/level, ``stats`` the numbers."""
        key_list = list(keys)
        for record in frame.to_dict(orient="records"):
            ids = {k: record[k] for k in key_list}
            for stat in stats:
                self.add(stat, record[stat], **ids)

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with the ARD columns."""
        return pd.DataFrame(self.rows, columns=list(ARD_COLUMNS))


__all__ = [
    "Ard",
    "Skip",
    "explain_missing",
    "explain_spec",
    "present_levels",
    "require_columns",
    "require_endpoint",
    "require_groups",
    "require_table",
    "source_column",
    "with_group",
]
