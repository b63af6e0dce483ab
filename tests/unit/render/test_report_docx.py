"""report.docx: editable Word tables, figures with captions, no listings, byte-identical."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

import cartcohort as cc
from cartcohort.cli import app
from cartcohort.derive.dataset import derive
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan
from cartcohort.render.report import write_report
from cartcohort.validate import load_cohort_with_report

PLAN = """\
name: small
title: Small report plan
reference: "Test reference, 2021"
groups:
  burden:
    column: burden_group
    levels: [low, high]
    labels: {low: Low burden, high: High burden}
analyses:
  - {id: cr, type: compare_proportions, title: CR by burden, outcome: responder, by: burden}
  - {id: os, type: survival, title: OS by burden, endpoint: OS, by: burden}
  - {id: crs, type: listing, title: Patients with CRS, columns: [crs_grade]}
  - {id: nothing, type: compare_values, title: Absent value, value: no_such_column, by: burden}
"""


def _write(out: Path) -> Path:
    cohort, validation = load_cohort_with_report(cc.demo_path("synthetic"))
    dataset = derive(cohort)
    results = [run_plan(parse_plan(PLAN), cohort, dataset=dataset)]
    write_report(
        results, out, validation=validation, dataset=dataset, cohort=cohort, jobs=1, docx=True
    )
    return out / "report.docx"


@pytest.fixture(scope="module")
def docx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("docx"))


def _texts(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return paragraphs, tables


def test_tables_are_editable_word_tables_with_captions(docx_path: Path) -> None:
    paragraphs, tables = _texts(docx_path)
    captions = [p for p in paragraphs if p.startswith("Table ")]
    # the computed analyses' tables (CR by burden, OS by burden), plus "not computed"
    assert len(captions) >= 2
    assert any("CR by burden" in p or "Response" in p or "burden" in p for p in captions)
    assert len(tables) >= len(captions) + 1  # + the "not computed" table
    first = tables[0]
    assert len(first) >= 2
    assert all(len(row) == len(first[0]) for row in first)
    assert any(cell.strip() for row in first[1:] for cell in row)  # real values, not a picture


def test_figures_are_embedded_with_numbered_captions(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    assert len(doc.inline_shapes) >= 1  # the KM figure
    paragraphs = [p.text for p in doc.paragraphs]
    assert any(p.startswith("Figure 1. ") for p in paragraphs)


def test_skipped_analyses_are_listed_and_listings_left_out(docx_path: Path) -> None:
    paragraphs, tables = _texts(docx_path)
    not_computed = tables[-1]
    assert not_computed[0] == ["Analysis", "Plan", "Status", "Reason"]
    assert any("Absent value" in row[0] and "no_such_column" in row[3] for row in not_computed)
    # the patient listing is in the HTML report, not in the Word document
    cohort, _ = load_cohort_with_report(cc.demo_path("synthetic"))
    ids = {str(i) for i in cohort.patients["patient_id"]}
    words = {w.strip(".,;()") for p in paragraphs for w in p.split()}
    words |= {w.strip(".,;()") for t in tables for row in t for c in row for w in c.split()}
    assert not ids & words
    assert any("listings are left out" in p for p in paragraphs)


def test_footnotes_carry_patients_and_method(docx_path: Path) -> None:
    paragraphs, _ = _texts(docx_path)
    assert any(p.startswith("Patients: ") and "analysed" in p for p in paragraphs)
    assert any(p.startswith("Method: ") for p in paragraphs)


def test_docx_is_byte_identical_across_runs(docx_path: Path, tmp_path: Path) -> None:
    again = _write(tmp_path / "again")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (docx_path, again)]
    assert digest[0] == digest[1]


def test_three_line_table_rules_and_repeated_header(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    xml = doc.tables[0]._tbl.xml
    assert "w:tblHeader" in xml
    assert xml.count("<w:top ") >= 1
    assert xml.count("<w:bottom ") >= 2
    assert "<w:left " not in xml
    assert "<w:insideV" not in xml


def test_wide_tables_get_a_landscape_page(tmp_path: Path) -> None:
    from cartcohort.render.report.docx import LANDSCAPE_COLUMNS, write_docx
    from cartcohort.render.report.redact import Note
    from cartcohort.render.report.views import AnalysisView, PlanView, TableView
    from cartcohort.render.tables import DisplayTable

    n = LANDSCAPE_COLUMNS + 2
    table = DisplayTable(
        caption="Wide",
        headers=tuple(f"c{i}" for i in range(n)),
        rows=(tuple(str(i) for i in range(n)),),
        numeric=(True,) * n,
    )
    view = AnalysisView(
        id="w", anchor="w", number="1.1", title="Wide table", kind="table1", status="done",
        reason=Note(""), summary=Note(""), n=3, n_excluded=0, exclusions=[], warnings=[],
        footnotes=[], tables=[TableView(table=table, csv="tables/w.csv")],
    )  # fmt: skip
    plan = PlanView(
        name="p", anchor="p", number=1, title="Plan", description="", reference="",
        n_patients=3, flow=None, flow_text=[], analyses=[view], counts={},
    )  # fmt: skip
    path = write_docx(
        tmp_path / "w.docx", out_dir=tmp_path, cohort={"name": "c", "n_patients": 3},
        plans=[plan], not_computed=[], synthetic=False, version="0",
    )  # fmt: skip
    sections = Document(str(path)).sections
    orientations = [s.page_width > s.page_height for s in sections]
    assert orientations == [False, True, False]


def test_cli_report_docx(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "rep"
    result = CliRunner().invoke(app, ["report", "--plan", str(plan), "--out", str(out), "--docx"])
    assert result.exit_code == 0, result.output
    assert "report.docx" in result.output
    assert (out / "report.docx").is_file()
