"""Write the report folder: ``report.html``, ``results.json``, tables and figures.

:func:`write_report` takes the :class:`~cartcohort.ard.PlanResult` of each plan
(plus, optionally, the validation report, the analysis dataset and the cohort) and writes::

    out_dir/
      report.html          one self-contained file: figures embedded as PNG data URIs,
                           inline CSS, no scripts, no external assets; print-friendly
      results.json         every number at full precision under stable keys
      tables/*.csv         each display table unrounded, one file per table
      tables/tables.xlsx   the same tables, one sheet each, with an index sheet
      figures/*.png|svg    each figure (PNG at 300 dpi and SVG), deterministic bytes
      report.pdf           only with ``pdf=True`` and Chromium installed

Determinism: every file is byte-identical for the same input and software versions (no
timestamps, no absolute paths, keys sorted; the XLSX container's write times are fixed).

Identifiers: patient pseudonyms appear only in *listings* (elements with the CSS class
``listing``: listing analyses, swimmer plots, and the patient lists attached to a warning
or an exclusion). Free text that names patients is shortened and the names moved into
such a listing.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._pool import NOT_SENT, WORKER_LOST, Task, WorkerPool
from cartcohort._results import _version
from cartcohort._spreadsheet import neutralise, neutralise_text, write_csv
from cartcohort.errors import CartcohortError
from cartcohort.render.report import methods as m
from cartcohort.render.tables import DisplayTable, format_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cartcohort.ard import AnalysisOutput, FigureOutput, PlanResult, TableOutput
    from cartcohort.assay.quantify import QuantificationResult
    from cartcohort.derive.dataset import AnalysisDataset
    from cartcohort.model.cohort import Cohort
    from cartcohort.validate.report import ValidationReport

#: Called as ``progress(label, index, total)`` before each figure is drawn.
Progress = Callable[[str, int, int], None]

#: Where Chromium is expected for the optional PDF.
CHROMIUM = Path("/usr/bin/chromium")
#: Analysis kinds whose tables and figures are patient listings (pseudonyms allowed).
LISTING_KINDS = frozenset({"listing", "swimmer"})
#: Screen width (px) of one inch of figure: figures are shown 1.5x their printed size.
PX_PER_INCH = 144
#: At most this many validation issues are shown in the HTML (all are in results.json).
MAX_ISSUES_SHOWN = 200
#: At most this many rows of a table are shown in the HTML (all are in its CSV file).
MAX_ROWS_SHOWN = 200
#: At most this many figure pages of a listing analysis (swimmer plot) are drawn.
MAX_LISTING_FIGURES = 5

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_PAREN = re.compile(r"\s*\(([^()]*)\)")
_BACKTICK = re.compile(r"`([^`<>]+)`")
_TEMPLATES = "templates"


# ------------------------------------------------------------------------------------------
# Identifiers
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """A sentence with the patient pseudonyms it named moved into a listing."""

    text: str
    patients: str = ""


class Redactor:
    """Move patient pseudonyms out of free text (see module docstring).

    Parameters
    ----------
    ids
        Every patient pseudonym of the cohort.

    Notes
    -----
    Pseudonyms made of letters, digits, ``_``, ``.`` and ``-`` (``SYN-001``, ``P.12``) are
    found as whole tokens by one scan and a set look-up, so a 10,000-patient cohort costs
    no more than a small one; any other pseudonym is matched literally.
    """

    _TOKEN = re.compile(r"(?<![\w-])\w(?:[\w.-]*\w)?(?![\w-])")
    _PLAIN = re.compile(r"\w(?:[\w.-]*\w)?")

    def __init__(self, ids: Iterable[str]) -> None:
        names = {str(i) for i in ids if str(i)}
        self._plain = frozenset(n for n in names if self._PLAIN.fullmatch(n))
        odd = sorted(names - self._plain, key=len, reverse=True)
        self._odd = (
            re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, odd)) + r")(?![\w-])")
            if odd
            else None
        )

    def _find(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for m in self._TOKEN.finditer(text) if m.group(0) in self._plain]
        if self._odd is not None:
            spans += [m.span() for m in self._odd.finditer(text)]
        return sorted(spans)

    def has_id(self, text: str) -> bool:
        """Whether ``text`` names a patient."""
        return bool(self._find(text))

    def _replace(self, text: str, spans: list[tuple[int, int]]) -> tuple[str, list[str]]:
        out, found, last = [], [], 0
        for a, b in spans:
            if a < last:
                continue
            out += [text[last:a], "[patient]"]
            found.append(text[a:b])
            last = b
        out.append(text[last:])
        return "".join(out), found

    def note(self, text: object) -> Note:
        """Split ``text`` into a sentence without pseudonyms and the pseudonyms it named."""
        body = "" if text is None else str(text)
        if not self.has_id(body):
            return Note(body)
        listed: list[str] = []

        def lift(match: re.Match[str]) -> str:
            inner = match.group(1)
            if not self.has_id(inner):
                return match.group(0)
            listed.append(inner)
            return ""

        body = _PAREN.sub(lift, body)
        body, found = self._replace(body, self._find(body))
        if found:
            listed.append(", ".join(found))
        return Note(body.strip(), "; ".join(listed))


# ------------------------------------------------------------------------------------------
# View objects handed to the template
# ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FigureView:
    """An embedded figure."""

    name: str
    caption: str
    src: str
    width_px: int
    files: tuple[str, ...]
    listing: bool = False


@dataclass(slots=True)
class TableView:
    """A formatted table and where its full-precision copy is."""

    table: DisplayTable
    csv: str
    listing: bool = False
    n_hidden: int = 0


@dataclass(slots=True)
class AnalysisView:
    """One analysis as the template shows it."""

    id: str
    anchor: str
    number: str
    title: str
    kind: str
    status: str
    reason: Note
    summary: Note
    n: int | None
    n_excluded: int
    exclusions: list[Note]
    warnings: list[Note]
    footnotes: list[str]
    figures: list[FigureView] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    figure_problems: list[str] = field(default_factory=list)
    figure_notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PlanView:
    """One plan as the template shows it."""

    name: str
    anchor: str
    number: int
    title: str
    description: str
    reference: str
    n_patients: int
    flow: FigureView | None
    flow_text: list[str]
    analyses: list[AnalysisView]
    counts: dict[str, int]
    #: The plan's definitions (item, definition) and the seed paper's values by analysis id.
    definitions: list[tuple[str, str]] = field(default_factory=list)
    published: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------
# Tables and figures
# ------------------------------------------------------------------------------------------


def _safe(*parts: str) -> str:
    return "__".join(_UNSAFE.sub("_", p).strip("_") or "x" for p in parts)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The table as CSV, text cells formula-safe (:mod:`cartcohort._spreadsheet`)."""
    out = frame.copy()
    out.columns = pd.Index([str(c) for c in out.columns])
    write_csv(out, path, index=False, lineterminator="\n")


