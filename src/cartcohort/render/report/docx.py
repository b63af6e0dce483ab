"""The report as an editable Word document (``cartcohort report --docx``).

Journals ask for tables as editable Word or RTF tables, not pictures; clinicians paste
them into a manuscript. :func:`write_docx` writes the report's computed analyses into
``report.docx``: each analysis as a heading with its summary sentence, each table as a
real Word table (caption above, as journals print them; the patients analysed, the
method and the warnings below as footnotes), each figure as its PNG with its caption,
and the analyses that were not computed in one table at the end.

The document is made from the same view objects as ``report.html`` (the numbers are the
same display strings, rounded half-up; full precision stays in ``results.json``). It
uses python-docx, the maintained library for writing .docx files, imported only when a
Word document is asked for. Left out on purpose, and said so in the document: patient
listings (tables and figures with one row per patient) — they are in the HTML report and
in ``tables/`` — so that the file a clinician mails to co-authors carries no patient
pseudonyms.

Tables use the three-line layout journals print (a rule above and below the header and
below the last row, no vertical rules); a table wider than seven columns is set in a
smaller font, and one wider than ten columns on a landscape page, so no column is cut.
The file is byte-identical for the same report: its ZIP entries and document properties
carry a fixed date (as ``tables.xlsx``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cartcohort.render.report.build import AnalysisView, PlanView, TableView

#: Tables with more columns than this are set in 8 pt instead of 9 pt.
SMALL_FONT_COLUMNS = 7
#: Tables with more columns than this get a landscape page of their own.
LANDSCAPE_COLUMNS = 10
#: Widest figure on a portrait page (cm): A4 less 2 x 2.2 cm margins, with room to spare.
FIGURE_WIDTH_CM = 16.0

_BACKTICKS = re.compile(r"`([^`]*)`")


def _plain(text: str) -> str:
    """Sentence text without the Markdown code marks the HTML report renders as code."""
    return _BACKTICKS.sub(r"\1", text)


def write_docx(
    path: Path,
    *,
    out_dir: Path,
    cohort: Mapping[str, Any],
    plans: Sequence[PlanView],
    not_computed: Sequence[Mapping[str, str]],
    synthetic: bool,
    version: str,
) -> Path:
    """Write the report's tables and figures into an editable Word document.

    Parameters
    ----------
    path
        The ``.docx`` file to write.
    out_dir
        The report folder being built (the figures' PNG files are read from it, so call
        this after every figure is drawn).
    cohort
        The cohort block of ``results.json`` (``name``, ``n_patients``).
    plans
        The plans as the HTML report shows them.
    not_computed
        The rows of the HTML report's "What could not be computed" table.
    synthetic
        Whether the cohort is synthetic (the document then says so at the top).
    version
        The cartcohort version, for the title block.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    props = doc.core_properties
    props.author = props.last_modified_by = "cartcohort"
    props.title = f"Cohort report: {cohort.get('name', '')}"
    props.comments = f"Written by cartcohort {version}"
    base = doc.styles["Normal"]
    base.font.name = "Arial"
    base.font.size = Pt(10)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.2))

    doc.add_heading(f"Cohort report: {cohort.get('name', '')}", level=0)
    if synthetic:
        warn = doc.add_paragraph()
        run = warn.add_run(
            "SYNTHETIC DATA — simulated patients, not real data. Not for clinical or "
            "scientific conclusions."
        )
        run.bold = True
    doc.add_paragraph(
        f"{cohort.get('n_patients', '')} patients · {len(plans)} analysis plan"
        f"{'s' if len(plans) != 1 else ''} · cartcohort {version}. Numbers are rounded "
        "half-up for display; results.json in the report folder holds every number at "
        "full precision. Patient listings are left out of this document (they are in "
        "report.html and tables/)."
    )

    counter = {"table": 0, "figure": 0}
    for plan in plans:
        doc.add_heading(f"{plan.number}. {plan.title}", level=1)
        if plan.description:
            doc.add_paragraph(_plain(plan.description))
        if plan.reference:
            _labelled(doc, "Reference: ", plan.reference)
        for line in plan.flow_text:
            doc.add_paragraph(_plain(line), style="List Bullet")
        for analysis in plan.analyses:
            if analysis.status != "done":
                continue
            _analysis(doc, analysis, out_dir, counter, Cm, Pt, WD_ORIENT, WD_ALIGN_PARAGRAPH)

    if not_computed:
        doc.add_heading("What could not be computed", level=1)
        rows = [
            (f"{r['number']} {r['title']}", r["plan"], r["status"], _plain(r["reason"]))
            for r in not_computed
        ]
        _table(doc, ("Analysis", "Plan", "Status", "Reason"), rows, (False,) * 4, Pt)
    path = Path(path)
    doc.save(str(path))
    from cartcohort.render.report.build import _normalise_zip

    _normalise_zip(path)
    return path


