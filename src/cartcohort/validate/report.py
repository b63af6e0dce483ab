"""The validation report: every problem at once, located by file, row and column.

:class:`Issue` is defined in :mod:`cartcohort.ingest.readers` (the readers report
problems too, and a lower layer must not import a higher one) and re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._types import Severity
from cartcohort.ingest.readers import MAX_ROW_ISSUES, Issue

#: Columns of :meth:`ValidationReport.to_frame`, in order.
ISSUE_COLUMNS = (
    "severity",
    "rule",
    "file",
    "sheet",
    "table",
    "row",
    "column",
    "value",
    "message",
    "hint",
    "count",
    "cell",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """Every problem found while reading and validating a cohort.

    Attributes
    ----------
    issues
        Errors and warnings in the order they were found (reading, then each
        table's columns, then rules across tables).
    source
        The path that was validated (for the header of :meth:`render_text`).
    summary
        How much of the source was used: "N of M columns recognised; K patients; tables
        found: ..." (the last line of :meth:`render_text`).

    Notes
    -----
    ``ok`` is ``True`` when there is no error; warnings never block. Row-level
    problems are listed individually up to :data:`~cartcohort.ingest.readers.MAX_ROW_ISSUES`
    per rule and column; the rest are counted in one summary issue whose ``count``
    says how many rows it stands for, so :attr:`n_error_rows` is the full count.
    """

    issues: tuple[Issue, ...] = ()
    source: str = ""
    summary: str = ""

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The issues with severity ``"error"``."""
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues with severity ``"warning"``."""
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        """``True`` when there are no errors."""
        return not any(i.severity == "error" for i in self.issues)

    @property
    def n_errors(self) -> int:
        """Number of error issues (a summary of many rows counts once)."""
        return len(self.errors)

    @property
    def n_warnings(self) -> int:
        """Number of warning issues."""
        return len(self.warnings)

    @property
    def n_error_rows(self) -> int:
        """Number of problem rows behind the errors, including those only summarised."""
        return sum(i.count for i in self.errors)

    def rules(self, severity: Severity | None = None) -> tuple[str, ...]:
        """Distinct rule ids of the issues (of one severity if given), in order of first use."""
        seen = dict.fromkeys(i.rule for i in self.issues if severity in (None, i.severity))
        return tuple(seen)

    def to_frame(self) -> pd.DataFrame:
        """One row per issue with the columns in :data:`ISSUE_COLUMNS`."""
        frame = pd.DataFrame([asdict(i) for i in self.issues], columns=list(ISSUE_COLUMNS))
        return frame.astype({"row": "Int64", "count": "int64"})

    def to_dict(self) -> dict[str, object]:
        """The report as plain JSON-ready data: counts and the list of issues."""
        return {
            "source": self.source,
            "ok": self.ok,
            "n_errors": self.n_errors,
            "n_warnings": self.n_warnings,
            "n_error_rows": self.n_error_rows,
            "summary": self.summary,
            "issues": [asdict(i) for i in self.issues],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def render_text(self) -> str:
        """A readable report: a header line with the counts, then problems by file and table.

        Within each file and table, errors come before warnings; each problem is
        one line with its location, message, rule id and hint. The columns that are not
        columns of the standard (``extra.column``) are listed together in one line per
        table. The last line is :attr:`summary`.
        """
        lines = [self._headline()]
        groups: dict[tuple[str, str | None, str], list[Issue]] = {}
        for issue in self.issues:
            groups.setdefault((issue.file, issue.sheet, issue.table), []).append(issue)
        for (file, sheet, table), issues in groups.items():
            n_err = sum(1 for i in issues if i.severity == "error")
            n_warn = len(issues) - n_err
            where = file or "(cohort)"
            if sheet:
                where += f", sheet {sheet!r}"
            if table:
                where += f" (table {table})"
            lines.extend(("", f"{where}: {_count(n_err, 'error')}, {_count(n_warn, 'warning')}"))
            ordered = sorted(
                _group_extra(issues),
                key=lambda i: (i.severity != "error", i.row if i.row is not None else -1),
            )
            lines.extend(f"  {_line(i)}" for i in ordered)
        if self.summary:
            lines.extend(("", self.summary))
        return "\n".join(lines) + "\n"

    def _headline(self) -> str:
        source = f" {self.source}" if self.source else ""
        if not self.issues:
            return f"Validation of{source}: OK, no problems found."
        status = "OK" if self.ok else "FAILED"
        if self.ok and "source.coverage" in self.rules():
            status = "WARNING"
        extra = ""
        if self.n_error_rows != self.n_errors:
            extra = f" (affecting {self.n_error_rows} rows or files)"
        return (
            f"Validation of{source}: {status}: {_count(self.n_errors, 'error')}{extra}, "
            f"{_count(self.n_warnings, 'warning')}."
        )

    def __repr__(self) -> str:
        return f"ValidationReport(ok={self.ok}, errors={self.n_errors}, warnings={self.n_warnings})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


#: Columns named one by one in the grouped ``extra.column`` line; the rest are counted.
EXTRA_SHOWN = 12


def _group_extra(issues: Sequence[Issue]) -> list[Issue]:
    """The issues with every ``extra.column`` warning after the first folded into one."""
    extra = [i for i in issues if i.rule == "extra.column"]
    if len(extra) < 2:
        return list(issues)
    shown = []
    for issue in extra[:EXTRA_SHOWN]:
        _, _, guess = issue.message.partition("did you mean ")
        guess = guess.split("?")[0]
        label = repr(issue.value) if issue.value else str(issue.column)
        shown.append(f"{label} (did you mean {guess}?)" if guess else label)
    more = len(extra) - EXTRA_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    grouped = Issue(
        severity="warning",
        rule="extra.column",
        file=extra[0].file,
        sheet=extra[0].sheet,
        table=extra[0].table,
        message=f"{len(extra)} columns are not columns of the {extra[0].table} table and were "
        f"kept as extra columns (text, not analysed): {', '.join(shown)}{tail}.",
        hint=extra[0].hint,
        count=len(extra),
    )
    first = issues.index(extra[0])
    rest = [i for i in issues if i.rule != "extra.column"]
    return [*rest[:first], grouped, *rest[first:]]


def _line(issue: Issue) -> str:
    label = "ERROR  " if issue.severity == "error" else "WARNING"
    text = f"{label} {issue.location}: {issue.message.rstrip('.')} (rule {issue.rule})."
    if issue.hint:
        text += f" Hint: {issue.hint}"
    return text


# ---------------------------------------------------------------------------------------------
# Building issues located in one table (used by the column and cross-table rules)
# ---------------------------------------------------------------------------------------------
def rows_text(rows: Sequence[int], limit: int = 5) -> str:
    """``"rows 3, 5, 9 and 2 more"``."""
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


class TableIssues:
    """Collects issues located in one table, turning frame positions into user row numbers.

    Parameters
    ----------
    file, sheet, table
        Where the table came from.
    row_numbers
        The user-visible row number of each frame position.
    cells
        The source cell of each frame position (``"AB7"``) for a long table taken from
        wide blocks; empty otherwise.
    """

    def __init__(
        self,
        *,
        file: str,
        sheet: str | None,
        table: str,
        row_numbers: npt.NDArray[np.int64],
        cells: Sequence[str] = (),
    ) -> None:
        self.file = file
        self.sheet = sheet
        self.table = table
        self.row_numbers = row_numbers
        self.cells = cells
        self.issues: list[Issue] = []

    def row_of(self, position: int) -> int:
        """The user-visible row number of a frame position."""
        return int(self.row_numbers[position])

    def add(
        self,
        severity: Severity,
        rule: str,
        message: str,
        hint: str = "",
        *,
        position: int | None = None,
        column: str | None = None,
        value: str | None = None,
        count: int = 1,
    ) -> None:
        """Add one issue; ``position`` is a frame position (``None`` for a table-level issue)."""
        self.issues.append(
            Issue(
                severity=severity,
                rule=rule,
                file=self.file,
                sheet=self.sheet,
                table=self.table,
                row=None if position is None else self.row_of(position),
                column=column,
                value=value,
                message=message,
                hint=hint,
                count=count,
                cell=self.cells[position] if position is not None and self.cells else None,
            )
        )

    def per_row(
        self,
        severity: Severity,
        rule: str,
        positions: npt.NDArray[np.intp],
        *,
        column: str | None,
        message: Callable[[int], str],
        value: Callable[[int], str | None],
        hint: str,
        what: str,
    ) -> None:
        """One issue per offending row, up to ``MAX_ROW_ISSUES``, then one summary issue.

        Parameters
        ----------
        positions
            Frame positions of the offending rows (in row order).
        message, value
            Build the message and the value shown for a position.
        what
            The problem in a few words, for the summary ("values above the maximum 5").
        """
        if len(positions) == 0:
            return
        for pos in positions[:MAX_ROW_ISSUES].tolist():
            self.add(
                severity,
                rule,
                message(pos),
                hint,
                position=pos,
                column=column,
                value=value(pos),
            )
        rest = positions[MAX_ROW_ISSUES:]
        if len(rest):
            rows = [self.row_of(p) for p in rest[:5].tolist()]
            self.add(
                severity,
                rule,
                f"{len(rest)} more rows have {what} ({rows_text(rows)}"
                f"{'' if len(rest) <= 5 else ' ...'}); {len(positions)} rows in total.",
                hint,
                position=int(rest[0]),
                column=column,
                count=len(rest),
            )


__all__ = ["ISSUE_COLUMNS", "Issue", "TableIssues", "ValidationReport", "rows_text"]