def _write_xlsx(entries: Sequence[tuple[str, str, TableOutput]], path: Path) -> None:
    """One sheet per table plus an index sheet (unrounded values, header row in bold).

    Written with openpyxl's write-only workbook, row by row: half the time of
    ``DataFrame.to_excel`` (which styles every cell it writes), which mattered because the
    main process writes the workbook while the figures are drawn.

    Text is formula-safe (:func:`~cartcohort._spreadsheet.neutralise`) and every text cell
    is written with the string type, so no cell is ever a formula (openpyxl otherwise makes
    any text starting with ``=`` one) or an error value (``#N/A`` as text).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(name: str, frame: pd.DataFrame) -> None:
        ws = workbook.create_sheet(name)
        header = []
        for column in frame.columns:
            cell = _text_cell(ws, neutralise_text(str(column)))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        columns = [frame[c].astype(object).to_numpy() for c in frame.columns]
        for row in zip(*columns, strict=True):
            values = [_xlsx_value(v) for v in row]
            ws.append([_text_cell(ws, v) if isinstance(v, str) else v for v in values])

    index = pd.DataFrame(
        [
            {"sheet": f"T{i + 1:02d}", "file": f"{stem}.csv", "title": title, "caption": t.caption}
            for i, (stem, title, t) in enumerate(entries)
        ],
        columns=["sheet", "file", "title", "caption"],
    )
    sheet("index", index)
    for i, (_, _, table) in enumerate(entries):
        sheet(f"T{i + 1:02d}", table.frame)
    workbook.save(path)
    _normalise_zip(path)


def _text_cell(ws: Any, text: str) -> Any:
    """A write-only cell holding ``text`` as text, whatever it begins with."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


def _xlsx_value(value: object) -> object:
    """A cell value openpyxl writes: as :func:`json_value` gives it (missing as an empty
    cell, NumPy scalars as Python numbers), except dates and times, which stay dates, and
    infinity, written as the text "inf"/"-inf" as pandas does (Excel has no infinity).
    Text is formula-safe (:func:`~cartcohort._spreadsheet.neutralise`)."""
    if isinstance(value, float | np.floating) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value is not pd.NaT and isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return neutralise_text(str(value))
    return neutralise(json_value(value))


