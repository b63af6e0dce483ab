"""Validate: raw tables -> a typed :class:`~cartcohort.model.cohort.Cohort`, or a report.

Every problem is reported at once (:class:`ValidationReport`), each with its file,
the row number the user sees in their spreadsheet, the column, the value, the rule
and a hint. Rules are listed in ``docs/validation-rules.md``.
"""

from __future__ import annotations

from cartcohort.validate.load import load_cohort, load_cohort_with_report, validate_cohort
from cartcohort.validate.report import Issue, ValidationReport
from cartcohort.validate.rules import ALIAS_TABLES, AliasTable

__all__ = [
    "ALIAS_TABLES",
    "AliasTable",
    "Issue",
    "ValidationReport",
    "load_cohort",
    "load_cohort_with_report",
    "validate_cohort",
]
