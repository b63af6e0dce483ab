"""``cartcohort report --plan tumor-burden`` groups by marrow blasts alone (seed 000)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .conftest import RunCli


def test_tumor_burden_groups_a_sheet_without_emd_by_blasts(tmp_path: Path, run_cli: RunCli) -> None:
    # blasts and MRD but no extramedullary_disease column: seed 000's rule needs none
    blasts = [0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 5.0, 10.0, 20.0, 40.0, 60.0, 80.0]
    pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(len(blasts))],
            "bm_blasts_pct": blasts,
            "mrd_pct": blasts,
            "best_response": ["CR"] * 9 + ["NR"] * 3,
            "crs_grade": [1, 0, 1, 2, 1, 0, 3, 2, 3, 4, 2, 3],
            "crs_grading_system": ["ctcae_v4.03"] * len(blasts),
        }
    ).to_csv(tmp_path / "sheet.csv", index=False)
    r = run_cli(
        "report", "--data", "sheet.csv", "--plan", "tumor-burden", "--out", "r", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    analyses = json.loads((tmp_path / "r" / "results.json").read_text())["plans"]["tumor-burden"][
        "analyses"
    ]
    for name in ("cr_by_burden", "severe_crs_by_burden", "crs_grade_by_burden"):
        assert analyses[name]["status"] == "done", analyses[name]["reason"]
        assert analyses[name]["n"] == len(blasts)  # every patient grouped
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Definitions used by this plan" in html
    assert "marrow blasts alone: low = MRD-positive, &lt; 5 %; high = &gt;= 5 %" in html
    assert "ctcae_v4.03" in html
    # the paper's value beside the cohort's, never as the heading
    assert "Published (seed paper):</span> P = 0.0358 (Fisher) (Fig. 2B)" in html
    assert "0.0358" not in "".join(line for line in html.splitlines() if "<h3>" in line)