def _labelled(doc: Any, label: str, text: str) -> Any:
    para = doc.add_paragraph()
    para.add_run(label).bold = True
    para.add_run(_plain(text))
    return para


def _analysis(
    doc: Any,
    a: AnalysisView,
    out_dir: Path,
    counter: dict[str, int],
    cm: Any,
    pt: Any,
    orient: Any,
    align: Any,
) -> None:
    doc.add_heading(f"{a.number} {a.title}", level=2)
    if a.summary.text:
        doc.add_paragraph(_plain(a.summary.text))
    for fig in a.figures:
        png = out_dir / fig.files[0]
        if fig.listing or not png.is_file():
            continue
        counter["figure"] += 1
        doc.add_picture(str(png), width=cm(FIGURE_WIDTH_CM))
        doc.paragraphs[-1].alignment = align.CENTER
        cap = doc.add_paragraph()
        cap.add_run(f"Figure {counter['figure']}. ").bold = True
        cap.add_run(_plain(fig.caption))
    for view in a.tables:
        if view.listing:
            continue
        counter["table"] += 1
        _captioned_table(doc, view, counter["table"], cm, pt, orient)
    notes = [f"Patients: {a.n if a.n is not None else '—'} analysed"
             + (f"; {a.n_excluded} excluded." if a.n_excluded else ".")]  # fmt: skip
    notes += [_plain(e.text) for e in a.exclusions]
    for text in notes:
        _small(doc, text, pt)
    for note in a.footnotes:
        _small(doc, "Method: " + _plain(note), pt)
    for warning in a.warnings:
        _small(doc, "Warning: " + _plain(warning.text), pt)


def _small(doc: Any, text: str, pt: Any) -> None:
    para = doc.add_paragraph()
    run = para.add_run(text)
    run.font.size = pt(8)
    para.paragraph_format.space_after = pt(2)


def _captioned_table(doc: Any, view: TableView, number: int, cm: Any, pt: Any, orient: Any) -> None:
    table = view.table
    wide = len(table.headers) > LANDSCAPE_COLUMNS
    if wide:
        _orientation(doc, landscape=True, cm=cm, orient=orient)
    cap = doc.add_paragraph()
    cap.add_run(f"Table {number}. ").bold = True
    cap.add_run(_plain(table.caption))
    cap.paragraph_format.keep_with_next = True
    _table(doc, table.headers, table.rows, table.numeric, pt)
    if view.n_hidden:
        _small(
            doc,
            f"First {len(table.rows)} rows shown; {view.n_hidden} more in {view.csv}.",
            pt,
        )
    if wide:
        _orientation(doc, landscape=False, cm=cm, orient=orient)


def _orientation(doc: Any, *, landscape: bool, cm: Any, orient: Any) -> None:
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    long_side, short_side = cm(29.7), cm(21.0)
    if landscape:
        section.orientation = orient.LANDSCAPE
        section.page_width, section.page_height = long_side, short_side
    else:
        section.orientation = orient.PORTRAIT
        section.page_width, section.page_height = short_side, long_side


def _table(
    doc: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    pt: Any,
) -> Any:
    """A three-line table of display strings (rules above and below the header, below
    the last row); numeric columns right-aligned."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    size = pt(8) if len(headers) > SMALL_FONT_COLUMNS else pt(9)
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.autofit = True
    for r, values in enumerate([headers, *rows]):
        cells = table.rows[r].cells
        for c, value in enumerate(values):
            para = cells[c].paragraphs[0]
            run = para.add_run(str(value))
            run.font.size = size
            run.bold = r == 0
            para.paragraph_format.space_after = pt(0)
            if numeric[c] and r > 0:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _rule(table.rows[0], "top")
    _rule(table.rows[0], "bottom")
    if rows:
        _rule(table.rows[-1], "bottom")
    _repeat_header(table.rows[0])
    return table


def _rule(row: Any, side: str) -> None:
    """A single 0.75 pt rule on one side of every cell of ``row``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for cell in row.cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        borders = tc_pr.find(qn("w:tcBorders"))
        if borders is None:
            borders = OxmlElement("w:tcBorders")
            tc_pr.append(borders)
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "6")
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), "000000")
        borders.append(edge)


def _repeat_header(row: Any) -> None:
    """Repeat the header row on every page the table spans."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)
