"""The ICAHT counts figure: the data it draws, the thresholds, and that it saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity.icaht import grade_icaht
from cartcohort.render.figures import icaht_counts_frame, plot_icaht_counts, save


def _result() -> object:
    rows = []
    for pid, nadir in (("a", 0.05), ("b", 0.3), ("c", 0.8)):
        for day in (0, 3, 7, 10, 14, 21, 28, 35, 42):
            anc = nadir if 3 <= day <= 10 else 2.0
            rows.append({"patient_id": pid, "day": day, "analyte": "anc", "value": anc})
            rows.append({"patient_id": pid, "day": day, "analyte": "platelets", "value": 30.0})
    labs = pd.DataFrame(rows).assign(unit="10^9/L")
    with pytest.warns(UserWarning, match="without an ANC value"):
        return grade_icaht(labs)


def test_counts_frame_has_measured_values_only() -> None:
    r = _result()
    frame = icaht_counts_frame(r)  # type: ignore[arg-type]
    assert list(frame.columns) == ["patient_id", "day", "analyte", "value"]
    assert len(frame) == 3 * 9 * 2  # carried-forward days are not drawn
    assert len(icaht_counts_frame(r, patient_ids=["a"])) == 18  # type: ignore[arg-type]


def test_figure_draws_every_threshold_of_the_tables_and_day_30(tmp_path: Path) -> None:
    fig = plot_icaht_counts(_result(), title="t")  # type: ignore[arg-type]
    anc_ax, plt_ax = fig.axes[:2]

    def horizontal(ax: object) -> set[float]:
        return {
            round(float(line.get_ydata()[0]), 6)  # type: ignore[attr-defined]
            for line in ax.get_lines()  # type: ignore[attr-defined]
            if line.get_linestyle() == "--"
        }

    assert horizontal(anc_ax) == {0.1, 0.5, 1.0, 1.5}
    assert horizontal(plt_ax) == {20.0, 50.0, 100.0}
    assert "UNVERIFIED" in anc_ax.get_title(loc="left")
    vertical = [ln for ln in anc_ax.get_lines() if ln.get_linestyle() == ":"]
    assert np.allclose(vertical[0].get_xdata(), 30.5)
    paths = save(fig, tmp_path / "icaht")
    assert all(p.stat().st_size > 0 for p in paths)


def test_nothing_to_draw_is_an_error() -> None:
    with pytest.raises(ValueError, match="No measured"):
        plot_icaht_counts(_result(), patient_ids=["nobody"])  # type: ignore[arg-type]