_XLSX_TIMES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _normalise_zip(path: Path) -> None:
    """Fix the write times openpyxl stores (ZIP entries, document properties)."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                text = _XLSX_TIMES.sub(r"\g<1>2000-01-01T00:00:00Z\g<2>", data.decode("utf-8"))
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


@dataclass(slots=True)
class _FigureJob:
    """A figure to draw, save and embed; ``view`` is filled in when it is rendered."""

    label: str
    draw: Callable[[], Figure]
    stem: Path
    view: FigureView
    problems: list[str]
    views: list[FigureView] | None = None


def _render(job: _FigureJob) -> tuple[str, int] | str:
    """Draw, save (PNG + SVG) and encode one figure: ``(data URI, width)`` or a problem."""
    return _draw_and_save(job.draw, job.view.name, job.stem)


def _draw_and_save(draw: Callable[[], Figure], name: str, stem: Path) -> tuple[str, int] | str:
    """Draw and save one figure: ``(data URI, width)``, or the problem as a sentence (any
    exception: one figure that cannot be drawn never stops the report)."""
    try:
        fig = draw()
        svg = _write_figure(fig, stem)
    except (CartcohortError, ValueError) as exc:
        return f"Figure {name!r} could not be drawn: {exc}"
    except Exception as exc:
        return (
            f"Figure {name!r} could not be drawn: internal error ({type(exc).__name__}: "
            f"{exc}). This is a bug in cartcohort, not a problem with the data; please "
            "report it."
        )
    # The SVG is embedded: sharp at any zoom and on any screen, vector in the PDF, about
    # the size of a 256-colour copy of the 300-dpi PNG, and already written, so embedding
    # it costs nothing (quantising and encoding a second PNG took a sixth of a figure's
    # time). Text in the SVG is set as paths, so it looks the same on every machine.
    data = base64.b64encode(svg).decode("ascii")
    return f"data:image/svg+xml;base64,{data}", round(fig.get_figwidth() * PX_PER_INCH)


def png_bytes(rgb: npt.NDArray[np.uint8], dpi: int) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (height x width x 3) with its resolution recorded.

    Written here rather than with Pillow, which the rest of cartcohort uses for images:
    Pillow tries every PNG row filter on every row and keeps the best, which on a
    figure (flat colours, mostly white) takes three times as long as no filter and
    compresses no better (a 300-dpi figure: 20 ms and 91 kB with Pillow, 7 ms and 81 kB
    with filter 0 and zlib level 3). The file is a plain PNG (IHDR, pHYs, one IDAT,
    IEND) that any reader opens; the tests read it back with Pillow.
    """
    import struct
    import zlib

    height, width, _ = rgb.shape
    raw = np.empty((height, width * 3 + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type 0 (None) on every row
    raw[:, 1:] = rgb.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    per_metre = round(dpi / 0.0254)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), 3)),
            chunk(b"IEND", b""),
        )
    )


