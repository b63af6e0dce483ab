"""The data-quality section: validation issues, derivation provenance and exclusions,
assay flags and standard curves."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from cartcohort.render.report import methods as m
from cartcohort.render.report.redact import Redactor
from cartcohort.render.report.views import FigureView, _safe

if TYPE_CHECKING:
    from cartcohort.assay.quantify import QuantificationResult
    from cartcohort.derive.dataset import AnalysisDataset
    from cartcohort.model.cohort import Cohort
    from cartcohort.render.report.sections import _Writer
    from cartcohort.validate.report import ValidationReport


#: At most this many validation issues are shown in the HTML (all are in results.json).
MAX_ISSUES_SHOWN = 200


def _rule_counts(validation: ValidationReport) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for issue in validation.issues:
        key = (issue.rule, issue.severity)
        counts[key] = counts.get(key, 0) + max(int(issue.count or 1), 1)
    return dict(sorted(counts.items()))


def _exclusion_groups(dataset: AnalysisDataset) -> list[tuple[str, str, int, str]]:
    frame = dataset.endpoint_exclusions
    if frame is None or frame.empty:
        return []
    out = []
    for (param, reason), sub in frame.groupby(["param", "reason"], sort=True, observed=True):
        ids = ", ".join(sorted(str(i) for i in sub["patient_id"]))
        out.append((str(param), str(reason), len(sub), ids))
    return out


def _quality_view(
    validation: ValidationReport | None,
    dataset: AnalysisDataset | None,
    cohort: Cohort | None,
    redactor: Redactor,
) -> dict[str, Any]:
    view: dict[str, Any] = {"validation": None, "dataset": None, "assay_flags": []}
    if validation is not None:
        issues = []
        for issue in validation.issues[:MAX_ISSUES_SHOWN]:
            value = redactor.note(issue.value)
            message = redactor.note(issue.message)
            issues.append(
                {
                    "severity": issue.severity,
                    "rule": issue.rule,
                    "where": _issue_location(issue),
                    "value": value.text,
                    "message": message.text,
                    "hint": issue.hint,
                    "patients": "; ".join(p for p in (value.patients, message.patients) if p),
                }
            )
        view["validation"] = {
            "source": PurePath(validation.source).name if validation.source else "",
            "ok": validation.ok,
            "n_errors": validation.n_errors,
            "n_warnings": validation.n_warnings,
            "by_rule": [
                {"rule": r, "severity": s, "count": c}
                for (r, s), c in _rule_counts(validation).items()
            ],
            "issues": issues,
            "n_hidden": max(len(validation.issues) - MAX_ISSUES_SHOWN, 0),
        }
    if dataset is not None:
        view["dataset"] = {
            "provenance": dataset.provenance.to_dict(orient="records"),
            "exclusions": _exclusion_groups(dataset),
            "warnings": [redactor.note(w) for w in dataset.warnings],
        }
    if cohort is not None:
        view["assay_flags"] = _assay_flags(cohort)
    return view


def _issue_location(issue: Any) -> str:
    parts = []
    if issue.file:
        parts.append(PurePath(issue.file).name)
    if issue.table:
        parts.append(f"table {issue.table}")
    if issue.row is not None:
        parts.append(f"row {issue.row}")
    if issue.column:
        parts.append(f"column {issue.column}")
    return ", ".join(parts)


def _assay_flags(cohort: Cohort) -> list[dict[str, Any]]:
    """Count the assay quantification flags kept on the kinetics and labs rows."""
    rows: list[dict[str, Any]] = []
    for name in ("kinetics", "labs"):
        frame = cohort.tables.get(name)
        if frame is None or "flag" not in frame.columns or "fit_id" not in frame.columns:
            continue
        assay = frame[frame["fit_id"].notna() & (frame["fit_id"].astype(str) != "")]
        flags = assay["flag"].fillna("").astype(str).replace("", "in range")
        for flag, count in sorted(flags.value_counts().items()):
            rows.append({"table": name, "flag": flag, "n": int(count)})
    return rows


def _assay_views(assays: Sequence[QuantificationResult], writer: _Writer) -> list[dict[str, Any]]:
    from cartcohort.render.figures.assay import plot_standard_curve

    out = []
    for result in assays:
        for fit_id, fit in sorted(result.fits.items()):
            wells = result.wells[result.wells["fit_id"] == fit_id]
            views: list[FigureView] = []
            writer.add_figure(
                _safe("assay", fit_id),
                partial(plot_standard_curve, fit, wells),
                f"Standard curve {fit_id}.",
                views=views,
            )
            out.append(
                {
                    "fit_id": fit_id,
                    "model": fit.model,
                    "n": fit.n,
                    "r_squared": fit.r_squared,
                    "lloq": fit.lloq,
                    "uloq": fit.uloq,
                    "unit": fit.unit,
                    "accepted": fit.accepted,
                    "failures": list(fit.acceptance_failures),
                    "figures": views,
                    "footnote": m.method_footnote(fit.method),
                }
            )
    return out


def _patient_ids(dataset: AnalysisDataset | None, cohort: Cohort | None) -> list[str]:
    frames = []
    if dataset is not None:
        frames.append(dataset.patients)
    if cohort is not None and cohort.has("patients"):
        frames.append(cohort.patients)
    ids: set[str] = set()
    for frame in frames:
        if "patient_id" in frame.columns:
            ids.update(str(i) for i in frame["patient_id"].dropna())
    return sorted(ids)
