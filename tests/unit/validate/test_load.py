"""load_cohort: errors raise ValidationError with the report; round trips through every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.errors import ValidationError
from cartcohort.ingest import read_frames, read_source
from cartcohort.validate import load_cohort, load_cohort_with_report, validate_cohort


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 12
    ids = [f"P{i:02d}" for i in range(n)]
    death = rng.random(n) < 0.4
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": rng.choice(["M", "F"], n),
            "age_years": rng.integers(3, 70, n).astype(float),
            "infusion_date": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "best_response": rng.choice(["CR", "NR"], n),
            "death": death,
            "death_day": pd.array(np.where(death, 200, np.nan), dtype="Int64"),
            "last_followup_day": pd.array(np.where(death, 200, 365), dtype="Int64"),
            "ward": rng.choice(["A", "B"], n),
        }
    )
    observations = pd.DataFrame(
        {"patient_id": np.repeat(ids, 3), "day": np.tile([-1, 0, 1], n), "temp_c": 37.5}
    )
    return {"patients": patients, "observations": observations}


def test_valid_cohort_is_typed_and_ordered() -> None:
    cohort, report = validate_cohort(read_frames(_frames(), name="t", synthetic=True))
    assert cohort is not None, report.render_text()
    assert list(cohort.tables) == ["patients", "observations"]
    patients = cohort.patients
    assert str(patients["sex"].dtype) == "category"
    assert str(patients["death_day"].dtype) == "Int64"
    assert str(patients["death"].dtype) == "boolean"
    assert str(patients["infusion_date"].dtype) == "datetime64[ns]"
    assert list(patients.columns)[-1] == "ward"  # extra columns last, as text
    assert cohort.synthetic is True
    assert cohort.extra_columns == {"patients": ("ward",)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "duckdb"])
def test_round_trip_through_files(tmp_path: Path, fmt: str) -> None:
    from cartcohort.store import export_cohort, write_cohort

    cohort, _ = validate_cohort(read_frames(_frames()))
    assert cohort is not None
    if fmt == "duckdb":
        path = write_cohort(cohort, tmp_path / "c.duckdb")
    else:
        export_cohort(cohort, tmp_path, fmt=fmt)
        path = tmp_path
    again, report = load_cohort_with_report(path)
    assert report.rules() in ((), ("extra.column",))
    for name, frame in cohort.tables.items():
        pd.testing.assert_frame_equal(again.tables[name], frame)


def test_load_cohort_raises_with_the_full_report(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text("patient_id,crs_grade\nP1,7\nP1,x\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="row 2, column crs_grade") as info:
        load_cohort(tmp_path / "patients.csv")
    report = info.value.report
    assert set(report.rules()) == {"range.max", "type.integer", "duplicate.key"}


def test_rows_are_never_lost(tmp_path: Path) -> None:
    rows = "".join(f"P{i},{i % 5}\n" for i in range(500))
    (tmp_path / "patients.csv").write_text("patient_id,crs_grade\n" + rows, encoding="utf-8")
    cohort = load_cohort(tmp_path / "patients.csv")
    assert len(cohort.patients) == 500
    assert cohort.patients["patient_id"].tolist()[:3] == ["P0", "P1", "P2"]
    raw = read_source(tmp_path / "patients.csv")
    assert raw.tables["patients"].row_numbers[-1] == 501
