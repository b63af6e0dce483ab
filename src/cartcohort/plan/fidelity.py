"""How faithfully each built-in plan reproduces its seed paper, analysis by analysis.

Each built-in plan has a fidelity file, ``plan/builtin/fidelity/<plan>.yaml``, with one
row per quantitative analysis the paper reports (table, figure panel, p-value in the
text): where it is in the paper (``paper``), the paper's method and definition
(``paper_method``), the plan analysis id or ids that do it (``analysis``, or null), a
``status`` and a ``note``. Status is one of

* ``same``: the plan uses the method and definition the paper states;
* ``differs``: the plan does it, differently (the note says how);
* ``not_reproducible``: no plan analysis does it (the note says why);
* ``supplementary``: a plan analysis the paper does not report (``paper`` is null).

``docs/seed-fidelity.md`` is :func:`fidelity_markdown`; tests check that it is current,
that every analysis of each plan appears in its fidelity file and that every analysis a
fidelity file names exists in the plan.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cartcohort.errors import PlanError
from cartcohort.plan.schema import BUILTIN_DIR, builtin_plans, load_plan

#: Folder of the fidelity files shipped with the package.
FIDELITY_DIR = BUILTIN_DIR / "fidelity"

#: The statuses a fidelity row may have, in the order the counts are shown.
STATUSES: tuple[str, ...] = ("same", "differs", "not_reproducible", "supplementary")

Status = Literal["same", "differs", "not_reproducible", "supplementary"]

_STATUS_LABELS = {
    "same": "same",
    "differs": "differs",
    "not_reproducible": "not reproducible",
    "supplementary": "supplementary",
}


class FidelityRow(BaseModel):
    """One analysis of the paper (or one supplementary plan analysis) and its status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paper: str | None
    paper_method: str | None
    analysis: tuple[str, ...] = ()
    status: Status
    note: str | None = None

    @field_validator("analysis", mode="before")
    @classmethod
    def _as_tuple(cls, v: object) -> object:
        if v is None:
            return ()
        if isinstance(v, str):
            return (v,)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FidelityRow:
        if self.status in ("differs", "not_reproducible") and not (self.note or "").strip():
            msg = f"status {self.status!r} needs a note saying how it differs or why"
            raise ValueError(msg)
        if self.status == "supplementary":
            if not self.analysis:
                msg = "a supplementary row names the plan analysis it is about"
                raise ValueError(msg)
            if self.paper is not None:
                msg = "a supplementary row is not in the paper: give paper: null"
                raise ValueError(msg)
        else:
            if not (self.paper or "").strip() or not (self.paper_method or "").strip():
                msg = f"status {self.status!r} needs the paper's location and method"
                raise ValueError(msg)
            if self.status == "not_reproducible" and self.analysis:
                msg = "a not_reproducible row names no plan analysis (analysis: null)"
                raise ValueError(msg)
        return self


class Fidelity(BaseModel):
    """The fidelity file of one built-in plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str
    paper: str
    rows: tuple[FidelityRow, ...]

    def counts(self) -> dict[str, int]:
        """Number of rows per status, every status present (zero when none)."""
        c: Counter[str] = Counter(r.status for r in self.rows)
        return {s: c[s] for s in STATUSES}

    def analysis_ids(self) -> set[str]:
        """Every plan analysis id the file names."""
        return {a for r in self.rows for a in r.analysis}


def load_fidelity(plan: str, *, directory: Path | None = None) -> Fidelity:
    """Read and validate the fidelity file of a built-in plan.

    Raises :class:`~cartcohort.errors.PlanError` naming the file, the row and the rule
    broken when the file is missing or malformed.
    """
    path = (directory or FIDELITY_DIR) / f"{plan}.yaml"
    if not path.is_file():
        msg = (
            f"Fidelity file {path.name!r} for plan {plan!r} does not exist; "
            f"add it to {path.parent}."
        )
        raise PlanError(msg)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Fidelity.model_validate(data)
    except yaml.YAMLError as exc:
        msg = f"{path.name}: not valid YAML ({exc})."
        raise PlanError(msg) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path.name}: {loc}: {err['msg']}")
        raise PlanError("\n".join(problems)) from None


def fidelity_problems(plan: str, *, directory: Path | None = None) -> list[str]:
    """Every way the fidelity file of ``plan`` disagrees with the plan (empty when none).

    Each plan analysis must appear in a row (supplementary when the paper does not report
    it), and each analysis a row names must exist in the plan.
    """
    fid = load_fidelity(plan, directory=directory)
    where = f"fidelity/{plan}.yaml"
    problems = []
    if fid.plan != plan:
        problems.append(f"{where}: plan is {fid.plan!r}; it must be {plan!r} (the file stem).")
    plan_ids = [a.id for a in load_plan(plan).analyses]
    listed = fid.analysis_ids()
    problems += [
        f"{where}: plan analysis {a!r} is in no row; add the paper analysis it reproduces, "
        "or a row with status supplementary."
        for a in plan_ids
        if a not in listed
    ]
    problems += [
        f"{where}: row names analysis {a!r}, which plan {plan!r} does not have; "
        "correct the id or remove it."
        for a in sorted(listed - set(plan_ids))
    ]
    return problems


def _cell(text: str | None) -> str:
    if text is None or not text.strip():
        return "—"
    return " ".join(text.split()).replace("|", "\\|")


def _ids(ids: tuple[str, ...]) -> str:
    return ", ".join(f"`{a}`" for a in ids) if ids else "—"


def counts_line(fidelity: Fidelity) -> str:
    """``same 7 · differs 8 · not reproducible 4 · supplementary 3`` for one plan."""
    return " · ".join(f"{_STATUS_LABELS[s]} {n}" for s, n in fidelity.counts().items())


def fidelity_markdown() -> str:
    """``docs/seed-fidelity.md``: every built-in plan's fidelity table, with counts."""
    lines = [
        "# How the built-in plans reproduce their seed papers",
        "",
        "Generated from `src/cartcohort/plan/builtin/fidelity/*.yaml` by",
        "`cartcohort.plan.fidelity.fidelity_markdown()`; a test checks that this page is",
        "current and that every analysis of each plan is listed.",
        "",
        "One row per quantitative analysis the paper reports (table, figure panel, p-value in",
        "the text), with the plan analysis that does it. Status: **same** (the method and",
        "definition the paper states), **differs** (the note says how), **not reproducible**",
        "(no plan analysis does it; the note says why), **supplementary** (a plan analysis",
        "the paper does not report). `L101` is line 101 of the seed paper's text.",
        "",
    ]
    for name in builtin_plans():
        fid = load_fidelity(name)
        lines += [
            f"## `{name}`",
            "",
            f"{fid.paper}.",
            "",
            f"**{counts_line(fid)}** ({len(fid.rows)} rows)",
            "",
            "| paper | paper's method and definition | plan analysis | status | note |",
            "|---|---|---|---|---|",
        ]
        for row in fid.rows:
            lines.append(
                f"| {_cell(row.paper)} | {_cell(row.paper_method)} | {_ids(row.analysis)} "
                f"| {_STATUS_LABELS[row.status]} | {_cell(row.note)} |"
            )
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "FIDELITY_DIR",
    "STATUSES",
    "Fidelity",
    "FidelityRow",
    "counts_line",
    "fidelity_markdown",
    "fidelity_problems",
    "load_fidelity",
]
