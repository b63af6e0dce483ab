"""Write the report folder: ``report.html``, ``results.json``, tables and figures.

:func:`write_report` takes the :class:`~cartcohort.ard.PlanResult` of each plan
(plus, optionally, the validation report, the analysis dataset and the cohort) and writes::

    out_dir/
      report.html          one self-contained file: each figure embedded once as a data
                           URI (:func:`~cartcohort.render.report.figures.embedded_image`),
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

Where each part is made (this module only puts them together, in :func:`write_report`):

=============  ===========================================================================
``sections``   the plan and analysis sections: tables, figures, notes (``_Writer``)
``quality``    the data-quality section (validation, derivation, assay curves)
``views``      the view objects the template receives
``redact``     patient pseudonyms moved out of free text (:class:`Redactor`)
``figures``    one figure drawn and written as PNG and SVG, and encoded for the HTML
``workers``    figures drawn in worker processes (:class:`~cartcohort._pool.WorkerPool`)
``tables``     ``tables/*.csv`` and ``tables/tables.xlsx``
``results``    ``results.json``
``html``       ``report.html`` from ``templates/``
``folder``     the report folder: checked first, the finished report moved into place
``pdf``        ``report.pdf`` with headless Chromium
=============  ===========================================================================
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cartcohort._pool import WorkerPool
from cartcohort.errors import CartcohortError
from cartcohort.render.report import methods as m
from cartcohort.render.report.folder import MARKER, _install, check_report_folder
from cartcohort.render.report.html import render_html, template_names
from cartcohort.render.report.pdf import CHROMIUM, chromium_available, write_pdf
from cartcohort.render.report.quality import _assay_views, _patient_ids, _quality_view
from cartcohort.render.report.redact import Note, Redactor
from cartcohort.render.report.results import json_value, results_payload, write_results_json
from cartcohort.render.report.sections import (
    LISTING_KINDS,
    _not_computed,
    _plan_view,
    _Writer,
    count_figures,
)
from cartcohort.render.report.tables import _write_xlsx
from cartcohort.render.report.views import AnalysisView, FigureView, PlanView, TableView
from cartcohort.render.report.workers import Progress, _Rendering

if TYPE_CHECKING:
    from cartcohort.ard import PlanResult
    from cartcohort.assay.quantify import QuantificationResult
    from cartcohort.derive.dataset import AnalysisDataset
    from cartcohort.model.cohort import Cohort
    from cartcohort.validate.report import ValidationReport


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
