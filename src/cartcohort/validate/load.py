"""The validation pipeline: raw tables -> column rules -> cross-table rules -> typed Cohort."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cartcohort.errors import ValidationError
from cartcohort.ingest.mapping import ColumnMapping
from cartcohort.ingest.readers import Issue, RawCohort, RawTable, read_source
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import PATIENTS, TABLE_BY_NAME, TABLES
from cartcohort.validate.crosstable import check_crosstable
from cartcohort.validate.report import ValidationReport
from cartcohort.validate.rules import CheckedTable, check_table


def _anchors(patients: CheckedTable | None) -> pd.Series | None:
    """patient_id -> infusion_date (first row of each patient with a date)."""
    if patients is None or not {"patient_id", "infusion_date"} <= set(patients.frame.columns):
        return None
    frame = patients.frame[["patient_id", "infusion_date"]].dropna()
    frame = frame.assign(patient_id=frame["patient_id"].astype(str).str.strip())
    return frame.drop_duplicates("patient_id").set_index("patient_id")["infusion_date"]


def _patients_from_ids(checked: Mapping[str, CheckedTable], source: str) -> CheckedTable:
    """A patients table holding only the patient_ids found in the other tables."""
    ids: list[str] = []
    for table in checked.values():
        if "patient_id" in table.frame.columns:
            ids.extend(str(v) for v in table.frame["patient_id"].dropna().tolist())
    unique = list(dict.fromkeys(ids))
    frame = pd.DataFrame({"patient_id": pd.Series(unique, dtype=object)})
    return CheckedTable(
        name="patients",
        spec=PATIENTS,
        frame=frame,
        row_numbers=np.arange(2, len(unique) + 2, dtype=np.int64),
        source=source,
        sheet=None,
        extra_columns=(),
        issues=(),
    )


def _source_label(raw: RawCohort) -> str:
    return raw.path or raw.name


def _unknown_table(raw: RawTable) -> Issue:
    return Issue(
        severity="warning",
        rule="table.unknown",
        file=raw.source,
        sheet=raw.sheet,
        table=raw.name,
        message=f"table {raw.name!r} is not a table of the standard and was not validated.",
        hint="Use one of: " + ", ".join(t.name for t in TABLES) + ".",
    )


#: A source this wide with fewer than half its columns recognised gets ``source.coverage``.
COVERAGE_MIN_COLUMNS = 8
#: Outcome columns of the patients table; an analysis plan needs at least one group.
OUTCOME_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "response": ("best_response", "mrd_negative"),
    "toxicity": ("crs_grade", "icans_grade"),
    "survival": ("death", "death_day", "last_followup_day", "relapse"),
}


def _coverage(
    raw: RawCohort, checked: Mapping[str, CheckedTable], source: str
) -> tuple[str, list[Issue]]:
    """The summary line ("N of M columns recognised; ...") and warnings when too little was
    recognised for an analysis."""
    total = sum(c.total for c in raw.columns)
    recognised = sum(c.recognised for c in raw.columns)
    ignored = sum(c.ignored for c in raw.columns)
    patients = checked.get("patients")
    n_patients = len(patients.frame) if patients is not None else 0
    found = ", ".join(f"{n} ({len(t.frame)} rows)" for n, t in checked.items()) or "none"
    left_out = f" ({ignored} left out by the mapping)" if ignored else ""
    summary = (
        f"{recognised} of {total} columns recognised{left_out}; {n_patients} patients; "
        f"tables found: {found}."
    )
    issues: list[Issue] = []
    if patients is None or not checked:
        return summary, issues
    present = set(patients.frame.columns) & set(PATIENTS.column_names)
    tables = set(checked) - {"patients"}
    usable = [k for k, cols in OUTCOME_COLUMNS.items() if present & set(cols)]
    summary += (
        f" Outcomes recognised: {', '.join(usable)}."
        if usable
        else " No outcome column recognised (best_response, crs_grade, death ...): the "
        "analysis plans have nothing to analyse."
    )
    problems: list[str] = []
    if not present and not tables:
        problems.append("no column was recognised")
    elif present <= {"patient_id"} and not tables:
        problems.append("the patient rows have an identifier and nothing else recognised")
    if total >= COVERAGE_MIN_COLUMNS and recognised + ignored < total / 2:
        problems.append(
            f"only {recognised} of {total} columns were recognised"
            + ("" if usable else ", and no outcome column (best_response, crs_grade, death ...)")
        )
    if problems:
        issues.append(
            Issue(
                severity="warning",
                rule="source.coverage",
                file=source,
                table="patients",
                message="; ".join(problems) + ".",
                hint="Map the centre's headers to the standard's columns: `cartcohort map "
                "suggest FILE > mapping.yaml` writes a starting mapping to edit, then "
                "validate with --mapping mapping.yaml.",
                count=max(total - recognised - ignored, 1),
            )
        )
    return summary, issues


def validate_cohort(
    raw: RawCohort, *, allow_identifiers: Iterable[str] = ()
) -> tuple[Cohort | None, ValidationReport]:
    """Check every rule on a raw cohort and build the typed cohort when there is no error.

    Parameters
    ----------
    raw
        Tables as read by :func:`cartcohort.ingest.read_source` (or
        :func:`cartcohort.ingest.read_frames`).
    allow_identifiers
        Columns outside the standard that look like direct identifiers (names, record
        numbers, dates of birth, contact details ...; HIPAA Safe Harbor, see
        :mod:`cartcohort.validate.identifiers`) and are kept anyway, by name or header.
        Any other such column is an ``extra.identifier`` error.

    Returns
    -------
    cohort : Cohort or None
        The typed cohort (patients first, canonical values, converted lab units,
        extra columns kept as text, row order preserved), or ``None`` when the
        report has errors.
    report : ValidationReport
        Every problem found while reading and validating.

    Notes
    -----
    Never raises for problems in the data: every problem becomes an issue. When
    the source has no patients table, one is built from the ``patient_id`` values
    of the other tables, with a ``reference.no_patients`` warning.
    """
    issues: list[Issue] = list(raw.issues)
    allow = tuple(allow_identifiers)
    source = _source_label(raw)
    known = {name: t for name, t in raw.tables.items() if name in TABLE_BY_NAME}
    issues.extend(_unknown_table(t) for name, t in raw.tables.items() if name not in known)
    checked: dict[str, CheckedTable] = {}
    patients_raw = known.get("patients")
    if patients_raw is not None and patients_raw.n_rows > 0:
        checked["patients"] = check_table(patients_raw, allow_identifiers=allow)
    anchors = _anchors(checked.get("patients"))
    for spec in TABLES:
        table = known.get(spec.name)
        if spec.name != "patients" and table is not None:
            checked[spec.name] = check_table(table, anchors=anchors, allow_identifiers=allow)
    for checked_table in checked.values():
        issues.extend(checked_table.issues)
    if "patients" not in checked and checked:
        built = _patients_from_ids(checked, source)
        checked = {"patients": built, **checked}
        issues.append(
            Issue(
                severity="warning",
                rule="reference.no_patients",
                file=source,
                table="patients",
                message=f"there is no patients table; the {len(built.frame)} patients were "
                "taken from the patient_id values of the other tables.",
                hint="Add a patients table (patients.csv or a 'patients' sheet) with one row "
                "per patient to analyse baseline characteristics and outcomes.",
            )
        )
    if checked:
        issues.extend(check_crosstable(checked))
    summary, coverage = _coverage(raw, checked, source)
    issues.extend(coverage)
    report = ValidationReport(issues=tuple(issues), source=source, summary=summary)
    if not report.ok or not checked:
        return None, report
    cohort = Cohort(
        tables={name: apply_dtypes(t.spec, t.frame) for name, t in checked.items()},
        name=raw.name,
        synthetic=raw.synthetic,
        sources=raw.sources,
        extra_columns={name: t.extra_columns for name, t in checked.items() if t.extra_columns},
    )
    return cohort, report


def load_cohort_with_report(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    allow_identifiers: Iterable[str] = (),
) -> tuple[Cohort, ValidationReport]:
    """Read and validate a cohort; return it with its report (warnings included).

    Parameters
    ----------
    path
        A file or folder (see :func:`cartcohort.ingest.read_source`).
    mapping
        A column mapping, or the path of a mapping YAML.
    allow_identifiers
        Extra columns that look like direct identifiers to keep (see
        :func:`validate_cohort`).

    Returns
    -------
    cohort : Cohort
        The validated, typed cohort.
    report : ValidationReport
        The report; it has warnings only.

    Raises
    ------
    IngestError
        ``path`` does not exist or has an unsupported type, or the mapping is invalid.
    ValidationError
        The data break at least one rule; ``error.report`` holds every problem.
    """
    raw = read_source(path, mapping=mapping)
    cohort, report = validate_cohort(raw, allow_identifiers=allow_identifiers)
    if cohort is None:
        errors = sorted(report.errors, key=lambda i: (i.row is not None, i.row or 0))
        first = errors[0] if errors else None
        detail = f" First: {first.location}: {first.message}" if first else ""
        msg = (
            f"{Path(path)}: {report.n_errors} error(s) and {report.n_warnings} warning(s); "
            f"the cohort was not loaded.{detail} Run `cartcohort validate {path}` for the "
            "full report."
        )
        raise ValidationError(msg, report)
    return cohort, report


def load_cohort(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | os.PathLike[str] | None = None,
    allow_identifiers: Iterable[str] = (),
) -> Cohort:
    """Read and validate a cohort (see :func:`load_cohort_with_report`).

    Raises
    ------
    IngestError
        ``path`` does not exist or has an unsupported type, or the mapping is invalid.
    ValidationError
        The data break at least one rule; ``error.report`` holds every problem.
    """
    return load_cohort_with_report(path, mapping=mapping, allow_identifiers=allow_identifiers)[0]


__all__ = ["load_cohort", "load_cohort_with_report", "validate_cohort"]
