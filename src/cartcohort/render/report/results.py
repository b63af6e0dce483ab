"""``results.json``: every number at full precision under stable keys (see
``docs/report.md``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cartcohort._results import _version
from cartcohort.render.report import methods as m
from cartcohort.render.report.quality import _exclusion_groups, _rule_counts

if TYPE_CHECKING:
    from cartcohort.ard import AnalysisOutput, PlanResult
    from cartcohort.derive.dataset import AnalysisDataset
    from cartcohort.model.cohort import Cohort
    from cartcohort.validate.report import ValidationReport


def json_value(value: object) -> Any:
    """Return a JSON-ready copy of ``value``: floats kept exact, NaN/inf as ``None``.

    Parameters
    ----------
    value
        Numbers (Python or NumPy), strings, ``None``/``pd.NA``, mappings, sequences.

    Returns
    -------
    Any
        Plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [json_value(v) for v in items]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _ard_rows(ard: pd.DataFrame) -> list[dict[str, Any]]:
    keys = ("group", "variable", "level", "stat_name", "stat_value")
    if ard.empty:
        return []
    frame = ard.reindex(columns=list(keys))
    return [
        {k: json_value(v) for k, v in zip(keys, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _analysis_json(output: AnalysisOutput, files: Mapping[str, list[str]]) -> dict[str, Any]:
    return {
        "kind": output.kind,
        "title": output.title,
        "status": output.status,
        "reason": output.reason,
        "summary": output.summary,
        "n": output.n,
        "n_excluded": output.n_excluded,
        "exclusions": list(output.exclusions),
        "warnings": list(output.warnings),
        "methods": [method.to_dict() for method in output.methods],
        "results": _ard_rows(output.ard),
        "files": files.get(output.id, []),
    }


def _source_entries(cohort: Cohort | None) -> list[dict[str, str]]:
    if cohort is None:
        return []
    entries = [
        {"path": PurePath(s.path).name, "sha256": s.sha256, "tables": ",".join(s.tables)}
        for s in cohort.sources
    ]
    return sorted(entries, key=lambda e: (e["path"], e["sha256"]))


def results_payload(
    results: Sequence[PlanResult],
    *,
    cohort: Cohort | None = None,
    validation: ValidationReport | None = None,
    dataset: AnalysisDataset | None = None,
    files: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """Everything ``results.json`` holds, as plain data (see ``docs/report.md``).

    Parameters
    ----------
    results
        One result per plan.
    cohort, validation, dataset
        Optional: input files with their SHA-256, validation counts, derivation counts.
    files
        Plan -> analysis -> output files (relative paths) to record.

    Returns
    -------
    dict
        JSON-ready, full precision; NaN/inf as ``None``.
    """
    first = results[0]
    n_cohort = (
        cohort.n_patients
        if cohort is not None
        else (first.flow[0].n if first.flow else first.n_patients)
    )
    files = files or {}
    plans: dict[str, Any] = {}
    for r in results:
        plans[r.plan_name] = {
            "title": r.plan_title,
            "description": r.description,
            "reference": r.reference,
            "n_patients": r.n_patients,
            "flow": [
                {"label": s.label, "n": s.n, "excluded": [[why, k] for why, k in s.excluded]}
                for s in r.flow
            ],
            "analyses": {o.id: _analysis_json(o, files.get(r.plan_name, {})) for o in r.outputs},
        }
    payload: dict[str, Any] = {
        "cartcohort_version": _version(),
        "cohort": {
            "name": first.cohort_name,
            "synthetic": first.synthetic,
            "n_patients": n_cohort,
            "sources": _source_entries(cohort),
        },
        "plans": plans,
        "data_quality": _quality_json(validation, dataset),
        "software": _software_json(),
    }
    return json_value(payload)  # type: ignore[no-any-return]


def _software_json() -> dict[str, Any]:
    """The versions the numbers were computed with, and how they compare with the lock."""
    lock = m.lock_status()
    return {
        "versions": dict(m.software_versions()),
        "lock": lock.as_dict() if lock is not None else None,
    }


def _quality_json(
    validation: ValidationReport | None, dataset: AnalysisDataset | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if validation is not None:
        out["validation"] = {
            "n_errors": validation.n_errors,
            "n_warnings": validation.n_warnings,
            "by_rule": [
                {"rule": rule, "severity": sev, "count": count}
                for (rule, sev), count in _rule_counts(validation).items()
            ],
        }
    if dataset is not None:
        out["derivation"] = {
            "options": dict(dataset.options),
            "provenance": dataset.provenance.to_dict(orient="records"),
            "warnings": list(dataset.warnings),
            "endpoint_exclusions": [
                {"param": p, "reason": why, "n": n} for p, why, n, _ in _exclusion_groups(dataset)
            ],
        }
    return out


def write_results_json(payload: Mapping[str, Any], path: Path) -> Path:
    """Write ``payload`` as sorted, indented UTF-8 JSON with exact floats.

    Parameters
    ----------
    payload
        From :func:`results_payload`.
    path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8", newline="\n")
    return path
