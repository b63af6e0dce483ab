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
    from cartcohort.render.report.views import AnalysisView, PlanView, TableView

#: Tables with more columns than this are set in 8 pt instead of 9 pt.
SMALL_FONT_COLUMNS = 7
#: Tables with more columns than this get a landscape page of their own.
LANDSCAPE_COLUMNS = 10
#: Widest figure (cm): a figure is placed at its size in the HTML report, at most this.
FIGURE_WIDTH_CM = 14.0
#: Text width of a portrait and a landscape A4 page with 2.2 cm margins (cm).
TEXT_WIDTH_CM = {False: 21.0 - 4.4, True: 29.7 - 4.4}

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
        _table(doc, ("Analysis", "Plan", "Status", "Reason"), rows, (False,) * 4, Pt, cm=Cm)
    path = Path(path)
    doc.save(str(path))
    from cartcohort.render.report.tables import _normalise_zip

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
        natural = fig.width_px / 96 * 2.54 if fig.width_px else FIGURE_WIDTH_CM
        doc.add_picture(str(png), width=cm(min(natural, FIGURE_WIDTH_CM)))
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
    _table(doc, table.headers, table.rows, table.numeric, pt, cm=cm, landscape=wide)
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
    *,
    cm: Any,
    landscape: bool = False,
) -> Any:
    """A three-line table of display strings (rules above and below the header, below
    the last row); numeric columns right-aligned; column widths in proportion to their
    longest cell, so that "1.28 (0.81–2.02)" stays on one line where the page allows."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.autofit = False
    small = len(headers) > SMALL_FONT_COLUMNS
    widths = _column_widths(headers, rows, numeric, TEXT_WIDTH_CM[landscape], small=small)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = cm(width)  # the grid (LibreOffice reads it) ...
    for r, values in enumerate([headers, *rows]):
        cells = table.rows[r].cells
        for c, value in enumerate(values):
            cells[c].width = cm(widths[c])  # ... and each cell (Word reads these)
            para = cells[c].paragraphs[0]
            run = para.add_run(str(value))
            run.font.size = pt(8) if small else pt(9)
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


def _column_widths(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    total_cm: float,
    *,
    small: bool,
) -> list[float]:
    """Column widths (cm) that fill ``total_cm``, in three steps of giving way.

    A column's *full* width is its longest cell (at most 40 characters: longer text
    wraps); its *unbroken* width is its longest word (header or cell) for text and its
    full width for numbers, so that "1.28 (0.81–2.02)" stays on one line; its *least*
    width is its longest word for numbers and at most 12 characters for text. Full
    widths are used when they fit, else as much above the unbroken widths as fits, else
    as much above the least widths as fits (words of text then break), else the least
    widths shrunk evenly. A character is counted as 0.6 em (Arial digits are 0.556 em;
    bold headers are wider), and each cell as 3 characters more for its padding.
    """
    char_cm = (8 if small else 9) * 0.6 / 72 * 2.54
    room = total_cm / char_cm
    cells = [[str(h), *(str(row[c]) for row in rows)] for c, h in enumerate(headers)]
    word = [max(len(w) for text in col for w in (text.split() or [""])) + 3 for col in cells]
    full = [
        max(wd, min(40, max((len(t) for t in col[1:]), default=0)) + 3)
        for wd, col in zip(word, cells, strict=True)
    ]
    unbroken = [f if num else wd for f, wd, num in zip(full, word, numeric, strict=True)]
    least = [wd if num else min(wd, 12) for wd, num in zip(word, numeric, strict=True)]
    if sum(full) <= room:
        return [f * total_cm / sum(full) for f in full]
    for low, high in ((unbroken, full), (least, unbroken)):
        if sum(low) <= room:
            k = (room - sum(low)) / (sum(high) - sum(low)) if sum(high) > sum(low) else 0.0
            return [(lo + k * (hi - lo)) * char_cm for lo, hi in zip(low, high, strict=True)]
    return [lo * total_cm / sum(least) for lo in least]


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
