"""ValidationReport: counts, text rendering, JSON and frame output."""

from __future__ import annotations

import json

from cartcohort.validate import Issue, ValidationReport


def _issue(severity: str, rule: str, row: int | None, **kw: object) -> Issue:
    base: dict[str, object] = {
        "file": "data/patients.csv",
        "table": "patients",
        "column": "crs_grade",
        "value": "7",
        "message": "value '7' is above the maximum 5.",
        "hint": "CRS grades are 0-5.",
    }
    base.update(kw)
    return Issue(severity=severity, rule=rule, row=row, **base)  # type: ignore[arg-type]


REPORT = ValidationReport(
    issues=(
        _issue("warning", "coerced", 3, message="1 value(s) were read leniently."),
        _issue("error", "range.max", 7),
        _issue("error", "type.number", 9, count=12, message="12 more rows."),
        _issue(
            "warning",
            "file.encoding",
            None,
            column=None,
            value=None,
            file="data/labs.csv",
            table="labs",
            message="read as Latin-1.",
        ),
    ),
    source="data",
)


def test_counts_and_ok() -> None:
    assert not REPORT.ok
    assert (REPORT.n_errors, REPORT.n_warnings, REPORT.n_error_rows) == (2, 2, 13)
    assert REPORT.rules("error") == ("range.max", "type.number")
    assert ValidationReport().ok


def test_render_text_groups_by_file_with_errors_first() -> None:
    text = REPORT.render_text()
    lines = text.splitlines()
    assert lines[0] == (
        "Validation of data: FAILED: 2 errors (affecting 13 rows or files), 2 warnings."
    )
    assert "data/patients.csv (table patients): 2 errors, 1 warning" in text
    body = [ln.strip() for ln in lines if ln.startswith("  ")]
    assert body[0] == (
        "ERROR   patients.csv row 7, column crs_grade: value '7' is above the maximum 5 "
        "(rule range.max). Hint: CRS grades are 0-5."
    )
    assert body[2].startswith("WARNING patients.csv row 3, column crs_grade")
    assert body[3].startswith("WARNING labs.csv: read as Latin-1 (rule file.encoding)")


def test_render_text_when_clean() -> None:
    assert ValidationReport(source="x.csv").render_text() == (
        "Validation of x.csv: OK, no problems found.\n"
    )


def test_json_and_frame() -> None:
    data = json.loads(REPORT.to_json())
    assert data["ok"] is False
    assert data["n_errors"] == 2
    assert data["issues"][1]["rule"] == "range.max"
    assert data["issues"][1]["row"] == 7
    frame = REPORT.to_frame()
    assert list(frame.columns)[:3] == ["severity", "rule", "file"]
    assert frame["row"].tolist()[:3] == [3, 7, 9]
    assert len(frame) == 4


def test_docs_list_every_rule_id_and_alias_table() -> None:
    import re
    from pathlib import Path

    from cartcohort.validate import ALIAS_TABLES

    root = Path(__file__).resolve().parents[3]
    docs = (root / "docs" / "validation-rules.md").read_text(encoding="utf-8")
    prefixes = (
        "file|csv|header|row|sheet|source|table|type|range|required|extra"
        "|lab|mapping|day|duplicate|reference|time|logic|events|infusions"
    )
    pattern = re.compile(rf'"((?:{prefixes})\.[a-z_]+|vocabulary|coerced)",?\n')
    found: set[str] = set()
    for folder in ("ingest", "validate"):
        for path in (root / "src" / "cartcohort" / folder).glob("*.py"):
            found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    found |= {f"type.{t}" for t in ("number", "integer", "boolean", "date", "day")}
    assert len(found) > 40
    for rule in sorted(found):
        assert f"`{rule}`" in docs, rule
    for table in ALIAS_TABLES:
        assert f"`{table.name}`" in docs, table.name
