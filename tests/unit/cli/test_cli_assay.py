"""`cartcohort assay` and the report's assay option, end to end through the command line."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cartcohort.cli import app

EXAMPLES = files("cartcohort.assay") / "example"
PLAN = """\
name: tiny
title: Tiny
analyses:
  - {id: os, type: survival, title: OS, endpoint: OS}
"""


def test_assay_command_writes_rows_tables_and_one_figure_per_fit(tmp_path: Path) -> None:
    plate = str(EXAMPLES / "cba_plate.csv")
    result = CliRunner().invoke(
        app, ["assay", plate, "--kind", "immunoassay", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    labs = pd.read_csv(tmp_path / "labs.csv")
    assert {"patient_id", "day", "analyte", "value", "unit", "plate", "fit_id", "flag"} <= set(
        labs.columns
    )
    # Out-of-range samples are flagged and left empty, never extrapolated.
    flagged = labs[labs["flag"].fillna("").str.contains("LLOQ|ULOQ|_fit")]
    assert not flagged.empty
    assert flagged["value"].isna().all()
    fits = pd.read_csv(tmp_path / "fits.csv")
    pngs = sorted((tmp_path / "figures").glob("*.png"))
    assert len(pngs) == len(fits) == 2


def test_assay_command_rejects_an_unknown_kind(tmp_path: Path) -> None:
    plate = str(EXAMPLES / "qpcr_plate.csv")
    result = CliRunner().invoke(app, ["assay", plate, "--kind", "elisa", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "qpcr or immunoassay" in result.output


def test_report_shows_standard_curves_in_data_quality(tmp_path: Path) -> None:
    plan = tmp_path / "tiny.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--plan",
            str(plan),
            "--out",
            str(tmp_path / "out"),
            "--qpcr",
            str(EXAMPLES / "qpcr_plate.csv"),
            "--dna-ng",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Standard curve SYN-QPCR-01/CAR/qpcr" in html
