"""Assay page: a plate export in, standard curves and flagged values out (no extrapolation).

The quantification is the library's (:func:`cartcohort.quantify_qpcr`,
:func:`cartcohort.quantify_immunoassay`); this page only reads the upload, shows one
figure per fit with its acceptance, and offers the cohort rows as CSV.
"""

from __future__ import annotations

import base64
import io
import shutil

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cartcohort._spreadsheet import write_csv
from cartcohort.assay import quantify_immunoassay, quantify_qpcr, read_plate
from cartcohort.assay.quantify import QuantificationResult
from cartcohort.errors import CartcohortError
from cartcohort.render.assay import fit_summary
from cartcohort.render.figures.assay import plot_standard_curve
from cartcohort.web._common import render, session_of
from cartcohort.web._files import DATA_EXTENSIONS, UploadRejectedError, random_folder, safe_filename

#: Rows of the sample table shown on the page (the CSV download has all).
_SHOWN_ROWS = 200


def _png(fig: object) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)  # type: ignore[attr-defined]
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _csv_data_uri(frame: object) -> str:
    text = str(write_csv(frame, index=False))  # type: ignore[arg-type]
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _quantify(path: object, kind: str, dna_ng: float | None) -> QuantificationResult:
    export = read_plate(path)  # type: ignore[arg-type]
    if kind == "qpcr":
        return quantify_qpcr(export.samples, export.standards, dna_ng_per_reaction=dna_ng)
    return quantify_immunoassay(export.samples, export.standards)


def _view(result: QuantificationResult) -> dict[str, object]:
    fits = []
    for fit in result.fits.values():
        wells = result.wells[result.wells["fit_id"] == fit.fit_id]
        fits.append({"fit": fit, "png": _png(plot_standard_curve(fit, wells))})
    rows = result.to_kinetics() if result.kind == "qpcr" else result.to_labs()
    return {
        "result": result,
        "fits": fits,
        "summary": fit_summary(result).to_dict(orient="records"),
        "samples": result.table.head(_SHOWN_ROWS).to_dict(orient="records"),
        "sample_columns": list(result.table.columns),
        "n_samples": len(result.table),
        "rows_name": "kinetics.csv" if result.kind == "qpcr" else "labs.csv",
        "rows_uri": _csv_data_uri(rows),
        "samples_uri": _csv_data_uri(result.table),
    }


async def assay_page(request: Request) -> Response:
    """The upload form (GET) or the fitted curves and flagged values (POST)."""
    if request.method == "GET":
        return render(request, "assay.html", {"section": "assay"})
    session = session_of(request)
    async with request.form(max_files=1, max_fields=6) as form:
        file = form.get("file")
        kind = str(form.get("kind") or "")
        dna_text = str(form.get("dna_ng") or "").strip()
        if not isinstance(file, UploadFile) or not file.filename:
            return _error(request, "Choose a plate export (.csv or .xlsx) first.")
        if kind not in ("qpcr", "immunoassay"):
            return _error(request, "Choose the kind of assay: qPCR or immunoassay.")
        try:
            dna_ng = float(dna_text.replace(",", ".")) if dna_text else None
        except ValueError:
            return _error(request, f"DNA per reaction must be a number of ng; got {dna_text!r}.")
        try:
            name = safe_filename(file.filename, allowed=DATA_EXTENSIONS)
        except UploadRejectedError as exc:
            return _error(request, str(exc))
        folder = random_folder(session.ensure_folder() / "assays")
        target = folder / name
        target.write_bytes(await file.read())
    try:
        result = await run_in_threadpool(_quantify, target, kind, dna_ng)
        context = await run_in_threadpool(_view, result)
    except CartcohortError as exc:
        return _error(request, str(exc).replace(str(folder), ""))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context.update(section="assay", display_name=file.filename)
    return render(request, "assay.html", context)


def _error(request: Request, message: str) -> Response:
    return render(request, "assay.html", {"section": "assay", "error": message}, status=400)


ROUTES: list[BaseRoute] = [
    Route("/assay", assay_page, methods=["GET", "POST"], name="assay"),
]

__all__ = ["ROUTES"]
