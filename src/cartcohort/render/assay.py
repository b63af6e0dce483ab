"""Write an assay quantification to files: cohort rows, tables and one figure per fit."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cartcohort._spreadsheet import write_csv
from cartcohort.assay.quantify import QuantificationResult
from cartcohort.render.figures import save
from cartcohort.render.figures.assay import plot_standard_curve


def fit_summary(result: QuantificationResult) -> pd.DataFrame:
    """One row per standard curve: model, R², efficiency, range, acceptance and why not."""
    rows = []
    for fit in result.fits.values():
        rows.append(
            {
                "fit_id": fit.fit_id,
                "plate": fit.plate,
                "analyte": fit.analyte,
                "model": fit.model,
                "weighting": fit.weighting,
                "n_standards": fit.n,
                "r_squared": fit.r_squared,
                "efficiency": fit.efficiency,
                "lloq": fit.lloq,
                "uloq": fit.uloq,
                "unit": fit.unit,
                "accepted": fit.accepted,
                "acceptance_failures": "; ".join(fit.acceptance_failures),
            }
        )
    return pd.DataFrame(rows)


def write_assay_outputs(
    result: QuantificationResult, out_dir: str | os.PathLike[str]
) -> list[Path]:
    """Write ``result`` into ``out_dir``.

    Files: ``kinetics.csv`` (qPCR) or ``labs.csv`` (immunoassay) — rows of the cohort
    table with provenance columns ``plate, fit_id, flag``, ready to add to a cohort
    folder; ``samples.csv`` (every sample with its flags); ``wells.csv``; ``fits.csv``
    (one row per curve) with the curves' parameters in ``fit_parameters.csv``; and
    ``figures/<fit_id>.png|svg``, one figure per fit with the samples placed on it. Text
    cells are formula-safe (:mod:`cartcohort._spreadsheet`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    cohort_rows = result.to_kinetics() if result.kind == "qpcr" else result.to_labs()
    name = "kinetics.csv" if result.kind == "qpcr" else "labs.csv"
    for filename, frame in (
        (name, cohort_rows),
        ("samples.csv", result.table),
        ("wells.csv", result.wells),
        ("fits.csv", fit_summary(result)),
        ("fit_parameters.csv", pd.concat([f.to_frame() for f in result.fits.values()])),
    ):
        path = out / filename
        write_csv(frame, path, index=False)
        written.append(path)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    for fit in result.fits.values():
        wells = result.wells[result.wells["fit_id"] == fit.fit_id]
        fig = plot_standard_curve(fit, wells)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in fit.fit_id)
        written += save(fig, figures / safe)
    return written


__all__ = ["fit_summary", "write_assay_outputs"]