def _write_figure(fig: Figure, stem: Path) -> bytes:
    """Write ``stem.png`` (300 dpi) and ``stem.svg`` in two drawing passes; return the SVG.

    Notes
    -----
    :func:`cartcohort.render.figures.save` draws a figure four times (a layout pass, a
    layout-free pass, PNG, SVG); for a hundred figures that is most of a report's time.
    Here the PNG is taken from the Agg canvas of the one pass that also lays the figure
    out, the layout is frozen, and the SVG is the second pass. The files carry the same
    deterministic settings as ``save``: the cartcohort rc (fixed SVG hash salt, text as
    paths), no PNG ``Software`` and no SVG ``Date``/``Creator`` metadata, and the layout
    frozen on a 1e-9 grid (:func:`~cartcohort.render.figures._style.freeze_layout`).
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from cartcohort.render.figures._style import PNG_DPI, freeze_layout, style_context

    stem.parent.mkdir(parents=True, exist_ok=True)
    with style_context():
        fig.set_facecolor("white")
        fig.set_dpi(PNG_DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # type: ignore[no-untyped-call]  # lays out, rasterises at 300 dpi
        freeze_layout(fig)
        rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
        stem.with_name(f"{stem.name}.png").write_bytes(png_bytes(rgba[:, :, :3], PNG_DPI))
        buffer = io.BytesIO()
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None},
            facecolor="white",
        )
    svg = buffer.getvalue()
    stem.with_name(f"{stem.name}.svg").write_bytes(svg)
    return svg


class _Rendering:
    """Figures being drawn: in worker processes while this process runs the next plan and
    writes the tables, the JSON and the XLSX.

    Each figure goes to a worker of the :class:`~cartcohort._pool.WorkerPool`; a ``draw``
    that cannot be pickled (a lambda in a caller's own code) is drawn in this process
    instead. The files written do not depend
    on the number of workers: each figure is drawn and saved by exactly one process with
    the same code. Without worker processes every figure is drawn here, in turn, by
    :meth:`finish`.
    """

    def __init__(self, pool: WorkerPool, *, progress: Progress | None) -> None:
        self.pool = pool
        self.progress = progress
        self.jobs: list[_FigureJob] = []
        self.remote: list[tuple[int, Task]] = []
        self.local: list[int] = []

    def submit(self, jobs: Sequence[_FigureJob]) -> None:
        """Start drawing the jobs not submitted yet (``jobs`` is the writer's growing list)."""
        for job in jobs[len(self.jobs) :]:
            index = len(self.jobs)
            self.jobs.append(job)
            task = (
                self.pool.try_submit(_draw_and_save, job.draw, job.view.name, job.stem)
                if self.pool.parallel
                else None
            )
            if task is None:
                self.local.append(index)
            else:
                self.remote.append((index, task))

    def _tick(self, index: int, done: int) -> None:
        if self.progress is not None:
            self.progress(self.jobs[index].label, done, len(self.jobs))

    def finish(self) -> None:
        """Wait for every figure and put its image (or the problem) into its view."""
        outcomes: dict[int, tuple[str, int] | str] = {}
        for index in self.local:
            outcomes[index] = _render(self.jobs[index])
            self._tick(index, len(outcomes))
        for index, task in self.remote:
            got = task.get()
            # NOT_SENT (the image could not be pickled) or WORKER_LOST (the worker died):
            # drawn here, once
            outcome = _render(self.jobs[index]) if got is NOT_SENT or got is WORKER_LOST else got
            if got is WORKER_LOST and isinstance(outcome, str):
                outcome += (
                    " (Drawn again in the main process after the worker process drawing it "
                    "stopped unexpectedly, e.g. killed when the machine ran out of memory.)"
                )
            outcomes[index] = outcome
            self._tick(index, len(outcomes))
        for index, job in enumerate(self.jobs):
            outcome = outcomes[index]
            if isinstance(outcome, str):
                job.problems.append(outcome)
                if job.views is not None:
                    job.views.remove(job.view)
            else:
                job.view.src, job.view.width_px = outcome


def _flow_steps(result: PlanResult) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """``PlanResult.flow`` lists exclusions on the step they lead to; ``plot_flow`` before."""
    steps = []
    for i, step in enumerate(result.flow):
        after = result.flow[i + 1].excluded if i + 1 < len(result.flow) else ()
        steps.append((step.label, step.n, list(after)))
    return steps


def _flow_text(result: PlanResult) -> list[str]:
    lines = []
    for step in result.flow:
        why = "; ".join(f"{reason} (n = {k})" for reason, k in step.excluded)
        lines.append(f"{step.label}: n = {step.n}" + (f" (excluded: {why})" if why else ""))
    return lines


# ------------------------------------------------------------------------------------------
# Building the views
# ------------------------------------------------------------------------------------------


@dataclass
class _Writer:
    """State shared while one report is written."""

    out: Path
    redactor: Redactor
    jobs: list[_FigureJob] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    xlsx: list[tuple[str, str, TableOutput]] = field(default_factory=list)
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: Plan -> analysis -> why an analysis computed could not be shown (a bug).
    shown_failed: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_figure(
        self,
        stem: str,
        draw: Callable[[], Figure],
        caption: str,
        *,
        listing: bool = False,
        views: list[FigureView] | None = None,
        problems: list[str] | None = None,
    ) -> FigureView:
        """Register a figure; it is drawn later by :func:`_render_all`."""
        view = FigureView(
            name=stem,
            caption=caption,
            src="",
            width_px=0,
            files=(f"figures/{stem}.png", f"figures/{stem}.svg"),
            listing=listing,
        )
        self.jobs.append(
            _FigureJob(
                label=stem.replace("__", ": "),
                draw=draw,
                stem=self.out / "figures" / stem,
                view=view,
                problems=problems if problems is not None else self.problems,
                views=views,
            )
        )
        if views is not None:
            views.append(view)
        return view

    def figure(
        self, plan: str, output: AnalysisOutput, spec: FigureOutput, view: AnalysisView
    ) -> None:
        self.add_figure(
            _safe(plan, spec.name),
            spec.draw,
            spec.caption,
            listing=output.kind in LISTING_KINDS,
            views=view.figures,
            problems=view.figure_problems,
        )
        stem = _safe(plan, spec.name)
        self.files.setdefault(plan, {}).setdefault(output.id, []).extend(
            [f"figures/{stem}.png", f"figures/{stem}.svg"]
        )

    def table(self, plan: str, output: AnalysisOutput, table: TableOutput) -> TableView:
        stem = _safe(plan, output.id, table.name)
        _write_csv(table.frame, self.out / "tables" / f"{stem}.csv")
        self.xlsx.append((stem, f"{plan}: {output.title}", table))
        rel = f"tables/{stem}.csv"
        self.files.setdefault(plan, {}).setdefault(output.id, []).append(rel)
        listing = output.kind in LISTING_KINDS or "patient_id" in table.frame.columns
        frame = table.frame.iloc[:MAX_ROWS_SHOWN]
        display = format_table(frame, table.formats, caption=table.caption)
        if not listing:
            display = _redact_table(display, self.redactor)
        hidden = max(len(table.frame) - MAX_ROWS_SHOWN, 0)
        return TableView(table=display, csv=rel, listing=listing, n_hidden=hidden)


def _redact_table(table: DisplayTable, redactor: Redactor) -> DisplayTable:
    if not any(redactor.has_id(cell) for row in table.rows for cell in row):
        return table
    rows = tuple(tuple(redactor.note(c).text for c in row) for row in table.rows)
    return DisplayTable(table.caption, table.headers, rows, table.numeric)


def _analysis_view(
    writer: _Writer, result: PlanResult, output: AnalysisOutput, number: str
) -> AnalysisView:
    redact = writer.redactor.note
    view = AnalysisView(
        id=output.id,
        anchor=f"{_safe(result.plan_name)}-{_safe(output.id)}",
        number=number,
        title=output.title,
        kind=output.kind,
        status=output.status,
        reason=redact(output.reason),
        summary=redact(output.summary),
        n=output.n,
        n_excluded=output.n_excluded,
        exclusions=[redact(e) for e in output.exclusions],
        warnings=[redact(w) for w in output.warnings],
        footnotes=[m.method_footnote(method) for method in output.methods],
    )
    if output.status != "done":
        return view
    figures = list(output.figures)
    if output.kind in LISTING_KINDS and len(figures) > MAX_LISTING_FIGURES:
        # a swimmer plot of 10,000 patients is 167 pages: draw the first few, say so
        view.figure_notes.append(
            f"{len(figures)} figure pages; the first {MAX_LISTING_FIGURES} are shown and "
            f"written to figures/. Every patient is in the table below (CSV)."
        )
        figures = figures[:MAX_LISTING_FIGURES]
    for spec in figures:
        writer.figure(result.plan_name, output, spec, view)
    for table in output.tables:
        view.tables.append(writer.table(result.plan_name, output, table))
    return view


def _analysis_view_or_problem(
    writer: _Writer, result: PlanResult, output: AnalysisOutput, number: str
) -> AnalysisView:
    """:func:`_analysis_view`, or, when showing the analysis raises (a bug), the analysis
    marked failed with the error, its tables and figures withdrawn; the report goes on."""
    jobs, xlsx = len(writer.jobs), len(writer.xlsx)
    try:
        return _analysis_view(writer, result, output, number)
    except Exception as exc:
        del writer.jobs[jobs:], writer.xlsx[xlsx:]
        for rel in writer.files.get(result.plan_name, {}).pop(output.id, []):
            (writer.out / rel).unlink(missing_ok=True)  # a table CSV written before the error
        reason = (
            f"Not shown: internal error while formatting it for the report "
            f"({type(exc).__name__}: {exc}). This is a bug in cartcohort, not a problem "
            "with the data; please report it. Its numbers are in results.json."
        )
        writer.shown_failed.setdefault(result.plan_name, {})[output.id] = reason
        return AnalysisView(
            id=output.id,
            anchor=f"{_safe(result.plan_name)}-{_safe(output.id)}",
            number=number,
            title=output.title,
            kind=output.kind,
            status="failed",
            reason=writer.redactor.note(reason),
            summary=Note(""),
            n=output.n,
            n_excluded=output.n_excluded,
            exclusions=[],
            warnings=[],
            footnotes=[],
        )


def _paper_view(result: PlanResult) -> dict[str, Any]:
    """The plan's definitions table and the published (seed paper) value of each analysis,
    shown beside the cohort's own results, never in their place."""
    return {
        "definitions": list(result.definitions),
        "published": {o.id: o.published for o in result.outputs if o.published},
    }


def _plan_view(writer: _Writer, result: PlanResult, number: int) -> PlanView:
    flow = None
    if result.flow:
        from cartcohort.render.figures.consort import plot_flow

        steps = _flow_steps(result)
        flow = writer.add_figure(
            _safe(result.plan_name, "flow"),
            partial(plot_flow, steps),
            "Patients in the cohort and patients analysed, with reasons for exclusion.",
        )
    analyses = [
        _analysis_view_or_problem(writer, result, o, f"{number}.{i + 1}")
        for i, o in enumerate(result.outputs)
    ]
    counts = {s: sum(a.status == s for a in analyses) for s in ("done", "skipped", "failed")}
    return PlanView(
        name=result.plan_name,
        anchor=f"plan-{_safe(result.plan_name)}",
        number=number,
        title=result.plan_title,
        description=result.description,
        reference=result.reference,
        n_patients=result.n_patients,
        flow=flow,
        flow_text=_flow_text(result),
        analyses=analyses,
        counts=counts,
        **_paper_view(result),
    )


# ------------------------------------------------------------------------------------------
# Data quality
# ------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------


def _code(text: object) -> Any:
    """Escape ``text`` and show `back-ticked` names as code."""
    from markupsafe import Markup, escape

    return Markup(_BACKTICK.sub(r"<code>\1</code>", str(escape(str(text)))))


def _environment() -> Any:
    import jinja2

    from cartcohort.render.format import format_p, format_percent, round_half_up

    loader = jinja2.PackageLoader("cartcohort.render.report", _TEMPLATES)
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["code"] = _code
    env.filters["p"] = format_p
    env.filters["pct"] = format_percent
    env.filters["r"] = round_half_up
    return env


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


def _not_computed(plans: Sequence[PlanView]) -> list[dict[str, str]]:
    rows = []
    for plan in plans:
        for a in plan.analyses:
            if a.status != "done":
                rows.append(
                    {"plan": plan.title, "anchor": a.anchor, "number": a.number,
                     "title": a.title, "status": a.status, "reason": a.reason.text}
                )  # fmt: skip
            rows.extend(
                {"plan": plan.title, "anchor": a.anchor, "number": a.number,
                 "title": a.title, "status": "figure", "reason": problem}
                for problem in a.figure_problems
            )  # fmt: skip
    return rows


def count_figures(results: Sequence[PlanResult]) -> int:
    """Figures :func:`write_report` will draw (flow diagrams included), for a progress bar."""

    def drawn(o: AnalysisOutput) -> int:
        n = len(o.figures)
        return min(n, MAX_LISTING_FIGURES) if o.kind in LISTING_KINDS else n

    return sum(
        int(bool(r.flow)) + sum(drawn(o) for o in r.outputs if o.status == "done") for r in results
    )


def render_html(context: Mapping[str, Any]) -> str:
    """Render ``report.html`` from the template context (see :func:`write_report`)."""
    template = _environment().get_template("report.html.j2")
    return str(template.render(**context))


def write_report(
    results: Iterable[PlanResult],
    out_dir: str | Path,
    *,
    validation: ValidationReport | None = None,
    dataset: AnalysisDataset | None = None,
    cohort: Cohort | None = None,
    assays: Sequence[QuantificationResult] = (),
    pdf: bool = False,
    docx: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    pool: WorkerPool | None = None,
) -> Path:
    """Write the report folder for the results of one or more plans on one cohort.

    Parameters
    ----------
    results
        One ``PlanResult`` per plan, all on the same cohort (at least one). May be lazy
        (a generator running each plan in turn): the figures of a plan are then drawn
        while the next plan runs.
    out_dir
        Folder to write into: a new or empty folder, or the folder of an earlier report
        (see :func:`check_report_folder`). The report is built in a temporary folder
        next to it and moved into place when complete, so a run that fails leaves the
        folder as it was; the earlier report's files are replaced, no other file is
        touched.
    validation
        The cohort's validation report (its warnings make the data-quality section).
    dataset
        The analysis dataset the plans ran on (provenance, endpoint exclusions,
        derivation warnings and conventions for the methods section).
    cohort
        The cohort (input files and their SHA-256 for the reproducibility footer).
    assays
        Assay quantifications whose standard curves should be shown under data quality.
    pdf
        Also write ``report.pdf`` with headless Chromium (see :func:`write_pdf`).
    docx
        Also write ``report.docx``: the tables as editable Word tables and the figures,
        with captions and footnotes (see :func:`cartcohort.render.report.docx.write_docx`).
    progress
        Called as ``progress(label, index, total)`` as each figure is drawn.
    jobs
        Processes drawing figures (default: the CPU count, at most 4; ``1`` draws in this
        process). Parallel drawing forks (POSIX); elsewhere figures are drawn in turn.
        The files are the same either way.
    pool
        Worker processes shared with other steps of the run (e.g. the
        :func:`~cartcohort.plan.run.iter_plans` that produces ``results``); ``jobs`` is
        then ignored and the pool is left open for its owner to close.

    Returns
    -------
    pathlib.Path
        The path of ``report.html``.

    Raises
    ------
    ValueError
        ``results`` is empty.
    cartcohort.errors.CartcohortError
        ``out_dir`` cannot take a report (:func:`check_report_folder`; nothing is
        written), or the PDF could not be printed (raised after the HTML report was
        moved into place).
    """
    empty = "`results` is empty: run at least one plan before writing a report."
    if isinstance(results, Sequence) and not results:
        raise ValueError(empty)
    target = check_report_folder(out_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # built next to the target (same file system) and moved into place at the end
        out = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as exc:
        msg = f"Cannot write the report next to {target}: {exc}. Nothing was written."
        raise CartcohortError(msg) from exc
    try:
        html_path, pdf_error = _write_report_files(
            results,
            out,
            validation=validation,
            dataset=dataset,
            cohort=cohort,
            assays=assays,
            pdf=pdf,
            docx=docx,
            progress=progress,
            jobs=jobs,
            pool=pool,
        )
        _install(out, target)
    except OSError as exc:  # a full disk, a folder made read-only during the run ...
        msg = (
            f"Could not write the report into {target}: {exc}. The folder was left as it "
            "was (an earlier report there is intact)."
        )
        raise CartcohortError(msg) from exc
    finally:
        shutil.rmtree(out, ignore_errors=True)  # ours; empty after _install
    if pdf_error is not None:
        raise pdf_error
    return target / html_path.name


def _write_report_files(
    results: Iterable[PlanResult],
    out: Path,
    *,
    validation: ValidationReport | None,
    dataset: AnalysisDataset | None,
    cohort: Cohort | None,
    assays: Sequence[QuantificationResult],
    pdf: bool,
    docx: bool,
    progress: Progress | None,
    jobs: int | None,
    pool: WorkerPool | None,
) -> tuple[Path, CartcohortError | None]:
    """Write the report into the new folder ``out`` (see :func:`write_report`); the PDF's
    error, if any, is returned, so that the HTML report is still moved into place."""
    empty = "`results` is empty: run at least one plan before writing a report."
    for sub in ("tables", "figures"):
        (out / sub).mkdir()
    writer = _Writer(out=out, redactor=Redactor(_patient_ids(dataset, cohort)))
    # figures are drawn in worker processes while this one runs the next plan (when
    # `results` is lazy) and writes the tables and the JSON
    own = pool is None
    workers = pool if pool is not None else WorkerPool(jobs)
    rendering = _Rendering(workers, progress=progress)
    try:
        done: list[PlanResult] = []
        plans: list[PlanView] = []
        for result in results:
            done.append(result)
            plans.append(_plan_view(writer, result, len(done)))
            rendering.submit(writer.jobs)
        if not done:
            raise ValueError(empty)
        done = [_shown_as_failed(r, writer.shown_failed.get(r.plan_name, {})) for r in done]
        assay_views = _assay_views(assays, writer)
        rendering.submit(writer.jobs)
        if writer.xlsx:
            _write_xlsx(writer.xlsx, out / "tables" / "tables.xlsx")
        payload = results_payload(
            done, cohort=cohort, validation=validation, dataset=dataset, files=writer.files
        )
        write_results_json(payload, out / "results.json")
        quality = _quality_view(validation, dataset, cohort, writer.redactor)
        rendering.finish()
    except BaseException:
        if own:
            workers.terminate()
        raise
    if own:
        workers.close()
    first = done[0]
    options = dict(dataset.options) if dataset is not None else dict(first.options)
    context = {
        "cohort": payload["cohort"],
        "synthetic": first.synthetic,
        "plans": plans,
        "not_computed": _not_computed(plans),
        "quality": quality,
        "assays": assay_views,
        "figure_problems": writer.problems,
        "method_groups": m.method_groups(done),
        "derivation": m.derivation_sentences(
            options, dataset.provenance if dataset is not None else None
        ),
        "software": m.software_versions(),
        "lock": m.lock_status(),
        "software_names": m.software_names(done),
        "version": payload["cartcohort_version"],
        "plan_warnings": [writer.redactor.note(w) for w in first.warnings]
        if dataset is None
        else [],
    }
    html_path = out / "report.html"
    html_path.write_text(render_html(context), encoding="utf-8", newline="\n")
    if docx:
        from cartcohort.render.report.docx import write_docx

        write_docx(
            out / "report.docx",
            out_dir=out,
            cohort=payload["cohort"],
            plans=plans,
            not_computed=context["not_computed"],
            synthetic=first.synthetic,
            version=payload["cartcohort_version"],
        )
    if pdf:
        try:
            write_pdf(html_path, out / "report.pdf")
        except CartcohortError as exc:
            return html_path, exc
    return html_path, None


def _shown_as_failed(result: PlanResult, failed: Mapping[str, str]) -> PlanResult:
    """``result`` with the analyses that could not be shown marked failed (numbers kept)."""
    if not failed:
        return result
    outputs = tuple(
        dataclasses.replace(o, status="failed", reason=failed[o.id]) if o.id in failed else o
        for o in result.outputs
    )
    return dataclasses.replace(result, outputs=outputs)


# ------------------------------------------------------------------------------------------
# The report folder
# ------------------------------------------------------------------------------------------

#: The file that marks a folder as a cartcohort report folder; it lists the files the
#: report wrote there (the only files a later report into that folder replaces or deletes).
MARKER = ".cartcohort-report"


def check_report_folder(out_dir: str | Path) -> Path:
    """Check that a report may be written into ``out_dir``, before any work is done.

    A report goes into a folder that does not exist yet, an empty folder, or a folder
    an earlier report wrote (it holds the :data:`MARKER` file). Anything else is refused,
    so that no file of the user's is ever replaced or deleted.

    Parameters
    ----------
    out_dir
        The report folder.

    Returns
    -------
    pathlib.Path
        ``out_dir`` as a path.

    Raises
    ------
    cartcohort.errors.CartcohortError
        ``out_dir`` is a file, or a folder that is not empty and holds no marker.
    """
    out = Path(out_dir)
    if out.is_symlink() and not out.exists():
        msg = f"The report folder {out} is a broken symbolic link; choose another folder."
        raise CartcohortError(msg)
    if not out.exists():
        return out
    if not out.is_dir():
        msg = (
            f"The report folder {out} is a file, not a folder; nothing was written. Choose "
            "a new folder for the report."
        )
        raise CartcohortError(msg)
    if not (out / MARKER).is_file() and any(out.iterdir()):
        msg = (
            f"The report folder {out} is not empty and was not written by cartcohort (it "
            f"has no {MARKER} file); nothing was written, so that none of its files is "
            "replaced or deleted. Choose a new or empty folder, or the folder of an "
            "earlier cartcohort report."
        )
        raise CartcohortError(msg)
    return out


def _listed_files(folder: Path) -> list[str]:
    """The files an earlier report wrote into ``folder`` (from its marker; safe paths only)."""
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    names = []
    for name in listed if isinstance(listed, list) else []:
        path = PurePosixPath(str(name))
        if path.parts and not path.is_absolute() and ".." not in path.parts and name != MARKER:
            names.append(path.as_posix())
    return names


def _install(built: Path, target: Path) -> None:
    """Move the finished report in ``built`` to ``target``: one rename when ``target`` is
    new or empty; otherwise the earlier report's files (those its marker lists) are
    replaced or deleted one by one and every other file is left alone."""
    files = sorted(
        p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file() or p.is_symlink()
    )
    missing = [name for name in ("report.html", "results.json") if name not in files]
    if missing:  # another program emptied the temporary folder during the run
        msg = (
            f"The report being built in {built} lost {', '.join(missing)} during the run "
            f"(deleted by another program?); {target} was left as it was. Run again."
        )
        raise CartcohortError(msg)
    marker = json.dumps({"files": files, "format": 1}, indent=2, sort_keys=True) + "\n"
    (built / MARKER).write_text(marker, encoding="utf-8", newline="\n")
    check_report_folder(target)  # again: the folder may have changed during the run
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        built.replace(target)
        return
    new = set(files)
    inside = target.resolve()
    outside = sorted(
        {n.split("/")[0] for n in files if not (target / n).parent.resolve().is_relative_to(inside)}
    )
    if outside:  # a user's link (tables/ -> elsewhere): never write through it
        msg = (
            f"The report folder {target} has {', '.join(outside)} linking out of it; nothing "
            "was replaced. Remove the link or choose another folder."
        )
        raise CartcohortError(msg)
    for name in _listed_files(target):
        path = target / name
        if name not in new and path.parent.resolve().is_relative_to(inside):
            path.unlink(missing_ok=True)
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (built / name).replace(target / name)
    (built / MARKER).replace(target / MARKER)
    for sub in ("figures", "tables"):  # left empty by the earlier report's files only
        folder = target / sub
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def chromium_available() -> bool:
    """Whether headless Chromium (for the PDF) is installed at :data:`CHROMIUM`."""
    return CHROMIUM.is_file()


def write_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium.

    Parameters
    ----------
    html_path
        The report.
    pdf_path
        The PDF to write.
    timeout
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    cartcohort.errors.CartcohortError
        Chromium is not installed, or it did not write the PDF.
    """
    if not chromium_available():
        msg = (
            f"A PDF needs Chromium at {CHROMIUM} (Debian/Ubuntu: apt-get install chromium); "
            "the HTML report was written."
        )
        raise CartcohortError(msg)
    import tempfile

    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path.resolve()}", html_path.resolve().as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"Chromium could not print the PDF ({exc}); the HTML report was written."
            raise CartcohortError(msg) from exc
    if not pdf_path.is_file():
        msg = "Chromium did not write the PDF; the HTML report was written."
        raise CartcohortError(msg)
    return pdf_path


def template_names() -> list[str]:
    """List the report templates shipped with the package."""
    folder = resources.files("cartcohort.render.report") / _TEMPLATES
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".j2"))


__all__ = [
    "CHROMIUM",
    "LISTING_KINDS",
    "MARKER",
    "AnalysisView",
    "FigureView",
    "Note",
    "PlanView",
    "Progress",
    "Redactor",
    "TableView",
    "check_report_folder",
    "chromium_available",
    "count_figures",
    "json_value",
    "render_html",
    "results_payload",
    "template_names",
    "write_pdf",
    "write_report",
    "write_results_json",
]
