"""Helpers shared by the analysis kinds: requirements, ARD rows, group data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartcohort.ard import ARD_COLUMNS
from cartcohort.plan.context import Context


class Skip(Exception):
    """Raised by an analysis when the cohort lacks the data it needs (the reason is shown)."""


def source_column(ctx: Context, name: str) -> str:
    """The cohort column a plan name refers to (a group's source column, or itself)."""
    group = ctx.plan.groups.get(name)
    if group is not None:
        return group.cut.column if group.cut is not None else str(group.column)
    return name


def require_columns(ctx: Context, *names: str | None) -> None:
    """Skip unless every named column (or group) has at least one value in the population."""
    missing = []
    for name in names:
        if name is None:
            continue
        if not ctx.has_column(name):
            source = source_column(ctx, name)
            missing.append(source if source == name else f"{source} (for group {name!r})")
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


def require_groups(frame: pd.DataFrame, by: str, minimum: int = 2) -> list[object]:
    """Skip unless ``by`` has at least ``minimum`` groups with patients."""
    levels = present_levels(frame[by])
    if len(levels) < minimum:
        msg = (
            f"needs at least {minimum} groups of {by!r}; this cohort has "
            f"{len(levels)} ({', '.join(map(str, levels)) or 'none'})"
        )
        raise Skip(msg)
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
    "present_levels",
    "require_columns",
    "require_endpoint",
    "require_groups",
    "require_table",
    "source_column",
    "with_group",
]
